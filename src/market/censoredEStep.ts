/**
 * The E-step sums of the censored-demand EM in the WASM core (assembly/censoredDemand.ts,
 * docs/math.md §2.7): a zone's three columns are copied into linear memory once, then each EM
 * iteration is one kernel call over all periods. Allocated in a scope of the core's arena and
 * taken back by `dispose()` (stack order with the arena's other scoped users).
 */
import { RepricerError } from '../core/errors.js';
import { defaultCore, type WasmCore } from '../core/wasm.js';

export interface EStepSums {
  /** ℓ(λ) */
  logLik: number;
  /** Σ_t D̂_t */
  demand: number;
  /** Σ_t Var[D_t | B_t] */
  variance: number;
  /** d²ℓ/dλ² differentiated directly */
  hessian: number;
  /** Σ_t a_t */
  multiplier: number;
}

export class CensoredColumns {
  readonly n: number;
  private readonly core: WasmCore;
  private readonly mark: number;
  private readonly ptr: { a: number; b: number; c: number; out: number };
  private disposed = false;

  /** a_t, B_t and c_t of §2.7, equal lengths (checked by the caller) */
  constructor(d: { multiplier: Float64Array; bookings: Float64Array; available: Float64Array }, core: WasmCore = defaultCore()) {
    this.n = d.multiplier.length;
    this.core = core;
    const ar = core.arena;
    this.mark = ar.mark();
    const put = (src: Float64Array): number => ar.allocCopy(src);
    this.ptr = { a: put(d.multiplier), b: put(d.bookings), c: put(d.available), out: ar.alloc(5) };
  }

  /** One pass at λ > 0. */
  sums(lambda: number): EStepSums {
    if (this.disposed) throw new RepricerError('INTERNAL', 'CensoredColumns: used after dispose()');
    const P = this.ptr;
    this.core.k.censoredPoissonEStep(P.a, P.b, P.c, this.n, lambda, P.out);
    const o = this.core.arena.view(P.out, 5);
    return { logLik: o[0], demand: o[1], variance: o[2], hessian: o[3], multiplier: o[4] };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.core.arena.release(this.mark);
  }
}
