/**
 * Typed wrapper of the formatShortestColumn kernel (assembly/ryu.ts): each double as the exact
 * text of JavaScript's String(x), formatted in WASM (Ryu shortest round-trip digits, ECMAScript
 * Number::toString layout). For tests and benchmarks; the batch writer calls the kernel directly.
 */
import type { WasmCore } from './wasm.js';

/** Upper bound of the bytes one value takes in a column: 25 characters and the '\n'. */
export const SHORTEST_MAX_BYTES = 26;

/** String(v) for every v of `values`, computed by the WASM core. */
export function formatShortest(core: WasmCore, values: Float64Array): string[] {
  const n = values.length;
  if (n === 0) return [];
  return core.arena.scoped(() => {
    const src = core.input(values);
    const dst = core.arena.alloc(Math.ceil((n * SHORTEST_MAX_BYTES) / 8));
    const len = core.k.formatShortestColumn(n, src, dst);
    const text = Buffer.from(core.memory.buffer, dst, len).toString('latin1');
    const out = text.split('\n');
    out.pop(); // every value is followed by '\n'
    return out;
  });
}
