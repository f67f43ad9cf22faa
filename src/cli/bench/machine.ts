/** `repricer bench`: the machine the numbers come from. */
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { compileCore } from '../../core/wasm.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** the SIMD build of the core compiles here (what every command runs) */
  wasmSimd: boolean;
  loadavgStart: number[];
  loadavgEnd: number[];
}

export function describeMachine(): Machine {
  let wasmSimd = false;
  try {
    compileCore('simd');
    wasmSimd = true;
  } catch {
    wasmSimd = false;
  }
  return {
    cpu: (cpus()[0]?.model ?? 'unknown CPU').trim(),
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
    wasmSimd,
    loadavgStart: loadavg(),
    loadavgEnd: [],
  };
}
