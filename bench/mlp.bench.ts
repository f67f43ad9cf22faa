/**
 * Network training-step benchmark: the WASM core (SIMD and scalar builds), the TypeScript twin and
 * @tensorflow/tfjs-core on its wasm and cpu backends, one thread, the same networks and data.
 *   npm run bench:mlp [-- --batch 256 --state 5 --seconds 3 --reps 3 --skip-twin]
 * Networks of the RL agent: the actor state->256->256->1 (tanh) and the critic
 * state+action->256->256->1 (linear). One training step = forward on a batch, the mean-squared-error
 * gradient dL/dy = 2(y - t)/B, backward (dL/dθ and dL/dx), one Adam step (α = 1e-3). Inputs arrive
 * as Float32Arrays each step, as from a replay buffer.
 *
 * tfjs-core ships no gradient functions in its Node build (they come with the @tensorflow/tfjs
 * union package, not installed here; its ES-module files do not resolve under Node), so the tfjs
 * step writes the same backward pass (docs/math.md §9.2) out of tfjs ops — matMul with transposes,
 * step, sum — and applies tf.train.adam to the named gradients. That skips the tape, so it is if
 * anything faster than tfjs's own autodiff would be. Its gradient is checked against the twin's
 * before timing (printed as the largest relative difference).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { WasmCore } from '../src/core/wasm.js';
import { createMlp, type Mlp, type MlpSpec } from '../src/core/mlp.js';
import { createMlpTwin } from '../src/core/twin/mlp.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1]! : v);
const batch = Number(opt('batch', '256'));
const stateDim = Number(opt('state', '5'));
const seconds = Number(opt('seconds', '3'));
const reps = Number(opt('reps', '3'));
const skipTwin = args.includes('--skip-twin');

const nets: { name: string; spec: MlpSpec }[] = [
  { name: `actor ${stateDim}->256->256->1 tanh`, spec: { sizes: [stateDim, 256, 256, 1], output: 'tanh' } },
  { name: `critic ${stateDim + 1}->256->256->1 linear`, spec: { sizes: [stateDim + 1, 256, 256, 1], output: 'linear' } },
];

/** Deterministic data (a bench needs no statistics, only the same numbers for everyone). */
function data(n: number, seed: number, s = 1): Float32Array {
  const out = new Float32Array(n);
  let z = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    z = (Math.imul(z, 1664525) + 1013904223) >>> 0;
    out[i] = ((z / 4294967296) * 2 - 1) * s;
  }
  return out;
}

/** Batches cycled through during timing, so no implementation sees one batch only. */
const POOL = 8;

interface Trainer {
  /** one training step on batch k of the pool */
  step(k: number): void;
  /** the current parameters, flat in the Mlp layout (to check that training happened) */
  params(): Float32Array;
  /** dL/dθ on batch k of the pool, flat in the Mlp layout, without a step */
  grads(k: number): Float32Array;
  dispose?(): void;
}

function mlpTrainer(net: Mlp, xs: Float32Array[], ts: Float32Array[]): Trainer {
  const d = new Float32Array(batch);
  const backprop = (k: number) => {
    const y = net.forward(xs[k]!, batch);
    const t = ts[k]!;
    for (let i = 0; i < batch; i++) d[i] = (2 * (y[i]! - t[i]!)) / batch;
    net.backward(d, batch);
  };
  return {
    step(k) {
      backprop(k);
      net.adamStep(1e-3);
    },
    grads(k) {
      backprop(k);
      return net.grads();
    },
    params: () => net.params(),
  };
}

/** The same network as tfjs variables, W stored [out][in] as in the Mlp layout. */
function tfTrainer(spec: MlpSpec, theta: Float32Array, xs: Float32Array[], ts: Float32Array[], tag: string): Trainer {
  const s = spec.sizes;
  const W: tf.Variable[] = [];
  const b: tf.Variable[] = [];
  let off = 0;
  for (let l = 0; l + 1 < s.length; l++) {
    const nIn = s[l]!;
    const nOut = s[l + 1]!;
    W.push(tf.variable(tf.tensor2d(theta.subarray(off, off + nIn * nOut), [nOut, nIn]), true, `${tag}W${l}`));
    off += nIn * nOut;
    b.push(tf.variable(tf.tensor1d(theta.subarray(off, off + nOut)), true, `${tag}b${l}`));
    off += nOut;
  }
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const L = W.length;
  const gradients = (k: number): tf.NamedTensorMap => {
    const x = tf.tensor2d(xs[k]!, [batch, s[0]!]);
    const acts: tf.Tensor2D[] = [x];
    for (let l = 0; l < L; l++) {
      const z = tf.add(tf.matMul(acts[l]!, W[l]!, false, true), b[l]!) as tf.Tensor2D;
      acts.push(l < L - 1 ? tf.relu(z) : spec.output === 'tanh' ? tf.tanh(z) : z);
    }
    const y = acts[L]!;
    let g: tf.Tensor2D = tf.mul(tf.sub(y, tf.tensor2d(ts[k]!, [batch, 1])), 2 / batch);
    const out: tf.NamedTensorMap = {};
    for (let l = L - 1; l >= 0; l--) {
      const yl = acts[l + 1]!;
      const delta: tf.Tensor2D = l < L - 1 ? tf.mul(g, tf.step(yl)) : spec.output === 'tanh' ? tf.mul(g, tf.sub(1, tf.square(yl))) : g;
      out[W[l]!.name] = tf.matMul(delta, acts[l]!, true, false);
      out[b[l]!.name] = tf.sum(delta, 0);
      g = tf.matMul(delta, W[l]!);
    }
    return out;
  };
  return {
    step(k) {
      tf.tidy(() => opt.applyGradients(Object.entries(gradients(k)).map(([name, tensor]) => ({ name, tensor }))));
    },
    grads(k) {
      return tf.tidy(() => {
        const gm = gradients(k);
        const parts: Float32Array[] = [];
        for (let l = 0; l < L; l++) parts.push(gm[W[l]!.name]!.dataSync() as Float32Array, gm[b[l]!.name]!.dataSync() as Float32Array);
        const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          flat.set(p, o);
          o += p.length;
        }
        return flat;
      });
    },
    params() {
      const parts = W.flatMap((w, l) => [w.dataSync() as Float32Array, b[l]!.dataSync() as Float32Array]);
      const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        flat.set(p, o);
        o += p.length;
      }
      return flat;
    },
    dispose() {
      opt.dispose();
      for (const v of [...W, ...b]) v.dispose();
    },
  };
}

/** Steps per second: best and median of `reps` timed runs of about `seconds` each. */
function time(tr: Trainer): { best: number; median: number; steps: number } {
  for (let k = 0; k < 5; k++) tr.step(k % POOL); // warm-up (JIT, buffer growth, tfjs kernel setup)
  const rates: number[] = [];
  let steps = 0;
  for (let r = 0; r < reps; r++) {
    let n = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < seconds * 1000) {
      tr.step(n % POOL);
      n++;
      if (n % 4 === 0 || seconds * 1000 < 50) t1 = performance.now();
    }
    tr.params(); // drain any pending backend work before stopping the clock
    t1 = performance.now();
    rates.push((n * 1000) / (t1 - t0));
    steps += n;
  }
  rates.sort((a, b) => a - b);
  return { best: rates[rates.length - 1]!, median: rates[Math.floor(rates.length / 2)]!, steps };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m / scale;
}

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ');
  console.log(`mlp training-step benchmark: batch ${batch}, one thread, node ${process.version}, load ${load}, ${reps} runs of ~${seconds} s each`);
  const rows: string[] = [];
  for (const { name, spec } of nets) {
    const xs = Array.from({ length: POOL }, (_, k) => data(batch * spec.sizes[0]!, 10 + k, 2));
    const ts = Array.from({ length: POOL }, (_, k) => data(batch, 50 + k, 0.9));
    const init = createMlpTwin(spec);
    init.initialise(1);
    const theta = init.params();
    const ref = createMlpTwin(spec);
    ref.setParams(theta);
    const gRef = mlpTrainer(ref, xs, ts).grads(0);

    const impls: { label: string; make: () => Trainer }[] = [
      { label: 'WASM simd (repricer core)', make: () => { const n = createMlp(WasmCore.create({ variant: 'simd' }), spec); n.setParams(theta); return mlpTrainer(n, xs, ts); } },
      { label: 'WASM scalar', make: () => { const n = createMlp(WasmCore.create({ variant: 'scalar' }), spec); n.setParams(theta); return mlpTrainer(n, xs, ts); } },
      ...(skipTwin ? [] : [{ label: 'TS twin', make: () => { const n = createMlpTwin(spec); n.setParams(theta); return mlpTrainer(n, xs, ts); } }]),
      { label: 'tfjs-core wasm backend', make: () => tfMake('wasm') },
      { label: 'tfjs-core cpu backend', make: () => tfMake('cpu') },
    ];
    let tfCount = 0;
    const tfBackend: { current?: string } = {};
    function tfMake(backend: string): Trainer {
      if (tfBackend.current !== backend) throw new Error(`backend ${backend} not active`);
      return tfTrainer(spec, theta, xs, ts, `n${tfCount++}`);
    }
    for (const impl of impls) {
      if (impl.label.startsWith('tfjs')) {
        const backend = impl.label.includes('wasm') ? 'wasm' : 'cpu';
        await tf.setBackend(backend);
        await tf.ready();
        tfBackend.current = backend;
        if (backend === 'wasm') {
          const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
          const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
          console.log(`  tfjs wasm backend: SIMD ${String(simd)}, multithread ${String(threads)}`);
        }
      }
      const tr = impl.make();
      const gDiff = maxRelDiff(tr.grads(0), gRef);
      if (!(gDiff < 1e-4)) throw new Error(`${impl.label}: gradient differs from the twin's (${gDiff})`);
      const before = tr.params();
      const r = time(tr);
      const moved = maxRelDiff(tr.params(), before);
      if (!(moved > 0)) throw new Error(`${impl.label}: parameters did not change`);
      tr.dispose?.();
      const line = `| ${name} | ${impl.label} | ${r.best.toFixed(1)} | ${r.median.toFixed(1)} | ${r.steps} | ${gDiff.toExponential(1)} |`;
      console.log(line);
      rows.push(line);
    }
  }
  console.log('\n| network | implementation | steps/s (best) | steps/s (median) | steps timed | gradient vs twin |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
