// The golden-section search both market maximisers refine their grid optimum with
// (src/core/goldenSection.ts): closed-form maxima, the stopping rule, and the returned point.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { goldenSectionMax } from '../src/core/goldenSection.js';

describe('goldenSectionMax', () => {
  it('finds the vertex of a concave parabola to the tolerance, anywhere in the bracket', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 100, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }), (width, at, curv) => {
        const lo = 1, hi = 1 + width, peak = lo + at * width;
        const r = goldenSectionMax((x) => -curv * (x - peak) ** 2 + 3, lo, hi, 1e-10, hi);
        expect(r.b - r.a).toBeLessThanOrEqual(1e-10 * hi);
        expect(r.a).toBeLessThanOrEqual(r.x);
        expect(r.x).toBeLessThanOrEqual(r.b);
        // near a smooth maximum f changes by O(dx²), so doubles locate it to about √ε of the scale:
        // that, not the bracket length, bounds the error (the callers' grids carry the rest)
        expect(Math.abs(r.x - peak)).toBeLessThan(2e-7 * hi);
        expect(r.value).toBe(-curv * (r.x - peak) ** 2 + 3);
      }),
      { numRuns: 300 },
    );
  });

  it('the revenue p·e^{-p/θ} peaks at θ (closed form); the relative rule scales with the moving upper end', () => {
    const theta = 7.3;
    const r = goldenSectionMax((p) => p * Math.exp(-p / theta), 1, 20, 1e-10);
    expect(Math.abs(r.x - theta)).toBeLessThan(1e-6);
    expect(r.b - r.a).toBeLessThanOrEqual(1e-10 * r.b);
  });

  it('a maximum at an end of the bracket is approached from inside', () => {
    const r = goldenSectionMax((x) => x, 2, 3, 1e-12);
    expect(3 - r.x).toBeLessThan(1e-9);
  });
});
