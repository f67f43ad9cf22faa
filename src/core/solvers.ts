/**
 * Typed wrappers of the solvers (assembly/solvers.ts): the ball-constrained, optionally penalised
 * censored MLE of docs/math.md §1.8 (stage I: no penalty; stage II: λ‖θ - θ0‖₂) and the MAP estimate
 * under a Gaussian prior of docs/math.md §5.3 (quadratic penalty).
 *
 *   J(θ) = -(1/N)·Σ w_t ℓ_t(θ) + penalty(θ),  ‖θ‖ ≤ radius,  N = Σ w ('mean') or 1 ('sum').
 */
import type { WasmCore } from './wasm.js';
import { checkNoise, conventionCode, type Convention, type NoiseSpec } from './validate.js';
import { checkObservations, checkTheta, observationPointers, type ObservationColumns } from './likelihood.js';

// Standard errors of a fit: the observed information and its Cholesky inverse live beside the
// likelihood; re-exported here because callers reach for them together with the solvers.
export { observedInformation, standardErrors, inverseSpd } from './likelihood.js';

export type Penalty =
  | { kind: 'none' }
  | { kind: 'l2norm'; center: Float64Array; lambda: number }
  | { kind: 'quadratic'; center: Float64Array; precision: Float64Array };

export interface SolverResult {
  theta: Float64Array;
  /** log σ, with estimateScale */
  logScale?: number;
  /** Newton steps taken (SGD: stochastic steps) */
  iterations: number;
  /** norm of the prox-gradient mapping of J (plain ‖∇J‖ when unconstrained and unpenalised by λ) */
  gradNorm: number;
  converged: boolean;
  /** J at the returned point */
  objective: number;
}

export interface NewtonOptions {
  /** ball radius W (docs/math.md §1.6); default Infinity (no constraint) */
  radius?: number;
  penalty?: Penalty;
  normalize?: 'mean' | 'sum';
  /** start (length d, or d + 1 with estimateScale); default: the penalty centre (or 0), log σ = log noise.scale */
  start?: Float64Array;
  maxIter?: number;
  tol?: number;
  convention?: Convention;
  /** also fit log σ (unconstrained, unpenalised) */
  estimateScale?: boolean;
}

export interface SgdOptions {
  radius?: number;
  /** passes over the data: steps = epochs·n; default 20 */
  epochs?: number;
  /** AdaGrad base step; default 0.1 */
  eta?: number;
  /** 32-bit seed of the row sampler; default 1 */
  seed?: number;
  start?: Float64Array;
  penalty?: Penalty;
  normalize?: 'mean' | 'sum';
  convention?: Convention;
  /** converged when the prox-gradient mapping norm at the average is below tol; default 1e-3 */
  tol?: number;
}

export interface PenaltyCodes {
  kind: number;
  center?: Float64Array;
  lambda: number;
  precision?: Float64Array;
}

function checkPenalty(fn: string, penalty: Penalty | undefined, d: number): PenaltyCodes {
  if (penalty === undefined) return { kind: 0, lambda: 0 };
  if (penalty === null || typeof penalty !== 'object') throw new TypeError(`${fn}: penalty must be an object, got ${String(penalty)}`);
  switch (penalty.kind) {
    case 'none':
      return { kind: 0, lambda: 0 };
    case 'l2norm': {
      const center = checkTheta(fn, 'penalty.center', penalty.center, d, `d = ${d}`);
      const lambda = penalty.lambda;
      if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
        throw new RangeError(`${fn}: penalty.lambda must be a finite number >= 0, got ${String(lambda)}`);
      }
      return { kind: 1, center, lambda };
    }
    case 'quadratic': {
      const center = checkTheta(fn, 'penalty.center', penalty.center, d, `d = ${d}`);
      const precision = checkTheta(fn, 'penalty.precision', penalty.precision, d * d, `d*d = ${d * d}, row-major`);
      for (let a = 0; a < d; a++) {
        for (let b = a + 1; b < d; b++) {
          const u = precision[a * d + b];
          const l = precision[b * d + a];
          if (Math.abs(u - l) > 1e-12 * (Math.abs(u) + Math.abs(l)) + 1e-300) {
            throw new RangeError(`${fn}: penalty.precision must be symmetric; entry (${a},${b}) = ${u} but (${b},${a}) = ${l}`);
          }
        }
        if (!(precision[a * d + a] >= 0)) throw new RangeError(`${fn}: penalty.precision diagonal (${a},${a}) must be >= 0, got ${precision[a * d + a]}`);
      }
      return { kind: 2, center, lambda: 0, precision };
    }
    default:
      throw new RangeError(`${fn}: penalty.kind must be "none", "l2norm" or "quadratic", got ${JSON.stringify((penalty as { kind: unknown }).kind)}`);
  }
}

function checkRadius(fn: string, radius: unknown): number {
  if (radius === undefined) return Infinity;
  if (typeof radius !== 'number' || Number.isNaN(radius) || !(radius > 0)) {
    throw new RangeError(`${fn}: radius must be a number > 0 (Infinity allowed), got ${String(radius)}`);
  }
  return radius;
}

function normaliser(fn: string, normalize: unknown, totalWeight: number): number {
  const mode = normalize ?? 'mean';
  if (mode !== 'mean' && mode !== 'sum') throw new RangeError(`${fn}: normalize must be "mean" or "sum", got ${JSON.stringify(mode)}`);
  if (mode === 'sum') return 1;
  if (!(totalWeight > 0)) throw new RangeError(`${fn}: normalize "mean" needs a positive total weight, got ${totalWeight}`);
  return totalWeight;
}

function posNumber(fn: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

function intOption(fn: string, name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${fn}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

function defaultStart(d: number, D: number, pen: PenaltyCodes, logScale: number): Float64Array {
  const s = new Float64Array(D);
  if (pen.center) s.set(pen.center);
  if (D > d) s[d] = logScale;
  return s;
}

/**
 * Ball-constrained (penalised) censored MLE by proximal / projected Newton (assembly/solvers.ts).
 * Exact shrinkage (docs/math.md §1.8): with an 'l2norm' penalty whose centre is inside the ball and
 * ‖∇L(centre)‖ ≤ λ, the centre is returned exactly.
 */
export function fitNewton(core: WasmCore, obs: ObservationColumns, noise: NoiseSpec, opts: NewtonOptions = {}): SolverResult {
  const fn = 'fitNewton';
  const { family, scale } = checkNoise(fn, noise);
  const { n, d, totalWeight } = checkObservations(fn, obs);
  const conv = conventionCode(fn, opts.convention ?? 'price');
  const a = newtonArgs(fn, d, Math.log(scale), totalWeight, opts);
  const size = core.k.newtonWorkSize(d);
  return core.arena.scoped(() => {
    const p = observationPointers(core, obs);
    const th = core.output(a.D);
    th.view().set(a.start);
    const work = core.output(size);
    const info = core.output(4);
    const pc = a.pen.center ? core.input(a.pen.center) : 0;
    const pp = a.pen.precision ? core.input(a.pen.precision) : 0;
    core.k.projectedNewton(
      n, d, p.x, p.won, p.price, p.comp, p.weight, family, scale, conv, a.est, a.N,
      a.pen.kind, pc, a.pen.lambda, pp, a.radius, a.maxIter, a.tol, th.ptr, work.ptr, info.ptr,
    );
    return solverResult(th.view(), info.view(), d, a.est === 1);
  });
}

/** The checked options of a Newton solve (fitNewton; the driven loop of src/core/newton.ts). */
export interface NewtonArgs {
  /** 1 with estimateScale */
  est: number;
  /** d (+1 with estimateScale) */
  D: number;
  radius: number;
  pen: PenaltyCodes;
  /** normaliser N of the objective */
  N: number;
  maxIter: number;
  tol: number;
  start: Float64Array;
}

/** Checks the options of a Newton solve over d features with this total weight and start log σ. */
export function newtonArgs(fn: string, d: number, logScale: number, totalWeight: number, opts: NewtonOptions): NewtonArgs {
  const est = opts.estimateScale === true;
  const D = est ? d + 1 : d;
  const radius = checkRadius(fn, opts.radius);
  const pen = checkPenalty(fn, opts.penalty, d);
  const N = normaliser(fn, opts.normalize, totalWeight);
  const maxIter = intOption(fn, 'maxIter', opts.maxIter, 100, 0);
  const tol = posNumber(fn, 'tol', opts.tol, 1e-8);
  const start = opts.start !== undefined
    ? checkTheta(fn, 'start', opts.start, D, est ? `d + 1 = ${D}: θ then log σ` : `d = ${d}`)
    : defaultStart(d, D, pen, logScale);
  return { est: est ? 1 : 0, D, radius, pen, N, maxIter, tol, start };
}

/** A SolverResult from the solver's θ (D entries) and info[4]. */
export function solverResult(t: Float64Array, inf: Float64Array, d: number, est: boolean): SolverResult {
  const res: SolverResult = {
    theta: t.slice(0, d),
    iterations: inf[0],
    gradNorm: inf[1],
    converged: inf[2] === 1,
    objective: inf[3],
  };
  if (est) res.logScale = t[d];
  return res;
}

/** Projected AdaGrad SGD with suffix averaging, seeded and reproducible (assembly/solvers.ts). */
export function fitSgd(core: WasmCore, obs: ObservationColumns, noise: NoiseSpec, opts: SgdOptions = {}): SolverResult {
  const fn = 'fitSgd';
  const { family, scale } = checkNoise(fn, noise);
  const { n, d, totalWeight } = checkObservations(fn, obs);
  if (n < 1) throw new RangeError(`${fn}: obs.n must be >= 1 for sampling, got ${n}`);
  const conv = conventionCode(fn, opts.convention ?? 'price');
  const radius = checkRadius(fn, opts.radius);
  const pen = checkPenalty(fn, opts.penalty, d);
  const N = normaliser(fn, opts.normalize, totalWeight);
  const epochs = intOption(fn, 'epochs', opts.epochs, 20, 1);
  if (epochs * n > Number.MAX_SAFE_INTEGER) throw new RangeError(`${fn}: epochs·n = ${epochs * n} is too large`);
  const eta = posNumber(fn, 'eta', opts.eta, 0.1);
  const seed = opts.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new RangeError(`${fn}: seed must be an integer, got ${String(seed)}`);
  const tol = posNumber(fn, 'tol', opts.tol, 1e-3);
  const start = opts.start !== undefined ? checkTheta(fn, 'start', opts.start, d, `d = ${d}`) : defaultStart(d, d, pen, 0);
  const size = core.k.sgdWorkSize(d);
  return core.arena.scoped(() => {
    const p = observationPointers(core, obs);
    const th = core.output(d);
    th.view().set(start);
    const work = core.output(size);
    const info = core.output(4);
    const pc = pen.center ? core.input(pen.center) : 0;
    const pp = pen.precision ? core.input(pen.precision) : 0;
    core.k.projectedSgd(
      n, d, p.x, p.won, p.price, p.comp, p.weight, family, scale, conv, N,
      pen.kind, pc, pen.lambda, pp, radius, epochs, eta, seed | 0, tol, th.ptr, work.ptr, info.ptr,
    );
    const inf = info.view();
    return {
      theta: th.view().slice(),
      iterations: inf[0],
      gradNorm: inf[1],
      converged: inf[2] === 1,
      objective: inf[3],
    };
  });
}

/**
 * Exact prox of tλ‖v - center‖ + ι{‖v‖ ≤ radius} at y (docs/math.md §1.8 block soft-threshold, then
 * the ball, docs/math.md §1.6). tLambda = 0: the projection Π_radius(y).
 */
export function proxL2Ball(core: WasmCore, y: Float64Array, center: Float64Array, tLambda: number, radius: number): Float64Array {
  const fn = 'proxL2Ball';
  const dim = y instanceof Float64Array ? y.length : 0;
  checkTheta(fn, 'y', y, dim, 'any');
  checkTheta(fn, 'center', center, dim, `length of y = ${dim}`);
  if (typeof tLambda !== 'number' || !Number.isFinite(tLambda) || tLambda < 0) throw new RangeError(`${fn}: tLambda must be a finite number >= 0, got ${String(tLambda)}`);
  const r = checkRadius(fn, radius);
  return core.arena.scoped(() => {
    const py = core.input(y);
    const pc = core.input(center);
    const out = core.output(dim);
    core.k.proxL2Ball(dim, py, pc, tLambda, r, out.ptr);
    return out.view().slice();
  });
}
