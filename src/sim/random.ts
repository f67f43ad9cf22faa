/**
 * Random numbers of the simulator: a xoshiro128** generator per (seed, instance, stream), so
 * instance k is the same whatever the number of instances, and the same seed gives bit-identical
 * output; Gaussian draws (polar Box–Muller), uniform directions on the unit sphere and draws of
 * the competitor's noise.
 */
import type { NoiseSpec } from '../core/validate.js';
import { Xoshiro128, splitmix32 } from '../core/random.js';

/** xoshiro128** (src/core/random.ts) keyed by (seed, instance, stream), with Gaussian draws. */
export class Rng extends Xoshiro128 {
  private spare: number | null = null;

  constructor(...keys: number[]) {
    const st = { s: 0x12345678 };
    for (const k of keys) {
      st.s = (st.s ^ Math.imul((k | 0) + 0x7f4a7c15, 0x9e3779b1)) | 0;
      splitmix32(st);
    }
    super(splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st));
  }

  /** Standard normal (Box–Muller, polar form). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }
}

/** Stream keys of `new Rng(seed, instance, stream)`: one independent stream per use. */
export const STREAM_THETA = 1;
export const STREAM_ARRIVALS = 2;
export const STREAM_CONTEXT = 3;
export const STREAM_NOISE = 4;
export const STREAM_COLD = 5;
/** The retail simulator's daily demand shocks (shared by every policy of an episode), and its policies' own streams. */
export const STREAM_RETAIL_DEMAND = 6;
export const STREAM_RETAIL_POLICY = 7;
/** The learning agent's training seasons (demand shocks apart from any evaluation's) and its own draws. */
export const STREAM_RL_TRAIN_DEMAND = 8;
export const STREAM_RL_AGENT = 9;

/** A uniform direction on the unit sphere S^{d-1}: N(0, I_d)/‖·‖. */
export function unitVector(rng: Rng, d: number): Float64Array {
  const v = new Float64Array(d);
  let s = 0;
  for (let j = 0; j < d; j++) {
    v[j] = rng.normal();
    s += v[j] * v[j];
  }
  const n = Math.sqrt(s);
  for (let j = 0; j < d; j++) v[j] /= n;
  return v;
}

/** One draw z of the competitor's noise: scale·N(0, 1) or scale·logit(U). */
export function noiseDraw(rng: Rng, noise: NoiseSpec): number {
  if (noise.family === 'gaussian') return noise.scale * rng.normal();
  let u = rng.uniform();
  while (u === 0) u = rng.uniform();
  return noise.scale * Math.log(u / (1 - u));
}
