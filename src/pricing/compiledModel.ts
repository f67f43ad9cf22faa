/**
 * A model laid out for the kernels: one coefficient table (row 0 = common estimate, row k = the
 * k-th product) and one covariance table, both row-major, plus the product -> row index map.
 *
 * Cold-start uncertainty: a product the model has not seen deviates from the common estimate by
 * an unknown delta_i (MATH.md §1.1), so its covariance is the common estimate's plus the spread of
 * the fitted products around it (the between-product covariance, §5.3 step 1, without the
 * sampling-noise correction, which keeps it conservative).
 */
import type { Model, ThetaEntry } from '../model/format.js';
import { modelDim, ModelError } from '../model/format.js';
import type { NoiseSpec } from '../core/validate.js';
import { packCovariances } from '../core/quote.js';

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
  const cov = new Float64Array((K + 1) * D * D);
  const index = new Map<string, number>();
  table.set(model.common.theta, 0);
  entryCov(model.common, D, cov, 0);
  ids.forEach((id, k) => {
    const e = model.products[id];
    table.set(e.theta, (k + 1) * D);
    entryCov(e, D, cov, (k + 1) * D * D);
    index.set(id, k + 1);
  });
  if (K >= 2) {
    const c0 = model.common.theta;
    for (let k = 1; k <= K; k++) {
      for (let a = 0; a < D; a++) {
        const da = table[k * D + a] - c0[a];
        for (let b = 0; b < D; b++) cov[a * D + b] += (da * (table[k * D + b] - c0[b])) / K;
      }
    }
  }
  checkCovariances(cov, D, ids);
  const packed = packCovariances(cov, D);
  return {
    D,
    reservation: model.reservation,
    noise: { family: model.noise.family, scale: model.noise.scale },
    table,
    cov: packed.values,
    covAt: packed.at,
    index,
    features: model.features.slice(),
    intercept: model.intercept,
  };
}

/** Every covariance finite and symmetric (the delta-method kernel trusts the table). */
function checkCovariances(cov: Float64Array, D: number, ids: string[]): void {
  const dd = D * D;
  for (let k = 0; k * dd < cov.length; k++) {
    const o = k * dd;
    const name = k === 0 ? 'common.cov' : `products.${ids[k - 1]}.cov`;
    for (let r = 0; r < D; r++) {
      for (let s = r; s < D; s++) {
        const a = cov[o + r * D + s];
        const b = cov[o + s * D + r];
        if (!Number.isFinite(a) || !Number.isFinite(b)) throw new ModelError(`invalid model: ${name}: entry (${r}, ${s}) must be finite`);
        if (Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) throw new ModelError(`invalid model: ${name}: not symmetric at (${r}, ${s}): ${a} vs ${b}`);
      }
    }
  }
}
