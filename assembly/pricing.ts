// Kernels of the quote engine that sit between the model and the §1.5 quote: the competitor's
// mean quote u = x . theta_k(i) with a per-row coefficient table, and the win probability at a
// published (possibly clipped) price.
import { erfc, logisticCdf } from "./noise";

const INV_SQRT2: f64 = 0.7071067811865476;

/**
 * out[i] = sum_j x[i*d + j] * table[k(i)*d + j], k(i) = index[i] (f64 holding an integer).
 * x row-major n x d, table row-major K x d (docs/math.md §1.1: u = x^T theta_i).
 */
export function linearPredictor(n: i32, d: i32, xPtr: usize, tablePtr: usize, indexPtr: usize, outPtr: usize): void {
  const rowBytes = <usize>d << 3;
  for (let i = 0; i < n; i++) {
    const xr = xPtr + <usize>i * rowBytes;
    const tr = tablePtr + <usize>(<i32>load<f64>(indexPtr + (<usize>i << 3))) * rowBytes;
    let s: f64 = 0.0;
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      let acc = f64x2.splat(0.0);
      for (; j + 1 < d; j += 2) {
        const o = <usize>j << 3;
        acc = f64x2.add(acc, f64x2.mul(v128.load(xr + o), v128.load(tr + o)));
      }
      s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    }
    for (; j < d; j++) {
      const o = <usize>j << 3;
      s += load<f64>(xr + o) * load<f64>(tr + o);
    }
    store<f64>(outPtr + (<usize>i << 3), s);
  }
}

/** out[i] = P(competitor >= p[i]) = 1 - F((p[i] - u[i]) / scale), computed as an upper tail. */
export function winProbabilityAt(family: i32, scale: f64, n: i32, uPtr: usize, pPtr: usize, outPtr: usize): void {
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 3;
    const z = (load<f64>(pPtr + o) - load<f64>(uPtr + o)) * inv;
    const q = family == 0 ? 0.5 * erfc(z * INV_SQRT2) : logisticCdf(-z);
    store<f64>(outPtr + o, q);
  }
}
