/**
 * Market kernel benchmark: WASM SIMD vs WASM scalar vs the TypeScript twin, one thread, the same
 * markets, tinybench medians from one run.
 *   npm run build && node dist/bench/market.bench.js [--sizes 10x100x5,100x1000x20]
 * Kernels (docs/math.md §2): marketPotential (ER, supply, demand, gradient) and marketOracle
 * over all participants in turn (one oracle call each). Each WASM build reads the market from its
 * own linear memory (laid out once by MarketPotential's arena); the twin reads plain
 * Float64Arrays. Kernel calls only: the prices are already in place. A checksum of the outputs is
 * printed so no work is optimised away.
 */
import { Bench } from 'tinybench';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import * as twin from '../src/core/twin/market.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1] : v);
const sizes = opt('sizes', '10x100x5,100x1000x20').split(',').map((s) => s.split('x').map(Number) as [number, number, number]);

let checksum = 0;

/** The pointers MarketPotential keeps private, read back for a raw-kernel loop. */
interface Raw {
  core: WasmCore;
  setup: () => void;
  p: number;
  out: [number, number, number];
  g: number;
}

function raw(core: WasmCore, pot: MarketPotential, p: Float64Array): Raw {
  // the wrapper lays the market out; oracle() leaves it set up with p in place
  const g = new Float64Array(p.length);
  pot.oracle(p, 0, g);
  const ptr = (pot as unknown as { ptr: Record<string, number> }).ptr;
  const { n, m, L, K } = pot.size;
  const mk = pot as unknown as { mu: number; outside: number };
  return {
    core,
    setup: () => core.k.marketSetup(n, m, L, K, mk.mu, mk.outside, ptr.a, ptr.w, ptr.nest, ptr.muL, ptr.c, ptr.cap, ptr.beta, ptr.work),
    p: ptr.p,
    out: [ptr.supply, ptr.demand, ptr.grad],
    g: ptr.g,
  };
}

async function main(): Promise<void> {
  console.log(`market kernel benchmark: one thread, node ${process.version}, tinybench medians (ms)`);
  for (const [n, m, K] of sizes) {
    const mk = randomMarket(1, { products: n, nests: Math.max(1, Math.round(n / 4)), consumers: m, suppliers: K });
    const p = Float64Array.from({ length: n }, (_, i) => 2 + (i % 7) * 0.2);
    const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
    const pots = { simd: new MarketPotential(mk, cores.simd), scalar: new MarketPotential(mk, cores.scalar) };
    const r = { simd: raw(cores.simd, pots.simd, p), scalar: raw(cores.scalar, pots.scalar, p) };
    const L = mk.muNest.length;
    twin.marketSetup(n, m, L, K, mk.mu, 0, mk.values, mk.weight, mk.nest, mk.muNest, mk.costs, mk.capacity, mk.beta);
    const ts = new Float64Array(n), td = new Float64Array(n), tg = new Float64Array(n), tgo = new Float64Array(n);
    const N = K + m;
    const potential = {
      simd: () => { r.simd.setup(); checksum += r.simd.core.k.marketPotential(r.simd.p, ...r.simd.out); },
      scalar: () => { r.scalar.setup(); checksum += r.scalar.core.k.marketPotential(r.scalar.p, ...r.scalar.out); },
      twin: () => { checksum += twin.marketPotential(p, ts, td, tg); },
    };
    const oracle = {
      simd: () => { r.simd.setup(); for (let q = 0; q < N; q++) r.simd.core.k.marketOracle(r.simd.p, q, r.simd.g); checksum += r.simd.core.arena.view(r.simd.g, n)[0]; },
      scalar: () => { r.scalar.setup(); for (let q = 0; q < N; q++) r.scalar.core.k.marketOracle(r.scalar.p, q, r.scalar.g); checksum += r.scalar.core.arena.view(r.scalar.g, n)[0]; },
      twin: () => { for (let q = 0; q < N; q++) twin.marketOracle(p, q, tgo); checksum += tgo[0]; },
    };
    for (const [name, fns] of [['marketPotential', potential], [`marketOracle x ${N}`, oracle]] as const) {
      const bench = new Bench({ time: 500, warmupIterations: 20 });
      bench.add('simd', fns.simd).add('scalar', fns.scalar).add('twin', fns.twin);
      await bench.run();
      const med = (t: string) => (bench.tasks.find((x) => x.name === t)!.result as unknown as { latency: { p50: number } }).latency.p50;
      const [a, b, c] = [med('simd'), med('scalar'), med('twin')];
      console.log(`${name.padEnd(22)} n=${n} m=${m} K=${K}  simd ${a.toFixed(4)}  scalar ${b.toFixed(4)}  twin ${c.toFixed(4)}  twin/simd ${(c / a).toFixed(2)}x  scalar/simd ${(b / a).toFixed(2)}x`);
    }
    pots.simd.dispose();
    pots.scalar.dispose();
  }
  console.log(`checksum ${checksum}`);
}

await main();
