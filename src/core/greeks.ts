/**
 * Typed wrappers of the Greeks kernels (docs/math.md §4): the Greeks of Pi(P) = Q(P) M(P) - H, the
 * return-aware optimum on a price interval, and the constant-R closed-form price.
 *
 * Every input field is either a Float64Array with one value per SKU or a number, which is broadcast
 * to every SKU. The SKU count n is the common length of the arrays (all arrays must have the same
 * length); when every field is a number, n = 1.
 */
import type { WasmCore } from './wasm.js';
import type { ArenaResult } from './quote.js';
import { familyCode } from './validate.js';

export type DemandModel =
  | { kind: 'winProbability'; family: 'gaussian' | 'logistic' }
  | { kind: 'constantElasticity' };

/** One value per SKU, or one number for all SKUs. */
export type Column = Float64Array | number;

export interface GreeksInput {
  /** price */
  P: Column;
  /** unit cost */
  C: Column;
  /** cost per returned unit */
  Cret: Column;
  /** return-rate curve R(P) = Rmin + (Rmax - Rmin) sigmoid(kR (P - Pmid)); constant Rmin when Rmin = Rmax or kR = 0 */
  Rmin: Column;
  Rmax: Column;
  kR: Column;
  Pmid: Column;
  /** win probability: market size N (>= 0); constant elasticity: Q0 (>= 0) */
  A: Column;
  /** win probability: mu; constant elasticity: P0 (> 0) */
  B: Column;
  /** win probability: sigma (> 0); constant elasticity: epsilon */
  E: Column;
  /** demand decay rate in Theta */
  deltaQ: Column;
  /** holding cost per unit and time in Theta */
  holding: Column;
  /** inventory q in Theta */
  inventory: Column;
}

/** Inputs of the optimum and the closed form: P and the Theta inputs are not used (default 0). */
export type PricingInput = Omit<GreeksInput, 'P' | 'deltaQ' | 'holding' | 'inventory'> &
  Partial<Pick<GreeksInput, 'P' | 'deltaQ' | 'holding' | 'inventory'>>;

export interface Greeks {
  /** Pi = Q M (the holding cost H is omitted) */
  profit: Float64Array;
  /** dPi/dP */
  delta: Float64Array;
  /** d2Pi/dP2 */
  gamma: Float64Array;
  /** dPi/dsigma (0 for constant elasticity) */
  vega: Float64Array;
  /** d2Pi/dP dsigma (0 for constant elasticity) */
  vanna: Float64Array;
  /** sensitivity to a parallel shift of R(P): -Q (P - C + Cret) */
  rho: Float64Array;
  /** -deltaQ Q M - holding * inventory */
  theta: Float64Array;
}

/** The building blocks of Pi at P (docs/math.md §4.1). */
export interface ProfitTerms {
  R: Float64Array;
  M: Float64Array;
  M1: Float64Array;
  M2: Float64Array;
  Q: Float64Array;
  Q1: Float64Array;
  Q2: Float64Array;
}

export interface ReturnAwareOptimum {
  price: Float64Array;
  /** Gamma at the price (< 0 at an interior maximum) */
  gamma: Float64Array;
  profit: Float64Array;
  /** 1 when the solver met its tolerance */
  converged: Uint8Array;
  /** golden-section plus Newton/bisection steps */
  iterations: Uint32Array;
}

/** Column order of the kernels' input block. */
export const GREEKS_INPUT_COLUMNS = [
  'P', 'C', 'Cret', 'Rmin', 'Rmax', 'kR', 'Pmid', 'A', 'B', 'E', 'deltaQ', 'holding', 'inventory',
] as const;
type Field = (typeof GREEKS_INPUT_COLUMNS)[number];

const GREEKS_COLUMNS = ['profit', 'delta', 'gamma', 'vega', 'vanna', 'rho', 'theta'] as const;
const PROFIT_TERMS = ['R', 'M', 'M1', 'M2', 'Q', 'Q1', 'Q2'] as const;

function demandCode(fn: string, demand: DemandModel): number {
  if (demand === null || typeof demand !== 'object') {
    throw new TypeError(`${fn}: demand must be an object {kind, ...}, got ${String(demand)}`);
  }
  if (demand.kind === 'constantElasticity') return 2;
  if (demand.kind === 'winProbability') return familyCode(fn, demand.family);
  throw new RangeError(`${fn}: demand.kind must be "winProbability" or "constantElasticity", got ${JSON.stringify((demand as { kind: unknown }).kind)}`);
}

type Check = (v: number) => string | null;
const finite: Check = (v) => (Number.isFinite(v) ? null : 'finite');
const positive: Check = (v) => (Number.isFinite(v) && v > 0 ? null : 'finite and > 0');
const nonNegative: Check = (v) => (Number.isFinite(v) && v >= 0 ? null : 'finite and >= 0');

/** The common SKU count of the array-valued columns (1 when all are numbers). */
function skuCount(fn: string, cols: ReadonlyArray<readonly [string, Column | undefined]>): number {
  let n = -1;
  let first = '';
  for (const [name, v] of cols) {
    if (v instanceof Float64Array) {
      if (n < 0) {
        n = v.length;
        first = name;
      } else if (v.length !== n) {
        throw new RangeError(`${fn}: ${name} must have length ${n} (the length of ${first}), got ${v.length}`);
      }
    } else if (v !== undefined && typeof v !== 'number') {
      throw new TypeError(`${fn}: ${name} must be a Float64Array or a number, got ${v === null ? 'null' : typeof v}`);
    }
  }
  return n < 0 ? 1 : n;
}

function checkColumn(fn: string, name: string, v: Column, check: Check): void {
  if (typeof v === 'number') {
    const need = check(v);
    if (need) throw new RangeError(`${fn}: ${name} must be ${need}, got ${v}`);
    return;
  }
  for (let i = 0; i < v.length; i++) {
    const need = check(v[i]);
    if (need) throw new RangeError(`${fn}: ${name}[${i}] must be ${need}, got ${v[i]}`);
  }
}

function fill(dst: Float64Array, v: Column): void {
  if (typeof v === 'number') dst.fill(v);
  else dst.set(v);
}

/** Validate the input fields for a demand model and write the 13-column block into the arena. */
function packInput(core: WasmCore, fn: string, kind: number, input: PricingInput, usesP: boolean, n: number): number {
  const get = (f: Field): Column => {
    const v = (input as Partial<Record<Field, Column>>)[f];
    if (v === undefined) return 0;
    return v;
  };
  const ce = kind === 2;
  for (const f of GREEKS_INPUT_COLUMNS) {
    const v = (input as Partial<Record<Field, Column>>)[f];
    if (v === undefined) {
      if (f === 'P' && usesP) throw new TypeError(`${fn}: input.P is required`);
      if (f !== 'P' && f !== 'deltaQ' && f !== 'holding' && f !== 'inventory') throw new TypeError(`${fn}: input.${f} is required`);
      continue;
    }
    if (f === 'P' && !usesP) continue;
    let check = finite;
    if (f === 'A') check = nonNegative;
    else if (f === 'E' && !ce) check = positive;
    else if ((f === 'B' || f === 'P') && ce) check = positive;
    checkColumn(fn, `input.${f}`, v, check);
  }
  const ptr = core.arena.alloc(13 * n);
  const block = core.arena.view(ptr, 13 * n);
  GREEKS_INPUT_COLUMNS.forEach((f, k) => fill(block.subarray(k * n, (k + 1) * n), f === 'P' && !usesP ? 0 : get(f)));
  return ptr;
}

function inputColumns(input: PricingInput): Array<readonly [string, Column | undefined]> {
  const rec = input as Partial<Record<Field, Column>>;
  return GREEKS_INPUT_COLUMNS.map((f) => [`input.${f}`, rec[f]] as const);
}

function checkInput(fn: string, input: unknown): asserts input is PricingInput {
  if (input === null || typeof input !== 'object') throw new TypeError(`${fn}: input must be an object of columns, got ${String(input)}`);
}

/** Validate, pack the input columns, run a kernel writing 7 columns, split them by name. */
function sevenColumns<K extends string>(
  core: WasmCore, fn: string, demand: DemandModel, input: GreeksInput, names: readonly K[], kernel: 'greeks' | 'profitTerms', views = false,
): Record<K, Float64Array> {
  const kind = demandCode(fn, demand);
  checkInput(fn, input);
  const n = skuCount(fn, inputColumns(input));
  if (views) {
    // in the caller's arena scope: views, no copies
    const out = core.output(names.length * n);
    core.k[kernel](kind, n, packInput(core, fn, kind, input, true, n), out.ptr);
    const v = out.view();
    const r = {} as Record<K, Float64Array>;
    names.forEach((name, k) => (r[name] = v.subarray(k * n, (k + 1) * n)));
    return r;
  }
  return core.arena.scoped(() => {
    const pin = packInput(core, fn, kind, input, true, n);
    const out = core.output(names.length * n);
    core.k[kernel](kind, n, pin, out.ptr);
    const v = out.view();
    const r = {} as Record<K, Float64Array>;
    names.forEach((name, k) => (r[name] = v.slice(k * n, (k + 1) * n)));
    return r;
  });
}

/**
 * The Greeks kernel without the wrapper's per-element checks, for a caller that guarantees the
 * domain (the engine: prices > 0 and finite, sigma > 0, P0 > 0 for constant elasticity, every
 * column of length n). Views of the caller's arena scope, in the order of `Greeks`. The checks
 * cost about as much as the kernel (13 columns, one closure call per element).
 */
export function greeksUnchecked(core: WasmCore, demand: DemandModel, n: number, input: GreeksInput): Greeks {
  const kind = demandCode('greeksUnchecked', demand);
  const ptr = core.arena.alloc(13 * n);
  const block = core.arena.view(ptr, 13 * n);
  const rec = input as unknown as Record<Field, Column>;
  GREEKS_INPUT_COLUMNS.forEach((f, k) => fill(block.subarray(k * n, (k + 1) * n), rec[f]));
  const out = core.output(GREEKS_COLUMNS.length * n);
  core.k.greeks(kind, n, ptr, out.ptr);
  const v = out.view();
  const r = {} as Record<(typeof GREEKS_COLUMNS)[number], Float64Array>;
  GREEKS_COLUMNS.forEach((name, k) => (r[name] = v.subarray(k * n, (k + 1) * n)));
  return r;
}

/**
 * Greeks of the expected profit at the prices input.P (docs/math.md §4.2). Constant elasticity needs
 * P > 0 and B = P0 > 0; win probability needs E = sigma > 0; A >= 0; everything finite.
 */
export function greeks(core: WasmCore, demand: DemandModel, input: GreeksInput, opts: ArenaResult = {}): Greeks {
  return sevenColumns(core, 'greeks', demand, input, GREEKS_COLUMNS, 'greeks', opts.views);
}

/** R, M, M', M'', Q, Q', Q'' at the prices input.P (docs/math.md §4.1); same validation as greeks. */
export function profitTerms(core: WasmCore, demand: DemandModel, input: GreeksInput): ProfitTerms {
  return sevenColumns(core, 'profitTerms', demand, input, PROFIT_TERMS, 'profitTerms');
}

/**
 * Maximise Pi over [lo, hi] per SKU (docs/math.md §4.3): Newton on Delta = 0 with Gamma as derivative,
 * safeguarded by bisection and golden section, compared with the endpoints. input.P is ignored.
 * lo <= hi, finite; constant elasticity needs lo > 0.
 */
export function returnAwareOptimum(
  core: WasmCore, demand: DemandModel, input: PricingInput, lo: Column, hi: Column,
): ReturnAwareOptimum {
  const fn = 'returnAwareOptimum';
  const kind = demandCode(fn, demand);
  checkInput(fn, input);
  const cols = inputColumns(input).filter(([name]) => name !== 'input.P');
  cols.push(['lo', lo], ['hi', hi]);
  const n = skuCount(fn, cols);
  checkColumn(fn, 'lo', lo, kind === 2 ? positive : finite);
  checkColumn(fn, 'hi', hi, finite);
  for (let i = 0; i < n; i++) {
    const l = typeof lo === 'number' ? lo : lo[i];
    const h = typeof hi === 'number' ? hi : hi[i];
    if (!(l <= h)) throw new RangeError(`${fn}: lo must be <= hi, got lo = ${l} > hi = ${h} at index ${i}`);
  }
  return core.arena.scoped(() => {
    const pin = packInput(core, fn, kind, input, false, n);
    const plo = core.arena.alloc(n);
    fill(core.arena.view(plo, n), lo);
    const phi = core.arena.alloc(n);
    fill(core.arena.view(phi, n), hi);
    const out = core.output(5 * n);
    core.k.returnAwareOptimum(kind, n, pin, plo, phi, out.ptr);
    const v = out.view();
    const converged = new Uint8Array(n);
    const iterations = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      converged[i] = v[3 * n + i];
      iterations[i] = v[4 * n + i];
    }
    return { price: v.slice(0, n), gamma: v.slice(n, 2 * n), profit: v.slice(2 * n, 3 * n), converged, iterations };
  });
}

/**
 * The §4.3 closed-form price for a constant return rate (R = Rmin): NaN where it does not apply
 * (R not constant, R outside [0, 1); constant elasticity also eps >= -1 or C_eff <= 0).
 * input.P is ignored.
 */
export function closedFormPrice(core: WasmCore, demand: DemandModel, input: PricingInput): Float64Array {
  const fn = 'closedFormPrice';
  const kind = demandCode(fn, demand);
  checkInput(fn, input);
  const n = skuCount(fn, inputColumns(input).filter(([name]) => name !== 'input.P'));
  return core.arena.scoped(() => {
    const pin = packInput(core, fn, kind, input, false, n);
    const out = core.output(n);
    core.k.closedFormPrice(kind, n, pin, out.ptr);
    return out.view().slice();
  });
}
