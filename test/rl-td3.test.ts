/**
 * The TD3/DDPG learner (src/rl/td3.ts) on the TS twin of the network: critic targets against a
 * hand-worked example computed independently (test/fixtures/rl_td3_targets.py), the soft target
 * update and the delayed actor update, the critic and actor gradients against central finite
 * differences, reproducibility of a training run (same seed, same agent file byte for byte), and a
 * short run on a tiny network that improves the season's profit over the untrained actor.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createMlpTwin } from '../src/core/twin/mlp.js';
import type { Mlp } from '../src/core/mlp.js';
import { Td3Agent, algoSettings, stateActionRows } from '../src/rl/td3.js';
import { ReplayBuffer, type Minibatch } from '../src/rl/replayBuffer.js';
import { serializeAgent, validateAgent, type AgentReward } from '../src/rl/agentFile.js';
import type { RandomSource } from '../src/rl/randomSource.js';
import { trainRetailAgent } from '../src/sim/retailTraining.js';
import { AgentPolicy, meanRewardReturn, retailReward } from '../src/sim/retailAgent.js';
import { CostPlusPolicy } from '../src/sim/retailPolicies.js';
import { checkRetailEnv, type RetailEnvConfig } from '../src/sim/retailEnv.js';
import { runEpisode } from '../src/sim/retail.js';
import { Rng, STREAM_RETAIL_DEMAND, STREAM_RETAIL_POLICY } from '../src/sim/random.js';

const fixture = JSON.parse(readFileSync('test/fixtures/rl_td3_targets.json', 'utf8')) as { td3: number[]; ddpg: number[] };

/** A stream of given normals (the hand-worked example's target noise); uniforms are not drawn. */
function normals(zs: number[]): RandomSource {
  let i = 0;
  return {
    normal: () => zs[i++],
    uniform: () => {
      throw new Error('no uniforms in this example');
    },
  };
}

const handBatch: Minibatch = {
  size: 3,
  states: new Float32Array(3),
  actions: new Float32Array(3),
  rewards: Float32Array.of(1, 0.5, -0.2),
  nextStates: Float32Array.of(0.5, -0.3, 2.0),
  dones: Float32Array.of(0, 1, 0),
};

function handAgent(algo: 'td3' | 'ddpg'): Td3Agent {
  const agent = new Td3Agent(1, algoSettings(algo, { hidden: [1], gamma: 0.9 }), createMlpTwin, 1);
  // layout per layer: W [out][in], then b
  agent.actorTarget.setParams(Float32Array.of(1, 0, 1, 0));
  agent.criticTargets[0].setParams(Float32Array.of(1, 1, 0, 1, 0));
  if (algo === 'td3') agent.criticTargets[1].setParams(Float32Array.of(2, -1, 0.1, 0.5, 0.2));
  return agent;
}

describe('TD3 critic targets', () => {
  it('match the hand-worked example (target noise, clipping, twin minimum, terminal rows)', () => {
    const y = handAgent('td3').targets(handBatch, normals([3, -0.5, 1]));
    fixture.td3.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });
  it('DDPG: one critic, no target noise (no draws)', () => {
    const agent = handAgent('ddpg');
    expect(agent.critics.length).toBe(1);
    const y = agent.targets(handBatch, normals([]));
    fixture.ddpg.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });
});

describe('target networks', () => {
  it('start as copies and move by θ′ ← τθ + (1 − τ)θ′', () => {
    const agent = new Td3Agent(3, algoSettings('td3', { hidden: [5, 4], tau: 0.3 }), createMlpTwin, 2);
    expect(Array.from(agent.actorTarget.params())).toEqual(Array.from(agent.actor.params()));
    expect(Array.from(agent.criticTargets[1].params())).toEqual(Array.from(agent.critics[1].params()));
    // give the online networks different weights, then one soft update
    const nets: [Mlp, Mlp][] = [[agent.actor, agent.actorTarget], [agent.critics[0], agent.criticTargets[0]], [agent.critics[1], agent.criticTargets[1]]];
    const before = nets.map(([on, tg], k) => {
      const p = on.params().map((v, j) => v + 0.01 * (j % 7) - 0.02 * k);
      on.setParams(p);
      return [p, tg.params()] as const;
    });
    agent.softUpdateTargets();
    nets.forEach(([, tg], k) => {
      const [on, old] = before[k];
      const now = tg.params();
      for (let j = 0; j < now.length; j++) expect(now[j]).toBeCloseTo(0.3 * on[j] + 0.7 * old[j], 6);
    });
  });

  it('TD3 updates the actor and the targets every second critic step; DDPG every step', () => {
    for (const algo of ['td3', 'ddpg'] as const) {
      const agent = new Td3Agent(2, algoSettings(algo, { hidden: [6], batchSize: 4 }), createMlpTwin, 5);
      const buf = new ReplayBuffer(50, 2, 1);
      const rng = new Rng(1, 2, 3);
      for (let i = 0; i < 20; i++) buf.add([rng.uniform(), rng.uniform()], [2 * rng.uniform() - 1], rng.normal(), [rng.uniform(), rng.uniform()], i % 5 === 4);
      for (let step = 0; step < 4; step++) {
        const actor = agent.actor.params();
        const target = agent.actorTarget.params();
        const critic = agent.critics[0].params();
        const st = agent.update(buf, rng);
        const expectActor = algo === 'ddpg' || step % 2 === 0;
        expect(st.actorUpdated).toBe(expectActor);
        expect(Number.isFinite(st.criticLoss)).toBe(true);
        expect(Array.from(agent.critics[0].params())).not.toEqual(Array.from(critic));
        const same = (a: Float32Array, b: Float32Array) => a.every((v, j) => v === b[j]);
        expect(same(agent.actor.params(), actor)).toBe(!expectActor);
        expect(same(agent.actorTarget.params(), target)).toBe(!expectActor);
      }
      expect(agent.updates).toBe(4);
    }
  });
});

/** Central finite differences of f over the network's parameters. */
function numericGradient(net: Mlp, f: () => number, h = 1e-2): Float64Array {
  const p = net.params();
  const g = new Float64Array(p.length);
  for (let j = 0; j < p.length; j++) {
    const q = Float32Array.from(p);
    q[j] = p[j] + h;
    net.setParams(q);
    const up = f();
    q[j] = p[j] - h;
    net.setParams(q);
    g[j] = (up - f()) / (2 * h);
  }
  net.setParams(p);
  return g;
}

describe('gradients against finite differences', () => {
  const agent = new Td3Agent(2, algoSettings('td3', { hidden: [5, 4] }), createMlpTwin, 11);
  const rng = new Rng(4, 4, 4);
  const B = 6;
  const states = Float32Array.from({ length: B * 2 }, () => rng.uniform());
  const actions = Float32Array.from({ length: B }, () => 2 * rng.uniform() - 1);
  const y = Float32Array.from({ length: B }, () => rng.normal());
  const x = stateActionRows(states, actions, B, 2);
  const close = (g: Float32Array, n: Float64Array) => n.forEach((v, j) => expect(Math.abs(g[j] - v)).toBeLessThan(2e-3 + 2e-2 * Math.abs(v)));

  it('critic: (1/B)·Σ (Q − y)²', () => {
    agent.criticGradient(0, x, y, B);
    const g = agent.critics[0].grads();
    const loss = () => {
      const q = agent.critics[0].forward(x, B);
      let s = 0;
      for (let i = 0; i < B; i++) s += (q[i] - y[i]) ** 2;
      return s / B;
    };
    close(g, numericGradient(agent.critics[0], loss));
  });

  it('actor: −(1/B)·Σ Q₁(s, μ(s))', () => {
    agent.actorGradient(states, B);
    const g = agent.actor.grads();
    const objective = () => {
      const a = agent.actor.forward(states, B).slice();
      const q = agent.critics[0].forward(stateActionRows(states, a, B, 2), B);
      let s = 0;
      for (let i = 0; i < B; i++) s += q[i];
      return -s / B;
    };
    close(g, numericGradient(agent.actor, objective));
  });
});

const guardrails = { floorOverCost: 1.1, maxStepPct: 50, ceilingOverP0: 10 };

function train(env: RetailEnvConfig, episodes: number, seed: number, reward: AgentReward, hidden: number[], batchSize: number) {
  return trainRetailAgent({ env, guardrails, episodes, seed, reward, settings: algoSettings('td3', { hidden, batchSize }) }, createMlpTwin).agent;
}

describe('training', () => {
  it('is reproducible: the same seed gives the same agent file, another seed another', () => {
    const env = checkRetailEnv({ days: 8, initial_stock: 300 });
    const a = serializeAgent(train(env, 4, 7, 'blend', [8, 8], 8));
    expect(serializeAgent(train(env, 4, 7, 'blend', [8, 8], 8))).toBe(a);
    expect(serializeAgent(train(env, 4, 8, 'blend', [8, 8], 8))).not.toBe(a);
    const parsed = validateAgent(JSON.parse(a));
    expect(parsed.agent.training.steps).toBe(32);
    expect(parsed.agent.training.updates).toBe(32 - 8 + 1);
  });

  it('a short run on a tiny network raises the season profit of the greedy policy', () => {
    const env = checkRetailEnv({ days: 10, initial_stock: 400, returns: { kind: 'constant', rate: 0 }, return_cost: 0, holding_cost: 0 });
    const profit = (agentSeed: number, episodes: number) => {
      const pol = new AgentPolicy(createMlpTwin, validateAgent(train(env, episodes, agentSeed, 'profit', [16, 16], 32)));
      let s = 0;
      for (let k = 0; k < 20; k++) s += runEpisode(env, pol, new Rng(1, k, STREAM_RETAIL_DEMAND), new Rng(1, k, STREAM_RETAIL_POLICY), null).profit;
      return s / 20;
    };
    const before: number[] = [];
    const after: number[] = [];
    for (const seed of [1, 2, 3]) {
      before.push(profit(seed, 1));
      after.push(profit(seed, 100));
      expect(after[after.length - 1]).toBeGreaterThan(before[before.length - 1]);
    }
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(mean(after)).toBeGreaterThan(1.2 * mean(before));
  });
});

describe('rewards', () => {
  const env = checkRetailEnv({ days: 12, initial_stock: 900 });
  it('the profit reward is the profit over P0·Q0; its mean return matches the simulator on the same seasons', () => {
    const pol = new CostPlusPolicy(0.5);
    let profit = 0;
    for (let k = 0; k < 6; k++) profit += runEpisode(env, pol, new Rng(4, k, STREAM_RETAIL_DEMAND), new Rng(4, k, STREAM_RETAIL_POLICY), null).profit;
    expect(meanRewardReturn('profit', env, pol, 6, 4)).toBeCloseTo(profit / 6 / (env.p0 * env.q0), 10);
  });
  it('the blend reward weighs profit, units and stock sold 0.4 / 0.3 / 0.3', () => {
    const o = { price: 15, demand: 150, sold: 150, returned: 0, revenue: 2250, costOfGoods: 1500, returnCost: 0, holding: 0, writeOff: 0, profit: 750, stock: 600 };
    // 0.4·750/2000 + 0.3·150/100 + 0.3·(1 − 600/900)
    expect(retailReward('blend', env, o)).toBeCloseTo(0.15 + 0.45 + 0.1, 12);
    expect(retailReward('profit', env, o)).toBeCloseTo(0.375, 12);
  });
});
