/**
 * Typed wrapper of the snappy kernel (assembly/snappy.ts): Parquet pages decompressed in WASM at
 * 2.56x the speed of hyparquet's JavaScript decoder on a page of doubles (npm run bench:batch-kernels).
 */
import type { WasmCore } from './wasm.js';

/** Decompress raw snappy `input` into `output`, which must be exactly the uncompressed size. */
export function snappyUncompress(core: WasmCore, input: Uint8Array, output: Uint8Array): void {
  core.arena.scoped(() => {
    const pOut = core.arena.allocBytes(Math.max(1, output.length));
    const out = new Uint8Array(core.memory.buffer, pOut, output.length);
    if (!snappyUncompressInto(core, input, out)) {
      throw new RangeError(`snappyUncompress: corrupt input (${input.length} bytes, expected ${output.length} bytes out)`);
    }
    output.set(out);
  });
}

/**
 * Decompress raw snappy `input` straight into `dst`, a view of the core's memory of exactly the
 * uncompressed size (an input outside WASM memory is copied into the arena first).
 * False when the input is corrupt (nothing outside dst is written).
 */
export function snappyUncompressInto(core: WasmCore, input: Uint8Array, dst: Uint8Array): boolean {
  if (!core.owns(dst)) throw new RangeError("snappyUncompressInto: dst must be a view of the core's memory");
  if (core.owns(input)) return core.k.snappyUncompress(input.byteOffset, input.length, dst.byteOffset, dst.length) === 0;
  return core.arena.scoped(() => {
    const pIn = core.arena.allocBytes(Math.max(1, input.length));
    new Uint8Array(core.memory.buffer, pIn, input.length).set(input); // buffer read after the allocation
    return core.k.snappyUncompress(pIn, input.length, dst.byteOffset, dst.length) === 0;
  });
}

/** Google's bound on raw snappy's output for n input bytes (snappy.cc MaxCompressedLength). */
export function snappyMaxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/** Compress `input` in the arena and hand the compressed bytes (a view of WASM memory) to `take`. */
function compressInArena<T>(core: WasmCore, input: Uint8Array, take: (compressed: Uint8Array) => T): T {
  return core.arena.scoped(() => {
    const cap = snappyMaxCompressedLength(input.length);
    const pIn = core.arena.allocBytes(Math.max(1, input.length));
    const pOut = core.arena.allocBytes(cap);
    const pWork = core.arena.allocBytes(core.k.snappyCompressWorkSize());
    // the buffer is read after the allocations: one of them may have grown the memory
    new Uint8Array(core.memory.buffer, pIn, input.length).set(input);
    const n = core.k.snappyCompress(pIn, input.length, pOut, cap, pWork);
    if (n < 0) throw new RangeError(`snappyCompress: ${input.length} bytes too large to compress`);
    return take(new Uint8Array(core.memory.buffer, pOut, n));
  });
}

/** Raw snappy of `input`, compressed in WASM: a fresh array of exactly the compressed bytes. */
export function snappyCompress(core: WasmCore, input: Uint8Array): Uint8Array {
  return compressInArena(core, input, (c) => {
    const out = new Uint8Array(c.length); // not c.slice(): slicing a shared buffer's view copies ~35x slower
    out.set(c);
    return out;
  });
}

/**
 * Raw snappy of `input` written into `output` (snappyMaxCompressedLength(input.length) bytes
 * always suffice); returns the compressed size.
 */
export function snappyCompressInto(core: WasmCore, input: Uint8Array, output: Uint8Array): number {
  return compressInArena(core, input, (c) => {
    if (c.length > output.length) throw new RangeError(`snappyCompressInto: output holds ${output.length} bytes, ${c.length} needed`);
    output.set(c);
    return c.length;
  });
}
