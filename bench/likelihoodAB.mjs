#!/usr/bin/env node
// A/B timing of the censored likelihood pass (value + gradient + Hessian, d = 16, unit weights, the
// data of bench/kernels.bench.ts) between two builds of the WASM core in ONE process:
//   node bench/likelihoodAB.mjs DIR_A DIR_B [--n 10000000] [--reps 9] [--variant simd]
// DIR_A, DIR_B hold core.simd.wasm / core.scalar.wasm (e.g. a copy of build/ before a change, and
// build/ after it). Each build gets its own memory holding the same bytes; calls alternate A, B,
// B, A, ... after one untimed warm-up call each (the tier-up to TurboFan), so machine noise falls
// on both alike. Prints per build the median and range of wall time and of process CPU time,
// and whether the two builds return the same bits (value, gradient, Hessian).
// Why not two runs of bench:kernels: on this shared 2-core machine the same build measured
// 455–800 ms at n = 1e7 from one process to the next; alternating inside one process is stabler.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (k, v) => {
  const i = args.indexOf(`--${k}`);
  if (i < 0) return v;
  const r = args[i + 1];
  args.splice(i, 2);
  return r;
};
const n = Number(opt('n', '10000000'));
const reps = Number(opt('reps', '9'));
const variant = opt('variant', 'simd');
const dirs = args.slice(0, 2);
if (dirs.length !== 2) {
  console.error('usage: node bench/likelihoodAB.mjs DIR_A DIR_B [--n N] [--reps R] [--variant simd|scalar]');
  process.exit(2);
}
const d = 16;
const BASE = 16 << 20; // above the core's static data
const bytes = BASE + (n * d + 4 * n + d + d + d * d + 64) * 8;

let seed = 12345;
const r = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const gaussian = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const L = (() => {
  let p = BASE;
  const a = (k) => {
    const q = p;
    p += Math.ceil((k * 8) / 16) * 16;
    return q;
  };
  return { x: a(n * d), won: a(n), price: a(n), comp: a(n), theta: a(d), grad: a(d), hess: a(d * d) };
})();

let first = null;
const cores = dirs.map((dir) => {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536), maximum: 65536, shared: true });
  const mod = new WebAssembly.Module(readFileSync(join(dir, `core.${variant}.wasm`)));
  const inst = new WebAssembly.Instance(mod, { env: { memory, abort() { throw new Error('abort'); } } });
  const f = new Float64Array(memory.buffer);
  if (first === null) {
    const th = L.theta / 8;
    for (let j = 0; j < d; j++) f[th + j] = j === 0 ? 1 : (r() - 0.5) * 0.6;
    for (let t = 0; t < n; t++) {
      let u = 0;
      for (let j = 0; j < d; j++) {
        const v = j === 0 ? 1 : r() * 2 - 1;
        f[L.x / 8 + t * d + j] = v;
        u += v * f[th + j];
      }
      const y = u + 0.5 * gaussian();
      const p = u + (r() - 0.5);
      f[L.price / 8 + t] = p;
      f[L.won / 8 + t] = p <= y ? 1 : 0;
      f[L.comp / 8 + t] = p <= y ? y : NaN;
    }
    first = f;
  } else {
    f.set(first.subarray(BASE / 8, L.grad / 8), BASE / 8);
  }
  const k = inst.exports.censoredLogLikelihood;
  const call = () => k(n, d, L.x, L.won, L.price, L.comp, 0, L.theta, 0, 0.5, 0, 0, L.grad, L.hess);
  return { dir, f, call, wall: [], cpu: [], out: null };
});

for (const c of cores) {
  const v = c.call(); // warm-up: Liftoff, then TurboFan for the timed calls
  c.out = [v, ...c.f.subarray(L.grad / 8, L.grad / 8 + d), ...c.f.subarray(L.hess / 8, L.hess / 8 + d * d)];
}
for (let i = 0; i < reps; i++) {
  const order = i % 2 === 0 ? [0, 1] : [1, 0];
  for (const j of order) {
    const c = cores[j];
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    c.call();
    c.wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    c.cpu.push((u.user + u.system) / 1000);
  }
}
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (a) => `${med(a).toFixed(1)} ms (${Math.min(...a).toFixed(1)}–${Math.max(...a).toFixed(1)})`;
console.log(`likelihood pass, ${variant}, n = ${n}, d = ${d}, ${reps} alternating calls each, node ${process.version}`);
for (const c of cores) console.log(`${c.dir.padEnd(28)} wall ${fmt(c.wall)}  cpu ${fmt(c.cpu)}`);
const same = cores[0].out.every((x, i) => Object.is(x, cores[1].out[i]));
console.log(`B/A wall medians ${(med(cores[1].wall) / med(cores[0].wall)).toFixed(3)}; same bits: ${same}`);
