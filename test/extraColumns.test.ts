/**
 * Extra columns, through the real commands: a column the job would not use is an error naming it
 * (exit 3) unless `--allow-extra-columns` is given; a look-alike of a known column (`Cost` for
 * `cost`, `Weight` for `weight`) is an error either way, in CSV, NDJSON and Parquet catalogues and
 * in CSV and Parquet observations. The demo catalogue has no extra column.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';

const main = 'dist/src/cli/main.js';
let dir: string;
let model: string;
let catalog: string;
let rows: string[][];

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The demo catalogue with columns added (name, value per row). */
function withColumns(extra: [string, (i: number) => string][]): string[][] {
  return rows.map((r, i) => [...r, ...extra.map(([name, v]) => (i === 0 ? name : v(i)))]);
}

function writeCsv(name: string, table: string[][]): string {
  const f = join(dir, name);
  writeFileSync(f, table.map((r) => r.join(',')).join('\n') + '\n');
  return f;
}

function writeParquet(name: string, table: string[][]): string {
  const [header, ...body] = table;
  const buf = parquetWriteBuffer({
    columnData: header.map((h, j) =>
      h === 'product_id' || h === 'brand'
        ? { name: h, data: body.map((r) => r[j]), type: 'STRING' as const }
        : { name: h, data: body.map((r) => (r[j] === '' ? null : Number(r[j]))), type: 'DOUBLE' as const, nullable: true },
    ),
  });
  const f = join(dir, name);
  writeFileSync(f, new Uint8Array(buf));
  return f;
}

function writeNdjson(name: string, table: string[][]): string {
  const [header, ...body] = table;
  const f = join(dir, name);
  writeFileSync(f, body.map((r) => JSON.stringify(Object.fromEntries(header.map((h, j) => [h, r[j]])))).join('\n') + '\n');
  return f;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-extra-'));
  const spec = { products: 20, features: 3, seed: 7 };
  model = join(dir, 'model.json');
  catalog = join(dir, 'catalog.csv');
  writeDemoModel(model, spec);
  await writeDemoCatalog(catalog, 60, spec);
  rows = readFileSync(catalog, 'utf8').trim().split('\n').map((l) => l.split(','));
});

describe('reprice: extra catalogue columns', () => {
  const reprice = (cat: string, out: string, ...more: string[]) => cli('reprice', '--model', model, '--catalog', cat, '--out', join(dir, out), '--workers', '1', ...more);

  it('the demo catalogue has none and runs as before', () => {
    expect(reprice(catalog, 'plain.csv').status).toBe(0);
  });

  for (const [kind, write] of [['CSV', writeCsv], ['NDJSON', writeNdjson], ['Parquet', writeParquet]] as const) {
    const ext = kind === 'CSV' ? 'csv' : kind === 'NDJSON' ? 'ndjson' : 'parquet';
    it(`${kind}: an extra column is an error naming it, accepted and ignored with --allow-extra-columns`, () => {
      const cat = write(`brand.${ext}`, withColumns([['brand', (i) => `b${i % 3}`]]));
      const bad = reprice(cat, `brand-${ext}.csv`);
      expect(bad.status).toBe(3);
      expect(bad.stderr).toContain('INPUT_UNREADABLE');
      expect(bad.stderr).toContain(`${cat}:1: unexpected column "brand": a catalogue has product_id, the model's features (f1, f2, f3) and optionally cost, current_price, min_price, max_price`);
      expect(bad.stderr).toContain('--allow-extra-columns');
      expect(bad.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, `brand-${ext}.csv`))).toBe(false);
      const ok = reprice(cat, `brand-${ext}.csv`, '--allow-extra-columns');
      expect(ok.status).toBe(0);
      expect(readFileSync(join(dir, `brand-${ext}.csv`), 'utf8')).toBe(readFileSync(join(dir, 'plain.csv'), 'utf8'));
    });

    it(`${kind}: a look-alike of a known column stays an error with --allow-extra-columns`, () => {
      const noCost = rows.map((r) => r.filter((_, j) => rows[0][j] !== 'cost'));
      const table = noCost.map((r, i) => [...r, i === 0 ? 'Cost' : rows[i][rows[0].indexOf('cost')]]);
      const cat = write(`lookalike.${ext}`, table);
      for (const more of [[], ['--allow-extra-columns']]) {
        const r = reprice(cat, `lookalike-${ext}.csv`, ...more);
        expect(r.status).toBe(3);
        expect(r.stderr).toContain(`${cat}:1: column "Cost" looks like "cost", which is missing: rename it`);
      }
    });
  }

  it('NDJSON: a key that only a later row carries is an unknown column too (it was ignored), accepted with --allow-extra-columns', () => {
    const f = writeNdjson('later-key.ndjson', rows);
    const text = readFileSync(f, 'utf8').split('\n');
    text[3] = text[3].replace(/}$/, ',"Cost":"1.5"}'); // the fourth row, line 4
    writeFileSync(f, text.join('\n'));
    const r = reprice(f, 'later-key.csv');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/later-key\.ndjson:4: column Cost: expected one of the keys of the first row/);
    expect(reprice(f, 'later-key-ok.csv', '--allow-extra-columns').status).toBe(0);
  });
});

describe('fit: extra observation columns', () => {
  const header = ['product_id', 'f1', 'f2', 'price', 'won', 'competitor_price'];
  const body = Array.from({ length: 40 }, (_, i) => [`P${i % 4}`, String((i % 7) / 7), String((i % 5) / 5), String(10 + (i % 3)), String(i % 2), i % 2 ? String(11 + (i % 4)) : '']);
  const fit = (obs: string, ...more: string[]) => cli('fit', '--observations', obs, '--out', join(dir, 'm.json'), '--strategy', 'pooled', '--scale', '1', ...more);

  it('CSV and Parquet: with --features, another column is an error unless --allow-extra-columns', () => {
    const csv = writeCsv('obs.csv', [header, ...body]);
    const pq = writeParquet('obs.parquet', [header, ...body]);
    for (const obs of [csv, pq]) {
      const bad = fit(obs, '--features', 'f1');
      expect(bad.status).toBe(3);
      expect(bad.stderr).toContain(`${obs}:1: unexpected column "f2": with --features, observations have product_id, price, won, competitor_price, optionally weight, and the features f1`);
      expect(bad.stderr).toContain('--allow-extra-columns');
      expect(fit(obs, '--features', 'f1', '--allow-extra-columns').status).toBe(0);
      expect(fit(obs).status).toBe(0); // without --features every other column is a feature
    }
  });

  it('CSV and Parquet: a look-alike of weight stays an error with --allow-extra-columns', () => {
    const t = [[...header, 'Weight'], ...body.map((r) => [...r, '1'])];
    for (const obs of [writeCsv('w.csv', t), writeParquet('w.parquet', t)]) {
      const r = fit(obs, '--features', 'f1', '--allow-extra-columns');
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`${obs}:1: column "Weight" looks like "weight", which is missing: rename it`);
    }
  });
});
