/**
 * The CSV kernel's number conversion (assembly/catalogCsv.ts: Clinger's fast path, Eisel-Lemire
 * for up to 19 significant digits, else the host's Number()) against Number() itself, the
 * definition, on strings a shortest round-trip printer writes and on the hard ones: exact ties
 * between two doubles, 19-digit mantissas, the edges of the normal range, subnormals.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';

/** Values of `texts` as the kernel + host produce them (a CSV of rows `id,value`). */
function kernelValues(core: WasmCore, texts: string[]): Float64Array {
  const bytes = Buffer.from(texts.map((t, i) => `r${i},${t}`).join('\n') + '\n');
  const a = core.arena;
  return a.scoped(() => {
    const n = texts.length;
    const cap = n + 1;
    const src = a.allocBytes(bytes.length);
    const roles = a.allocBytes(8);
    const x = a.alloc(cap);
    const nan = () => a.alloc(cap);
    const [cost, cur, mn, mx] = [nan(), nan(), nan(), nan()];
    const idStart = a.allocBytes(4 * cap);
    const idLen = a.allocBytes(4 * cap);
    const slow = a.allocBytes(16 * cap * 2);
    const out = a.allocBytes(16);
    const mem = core.memory.buffer;
    new Uint8Array(mem, src, bytes.length).set(bytes);
    new Int32Array(mem, roles, 2).set([0, 16]);
    const opt = a.allocBytes(16);
    new Int32Array(core.memory.buffer, opt, 4).set([cost, cur, mn, mx]);
    const rc = core.k.parseCatalogCsv(src, bytes.length, roles, 2, 1, 0, cap, x, opt, 4, 0b1110, idStart, idLen, slow, cap * 2, out, 1);
    expect(rc).toBe(0);
    const m = core.memory.buffer;
    const o = new Int32Array(m, out, 4);
    expect(o[0]).toBe(n);
    const f = new Float64Array(m);
    const s = new Int32Array(m, slow, 4 * o[2]);
    for (let k = 0; k < o[2]; k++) f[s[4 * k] >> 3] = Number(bytes.subarray(s[4 * k + 1], s[4 * k + 2]).toString('latin1'));
    return new Float64Array(m, x, n).slice();
  });
}

const core = WasmCore.create();
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

function check(texts: string[]): string[] {
  const got = kernelValues(core, texts);
  const bad: string[] = [];
  texts.forEach((t, i) => {
    if (!same(got[i], Number(t))) bad.push(`${t}: kernel ${got[i]}, Number() ${Number(t)}`);
  });
  return bad;
}

describe('CSV number conversion = Number()', () => {
  it('shortest round-trip strings of random doubles, every magnitude (200 000)', () => {
    const texts: string[] = [];
    fc.assert(fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1000, maxLength: 1000 }), (xs) => {
      for (const x of xs) texts.push(String(x));
    }), { numRuns: 200 });
    expect(check(texts)).toEqual([]);
  });

  it('random 16 to 19 digit mantissas with random exponents (200 000)', () => {
    let s = 12345;
    const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const digits = 16 + Math.floor(r() * 4);
      let m = String(1 + Math.floor(r() * 9));
      for (let k = 1; k < digits; k++) m += String(Math.floor(r() * 10));
      const e = Math.floor(r() * 640) - 330;
      const dot = Math.floor(r() * digits);
      texts.push(`${r() < 0.5 ? '-' : ''}${m.slice(0, dot || 1)}.${m.slice(dot || 1)}e${e}`);
    }
    expect(check(texts)).toEqual([]);
  });

  it('exact ties, the normal range edges, subnormals, 19 nines', () => {
    const texts = [
      '9007199254740993', '9007199254740995', '9007199254740992.5', '18014398509481985', '4503599627370496.5',
      '2.2250738585072011e-308', '2.2250738585072014e-308', '2.225073858507201e-308', '4.9406564584124654e-324',
      '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308', '9999999999999999999',
      '0.1000000000000000055511151231257827', '7.3177701707893310e+15', '1.00000000000000011102230246251565404236316680908203125',
      '123456789012345678', '0.30000000000000004', '5e-324', '1e-400', '1e400', '0000000000000000000000000001.5', '-0.0000000000000000000',
      '2.4703282292062327e-324', '2.4703282292062328e-324', '1.448997445238699', '3.0517578125e-05', '100000000000000000000000',
    ];
    expect(check(texts)).toEqual([]);
  });
});
