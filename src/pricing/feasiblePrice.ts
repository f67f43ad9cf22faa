/**
 * The guardrails inside the learning policy (docs/rl.md, "Actions"): the actor's tanh output
 * a ∈ [−1, 1] is mapped onto the set of prices the guardrails accept today,
 *
 *   [L, U] = [max(floor, MAP, p·(100 − step)/100), min(ceiling, p·(100 + step)/100)],
 *
 * p yesterday's price, step the largest change in percent (the engine's step band,
 * src/pricing/guardrails.ts), by the affine map  price = L + (a + 1)/2·(U − L).  Exploration
 * noise is added to a and clipped to [−1, 1] before the map, so no proposed price is ever one the
 * guardrails would move: the agent learns inside the feasible set instead of having its prices
 * clamped afterwards (a clamp would give the critic a flat region in which the action does nothing).
 * With no bound cutting the step band the map is the seed-style multiplicative step
 * p·(1 + a·step/100), and a = 0 keeps the price.
 *
 * When the band and the hard bounds do not meet (yesterday's price far outside [floor, ceiling])
 * the set is the one point of the bounds nearest the band, the rule of the engine and the
 * simulator's guardrails. Which constraint made each end of the set is returned, so a run can count
 * how often the floor, the MAP or the ceiling bind (BindCounts).
 */
import { stepHigh, stepLow } from './guardrails.js';

export interface PriceGuardrails {
  /** lowest price (the margin floor, cost × floorOverCost), > 0 */
  floor: number;
  /** highest price, ≥ floor (Infinity: none) */
  ceiling: number;
  /** largest daily change in percent, in (0, 100) */
  maxStepPct: number;
  /** minimum advertised price (NaN or absent: none); a second floor */
  map?: number;
}

export type LowerEnd = 'step' | 'floor' | 'map';
export type UpperEnd = 'step' | 'ceiling';

export interface FeasibleSet {
  lo: number;
  hi: number;
  /** what set lo (a hard bound wins a tie with the step: it is the one that binds) */
  lower: LowerEnd;
  upper: UpperEnd;
  /** the step band and the bounds do not meet: lo = hi = the bound nearest the band */
  empty: boolean;
}

export function checkGuardrails(g: PriceGuardrails, where = 'guardrails'): void {
  if (!(g.floor > 0) || !Number.isFinite(g.floor)) throw new RangeError(`${where}: floor must be a finite number > 0, got ${g.floor}`);
  if (!(g.ceiling >= g.floor)) throw new RangeError(`${where}: ceiling must be >= floor (${g.floor}), got ${g.ceiling}`);
  if (!(g.maxStepPct > 0 && g.maxStepPct < 100)) throw new RangeError(`${where}: maxStepPct must be in (0, 100), got ${g.maxStepPct}`);
  const map = g.map ?? NaN;
  if (!Number.isNaN(map) && !(map >= 0 && map <= g.ceiling)) throw new RangeError(`${where}: map must be in [0, ceiling], got ${map}`);
}

/** The feasible price set for yesterday's price `last` (> 0, finite). */
export function feasibleSet(last: number, g: PriceGuardrails): FeasibleSet {
  if (!(last > 0) || !Number.isFinite(last)) throw new RangeError(`feasibleSet: yesterday's price must be finite and > 0, got ${last}`);
  const map = g.map ?? NaN;
  const hasMap = Number.isFinite(map) && map > g.floor;
  const hardLo = hasMap ? map : g.floor;
  const sl = stepLow(last, g.maxStepPct);
  const sh = stepHigh(last, g.maxStepPct);
  const lower: LowerEnd = hardLo >= sl ? (hasMap ? 'map' : 'floor') : 'step';
  const upper: UpperEnd = g.ceiling <= sh ? 'ceiling' : 'step';
  const lo = Math.max(hardLo, sl);
  const hi = Math.min(g.ceiling, sh);
  if (lo <= hi) return { lo, hi, lower, upper, empty: false };
  // the band lies wholly above the ceiling or below the floor: the nearest bound
  const p = sh < hardLo ? hardLo : g.ceiling;
  return { lo: p, hi: p, lower, upper, empty: true };
}

/** price = L + (a + 1)/2·(U − L), a clipped to [−1, 1] (a NaN action is an error, not a price). */
export function actionToPrice(a: number, set: FeasibleSet): number {
  if (Number.isNaN(a)) throw new RangeError('actionToPrice: the action is NaN');
  const c = a < -1 ? -1 : a > 1 ? 1 : a;
  if (set.hi === set.lo) return set.lo;
  const p = set.lo + ((c + 1) / 2) * (set.hi - set.lo);
  // rounding can not leave the set by more than an ulp; keep it inside exactly
  return p < set.lo ? set.lo : p > set.hi ? set.hi : p;
}

/** How often each constraint made an end of the feasible set, over the days counted. */
export interface BindCounts {
  days: number;
  floor: number;
  map: number;
  ceiling: number;
  /** days when band and bounds did not meet */
  empty: number;
}

export function emptyBindCounts(): BindCounts {
  return { days: 0, floor: 0, map: 0, ceiling: 0, empty: 0 };
}

export function countBinds(c: BindCounts, set: FeasibleSet): void {
  c.days++;
  if (set.lower === 'floor') c.floor++;
  else if (set.lower === 'map') c.map++;
  if (set.upper === 'ceiling') c.ceiling++;
  if (set.empty) c.empty++;
}
