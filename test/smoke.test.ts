import { describe, it, expect } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { noiseTable } from '../src/core/noise.js';
import * as twin from '../src/core/twin/noise.js';

describe('core smoke', () => {
  it('loads both variants over a shared memory', () => {
    const a = WasmCore.create({ variant: 'simd' });
    const b = WasmCore.create({ variant: 'scalar' });
    expect(a.k.simdEnabled()).toBe(1);
    expect(b.k.simdEnabled()).toBe(0);
    expect(a.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const w = new Float64Array([-3, 0, 2]);
    const t = noiseTable(a, { family: 'gaussian', scale: 1 }, w);
    const out = new Float64Array(36);
    twin.noiseTable(0, 1, 3, w, out);
    expect(t.logF[0]).toBeCloseTo(Math.log(0.0013498980316301), 12);
    expect(Math.abs(t.logF[2] - out[4 * 3 + 2])).toBeLessThan(1e-15);
  });
});

describe('arena', () => {
  it('views made before the memory grows still count as WASM memory (zero-copy)', () => {
    const core = WasmCore.create({ variant: 'simd' });
    const early = core.arena.f64(4);
    early.set([1, 2, 3, 4]);
    const pagesBefore = core.memory.buffer.byteLength;
    core.arena.f64(8 * 1024 * 1024); // 64 MiB: forces a grow
    expect(core.memory.buffer.byteLength).toBeGreaterThan(pagesBefore);
    expect(early.buffer).not.toBe(core.memory.buffer);
    expect(core.owns(early)).toBe(true);
    expect(core.input(early)).toBe(early.byteOffset);
    expect(core.owns(new Float64Array(4))).toBe(false);
  });
});
