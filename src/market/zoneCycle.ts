/**
 * The zone cycle and the coordination of the two EM levels (docs/math.md §2.7, "The coordination
 * loop"). A zone's items share its demand level: item i's demand in period t is
 * D_it ~ Poisson(λ_z · s_i · m(p_it) · e_t), Σ s_i = 1, m(p) = (p / pRef)^(−ε), and an item's
 * bookings are censored by its own availability. One cycle:
 *
 *   1. zone E-step: the items' imputed demand D̂_it (bookings plus each sold-out period's expected
 *      turned-away demand) — this is what the items feed up;
 *   2. zone M-step: λ_z = Σ D̂ / Σ s_i m(p_it) e_t, then the zone multiplier K, the prices of all
 *      items scaled together, maximising the weighted objective with the items' positions in the
 *      zone bounds held; the bounds K·P_z0·[1 − band, 1 + band] go down;
 *   3. item E-step and M-step: s_i = Σ_t D̂_it / Σ_t λ_z m(p_it) e_t at the new λ_z, then each
 *      item's price inside the bounds maximising its own share of the same objective;
 *   4. renormalise the shares (λ_z s_i unchanged).
 *
 * Steps 1–3 are conditional maximisations of one complete-data likelihood (ECM), so the joint
 * observed log-likelihood never decreases; the pricing steps are coordinate ascent on one
 * objective. The loop stops when the item demand levels, K and every price have settled.
 */
import { RepricerError } from '../core/errors.js';
import { eStep, fitCensoredDemand, louisInformation, type CensoredPeriods, type EmResult } from './censoredDemandEm.js';
import { addUnit, checkWeights, emptyTerms, maximiseOnInterval, objectiveValue, type ObjectiveTerms, type ObjectiveWeights, type PricedUnit } from './demandObjective.js';

/** m(p) = (p / pRef)^(−ε), the price response of §2.7. */
export function priceResponse(price: number, referencePrice: number, elasticity: number): number {
  return Math.pow(price / referencePrice, -elasticity);
}

/** One item's history: its price, bookings and units available in each of the zone's periods. */
export interface ItemHistory {
  id: string;
  price: Float64Array;
  bookings: Float64Array;
  available: Float64Array;
  /** units available in the period being priced (an integer ≥ 1) */
  plannedCapacity: number;
}

export interface ZoneHistory {
  zone: string;
  /** e_t > 0: known demand multipliers of the periods (length of hours, a calendar effect) */
  exposure: Float64Array;
  items: ItemHistory[];
  /** e of the period being priced */
  plannedExposure: number;
  /** the zone-level price in force (the centre of the current zone bounds) */
  zonePrice: number;
  /** pRef of the price response and the revenue unit of the objective */
  referencePrice: number;
  /** ε of the price response (known: the booking model's price coefficient, or set by hand) */
  elasticity: number;
}

export interface CoordinationOptions {
  weights: ObjectiveWeights;
  /** zone bounds = zone price × [1 − band, 1 + band] (default 0.2) */
  band?: number;
  /** the zone multiplier's range per cycle (default [0.5, 2]) */
  zoneRange?: [number, number];
  /** stop when every relative change of a cycle (demand levels, K, prices) is at most this (default 1e-7: a golden-section argmax on a flat maximum is good to about the square root of the rounding error, ~1e-8) */
  tol?: number;
  /** at most this many cycles (default 20 000) */
  maxCycles?: number;
}

export interface CoordinationResult {
  zone: string;
  converged: boolean;
  cycles: number;
  /** λ_z and the shares s_i (Σ s_i = 1) at the end */
  zoneLevel: number;
  shares: number[];
  /** SE of λ_z = Σ θ_i: √(Σ SE(θ_i)²), the items' data being independent */
  zoneStdErr: number;
  /** θ_i = λ_z s_i, each item's demand level, with its standard error (Louis' information) */
  itemLevel: number[];
  itemStdErr: number[];
  /** the joint observed-data log-likelihood after each cycle (index 0: the start) */
  logLikPath: number[];
  /** the objective at the new prices after each cycle */
  objectivePath: number[];
  /** K: the new zone price over the zone price in force */
  zoneMultiplier: number;
  zonePrice: number;
  bounds: [number, number];
  itemPrices: number[];
  /** over the history: Σ bookings / Σ available, and the imputed turned-away demand Σ (D̂ − B) */
  realisedUtilisation: number;
  lostDemand: number;
  /** the objective's components at the new prices, for the period being priced */
  expected: { utilisation: number; lostDemand: number; revenue: number };
}

function checkZone(z: ZoneHistory): void {
  const T = z.exposure.length;
  if (z.items.length === 0) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}: no items`);
  for (const k of ['plannedExposure', 'zonePrice', 'referencePrice'] as const) {
    if (!(z[k] > 0 && Number.isFinite(z[k]))) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}: ${k} must be a finite number > 0, got ${z[k]}`);
  }
  if (!Number.isFinite(z.elasticity)) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}: elasticity must be finite, got ${z.elasticity}`);
  let booked = 0;
  for (const it of z.items) for (let t = 0; t < it.bookings.length; t++) booked += it.bookings[t];
  // with no booking the zone's level is estimated at 0 and there is no demand to share out
  if (!(booked > 0)) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}: no booking in any period, so its demand level is estimated at 0 and there is nothing to price from`);
  for (const it of z.items) {
    if (it.price.length !== T || it.bookings.length !== T || it.available.length !== T) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}, item ${it.id}: ${it.price.length} prices, ${it.bookings.length} bookings, ${it.available.length} availabilities for ${T} periods`);
    if (!(Number.isInteger(it.plannedCapacity) && it.plannedCapacity >= 1)) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}, item ${it.id}: plannedCapacity must be an integer >= 1, got ${it.plannedCapacity}`);
    let open = false;
    for (let t = 0; t < T; t++) {
      if (!(it.price[t] > 0)) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}, item ${it.id}: period ${t}: price must be > 0, got ${it.price[t]}`);
      if (it.bookings[t] < it.available[t]) open = true;
    }
    // without a period with a unit left over, the item's demand level has no finite estimate
    if (!open) throw new RepricerError('INVALID_ARGUMENT', `zone ${z.zone}, item ${it.id}: sold out in every period, so its demand level has no finite estimate; give periods in which it had units left`);
  }
}

/** The item's periods with a_it = λ_z m(p_it) e_t (its own parameter is the share s_i). */
function itemPeriods(z: ZoneHistory, i: number, zoneLevel: number): CensoredPeriods {
  const it = z.items[i];
  const a = new Float64Array(z.exposure.length);
  for (let t = 0; t < a.length; t++) a[t] = zoneLevel * priceResponse(it.price[t], z.referencePrice, z.elasticity) * z.exposure[t];
  return { multiplier: a, bookings: it.bookings, available: it.available };
}

function sum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** The zone-aggregate EM (zone-level censoring, shares fixed): the starting λ_z of the loop. */
function aggregateStart(z: ZoneHistory, shares: number[]): EmResult {
  const T = z.exposure.length;
  const a = new Float64Array(T), b = new Float64Array(T), c = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    z.items.forEach((it, i) => {
      a[t] += shares[i] * priceResponse(it.price[t], z.referencePrice, z.elasticity) * z.exposure[t];
      b[t] += it.bookings[t];
      c[t] += it.available[t];
    });
  }
  return fitCensoredDemand({ multiplier: a, bookings: b, available: c });
}

/** The priced units of the planning period at the current demand levels. */
function units(z: ZoneHistory, levels: number[], currentPrices: number[]): PricedUnit[] {
  return z.items.map((it, i) => ({
    demandAtCurrent: levels[i] * priceResponse(currentPrices[i], z.referencePrice, z.elasticity) * z.plannedExposure,
    currentPrice: currentPrices[i],
    capacity: it.plannedCapacity,
    elasticity: z.elasticity,
  }));
}

/** The objective's terms of every unit at its price. */
export function zoneTerms(us: PricedUnit[], prices: number[]): ObjectiveTerms {
  const acc = emptyTerms();
  us.forEach((u, i) => addUnit(acc, u, prices[i]));
  return acc;
}

/**
 * Runs the coordination loop of one zone to its fixed point (or maxCycles) and returns the new
 * prices with everything that flowed between the levels.
 */
export function coordinateZone(z: ZoneHistory, opts: CoordinationOptions): CoordinationResult {
  checkZone(z);
  checkWeights(opts.weights);
  const band = opts.band ?? 0.2;
  if (!(band >= 0 && band < 1)) throw new RepricerError('INVALID_ARGUMENT', `band must be in [0, 1), got ${band}`);
  const [kLo, kHi] = opts.zoneRange ?? [0.5, 2];
  const tol = opts.tol ?? 1e-7;
  const maxCycles = opts.maxCycles ?? 20_000;
  const N = z.items.length, T = z.exposure.length;
  const w = opts.weights;
  // the prices in force: each item's last price
  const current = z.items.map((it) => it.price[T - 1]);

  // start: shares in proportion to bookings (floored), λ_z from the zone-aggregate EM
  const bk = z.items.map((it) => sum(it.bookings) + 1);
  let shares = bk.map((b) => b / bk.reduce((x, y) => x + y, 0));
  const agg = aggregateStart(z, shares);
  let zoneLevel = agg.status === 'estimated' ? agg.lambda : (z.items.reduce((s, it) => s + sum(it.bookings), 0) + 1) / T;

  const jointLogLik = (): number => {
    let ll = 0;
    for (let i = 0; i < N; i++) ll += eStep(itemPeriods(z, i, zoneLevel), shares[i]).logLik;
    return ll;
  };
  const logLikPath = [jointLogLik()];
  const objectivePath: number[] = [];

  // positions of the items inside the zone bounds, r_i = P_i / (K P_z0) ∈ [1 − band, 1 + band]
  let K = 1;
  let pos = current.map((p) => Math.min(1 + band, Math.max(1 - band, p / z.zonePrice)));
  let prices = pos.map((r) => r * z.zonePrice);
  let converged = false;
  let cycles = 0;
  for (; cycles < maxCycles; ) {
    cycles++;
    const levelsBefore = shares.map((s) => s * zoneLevel);
    // 1-2: zone E-step from the items, zone M-step for λ_z
    let dSum = 0, aSum = 0;
    for (let i = 0; i < N; i++) {
      const p = itemPeriods(z, i, 1);
      dSum += sum(eStep(p, zoneLevel * shares[i]).demand);
      aSum += shares[i] * sum(p.multiplier);
    }
    zoneLevel = dSum / aSum;
    // the zone multiplier, item positions held
    let us = units(z, shares.map((s) => s * zoneLevel), current);
    const zoneObjective = (k: number): number => objectiveValue(zoneTerms(us, pos.map((r) => r * k * z.zonePrice)), w, z.referencePrice);
    const newK = maximiseOnInterval(zoneObjective, kLo, kHi).x;
    // 3: item E- and M-steps at the new λ_z, then item prices inside the bounds
    for (let i = 0; i < N; i++) {
      const p = itemPeriods(z, i, zoneLevel);
      shares[i] = sum(eStep(p, shares[i]).demand) / sum(p.multiplier);
    }
    // 4: renormalise
    const S = shares.reduce((x, y) => x + y, 0);
    zoneLevel *= S;
    shares = shares.map((s) => s / S);
    us = units(z, shares.map((s) => s * zoneLevel), current);
    const C = us.reduce((s, u) => s + u.capacity, 0);
    const zp = newK * z.zonePrice;
    const newPos = us.map((u) => {
      const itemObjective = (price: number): number => objectiveValue(addUnit(emptyTerms(), u, price), w, z.referencePrice, C);
      return maximiseOnInterval(itemObjective, zp * (1 - band), zp * (1 + band)).x / zp;
    });
    const newPrices = newPos.map((r) => r * zp);
    logLikPath.push(jointLogLik());
    objectivePath.push(objectiveValue(zoneTerms(us, newPrices), w, z.referencePrice));
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
    let change = rel(newK, K);
    shares.forEach((s, i) => (change = Math.max(change, rel(s * zoneLevel, levelsBefore[i]))));
    newPrices.forEach((p, i) => (change = Math.max(change, rel(p, prices[i]))));
    K = newK;
    pos = newPos;
    prices = newPrices;
    if (change <= tol && cycles > 1) {
      converged = true;
      break;
    }
  }

  const levels = shares.map((s) => s * zoneLevel);
  let lost = 0, booked = 0, avail = 0;
  const itemStdErr = z.items.map((it, i) => {
    // θ_i's information: the item's periods with a_it = m(p_it) e_t, at θ_i
    const p = itemPeriods(z, i, 1);
    const e = eStep(p, levels[i]);
    lost += sum(e.demand) - sum(it.bookings);
    booked += sum(it.bookings);
    avail += sum(it.available);
    const info = louisInformation(p, levels[i], e);
    return info > 0 ? 1 / Math.sqrt(info) : NaN;
  });
  const us = units(z, levels, current);
  const terms = zoneTerms(us, prices);
  const zp = K * z.zonePrice;
  return {
    zone: z.zone,
    converged,
    cycles,
    zoneLevel,
    zoneStdErr: Math.sqrt(itemStdErr.reduce((a, e) => a + e * e, 0)),
    shares,
    itemLevel: levels,
    itemStdErr,
    logLikPath,
    objectivePath,
    zoneMultiplier: K,
    zonePrice: zp,
    bounds: [zp * (1 - band), zp * (1 + band)],
    itemPrices: prices,
    realisedUtilisation: avail > 0 ? booked / avail : NaN,
    lostDemand: lost,
    expected: { utilisation: terms.sales / terms.capacity, lostDemand: terms.lost, revenue: terms.revenue },
  };
}

/**
 * The zone-level M-step on zone-aggregate data (§2.7): with λ̂ from the EM, the multiplier K of
 * the price in force p0 that maximises the objective for the next period, whose mean demand at p0
 * is λ̂·m(p0)·e and whose capacity is c; K ∈ [lo, hi].
 */
export function chooseZoneMultiplier(
  lambda: number,
  next: { price: number; exposure: number; capacity: number },
  model: { referencePrice: number; elasticity: number },
  weights: ObjectiveWeights,
  range: [number, number] = [0.5, 2],
): { multiplier: number; objective: number; expectedUtilisation: number; expectedLost: number } {
  checkWeights(weights);
  if (!(Number.isInteger(next.capacity) && next.capacity >= 1)) throw new RepricerError('INVALID_ARGUMENT', `capacity of the priced period must be an integer >= 1, got ${next.capacity}`);
  const unit: PricedUnit = { demandAtCurrent: lambda * priceResponse(next.price, model.referencePrice, model.elasticity) * next.exposure, currentPrice: next.price, capacity: next.capacity, elasticity: model.elasticity };
  const f = (k: number): number => objectiveValue(addUnit(emptyTerms(), unit, k * next.price), weights, model.referencePrice);
  const best = maximiseOnInterval(f, range[0], range[1]);
  const t = addUnit(emptyTerms(), unit, best.x * next.price);
  return { multiplier: best.x, objective: best.value, expectedUtilisation: t.sales / t.capacity, expectedLost: t.lost };
}
