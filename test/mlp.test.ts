import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { createMlp, type Mlp, type MlpSpec } from '../src/core/mlp.js';
import { createMlpTwin } from '../src/core/twin/mlp.js';
import { RepricerError } from '../src/core/errors.js';

interface RefNet {
  sizes: number[];
  output: 'tanh' | 'linear';
  batch: number;
  params: number[];
  x: number[];
  dOut: number[];
  y: number[];
  grads: number[];
  dx: number[];
}
interface RefAdam {
  sizes: number[];
  params: number[];
  x: number[];
  dOut: number[];
  grads: number[];
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  f64: number[][];
  f32: number[][];
}
const ref = JSON.parse(readFileSync(new URL('./fixtures/mlp_reference.json', import.meta.url), 'utf8')) as {
  init: { sizes: number[]; seed: number; params: number[] }[];
  nets: RefNet[];
  adam: RefAdam[];
};

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const makers: Record<string, (spec: MlpSpec) => Mlp> = {
  twin: (spec) => createMlpTwin(spec),
  simd: (spec) => createMlp(cores.simd, spec),
  scalar: (spec) => createMlp(cores.scalar, spec),
};
const wasmMakers = { simd: makers.simd!, scalar: makers.scalar! };


const f32 = (a: number[]) => Float32Array.from(a);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const sameBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A deterministic pseudo-random fill in [-s, s] (test data only). */
function fill(n: number, seed: number, s = 1): Float32Array {
  const out = new Float32Array(n);
  let z = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    z = (Math.imul(z, 1664525) + 1013904223) >>> 0;
    out[i] = ((z / 4294967296) * 2 - 1) * s;
  }
  return out;
}

/**
 * The test's own f64 network, written from docs/math.md §9.1 (not from the code under test):
 * L(θ, x) = Σ dOut ⊙ y(θ, x), so ∂L/∂θ is the gradient backward must return.
 */
function refLoss(spec: MlpSpec, theta: Float64Array, x: Float64Array, batch: number, dOut: Float64Array): number {
  const s = spec.sizes;
  let a = x;
  let off = 0;
  for (let l = 0; l + 1 < s.length; l++) {
    const nIn = s[l]!;
    const nOut = s[l + 1]!;
    const y = new Float64Array(batch * nOut);
    for (let r = 0; r < batch; r++) {
      for (let o = 0; o < nOut; o++) {
        let z = theta[off + nIn * nOut + o]!;
        for (let i = 0; i < nIn; i++) z += theta[off + o * nIn + i]! * a[r * nIn + i]!;
        const last = l + 2 === s.length;
        y[r * nOut + o] = !last ? Math.max(z, 0) : spec.output === 'tanh' ? Math.tanh(z) : z;
      }
    }
    off += nIn * nOut + nOut;
    a = y;
  }
  let L = 0;
  for (let k = 0; k < a.length; k++) L += dOut[k]! * a[k]!;
  return L;
}

/** Central differences of refLoss in θ and in x, f64, step h. */
function finiteDifferences(spec: MlpSpec, theta: Float32Array, x: Float32Array, batch: number, dOut: Float32Array, h = 1e-6) {
  const th = Float64Array.from(theta);
  const xx = Float64Array.from(x);
  const d = Float64Array.from(dOut);
  const gTheta = new Float64Array(th.length);
  for (let k = 0; k < th.length; k++) {
    const v = th[k]!;
    th[k] = v + h;
    const up = refLoss(spec, th, xx, batch, d);
    th[k] = v - h;
    const dn = refLoss(spec, th, xx, batch, d);
    th[k] = v;
    gTheta[k] = (up - dn) / (2 * h);
  }
  const gX = new Float64Array(xx.length);
  for (let k = 0; k < xx.length; k++) {
    const v = xx[k]!;
    xx[k] = v + h;
    const up = refLoss(spec, th, xx, batch, d);
    xx[k] = v - h;
    const dn = refLoss(spec, th, xx, batch, d);
    xx[k] = v;
    gX[k] = (up - dn) / (2 * h);
  }
  return { gTheta, gX };
}

/** Index ranges of each layer's W and b in the flat parameter vector. */
function layerRanges(sizes: number[]) {
  const out: { name: string; from: number; to: number }[] = [];
  let off = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = sizes[l]! * sizes[l + 1]!;
    out.push({ name: `layer ${l} W`, from: off, to: off + w });
    out.push({ name: `layer ${l} b`, from: off + w, to: off + w + sizes[l + 1]! });
    off += w + sizes[l + 1]!;
  }
  return out;
}

describe('mlp: seeded initialisation', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: bit-identical to the independent numpy generator (test/fixtures/mlp_reference.py)`, () => {
      for (const c of ref.init) {
        const net = make({ sizes: c.sizes, output: 'linear' });
        net.initialise(c.seed);
        expect(sameBits(net.params(), f32(c.params)), `sizes ${c.sizes} seed ${c.seed}`).toBe(true);
      }
    });
  }

  it('every W and b of a layer lies in ±1/√fan_in and fills it like a uniform (PyTorch nn.Linear default)', () => {
    const spec: MlpSpec = { sizes: [6, 256, 256, 1], output: 'tanh' };
    const net = makers.simd!(spec);
    net.initialise(2024);
    const p = net.params();
    let off = 0;
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const nIn = spec.sizes[l]!;
      const n = nIn * spec.sizes[l + 1]! + spec.sizes[l + 1]!;
      const bound = 1 / Math.sqrt(nIn);
      const seg = p.subarray(off, off + n);
      expect(maxAbs(seg)).toBeLessThanOrEqual(Math.fround(bound));
      if (n > 1000) {
        const mean = seg.reduce((s, v) => s + v, 0) / n;
        const varc = seg.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
        // U(-c, c): mean 0 (sd c/√(3n)), variance c²/3
        expect(Math.abs(mean)).toBeLessThan((5 * bound) / Math.sqrt(3 * n));
        expect(Math.abs(varc / (bound * bound / 3) - 1)).toBeLessThan(0.05);
        expect(maxAbs(seg)).toBeGreaterThan(0.99 * bound);
      }
      off += n;
    }
  });

  it('the WASM network and the twin initialise to the same bits for any spec and seed; a different seed differs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 5 }),
        fc.integer({ min: -0x80000000, max: 0xffffffff }),
        (sizes, seed) => {
          const spec: MlpSpec = { sizes, output: 'tanh' };
          const a = makers.simd!(spec);
          const b = makers.twin!(spec);
          a.initialise(seed);
          b.initialise(seed);
          expect(sameBits(a.params(), b.params())).toBe(true);
          b.initialise(seed === 5 ? 6 : 5);
          if (a.paramCount > 2) expect(sameBits(a.params(), b.params())).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('mlp: forward and backward against the numpy oracle', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: y, dL/dθ and dL/dx of four networks within f32 rounding`, () => {
      for (const c of ref.nets) {
        const net = make({ sizes: c.sizes, output: c.output });
        net.setParams(f32(c.params));
        const y = net.forward(f32(c.x), c.batch);
        const tag = `${c.sizes} ${c.output}`;
        expect(maxAbsDiff(y, c.y), tag).toBeLessThan(2e-6);
        const dx = net.backward(f32(c.dOut), c.batch);
        expect(maxAbsDiff(dx, c.dx), tag).toBeLessThan(5e-6);
        expect(maxAbsDiff(net.grads(), c.grads), tag).toBeLessThan(5e-6);
      }
    });
  }
});

describe('mlp: every layer’s gradient against central finite differences (f64)', () => {
  const specs: MlpSpec[] = [
    { sizes: [4, 7, 6, 3], output: 'tanh' },
    { sizes: [4, 7, 6, 3], output: 'linear' },
    { sizes: [5, 9, 1], output: 'tanh' },
    // widths past 16 take the kernels' 16-column path
    { sizes: [6, 21, 18, 2], output: 'linear' },
  ];
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: W and b of each layer and dL/dx`, () => {
      specs.forEach((spec, si) => {
        const batch = 5;
        const net = make(spec);
        net.initialise(100 + si);
        const x = fill(batch * spec.sizes[0]!, 7 + si, 1.5);
        const dOut = fill(batch * spec.sizes[spec.sizes.length - 1]!, 31 + si);
        net.forward(x, batch);
        const dx = net.backward(dOut, batch).slice();
        const g = net.grads();
        const fd = finiteDifferences(spec, net.params(), x, batch, dOut);
        for (const r of layerRanges(spec.sizes)) {
          const scale = 1 + maxAbs(fd.gTheta.subarray(r.from, r.to));
          expect(maxAbsDiff(g.subarray(r.from, r.to), fd.gTheta.subarray(r.from, r.to)) / scale, `${spec.sizes} ${spec.output} ${r.name}`).toBeLessThan(2e-5);
          // a layer whose gradient is all zero would pass trivially: each must carry signal
          expect(maxAbs(fd.gTheta.subarray(r.from, r.to)), r.name).toBeGreaterThan(1e-3);
        }
        expect(maxAbsDiff(dx, fd.gX) / (1 + maxAbs(fd.gX)), `${spec.sizes} dx`).toBeLessThan(2e-5);
      });
    });
  }
});

describe('mlp: WASM kernels agree with the TS twin', () => {
  it('random shapes, batches and outputs: the SIMD and scalar builds give the same bits; the twin too with a linear output, within f32 rounding through tanh (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 37 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 1, max: 11 }),
        fc.constantFrom<'tanh' | 'linear'>('tanh', 'linear'),
        fc.integer({ min: 0, max: 1000 }),
        (sizes, batch, output, seed) => {
          const spec: MlpSpec = { sizes, output };
          const nets = [makers.simd!(spec), makers.scalar!(spec), makers.twin!(spec)];
          const x = fill(batch * sizes[0]!, seed + 1, 2);
          const d = fill(batch * sizes[sizes.length - 1]!, seed + 2);
          const out = nets.map((net) => {
            net.initialise(seed);
            const y = net.forward(x, batch).slice();
            const dx = net.backward(d, batch).slice();
            return { y, dx, g: net.grads() };
          });
          const [simd, scalar, twin] = out as [typeof out[0], typeof out[0], typeof out[0]];
          for (const key of ['y', 'dx', 'g'] as const) {
            expect(sameBits(simd[key], scalar[key]), `simd vs scalar ${key}`).toBe(true);
            if (output === 'linear') expect(sameBits(simd[key], twin[key]), `wasm vs twin ${key}`).toBe(true);
            else expect(maxAbsDiff(simd[key], twin[key]), `wasm vs twin ${key}`).toBeLessThan(1e-5 * (1 + maxAbs(twin[key])));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('training with a linear output: the twin and both builds hold the same bits after 10 Adam steps', () => {
    const spec: MlpSpec = { sizes: [6, 24, 17, 1], output: 'linear' };
    const runs = Object.values(makers).map((make) => {
      const net = make(spec);
      net.initialise(21);
      return trainSteps(net, 10, 19);
    });
    expect(sameBits(runs[0]!, runs[1]!)).toBe(true);
    expect(sameBits(runs[0]!, runs[2]!)).toBe(true);
  });

  it('the benchmark networks at batch 256 (actor 6->256->256->1 tanh, critic 7->256->256->1 linear)', () => {
    for (const spec of [{ sizes: [6, 256, 256, 1], output: 'tanh' }, { sizes: [7, 256, 256, 1], output: 'linear' }] as MlpSpec[]) {
      const b = makers.twin!(spec);
      b.initialise(9);
      const x = fill(256 * spec.sizes[0]!, 3, 2);
      const d = fill(256, 4);
      const yb = b.forward(x, 256).slice();
      const dxb = b.backward(d, 256).slice();
      for (const make of Object.values(wasmMakers)) {
        const a = make(spec);
        a.initialise(9);
        const ya = a.forward(x, 256);
        const dxa = a.backward(d, 256);
        if (spec.output === 'linear') {
          expect(sameBits(ya, yb) && sameBits(dxa, dxb) && sameBits(a.grads(), b.grads())).toBe(true);
        } else {
          expect(maxAbsDiff(ya, yb)).toBeLessThan(1e-5 * (1 + maxAbs(yb)));
          expect(maxAbsDiff(dxa, dxb)).toBeLessThan(1e-5 * (1 + maxAbs(dxb)));
          expect(maxAbsDiff(a.grads(), b.grads())).toBeLessThan(1e-5 * maxAbs(b.grads()));
        }
      }
    }
  });

  it('the gradient is the sum over the batch of the per-row gradients, overwritten by each backward (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 100 }), fc.constantFrom(...Object.keys(makers)), (batch, seed, name) => {
        const spec: MlpSpec = { sizes: [3, 6, 2], output: 'tanh' };
        const net = makers[name]!(spec);
        net.initialise(seed);
        const x = fill(batch * 3, seed + 5);
        const d = fill(batch * 2, seed + 6);
        const sum = new Float64Array(net.paramCount);
        for (let r = 0; r < batch; r++) {
          net.forward(x.subarray(3 * r, 3 * r + 3), 1);
          net.backward(d.subarray(2 * r, 2 * r + 2), 1);
          net.grads().forEach((g, k) => (sum[k] += g));
        }
        net.forward(x, batch);
        net.backward(d, batch);
        expect(maxAbsDiff(net.grads(), sum)).toBeLessThan(1e-5 * (1 + maxAbs(sum)));
      }),
      { numRuns: 40 },
    );
  });

  it('a batch larger than any before grows the buffers (and the memory) and stays correct', () => {
    const spec: MlpSpec = { sizes: [5, 33, 3], output: 'linear' };
    const core = WasmCore.create({ variant: 'simd' });
    const a = createMlp(core, spec);
    const b = makers.twin!(spec);
    a.initialise(1);
    b.initialise(1);
    for (const batch of [2, 3, 700, 5, 2100]) {
      const x = fill(batch * 5, batch);
      const d = fill(batch * 3, batch + 1);
      const ya = a.forward(x, batch);
      expect(ya.length).toBe(batch * 3);
      expect(maxAbsDiff(ya, b.forward(x, batch))).toBeLessThan(1e-5);
      expect(maxAbsDiff(a.backward(d, batch), b.backward(d, batch))).toBeLessThan(1e-4);
      expect(maxAbsDiff(a.grads(), b.grads())).toBeLessThan(1e-5 * (1 + maxAbs(b.grads())));
      createMlp(core, spec); // another network's permanent blocks land between the growths
    }
  });
});

describe('mlp: Adam (Kingma & Ba, bias-corrected)', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: the first step by hand: θ1 = θ0 − α·g/(|g| + ε) (m̂1 = g, v̂1 = g²)`, () => {
      const c = ref.adam[0]!;
      const net = make({ sizes: c.sizes, output: 'linear' });
      net.setParams(f32(c.params));
      net.forward(f32(c.x), 1);
      net.backward(f32(c.dOut), 1);
      const g = net.grads();
      const th0 = net.params();
      net.adamStep(c.lr, c.beta1, c.beta2, c.eps);
      const th1 = net.params();
      for (let k = 0; k < g.length; k++) {
        const want = th0[k]! - (c.lr * g[k]!) / (Math.abs(g[k]!) + c.eps);
        expect(Math.abs(th1[k]! - want), `k=${k}`).toBeLessThan(1e-7);
        expect(Math.abs(th1[k]! - th0[k]!)).toBeGreaterThan(0.99 * c.lr); // a first step moves each weight by ≈ α
      }
    });

    it(`${name}: three steps against numpy: the f64 formula within 1e-6 and the documented f32 sequence bit for bit`, () => {
      for (const c of ref.adam) {
        const net = make({ sizes: c.sizes, output: 'linear' });
        net.setParams(f32(c.params));
        net.forward(f32(c.x), 1);
        net.backward(f32(c.dOut), 1);
        expect(sameBits(net.grads(), f32(c.grads)), 'the gradient is the exact product').toBe(true);
        for (let t = 0; t < 3; t++) {
          net.adamStep(c.lr, c.beta1, c.beta2, c.eps);
          const p = net.params();
          expect(maxAbsDiff(p, c.f64[t]!), `step ${t + 1}`).toBeLessThan(1e-6);
          expect(sameBits(p, f32(c.f32[t]!)), `${c.sizes} lr ${c.lr} step ${t + 1}`).toBe(true);
        }
      }
    });
  }

  it('rejects bad hyper-parameters, naming the field', () => {
    const net = makers.simd!({ sizes: [2, 2], output: 'linear' });
    for (const [args, field] of [[[0], 'lr'], [[NaN], 'lr'], [[1e-3, 1], 'beta1'], [[1e-3, 0.9, -0.1], 'beta2'], [[1e-3, 0.9, 0.999, 0], 'eps']] as const) {
      expect(() => net.adamStep(...(args as unknown as [number])), field).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field } }));
    }
  });
});

describe('mlp: soft update and copy', () => {
  const spec: MlpSpec = { sizes: [4, 9, 2], output: 'tanh' };
  it('θ ← τ·θ_src + (1−τ)·θ for every implementation pair, the same bits in each, within f32 of the f64 formula', () => {
    const impls = Object.entries(makers);
    for (const tau of [0.005, 0.3, 1]) {
      const results: Float32Array[] = [];
      for (const [, makeDst] of impls) {
        for (const [, makeSrc] of impls) {
          const dst = makeDst(spec);
          const src = makeSrc(spec);
          dst.initialise(1);
          src.initialise(2);
          const a = dst.params();
          const b = src.params();
          dst.softUpdateFrom(src, tau);
          const p = dst.params();
          for (let k = 0; k < p.length; k++) expect(Math.abs(p[k]! - (tau * b[k]! + (1 - tau) * a[k]!))).toBeLessThan(1e-7);
          if (tau === 1) expect(sameBits(p, b)).toBe(true);
          expect(sameBits(src.params(), b), 'the source is untouched').toBe(true);
          results.push(p);
        }
      }
      for (const r of results) expect(sameBits(r, results[0]!)).toBe(true);
    }
  });

  it('τ = 0 leaves θ as it was; copyFrom makes the same bits (also across cores and from the twin)', () => {
    for (const [, makeDst] of Object.entries(makers)) {
      for (const [, makeSrc] of Object.entries(makers)) {
        const dst = makeDst(spec);
        const src = makeSrc(spec);
        dst.initialise(3);
        src.initialise(4);
        const before = dst.params();
        dst.softUpdateFrom(src, 0);
        expect(sameBits(dst.params(), before)).toBe(true);
        dst.copyFrom(src);
        expect(sameBits(dst.params(), src.params())).toBe(true);
      }
    }
  });

  it('a target network tracks its source: after n updates θ − θ_src shrinks by (1−τ)^n', () => {
    const src = makers.simd!(spec);
    const dst = makers.simd!(spec);
    src.initialise(5);
    dst.initialise(6);
    const gap0 = maxAbsDiff(dst.params(), src.params());
    for (let i = 0; i < 100; i++) dst.softUpdateFrom(src, 0.05);
    const gap = maxAbsDiff(dst.params(), src.params());
    expect(gap / gap0).toBeCloseTo(Math.pow(0.95, 100), 3);
  });
});

/** n steps of a fixed regression loop; returns the parameters. */
function trainSteps(net: Mlp, steps: number, batch: number): Float32Array {
  for (let s = 0; s < steps; s++) {
    const x = fill(batch * net.spec.sizes[0]!, 1000 + s, 2);
    const y = net.forward(x, batch);
    const d = new Float32Array(y.length);
    for (let k = 0; k < y.length; k++) d[k] = (2 * (y[k]! - Math.sin(x[k * net.spec.sizes[0]!]!))) / batch;
    net.backward(d, batch);
    net.adamStep(1e-3);
  }
  return net.params();
}

describe('mlp: reproducibility', () => {
  it('the same seed gives bit-identical parameters after 30 training steps (two cores, each build, and the twin)', () => {
    const spec: MlpSpec = { sizes: [6, 64, 64, 1], output: 'tanh' };
    for (const variant of ['simd', 'scalar'] as const) {
      const runs = [0, 1].map(() => {
        const net = createMlp(WasmCore.create({ variant }), spec);
        net.initialise(77);
        return trainSteps(net, 30, 64);
      });
      expect(sameBits(runs[0]!, runs[1]!), variant).toBe(true);
      const other = createMlp(WasmCore.create({ variant }), spec);
      other.initialise(78);
      expect(sameBits(trainSteps(other, 30, 64), runs[0]!)).toBe(false);
    }
    const t = [0, 1].map(() => {
      const net = createMlpTwin({ sizes: [6, 16, 1], output: 'tanh' });
      net.initialise(77);
      return trainSteps(net, 10, 16);
    });
    expect(sameBits(t[0]!, t[1]!)).toBe(true);
  });

  it('initialise resets Adam: the same seed after training repeats the run exactly', () => {
    const net = makers.simd!({ sizes: [6, 32, 1], output: 'linear' });
    net.initialise(5);
    const first = trainSteps(net, 10, 32);
    net.initialise(5);
    expect(sameBits(trainSteps(net, 10, 32), first)).toBe(true);
  });
});

describe('mlp: a tiny regression problem trains to low loss', () => {
  for (const [name, output, target] of [
    ['linear output, y = sin(2x)', 'linear', (x: number) => Math.sin(2 * x)],
    ['tanh output, y = 0.8·cos(1.5x)', 'tanh', (x: number) => 0.8 * Math.cos(1.5 * x)],
  ] as const) {
    it(`${name} on [−2, 2]: mean squared error from ~0.3 to below 2e-3 (WASM)`, () => {
      const net = makers.simd!({ sizes: [1, 32, 32, 1], output });
      net.initialise(12);
      const batch = 64;
      const x = new Float32Array(batch);
      const t = new Float32Array(batch);
      for (let i = 0; i < batch; i++) {
        x[i] = -2 + (4 * i) / (batch - 1);
        t[i] = target(x[i]!);
      }
      const mse = () => {
        const y = net.forward(x, batch);
        let s = 0;
        for (let i = 0; i < batch; i++) s += (y[i]! - t[i]!) ** 2;
        return s / batch;
      };
      const start = mse();
      for (let step = 0; step < 3000; step++) {
        const y = net.forward(x, batch);
        const d = new Float32Array(batch);
        for (let i = 0; i < batch; i++) d[i] = (2 * (y[i]! - t[i]!)) / batch;
        net.backward(d, batch);
        net.adamStep(3e-3);
      }
      const end = mse();
      expect(start).toBeGreaterThan(0.1);
      expect(end).toBeLessThan(2e-3);
    });
  }
});

describe('mlp: memory', () => {
  it('a network created (or first run) inside an arena scope keeps its blocks when the scope ends', () => {
    const core = WasmCore.create({ variant: 'simd' });
    const spec: MlpSpec = { sizes: [3, 8, 2], output: 'linear' };
    const net = core.arena.scoped(() => {
      const n = createMlp(core, spec);
      n.initialise(4);
      n.forward(fill(6, 1), 2);
      return n;
    });
    const before = net.params();
    // scratch handed out after the scope must not overlap the network's blocks
    core.arena.scoped(() => core.arena.f64(4096).fill(123));
    const other = createMlp(core, spec);
    other.initialise(5);
    expect(sameBits(net.params(), before)).toBe(true);
  });
});

describe('mlp: bad input', () => {
  it('specs, batches, inputs and sources are checked with INVALID_ARGUMENT naming the field', () => {
    for (const make of Object.values(makers)) {
      expect(() => make({ sizes: [3], output: 'tanh' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'sizes' } }));
      expect(() => make({ sizes: [3, 0, 1], output: 'tanh' })).toThrow(/spec\.sizes\[1\] must be an integer/);
      expect(() => make({ sizes: [3, 1], output: 'relu' as 'tanh' })).toThrow(/spec\.output must be 'tanh' or 'linear'/);
      const net = make({ sizes: [2, 3, 1], output: 'linear' });
      net.initialise(1);
      expect(() => net.backward(new Float32Array(1), 1)).toThrow(/batch of the last forward \(none yet\)/);
      expect(() => net.forward(new Float32Array(3), 2)).toThrow(/x must hold batch x 2 = 4 floats/);
      expect(() => net.forward(new Float32Array([1, 2, 3, NaN]), 2)).toThrow(/x\[3\] \(row 1, column 1\) must be finite/);
      expect(() => net.forward(new Float32Array(2), 0)).toThrow(/batch must be a positive integer/);
      net.forward(new Float32Array(4), 2);
      expect(() => net.backward(new Float32Array(1), 1)).toThrow(/batch of the last forward \(2\)/);
      expect(() => net.setParams(new Float32Array(3))).toThrow(/paramCount = 13/);
      expect(() => net.initialise(1.5)).toThrow(/seed must be a 32-bit integer/);
      const other = make({ sizes: [2, 4, 1], output: 'linear' });
      expect(() => net.softUpdateFrom(other, 0.1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'src' } }));
      expect(() => net.copyFrom(other)).toThrow(RepricerError);
      expect(() => net.softUpdateFrom(make({ sizes: [2, 3, 1], output: 'linear' }), 1.5)).toThrow(/tau must be in \[0, 1\]/);
    }
  });
});
