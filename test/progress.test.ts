/**
 * The job's progress events (what `reprice`'s bar and lines show): the total is the whole
 * catalogue (its size in bytes for text, its row count for Parquet) and `done` counts the input of
 * the chunks already written, so it reaches the total with the last chunk and never runs ahead of
 * the rows written (reading ahead fills the first 8 MiB at once).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReprice } from '../src/batch/job.js';
import { writeDemoCatalog, writeDemoModel, writeDemoParquet } from '../src/batch/demoData.js';

let dir: string;
let model: string;
let csv: string;
let parquet: string;
const ROWS = 3000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-progress-'));
  const spec = { products: 50, features: 4, seed: 11 };
  model = join(dir, 'model.json');
  csv = join(dir, 'catalog.csv');
  parquet = join(dir, 'catalog.parquet');
  writeDemoModel(model, spec);
  await writeDemoCatalog(csv, ROWS, spec);
  await writeDemoParquet(parquet, ROWS, spec);
});

type Event = [rows: number, done: number, total: number];

describe('reprice progress events', () => {
  it('CSV: done is the byte offset after the rows written, of the file size', async () => {
    const events: Event[] = [];
    await runReprice({ modelPath: model, catalogPath: csv, outPath: join(dir, 'out.csv'), workers: 2, chunkSize: 250, onProgress: (...e) => events.push(e) });
    const bytes = readFileSync(csv);
    // the byte offset just after line k (1-based, the header is line 1)
    const ends: number[] = [0];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) ends.push(i + 1);
    const size = statSync(csv).size;
    expect(events.length).toBe(ROWS / 250);
    for (const [rows, done, total] of events) {
      expect(total).toBe(size);
      expect(done).toBe(ends[rows + 1]);
    }
    expect(events.at(-1)).toEqual([ROWS, size, size]);
  });

  it('Parquet: done and total are rows, done equal to the rows written', async () => {
    const events: Event[] = [];
    await runReprice({ modelPath: model, catalogPath: parquet, outPath: join(dir, 'out-pq.csv'), workers: 2, chunkSize: 500, onProgress: (...e) => events.push(e) });
    expect(events.length).toBe(ROWS / 500);
    for (const [rows, done, total] of events) {
      expect(total).toBe(ROWS);
      expect(done).toBe(rows);
    }
  });
});
