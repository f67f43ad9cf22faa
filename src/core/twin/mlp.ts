// TypeScript twin of the WASM network (assembly/mlp.ts, core/mlp.ts): the tests' parity reference,
// never used on a production path. Same layout, initialisation and semantics (docs/math.md §9).
// Every sum is an f32 sum in increasing index order and every step is the f32 operation the
// kernels do, in their order (Math.fround after each + - * / sqrt emulates f32 exactly), so this
// twin and both WASM builds give the same bits — except through tanh, where Math.tanh rounded to
// f32 and the kernels' f32 tanh (musl's tanhf) may differ in the last place.
import { RepricerError } from '../errors.js';
import type { Mlp } from '../mlp.js';
import {
  ACT_RELU,
  ACT_TANH,
  adamScalars,
  checkAdam,
  checkBatch,
  checkMlpSpec,
  checkParams,
  checkSameSpec,
  checkTau,
  initialParams,
  mlpLayout,
  type LayerLayout,
  type MlpSpec,
} from '../mlpLayout.js';

const f = Math.fround;

class MlpTwin implements Mlp {
  readonly spec: MlpSpec;
  readonly paramCount: number;
  private readonly layers: LayerLayout[];
  private theta: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  /** acts[0] = x, acts[l + 1] = output of layer l (after its activation) */
  private acts: Float32Array[] = [];
  private lastBatch = 0;

  constructor(spec: MlpSpec) {
    this.spec = checkMlpSpec('createMlpTwin', spec);
    const { layers, paramCount } = mlpLayout(this.spec);
    this.layers = layers;
    this.paramCount = paramCount;
    this.theta = new Float32Array(paramCount);
    this.grad = new Float32Array(paramCount);
    this.m = new Float32Array(paramCount);
    this.v = new Float32Array(paramCount);
  }

  initialise(seed: number): void {
    this.theta = initialParams(this.spec, seed);
    this.grad.fill(0);
    this.m.fill(0);
    this.v.fill(0);
    this.t = 0;
  }

  params(): Float32Array {
    return this.theta.slice();
  }

  setParams(p: Float32Array): void {
    checkParams('setParams', p, this.paramCount);
    this.theta.set(p);
  }

  grads(): Float32Array {
    return this.grad.slice();
  }

  forward(x: Float32Array, batch: number): Float32Array {
    const sizes = this.spec.sizes;
    checkBatch('forward', 'x', x, batch, sizes[0]!);
    const th = this.theta;
    this.acts = [x.slice()];
    for (const L of this.layers) {
      const a = this.acts[this.acts.length - 1]!;
      const y = new Float32Array(batch * L.nOut);
      for (let r = 0; r < batch; r++) {
        for (let o = 0; o < L.nOut; o++) {
          let s = 0;
          const w = L.w + o * L.nIn;
          for (let i = 0; i < L.nIn; i++) s = f(s + f(a[r * L.nIn + i]! * th[w + i]!));
          s = f(s + th[L.b + o]!);
          y[r * L.nOut + o] = L.act === ACT_RELU ? (s > 0 ? s : 0) : L.act === ACT_TANH ? Math.tanh(s) : s;
        }
      }
      this.acts.push(y);
    }
    this.lastBatch = batch;
    return this.acts[this.acts.length - 1]!;
  }

  backward(dOut: Float32Array, batch: number): Float32Array {
    const sizes = this.spec.sizes;
    if (this.lastBatch === 0 || batch !== this.lastBatch) {
      throw new RepricerError('INVALID_ARGUMENT', `backward: batch ${JSON.stringify(batch)} must be the batch of the last forward (${this.lastBatch || 'none yet'})`, { field: 'batch' });
    }
    checkBatch('backward', 'dOut', dOut, batch, sizes[sizes.length - 1]!);
    const th = this.theta;
    const g = this.grad;
    let delta = Float32Array.from(dOut);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      const a = this.acts[l]!;
      const y = this.acts[l + 1]!;
      // δ = dL/dy ⊙ act'(pre-activation), written through the output y (§9.2)
      for (let k = 0; k < delta.length; k++) {
        if (L.act === ACT_RELU) delta[k] = y[k]! > 0 ? delta[k]! : 0;
        else if (L.act === ACT_TANH) delta[k] = f(delta[k]! * f(1 - f(y[k]! * y[k]!)));
      }
      for (let o = 0; o < L.nOut; o++) {
        let sb = 0;
        for (let r = 0; r < batch; r++) sb = f(sb + delta[r * L.nOut + o]!);
        g[L.b + o] = sb;
        for (let i = 0; i < L.nIn; i++) {
          let s = 0;
          for (let r = 0; r < batch; r++) s = f(s + f(delta[r * L.nOut + o]! * a[r * L.nIn + i]!));
          g[L.w + o * L.nIn + i] = s;
        }
      }
      const dIn = new Float32Array(batch * L.nIn);
      for (let r = 0; r < batch; r++) {
        for (let i = 0; i < L.nIn; i++) {
          let s = 0;
          for (let o = 0; o < L.nOut; o++) s = f(s + f(delta[r * L.nOut + o]! * th[L.w + o * L.nIn + i]!));
          dIn[r * L.nIn + i] = s;
        }
      }
      delta = dIn;
    }
    return delta;
  }

  adamStep(lr: number, beta1?: number, beta2?: number, eps?: number): void {
    const h = checkAdam(lr, beta1, beta2, eps);
    this.t += 1;
    const c = adamScalars(h, this.t);
    const { theta, grad, m, v } = this;
    for (let k = 0; k < theta.length; k++) {
      const gk = grad[k]!;
      const mk = f(f(c.b1 * m[k]!) + f(c.ob1 * gk));
      const vk = f(f(c.b2 * v[k]!) + f(c.ob2 * f(gk * gk)));
      m[k] = mk;
      v[k] = vk;
      const step = f(f(c.lr * f(mk * c.c1)) / f(f(Math.sqrt(f(vk * c.c2))) + c.eps));
      theta[k] = f(theta[k]! - step);
    }
  }

  softUpdateFrom(src: Mlp, tau: number): void {
    checkSameSpec('softUpdateFrom', this.spec, src.spec);
    const t = f(checkTau(tau));
    const u = f(1 - tau);
    const s = src.params();
    const th = this.theta;
    for (let k = 0; k < th.length; k++) th[k] = f(f(t * s[k]!) + f(u * th[k]!));
  }

  copyFrom(src: Mlp): void {
    checkSameSpec('copyFrom', this.spec, src.spec);
    this.theta.set(src.params());
  }
}

/** The plain-TypeScript network (tests only; production uses createMlp from core/mlp.ts). */
export function createMlpTwin(spec: MlpSpec): Mlp {
  return new MlpTwin(spec);
}
