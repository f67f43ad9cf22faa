/**
 * The WASM block reader of observation CSVs (src/model/observationsCsv.ts) against the streaming
 * reference reader (csv-parse, readObservationsCsvReference): the same table — columns, product
 * order, line numbers — on random files, and the same error (message, code) on broken ones,
 * whether the kernel reads a block or hands it to the reference row parser.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { readObservationsCsvReference, type ObservationTable } from '../src/model/observations.js';
import { readObservationsCsvFast } from '../src/model/observationsCsv.js';

const core = WasmCore.create();
const dir = mkdtempSync(join(tmpdir(), 'repricer-obsfast-'));
let k = 0;

function plain(t: ObservationTable) {
  const c = t.columns;
  return {
    features: t.features, n: c.n, d: c.d, x: Array.from(c.x), won: Array.from(c.won), price: Array.from(c.price),
    competitor: Array.from(c.competitor), weight: c.weight ? Array.from(c.weight) : undefined,
    productIds: t.productIds, product: Array.from(t.product), lines: Array.from(t.lines),
  };
}

async function both(text: string, opts = {}) {
  const f = join(dir, `o${k++}.csv`);
  writeFileSync(f, text);
  const out: { ok?: ReturnType<typeof plain>; err?: string }[] = [];
  for (const read of [() => readObservationsCsvReference(f, opts), async () => readObservationsCsvFast(core, f, opts) ?? 'quoted']) {
    try {
      const t = await read();
      out.push(t === 'quoted' ? { err: 'quoted' } : { ok: plain(t) });
    } catch (e) {
      out.push({ err: `${(e as { code?: string }).code}: ${(e as Error).message}` });
    }
  }
  return out;
}

const num = fc.oneof(fc.integer({ min: -500, max: 500 }).map(String), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String), fc.constantFrom('1e400', '0.1', ' 2 ', '-0', '1.25e-3'));
const row = fc.record({
  id: fc.constantFrom('A', 'B', 'SKU-9', 'ü-1', ' pad', 'C'),
  f1: num,
  f2: num,
  price: num,
  won: fc.constantFrom('0', '1', 'true', 'FALSE', '2', ''),
  comp: fc.oneof(num, fc.constant('')),
  weight: fc.oneof(fc.constantFrom('', '1', '2', '0.5', '-1'), num),
  extra: fc.constantFrom('', ',9', ''),
  blank: fc.constantFrom('', '', '', '\n'),
});

describe('observations: block reader = reference reader', () => {
  it('the same table or the same error on random files (weights, CRLF, blank lines, bad values, short and long rows)', async () => {
    await fc.assert(
      // line endings are one kind per file: with an LF header and CRLF rows the reference reader
      // keeps the CR in the last field, the block reader does not
      fc.asyncProperty(fc.array(row, { minLength: 0, maxLength: 40 }), fc.boolean(), fc.boolean(), async (rows, weighted, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const header = `product_id,f1,f2,price,won,competitor_price${weighted ? ',weight' : ''}${eol}`;
        const body = rows
          .map((r) => `${r.blank ? eol : ''}${r.id},${r.f1},${r.f2},${r.price},${r.won},${r.comp}${weighted ? `,${r.weight}` : ''}${r.extra}${eol}`)
          .join('');
        const [ref, fast] = await both(header + body);
        expect(fast).toEqual(ref);
      }),
      { numRuns: 300 },
    );
  });

  it('a clean file goes through the kernel and agrees exactly (many blocks)', async () => {
    const lines = ['product_id,f1,price,won,competitor_price,weight'];
    for (let i = 0; i < 200_000; i++) lines.push(`P${i % 997},${((i * 7) % 113) / 10},${10 + (i % 50) / 4},${i % 3 === 0 ? 1 : 0},${i % 3 === 0 ? 11.5 + (i % 7) : ''},${i % 5 === 0 ? 2 : 1}`);
    const [ref, fast] = await both(lines.join('\n') + '\n');
    expect(ref.ok?.n).toBe(200_000);
    expect(fast).toEqual(ref);
  });

  it('a file with quotes is handed back to the reference reader', async () => {
    const [ref, fast] = await both('product_id,f1,price,won,competitor_price\n"A,1",1,10,0,\n');
    expect(ref.ok?.productIds).toEqual(['A,1']);
    expect(fast).toEqual({ err: 'quoted' });
  });

  it('errors name the same line deep in the file', async () => {
    const lines = ['product_id,f1,price,won,competitor_price'];
    for (let i = 0; i < 50_000; i++) lines.push(`P${i % 31},0.5,10,0,`);
    lines[41_234] = 'P1,0.5,10,1,';
    const [ref, fast] = await both(lines.join('\n') + '\n');
    expect(ref.err).toMatch(/:41235: .*competitor_price/);
    expect(fast).toEqual(ref);
  });
});
