/**
 * The Newton solve of fitNewton driven from outside the WASM core, for fits whose likelihood
 * pass is not one kernel call over one block of rows (the TSMT stage I of src/model/, whose rows
 * may be split across worker threads).
 *
 * The loop itself is the WASM one (assembly/solvers.ts newtonBegin / newtonResume, the loop of
 * projectedNewton): every step, line search, factorisation and prox runs in the core. Whenever
 * the loop needs Σ_t w_t ℓ_t at some θ (with its gradient and Hessian or not) it stops and hands
 * back a NewtonRequest; the caller computes that pass however it likes (one kernel call; or the
 * sum of kernel calls over row ranges on worker threads), writes the gradient and Hessian where
 * the request says, and resumes with the value. Answered with the same single kernel call over
 * the same rows, a NewtonRun is fitNewton bit for bit.
 *
 *   const run = NewtonRun.start(core, d, noise, totalWeight, opts);
 *   try {
 *     for (let q = run.request; q; q = run.request) run.resume(pass(q));
 *     return run.result();
 *   } finally {
 *     run.close();
 *   }
 *
 * The loop's state (problem, iterates, work vectors) sits in one block of the core's arena from
 * start() to close(); a caller may await between request and resume (the block is addressed by
 * offset, so a grown memory does not invalidate it).
 */
import type { WasmCore } from './wasm.js';
import { checkNoise, type NoiseSpec } from './validate.js';
import { newtonArgs, solverResult, type NewtonOptions, type SolverResult } from './solvers.js';

/**
 * A likelihood pass the loop asks for: Σ_t w_t ℓ_t at the D doubles at byte offset `theta` of the
 * core's memory; its gradient (D doubles) goes to `g` and its Hessian (D×D, row-major) to `H`
 * unless they are 0. D = d (+1 with estimateScale: θ then log σ, as the likelihood kernel takes it).
 */
export interface NewtonRequest {
  theta: number;
  g: number;
  H: number;
  D: number;
}

export class NewtonRun {
  private pending: boolean;

  private constructor(
    private readonly core: WasmCore,
    private readonly d: number,
    private readonly est: number,
    private readonly thetaPtr: number,
    private readonly workPtr: number,
    private readonly infoPtr: number,
    private readonly mark: number,
    private readonly end: number,
  ) {
    this.pending = false;
  }

  /**
   * Start a solve over d features whose rows have this total weight (the 'mean' normaliser):
   * options and defaults as fitNewton (`fn` names the caller in error messages).
   */
  static start(core: WasmCore, d: number, noise: NoiseSpec, totalWeight: number, opts: NewtonOptions, fn = 'fitNewton'): NewtonRun {
    const { scale } = checkNoise(fn, noise);
    const a = newtonArgs(fn, d, Math.log(scale), totalWeight, opts);
    const arena = core.arena;
    const mark = arena.mark();
    const theta = arena.alloc(a.D);
    const work = arena.alloc(core.k.newtonWorkSize(d));
    const info = arena.alloc(4);
    const center = a.pen.center ? arena.alloc(d) : 0;
    const precision = a.pen.precision ? arena.alloc(d * d) : 0;
    const run = new NewtonRun(core, d, a.est, theta, work, info, mark, arena.mark());
    arena.view(theta, a.D).set(a.start);
    if (a.pen.center) arena.view(center, d).set(a.pen.center);
    if (a.pen.precision) arena.view(precision, d * d).set(a.pen.precision);
    run.pending = core.k.newtonBegin(d, a.est, a.N, a.pen.kind, center, a.pen.lambda, precision, a.radius, a.maxIter, a.tol, theta, work, info) !== 0;
    return run;
  }

  /** The pass the loop waits for, or null when the solve is done. */
  get request(): NewtonRequest | null {
    if (!this.pending) return null;
    const k = this.core.k;
    return { theta: k.newtonRequest(this.workPtr, 0), g: k.newtonRequest(this.workPtr, 1), H: k.newtonRequest(this.workPtr, 2), D: this.d + this.est };
  }

  /** Answer the pending request with Σ w ℓ (gradient and Hessian already written). */
  resume(value: number): void {
    this.pending = this.core.k.newtonResume(this.workPtr, value) !== 0;
  }

  /** The solution (after the last request was answered). */
  result(): SolverResult {
    const a = this.core.arena;
    return solverResult(a.view(this.thetaPtr, this.d + this.est), a.view(this.infoPtr, 4), this.d, this.est === 1);
  }

  /**
   * Free the state block: back to the arena mark of start() when nothing was allocated above the
   * block since; otherwise it stays until whoever allocated below it releases (never frees
   * another caller's memory).
   */
  close(): void {
    const a = this.core.arena;
    if (a.mark() === this.end) a.release(this.mark);
  }
}
