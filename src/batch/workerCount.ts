/**
 * The batch job's default number of workers: one per `BYTES_PER_WORKER` of catalogue, at least
 * one, at most `availableParallelism()`. Every worker costs a thread start, a WASM instance and a
 * share of the cores; on a small catalogue that costs more than the worker saves. (Measured when
 * the main thread still read and wrote every byte; since workers do their own I/O see
 * bench/RESULTS.md, "Workers do their own I/O".) Measured in bench/RESULTS.md ("Default worker count").
 */
import { availableParallelism } from 'node:os';

/** Catalogue bytes per worker (bench/RESULTS.md, "Default worker count"). */
export const BYTES_PER_WORKER = 512 * 2 ** 20;

export function defaultWorkers(catalogBytes: number, cores: number = availableParallelism()): number {
  const byInput = Math.ceil(Math.max(0, catalogBytes) / BYTES_PER_WORKER);
  return Math.max(1, Math.min(Math.max(1, cores), byInput));
}
