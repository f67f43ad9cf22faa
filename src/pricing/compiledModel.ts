/**
 * A model laid out for the kernels: one coefficient table (row 0 = common estimate, row k = the
 * k-th product) and one covariance table, both row-major, plus the product -> row index map.
 *
 * Cold-start uncertainty: a product the model has not seen deviates from the common estimate by
 * an unknown delta_i (docs/math.md §1.1), so its covariance is the common estimate's plus the spread of
 * the fitted products around it (the between-product covariance, §5.3 step 1, without the
 * sampling-noise correction, which keeps it conservative). A model fitted with the empirical-Bayes
 * prior (strategy bayes) carries the between-product covariance itself, Sigma_0, estimated with that
 * correction: its cold-start row is then theta_0 with covariance common.cov + Sigma_0 (the spread
 * of its products, shrunk towards theta_0 by the MAP, would understate Sigma_0).
 */
import type { Model, ThetaEntry } from '../model/format.js';
import { modelDim, modelInvalid } from '../model/format.js';
import type { NoiseSpec } from '../core/validate.js';
import { packCovariances, type PackedCovariances } from '../core/quote.js';

export interface CompiledModel {
  D: number;
  /** c for rows without a cost (the model's `reservation`) */
  reservation: number;
  noise: NoiseSpec;
  /** (K+1) x D */
  table: Float64Array;
  /** the K+1 covariance matrices in the delta-method kernel's layout (packCovariances): values ... */
  cov: Float64Array;
  /** ... and where each matrix starts in them (and whether it is diagonal) */
  covAt: Int32Array;
  index: Map<string, number>;
  /** column names in x order, without the intercept */
  features: string[];
  intercept: boolean;
}

function entryCov(e: ThetaEntry, D: number, out: Float64Array, off: number): void {
  if (e.cov) {
    out.set(e.cov, off);
  } else if (e.stdErr) {
    for (let a = 0; a < D; a++) out[off + a * D + a] = e.stdErr[a] * e.stdErr[a];
  }
}

export function compileModel(model: Model): CompiledModel {
  const D = modelDim(model);
  const ids = Object.keys(model.products);
  const K = ids.length;
  const table = new Float64Array((K + 1) * D);
  const index = new Map<string, number>();
  // cold start: the prior's mean when there is one (equal to common.theta by construction)
  table.set(model.prior ? model.prior.theta : model.common.theta, 0);
  ids.forEach((id, k) => {
    table.set(model.products[id].theta, (k + 1) * D);
    index.set(id, k + 1);
  });
  // Covariances straight into the kernel's layout (packCovariances), one matrix at a time: a
  // product with standard errors only is diagonal as it stands, and no dense (K+1) x D x D block
  // (46 MB for the 20 000-product bench model) is built on the way.
  const dense = new Float64Array(D * D);
  const parts: PackedCovariances[] = [];
  for (let k = 0; k <= K; k++) {
    const e = k === 0 ? model.common : model.products[ids[k - 1]];
    if (k > 0 && !e.cov) {
      const v = new Float64Array(D);
      if (e.stdErr) for (let a = 0; a < D; a++) v[a] = e.stdErr[a] * e.stdErr[a];
      checkCovariance(v, D, `products.${ids[k - 1]}.stdErr`, true);
      parts.push({ values: v, at: Int32Array.of(-1) });
      continue;
    }
    dense.fill(0);
    entryCov(e, D, dense, 0);
    if (k === 0 && model.prior) {
      const S0 = model.prior.cov;
      for (let a = 0; a < D * D; a++) dense[a] += S0[a];
    } else if (k === 0 && K >= 2) {
      const c0 = model.common.theta;
      for (let j = 1; j <= K; j++) {
        for (let a = 0; a < D; a++) {
          const da = table[j * D + a] - c0[a];
          for (let b = 0; b < D; b++) dense[a * D + b] += (da * (table[j * D + b] - c0[b])) / K;
        }
      }
    }
    checkCovariance(dense, D, k === 0 ? 'common.cov' : `products.${ids[k - 1]}.cov`, false);
    parts.push(packCovariances(dense, D));
  }
  let total = 0;
  for (const p of parts) total += p.values.length;
  const values = new Float64Array(total);
  const at = new Int32Array(K + 1);
  let o = 0;
  parts.forEach((p, k) => {
    values.set(p.values, o);
    at[k] = p.at[0] < 0 ? -o - 1 : o;
    o += p.values.length;
  });
  return {
    D,
    reservation: model.reservation,
    noise: { family: model.noise.family, scale: model.noise.scale },
    table,
    cov: values,
    covAt: at,
    index,
    features: model.features.slice(),
    intercept: model.intercept,
  };
}

/**
 * A covariance finite and symmetric (the delta-method kernel trusts the table): a dense D x D
 * matrix, or with `diagonal` its D diagonal entries.
 */
function checkCovariance(m: Float64Array, D: number, name: string, diagonal: boolean): void {
  if (diagonal) {
    for (let r = 0; r < D; r++) if (!Number.isFinite(m[r])) throw modelInvalid(`invalid model: ${name}: entry ${r} must give a finite variance`);
    return;
  }
  for (let r = 0; r < D; r++) {
    for (let s = r; s < D; s++) {
      const a = m[r * D + s];
      const b = m[s * D + r];
      if (!Number.isFinite(a) || !Number.isFinite(b)) throw modelInvalid(`invalid model: ${name}: entry (${r}, ${s}) must be finite`);
      if (Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) throw modelInvalid(`invalid model: ${name}: not symmetric at (${r}, ${s}): ${a} vs ${b}`);
    }
  }
}
