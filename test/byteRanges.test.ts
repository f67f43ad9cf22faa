/**
 * Workers that do their own I/O (byteRanges.ts, outputBoard.ts, rangePass.ts): a text catalogue
 * cut into byte ranges that workers read themselves, their output written by them at its offset
 * in input order. Held to the main-thread path (`mainThreadRead`, the reference) byte for byte on
 * random catalogues: CRLF, blank lines, a last line without a newline, rows straddling range
 * boundaries, ranges of a line or less.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReprice, type RepriceOptions } from '../src/batch/job.js';
import { writeDemoCatalog, writeDemoModel, rng } from '../src/batch/demoData.js';
import { byteRanges, readRangeRows, LineCounter } from '../src/batch/byteRanges.js';
import { awaitTurn, cancelBoard, createBoard, publish, stallBoard, turnOffset } from '../src/batch/outputBoard.js';
import type { Policy } from '../src/pricing/policy.js';

const spec = { products: 50, features: 3, seed: 11 };
const policy: Policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
let dir: string;
let modelPath: string;
let lines: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-ranges-'));
  modelPath = join(dir, 'model.json');
  writeDemoModel(modelPath, spec);
  const base = join(dir, 'base.csv');
  await writeDemoCatalog(base, 1500, spec);
  lines = readFileSync(base, 'utf8').split('\n').filter((l) => l !== '');
});

/** A variant of the demo catalogue: some CRLF endings, blank lines, with or without a final newline. */
function variant(seed: number, rows: number): string {
  const r = rng(seed);
  const out: string[] = [lines[0]];
  for (let i = 1; i <= rows; i++) {
    if (r() < 0.05) out.push(r() < 0.5 ? '' : '\r');
    out.push(lines[1 + Math.floor(r() * (lines.length - 1))] + (r() < 0.3 ? '\r' : ''));
  }
  return out.join('\n') + (r() < 0.5 ? '\n' : '');
}

async function both(name: string, text: string, o: Partial<RepriceOptions>, ext = 'csv') {
  const catalogPath = join(dir, `${name}.${ext}`);
  writeFileSync(catalogPath, text);
  const a = join(dir, `${name}-ranges.${ext === 'csv' ? 'csv' : 'ndjson'}`);
  const b = join(dir, `${name}-main.${ext === 'csv' ? 'csv' : 'ndjson'}`);
  const sa = await runReprice({ modelPath, catalogPath, outPath: a, policy, ...o });
  const sb = await runReprice({ modelPath, catalogPath, outPath: b, policy, ...o, mainThreadRead: true });
  return { sa, sb, a: readFileSync(a), b: readFileSync(b), catalogPath };
}

describe('byte ranges', () => {
  it('cover every row exactly once, whatever the cuts (rows straddling a cut belong to the range they start in)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const text = variant(seed, 60);
      const file = join(dir, `cut-${seed}.csv`);
      writeFileSync(file, text);
      const buf = Buffer.from(text);
      const dataStart = buf.indexOf(10) + 1;
      const fd = openSync(file, 'r');
      try {
        for (const step of [1, 2, 7, 33, 100, 5000]) {
          const parts: Buffer[] = [];
          for (const r of byteRanges(dataStart, buf.length, step)) {
            const rr = readRangeRows(fd, r, dataStart, true);
            expect(rr.quoted).toBe(false);
            if (rr.bytes.length) {
              expect(rr.rowStart).toBeGreaterThanOrEqual(r.start);
              expect(rr.rowStart).toBeLessThan(r.end);
              expect(rr.rowStart === dataStart || buf[rr.rowStart - 1] === 10).toBe(true);
            }
            parts.push(Buffer.from(rr.bytes));
          }
          expect(Buffer.concat(parts).equals(buf.subarray(dataStart))).toBe(true);
        }
        // the line counter agrees with counting in memory, asked in order or not
        const lc = new LineCounter(fd, dataStart, 2);
        for (const at of [dataStart, 50, 400, 120, buf.length]) {
          if (at < dataStart) continue;
          const want = 2 + buf.subarray(dataStart, at).toString('latin1').split('\n').length - 1;
          expect(lc.lineAt(at)).toBe(want);
        }
      } finally {
        closeSync(fd);
      }
    }
  });

  it('a range with a quote says so', () => {
    const file = join(dir, 'q.csv');
    writeFileSync(file, 'a,b\n1,2\n"x",3\n4,5\n');
    const fd = openSync(file, 'r');
    try {
      expect(readRangeRows(fd, { start: 4, end: 8 }, 4, true).quoted).toBe(false);
      expect(readRangeRows(fd, { start: 8, end: 14 }, 4, true).quoted).toBe(true);
      expect(readRangeRows(fd, { start: 8, end: 14 }, 4, false).quoted).toBe(false); // NDJSON: quotes are no concern
    } finally {
      closeSync(fd);
    }
  });
});

describe('the offset board', () => {
  it('gives each chunk its turn in order, and gives up on a timeout, a cancel or a crashed predecessor', () => {
    const b = createBoard(10);
    expect(awaitTurn(b, 0, 0)).toBe(10);
    expect(awaitTurn(b, 1, 0)).toBe('gave-up');
    publish(b, 0, 10, 5);
    expect(awaitTurn(b, 0, 0)).toBe('written');
    expect(awaitTurn(b, 1, 0)).toBe(15);
    expect(turnOffset(b, 1)).toBe(15);
    stallBoard(b, 1);
    expect(awaitTurn(b, 2, 10_000)).toBe('gave-up'); // at once: chunk 1 crashed
    expect(awaitTurn(b, 1, 0)).toBe(15); // its retry still gets its turn
    publish(b, 1, 15, 0);
    expect(awaitTurn(b, 2, 0)).toBe(15);
    cancelBoard(b);
    expect(awaitTurn(b, 3, 10_000)).toBe('gave-up');
    expect(turnOffset(b, 2)).toBeUndefined();
  });
});

describe('workers that do their own I/O', () => {
  it('write the same bytes as the main-thread path on random catalogues (CRLF, blank lines, no final newline, tiny ranges)', async () => {
    for (const [seed, chunkSize, workers] of [[1, 1, 2], [2, 3, 2], [3, 17, 1], [4, 64, 2], [5, 1000, 2]] as const) {
      const { sa, sb, a, b } = await both(`rand-${seed}`, variant(seed, 400), { chunkSize, workers });
      expect(a.equals(b)).toBe(true);
      expect(sa.rows).toBe(sb.rows);
      expect(sa.ms.mainWrite).toBeLessThan(sb.ms.mainWrite + 1e-9 + 50); // header only
    }
  });

  it('NDJSON in and out: the same bytes as the main-thread path', async () => {
    const csv = variant(9, 300).split('\n').filter((l) => l.trim() !== '');
    const cols = csv[0].split(',');
    const nd = csv.slice(1).map((l) => JSON.stringify(Object.fromEntries(l.replace(/\r$/, '').split(',').map((v, k) => [cols[k], k === 0 ? v : v === '' ? null : Number(v)])))).join('\n');
    const { a, b } = await both('nd', nd, { chunkSize: 5, workers: 2 }, 'ndjson');
    expect(a.length).toBeGreaterThan(0);
    expect(a.equals(b)).toBe(true);
  });

  it('a worker that hands its output back (no waiting for its turn) changes no byte', async () => {
    const { a, b } = await both('handback', variant(12, 600), { chunkSize: 7, workers: 2, turnTimeoutMs: 0 });
    expect(a.equals(b)).toBe(true);
  });

  it('a quote past the first bytes read sends the whole job back to the main-thread path, from an empty output', async () => {
    // more than the main thread's first 8 MiB read, so the quote is found by a worker
    const body = lines.slice(1).join('\n') + '\n';
    const copies = Math.ceil((9 << 20) / body.length);
    const rows = lines.slice(1);
    const quotedRow = rows[5].replace(/^([^,]*),/, '"$1",');
    const text = lines[0] + '\n' + body.repeat(copies) + quotedRow + '\n' + body.slice(0, 2000).replace(/\n[^\n]*$/, '\n');
    const { sa, sb, a, b } = await both('quoted', text, { chunkSize: 4096, workers: 2, onError: 'skip' });
    expect(a.equals(b)).toBe(true);
    expect(sa.rows).toBe(sb.rows);
    expect(sa.rows).toBe(rows.length * copies + 1 + body.slice(0, 2000).split('\n').length - 1);
    expect(sa.ms.mainWrite).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.includes('quoted-ranges') && f.includes('.tmp'))).toEqual([]);
  });

  it('a quoted field spanning many lines, with whole ranges inside it that see no quote, still sends the job back to the main-thread path', async () => {
    const body = lines.slice(1).join('\n') + '\n';
    const copies = Math.ceil((9 << 20) / body.length);
    // the field's middle lines are not rows (one field each): a range that falls among them alone
    // would fail on them if its error were taken before the range with the opening quote declined
    const field = '"SKU\n' + 'zzz\n'.repeat(3000) + 'end"';
    const quotedRow = lines[6].replace(/^[^,]*,/, `${field},`);
    const text = lines[0] + '\n' + body.repeat(copies) + quotedRow + '\n' + body.slice(0, 3000).replace(/\n[^\n]*$/, '\n');
    const { sa, sb, a, b } = await both('quoted-long', text, { chunkSize: 64, workers: 2 });
    expect(a.equals(b)).toBe(true);
    expect(sa.rows).toBe(sb.rows);
  });

  it('errors and rejected rows from ranges in the middle of the file name the same lines as the main-thread path', async () => {
    const text = variant(21, 800).split('\n');
    // a bad value somewhere past the middle, with blank lines and CRLF before it
    const k = text.findIndex((l, i) => i > 500 && l.length > 10);
    text[k] = text[k].replace(/^([^,]*),([^,]*),/, '$1,abc,');
    const bad = text.join('\n');
    const file = join(dir, 'mid.csv');
    writeFileSync(file, bad);
    const errs: string[] = [];
    for (const mainThreadRead of [false, true]) {
      const e = await runReprice({ modelPath, catalogPath: file, outPath: join(dir, 'mid-out.csv'), policy, chunkSize: 9, workers: 2, mainThreadRead }).catch((x: unknown) => x as Error & { details?: { line?: number } });
      expect((e as { code?: string }).code).toBe('INPUT_ROW_INVALID');
      expect((e as Error).message).toContain(`${file}:${k + 1}: column f1`);
      expect((e as { details?: { line?: number } }).details?.line).toBe(k + 1);
      errs.push((e as Error).message);
    }
    expect(errs[0]).toBe(errs[1]);
    const { a, b, sa } = await both('mid-skip', bad, { chunkSize: 9, workers: 2, onError: 'skip' });
    expect(a.equals(b)).toBe(true);
    expect(sa.rejects).toBe(1);
    const ra = readFileSync(join(dir, 'mid-skip-ranges.csv.rejects.csv'), 'utf8');
    expect(ra).toBe(readFileSync(join(dir, 'mid-skip-main.csv.rejects.csv'), 'utf8'));
    expect(ra).toContain(`\n${k + 1},`);
  });
});
