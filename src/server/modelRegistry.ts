/**
 * Model versions as immutable files plus one atomically swapped "active" reference.
 *
 * - Every registered model is written once to `<dir>/model-<version>-<sha12>.json` (atomic
 *   rename) and never modified, so a pool worker may cache its compiled form by path.
 * - Registering identical content again returns the existing version (content hash).
 * - `activate` loads, validates, compiles and test-prices the version first, then swaps the
 *   reference in one assignment. A request reads `registry.active` once when it starts and keeps
 *   that object to the end, so in-flight requests finish on the model they started with and no
 *   request sees a half-built model.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { loadModel, serializeModel, validateModel, modelInvalid, type Model } from '../model/format.js';
import { compileModel, type CompiledModel } from '../pricing/compiledModel.js';
import { pinModel, type PinnedTables } from '../pricing/pinnedModel.js';
import { shareModel, type SharedModel } from '../pricing/sharedModel.js';
import { priceChunk } from '../pricing/engine.js';
import type { WasmCore } from '../core/wasm.js';
import { RepricerError } from '../core/errors.js';
import type { ModelRecord, Store } from './store.js';

export interface ActiveModel {
  version: string;
  seq: number;
  path: string;
  /** sha256 of the version's document: the identity replicas and published prices share (versions are per database) */
  sha256: string;
  compiled: CompiledModel;
  /** byte offsets of the coefficient and covariance tables (and covariance offsets) pinned in the main core's memory (pricing/pinnedModel.ts) */
  pinned: PinnedTables;
  /** the tables in shared memory for pool workers, made on first use (pricing/sharedModel.ts) */
  shared(): SharedModel;
}

export interface ModelSummary {
  version: string;
  seq: number;
  sha256: string;
  source: 'file' | 'upload' | 'fit';
  registered_at: string;
  created_at: string;
  active: boolean;
  features: string[];
  intercept: boolean;
  strategy: string;
  products: number;
  job_id: string | null;
}

const ACTIVE_KEY = 'active_model';

export class ModelRegistry {
  private current: ActiveModel | undefined;
  /** per version: its tables' permanent arena allocations (bounded by the number of versions) */
  private readonly pins = new Map<string, PinnedTables>();
  private readonly listeners: ((m: ActiveModel, previous: ActiveModel | undefined) => void)[] = [];

  constructor(
    private readonly store: Store,
    readonly dir: string,
    private readonly core: WasmCore,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** The serving model (undefined until one is activated). Read it once per request. */
  get active(): ActiveModel | undefined {
    return this.current;
  }

  onActivate(fn: (m: ActiveModel, previous: ActiveModel | undefined) => void): void {
    this.listeners.push(fn);
  }

  /** Store a model as a new immutable version (or return the version with the same content). */
  register(model: Model, source: ModelRecord['source'], jobId: string | null = null): ModelSummary {
    const m = validateModel(JSON.parse(JSON.stringify(model)) as unknown);
    const text = serializeModel(m);
    const sha256 = createHash('sha256').update(text).digest('hex');
    const known = this.store.modelBySha(sha256);
    if (known) {
      if (!existsSync(known.path)) writeFileAtomic(known.path, text);
      return this.summary(known);
    }
    this.smokeTest(compileModel(m));
    const summary = JSON.stringify({ features: m.features, intercept: m.intercept, strategy: m.strategy, products: Object.keys(m.products).length, created_at: m.createdAt });
    const rec = this.store.insertModel(
      { sha256, path: '', source, registered_at: new Date().toISOString(), job_id: jobId, summary },
      (seq) => `v${seq}`,
    );
    const path = resolve(join(this.dir, `model-${rec.version}-${sha256.slice(0, 12)}.json`));
    writeFileAtomic(path, text);
    this.store.db.prepare('UPDATE models SET path = ? WHERE seq = ?').run(path, rec.seq);
    return this.summary({ ...rec, path });
  }

  /** Register the model in a file (validated; MODEL_INVALID names the field). */
  registerFile(file: string, source: ModelRecord['source'] = 'file'): ModelSummary {
    return this.register(loadModel(file), source);
  }

  /** Swap the serving model. Throws NOT_FOUND for an unknown version, MODEL_INVALID if its file is bad. */
  activate(version: string): { active: ActiveModel; previous: ActiveModel | undefined } {
    const rec = this.store.model(version);
    if (!rec) throw new RepricerError('NOT_FOUND', `no model version ${JSON.stringify(version)}`, { version });
    if (this.current && this.current.version === version) return { active: this.current, previous: this.current };
    const compiled = compileModel(loadModel(rec.path));
    this.smokeTest(compiled);
    // permanent allocations, reused when a version is activated again (activation never runs inside an arena scope)
    const { pinned } = pinModel(this.core, compiled, this.pins.get(rec.version));
    this.pins.set(rec.version, pinned);
    let shared: SharedModel | undefined;
    const next: ActiveModel = {
      version: rec.version, seq: rec.seq, path: rec.path, sha256: rec.sha256, compiled, pinned,
      shared: () => (shared ??= shareModel(compiled, `${rec.sha256}#${rec.version}`)),
    };
    const previous = this.current;
    this.current = next; // the swap: one reference assignment
    this.store.setMeta(ACTIVE_KEY, rec.version);
    for (const fn of this.listeners) fn(next, previous);
    return { active: next, previous };
  }

  /** Re-activate the version that was active when the database was last used, if any. */
  restore(): ActiveModel | undefined {
    const v = this.store.getMeta(ACTIVE_KEY);
    if (!v) return undefined;
    const rec = this.store.model(v);
    if (!rec || !existsSync(rec.path)) return undefined;
    return this.activate(v).active;
  }

  list(): ModelSummary[] {
    return this.store.models().map((r) => this.summary(r));
  }

  get(version: string): ModelSummary | undefined {
    const r = this.store.model(version);
    return r && this.summary(r);
  }

  /** The model document of a version. */
  document(version: string): Model {
    const rec = this.store.model(version);
    if (!rec) throw new RepricerError('NOT_FOUND', `no model version ${JSON.stringify(version)}`, { version });
    return JSON.parse(readFileSync(rec.path, 'utf8')) as Model;
  }

  private summary(r: ModelRecord): ModelSummary {
    const s = JSON.parse(r.summary) as { features: string[]; intercept: boolean; strategy: string; products: number; created_at: string };
    return {
      version: r.version,
      seq: r.seq,
      sha256: r.sha256,
      source: r.source,
      registered_at: r.registered_at,
      created_at: s.created_at,
      active: this.current?.version === r.version,
      features: s.features,
      intercept: s.intercept,
      strategy: s.strategy,
      products: s.products,
      job_id: r.job_id,
    };
  }

  /**
   * Price one cold-start row at x = 0 (intercept 1): a model whose tables the numeric core refuses
   * (e.g. a non-symmetric covariance) is rejected here, not on the first quote.
   */
  private smokeTest(cm: CompiledModel): void {
    const x = new Float64Array(cm.D);
    if (cm.intercept) x[0] = 1;
    try {
      priceChunk(this.core, cm, {}, { n: 1, ids: ['\u0000smoke'], x, cost: new Float64Array([NaN]), currentPrice: new Float64Array([NaN]), minPrice: new Float64Array([NaN]), maxPrice: new Float64Array([NaN]) });
    } catch (err) {
      throw modelInvalid(`invalid model: the pricing engine refuses it (${(err as Error).message})`);
    }
  }
}
