/**
 * The batch job's per-chunk pieces, WASM vs the JavaScript they replaced, one thread,
 * same data, tinybench medians measured in one run:
 *   npm run bench:batch-kernels
 * - shortest round-trip doubles: formatShortestColumn (Ryu in WASM) vs String(x) written into a
 *   Buffer (what formatCsvBytes does per number);
 * - a 32 768-row demo catalogue chunk: parseCatalogCsvWasm vs the JavaScript byte parser vs
 *   csv-parse (the reference);
 * - its priced rows as CSV: formatPriceCsvWasm vs formatCsvBytes; as JSON records (NDJSON, the
 *   HTTP API's items): formatPriceJsonWasm vs JSON.stringify (formatNdjson) encoded to UTF-8;
 * - snappy, a 1 MiB page of rounded doubles: the WASM kernel vs hyparquet's JavaScript decoder;
 *   and a page of 131 072 demo product ids (PLAIN BYTE_ARRAY, as the Parquet writer compresses
 *   them): the WASM compressor vs hyparquet-writer's JavaScript one;
 * - 100 000 rows of 16 feature columns to the engine's row-major x (the Parquet reader's last
 *   step): the column kernel vs its TypeScript twin.
 * Every output is checked equal before timing, and a checksum is printed so no work is skipped.
 * Writes bench/RESULTS-batch-kernels.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { snappyUncompress as snappyJs } from 'hyparquet';
import { snappyCompressJs as snappyCompress } from '../src/records/hyparquetInternals.js';
import { WasmCore } from '../src/core/wasm.js';
import { snappyCompress as snappyCompressWasm, snappyUncompress } from '../src/core/snappy.js';
import { columnsToRows, columnsToRowsReference } from '../src/core/columns.js';
import { demoModel, rng, writeDemoCatalog } from '../src/batch/demoData.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk } from '../src/pricing/engine.js';
import { resolveLayout } from '../src/records/catalogSchema.js';
import { parseCatalogChunk } from '../src/records/parseCatalogChunk.js';
import { formatCsvBytes, formatNdjson } from '../src/records/formatChunk.js';
import { buildJsonStrings, formatPriceJsonWasm } from '../src/records/priceJson.js';
import { buildCsvStrings, buildProductKeys, decodeIds, formatPriceCsvWasm, parseCatalogCsvWasm } from '../src/records/wasmCsv.js';

const core = WasmCore.create({ variant: 'simd' });
const spec = { products: 20000, features: 16, seed: 424242 };
const cm = compileModel(demoModel(spec));
// permanent tables first (no arena scope may be open)
const keys = buildProductKeys(core, [...cm.index.keys()]);
const strs = buildCsvStrings(core);
const jstrs = buildJsonStrings(core, (b) => core.arena.allocBytesPermanent(b));
let checksum = 0;
const rows: { what: string; n: string; wasm: number; js: number; ref?: number }[] = [];

async function measure(what: string, n: string, fns: Record<string, () => void>): Promise<void> {
  const bench = new Bench({ time: 400, warmupIterations: 5 });
  for (const [k, f] of Object.entries(fns)) bench.add(k, f);
  await bench.run();
  const med = (k: string) => {
    const r = bench.tasks.find((t) => t.name === k)!.result as unknown as { latency?: { p50: number } };
    if (!r.latency) throw new Error(`${what} ${k}: no result`);
    return r.latency.p50;
  };
  const row = { what, n, wasm: med('wasm'), js: med('js'), ref: fns.ref ? med('ref') : undefined };
  rows.push(row);
  console.log(`${what.padEnd(34)} ${n.padEnd(22)} wasm ${row.wasm.toFixed(3)} ms  js ${row.js.toFixed(3)} ms  js/wasm ${(row.js / row.wasm).toFixed(2)}x${row.ref ? `  csv-parse ${row.ref.toFixed(1)} ms` : ''}`);
}

async function main(): Promise<void> {
  console.log(`batch kernel benchmark: one thread, node ${process.version}, tinybench medians`);

  // 1. shortest round-trip doubles
  const n = 100_000;
  const r = rng(7);
  const vals = Float64Array.from({ length: n }, (_, i) => (i % 2 ? Math.round(r() * 1e6) / 1e4 : r() * 100));
  const src = core.arena.alloc(n);
  const dst = core.arena.allocBytes(26 * n);
  core.arena.view(src, n).set(vals);
  const buf = Buffer.allocUnsafe(26 * n);
  const viaString = () => {
    let p = 0;
    for (let i = 0; i < n; i++) {
      p += buf.write(String(vals[i]), p, 'latin1');
      buf[p++] = 10;
    }
    return p;
  };
  const len = core.k.formatShortestColumn(n, src, dst);
  if (len !== viaString() || !Buffer.from(core.memory.buffer, dst, len).equals(buf.subarray(0, len))) throw new Error('formatShortestColumn differs from String(x)');
  await measure('shortest doubles', `${n} values`, { wasm: () => void (checksum += core.k.formatShortestColumn(n, src, dst)), js: () => void (checksum += viaString()) });

  // 2. and 3. a demo catalogue chunk: parse, then format its prices
  const dir = mkdtempSync(join(tmpdir(), 'repricer-bk-'));
  const file = join(dir, 'c.csv');
  const chunkRows = 32768;
  await writeDemoCatalog(file, chunkRows, spec);
  const text = readFileSync(file);
  rmSync(dir, { recursive: true, force: true });
  const nl = text.indexOf(10);
  const layout = resolveLayout('c.csv', text.subarray(0, nl).toString().split(','), cm.features);
  const bytes = new Uint8Array(text.subarray(nl + 1));
  const js = (reference: boolean) => parseCatalogChunk(bytes, { file: 'c.csv', format: 'csv', layout, featureNames: cm.features, intercept: true, firstLine: 2, onError: 'fail', alloc: (k) => new Float64Array(k), reference });
  const wasmParse = () => {
    const m = core.arena.mark();
    checksum += parseCatalogCsvWasm(core, bytes, layout, cm.D, true, keys, chunkRows)!.chunk.n;
    core.arena.release(m);
  };
  await measure('parse CSV chunk', `${chunkRows} rows`, { wasm: wasmParse, js: () => void (checksum += js(false).chunk.n), ref: () => void (checksum += js(true).chunk.n) });

  const policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
  const mark = core.arena.mark();
  const w = parseCatalogCsvWasm(core, bytes, layout, cm.D, true, keys, chunkRows)!;
  const ids = decodeIds(core, w);
  w.chunk.ids = ids;
  const prices = priceChunk(core, cm, policy, w.chunk);
  const a = Buffer.from(formatPriceCsvWasm(core, w, prices, strs));
  if (!a.equals(Buffer.from(formatCsvBytes(ids, prices)))) throw new Error('formatPriceCsvWasm differs from formatCsvBytes');
  const wasmFormat = () => {
    const m = core.arena.mark();
    checksum += formatPriceCsvWasm(core, w, prices, strs).length;
    core.arena.release(m);
  };
  await measure('format priced rows as CSV', `${chunkRows} rows`, { wasm: wasmFormat, js: () => void (checksum += formatCsvBytes(ids, prices).length) });
  // the same rows as JSON records (NDJSON output, POST /v1/quotes): WASM vs JSON.stringify
  const nd = { coldStart: false, sep: '\n', sepLast: true } as const;
  const jsonA = Buffer.from(formatPriceJsonWasm(core, jstrs, ids, prices, nd)!);
  if (jsonA.toString('utf8') !== formatNdjson(ids, prices)) throw new Error('formatPriceJsonWasm differs from formatNdjson');
  const wasmJson = () => {
    const m = core.arena.mark();
    checksum += formatPriceJsonWasm(core, jstrs, ids, prices, nd)!.length;
    core.arena.release(m);
  };
  await measure('format priced rows as JSON', `${chunkRows} rows`, { wasm: wasmJson, js: () => void (checksum += Buffer.from(formatNdjson(ids, prices)).length) });
  core.arena.release(mark);

  // 4. snappy
  const page = new Uint8Array(1 << 20);
  const f = new Float64Array(page.buffer);
  for (let i = 0; i < f.length; i++) f[i] = Math.round(r() * 2e4) / 1e4 - 1;
  const comp = snappyCompress(page);
  const out = new Uint8Array(page.length);
  snappyUncompress(core, comp, out);
  if (!Buffer.from(out).equals(Buffer.from(page))) throw new Error('snappy kernel differs');
  await measure('snappy decompress', `1 MiB (${comp.length} B in)`, { wasm: () => snappyUncompress(core, comp, out), js: () => snappyJs(comp, out) });
  // a Parquet chunk's id page: ids as writeDemoCatalog draws them, each a 4-byte length then its bytes
  const idList = Array.from({ length: 131072 }, (_, i) => Buffer.from(r() < 0.02 ? `NEW-${i}` : `SKU-${Math.floor(r() * spec.products)}`));
  const idPage = new Uint8Array(Buffer.concat(idList.flatMap((b) => [Buffer.from(Uint32Array.of(b.length).buffer), b])));
  const compW = snappyCompressWasm(core, idPage);
  const compJ = snappyCompress(idPage);
  const back = new Uint8Array(idPage.length);
  snappyJs(compW, back);
  if (!Buffer.from(back).equals(Buffer.from(idPage))) throw new Error('snappy compressor does not round-trip');
  await measure('snappy compress', `${(idPage.length / 2 ** 20).toFixed(2)} MiB ids (${compW.length} / ${compJ.length} B out)`, { wasm: () => void (checksum += snappyCompressWasm(core, idPage).length), js: () => void (checksum += snappyCompress(idPage).length) });

  // 5. feature columns (as the Parquet reader decompresses them) to the engine's row-major x
  {
    const nr = 100_000;
    const F = spec.features;
    const D = F + 1;
    const m = core.arena.mark();
    const cols = core.arena.f64(nr * F);
    for (let i = 0; i < cols.length; i++) cols[i] = Math.round(r() * 2e4) / 1e4 - 1;
    const x = core.arena.f64(nr * D);
    const xs = new Float64Array(nr * D);
    columnsToRows(core, cols, nr, F, x, D, true);
    columnsToRowsReference(cols, nr, F, xs, D, true);
    if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(xs.buffer))) throw new Error('columnsToRows differs from its twin');
    await measure('feature columns to rows (twin)', `${nr} rows x ${F}`, { wasm: () => columnsToRows(core, cols, nr, F, x, D, true), js: () => columnsToRowsReference(cols, nr, F, xs, D, true) });
    checksum += x[D * 7 + 3] + xs[D * 9 + 2];
    core.arena.release(m);
  }

  console.log(`checksum ${checksum}`);
  const md = [
    '# Batch kernels — `npm run bench:batch-kernels`',
    '',
    `Written by bench/batchKernels.bench.ts, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, one thread, tinybench medians (ms).`,
    '',
    '| piece | size | WASM | JavaScript | JS / WASM | csv-parse |',
    '|---|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.what} | ${x.n} | ${x.wasm.toFixed(3)} | ${x.js.toFixed(3)} | ${(x.js / x.wasm).toFixed(2)}x | ${x.ref ? x.ref.toFixed(1) : ''} |`),
    '',
  ].join('\n');
  writeFileSync(fileURLToPath(new URL('../../bench/RESULTS-batch-kernels.md', import.meta.url)), md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
