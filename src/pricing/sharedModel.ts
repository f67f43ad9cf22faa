/**
 * A compiled model handed from the batch job's main thread to its workers in SharedArrayBuffers:
 * the main thread reads, validates and compiles the model file once, and each worker copies the
 * tables into its WASM memory instead of parsing the JSON again (for the 20 000-product
 * benchmark model, ~0.8 s of CPU per worker: reading 21 MB, JSON.parse, schema checks and
 * compilation; bench/RESULTS.md). Structured clone shares a SharedArrayBuffer by reference, so
 * every task can carry the model at no cost.
 */
import type { NoiseSpec } from '../core/validate.js';
import type { WasmCore } from '../core/wasm.js';
import { RepricerError } from '../core/errors.js';
import type { CompiledModel } from './compiledModel.js';
import { pinModel, pinnedViews, type PinnedModel } from './pinnedModel.js';

export interface SharedModel {
  /** distinguishes models within one worker's cache */
  id: string;
  D: number;
  reservation: number;
  noise: NoiseSpec;
  features: string[];
  intercept: boolean;
  table: SharedArrayBuffer;
  cov: SharedArrayBuffer;
  covAt: SharedArrayBuffer;
  /** product ids in model-row order (row k + 1 is id k), UTF-8, concatenated */
  idBytes: SharedArrayBuffer;
  /** K + 1 offsets into idBytes */
  idOffsets: SharedArrayBuffer;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function shared(a: Float64Array): SharedArrayBuffer {
  const b = new SharedArrayBuffer(a.byteLength);
  new Float64Array(b).set(a);
  return b;
}

export function shareModel(cm: CompiledModel, id: string): SharedModel {
  const ids = [...cm.index.keys()];
  const enc = ids.map((s) => encoder.encode(s));
  const idBytes = new SharedArrayBuffer(enc.reduce((n, b) => n + b.length, 0));
  const idOffsets = new SharedArrayBuffer(4 * (ids.length + 1));
  const bytes = new Uint8Array(idBytes);
  const offs = new Int32Array(idOffsets);
  let o = 0;
  enc.forEach((b, k) => {
    if (cm.index.get(ids[k]) !== k + 1) throw new RepricerError('INTERNAL', 'shareModel: product rows must follow the index order');
    bytes.set(b, o);
    offs[k] = o;
    o += b.length;
  });
  offs[ids.length] = o;
  return {
    id,
    D: cm.D,
    reservation: cm.reservation,
    noise: cm.noise,
    features: cm.features,
    intercept: cm.intercept,
    table: shared(cm.table),
    cov: shared(cm.cov),
    covAt: sharedInt32(cm.covAt),
    idBytes,
    idOffsets,
  };
}

function sharedInt32(a: Int32Array): SharedArrayBuffer {
  const b = new SharedArrayBuffer(a.byteLength);
  new Int32Array(b).set(a);
  return b;
}

/** The product ids of a shared model, in model-row order. */
export function sharedProductIds(s: SharedModel): string[] {
  const bytes = new Uint8Array(s.idBytes);
  const offs = new Int32Array(s.idOffsets);
  const ids = new Array<string>(offs.length - 1);
  for (let k = 0; k < ids.length; k++) ids[k] = decoder.decode(bytes.subarray(offs[k], offs[k + 1]));
  return ids;
}

/** A CompiledModel over the shared tables (views, not copies; the caller may move them). */
export function modelFromShared(s: SharedModel): CompiledModel {
  const index = new Map<string, number>();
  sharedProductIds(s).forEach((id, k) => index.set(id, k + 1));
  return {
    D: s.D,
    reservation: s.reservation,
    noise: s.noise,
    table: new Float64Array(s.table),
    cov: new Float64Array(s.cov),
    covAt: new Int32Array(s.covAt),
    index,
    features: s.features,
    intercept: s.intercept,
  };
}

const pinnedByCore = new WeakMap<WasmCore, Map<string, PinnedModel>>();

/**
 * The shared model as this thread's core sees it: compiled from the shared tables and pinned in
 * the core's memory on first use (cached by the shared model's id), then zero-copy for every
 * task. What every pool task that prices calls; call outside any arena scope.
 */
export function modelInCore(core: WasmCore, s: SharedModel): CompiledModel {
  let byId = pinnedByCore.get(core);
  if (!byId) pinnedByCore.set(core, (byId = new Map()));
  let p = byId.get(s.id);
  if (!p) {
    p = pinModel(core, modelFromShared(s));
    byId.set(s.id, p);
  }
  return pinnedViews(p, core);
}
