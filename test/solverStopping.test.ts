/**
 * Stopping rule of the projected / proximal Newton solver (assembly/solvers.ts projectedNewton and
 * its twin): when the tolerance is below the rounding floor of the stationarity measure, the
 * iteration stops once the line search can no longer lower the objective, instead of running to
 * maxIter; and the exact ball-constrained Newton step (ballNewton) for unpenalised fits.
 */
import { describe, it, expect } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { censoredLogLikelihood, type ObservationColumns } from '../src/core/likelihood.js';
import { fitNewton, type Penalty, type SolverResult } from '../src/core/solvers.js';
import * as twin from '../src/core/twin/solvers.js';
import type { NoiseSpec } from '../src/core/validate.js';
import { Rng } from '../src/sim/random.js';

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const core = cores.simd;

/** y = xᵀθ + σz, x = (1, N(0,1)...), our price = xᵀθ + σ(U - 0.3), won iff price <= y. */
function synth(seed: number, n: number, D: number, sigma: number, featureScale = 1): { obs: ObservationColumns; theta: Float64Array } {
  const rng = new Rng(seed);
  const theta = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.5 * rng.normal()));
  const x = new Float64Array(n * D);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    x[r * D] = 1;
    for (let j = 1; j < D; j++) x[r * D + j] = featureScale * rng.normal();
    let u = 0;
    for (let j = 0; j < D; j++) u += x[r * D + j] * theta[j];
    const y = u + sigma * rng.normal();
    price[r] = u + sigma * (rng.uniform() - 0.3);
    won[r] = price[r] <= y ? 1 : 0;
    competitor[r] = won[r] ? y : NaN;
  }
  return { obs: { n, d: D, x, won, price, competitor }, theta };
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, e) => s + e * e, 0));
const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.sqrt(Array.from(a).reduce((s, e, i) => s + (e - b[i]) ** 2, 0));

/** The next double above a positive finite x (one ulp). */
function nextUp(x: number): number {
  const b = new BigInt64Array(Float64Array.of(x).buffer);
  b[0] += 1n;
  return new Float64Array(b.buffer)[0];
}

/** Mean loss gradient and Hessian at θ. */
function meanDerivs(obs: ObservationColumns, theta: Float64Array, noise: NoiseSpec): { g: Float64Array; H: Float64Array } {
  const r = censoredLogLikelihood(core, obs, theta, noise, { gradient: true, hessian: true });
  return { g: r.gradient!.map((v) => -v / obs.n), H: r.hessian!.map((v) => -v / obs.n) };
}

/**
 * The documented rounding floor FLOOR_REL·(Lm‖θ‖ + ‖g‖) with the Gershgorin bound of H for Lm
 * (the solver's Lm is at most that bound) and g the gradient of J (smooth part + λ-penalty
 * subgradient are both below ‖g_smooth‖ + λ).
 */
function floorBound(obs: ObservationColumns, theta: Float64Array, noise: NoiseSpec, lambda: number): number {
  const { g, H } = meanDerivs(obs, theta, noise);
  const D = obs.d;
  let gersh = 0;
  for (let a = 0; a < D; a++) {
    let s = 0;
    for (let b = 0; b < D; b++) s += Math.abs(H[a * D + b]);
    gersh = Math.max(gersh, s);
  }
  return 1e-13 * (gersh * norm(theta) + norm(g) + lambda);
}

function twinFit(obs: ObservationColumns, noise: NoiseSpec, pen: Penalty, radius: number, tol: number): { theta: Float64Array; info: Float64Array } {
  const d = obs.d;
  const theta = pen.kind === 'l2norm' ? Float64Array.from(pen.center) : new Float64Array(d);
  const info = new Float64Array(4);
  twin.projectedNewton(
    obs.n, d, obs.x, obs.won, obs.price, obs.competitor, null, noise.family === 'gaussian' ? 0 : 1, noise.scale, 0, 0, obs.n,
    pen.kind === 'l2norm' ? 1 : 0, pen.kind === 'l2norm' ? pen.center : null, pen.kind === 'l2norm' ? pen.lambda : 0, null,
    radius, 100, tol, theta, new Float64Array(twin.newtonWorkSize(d)), info,
  );
  return { theta, info };
}

describe('projectedNewton stops at the rounding floor instead of running to maxIter', () => {
  // σ = 0.002: gradients of the mean loss are O(1/σ) and curvatures O(1/σ²), so ‖G‖ cannot be
  // resolved below ~1e-11 here; tol = 1e-13 is unreachable. Before the stopping rule this l2norm
  // fit took all 100 iterations (each step accepted only through the rounding allowance of Armijo).
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.002 };
  const { obs, theta: truth } = synth(1, 100, 20, noise.scale);
  const center = Float64Array.from(truth, (v, j) => v + 0.2 * Math.sin(j + 1));
  const pen: Penalty = { kind: 'l2norm', center, lambda: 0.01 };
  const W = 100;
  const reference = fitNewton(core, obs, noise, { penalty: pen, radius: W, tol: 1e-8 });

  it('reference fit with a reachable tolerance converges', () => {
    expect(reference.converged).toBe(true);
    expect(reference.iterations).toBeLessThan(20);
  });

  for (const [name, c] of Object.entries(cores)) {
    it(`${name}: an unreachable tol (1e-13) stops in few iterations with the same optimum, flagged converged at the floor`, () => {
      const r = fitNewton(c, obs, noise, { penalty: pen, radius: W, tol: 1e-13, maxIter: 100 });
      expect(r.iterations).toBeLessThan(reference.iterations + 10);
      expect(r.converged).toBe(true);
      expect(r.gradNorm).toBeLessThanOrEqual(floorBound(obs, r.theta, noise, pen.lambda));
      expect(dist(r.theta, reference.theta)).toBeLessThan(1e-9 * norm(reference.theta));
      expect(r.objective).toBeLessThanOrEqual(reference.objective + 1e-13 * (1 + Math.abs(reference.objective)));
    });
  }

  it('a 1e-16 change of the centre changes neither the iteration count much nor the optimum', () => {
    const moved = Float64Array.from(center, (v, j) => (j === 0 ? nextUp(v) : v));
    expect(moved[0] - center[0]).toBeGreaterThan(0);
    expect(moved[0] - center[0]).toBeLessThan(1e-15);
    const a = fitNewton(core, obs, noise, { penalty: pen, radius: W, tol: 1e-13 });
    const b = fitNewton(core, obs, noise, { penalty: { ...pen, center: moved }, radius: W, tol: 1e-13 });
    expect(b.iterations).toBeLessThan(reference.iterations + 10);
    expect(Math.abs(b.iterations - a.iterations)).toBeLessThanOrEqual(5);
    expect(dist(a.theta, b.theta)).toBeLessThan(1e-9 * norm(a.theta));
  });

  it('the TS twin stops the same way and agrees with WASM', () => {
    const t = twinFit(obs, noise, pen, W, 1e-13);
    const r = fitNewton(core, obs, noise, { penalty: pen, radius: W, tol: 1e-13 });
    expect(t.info[0]).toBeLessThan(reference.iterations + 10);
    expect(t.info[2]).toBe(1);
    expect(dist(t.theta, r.theta)).toBeLessThan(1e-9 * norm(r.theta));
  });

  it('unpenalised with an unreachable tol: stops early too (used to run to maxIter)', () => {
    const big = synth(1, 5000, 31, noise.scale);
    const ref = fitNewton(core, big.obs, noise, { tol: 1e-8 });
    const r = fitNewton(core, big.obs, noise, { tol: 1e-14 });
    expect(r.iterations).toBeLessThan(ref.iterations + 10);
    expect(r.converged).toBe(true);
    expect(r.gradNorm).toBeLessThanOrEqual(floorBound(big.obs, r.theta, noise, 0));
    expect(dist(r.theta, ref.theta)).toBeLessThan(1e-9 * norm(ref.theta));
  });

  it('maxIter still bounds the iterations and then reports not converged', () => {
    const r = fitNewton(core, obs, noise, { penalty: pen, radius: W, tol: 1e-13, maxIter: 2 });
    expect(r.iterations).toBe(2);
    expect(r.converged).toBe(false);
  });
});

describe('ball-constrained unpenalised Newton step is exact (fewer rows than coefficients)', () => {
  // 20 rows, 31 coefficients: H has rank ≤ 20, the unconstrained Newton point flies out of the
  // ball and the step is the exact minimiser of the quadratic model on the ball (secular equation)
  const noise: NoiseSpec = { family: 'gaussian', scale: 0.1 };
  const D = 31;
  const { obs } = synth(7, 20, D, noise.scale, 1 / Math.sqrt(30));
  const W = 1.5;

  function kkt(r: SolverResult): number {
    // on the sphere, -∇J must point along θ̂: 1 - cos(-∇J, θ̂)
    const { g } = meanDerivs(obs, r.theta, noise);
    const dot = -Array.from(g).reduce((s, v, j) => s + v * r.theta[j], 0);
    return 1 - dot / (norm(g) * norm(r.theta));
  }

  for (const [name, c] of Object.entries(cores)) {
    it(`${name}: converges on the sphere with the KKT conditions at tol 1e-10`, () => {
      const r = fitNewton(c, obs, noise, { radius: W, tol: 1e-10 });
      expect(r.converged).toBe(true);
      expect(r.iterations).toBeLessThan(40);
      expect(norm(r.theta)).toBeLessThanOrEqual(W * (1 + 1e-12));
      expect(norm(r.theta)).toBeGreaterThan(W * (1 - 1e-9));
      expect(kkt(r)).toBeLessThan(1e-9);
    });
  }

  it('twin agrees with WASM (objective to rounding, θ to 1e-8: the optimum is flat along the null space)', () => {
    const r = fitNewton(core, obs, noise, { radius: W, tol: 1e-10 });
    const t = twinFit(obs, noise, { kind: 'none' }, W, 1e-10);
    expect(t.info[2]).toBe(1);
    expect(Math.abs(t.info[3] - r.objective)).toBeLessThanOrEqual(1e-12 * Math.abs(r.objective));
    expect(dist(t.theta, r.theta)).toBeLessThan(1e-8);
  });

  it('no feasible point on random rays does better', () => {
    const r = fitNewton(core, obs, noise, { radius: W, tol: 1e-10 });
    const rng = new Rng(3);
    for (let k = 0; k < 30; k++) {
      const p = Float64Array.from(r.theta, (v) => v + 0.05 * rng.normal());
      const np = norm(p);
      if (np > W) p.forEach((v, j) => (p[j] = (v * W) / np));
      const j = -censoredLogLikelihood(core, obs, p, noise).value / obs.n;
      expect(j).toBeGreaterThanOrEqual(r.objective - 1e-12);
    }
  });
});
