/**
 * The experience replay buffer of the actor-critic agent (docs/rl.md, "Training"): a ring of the
 * last `capacity` transitions (s, a, r, s', done) in flat f32 columns, so a minibatch is copied
 * into the networks' input layout without per-row objects. When full, a new transition overwrites
 * the oldest. Minibatches are drawn uniformly with replacement from the stored transitions by the
 * caller's seeded stream, so the same seed draws the same batches.
 */
import type { RandomSource } from './randomSource.js';

export interface Minibatch {
  size: number;
  /** row-major size × stateDim */
  states: Float32Array;
  /** row-major size × actionDim */
  actions: Float32Array;
  rewards: Float32Array;
  nextStates: Float32Array;
  /** 1 where the transition ended the episode (no bootstrap), else 0 */
  dones: Float32Array;
}

export class ReplayBuffer {
  private readonly s: Float32Array;
  private readonly a: Float32Array;
  private readonly r: Float32Array;
  private readonly s2: Float32Array;
  private readonly d: Float32Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number, readonly stateDim: number, readonly actionDim: number) {
    for (const [k, v] of [['capacity', capacity], ['stateDim', stateDim], ['actionDim', actionDim]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`ReplayBuffer: ${k} must be an integer >= 1, got ${v}`);
    }
    this.s = new Float32Array(capacity * stateDim);
    this.a = new Float32Array(capacity * actionDim);
    this.r = new Float32Array(capacity);
    this.s2 = new Float32Array(capacity * stateDim);
    this.d = new Float32Array(capacity);
  }

  /** Transitions stored (at most capacity). */
  get size(): number {
    return this.count;
  }

  /** Slot the next transition goes to (the oldest one once the ring is full). */
  get cursor(): number {
    return this.next;
  }

  add(state: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextState: ArrayLike<number>, done: boolean): void {
    if (state.length !== this.stateDim || nextState.length !== this.stateDim) throw new RangeError(`ReplayBuffer.add: states must have ${this.stateDim} entries, got ${state.length} and ${nextState.length}`);
    if (action.length !== this.actionDim) throw new RangeError(`ReplayBuffer.add: action must have ${this.actionDim} entries, got ${action.length}`);
    const i = this.next;
    this.s.set(state, i * this.stateDim);
    this.a.set(action, i * this.actionDim);
    this.r[i] = reward;
    this.s2.set(nextState, i * this.stateDim);
    this.d[i] = done ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The transition in slot i (0 ≤ i < size), copied. */
  at(i: number): { state: Float32Array; action: Float32Array; reward: number; nextState: Float32Array; done: boolean } {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`ReplayBuffer.at: slot must be in [0, ${this.count}), got ${i}`);
    const S = this.stateDim;
    const A = this.actionDim;
    return { state: this.s.slice(i * S, (i + 1) * S), action: this.a.slice(i * A, (i + 1) * A), reward: this.r[i], nextState: this.s2.slice(i * S, (i + 1) * S), done: this.d[i] === 1 };
  }

  /** `size` slots drawn uniformly with replacement (floor(u·stored)). */
  sampleSlots(size: number, rng: RandomSource): Int32Array {
    if (this.count === 0) throw new RangeError('ReplayBuffer.sample: the buffer is empty');
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`ReplayBuffer.sample: size must be an integer >= 1, got ${size}`);
    const idx = new Int32Array(size);
    for (let k = 0; k < size; k++) idx[k] = Math.floor(rng.uniform() * this.count);
    return idx;
  }

  /** A minibatch of `size` transitions drawn by `rng` (see sampleSlots). */
  sample(size: number, rng: RandomSource): Minibatch {
    const idx = this.sampleSlots(size, rng);
    const S = this.stateDim;
    const A = this.actionDim;
    const b: Minibatch = { size, states: new Float32Array(size * S), actions: new Float32Array(size * A), rewards: new Float32Array(size), nextStates: new Float32Array(size * S), dones: new Float32Array(size) };
    for (let k = 0; k < size; k++) {
      const i = idx[k];
      b.states.set(this.s.subarray(i * S, (i + 1) * S), k * S);
      b.actions.set(this.a.subarray(i * A, (i + 1) * A), k * A);
      b.rewards[k] = this.r[i];
      b.nextStates.set(this.s2.subarray(i * S, (i + 1) * S), k * S);
      b.dones[k] = this.d[i];
    }
    return b;
  }
}
