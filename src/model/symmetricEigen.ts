/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations, for the eigenvalue
 * clipping of the empirical-Bayes prior (docs/math.md §5.3). D is the number of coefficients
 * (tens), the matrix is decomposed once per fit, so a plain O(D³)-per-sweep method is enough and
 * needs no kernel; Jacobi is chosen because it is accurate for small eigenvalues (the clipped
 * ones) and its eigenvectors are orthonormal to rounding.
 */
import { RepricerError } from '../core/errors.js';

export interface SymmetricEigen {
  /** eigenvalues, ascending */
  values: Float64Array;
  /** eigenvectors as columns of a D×D row-major matrix: column j belongs to values[j] */
  vectors: Float64Array;
}

/** Eigenvalues and eigenvectors of the symmetric D×D row-major matrix `a` (only its upper triangle is read). */
export function symmetricEigen(a: ArrayLike<number>, D: number): SymmetricEigen {
  const A = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      A[i * D + j] = a[i * D + j];
      A[j * D + i] = a[i * D + j];
    }
  }
  const V = new Float64Array(D * D);
  for (let i = 0; i < D; i++) V[i * D + i] = 1;
  let scale = 0;
  for (let i = 0; i < D * D; i++) scale = Math.max(scale, Math.abs(A[i]));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) off += A[i * D + j] * A[i * D + j];
    if (!(off > (1e-30 * scale) ** 2)) return sorted(A, V, D);
    for (let p = 0; p < D; p++) {
      for (let q = p + 1; q < D; q++) {
        const apq = A[p * D + q];
        if (apq === 0) continue;
        // rotation angle that zeroes A[p][q] (Golub and Van Loan, Algorithm 8.5.2)
        const tau = (A[q * D + q] - A[p * D + p]) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < D; k++) {
          const akp = A[k * D + p];
          const akq = A[k * D + q];
          A[k * D + p] = c * akp - s * akq;
          A[k * D + q] = s * akp + c * akq;
        }
        for (let k = 0; k < D; k++) {
          const apk = A[p * D + k];
          const aqk = A[q * D + k];
          A[p * D + k] = c * apk - s * aqk;
          A[q * D + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < D; k++) {
          const vkp = V[k * D + p];
          const vkq = V[k * D + q];
          V[k * D + p] = c * vkp - s * vkq;
          V[k * D + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  throw new RepricerError('INTERNAL', `symmetricEigen: Jacobi sweeps did not converge for a ${D}×${D} matrix`);
}

function sorted(A: Float64Array, V: Float64Array, D: number): SymmetricEigen {
  const order = Array.from({ length: D }, (_, i) => i).sort((i, j) => A[i * D + i] - A[j * D + j]);
  const values = new Float64Array(D);
  const vectors = new Float64Array(D * D);
  order.forEach((src, j) => {
    values[j] = A[src * D + src];
    for (let k = 0; k < D; k++) vectors[k * D + j] = V[k * D + src];
  });
  return { values, vectors };
}

/** Q·diag(values)·Qᵀ for the eigenvectors Q (columns), exactly symmetric. */
export function fromEigen(values: ArrayLike<number>, vectors: Float64Array, D: number): Float64Array {
  const out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      let s = 0;
      for (let k = 0; k < D; k++) s += vectors[i * D + k] * values[k] * vectors[j * D + k];
      out[i * D + j] = s;
      out[j * D + i] = s;
    }
  }
  return out;
}
