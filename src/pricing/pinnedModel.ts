/**
 * A compiled model's tables pinned in a core's WASM memory: the coefficient table, the covariance
 * table and its offsets are copied once into permanent arena allocations, and the compiled model
 * points at views of them, so the engine's `core.input(table)` and `core.input(cov)` are
 * zero-copy instead of copying the whole model (for 2 000 products and D = 5, 400 kB of
 * covariances) on every chunk or quote. The one way both the server's main thread and every
 * pool worker keep a model in WASM memory.
 */
import type { WasmCore } from '../core/wasm.js';
import type { CompiledModel } from './compiledModel.js';

/** Byte offsets of a model's pinned tables in a core's memory. */
export interface PinnedTables {
  table: number;
  cov: number;
  covAt: number;
}

export interface PinnedModel {
  compiled: CompiledModel;
  pinned: PinnedTables;
}

/**
 * Copy the tables into allocations of `core`'s arena (or into `reuse`, allocations of an earlier
 * pin of a model of the same shape) and point `cm` at them. Call outside any arena scope.
 * `permanent` (the default, for a worker's core) raises the arena's base over them, so no
 * `release` can take them back; a core whose arena already holds unscoped allocations (the
 * server's main core) pins with plain allocations, which no scope ever releases either.
 */
export function pinModel(core: WasmCore, cm: CompiledModel, reuse?: PinnedTables, permanent = true): PinnedModel {
  const a = core.arena;
  const pinned = reuse ?? (permanent
    ? { table: a.allocPermanent(cm.table.length), cov: a.allocPermanent(cm.cov.length), covAt: a.allocBytesPermanent(4 * cm.covAt.length) }
    : { table: a.alloc(cm.table.length), cov: a.alloc(cm.cov.length), covAt: a.allocBytes(4 * cm.covAt.length) });
  core.arena.view(pinned.table, cm.table.length).set(cm.table);
  core.arena.view(pinned.cov, cm.cov.length).set(cm.cov);
  new Int32Array(core.memory.buffer, pinned.covAt, cm.covAt.length).set(cm.covAt);
  const p = { compiled: cm, pinned };
  pinnedViews(p, core, true);
  return p;
}

/**
 * The compiled model over its pinned tables. Views are rebuilt after the memory grew (a grown
 * memory has a new buffer object and old views keep their old length; see src/core/arena.ts).
 */
export function pinnedViews(p: PinnedModel, core: WasmCore, force = false): CompiledModel {
  const cm = p.compiled;
  if (force || cm.table.buffer !== core.memory.buffer) {
    cm.table = new Float64Array(core.memory.buffer, p.pinned.table, cm.table.length);
    cm.cov = new Float64Array(core.memory.buffer, p.pinned.cov, cm.cov.length);
    cm.covAt = new Int32Array(core.memory.buffer, p.pinned.covAt, cm.covAt.length);
  }
  return cm;
}
