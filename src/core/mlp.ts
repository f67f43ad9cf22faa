/**
 * A multilayer perceptron for the reinforcement-learning agent (docs/math.md §9): dense layers,
 * ReLU hidden layers, a tanh or linear output, backpropagation summed over a batch, Adam and the
 * soft (Polyak) target update. f32 throughout.
 */
import { RepricerError } from './errors.js';
import type { WasmCore } from './wasm.js';
import {
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
} from './mlpLayout.js';

export type { MlpSpec } from './mlpLayout.js';

export interface Mlp {
  readonly spec: MlpSpec;
  readonly paramCount: number;
  /** Deterministic initialisation (docs/math.md §9.1): W and b uniform on ±1/√fan_in; resets Adam. */
  initialise(seed: number): void;
  /** A copy of θ, layer by layer: W row-major [out][in], then b. */
  params(): Float32Array;
  setParams(p: Float32Array): void;
  /** x is batch x in, row-major; returns batch x out (a view valid until the next call). */
  forward(x: Float32Array, batch: number): Float32Array;
  /**
   * After forward on the same batch: the gradient dL/dθ summed over the batch (overwritten, not
   * accumulated) for dL/d(output) = dOut (batch x out); returns dL/dx (batch x in; a view valid
   * until the next call).
   */
  backward(dOut: Float32Array, batch: number): Float32Array;
  /** A copy of the gradient of the last backward (zeros before any). */
  grads(): Float32Array;
  /** One Adam step on the last gradient (docs/math.md §9.3): internal m, v, t; bias-corrected. */
  adamStep(lr: number, beta1?: number, beta2?: number, eps?: number): void;
  /** θ ← τ·θ_src + (1−τ)·θ (docs/math.md §9.4). */
  softUpdateFrom(src: Mlp, tau: number): void;
  /** θ ← θ_src (Adam's state is kept). */
  copyFrom(src: Mlp): void;
}

const KERNELS = ['mlpGemm', 'mlpBiasAct', 'mlpTranspose', 'mlpActGrad', 'mlpColSums', 'mlpAdam', 'mlpSoftUpdate'] as const;

/**
 * The WASM-backed network. θ, its gradient and Adam's m and v are four f32 blocks of paramCount
 * floats in the core's linear memory, allocated for the life of the arena; the activations of a
 * batch and the backward pass's scratch sit in blocks sized for a batch capacity that doubles when
 * a larger batch arrives (the old blocks stay allocated: an arena never frees permanent memory, and
 * doubling bounds the waste by the final size). Every call is a handful of kernel calls per layer.
 */
class WasmMlp implements Mlp {
  readonly spec: MlpSpec;
  readonly paramCount: number;
  readonly core: WasmCore;
  private readonly layers: LayerLayout[];
  /** byte offsets of θ, dL/dθ, m, v (paramCount floats each) and Wᵀ scratch (the largest layer) */
  readonly pTheta: number;
  private readonly pGrad: number;
  private readonly pM: number;
  private readonly pV: number;
  private readonly pWT: number;
  private readonly maxWidth: number;
  private cap = 0;
  /** pActs[0] = x, pActs[l + 1] = output of layer l; cap x sizes[l] floats each */
  private pActs: number[] = [];
  /** two gradient buffers used in turn, and δᵀ: cap x maxWidth floats each */
  private pG: [number, number] = [0, 0];
  private pDT = 0;
  private lastBatch = 0;
  private t = 0;

  constructor(core: WasmCore, spec: MlpSpec) {
    this.spec = checkMlpSpec('createMlp', spec);
    for (const name of KERNELS) {
      if (typeof core.k[name] !== 'function') {
        throw new RepricerError('NOT_FOUND', `createMlp: the WASM core has no ${name} kernel (built before the network kernels); run \`npm run build:wasm\``);
      }
    }
    this.core = core;
    const { layers, paramCount } = mlpLayout(this.spec);
    this.layers = layers;
    this.paramCount = paramCount;
    this.maxWidth = Math.max(...this.spec.sizes);
    const a = core.arena;
    const bytes = 4 * paramCount;
    this.pTheta = a.allocBytesPermanent(bytes);
    this.pGrad = a.allocBytesPermanent(bytes);
    this.pM = a.allocBytesPermanent(bytes);
    this.pV = a.allocBytesPermanent(bytes);
    this.pWT = a.allocBytesPermanent(4 * Math.max(...layers.map((L) => L.nIn * L.nOut)));
    // a fresh permanent block is not necessarily zero (the arena reuses released scratch)
    this.f32(this.pTheta, paramCount).fill(0);
    this.f32(this.pGrad, paramCount).fill(0);
    this.f32(this.pM, paramCount).fill(0);
    this.f32(this.pV, paramCount).fill(0);
  }

  /** A view over the current buffer (views made before a memory grow keep their old length). */
  private f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.core.memory.buffer, ptr, n);
  }

  private ensureCapacity(batch: number): void {
    if (batch <= this.cap) return;
    const cap = Math.max(batch, 2 * this.cap);
    const a = this.core.arena;
    this.pActs = this.spec.sizes.map((w) => a.allocBytesPermanent(4 * cap * w));
    const block = 4 * cap * this.maxWidth;
    this.pG = [a.allocBytesPermanent(block), a.allocBytesPermanent(block)];
    this.pDT = a.allocBytesPermanent(block);
    this.cap = cap;
    this.lastBatch = 0;
  }

  initialise(seed: number): void {
    const p = initialParams(this.spec, seed);
    this.f32(this.pTheta, this.paramCount).set(p);
    this.f32(this.pGrad, this.paramCount).fill(0);
    this.f32(this.pM, this.paramCount).fill(0);
    this.f32(this.pV, this.paramCount).fill(0);
    this.t = 0;
  }

  params(): Float32Array {
    return this.f32(this.pTheta, this.paramCount).slice();
  }

  setParams(p: Float32Array): void {
    checkParams('setParams', p, this.paramCount);
    this.f32(this.pTheta, this.paramCount).set(p);
  }

  grads(): Float32Array {
    return this.f32(this.pGrad, this.paramCount).slice();
  }

  forward(x: Float32Array, batch: number): Float32Array {
    const sizes = this.spec.sizes;
    checkBatch('forward', 'x', x, batch, sizes[0]!);
    this.ensureCapacity(batch);
    this.f32(this.pActs[0]!, batch * sizes[0]!).set(x);
    const k = this.core.k;
    this.layers.forEach((L, l) => {
      // Y = act(A·Wᵀ + b) (§9.1); Wᵀ is rebuilt each call (a few percent of the product) so θ has
      // one layout for params(), Adam and the soft update
      const y = this.pActs[l + 1]!;
      k.mlpTranspose(this.pTheta + 4 * L.w, L.nOut, L.nIn, this.pWT);
      k.mlpGemm(this.pActs[l]!, this.pWT, y, batch, L.nOut, L.nIn);
      k.mlpBiasAct(y, batch, L.nOut, this.pTheta + 4 * L.b, L.act);
    });
    this.lastBatch = batch;
    return this.f32(this.pActs[this.layers.length]!, batch * sizes[sizes.length - 1]!);
  }

  backward(dOut: Float32Array, batch: number): Float32Array {
    const sizes = this.spec.sizes;
    if (this.lastBatch === 0 || batch !== this.lastBatch) {
      throw new RepricerError('INVALID_ARGUMENT', `backward: batch ${JSON.stringify(batch)} must be the batch of the last forward (${this.lastBatch || 'none yet'})`, { field: 'batch' });
    }
    checkBatch('backward', 'dOut', dOut, batch, sizes[sizes.length - 1]!);
    const k = this.core.k;
    let cur = this.pG[0];
    let other = this.pG[1];
    this.f32(cur, dOut.length).set(dOut);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      const a = this.pActs[l]!;
      // δ = G ⊙ act'(·); dW = δᵀ·A; db = column sums of δ; G_prev = δ·W (§9.2)
      k.mlpActGrad(cur, this.pActs[l + 1]!, batch * L.nOut, L.act);
      k.mlpTranspose(cur, batch, L.nOut, this.pDT);
      k.mlpGemm(this.pDT, a, this.pGrad + 4 * L.w, L.nOut, L.nIn, batch);
      k.mlpColSums(cur, batch, L.nOut, this.pGrad + 4 * L.b);
      k.mlpGemm(cur, this.pTheta + 4 * L.w, other, batch, L.nIn, L.nOut);
      [cur, other] = [other, cur];
    }
    // the next forward on a new batch must come before another backward
    return this.f32(cur, batch * sizes[0]!);
  }

  adamStep(lr: number, beta1?: number, beta2?: number, eps?: number): void {
    const h = checkAdam(lr, beta1, beta2, eps);
    this.t += 1;
    const c = adamScalars(h, this.t);
    this.core.k.mlpAdam(this.pTheta, this.pGrad, this.pM, this.pV, this.paramCount, c.lr, c.b1, c.ob1, c.b2, c.ob2, c.c1, c.c2, c.eps);
  }

  /** θ_src's byte offset in this core's memory, copying a network that lives elsewhere into scratch (call in a scope). */
  private sourceOffset(src: Mlp): number {
    if (src instanceof WasmMlp && src.core.memory === this.core.memory) return src.pTheta;
    const p = this.core.arena.allocBytes(4 * this.paramCount);
    this.f32(p, this.paramCount).set(src.params());
    return p;
  }

  softUpdateFrom(src: Mlp, tau: number): void {
    checkSameSpec('softUpdateFrom', this.spec, src.spec);
    checkTau(tau);
    this.core.arena.scoped(() => {
      this.core.k.mlpSoftUpdate(this.pTheta, this.sourceOffset(src), this.paramCount, Math.fround(tau), Math.fround(1 - tau));
    });
  }

  copyFrom(src: Mlp): void {
    checkSameSpec('copyFrom', this.spec, src.spec);
    this.core.arena.scoped(() => {
      const from = this.sourceOffset(src);
      this.f32(this.pTheta, this.paramCount).set(this.f32(from, this.paramCount));
    });
  }
}

/**
 * A network whose weights, gradients, Adam moments and activations live in the core's memory.
 * Its blocks are permanent arena allocations: the arena refuses one while a scope holds scratch,
 * so create the network, and run the first forward at a batch larger than any before, outside
 * any `arena.scoped` call that has allocated (at the very start of a scope is fine).
 */
export function createMlp(core: WasmCore, spec: MlpSpec): Mlp {
  return new WasmMlp(core, spec);
}
