/**
 * The cold-start measurement: how many of its own observations a product that appears late needs
 * before the prices learned for it reach a share of the clairvoyant expected reward, with TSMT's
 * stage II around the stage-I estimate against individual learning, the pooled estimate and the
 * empirical-Bayes MAP under a prior learned from the other products (docs/math.md §5.3).
 */
import type { WasmCore } from '../core/wasm.js';
import type { ObservationColumns } from '../core/likelihood.js';
import { lambdaFor } from '../model/tsmt.js';
import { fitNewton } from '../core/solvers.js';
import { fitTsmt } from '../model/tsmt.js';
import { individualOptions } from '../model/bayesFit.js';
import { empiricalBayesPrior, kShotMap, type EmpiricalBayesPrior, type PriorMethod } from '../model/empiricalBayes.js';
import { defaultRfqConfig, type ColdStartConfig } from './config.js';
import { Rng, STREAM_COLD, noiseDraw, unitVector } from './random.js';
import { deviation, dotRow, expectedReward, generateMarket, optimalPrices } from './rfqMarket.js';
import { clairvoyant, runPolicy } from './episodes.js';

export const COLD_START_METHODS = ['tsmt', 'individual', 'pooled', 'bayes'] as const;
export type ColdStartMethod = (typeof COLD_START_METHODS)[number];

export interface ColdStartResult {
  config: ColdStartConfig;
  /** Per method, per grid point: reward ratio of each instance (instances × grid). */
  ratio: Record<ColdStartMethod, number[][]>;
  /** Per method: mean ratio per grid point. */
  meanRatio: Record<ColdStartMethod, number[]>;
  /** Per method: per instance, the smallest n in the grid from which the ratio stays >= target (null: never). */
  needed: Record<ColdStartMethod, (number | null)[]>;
  /** c_λ used for the new product, per instance. */
  lambdaC: number[];
  /** bayes: how each instance's prior was formed (docs/math.md §5.3) and from how many products. */
  prior: { method: PriorMethod; products: number; clipped: number }[];
}

function perMethod<T>(make: () => T): Record<ColdStartMethod, T> {
  return { tsmt: make(), individual: make(), pooled: make(), bayes: make() };
}

/**
 * The bayes method's prior from the warm-up: every round's row (all episodes, at the prices the
 * tsmt policy quoted), stage I over them as θ_0, each product's own MLE and covariance (the
 * `individual` fit with standard errors), then the moment estimate of Σ_0 (empiricalBayesPrior).
 */
function warmupPrior(core: WasmCore, cs: ColdStartConfig, rows: { obs: ObservationColumns; groups: Int32Array }): EmpiricalBayesPrior {
  const opts = individualOptions({ noise: cs.noise, radius: cs.radius, tol: cs.tol });
  const indiv = fitTsmt(core, rows.obs, rows.groups, cs.products, opts);
  const counts = new Array<number>(cs.products).fill(0);
  for (const g of rows.groups) counts[g]++;
  const mles = indiv.products.flatMap((p, i) => (p.cov ? [{ theta: p.theta, cov: p.cov, n: counts[i] }] : []));
  return empiricalBayesPrior(indiv.common.theta, mles, cs.dim, { radius: cs.radius });
}

/**
 * Cold start: products 1..M trade for `warmup` rounds under the online tsmt policy; then a new
 * product (θ_new = θ_0 + δ_new, drawn like the others) gets n of its own quotes, priced at the
 * cold-start price p*(xᵀθ̂_0) with θ̂_0 the stage-I estimate of the last refit. From those n rows
 * TSMT stage II (around θ̂_0, λ for M+1 products) and individual learning (ball-constrained MLE,
 * θ̂_0 at n = 0) and the empirical-Bayes MAP (prior from every warm-up row, warmupPrior; its θ_0
 * at n = 0) each estimate θ_new; the score is Σ R(p*(xᵀθ̂); xᵀθ_new) / Σ R(p*(xᵀθ_new); xᵀθ_new)
 * over fresh contexts x (with c = 0 every reward is positive).
 */
export function simulateColdStart(core: WasmCore, cs: ColdStartConfig, onInstance?: (k: number) => void): ColdStartResult {
  const ratio = perMethod<number[][]>(() => []);
  const priors: ColdStartResult['prior'] = [];
  const nMax = Math.max(...cs.grid);
  const chosen: number[] = [];
  const d = cs.dim;
  for (let k = 0; k < cs.instances; k++) {
    const cfg = defaultRfqConfig({ products: cs.products, dim: d, delta: cs.delta, horizon: cs.warmup, instances: 1, seed: cs.seed, noise: cs.noise, reservation: cs.reservation, radius: cs.radius, lambdaC: cs.lambdaC, tol: cs.tol, policies: ['tsmt'] });
    const mk = generateMarket(cfg, k);
    const { pStar, rStar } = clairvoyant(core, cfg, mk);
    const run = runPolicy(core, cfg, mk, 'tsmt', pStar, rStar, true);
    const theta0 = run.theta0;
    const prior = warmupPrior(core, cs, run.rows!);
    priors.push({ method: prior.method, products: prior.products, clipped: prior.clipped });
    const cLam = cs.lambdaC === 'auto' ? (run.lambdaC ?? 0.3) : cs.lambdaC;
    chosen.push(cLam);
    const rng = new Rng(cs.seed, k, STREAM_COLD);
    const thetaNew = new Float64Array(d);
    const del = deviation(rng, d, cs.delta);
    for (let j = 0; j < d; j++) thetaNew[j] = mk.theta0[j] + del[j];
    // the new product's own quotes, priced at the cold-start price
    const x = new Float64Array(nMax * d);
    const uHat = new Float64Array(nMax);
    const uTrue = new Float64Array(nMax);
    for (let t = 0; t < nMax; t++) {
      x.set(unitVector(rng, d), t * d);
      uHat[t] = dotRow(x, t, theta0, 0, d);
      uTrue[t] = dotRow(x, t, thetaNew, 0, d);
    }
    const price = optimalPrices(core, uHat, cs.reservation, cs.noise);
    const won = new Float64Array(nMax);
    const comp = new Float64Array(nMax);
    for (let t = 0; t < nMax; t++) {
      const y = uTrue[t] + noiseDraw(rng, cs.noise);
      won[t] = price[t] <= y ? 1 : 0;
      comp[t] = won[t] ? y : NaN;
    }
    // evaluation contexts
    const xe = new Float64Array(cs.evalContexts * d);
    const ue = new Float64Array(cs.evalContexts);
    for (let t = 0; t < cs.evalContexts; t++) {
      xe.set(unitVector(rng, d), t * d);
      ue[t] = dotRow(xe, t, thetaNew, 0, d);
    }
    const pe = optimalPrices(core, ue, cs.reservation, cs.noise);
    const re = expectedReward(core, cs.noise, cs.reservation, pe, ue);
    let best = 0;
    for (let t = 0; t < cs.evalContexts; t++) best += re[t];
    const score = (th: Float64Array): number => {
      const u = new Float64Array(cs.evalContexts);
      for (let t = 0; t < cs.evalContexts; t++) u[t] = dotRow(xe, t, th, 0, d);
      const p = optimalPrices(core, u, cs.reservation, cs.noise);
      const r = expectedReward(core, cs.noise, cs.reservation, p, ue);
      let s = 0;
      for (let t = 0; t < cs.evalContexts; t++) s += r[t];
      return s / best;
    };
    const row = perMethod<number[]>(() => []);
    const pooledScore = score(theta0);
    const priorScore = score(prior.theta);
    for (const n of cs.grid) {
      row.pooled.push(pooledScore);
      if (n === 0) {
        row.tsmt.push(pooledScore);
        row.individual.push(pooledScore);
        row.bayes.push(priorScore);
        continue;
      }
      const obs: ObservationColumns = { n, d, x: x.slice(0, n * d), won: won.slice(0, n), price: price.slice(0, n), competitor: comp.slice(0, n) };
      const lam = lambdaFor(cLam, d, cs.products + 1, n);
      const ts = fitNewton(core, obs, cs.noise, { radius: cs.radius, normalize: 'mean', penalty: { kind: 'l2norm', center: theta0, lambda: lam }, start: theta0, tol: cs.tol });
      const ind = fitNewton(core, obs, cs.noise, { radius: cs.radius, normalize: 'mean', start: theta0, tol: cs.tol });
      row.tsmt.push(score(Float64Array.from(ts.theta)));
      row.individual.push(score(Float64Array.from(ind.theta)));
      row.bayes.push(score(kShotMap(core, obs, prior, { noise: cs.noise, tol: cs.tol }).theta));
    }
    for (const m of COLD_START_METHODS) ratio[m].push(row[m]);
    onInstance?.(k);
  }
  const meanRatio = perMethod<number[]>(() => []);
  const needed = perMethod<(number | null)[]>(() => []);
  for (const m of COLD_START_METHODS) {
    for (let g = 0; g < cs.grid.length; g++) meanRatio[m].push(ratio[m].reduce((a, r) => a + r[g], 0) / cs.instances);
    for (const r of ratio[m]) {
      let first: number | null = null;
      for (let g = cs.grid.length - 1; g >= 0; g--) {
        if (r[g] >= cs.target) first = cs.grid[g];
        else break;
      }
      needed[m].push(first);
    }
  }
  return { config: cs, ratio, meanRatio, needed, lambdaC: chosen, prior: priors };
}
