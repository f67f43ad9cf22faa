/**
 * Learning-step benchmark of the RL agent (docs/rl.md, "Training cost"): gradient steps per second
 * of TD3 (two critics, actor every second step) and DDPG (one critic, actor every step) with the
 * design's networks (3 -> 256 -> 256 -> 1) and minibatch 100, on the WASM core (SIMD and scalar
 * builds), one thread. The replay buffer is first filled with random transitions; a step is what
 * training does per environment day: sample, targets, critic step(s), and the delayed actor step
 * with the soft target updates.
 *   npm run bench:rl [-- --steps 300 --reps 3 --hidden 256,256 --batch 100]
 */
import { WasmCore, type Variant } from '../src/core/wasm.js';
import { createMlp } from '../src/core/mlp.js';
import { Td3Agent, algoSettings } from '../src/rl/td3.js';
import { ReplayBuffer } from '../src/rl/replayBuffer.js';
import { Rng } from '../src/sim/random.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1]! : v);
const steps = Number(opt('steps', '300'));
const reps = Number(opt('reps', '3'));
const hidden = opt('hidden', '256,256').split(',').map(Number);
const batch = Number(opt('batch', '100'));

function run(variant: Variant, algo: 'td3' | 'ddpg'): number {
  const core = WasmCore.create({ variant });
  const agent = new Td3Agent(3, algoSettings(algo, { hidden, batchSize: batch }), (spec) => createMlp(core, spec), 1);
  const buf = new ReplayBuffer(10_000, 3, 1);
  const rng = new Rng(1, 0, 9);
  for (let i = 0; i < 5_000; i++) buf.add([rng.uniform(), rng.uniform(), rng.uniform()], [2 * rng.uniform() - 1], rng.normal(), [rng.uniform(), rng.uniform(), rng.uniform()], i % 30 === 29);
  for (let i = 0; i < 10; i++) agent.update(buf, rng); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) agent.update(buf, rng);
  return (performance.now() - t0) / steps;
}

console.log(`RL learning steps: state 3, hidden ${hidden.join('-')}, minibatch ${batch}, ${steps} steps x ${reps} repetitions (ms per step, best of the repetitions)`);
for (const variant of ['simd', 'scalar'] as const) {
  for (const algo of ['td3', 'ddpg'] as const) {
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) ms.push(run(variant, algo));
    const best = Math.min(...ms);
    console.log(`${variant.padEnd(6)} ${algo.padEnd(4)}  ${ms.map((m) => m.toFixed(2)).join(', ')} ms  best ${best.toFixed(2)} ms = ${(1000 / best).toFixed(0)} steps/s`);
  }
}
