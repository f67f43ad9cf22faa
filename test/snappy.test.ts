import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { snappyUncompress as reference } from 'hyparquet/src/snappy.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { WasmCore } from '../src/core/wasm.js';
import { snappyUncompress } from '../src/core/snappy.js';

/** Inputs snappy compresses every way: runs (overlapping copies), repeats, long literals, doubles. */
const data = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(3000)).map(([unit, reps]) => {
    const out = new Uint8Array(unit.length * reps);
    for (let i = 0; i < reps; i++) out.set(unit, i * unit.length);
    return out;
  }),
  fc.array(fc.double({ noNaN: true, min: -2, max: 2 }).map((x) => Math.round(x * 1e4) / 1e4), { maxLength: 4000 }).map((xs) => new Uint8Array(Float64Array.from(xs).buffer)),
  fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(70000).fill(7))), { maxLength: 6 }).map((parts) => new Uint8Array(Buffer.concat(parts))),
);

for (const variant of ['simd', 'scalar'] as const) {
  const core = WasmCore.create({ variant });
  describe(`snappy kernel (${variant})`, () => {
    it("equals hyparquet's decoder on data compressed by hyparquet-writer", () => {
      fc.assert(
        fc.property(data, (raw) => {
          const comp = snappyCompress(raw);
          const want = new Uint8Array(raw.length);
          reference(comp, want);
          const got = new Uint8Array(raw.length);
          snappyUncompress(core, comp, got);
          expect(Buffer.from(got).equals(Buffer.from(raw))).toBe(true);
          expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('rejects corrupt input (wrong size, truncation, bad offsets) instead of writing past its buffers', () => {
      const raw = new Uint8Array(5000).map((_, i) => (i * 7) % 13);
      const comp = snappyCompress(raw);
      expect(() => snappyUncompress(core, comp, new Uint8Array(4999))).toThrow(/corrupt/);
      expect(() => snappyUncompress(core, comp.subarray(0, comp.length - 3), new Uint8Array(5000))).toThrow(/corrupt/);
      // preamble 5, then a 1-byte-offset copy of 5 bytes from offset 9 with nothing written yet
      expect(() => snappyUncompress(core, Uint8Array.from([5, 0x01 | (1 << 2), 0x09]), new Uint8Array(5))).toThrow(/corrupt/);
      // a literal that claims more bytes than the input holds
      expect(() => snappyUncompress(core, Uint8Array.from([4, 0xf0, 0xff, 1, 2]), new Uint8Array(4))).toThrow(/corrupt/);
      expect(() => snappyUncompress(core, new Uint8Array(0), new Uint8Array(0))).toThrow(/corrupt/);
      const ok = new Uint8Array(0);
      snappyUncompress(core, Uint8Array.from([0]), ok);
    });
  });
}
