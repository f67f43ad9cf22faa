/**
 * Fitting the booking model (docs/math.md §2.6) on a market event log: the trials (search rows
 * with a shown price, not booked; booking rows, booked) are grouped by (segment, price) and dealt
 * to K folds; a pooled logistic fit, then every segment's fit shrunk toward it by a ridge of
 * strength λ, with λ chosen by K-fold held-out log-likelihood and the one-standard-error rule
 * (the same choice as the TSMT shrinkage constant, docs/math.md §1.8, on (fold, segment) units).
 * The likelihood sums and the Newton steps are src/market/bookingLikelihood.ts.
 */
import { RepricerError } from '../core/errors.js';
import { splitmix32 } from '../core/random.js';
import { newtonMaximise, logLikelihood, type GroupColumns } from './bookingLikelihood.js';
import { MARKET_MODEL_FORMAT, type MarketModel, type SegmentCurve } from './bookingModel.js';
import { EVENT_BOOKING, EVENT_SEARCH, type EventLog } from './eventLog.js';
import { SEGMENT_DIMENSIONS, TIME_BUCKETS, segmentOf, timeBucketIndex, type SegmentDimension } from './segments.js';

export const BOOKING_FOLDS = 5;
export const BOOKING_FOLD_SEED = 1;
/** λ ∈ {10^−2, 10^−1.5, …, 10^5} */
export const DEFAULT_LAMBDA_GRID: readonly number[] = Array.from({ length: 15 }, (_, j) => 10 ** (-2 + 0.5 * j));

/** A pooled curve with |log-odds| above this at an observed price is taken for separated data (probabilities within 1e-13 of 0 or 1). */
export const SEPARATION_LOG_ODDS = 30;

/** Trials grouped by (segment, price); groups of a segment are contiguous. */
export interface BookingTrials extends GroupColumns {
  segmentIds: string[];
  /** per segment: the geometric mean of its trials' shown prices */
  pRef: Float64Array;
  /** per segment: its groups are [segStart[s], segStart[s + 1]) */
  segStart: Int32Array;
  /** per group and fold (group-major, `folds` per group): trials and bookings dealt to that fold */
  foldN: Float64Array;
  foldK: Float64Array;
  folds: number;
  trials: number;
  bookings: number;
  /** the geometric mean of every trial's shown price */
  pooledRef: number;
}

/**
 * Balanced fold labels 0..K−1 for a segment's m trials (sizes differ by at most one), shuffled by
 * Fisher–Yates from a generator seeded by (seed, segment): the segment's trials in file order get
 * them in turn.
 */
export function segmentFoldLabels(m: number, K: number, seed: number, segment: number): Uint8Array {
  const labels = new Uint8Array(m);
  for (let r = 0; r < m; r++) labels[r] = r % K;
  const st = { s: (Math.imul(seed | 0, 0x2545f491) ^ Math.imul((segment | 0) + 1, 0x9e3779b1)) | 0 };
  for (let j = m - 1; j > 0; j--) {
    const i = Math.floor((splitmix32(st) / 4294967296) * (j + 1));
    const t = labels[j];
    labels[j] = labels[i];
    labels[i] = t;
  }
  return labels;
}

/** Group the trials of an event log by the segments of `dims` and their shown price, dealt to K folds. */
export function bookingTrials(log: EventLog, dims: readonly SegmentDimension[], folds = BOOKING_FOLDS, seed = BOOKING_FOLD_SEED): BookingTrials {
  if (!Number.isInteger(folds) || folds < 2 || folds > 255) throw new RepricerError('INVALID_ARGUMENT', `folds must be an integer in [2, 255], got ${folds}`);
  const useZone = dims.includes('zone');
  const useAsset = dims.includes('asset');
  const useTime = dims.includes('time');
  const A = Math.max(1, log.assets.length);
  // pass 1: each trial's segment (first appearance order), the segments' counts and log-price sums
  const segOfRow = new Int32Array(log.n).fill(-1);
  const keyToSeg = new Map<number, number>();
  const segKeys: number[] = [];
  const count: number[] = [];
  const sumLog: number[] = [];
  let trials = 0;
  let bookings = 0;
  let sumLogAll = 0;
  for (let i = 0; i < log.n; i++) {
    const t = log.type[i];
    if (!(t === EVENT_BOOKING || (t === EVENT_SEARCH && log.priceShown[i] > 0))) continue;
    const key = ((useZone ? log.zone[i] : 0) * A + (useAsset ? log.asset[i] : 0)) * 8 + (useTime ? timeBucketIndex(log.time[i]) : 0);
    let s = keyToSeg.get(key);
    if (s === undefined) {
      s = segKeys.length;
      keyToSeg.set(key, s);
      segKeys.push(key);
      count.push(0);
      sumLog.push(0);
    }
    segOfRow[i] = s;
    count[s]++;
    const lp = Math.log(log.priceShown[i]);
    sumLog[s] += lp;
    sumLogAll += lp;
    trials++;
    bookings += log.booked[i];
  }
  const S = segKeys.length;
  const pRef = Float64Array.from(sumLog, (v, s) => Math.exp(v / count[s]));
  const segmentIds = segKeys.map((key) => {
    const b = key % 8;
    const za = (key - b) / 8;
    const a = za % A;
    const z = (za - a) / A;
    return segmentOf(dims, log.zones[z] ?? '', log.assets[a] ?? '', TIME_BUCKETS[b]);
  });
  // pass 2: group by (segment, price), counting per fold
  const labels = count.map((m, s) => segmentFoldLabels(m, folds, seed, s));
  const dealt = new Int32Array(S);
  const priceToGroup = Array.from({ length: S }, () => new Map<number, number>());
  const groupPrice: number[][] = Array.from({ length: S }, () => []);
  const groupFoldN: number[][] = Array.from({ length: S }, () => []);
  const groupFoldK: number[][] = Array.from({ length: S }, () => []);
  for (let i = 0; i < log.n; i++) {
    const s = segOfRow[i];
    if (s < 0) continue;
    const p = log.priceShown[i];
    let g = priceToGroup[s].get(p);
    if (g === undefined) {
      g = groupPrice[s].length;
      priceToGroup[s].set(p, g);
      groupPrice[s].push(p);
      for (let f = 0; f < folds; f++) {
        groupFoldN[s].push(0);
        groupFoldK[s].push(0);
      }
    }
    const f = labels[s][dealt[s]++];
    groupFoldN[s][g * folds + f]++;
    groupFoldK[s][g * folds + f] += log.booked[i];
  }
  const segStart = new Int32Array(S + 1);
  for (let s = 0; s < S; s++) segStart[s + 1] = segStart[s] + groupPrice[s].length;
  const G = segStart[S];
  const x = new Float64Array(G);
  const n = new Float64Array(G);
  const k = new Float64Array(G);
  const foldN = new Float64Array(G * folds);
  const foldK = new Float64Array(G * folds);
  for (let s = 0; s < S; s++) {
    const lr = Math.log(pRef[s]);
    for (let j = 0; j < groupPrice[s].length; j++) {
      const g = segStart[s] + j;
      x[g] = Math.log(groupPrice[s][j]) - lr;
      for (let f = 0; f < folds; f++) {
        const cn = groupFoldN[s][j * folds + f];
        const ck = groupFoldK[s][j * folds + f];
        foldN[g * folds + f] = cn;
        foldK[g * folds + f] = ck;
        n[g] += cn;
        k[g] += ck;
      }
    }
  }
  return { segmentIds, pRef, segStart, x, n, k, foldN, foldK, folds, trials, bookings, pooledRef: trials ? Math.exp(sumLogAll / trials) : NaN };
}

/** A fitted (a, b). */
export interface Theta {
  a: number;
  b: number;
}

/** The pooled maximum-likelihood fit over every group with counts (n, k); a failure is INPUT_UNREADABLE saying why. */
export function fitPooled(tr: BookingTrials, cols: GroupColumns = tr, events = 'event log'): Theta {
  let N = 0;
  let K = 0;
  for (let g = 0; g < cols.n.length; g++) {
    N += cols.n[g];
    K += cols.k[g];
  }
  if (N === 0) throw new RepricerError('INPUT_UNREADABLE', `${events}: no trials for the booking model (search rows with a price_shown, booking rows)`, { file: events });
  if (K === 0 || K === N) throw new RepricerError('INPUT_UNREADABLE', `${events}: the booking model needs both booked and unbooked trials, got ${K} bookings of ${N} trials`, { file: events });
  const r = newtonMaximise(cols, 0, cols.n.length, { a: Math.log(K / (N - K)), b: 0 });
  // separated data have no finite maximiser: Newton walks off with |b| growing while the gradient
  // dies away, and "converges" at a curve that is 0 or 1 to 13 digits at some observed price
  let maxEta = 0;
  for (let g = 0; g < cols.n.length; g++) if (cols.n[g] > 0) maxEta = Math.max(maxEta, Math.abs(r.a + r.b * cols.x[g]));
  if (!r.converged || maxEta > SEPARATION_LOG_ODDS) {
    throw new RepricerError('INPUT_UNREADABLE', `${events}: the pooled booking curve has no finite maximum-likelihood fit: the shown prices do not vary within the segments, or every booking was at a lower (or every one at a higher) price than every unbooked trial`, { file: events });
  }
  return { a: r.a, b: r.b };
}

/** Every segment's ridge fit toward θ₀ at strength λ, warm-started from `start` (or θ₀). */
export function fitSegments(tr: BookingTrials, theta0: Theta, lambda: number, cols: GroupColumns = tr, start?: Theta[]): Theta[] {
  const out: Theta[] = [];
  const ridge = { lambda, a0: theta0.a, b0: theta0.b };
  for (let s = 0; s < tr.segmentIds.length; s++) {
    const r = newtonMaximise(cols, tr.segStart[s], tr.segStart[s + 1], start?.[s] ?? theta0, ridge);
    // with λ > 0 the objective is strictly concave: Newton converges; anything else is a bug
    if (!r.converged) throw new RepricerError('INTERNAL', `booking fit: segment ${tr.segmentIds[s]} did not converge at lambda ${lambda}`);
    out.push({ a: r.a, b: r.b });
  }
  return out;
}

/** The held-out choice of λ (docs/math.md §2.6) with its evidence. */
export interface LambdaChoice {
  lambda: number;
  bestLambda: number;
  heldOutLogLikelihood: number[];
  heldOutStdErr: number[];
  units: number;
}

/**
 * One-standard-error choice from per-unit held-out scores (`units[u][j]` at grid[j]): the largest
 * λ whose summed score is within one standard error of the paired difference to the best one.
 */
export function chooseLambda(grid: readonly number[], units: readonly Float64Array[]): LambdaChoice {
  const J = grid.length;
  const U = units.length;
  const total = new Array<number>(J).fill(0);
  for (const u of units) for (let j = 0; j < J; j++) total[j] += u[j];
  let best = 0;
  for (let j = 1; j < J; j++) if (total[j] > total[best] || (total[j] === total[best] && grid[j] > grid[best])) best = j;
  const se = new Array<number>(J).fill(0);
  for (let j = 0; j < J; j++) {
    if (j === best || U < 2) continue;
    let mean = 0;
    for (const u of units) mean += u[j] - u[best];
    mean /= U;
    let ss = 0;
    for (const u of units) ss += (u[j] - u[best] - mean) ** 2;
    se[j] = Math.sqrt(U * (ss / (U - 1)));
  }
  let chosen = best;
  for (let j = 0; j < J; j++) if (grid[j] > grid[chosen] && total[best] - total[j] <= se[j]) chosen = j;
  return { lambda: grid[chosen], bestLambda: grid[best], heldOutLogLikelihood: total, heldOutStdErr: se, units: U };
}

/** K-fold held-out log-likelihood of every λ of the grid, per (fold, segment) unit, then the one-SE choice. */
export function crossValidateLambda(tr: BookingTrials, grid: readonly number[] = DEFAULT_LAMBDA_GRID, events = 'event log'): LambdaChoice {
  const G = tr.n.length;
  const K = tr.folds;
  const order = grid.map((_, j) => j).sort((i, j) => grid[j] - grid[i]); // largest λ first: warm starts from the pool
  const units: Float64Array[] = [];
  for (let f = 0; f < K; f++) {
    const train = { x: tr.x, n: new Float64Array(G), k: new Float64Array(G) };
    const held = { x: tr.x, n: new Float64Array(G), k: new Float64Array(G) };
    for (let g = 0; g < G; g++) {
      held.n[g] = tr.foldN[g * K + f];
      held.k[g] = tr.foldK[g * K + f];
      train.n[g] = tr.n[g] - held.n[g];
      train.k[g] = tr.k[g] - held.k[g];
    }
    const theta0 = fitPooled(tr, train, `${events} (fold ${f + 1} of ${K})`);
    const ridge = { lambda: 0, a0: theta0.a, b0: theta0.b };
    for (let s = 0; s < tr.segmentIds.length; s++) {
      const from = tr.segStart[s];
      const to = tr.segStart[s + 1];
      let heldTrials = 0;
      for (let g = from; g < to; g++) heldTrials += held.n[g];
      if (heldTrials === 0) continue;
      const scores = new Float64Array(grid.length);
      let start: Theta = theta0;
      for (const j of order) {
        ridge.lambda = grid[j];
        const r = newtonMaximise(train, from, to, start, ridge);
        if (!r.converged) throw new RepricerError('INTERNAL', `booking fit: segment ${tr.segmentIds[s]} did not converge at lambda ${grid[j]} in fold ${f + 1}`);
        start = { a: r.a, b: r.b };
        scores[j] = logLikelihood(held, from, to, r.a, r.b);
      }
      units.push(scores);
    }
  }
  return chooseLambda(grid, units);
}

export interface BookingFitOptions {
  folds?: number;
  seed?: number;
  grid?: readonly number[];
  /** when the model was made (ISO); default now */
  createdAt?: string;
}

/** Fit the booking model of an event log: pooled curve, λ by K-fold held-out likelihood, segment curves. */
export function fitBookingModel(log: EventLog, dims: readonly SegmentDimension[] = SEGMENT_DIMENSIONS, opts: BookingFitOptions = {}): MarketModel {
  const events = log.file;
  const grid = opts.grid ?? DEFAULT_LAMBDA_GRID;
  const tr = bookingTrials(log, dims, opts.folds ?? BOOKING_FOLDS, opts.seed ?? BOOKING_FOLD_SEED);
  const theta0 = fitPooled(tr, tr, events);
  const choice = crossValidateLambda(tr, grid, events);
  const thetas = fitSegments(tr, theta0, choice.lambda);
  const segments: Record<string, SegmentCurve> = {};
  const ids = tr.segmentIds.map((id, s) => [id, s] as const).sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0));
  for (const [id, s] of ids) {
    let n = 0;
    let k = 0;
    for (let g = tr.segStart[s]; g < tr.segStart[s + 1]; g++) {
      n += tr.n[g];
      k += tr.k[g];
    }
    segments[id] = { a: thetas[s].a, b: thetas[s].b, pRef: tr.pRef[s], trials: n, bookings: k };
  }
  return {
    format: MARKET_MODEL_FORMAT,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    segmentBy: SEGMENT_DIMENSIONS.filter((d) => dims.includes(d)),
    pooled: { a: theta0.a, b: theta0.b, pRef: tr.pooledRef, trials: tr.trials, bookings: tr.bookings },
    segments,
    fit: {
      events,
      trials: tr.trials,
      bookings: tr.bookings,
      lambda: choice.lambda,
      rule: 'one-se',
      bestLambda: choice.bestLambda,
      folds: tr.folds,
      grid: [...grid],
      heldOutLogLikelihood: choice.heldOutLogLikelihood,
      heldOutStdErr: choice.heldOutStdErr,
      units: choice.units,
    },
  };
}
