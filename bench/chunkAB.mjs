#!/usr/bin/env node
// A/B timing of a batch worker's chunk work (WASM CSV parse, price, CSV format) between two
// builds of the whole program in ONE process:
//   node bench/chunkAB.mjs DIST_A DIST_B [--catalog bench/out/catalog-2000000.csv] [--reps 200]
// DIST_A, DIST_B are dist/ folders (e.g. of a `git archive` of the commit before a change, built
// beside the repository with node_modules linked, and this repository's dist/). Both get their own
// WASM core; the first 32 768 rows of the catalogue (and bench/out/model.json) are parsed,
// priced under the batch benchmark's policy and formatted, the builds alternating A, B, B, A, ...;
// the first 10 rounds are not counted. Prints the minimum and median of each phase per build, and
// whether both wrote the same number of bytes. Used for the segment column (bench/RESULTS.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const pos = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (pos.length !== 2) throw new Error('usage: node bench/chunkAB.mjs DIST_A DIST_B [--catalog FILE] [--reps N]');
const roots = { A: `${resolve(pos[0])}/src`, B: `${resolve(pos[1])}/src` };
const text = readFileSync(opt('catalog', 'bench/out/catalog-2000000.csv'));
let end = 0; for (let i = 0, k = 0; k <= 32768; i++) if (text[i] === 10) { k++; end = i + 1; }
const headerEnd = text.indexOf(10) + 1;
const header = text.subarray(0, headerEnd - 1).toString().split(',');
const body = new Uint8Array(text.subarray(headerEnd, end));
const model = JSON.parse(readFileSync('bench/out/model.json', 'utf8'));
const policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
const setups = {};
for (const [name, r] of Object.entries(roots)) {
  const { WasmCore } = await import(`${r}/core/wasm.js`);
  const { compileModel } = await import(`${r}/pricing/compiledModel.js`);
  const { arenaPriceColumns, priceChunk } = await import(`${r}/pricing/engine.js`);
  const { resolveLayout } = await import(`${r}/records/catalogSchema.js`);
  const w = await import(`${r}/records/wasmCsv.js`);
  const core = WasmCore.create({ variant: 'simd' });
  const cm = compileModel(model);
  const keys = w.buildProductKeys(core, [...cm.index.keys()]);
  const strs = w.buildCsvStrings(core);
  const layout = resolveLayout('c.csv', header, cm.features);
  setups[name] = (ph) => {
    const m = core.arena.mark();
    let t = performance.now();
    const p = w.parseCatalogCsvWasm(core, body, layout, cm.D, cm.intercept, keys);
    ph.parse.push(performance.now() - t); t = performance.now();
    const prices = arenaPriceColumns(core, p.chunk.n, {});
    priceChunk(core, cm, policy, p.chunk, prices);
    ph.price.push(performance.now() - t); t = performance.now();
    const out = w.formatPriceCsvWasm(core, p, prices, strs);
    ph.format.push(performance.now() - t);
    const len = out.length;
    core.arena.release(m);
    return len;
  };
}
const times = { A: [], B: [] };
const phases = { A: { parse: [], price: [], format: [] }, B: { parse: [], price: [], format: [] } };
const lens = {};
const reps = Number(opt('reps', '200'));
for (let k = 0; k < reps; k++) for (const name of k % 2 ? ['B', 'A'] : ['A', 'B']) {
  const t = performance.now();
  lens[name] = setups[name](phases[name]);
  times[name].push(performance.now() - t);
}
const stat = (v) => { const s = v.slice(10).sort((a, b) => a - b); return `min ${s[0].toFixed(2)} ms, median ${s[Math.floor(s.length / 2)].toFixed(2)} ms`; };
for (const n of ['A', 'B']) console.log(n, Object.entries(phases[n]).map(([k, v]) => `${k} ${stat(v)}`).join('; '));
console.log(`32 768 rows, parse + price + format, ${reps - 10} timed rounds after 10 warm-up: A ${stat(times.A)}; B ${stat(times.B)}; same output length: ${lens.A === lens.B}`);
