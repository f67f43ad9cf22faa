// Dense-network kernels in f32 (docs/math.md §9): the matrix product C = A·B, a transpose, bias and
// activation, the activation derivative, column sums, Adam and the soft update. core/mlp.ts
// composes them per layer:
//   forward   Y = act(A·Wᵀ + b)          (Wᵀ transposed into scratch, then the product);
//   backward  δ = G ⊙ act'(·) from Y,  dW = δᵀ·A (δ transposed),  db = column sums of δ,
//             dL/dA = δ·W.
// Every operand is a byte offset into linear memory, row-major f32; nothing is checked here.
//
// Every output of the product and of the column sums is one f32 sum taken in increasing index
// order, in both builds (the SIMD build runs four or sixteen such sums side by side in f32x4
// lanes), so the SIMD and scalar builds give the same bits, run after run; the twin
// (src/core/twin/mlp.ts) sums in the same order. There is no fused multiply-add (relaxed SIMD is
// not used), so each a·b + s rounds twice everywhere.

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

/**
 * C (m x n) = A·B for A m x k and B k x n: each row of C is Σ_p A[i][p]·B[p][·], built 16 columns
 * (four f32x4) of two rows at a time so each loaded vector of B serves two rows; B's rows stream
 * through once per pair of rows. The summed index may be as short as 1 (a one-output layer).
 */
export function mlpGemm(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32): void {
  const ars = <usize>k << 2;
  const brs = <usize>n << 2;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 2 <= m; i += 2) {
      const a0 = a + <usize>i * ars;
      const a1 = a0 + ars;
      const c0 = c + <usize>i * brs;
      const c1 = c0 + brs;
      let j = 0;
      for (; j + 16 <= n; j += 16) {
        const o = <usize>j << 2;
        let x0 = f32x4.splat(0), x1 = f32x4.splat(0), x2 = f32x4.splat(0), x3 = f32x4.splat(0);
        let y0 = f32x4.splat(0), y1 = f32x4.splat(0), y2 = f32x4.splat(0), y3 = f32x4.splat(0);
        let bp = b + o;
        for (let p = 0; p < k; p++) {
          const s0 = f32x4.splat(ld(a0, p));
          const s1 = f32x4.splat(ld(a1, p));
          const w0 = v128.load(bp), w1 = v128.load(bp, 16), w2 = v128.load(bp, 32), w3 = v128.load(bp, 48);
          x0 = f32x4.add(x0, f32x4.mul(s0, w0)); y0 = f32x4.add(y0, f32x4.mul(s1, w0));
          x1 = f32x4.add(x1, f32x4.mul(s0, w1)); y1 = f32x4.add(y1, f32x4.mul(s1, w1));
          x2 = f32x4.add(x2, f32x4.mul(s0, w2)); y2 = f32x4.add(y2, f32x4.mul(s1, w2));
          x3 = f32x4.add(x3, f32x4.mul(s0, w3)); y3 = f32x4.add(y3, f32x4.mul(s1, w3));
          bp += brs;
        }
        v128.store(c0 + o, x0); v128.store(c0 + o, x1, 16); v128.store(c0 + o, x2, 32); v128.store(c0 + o, x3, 48);
        v128.store(c1 + o, y0); v128.store(c1 + o, y1, 16); v128.store(c1 + o, y2, 32); v128.store(c1 + o, y3, 48);
      }
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        let x0 = f32x4.splat(0), y0 = f32x4.splat(0);
        let bp = b + o;
        for (let p = 0; p < k; p++) {
          const w0 = v128.load(bp);
          x0 = f32x4.add(x0, f32x4.mul(f32x4.splat(ld(a0, p)), w0));
          y0 = f32x4.add(y0, f32x4.mul(f32x4.splat(ld(a1, p)), w0));
          bp += brs;
        }
        v128.store(c0 + o, x0);
        v128.store(c1 + o, y0);
      }
      for (; j < n; j++) {
        let s0: f32 = 0, s1: f32 = 0;
        let bp = b + (<usize>j << 2);
        for (let p = 0; p < k; p++) {
          const w = load<f32>(bp);
          s0 += ld(a0, p) * w;
          s1 += ld(a1, p) * w;
          bp += brs;
        }
        st(c0, j, s0);
        st(c1, j, s1);
      }
    }
    if (i < m) {
      // the last odd row (or a one-row product, such as a one-output layer's dW)
      const ai = a + <usize>i * ars;
      const ci = c + <usize>i * brs;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        let x0 = f32x4.splat(0);
        let bp = b + o;
        for (let p = 0; p < k; p++) {
          x0 = f32x4.add(x0, f32x4.mul(f32x4.splat(ld(ai, p)), v128.load(bp)));
          bp += brs;
        }
        v128.store(ci + o, x0);
      }
      for (; j < n; j++) {
        let s0: f32 = 0;
        let bp = b + (<usize>j << 2);
        for (let p = 0; p < k; p++) {
          s0 += ld(ai, p) * load<f32>(bp);
          bp += brs;
        }
        st(ci, j, s0);
      }
      i = m;
    }
  }
  // the scalar build: two rows by four columns held in eight f32 sums, each still summed in p order
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * ars;
    const a1 = a0 + ars;
    const c0 = c + <usize>i * brs;
    const c1 = c0 + brs;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let x0: f32 = 0, x1: f32 = 0, x2: f32 = 0, x3: f32 = 0;
      let y0: f32 = 0, y1: f32 = 0, y2: f32 = 0, y3: f32 = 0;
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const s0 = ld(a0, p);
        const s1 = ld(a1, p);
        const w0 = load<f32>(bp), w1 = load<f32>(bp, 4), w2 = load<f32>(bp, 8), w3 = load<f32>(bp, 12);
        x0 += s0 * w0; y0 += s1 * w0;
        x1 += s0 * w1; y1 += s1 * w1;
        x2 += s0 * w2; y2 += s1 * w2;
        x3 += s0 * w3; y3 += s1 * w3;
        bp += brs;
      }
      st(c0, j, x0); st(c0, j + 1, x1); st(c0, j + 2, x2); st(c0, j + 3, x3);
      st(c1, j, y0); st(c1, j + 1, y1); st(c1, j + 2, y2); st(c1, j + 3, y3);
    }
    for (; j < n; j++) {
      let x0: f32 = 0, y0: f32 = 0;
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        const w = load<f32>(bp);
        x0 += ld(a0, p) * w;
        y0 += ld(a1, p) * w;
        bp += brs;
      }
      st(c0, j, x0);
      st(c1, j, y0);
    }
  }
  for (; i < m; i++) {
    const ai = a + <usize>i * ars;
    const ci = c + <usize>i * brs;
    for (let j = 0; j < n; j++) {
      let x0: f32 = 0;
      let bp = b + (<usize>j << 2);
      for (let p = 0; p < k; p++) {
        x0 += ld(ai, p) * load<f32>(bp);
        bp += brs;
      }
      st(ci, j, x0);
    }
  }
}

/** C[i][j] ← act(C[i][j] + bias[j]) for C m x n; act 0 linear, 1 ReLU, 2 tanh (§9.1). */
export function mlpBiasAct(c: usize, m: i32, n: i32, bias: usize, act: i32): void {
  const rs = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const ci = c + <usize>i * rs;
    let j = 0;
    if (ASC_FEATURE_SIMD && act != ACT_TANH) {
      const zero = f32x4.splat(0);
      for (; j + 4 <= n; j += 4) {
        const o = <usize>j << 2;
        let v = f32x4.add(v128.load(ci + o), v128.load(bias + o));
        // ReLU as a select on v > 0, the scalar rule below (max would keep a NaN)
        if (act == ACT_RELU) v = v128.and(v, f32x4.gt(v, zero));
        v128.store(ci + o, v);
      }
    }
    for (; j < n; j++) {
      const v = ld(ci, j) + ld(bias, j);
      st(ci, j, act == ACT_RELU ? (v > 0 ? v : <f32>0) : act == ACT_TANH ? Mathf.tanh(v) : v);
    }
  }
}

/** out[j] = Σ_i a[i][j] for a rows x cols, each sum in increasing i (db = column sums of δ). */
export function mlpColSums(a: usize, rows: i32, cols: i32, out: usize): void {
  const rs = <usize>cols << 2;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    for (; j + 4 <= cols; j += 4) {
      let acc = f32x4.splat(0);
      let p = a + (<usize>j << 2);
      for (let i = 0; i < rows; i++) {
        acc = f32x4.add(acc, v128.load(p));
        p += rs;
      }
      v128.store(out + (<usize>j << 2), acc);
    }
  }
  for (; j < cols; j++) {
    let s: f32 = 0;
    for (let i = 0; i < rows; i++) s += ld(a + <usize>i * rs, j);
    st(out, j, s);
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
