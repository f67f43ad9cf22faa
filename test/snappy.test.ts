import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { snappyUncompress as reference } from 'hyparquet';
import { snappyCompressJs as snappyCompress } from '../src/records/hyparquetInternals.js';
import { WasmCore } from '../src/core/wasm.js';
import { snappyCompress as snappyCompressWasm, snappyCompressInto, snappyMaxCompressedLength, snappyUncompress, snappyUncompressInto } from '../src/core/snappy.js';
import { rng } from '../src/batch/demoData.js';

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

/** n bytes from mulberry32 (incompressible). */
function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** `unit` repeated to n bytes: every match is `unit.length` back. */
function repeat(unit: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += unit.length) out.set(unit.subarray(0, Math.min(unit.length, n - i)), i);
  return out;
}

/** Parquet PLAIN BYTE_ARRAY: each value as a 4-byte little-endian length, then its bytes. */
function plainByteArray(values: string[]): Uint8Array {
  return new Uint8Array(Buffer.concat(values.map((v) => {
    const b = Buffer.alloc(4 + v.length);
    b.writeUInt32LE(v.length, 0);
    b.write(v, 4, 'latin1');
    return b;
  })));
}

function idPage(): Uint8Array {
  const r = rng(11);
  return plainByteArray(Array.from({ length: 200_000 }, () => `P${String(Math.floor(r() * 1e6)).padStart(6, '0')}`));
}

function doublesPage(): Uint8Array {
  const r = rng(12);
  const f = Float64Array.from({ length: (1 << 20) / 8 }, () => Math.round(r() * 2e4) / 1e4 - 1);
  return new Uint8Array(f.buffer);
}

/** Inputs with many matches: bytes from an alphabet of 2..5 symbols, or short words glued together. */
const matchy = fc.oneof(
  fc.integer({ min: 2, max: 5 }).chain((k) => fc.array(fc.nat(k - 1), { maxLength: 20000 })).map((xs) => Uint8Array.from(xs, (x) => 97 + x)),
  fc.array(fc.constantFrom('P0001', 'P0002', 'SKU-', '42', 'xyz', '\0\0\0\x07'), { maxLength: 4000 }).map((ws) => new Uint8Array(Buffer.from(ws.join(''), 'latin1'))),
);

for (const variant of ['simd', 'scalar'] as const) {
  const core = WasmCore.create({ variant });

  /** Compress with both wrappers, check they agree and stay within the bound, decode with both decoders. */
  function roundTrip(raw: Uint8Array): Uint8Array {
    const comp = snappyCompressWasm(core, raw);
    const into = new Uint8Array(snappyMaxCompressedLength(raw.length));
    const n = snappyCompressInto(core, raw, into);
    expect(Buffer.from(into.subarray(0, n)).equals(Buffer.from(comp))).toBe(true);
    expect(comp.length).toBeLessThanOrEqual(snappyMaxCompressedLength(raw.length));
    const viaJs = new Uint8Array(raw.length);
    reference(comp, viaJs);
    const viaWasm = new Uint8Array(raw.length);
    snappyUncompress(core, comp, viaWasm);
    expect(Buffer.from(viaJs).equals(Buffer.from(raw))).toBe(true);
    expect(Buffer.from(viaWasm).equals(Buffer.from(raw))).toBe(true);
    return comp;
  }

  describe(`snappy compression kernel (${variant})`, () => {
    it('round-trips the edge cases through both decoders', () => {
      expect([...roundTrip(new Uint8Array(0))]).toEqual([0]);
      expect([...roundTrip(Uint8Array.of(0xab))]).toEqual([1, 0, 0xab]); // varint 1, literal of 1
      roundTrip(new Uint8Array(14).fill(1)); // under the 15-byte margin: one literal
      roundTrip(new Uint8Array(15).fill(1));
      // runs: overlapping copies at offset 1, 64-byte copy-2 elements, the 60-byte split at 65..67
      for (const n of [16, 20, 68, 69, 71, 72, 1000, 100_000]) roundTrip(new Uint8Array(n).fill(7));
      // repeats at offsets < 2048 (copy-1 for short ones), > 2048 (copy-2 only)
      roundTrip(repeat(randomBytes(100, 1), 50_000));
      roundTrip(repeat(randomBytes(2047, 2), 20_000));
      roundTrip(repeat(randomBytes(3000, 3), 50_000));
      roundTrip(repeat(randomBytes(65_535, 4), 200_000));
      // repeat period > 65536: out of snappy's reach, and across blocks
      roundTrip(repeat(randomBytes(70_000, 5), 300_000));
      // long literals: each length-byte count (60 in the tag, then 1, 2 and 3 length bytes)
      for (const n of [59, 60, 61, 62, 100, 256, 257, 300, 65_536, 65_537, 70_000]) roundTrip(randomBytes(n, n));
      // a literal between runs, at every block-relative position near a block's end
      for (const k of [65_519, 65_520, 65_521, 65_535, 65_536, 65_537]) {
        const raw = new Uint8Array(k + 40).fill(3);
        raw.set(randomBytes(30, k), k - 10);
        roundTrip(raw);
      }
      const rand = randomBytes(1 << 20, 6);
      const comp = roundTrip(rand);
      expect(comp.length).toBeLessThan(rand.length * 1.001); // incompressible: ~3 bytes per 64 KiB literal
    });

    it("round-trips a page of ids and one of doubles within 10 % of hyparquet-writer's size", () => {
      for (const page of [idPage(), doublesPage()]) {
        const comp = roundTrip(page);
        const js = snappyCompress(page);
        expect(comp.length).toBeLessThan(page.length * 0.8); // these compress
        expect(comp.length).toBeLessThanOrEqual(js.length * 1.1);
      }
    });

    it('round-trips arbitrary and match-rich inputs (property)', () => {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), matchy, data), (raw) => {
          roundTrip(raw);
        }),
        { numRuns: 300 },
      );
    });

    it('the round-trip property fails for a broken compressor', () => {
      // drops the last byte of the output: the decoder must throw or the bytes differ
      const broken = (raw: Uint8Array) => {
        const c = snappyCompressWasm(core, raw);
        return c.length > 3 ? Uint8Array.from([...c.subarray(0, c.length - 1)]) : c;
      };
      expect(() =>
        fc.assert(
          fc.property(matchy, (raw) => {
            const got = new Uint8Array(raw.length);
            reference(broken(raw), got);
            expect(Buffer.from(got).equals(Buffer.from(raw))).toBe(true);
          }),
          { numRuns: 100 },
        ),
      ).toThrow();
    });

    it('never writes past dst + dstCap and refuses a dstCap below the bound', () => {
      const raw = randomBytes(200_000, 8);
      core.arena.scoped(() => {
        const cap = snappyMaxCompressedLength(raw.length);
        const pIn = core.arena.allocBytes(raw.length);
        const pOut = core.arena.allocBytes(cap + 64);
        const pWork = core.arena.allocBytes(core.k.snappyCompressWorkSize());
        new Uint8Array(core.memory.buffer, pIn, raw.length).set(raw);
        new Uint8Array(core.memory.buffer, pOut, cap + 64).fill(0xee);
        expect(core.k.snappyCompress(pIn, raw.length, pOut, cap - 1, pWork)).toBe(-1);
        expect(new Uint8Array(core.memory.buffer, pOut, cap + 64).every((b) => b === 0xee)).toBe(true);
        const n = core.k.snappyCompress(pIn, raw.length, pOut, cap, pWork);
        expect(n).toBeGreaterThan(raw.length);
        expect(new Uint8Array(core.memory.buffer, pOut + cap, 64).every((b) => b === 0xee)).toBe(true);
      });
      expect(() => snappyCompressInto(core, raw, new Uint8Array(1000))).toThrow(RangeError);
      const exact = new Uint8Array(snappyCompressWasm(core, raw).length);
      expect(snappyCompressInto(core, raw, exact)).toBe(exact.length);
    });
  });
}

for (const variant of ['simd', 'scalar'] as const) {
  describe(`snappyUncompressInto (${variant})`, () => {
    const core = WasmCore.create({ variant });
    it('snappyUncompressInto decompresses into WASM memory from inside and outside it, and reports corrupt input', () => {
      const raw = new Uint8Array(new Float64Array(Array.from({ length: 5000 }, (_, i) => Math.round(Math.sin(i) * 100) / 100)).buffer);
      const comp = snappyCompress(raw);
      core.arena.scoped(() => {
        const p = core.arena.allocBytes(raw.length);
        const dst = new Uint8Array(core.memory.buffer, p, raw.length);
        expect(snappyUncompressInto(core, comp, dst)).toBe(true);
        expect(Buffer.from(dst).equals(Buffer.from(raw))).toBe(true);
        const pIn = core.arena.allocBytes(comp.length);
        const inside = new Uint8Array(core.memory.buffer, pIn, comp.length);
        inside.set(comp);
        dst.fill(0);
        expect(snappyUncompressInto(core, inside, dst)).toBe(true);
        expect(Buffer.from(dst).equals(Buffer.from(raw))).toBe(true);
        expect(snappyUncompressInto(core, comp.subarray(0, comp.length - 5), dst)).toBe(false);
        expect(() => snappyUncompressInto(core, comp, new Uint8Array(raw.length))).toThrow(/core's memory/);
      });
    });
  });
}
