/**
 * A multilayer perceptron for the reinforcement-learning agent (docs/math.md §9): dense layers,
 * ReLU hidden layers, a tanh or linear output, backpropagation summed over a batch, Adam and the
 * soft (Polyak) target update. f32 throughout.
 */
import type { MlpSpec } from './mlpLayout.js';

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
