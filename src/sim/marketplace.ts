/**
 * The marketplace experiment (docs/marketplace.md): the optimality gap ER(p̄_t) − ER* of each
 * market-clearing method of src/market/solvers.ts against the number of participant observations
 * it used. A stochastic step observes one participant; a full-gradient step (`gradient`, and the
 * gradient at `y` of `accelerated`) observes all K + m. ER* is the potential at the prices of
 * `accelerated` run to a KKT residual of 1e-10. The stochastic methods run once per seed; the
 * deterministic ones do not use a seed and run once (their spread is 0).
 */
import { RepricerError } from '../core/errors.js';
import type { MarketPotential } from '../market/potential.js';
import { MARKET_METHODS, solveMarket, type MarketMethod } from '../market/solvers.js';

export const REFERENCE_TOL = 1e-10;
export const DEFAULT_MARKETPLACE_STEPS = 100000;
export const DEFAULT_MARKETPLACE_SEEDS = 10;
/** checkpoints per decade of steps */
export const CHECKPOINTS_PER_DECADE = 8;

export interface MarketplaceConfig {
  methods: MarketMethod[];
  /** steps per method and seed */
  steps: number;
  /** seeds 1..seeds for the stochastic methods */
  seeds: number;
}

export interface MarketplaceRow {
  method: MarketMethod;
  steps: number;
  observations: number;
  meanGap: number;
  minGap: number;
  maxGap: number;
}

export interface MarketplaceResult {
  config: MarketplaceConfig;
  /** K + m */
  participants: number;
  /** ER* and the reference's KKT residual and iterations */
  reference: { value: number; residual: number; steps: number };
  rows: MarketplaceRow[];
  /** gaps below 0 (floating-point round-off near ER*) that were set to 0: count and the most negative */
  clipped: { count: number; most: number };
}

export function isDeterministic(m: MarketMethod): boolean {
  return m === 'gradient' || m === 'accelerated';
}

/** Participant observations per step: 1 for a stochastic method, K + m for a full-gradient one. */
export function observationsPerStep(m: MarketMethod, participants: number): number {
  return isDeterministic(m) ? participants : 1;
}

/** Log-spaced step counts round(10^(j/8)), deduplicated, up to and including `steps`. */
export function checkpointSteps(steps: number): number[] {
  const out: number[] = [];
  for (let j = 0; ; j++) {
    const t = Math.round(Math.pow(10, j / CHECKPOINTS_PER_DECADE));
    if (t >= steps) break;
    if (out.length === 0 || t > out[out.length - 1]) out.push(t);
  }
  out.push(steps);
  return out;
}

export function checkMarketplaceConfig(c: MarketplaceConfig): void {
  if (!(Number.isInteger(c.steps) && c.steps >= 1)) throw new RepricerError('INVALID_ARGUMENT', `marketplace: steps must be an integer >= 1, got ${c.steps}`);
  if (!(Number.isInteger(c.seeds) && c.seeds >= 1)) throw new RepricerError('INVALID_ARGUMENT', `marketplace: seeds must be an integer >= 1, got ${c.seeds}`);
  if (c.methods.length === 0) throw new RepricerError('INVALID_ARGUMENT', 'marketplace: at least one method');
  for (const m of c.methods) if (!(MARKET_METHODS as readonly string[]).includes(m)) throw new RepricerError('INVALID_ARGUMENT', `marketplace: unknown method ${JSON.stringify(m)}`);
  if (new Set(c.methods).size !== c.methods.length) throw new RepricerError('INVALID_ARGUMENT', 'marketplace: a method is listed twice');
}

/** Run the experiment on a market already in WASM memory (the caller disposes it). */
export function runMarketplace(pot: MarketPotential, config: MarketplaceConfig): MarketplaceResult {
  checkMarketplaceConfig(config);
  const ref = solveMarket(pot, { method: 'accelerated', steps: 1_000_000, tol: REFERENCE_TOL });
  if (!(ref.residual <= REFERENCE_TOL)) throw new RepricerError('INTERNAL', `marketplace: the reference did not reach a KKT residual of ${REFERENCE_TOL} (got ${ref.residual})`);
  const star = ref.value;
  const N = pot.participants;
  const at = checkpointSteps(config.steps);
  const clipped = { count: 0, most: 0 };
  const rows: MarketplaceRow[] = [];
  for (const method of config.methods) {
    const seeds = isDeterministic(method) ? [1] : Array.from({ length: config.seeds }, (_, s) => s + 1);
    // gaps[c][s]: checkpoint c, seed s
    const gaps: number[][] = at.map(() => []);
    for (const seed of seeds) {
      let c = 0;
      solveMarket(pot, {
        method,
        steps: config.steps,
        seed,
        // the deterministic methods run every step (the smallest positive tolerance: they stop
        // only at an exact fixed point, where later checkpoints get the same prices)
        tol: Number.MIN_VALUE,
        checkpoints: at,
        onCheckpoint: (t, p) => {
          if (t !== at[c]) throw new RepricerError('INTERNAL', `marketplace: checkpoint ${t}, expected ${at[c]}`);
          let gap = pot.evaluate(p).value - star;
          if (gap < 0) {
            clipped.count++;
            clipped.most = Math.min(clipped.most, gap);
            gap = 0;
          }
          gaps[c++].push(gap);
        },
      });
      if (c !== at.length) throw new RepricerError('INTERNAL', `marketplace: ${method} reported ${c} of ${at.length} checkpoints`);
    }
    at.forEach((t, c) => {
      const g = gaps[c];
      rows.push({ method, steps: t, observations: t * observationsPerStep(method, N), meanGap: g.reduce((a, b) => a + b, 0) / g.length, minGap: Math.min(...g), maxGap: Math.max(...g) });
    });
  }
  return { config, participants: N, reference: { value: star, residual: ref.residual, steps: ref.steps }, rows, clipped };
}

/** Observations a method's mean gap first needs to be at or below `eps` (null: not within the run). */
export function observationsToReach(rows: readonly MarketplaceRow[], method: MarketMethod, eps: number): number | null {
  for (const r of rows) if (r.method === method && r.meanGap <= eps) return r.observations;
  return null;
}
