// Dense-network kernels in f32 (docs/math.md §9): one matrix product C = A·Bᵀ with an optional bias
// and activation, a transpose, the activation derivative, row sums, Adam and the soft update.
// core/mlp.ts composes them per layer: forward Y = act(X·Wᵀ + b); backward δ = G ⊙ act'(Y),
// dW = δᵀ·X (as δᵀ·(Xᵀ)ᵀ), db = row sums of δᵀ, dX = δ·W (as δ·(Wᵀ)ᵀ). Every operand is a byte
// offset into linear memory, row-major f32; nothing is checked here.
//
// The product keeps both operands' rows contiguous along the summed index, so the SIMD build reads
// four floats of each with one v128 load. A 4 x 2 tile of C is held in eight accumulators (eight
// f32x4 sums plus six loaded vectors fit the sixteen vector registers of x86-64). Sums run in a
// fixed order (lanes, then lane 0+1 and 2+3, then the scalar tail), so results are the same run to
// run; the scalar build sums in plain index order and differs from the SIMD build only by rounding.

const ACT_RELU: i32 = 1;
const ACT_TANH: i32 = 2;

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline function activate(s: f32, act: i32): f32 {
  if (act == ACT_RELU) return s > 0 ? s : <f32>0;
  if (act == ACT_TANH) return Mathf.tanh(s);
  return s;
}

/** Σ_p a[p]·b[p] over k floats. */
function dot(a: usize, b: usize, k: i32): f32 {
  let p = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; p + 4 <= k; p += 4) {
      const o = <usize>p << 2;
      acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    }
    s = hsum(acc);
  }
  for (; p < k; p++) s += ld(a, p) * ld(b, p);
  return s;
}

/** C[i][j] for one (i, j): dot plus the epilogue. */
// @ts-ignore: decorator
@inline function put(c: usize, n: i32, i: i32, j: i32, s: f32, bias: usize, act: i32): void {
  if (bias != 0) s += ld(bias, j);
  st(c, i * n + j, activate(s, act));
}

/** Rows i0..i0+3 by columns j0, j0+1 of C. */
function tile4x2(a: usize, b: usize, c: usize, n: i32, k: i32, i0: i32, j0: i32, bias: usize, act: i32): void {
  const rs = <usize>k << 2;
  const a0 = a + <usize>i0 * rs;
  const a1 = a0 + rs;
  const a2 = a1 + rs;
  const a3 = a2 + rs;
  const b0 = b + <usize>j0 * rs;
  const b1 = b0 + rs;
  let s00: f32 = 0, s01: f32 = 0, s10: f32 = 0, s11: f32 = 0;
  let s20: f32 = 0, s21: f32 = 0, s30: f32 = 0, s31: f32 = 0;
  let p = 0;
  if (ASC_FEATURE_SIMD) {
    let v00 = f32x4.splat(0), v01 = f32x4.splat(0), v10 = f32x4.splat(0), v11 = f32x4.splat(0);
    let v20 = f32x4.splat(0), v21 = f32x4.splat(0), v30 = f32x4.splat(0), v31 = f32x4.splat(0);
    for (; p + 4 <= k; p += 4) {
      const o = <usize>p << 2;
      const w0 = v128.load(b0 + o);
      const w1 = v128.load(b1 + o);
      let x = v128.load(a0 + o);
      v00 = f32x4.add(v00, f32x4.mul(x, w0));
      v01 = f32x4.add(v01, f32x4.mul(x, w1));
      x = v128.load(a1 + o);
      v10 = f32x4.add(v10, f32x4.mul(x, w0));
      v11 = f32x4.add(v11, f32x4.mul(x, w1));
      x = v128.load(a2 + o);
      v20 = f32x4.add(v20, f32x4.mul(x, w0));
      v21 = f32x4.add(v21, f32x4.mul(x, w1));
      x = v128.load(a3 + o);
      v30 = f32x4.add(v30, f32x4.mul(x, w0));
      v31 = f32x4.add(v31, f32x4.mul(x, w1));
    }
    s00 = hsum(v00); s01 = hsum(v01); s10 = hsum(v10); s11 = hsum(v11);
    s20 = hsum(v20); s21 = hsum(v21); s30 = hsum(v30); s31 = hsum(v31);
  }
  for (; p < k; p++) {
    const w0 = ld(b0, p);
    const w1 = ld(b1, p);
    let x = ld(a0, p);
    s00 += x * w0; s01 += x * w1;
    x = ld(a1, p);
    s10 += x * w0; s11 += x * w1;
    x = ld(a2, p);
    s20 += x * w0; s21 += x * w1;
    x = ld(a3, p);
    s30 += x * w0; s31 += x * w1;
  }
  put(c, n, i0, j0, s00, bias, act); put(c, n, i0, j0 + 1, s01, bias, act);
  put(c, n, i0 + 1, j0, s10, bias, act); put(c, n, i0 + 1, j0 + 1, s11, bias, act);
  put(c, n, i0 + 2, j0, s20, bias, act); put(c, n, i0 + 2, j0 + 1, s21, bias, act);
  put(c, n, i0 + 3, j0, s30, bias, act); put(c, n, i0 + 3, j0 + 1, s31, bias, act);
}

/**
 * C (m x n) = act(A·Bᵀ + bias): A is m x k, B is n x k, bias n floats or 0 for none; act 0 linear,
 * 1 ReLU, 2 tanh.
 */
export function mlpGemmNT(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, bias: usize, act: i32): void {
  const rs = <usize>k << 2;
  let i0 = 0;
  for (; i0 + 4 <= m; i0 += 4) {
    let j0 = 0;
    for (; j0 + 2 <= n; j0 += 2) tile4x2(a, b, c, n, k, i0, j0, bias, act);
    for (; j0 < n; j0++) {
      for (let i = i0; i < i0 + 4; i++) put(c, n, i, j0, dot(a + <usize>i * rs, b + <usize>j0 * rs, k), bias, act);
    }
  }
  for (; i0 < m; i0++) {
    for (let j = 0; j < n; j++) put(c, n, i0, j, dot(a + <usize>i0 * rs, b + <usize>j * rs, k), bias, act);
  }
}

/** dst (cols x rows) = srcᵀ for src rows x cols. Blocks of 8 x 8 keep both sides in cache lines. */
export function mlpTranspose(src: usize, rows: i32, cols: i32, dst: usize): void {
  for (let r0 = 0; r0 < rows; r0 += 8) {
    const r1 = min(rows, r0 + 8);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = min(cols, c0 + 8);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) st(dst, c * rows + r, ld(src, r * cols + c));
      }
    }
  }
}

/**
 * g ← g ⊙ act'(pre-activation), n floats, from the layer's output y (§9.2): ReLU 1[y > 0],
 * tanh 1 − y², linear 1.
 */
export function mlpActGrad(g: usize, y: usize, n: i32, act: i32): void {
  if (act == ACT_RELU) {
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const zero = f32x4.splat(0);
      for (; i + 4 <= n; i += 4) {
        const o = <usize>i << 2;
        const keep = f32x4.gt(v128.load(y + o), zero);
        v128.store(g + o, v128.and(v128.load(g + o), keep));
      }
    }
    for (; i < n; i++) if (!(ld(y, i) > 0)) st(g, i, 0);
  } else if (act == ACT_TANH) {
    for (let i = 0; i < n; i++) {
      const v = ld(y, i);
      st(g, i, ld(g, i) * (<f32>1 - v * v));
    }
  }
}

/** out[i] = Σ_j a[i][j] for a rows x cols. */
export function mlpRowSums(a: usize, rows: i32, cols: i32, out: usize): void {
  const rs = <usize>cols << 2;
  for (let i = 0; i < rows; i++) {
    const row = a + <usize>i * rs;
    let j = 0;
    let s: f32 = 0;
    if (ASC_FEATURE_SIMD) {
      let acc = f32x4.splat(0);
      for (; j + 4 <= cols; j += 4) acc = f32x4.add(acc, v128.load(row + (<usize>j << 2)));
      s = hsum(acc);
    }
    for (; j < cols; j++) s += ld(row, j);
    st(out, i, s);
  }
}

/**
 * One Adam step over n parameters (§9.3), in this order of f32 operations:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·(g·g);
 *   θ ← θ − (α·(m·c1)) / (√(v·c2) + ε),  c1 = 1/(1−β1^t), c2 = 1/(1−β2^t).
 * Every step is an IEEE f32 operation (no fused multiply-add), lane by lane in the SIMD build, so
 * both builds and the twin give the same bits.
 */
export function mlpAdam(p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, ob1: f32, b2: f32, ob2: f32, c1: f32, c2: f32, eps: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vb1 = f32x4.splat(b1), vob1 = f32x4.splat(ob1), vb2 = f32x4.splat(b2), vob2 = f32x4.splat(ob2);
    const vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), vlr = f32x4.splat(lr), veps = f32x4.splat(eps);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const gk = v128.load(g + o);
      const mk = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vob1, gk));
      const vk = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vob2, f32x4.mul(gk, gk)));
      v128.store(m + o, mk);
      v128.store(v + o, vk);
      const step = f32x4.div(f32x4.mul(vlr, f32x4.mul(mk, vc1)), f32x4.add(f32x4.sqrt(f32x4.mul(vk, vc2)), veps));
      v128.store(p + o, f32x4.sub(v128.load(p + o), step));
    }
  }
  for (; i < n; i++) {
    const gk = ld(g, i);
    const mk = b1 * ld(m, i) + ob1 * gk;
    const vk = b2 * ld(v, i) + ob2 * (gk * gk);
    st(m, i, mk);
    st(v, i, vk);
    const step = (lr * (mk * c1)) / (Mathf.sqrt(vk * c2) + eps);
    st(p, i, ld(p, i) - step);
  }
}

/** dst ← τ·src + (1−τ)·dst over n floats (§9.4); u = 1 − τ rounded to f32 by the caller. */
export function mlpSoftUpdate(dst: usize, src: usize, n: i32, tau: f32, u: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const vt = f32x4.splat(tau), vu = f32x4.splat(u);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.add(f32x4.mul(vt, v128.load(src + o)), f32x4.mul(vu, v128.load(dst + o))));
    }
  }
  for (; i < n; i++) st(dst, i, tau * ld(src, i) + u * ld(dst, i));
}
