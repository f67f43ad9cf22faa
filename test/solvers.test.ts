import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { censoredLogLikelihood, type ObservationColumns } from '../src/core/likelihood.js';
import {
  fitNewton, fitSgd, proxL2Ball, observedInformation, inverseSpd, type Penalty, type SolverResult,
} from '../src/core/solvers.js';
import * as twin from '../src/core/twin/solvers.js';
import type { Convention, NoiseSpec } from '../src/core/validate.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/likelihood.json', import.meta.url), 'utf8')) as {
  prox: { y: number[]; center: number[]; tLambda: number; expected: number[]; math: number[] };
  projection: { y: number[]; radius: number; expected: number[]; math: number[] };
  coldStart: { x: number[]; y: number[]; sigma: number; theta0: number[]; precision: number[]; posteriorMean: number[]; math: number[] };
};

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const core = cores.simd;

function rng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, e) => s + e * e, 0));
const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, e, i) => s + (e - b[i]) ** 2, 0));

interface Synthetic { obs: ObservationColumns; truth: Float64Array; noise: NoiseSpec; convention: Convention }

/**
 * Synthetic competitor data y = xᵀθ + σ·z (z from the noise family), our quote p = xᵀθ + σ·U(-1, 1),
 * price convention: won iff p <= y; yield convention: won iff q >= y. x = (1, N(0,1)...).
 */
function synthetic(seed: number, n: number, d: number, noise: NoiseSpec, convention: Convention = 'price', weighted = false): Synthetic {
  const R = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - R())) * Math.cos(2 * Math.PI * R());
  const draw = () => {
    if (noise.family === 'gaussian') return gauss();
    const u = R();
    return Math.log(u / (1 - u));
  };
  const truth = Float64Array.from({ length: d }, (_, j) => (j === 0 ? 1 : 0.3 * gauss()));
  const x = new Float64Array(n * d);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let u = 0;
    for (let j = 0; j < d; j++) {
      x[t * d + j] = j === 0 ? 1 : gauss();
      u += x[t * d + j] * truth[j];
    }
    const y = u + noise.scale * draw();
    const p = u + noise.scale * (2 * R() - 1);
    const w = convention === 'price' ? p <= y : p >= y;
    won[t] = w ? 1 : 0;
    price[t] = p;
    competitor[t] = w ? y : NaN;
    weight[t] = 0.5 + R();
  }
  const obs: ObservationColumns = { n, d, x, won, price, competitor };
  if (weighted) obs.weight = weight;
  return { obs, truth, noise, convention };
}

/** J(θ) = -(1/N)Σ w ℓ + penalty, evaluated through the likelihood wrapper. */
function objectiveOf(s: Synthetic, theta: Float64Array, penalty: Penalty | undefined, normalize: 'mean' | 'sum' = 'mean', est = false): number {
  const N = normalize === 'sum' ? 1 : (s.obs.weight ? s.obs.weight.reduce((a, b) => a + b, 0) : s.obs.n);
  let j = -censoredLogLikelihood(core, s.obs, theta, s.noise, { convention: s.convention, estimateScale: est }).value / N;
  if (penalty?.kind === 'l2norm') j += penalty.lambda * dist(theta.subarray(0, s.obs.d), penalty.center);
  if (penalty?.kind === 'quadratic') {
    const d = s.obs.d;
    let q = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) q += (theta[a] - penalty.center[a]) * penalty.precision[a * d + b] * (theta[b] - penalty.center[b]);
    j += 0.5 * q;
  }
  return j;
}

/** ∇ of the mean negative log-likelihood at θ (length d, or d + 1). */
function meanLossGradient(s: Synthetic, theta: Float64Array, est = false): Float64Array {
  const N = s.obs.weight ? s.obs.weight.reduce((a, b) => a + b, 0) : s.obs.n;
  return censoredLogLikelihood(core, s.obs, theta, s.noise, { convention: s.convention, gradient: true, estimateScale: est }).gradient!.map((g) => -g / N);
}

function twinNewton(s: Synthetic, opts: { radius?: number; penalty?: Penalty; normalize?: 'mean' | 'sum'; est?: boolean; start?: Float64Array; tol?: number }): { theta: Float64Array; info: Float64Array } {
  const { obs, noise } = s;
  const d = obs.d;
  const est = opts.est ?? false;
  const D = est ? d + 1 : d;
  const N = opts.normalize === 'sum' ? 1 : (obs.weight ? obs.weight.reduce((a, b) => a + b, 0) : obs.n);
  const pen = opts.penalty ?? { kind: 'none' };
  const theta = new Float64Array(D);
  if (opts.start) theta.set(opts.start);
  else {
    if (pen.kind !== 'none') theta.set(pen.center);
    if (est) theta[d] = Math.log(noise.scale);
  }
  const info = new Float64Array(4);
  twin.projectedNewton(
    obs.n, d, obs.x, obs.won, obs.price, obs.competitor, obs.weight ?? null, noise.family === 'gaussian' ? 0 : 1, noise.scale,
    s.convention === 'price' ? 0 : 1, est ? 1 : 0, N,
    pen.kind === 'none' ? 0 : pen.kind === 'l2norm' ? 1 : 2, pen.kind === 'none' ? null : pen.center,
    pen.kind === 'l2norm' ? pen.lambda : 0, pen.kind === 'quadratic' ? pen.precision : null,
    opts.radius ?? Infinity, 100, opts.tol ?? 1e-8, theta, new Float64Array(twin.newtonWorkSize(d)), info,
  );
  return { theta, info };
}

// ------------------------------------------------------------------------------------------------

describe('solvers: prox and projection (docs/math.md §6.3)', () => {
  const { prox, projection } = fixture;
  for (const [name, c] of Object.entries(cores)) {
    it(`${name}: prox of 0.2‖· - θ0‖ at (1, 0.5), θ0 = (0.4, 0.1) -> (0.8335899411, 0.3890599608)`, () => {
      const v = proxL2Ball(c, Float64Array.from(prox.y), Float64Array.from(prox.center), prox.tLambda, Infinity);
      for (let i = 0; i < 2; i++) {
        expect(Math.abs(v[i] - prox.expected[i])).toBeLessThan(1e-15);
        expect(Math.abs(v[i] - prox.math[i])).toBeLessThan(1e-10);
      }
    });
    it(`${name}: Π_2((3, 4)) = (1.2, 1.6)`, () => {
      const v = proxL2Ball(c, Float64Array.from(projection.y), new Float64Array(2), 0, projection.radius);
      expect(Math.abs(v[0] - 1.2)).toBeLessThan(1e-15);
      expect(Math.abs(v[1] - 1.6)).toBeLessThan(1e-15);
      expect(Math.abs(v[0] - projection.expected[0]) + Math.abs(v[1] - projection.expected[1])).toBeLessThan(1e-15);
      expect(norm(v)).toBeLessThanOrEqual(2 * (1 + 1e-15));
    });
  }
  it('twin: the same two examples', () => {
    const out = new Float64Array(2);
    twin.proxL2Ball(2, Float64Array.from(prox.y), Float64Array.from(prox.center), prox.tLambda, Infinity, out);
    expect(Math.abs(out[0] - prox.expected[0]) + Math.abs(out[1] - prox.expected[1])).toBeLessThan(2e-15);
    twin.proxL2Ball(2, Float64Array.from(projection.y), null, 0, 2, out);
    expect(Math.abs(out[0] - projection.expected[0]) + Math.abs(out[1] - projection.expected[1])).toBeLessThan(1e-15);
  });
  it('the soft-threshold returns the centre exactly inside the threshold; inside the ball nothing moves', () => {
    const v = proxL2Ball(core, new Float64Array([0.5, 0.2]), new Float64Array([0.4, 0.1]), 0.2, 5);
    expect(Array.from(v)).toEqual([0.4, 0.1]);
    const w = proxL2Ball(core, new Float64Array([0.5, 0.2]), new Float64Array([0.4, 0.1]), 0, 5);
    expect(Array.from(w)).toEqual([0.5, 0.2]);
  });
});

// prox optimality when the ball is active: the exact prox beats every feasible point on the
// objective ½‖v - y‖² + tλ‖v - c‖; the naive "soft-threshold, then project" composition does not.
type Prox = (y: Float64Array, c: Float64Array, tl: number, W: number) => Float64Array;
const exactProx: Prox = (y, c, tl, W) => proxL2Ball(core, y, c, tl, W);
const naiveProx: Prox = (y, c, tl, W) => {
  const s = proxL2Ball(core, y, c, tl, Infinity);
  return proxL2Ball(core, s, new Float64Array(s.length), 0, W);
};
const vec3 = fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 });
function proxOptimality(prox: Prox) {
  return fc.property(vec3, vec3, fc.double({ min: 0.01, max: 2, noNaN: true }), fc.double({ min: 0.1, max: 3, noNaN: true }), vec3,
    (y, c, tl, W, dir) => {
      const Y = Float64Array.from(y);
      const C = Float64Array.from(c);
      const v = prox(Y, C, tl, W);
      const obj = (u: ArrayLike<number>) => 0.5 * dist(u, Y) ** 2 + tl * dist(u, C);
      if (norm(v) > W * (1 + 1e-12)) return false;
      // compare with feasible points around v (projected perturbations of several sizes)
      const f0 = obj(v);
      for (const h of [1e-1, 1e-2, 1e-3]) {
        const u = proxL2Ball(core, Float64Array.from(v, (e, i) => e + h * dir[i]), new Float64Array(3), 0, W);
        if (obj(u) < f0 - 1e-12 * (1 + f0)) return false;
      }
      return true;
    });
}
describe('solvers: prox of λ‖· - θ0‖ plus the ball (fast-check)', () => {
  it('the exact prox is optimal against feasible perturbations', () => {
    fc.assert(proxOptimality(exactProx), { numRuns: 500, seed: 11 });
  });
  it('companion: "soft-threshold then project" fails the same property', () => {
    expect(fc.check(proxOptimality(naiveProx), { numRuns: 500, seed: 11 }).failed).toBe(true);
  });
  it('WASM and twin agree when the ball is active', () => {
    const R = rng(77);
    for (let k = 0; k < 200; k++) {
      const y = Float64Array.from({ length: 5 }, () => 6 * R() - 3);
      const c = Float64Array.from({ length: 5 }, () => 4 * R() - 2);
      const tl = 2 * R();
      const W = 0.2 + 2 * R();
      const a = proxL2Ball(core, y, c, tl, W);
      const b = proxL2Ball(cores.scalar, y, c, tl, W);
      const t = new Float64Array(5);
      twin.proxL2Ball(5, y, c, tl, W, t);
      expect(Array.from(a)).toEqual(Array.from(b));
      for (let i = 0; i < 5; i++) expect(Math.abs(a[i] - t[i])).toBeLessThanOrEqual(1e-14 * (1 + Math.abs(t[i])));
    }
  });
});

// ------------------------------------------------------------------------------------------------

const CHI2_999: Record<number, number> = { 8: 26.12, 9: 27.88 };

describe('solvers: Newton reaches the MLE of synthetic data with known θ (n = 20000, d = 8)', () => {
  const cases: [string, NoiseSpec, Convention, boolean][] = [
    ['gaussian σ=0.5, price convention', { family: 'gaussian', scale: 0.5 }, 'price', false],
    ['logistic s=0.3, yield convention, weighted', { family: 'logistic', scale: 0.3 }, 'yield', true],
  ];
  let seed = 1;
  for (const [label, noise, conv, weighted] of cases) {
    const s = seed++;
    it(`${label}: converged; (θ̂-θ)ᵀ I (θ̂-θ) below the χ²(8) 99.9% quantile`, () => {
      const syn = synthetic(s, 20000, 8, noise, conv, weighted);
      const r = fitNewton(core, syn.obs, noise, { convention: conv });
      expect(r.converged).toBe(true);
      expect(r.gradNorm).toBeLessThan(1e-8);
      expect(r.iterations).toBeLessThan(20);
      // observed information of the weighted sum (weights are frequency weights here)
      const info = observedInformation(core, syn.obs, r.theta, noise, { convention: conv });
      const e = r.theta.map((v, j) => v - syn.truth[j]);
      let m = 0;
      for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) m += e[a] * info[a * 8 + b] * e[b];
      expect(m).toBeLessThan(CHI2_999[8]);
      // the gradient of J vanishes at the unconstrained optimum
      expect(norm(meanLossGradient(syn, r.theta))).toBeLessThan(1e-8);
      expect(r.objective).toBeCloseTo(objectiveOf(syn, r.theta, undefined), 12);
    });
  }

  it('estimateScale: (θ̂, log σ̂) within the χ²(9) 99.9% ellipsoid of the truth', () => {
    const noise: NoiseSpec = { family: 'gaussian', scale: 0.5 };
    const syn = synthetic(3, 20000, 8, noise);
    // start from a wrong scale
    const r = fitNewton(core, syn.obs, { family: 'gaussian', scale: 2 }, { estimateScale: true });
    expect(r.converged).toBe(true);
    expect(r.logScale).toBeDefined();
    const full = Float64Array.from([...r.theta, r.logScale!]);
    const info = observedInformation(core, syn.obs, full, noise, { estimateScale: true });
    const e = Float64Array.from([...syn.truth, Math.log(0.5)].map((v, j) => full[j] - v));
    let m = 0;
    for (let a = 0; a < 9; a++) for (let b = 0; b < 9; b++) m += e[a] * info[a * 9 + b] * e[b];
    expect(m).toBeLessThan(CHI2_999[9]);
    expect(norm(meanLossGradient(syn, full, true))).toBeLessThan(1e-8);
    // the standard error of log σ from the inverse information is sensible (~ 1/sqrt(n))
    const cov = inverseSpd(info, 9);
    expect(Math.sqrt(cov[80])).toBeGreaterThan(1e-3);
    expect(Math.sqrt(cov[80])).toBeLessThan(2e-2);
  });
});

describe('solvers: stage-II exact shrinkage (docs/math.md §1.8)', () => {
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.5 };
  const syn = synthetic(21, 400, 4, noise);
  const center = Float64Array.from(syn.truth, (v, j) => v + (j % 2 ? 0.05 : -0.04));
  const gNorm = norm(meanLossGradient(syn, center));

  it('λ ≥ ‖∇L(θ0)‖ returns θ0 exactly', () => {
    for (const c of Object.values(cores)) {
      const r = fitNewton(c, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: gNorm * (1 + 1e-9) }, radius: 3, start: new Float64Array(4) });
      expect(Array.from(r.theta)).toEqual(Array.from(center));
      expect(r.iterations).toBe(0);
      expect(r.converged).toBe(true);
      expect(r.gradNorm).toBe(0);
    }
  });

  it('a slightly smaller λ moves off θ0 to a lower objective', () => {
    const pen: Penalty = { kind: 'l2norm', center, lambda: gNorm * 0.99 };
    const r = fitNewton(core, syn.obs, noise, { penalty: pen, radius: 3 });
    expect(r.converged).toBe(true);
    expect(dist(r.theta, center)).toBeGreaterThan(1e-6);
    expect(r.objective).toBeLessThan(objectiveOf(syn, center, pen));
    // optimality of the non-smooth problem off the kink: ∇L(θ̂) = -λ (θ̂-θ0)/‖θ̂-θ0‖
    const g = meanLossGradient(syn, r.theta);
    const dn = dist(r.theta, center);
    for (let j = 0; j < 4; j++) expect(Math.abs(g[j] + pen.lambda * (r.theta[j] - center[j]) / dn)).toBeLessThan(1e-7);
  });

  it('with estimateScale: log σ is fitted at θ0 and the θ-block is θ0 exactly', () => {
    const full = Float64Array.from([...center, Math.log(0.5)]);
    // ‖∇_θ L‖ at θ0 with log σ profiled out: fit once with a huge λ to find the profile scale
    const big = fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: 1e6 }, estimateScale: true, start: full });
    expect(Array.from(big.theta)).toEqual(Array.from(center));
    const prof = Float64Array.from([...center, big.logScale!]);
    const g = meanLossGradient(syn, prof, true);
    expect(Math.abs(g[4])).toBeLessThan(1e-8);
    const gn = norm(g.subarray(0, 4));
    const at = fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: gn * 1.001 }, estimateScale: true });
    expect(Array.from(at.theta)).toEqual(Array.from(center));
    expect(at.converged).toBe(true);
    const off = fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: gn * 0.98 }, estimateScale: true });
    expect(off.converged).toBe(true);
    expect(dist(off.theta, center)).toBeGreaterThan(1e-6);
  });

  it('λ = 0 gives the individual MLE; a huge λ gives θ0', () => {
    const mle = fitNewton(core, syn.obs, noise, {});
    const zero = fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: 0 } });
    expect(dist(zero.theta, mle.theta)).toBeLessThan(1e-8);
    const huge = fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center, lambda: 1e3 } });
    expect(Array.from(huge.theta)).toEqual(Array.from(center));
  });
});

describe('solvers: the ball constraint (docs/math.md §1.6)', () => {
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.5 };
  const syn = synthetic(31, 3000, 5, noise);

  it('an active constraint: ‖θ̂‖ = W and -∇J points along θ̂ (KKT)', () => {
    const free = fitNewton(core, syn.obs, noise, {});
    const W = 0.6 * norm(free.theta);
    const r = fitNewton(core, syn.obs, noise, { radius: W });
    expect(r.converged).toBe(true);
    expect(norm(r.theta)).toBeLessThanOrEqual(W * (1 + 1e-12));
    expect(norm(r.theta)).toBeGreaterThan(W * (1 - 1e-9));
    const g = meanLossGradient(syn, r.theta);
    const cos = -Array.from(g).reduce((s, v, j) => s + v * r.theta[j], 0) / (norm(g) * norm(r.theta));
    expect(cos).toBeGreaterThan(1 - 1e-9);
  });

  it('all rows lost: no unconstrained MLE, the constrained one sits on the sphere', () => {
    for (const conv of ['price', 'yield'] as const) {
      const lost: Synthetic = { ...syn, convention: conv, obs: { ...syn.obs, won: new Float64Array(syn.obs.n) } };
      const r = fitNewton(core, lost.obs, noise, { radius: 2, convention: conv });
      expect(r.converged).toBe(true);
      expect(norm(r.theta)).toBeLessThanOrEqual(2 * (1 + 1e-12));
      expect(norm(r.theta)).toBeGreaterThan(2 * (1 - 1e-9));
      expect(Number.isFinite(r.objective)).toBe(true);
      // every other feasible point on a few rays is no better
      const R = rng(5);
      for (let k = 0; k < 20; k++) {
        const u = Float64Array.from({ length: 5 }, () => 2 * R() - 1);
        const p = Float64Array.from(u, (v) => (2 * R() * v) / norm(u));
        expect(objectiveOf(lost, p, undefined)).toBeGreaterThanOrEqual(r.objective - 1e-12);
      }
    }
  });

  it('an infeasible start is projected; W = Infinity is no constraint', () => {
    const r = fitNewton(core, syn.obs, noise, { radius: 0.5, start: new Float64Array([10, 10, 10, 10, 10]) });
    expect(norm(r.theta)).toBeLessThanOrEqual(0.5 * (1 + 1e-12));
    const a = fitNewton(core, syn.obs, noise, { radius: Infinity });
    const b = fitNewton(core, syn.obs, noise, {});
    expect(Array.from(a.theta)).toEqual(Array.from(b.theta));
  });
});

// fitted θ̂ is feasible and no worse than random feasible points; the companion ignores the ball
type Fit = (s: Synthetic, W: number) => SolverResult;
const constrainedFit: Fit = (s, W) => fitNewton(core, s.obs, s.noise, { radius: W });
const unconstrainedFit: Fit = (s) => fitNewton(core, s.obs, s.noise, {});
function constrainedOptimality(fit: Fit) {
  return fc.property(fc.integer({ min: 1, max: 1 << 30 }), fc.double({ min: 0.2, max: 2, noNaN: true }), fc.constantFrom('gaussian' as const, 'logistic' as const),
    (seed, W, family) => {
      const s = synthetic(seed, 200, 3, { family, scale: 0.4 });
      const r = fit(s, W);
      if (!(norm(r.theta) <= W * (1 + 1e-12))) return false;
      const j0 = objectiveOf(s, r.theta, undefined);
      const R = rng(seed ^ 0x55);
      for (let k = 0; k < 10; k++) {
        const p = Float64Array.from(r.theta, (v) => v + 0.1 * (2 * R() - 1));
        const q = proxL2Ball(core, p, new Float64Array(3), 0, W);
        if (objectiveOf(s, q, undefined) < j0 - 1e-10) return false;
      }
      return true;
    });
}
describe('solvers: constrained optimality (fast-check)', () => {
  it('Newton with radius W returns a feasible point no worse than nearby feasible points', () => {
    fc.assert(constrainedOptimality(constrainedFit), { numRuns: 40, seed: 5 });
  });
  it('companion: the unconstrained fit fails the same property (it leaves the ball)', () => {
    expect(fc.check(constrainedOptimality(unconstrainedFit), { numRuns: 40, seed: 5 }).failed).toBe(true);
  });
});

describe('solvers: quadratic penalty = Gaussian prior (docs/math.md §5.3, §6.7 cold start)', () => {
  const cs = fixture.coldStart;
  const obs: ObservationColumns = {
    n: 3, d: 2, x: Float64Array.from(cs.x), won: new Float64Array([1, 1, 1]), price: Float64Array.from(cs.y, (v) => v - 1),
    competitor: Float64Array.from(cs.y),
  };
  const penalty: Penalty = { kind: 'quadratic', center: Float64Array.from(cs.theta0), precision: Float64Array.from(cs.precision) };
  for (const [name, c] of Object.entries(cores)) {
    it(`${name}: all rows won, Gaussian σ = 0.5, P = Σ0⁻¹, 'sum' -> posterior mean (1.1335526316, -0.5855263158)`, () => {
      const r = fitNewton(c, obs, { family: 'gaussian', scale: cs.sigma }, { penalty, normalize: 'sum' });
      expect(r.converged).toBe(true);
      for (let j = 0; j < 2; j++) {
        expect(Math.abs(r.theta[j] - cs.posteriorMean[j])).toBeLessThan(1e-12);
        expect(Math.abs(r.theta[j] - cs.math[j])).toBeLessThan(1e-10);
      }
      // Σ_post = (Fisher + Σ0⁻¹)⁻¹ of docs/math.md §6.7
      const info = observedInformation(c, obs, r.theta, { family: 'gaussian', scale: cs.sigma });
      expect(Array.from(info).map((v) => Math.round(v * 1e10) / 1e10)).toEqual([12, 1.6, 1.6, 2.24]);
      const post = inverseSpd(info.map((v, i) => v + cs.precision[i]), 2);
      expect(Math.abs(post[0] - 0.0641447368)).toBeLessThan(1e-10);
      expect(Math.abs(post[1] + 0.0164473684)).toBeLessThan(1e-10);
      expect(Math.abs(post[3] - 0.1644736842)).toBeLessThan(1e-10);
    });
  }
  it("'mean' normalisation is the same MAP with the precision scaled by 1/N", () => {
    const a = fitNewton(core, obs, { family: 'gaussian', scale: 0.5 }, { penalty, normalize: 'sum' });
    const b = fitNewton(core, obs, { family: 'gaussian', scale: 0.5 }, {
      penalty: { ...penalty, precision: penalty.precision.map((v) => v / 3) }, normalize: 'mean',
    });
    expect(dist(a.theta, b.theta)).toBeLessThan(1e-12);
  });
});

describe('solvers: WASM (simd, scalar) vs TS twin', () => {
  const noise: NoiseSpec = { family: 'logistic', scale: 0.4 };
  const syn = synthetic(41, 600, 4, noise, 'price', true);
  const center = Float64Array.from(syn.truth, (v) => v * 0.8);
  const variants: [string, { radius?: number; penalty?: Penalty; normalize?: 'mean' | 'sum'; est?: boolean }][] = [
    ['unconstrained', {}],
    ['ball', { radius: 0.7 }],
    ['l2norm + ball', { radius: 0.9, penalty: { kind: 'l2norm', center, lambda: 0.01 } }],
    ['quadratic, sum', { penalty: { kind: 'quadratic', center, precision: Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 30 : 2)) }, normalize: 'sum' }],
    ['estimateScale + ball', { radius: 0.8, est: true }],
  ];
  for (const [label, o] of variants) {
    it(label, () => {
      // a tight tolerance: exp/log differ by an ulp between WASM and V8, so the two paths agree to
      // the accuracy of the solution, not bit for bit
      const t = twinNewton(syn, { ...o, tol: 1e-12 });
      for (const c of Object.values(cores)) {
        const r = fitNewton(c, syn.obs, noise, { radius: o.radius, penalty: o.penalty, normalize: o.normalize, estimateScale: o.est, tol: 1e-12 });
        expect(r.converged).toBe(true);
        expect(t.info[2]).toBe(1);
        for (let j = 0; j < 4; j++) expect(Math.abs(r.theta[j] - t.theta[j])).toBeLessThan(1e-10);
        if (o.est) expect(Math.abs(r.logScale! - t.theta[4])).toBeLessThan(1e-10);
        expect(Math.abs(r.objective - t.info[3])).toBeLessThanOrEqual(1e-12 * Math.abs(t.info[3]));
      }
    });
  }
});

describe('solvers: projected AdaGrad SGD with averaging', () => {
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.1 };
  const syn = synthetic(51, 2000, 4, noise);
  const newton = fitNewton(core, syn.obs, noise, {});

  it('ends within 1e-3 of the Newton solution (500 epochs, two seeds)', () => {
    for (const seed of [1, 2]) {
      const s = fitSgd(core, syn.obs, noise, { epochs: 500, seed });
      expect(dist(s.theta, newton.theta)).toBeLessThan(1e-3);
      expect(s.iterations).toBe(500 * 2000);
      expect(s.objective).toBeGreaterThanOrEqual(newton.objective - 1e-12);
      expect(s.objective - newton.objective).toBeLessThan(1e-5);
    }
  });

  it('same seed, same result; another seed, another path', () => {
    const a = fitSgd(core, syn.obs, noise, { epochs: 3, seed: 7 });
    const b = fitSgd(core, syn.obs, noise, { epochs: 3, seed: 7 });
    const c = fitSgd(cores.scalar, syn.obs, noise, { epochs: 3, seed: 7 });
    const d = fitSgd(core, syn.obs, noise, { epochs: 3, seed: 8 });
    expect(Array.from(b.theta)).toEqual(Array.from(a.theta));
    expect(Array.from(c.theta)).toEqual(Array.from(a.theta));
    expect(dist(a.theta, d.theta)).toBeGreaterThan(0);
  });

  it('matches the TS twin (same generator, same steps)', () => {
    const { obs } = syn;
    for (const pen of [{ kind: 'none' } as Penalty, { kind: 'l2norm', center: newton.theta.map((v) => v + 0.1), lambda: 0.05 } as Penalty,
      { kind: 'quadratic', center: new Float64Array(4), precision: Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 0.5 : 0.1)) } as Penalty]) {
      const r = fitSgd(core, obs, noise, { epochs: 2, seed: 99, radius: 1.5, penalty: pen, eta: 0.2 });
      const theta = pen.kind === 'none' ? new Float64Array(4) : Float64Array.from(pen.center);
      const info = new Float64Array(4);
      twin.projectedSgd(obs.n, 4, obs.x, obs.won, obs.price, obs.competitor, null, 0, 0.1, 0, obs.n,
        pen.kind === 'none' ? 0 : pen.kind === 'l2norm' ? 1 : 2, pen.kind === 'none' ? null : pen.center,
        pen.kind === 'l2norm' ? pen.lambda : 0, pen.kind === 'quadratic' ? pen.precision : null, 1.5, 2, 0.2, 99, 1e-3,
        theta, new Float64Array(twin.sgdWorkSize(4)), info);
      for (let j = 0; j < 4; j++) expect(Math.abs(r.theta[j] - theta[j])).toBeLessThan(1e-12);
      expect(Math.abs(r.objective - info[3])).toBeLessThan(1e-12 * Math.abs(info[3]));
    }
  });

  it('stays in the ball and approaches the constrained Newton solution; quadratic penalty too', () => {
    const W = 0.6 * norm(newton.theta);
    const nb = fitNewton(core, syn.obs, noise, { radius: W });
    const sb = fitSgd(core, syn.obs, noise, { radius: W, epochs: 200, seed: 3 });
    expect(norm(sb.theta)).toBeLessThanOrEqual(W * (1 + 1e-12));
    expect(dist(sb.theta, nb.theta)).toBeLessThan(1e-3);
    const pen: Penalty = { kind: 'quadratic', center: new Float64Array(4), precision: Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 0.3 : 0)) };
    const nq = fitNewton(core, syn.obs, noise, { penalty: pen });
    const sq = fitSgd(core, syn.obs, noise, { penalty: pen, epochs: 200, seed: 3 });
    expect(dist(sq.theta, nq.theta)).toBeLessThan(1e-3);
  });
});

describe('solvers: validation', () => {
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.5 };
  const syn = synthetic(61, 20, 3, noise);
  it('names the option and value', () => {
    expect(() => fitNewton(core, syn.obs, noise, { radius: 0 })).toThrow(/radius must be a number > 0 \(Infinity allowed\), got 0/);
    expect(() => fitNewton(core, syn.obs, noise, { radius: NaN })).toThrow(/radius/);
    expect(() => fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center: new Float64Array(2), lambda: 1 } })).toThrow(/penalty\.center must have length 3/);
    expect(() => fitNewton(core, syn.obs, noise, { penalty: { kind: 'l2norm', center: new Float64Array(3), lambda: -1 } })).toThrow(/penalty\.lambda must be a finite number >= 0, got -1/);
    expect(() => fitNewton(core, syn.obs, noise, { penalty: { kind: 'quadratic', center: new Float64Array(3), precision: Float64Array.from([1, 2, 0, 0, 1, 0, 0, 0, 1]) } })).toThrow(/precision must be symmetric; entry \(0,1\) = 2 but \(1,0\) = 0/);
    expect(() => fitNewton(core, syn.obs, noise, { penalty: { kind: 'ridge' } as unknown as Penalty })).toThrow(/penalty\.kind must be/);
    expect(() => fitNewton(core, syn.obs, noise, { start: new Float64Array(3), estimateScale: true })).toThrow(/start must have length 4 \(d \+ 1 = 4: θ then log σ\), got 3/);
    expect(() => fitNewton(core, syn.obs, noise, { normalize: 'median' as 'mean' })).toThrow(/normalize must be "mean" or "sum", got "median"/);
    expect(() => fitNewton(core, syn.obs, noise, { maxIter: 1.5 })).toThrow(/maxIter must be an integer >= 0, got 1\.5/);
    expect(() => fitNewton(core, syn.obs, noise, { tol: 0 })).toThrow(/tol must be a finite number > 0, got 0/);
    expect(() => fitNewton(core, { ...syn.obs, weight: new Float64Array(20) }, noise, {})).toThrow(/positive total weight, got 0/);
    expect(() => fitSgd(core, syn.obs, noise, { epochs: 0 })).toThrow(/epochs must be an integer >= 1, got 0/);
    expect(() => fitSgd(core, syn.obs, noise, { eta: -1 })).toThrow(/eta must be a finite number > 0, got -1/);
    expect(() => fitSgd(core, syn.obs, noise, { seed: 0.5 })).toThrow(/seed must be an integer, got 0\.5/);
    const won = syn.obs.won.slice();
    won[2] = 2;
    expect(() => fitSgd(core, { ...syn.obs, won }, noise, {})).toThrow(/fitSgd: obs\.won\[2\] must be 0 or 1, got 2/);
  });
  it('maxIter = 0 reports the start without converging', () => {
    const r = fitNewton(core, syn.obs, noise, { maxIter: 0 });
    expect(r.iterations).toBe(0);
    expect(r.converged).toBe(false);
    expect(Array.from(r.theta)).toEqual([0, 0, 0]);
    expect(r.gradNorm).toBeGreaterThan(0);
  });
});
