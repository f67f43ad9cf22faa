/**
 * The actor-critic learner (docs/rl.md, "Training"; docs/math.md §6): TD3 — twin critics,
 * delayed actor updates, target-policy smoothing — and DDPG as the same code with those three
 * switched off (one critic, the actor updated every step, no target noise). For a minibatch of
 * transitions (s, a, r, s', done):
 *
 *   a' = clip(μ'(s') + clip(σ̃·z, −c, c), −1, 1),   z ~ N(0, 1)          (σ̃ = 0 for DDPG)
 *   y  = r + γ·(1 − done)·min_k Q'_k(s', a')                             (k = 1 only for DDPG)
 *   critic k:  minimise (1/B)·Σ (Q_k(s, a) − y)²   (gradient 2(Q_k − y)/B per row)
 *   every d-th step: actor ascends (1/B)·Σ Q_1(s, μ(s)), the gradient −(1/B)·∂Q_1/∂a through
 *   the actor, then every target network θ' ← τ·θ + (1 − τ)·θ'.
 *
 * Networks come from a factory (production: the WASM core's createMlp; tests: the TS twin), so this
 * file never names an implementation. All randomness is the caller's seeded stream.
 */
import type { Mlp, MlpSpec } from '../core/mlp.js';
import type { RandomSource } from './randomSource.js';
import type { ReplayBuffer, Minibatch } from './replayBuffer.js';
import type { AgentAlgo } from './agentFile.js';

export interface Td3Settings {
  algo: AgentAlgo;
  /** hidden layer widths of actor and critics (ReLU) */
  hidden: number[];
  gamma: number;
  tau: number;
  actorLr: number;
  criticLr: number;
  batchSize: number;
  bufferSize: number;
  /** sd of the Gaussian noise added to the actor's action while exploring */
  explorationNoise: number;
  /** σ̃ and c of the target-policy smoothing */
  policyNoise: number;
  noiseClip: number;
  /** actor and targets are updated every policyDelay-th critic step */
  policyDelay: number;
  twinCritics: boolean;
}

/**
 * The settings of the source design: 256-256 ReLU, γ = 0.99, τ = 0.005, actor/critic learning
 * rates 1e-4/1e-3, minibatch 100, replay 100 000, exploration noise 0.1, target noise 0.2 clipped
 * at 0.5, actor every second step, twin critics (TD3).
 */
export const TD3_DEFAULTS: Td3Settings = {
  algo: 'td3',
  hidden: [256, 256],
  gamma: 0.99,
  tau: 0.005,
  actorLr: 1e-4,
  criticLr: 1e-3,
  batchSize: 100,
  bufferSize: 100_000,
  explorationNoise: 0.1,
  policyNoise: 0.2,
  noiseClip: 0.5,
  policyDelay: 2,
  twinCritics: true,
};

/** The preset of an algorithm over TD3_DEFAULTS, then the caller's overrides. */
export function algoSettings(algo: AgentAlgo, overrides: Partial<Omit<Td3Settings, 'algo'>> = {}): Td3Settings {
  const preset: Partial<Td3Settings> = algo === 'ddpg' ? { twinCritics: false, policyDelay: 1, policyNoise: 0, noiseClip: 0 } : {};
  return { ...TD3_DEFAULTS, ...preset, ...overrides, algo };
}

export function checkTd3Settings(s: Td3Settings): void {
  const bad = (k: string, v: unknown, want: string) => {
    throw new RangeError(`td3 settings: ${k} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (!Array.isArray(s.hidden) || s.hidden.length === 0 || s.hidden.some((h) => !Number.isInteger(h) || h < 1)) bad('hidden', s.hidden, 'a non-empty list of integers >= 1');
  if (!(s.gamma >= 0 && s.gamma <= 1)) bad('gamma', s.gamma, 'in [0, 1]');
  if (!(s.tau > 0 && s.tau <= 1)) bad('tau', s.tau, 'in (0, 1]');
  for (const k of ['actorLr', 'criticLr'] as const) if (!(s[k] > 0) || !Number.isFinite(s[k])) bad(k, s[k], 'a finite number > 0');
  for (const k of ['batchSize', 'bufferSize', 'policyDelay'] as const) if (!Number.isInteger(s[k]) || s[k] < 1) bad(k, s[k], 'an integer >= 1');
  for (const k of ['explorationNoise', 'policyNoise', 'noiseClip'] as const) if (!(s[k] >= 0) || !Number.isFinite(s[k])) bad(k, s[k], 'a finite number >= 0');
}

export type MlpFactory = (spec: MlpSpec) => Mlp;

/** Rows of [state, action]: the critic's input. */
export function stateActionRows(states: Float32Array, actions: Float32Array, batch: number, stateDim: number): Float32Array {
  const w = stateDim + 1;
  const x = new Float32Array(batch * w);
  for (let i = 0; i < batch; i++) {
    x.set(states.subarray(i * stateDim, (i + 1) * stateDim), i * w);
    x[i * w + stateDim] = actions[i];
  }
  return x;
}

const clip = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export interface UpdateStats {
  /** mean squared TD error of critic 1 before its step */
  criticLoss: number;
  actorUpdated: boolean;
}

export class Td3Agent {
  readonly actor: Mlp;
  readonly actorTarget: Mlp;
  readonly critics: Mlp[];
  readonly criticTargets: Mlp[];
  /** critic steps taken */
  updates = 0;

  constructor(readonly stateDim: number, readonly settings: Td3Settings, factory: MlpFactory, seed: number) {
    checkTd3Settings(settings);
    if (!Number.isInteger(stateDim) || stateDim < 1) throw new RangeError(`Td3Agent: stateDim must be an integer >= 1, got ${stateDim}`);
    const actorSpec: MlpSpec = { sizes: [stateDim, ...settings.hidden, 1], output: 'tanh' };
    const criticSpec: MlpSpec = { sizes: [stateDim + 1, ...settings.hidden, 1], output: 'linear' };
    const make = (spec: MlpSpec, k: number) => {
      const m = factory(spec);
      m.initialise(seed * 8 + k);
      return m;
    };
    this.actor = make(actorSpec, 1);
    this.actorTarget = factory(actorSpec);
    this.actorTarget.copyFrom(this.actor);
    const n = settings.twinCritics ? 2 : 1;
    this.critics = [];
    this.criticTargets = [];
    for (let k = 0; k < n; k++) {
      const c = make(criticSpec, 2 + k);
      const t = factory(criticSpec);
      t.copyFrom(c);
      this.critics.push(c);
      this.criticTargets.push(t);
    }
  }

  get criticSizes(): number[] {
    return [this.stateDim + 1, ...this.settings.hidden, 1];
  }

  /** The actor's action μ(s) ∈ [−1, 1] for one state. */
  act(state: Float32Array): number {
    return this.actor.forward(state, 1)[0];
  }

  /** μ(s) + N(0, explorationNoise), clipped to [−1, 1]. */
  explore(state: Float32Array, rng: RandomSource): number {
    return clip(this.act(state) + this.settings.explorationNoise * rng.normal(), -1, 1);
  }

  /** The critics' regression targets y for a minibatch (the header's first two lines). */
  targets(b: Minibatch, rng: RandomSource): Float32Array {
    const B = b.size;
    const s = this.settings;
    const next = this.actorTarget.forward(b.nextStates, B).slice();
    for (let i = 0; i < B; i++) {
      const eps = s.policyNoise > 0 ? clip(s.policyNoise * rng.normal(), -s.noiseClip, s.noiseClip) : 0;
      next[i] = clip(next[i] + eps, -1, 1);
    }
    const x = stateActionRows(b.nextStates, next, B, this.stateDim);
    const q = this.criticTargets[0].forward(x, B).slice();
    for (let k = 1; k < this.criticTargets.length; k++) {
      const qk = this.criticTargets[k].forward(x, B);
      for (let i = 0; i < B; i++) if (qk[i] < q[i]) q[i] = qk[i];
    }
    const y = new Float32Array(B);
    for (let i = 0; i < B; i++) y[i] = b.rewards[i] + s.gamma * (1 - b.dones[i]) * q[i];
    return y;
  }

  /**
   * Sets critic k's gradient of (1/B)·Σ (Q_k(s, a) − y)² for the rows x = [s, a]; returns that
   * loss (before any step).
   */
  criticGradient(k: number, x: Float32Array, y: Float32Array, batch: number): number {
    const q = this.critics[k].forward(x, batch);
    const dOut = new Float32Array(batch);
    let loss = 0;
    for (let i = 0; i < batch; i++) {
      const e = q[i] - y[i];
      loss += e * e;
      dOut[i] = (2 * e) / batch;
    }
    this.critics[k].backward(dOut, batch);
    return loss / batch;
  }

  /**
   * Sets the actor's gradient of −(1/B)·Σ Q_1(s, μ(s)) over the states (chain rule through the
   * critic's input gradient with respect to the action column). The critic's own gradient is
   * overwritten on the way and not used.
   */
  actorGradient(states: Float32Array, batch: number): void {
    const a = this.actor.forward(states, batch).slice();
    const critic = this.critics[0];
    critic.forward(stateActionRows(states, a, batch, this.stateDim), batch);
    const dx = critic.backward(new Float32Array(batch).fill(-1 / batch), batch);
    const da = new Float32Array(batch);
    const w = this.stateDim + 1;
    for (let i = 0; i < batch; i++) da[i] = dx[i * w + this.stateDim];
    this.actor.backward(da, batch);
  }

  /** One learning step on a minibatch drawn from `buffer` (the caller checks it holds a batch). */
  update(buffer: ReplayBuffer, rng: RandomSource): UpdateStats {
    const s = this.settings;
    const b = buffer.sample(s.batchSize, rng);
    const B = b.size;
    const y = this.targets(b, rng);
    const x = stateActionRows(b.states, b.actions, B, this.stateDim);
    let criticLoss = NaN;
    for (let k = 0; k < this.critics.length; k++) {
      const loss = this.criticGradient(k, x, y, B);
      if (k === 0) criticLoss = loss;
      this.critics[k].adamStep(s.criticLr);
    }
    const actorUpdated = this.updates % s.policyDelay === 0;
    if (actorUpdated) {
      this.actorGradient(b.states, B);
      this.actor.adamStep(s.actorLr);
      this.softUpdateTargets();
    }
    this.updates++;
    return { criticLoss, actorUpdated };
  }

  /** θ' ← τ·θ + (1 − τ)·θ' for the actor and every critic. */
  softUpdateTargets(): void {
    const tau = this.settings.tau;
    this.actorTarget.softUpdateFrom(this.actor, tau);
    this.critics.forEach((c, k) => this.criticTargets[k].softUpdateFrom(c, tau));
  }
}
