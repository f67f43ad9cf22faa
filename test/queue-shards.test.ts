// The shard plan of a distributed run (src/queue/shardPlan.ts), without Redis: text shards are
// contiguous, start at line starts and cover the data once (checked against a plain count of the
// lines, for random line lengths); Parquet shards are whole row groups; a file list keeps its
// order and a pattern matches in its folder, sorted. The parts manifest's checks are held to a
// hash computed here with node:crypto directly.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandCatalogs, planShards, firstLine } from '../src/queue/shardPlan.js';
import { buildManifest } from '../src/queue/assemble.js';
import type { RunSpec } from '../src/queue/runStore.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-shards-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Byte offsets at which lines start after the header (what a reader counting newlines sees). */
function lineStarts(text: Buffer, dataStart: number): number[] {
  const out: number[] = [];
  for (let i = dataStart; i < text.length; ) {
    out.push(i);
    const nl = text.indexOf(10, i);
    if (nl === -1) break;
    i = nl + 1;
  }
  return out;
}

describe('text shards', () => {
  it('are contiguous, start at line starts, and hold every line once (random line lengths and shard counts)', async () => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 0, maxLength: 60 }), fc.integer({ min: 1, max: 25 }), fc.boolean(), async (lengths, shards, trailingNewline) => {
        const header = 'product_id,f1\n';
        const body = lengths.map((n, i) => `P${i},${'9'.repeat(n)}`).join('\n') + (lengths.length && trailingNewline ? '\n' : '');
        const file = join(dir, `t${k++}.csv`);
        writeFileSync(file, header + body);
        const plan = await planShards([file], { shards });
        const bytes = readFileSync(file);
        const dataStart = Buffer.byteLength(header);
        expect(plan[0].start).toBe(dataStart);
        expect(plan.at(-1)!.end).toBe(bytes.length);
        expect(plan.length).toBeLessThanOrEqual(shards);
        const starts = new Set(lineStarts(bytes, dataStart));
        let lines = 0;
        for (let i = 0; i < plan.length; i++) {
          const s = plan[i];
          expect(s.index).toBe(i);
          expect(s.header).toBe(i === 0);
          if (i > 0) expect(s.start).toBe(plan[i - 1].end);
          if (s.end > s.start) expect(starts.has(s.start)).toBe(true);
          // lines whose first byte is in the shard
          lines += [...starts].filter((x) => x >= s.start && x < s.end).length;
        }
        expect(lines).toBe(starts.size);
      }),
      { numRuns: 60 },
    );
  });

  it('a file list is cut file by file in order, only the first shard has the header; the headers must agree', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    writeFileSync(a, 'product_id,f1\nA,1\nB,2\n');
    writeFileSync(b, 'product_id,f1\nC,3\n');
    const plan = await planShards([a, b], { shards: 2 });
    expect(plan.map((s) => [s.file, s.header])).toEqual([[a, true], [b, false]]);
    expect(firstLine(b)).toBe('product_id,f1\n');
    const c = join(dir, 'c.csv');
    writeFileSync(c, 'product_id,f2\nC,3\n');
    await expect(planShards([a, c])).rejects.toThrow(/its header differs from that of/);
    await expect(planShards([a, join(dir, 'x.ndjson')])).rejects.toThrow(/one format/);
  });

  it('expandCatalogs: a list keeps its order, a pattern matches in its folder sorted by name, no match is NOT_FOUND', () => {
    const g = join(dir, 'glob');
    mkdirSync(g);
    for (const n of ['day-2.csv', 'day-10.csv', 'day-1.csv', 'other.csv', '.day-3.csv']) writeFileSync(join(g, n), 'product_id\n');
    expect(expandCatalogs(`${join(g, 'day-*.csv')}`)).toEqual(['day-1.csv', 'day-10.csv', 'day-2.csv'].map((n) => join(g, n)));
    expect(expandCatalogs(`${join(g, 'other.csv')},${join(g, 'day-2.csv')}`)).toEqual([join(g, 'other.csv'), join(g, 'day-2.csv')]);
    expect(expandCatalogs(join(g, 'day-?.csv'))).toEqual(['day-1.csv', 'day-2.csv'].map((n) => join(g, n)));
    expect(() => expandCatalogs(join(g, 'none-*.csv'))).toThrow(/no file matches/);
  });
});

describe('the parts manifest', () => {
  it('orders the parts by shard, totals them, and names a missing shard', () => {
    const shards = [0, 1, 2].map((i) => ({ index: i, file: '/c.csv', start: i * 10, end: i * 10 + 10, header: i === 0 }));
    const spec = { runId: 'r', modelSha: 'm', policy: null, catalogs: ['/c.csv'], out: '/o.csv', ext: '.csv', partsOnly: false, options: { onError: 'fail', allowExtraColumns: false, explain: false }, shards, attempts: 3, backoffMs: 10 } as RunSpec;
    const part = (i: number, rows: number) => ({ shard: i, file: `shard-0000${i}.csv`, rows, bytes: rows * 10, sha256: createHash('sha256').update(String(i)).digest('hex'), rejects: 0 });
    // delivered out of order and one twice (at least once)
    const m = buildManifest(spec, [part(2, 5), part(0, 3), part(1, 4), part(2, 5)]);
    expect(m.parts.map((p) => p.shard)).toEqual([0, 1, 2]);
    expect([m.rows, m.bytes]).toEqual([12, 120]);
    expect(m.parts[1].input).toEqual({ file: '/c.csv', start: 10, end: 20 });
    expect(() => buildManifest(spec, [part(0, 3), part(2, 5)])).toThrow(/no part for shard 1/);
  });
});
