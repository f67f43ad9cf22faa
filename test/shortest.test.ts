/**
 * Shortest round-trip formatting in WASM (assembly/ryu.ts, Ryu d2s + ECMAScript layout) against
 * JavaScript's own String(x), byte for byte, for both builds:
 * (a) edge cases: zeros, subnormals, extremes, every power of ten and of two with neighbours,
 *     the layout boundaries (1e21, 1e-7), 2^53 neighbours, classic decimals, 17-digit values,
 *     Ryu's own regression values and the ends of every binary exponent;
 * (b) fast-check over arbitrary finite doubles;
 * (c) 1,000,000 random bit patterns (seeded) plus 300,000 with moderate exponents;
 * (d) price-like values.
 * Every mismatch fails the test and is printed with its bit pattern.
 */
import { rng as demoRng } from '../src/batch/demoData.js';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore, type Variant } from '../src/core/wasm.js';
import { formatShortest, SHORTEST_MAX_BYTES } from '../src/core/shortest.js';

const variants: Variant[] = ['simd', 'scalar'];
const cores: Record<Variant, WasmCore> = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const hex = (x: number): string => {
  f64[0] = x;
  return '0x' + u64[0].toString(16).padStart(16, '0');
};
const fromBits = (b: bigint): number => {
  u64[0] = BigInt.asUintN(64, b);
  return f64[0];
};
const bitsOf = (x: number): bigint => {
  f64[0] = x;
  return u64[0];
};
/** x and its two neighbouring doubles (same sign), finite ones only. */
const withNeighbours = (x: number): number[] => {
  const b = bitsOf(x);
  return [x, fromBits(b + 1n), ...(b > 0n ? [fromBits(b - 1n)] : [])].filter(Number.isFinite);
};

/** Deterministic 32-bit generator: the demo data's mulberry32, as integers (exact: u32 / 2^32). */
function rng(seed: number): () => number {
  const r = demoRng(seed);
  return () => r() * 4294967296;
}
/** Uniform in [0, 1) from the generator. */
const unit = (next: () => number) => (): number => (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;

/** Format through the column kernel and list every value whose text differs from String(x). */
function mismatches(core: WasmCore, values: Float64Array, what: string): string[] {
  const got = formatShortest(core, values);
  const bad: string[] = [];
  if (got.length !== values.length) bad.push(`${what}: ${got.length} fields for ${values.length} values`);
  for (let i = 0; i < values.length; i++) {
    const want = String(values[i]);
    if (got[i] !== want) bad.push(`${what}: ${hex(values[i])} String(x)=${want} wasm=${got[i]}`);
  }
  return bad;
}

function expectExact(core: WasmCore, values: ArrayLike<number>, what: string): void {
  const bad = mismatches(core, Float64Array.from(values), what);
  expect(bad.slice(0, 25), `${bad.length} mismatches`).toEqual([]);
}

function edgeCases(): number[] {
  const v: number[] = [
    0, -0, 5e-324, -5e-324, Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.EPSILON,
    Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2.2250738585072014e-308, 2.225073858507201e-308,
    -2.2250738585072014e-308, 1.7976931348623157e308, 4.9406564584124654e-324, 1e23, 1e22, 1e21, 1e20, 1e-7,
    1e-6, 9.999999999999999e20, 9.999999999999999e-8, 1.0000000000000001e-7, 1.2e-6, 1.5e-7, 123e18,
    -2.5e300, 9007199254740993, 9007199254740991, 9007199254740992, 9007199254740994, 9007199254740995,
    0.1 + 0.2, 1 / 3, 2 / 3, 123.456, 0.1, 0.2, 0.3, 0.7, 0.1 + 0.7, 0.17, 0.17 * 3, 0.17 * 100, 1.17,
    4.35 * 100, 1.005 * 1000, 1.1 * 1.1, 0.57 * 100, 0.58 * 100, 19.99, 9.99, 0.99, 0.01, 0.05, 199.95,
    1999.99, 19.99 * 1.2, 19.99 * 3, 1234.5, 0.5, 0.25, 0.125, 2.5, 1.5, 1e-5, 1e-300, 1e300, 1e308,
    123456789012345680000, 1.2345678901234567, 12345678901234567, 0.30000000000000004, 5e-7, 1.7e-6,
    // Ryu's regression values (d2s_test.cc)
    2.98023223876953125e-8, -2.109808898695963e16, 4.940656e-318, 1.18575755e-316, 2.989102097996e-312,
    9.0608011534336e15, 4.708356024711512e18, 9.409340012568248e18, 1.2345678, 1.8531501765868567e21,
    -3.347727380279489e33, 1.9430376160308388e16, -6.9741824662760956e19, 4.3816050601147837e18,
    fromBits(0x4830f0cf064dd592n), fromBits(0x4840f0cf064dd592n), fromBits(0x4850f0cf064dd592n),
    fromBits(0x0040000000000000n), fromBits(0x007fffffffffffffn), fromBits(0x0100000000000000n),
    fromBits(0x017fffffffffffffn), fromBits(0x4350000000000000n), fromBits(0x435fffffffffffffn),
    fromBits(0x1330000000000000n), fromBits(0x133fffffffffffffn), fromBits(0x3a6fa7161a4d6e0cn),
  ];
  // output lengths 1..17 and small integers
  for (let k = 1; k <= 17; k++) v.push(Number('1.2345678901234567'.slice(0, k + 1)), Number('12345678901234567'.slice(0, k)));
  // powers of ten 1e-330 .. 1e308 and neighbours, both signs
  for (let e = -330; e <= 308; e++) for (const x of withNeighbours(Number(`1e${e}`))) v.push(x, -x);
  // powers of two 2^-1074 .. 2^1023 and neighbours
  for (let k = -1074; k <= 1023; k++) v.push(...withNeighbours(2 ** k));
  // layout boundaries
  for (const x of [1e21, 1e-7, 1e-6, 1e20, 1e15, 1e16, 1e17]) for (const y of withNeighbours(x)) v.push(y, -y);
  // 2^53 neighbours
  for (let d = -4; d <= 4; d++) v.push(2 ** 53 + d * 2, 2 ** 53 + d);
  // both ends of every binary exponent (every table entry of Ryu)
  for (let e = 0n; e < 2047n; e++) for (const m of [0n, 1n, 2n, 3n, (1n << 52n) - 2n, (1n << 52n) - 1n]) v.push(fromBits((e << 52n) | m));
  // numbers with exactly 17 significant digits
  const r = unit(rng(17));
  for (let i = 0; i < 2000; i++) {
    const x = (1 + r() * 9) * 10 ** (Math.floor(r() * 60) - 30);
    if (String(x).replace(/^-|e.*$|\.|^0\.0*/g, '').length === 17) v.push(x);
  }
  return v;
}

describe('shortest: WASM formatShortestColumn equals String(x)', () => {
  const edges = edgeCases();
  const rnd = rng(0x5eed);
  const bits = new Uint32Array(2 * 1_000_000);
  for (let i = 0; i < bits.length; i++) bits[i] = rnd();
  const randomBits = new Float64Array(bits.buffer).filter(Number.isFinite);
  // moderate exponents (|x| in [2^-70, 2^70]): the fixed-point layouts
  const moderate = new Float64Array(300_000);
  for (let i = 0; i < moderate.length; i++) {
    const hi = (rnd() & 0x800fffff) | ((1023 - 70 + (rnd() % 141)) << 20);
    moderate[i] = fromBits((BigInt(hi >>> 0) << 32n) | BigInt(rnd()));
  }
  const r = unit(rng(1234));
  const prices: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const x = r();
    prices.push(
      Math.round(x * 1e6) / 1e4,
      x * 100,
      Math.round(x * 1e5) / 100,
      Math.round(x * 1e4) / 100 + 0.5,
      (Math.round(x * 1e5) / 100) * 1.2,
      Math.round(x * 1e9) / 1e6,
      -Math.round(x * 1e3) / 10,
      x * 1e-4,
      x * 1e7,
    );
  }

  for (const variant of variants) {
    const core = cores[variant];
    it(`${variant}: edge cases (${edges.length} values)`, () => {
      expectExact(core, edges, 'edge');
    });
    it(`${variant}: NaN and infinities print as String(x) does`, () => {
      expect(formatShortest(core, Float64Array.of(NaN, Infinity, -Infinity, -NaN))).toEqual(['NaN', 'Infinity', '-Infinity', 'NaN']);
    });
    it(`${variant}: fast-check, arbitrary finite doubles (20000 runs)`, () => {
      fc.assert(
        fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
          expect(formatShortest(core, Float64Array.of(x))[0], `${hex(x)} ${String(x)}`).toBe(String(x));
        }),
        { numRuns: 20000 },
      );
    });
    it(`${variant}: 1,000,000 random bit patterns and 300,000 with moderate exponents`, () => {
      expect(randomBits.length).toBeGreaterThan(990_000);
      expectExact(core, randomBits, 'bits');
      expectExact(core, moderate, 'moderate');
    });
    it(`${variant}: price-like values`, () => {
      expectExact(core, prices, 'price');
    });
    it(`${variant}: writes exactly the bytes it reports, at most ${SHORTEST_MAX_BYTES - 1} per value`, () => {
      const values = Float64Array.from([...edges.slice(0, 400), -1.2345678901234567e-300, -1.2345678901234567e-6, -123456789012345680000]);
      core.arena.scoped(() => {
        const src = core.input(values);
        const dst = core.arena.alloc(8);
        const mem = new Uint8Array(core.memory.buffer);
        let longest = 0;
        for (let i = 0; i < values.length; i++) {
          const x = values[i];
          mem.fill(0xaa, dst, dst + 64);
          const len = core.k.formatShortestColumn(1, src + 8 * i, dst);
          expect(len - 1).toBe(String(x).length);
          expect(mem[dst + len], hex(x)).toBe(0xaa);
          longest = Math.max(longest, len - 1);
        }
        expect(longest).toBe(SHORTEST_MAX_BYTES - 1);
      });
    });
  }
});
