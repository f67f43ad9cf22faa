// TypeScript twin of assembly/pricing.ts.
import { erfc, logisticCdf } from './noise.js';

const INV_SQRT2 = 0.7071067811865476;

export function linearPredictor(n: number, d: number, x: Float64Array, table: Float64Array, index: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const xr = i * d;
    const tr = index[i] * d;
    let s = 0.0;
    for (let j = 0; j < d; j++) s += x[xr + j] * table[tr + j];
    out[i] = s;
  }
}

export function winProbabilityAt(family: number, scale: number, n: number, u: Float64Array, p: Float64Array, out: Float64Array): void {
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) {
    const z = (p[i] - u[i]) * inv;
    out[i] = family === 0 ? 0.5 * erfc(z * INV_SQRT2) : logisticCdf(-z);
  }
}
