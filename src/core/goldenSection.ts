/**
 * Golden-section search for the maximum of a function on a bracket [a, b] that holds one local
 * maximum (the callers bracket it by a grid first, so a multi-modal objective is handled there).
 * Each step shrinks the bracket by the golden ratio with one new evaluation; the search stops when
 * the bracket is no longer than `relTol` times `scale` (times the bracket's current upper end when
 * no scale is given). The final bracket and its better interior point are returned, so a caller can
 * take either the midpoint or that point.
 */
const PHI = (Math.sqrt(5) - 1) / 2;

export interface GoldenBracket {
  /** the final bracket */
  a: number;
  b: number;
  /** the better of the two interior points and its value */
  x: number;
  value: number;
}

export function goldenSectionMax(f: (x: number) => number, a: number, b: number, relTol: number, scale?: number): GoldenBracket {
  let x1 = b - PHI * (b - a), x2 = a + PHI * (b - a);
  let f1 = f(x1), f2 = f(x2);
  while (b - a > relTol * (scale ?? b)) {
    if (f1 >= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - PHI * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + PHI * (b - a);
      f2 = f(x2);
    }
  }
  return f1 >= f2 ? { a, b, x: x1, value: f1 } : { a, b, x: x2, value: f2 };
}
