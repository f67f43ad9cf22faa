// Column kernels for the batch job's Parquet reader: feature pages are decompressed
// straight into a column-major block in WASM memory, checked here and turned into the engine's
// row-major x here, so no feature value passes through a JavaScript array.

/** Index of the first value in src[0, n) that is NaN or infinite, or -1 when all are finite. */
export function firstNonFinite(src: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const v = load<f64>(src + (<usize>i << 3));
    if (v - v != 0.0) return i; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

/**
 * Column-major features (column j at cols + 8 j n) into row-major x (n x d), x[r][0] = 1 and the
 * features after it when `intercept` is 1. In blocks of 256 rows, so the block of x being filled
 * stays in cache while each column's slice streams in.
 */
export function columnsToRows(cols: usize, n: i32, f: i32, x: usize, d: i32, intercept: i32): void {
  const off = intercept != 0 ? 1 : 0;
  const rowBytes = <usize>d << 3;
  for (let r0 = 0; r0 < n; r0 += 256) {
    const r1 = min(n, r0 + 256);
    if (off) {
      for (let r = r0; r < r1; r++) store<f64>(x + <usize>r * rowBytes, 1.0);
    }
    for (let j = 0; j < f; j++) {
      const src = cols + ((<usize>j * <usize>n) << 3);
      let p = x + <usize>r0 * rowBytes + (<usize>(off + j) << 3);
      for (let r = r0; r < r1; r++) {
        store<f64>(p, load<f64>(src + (<usize>r << 3)));
        p += rowBytes;
      }
    }
  }
}
