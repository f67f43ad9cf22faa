/**
 * The server's state and its teardown: the WASM core and policy, the SQLite store (with its audit
 * writer thread, whose death is logged and counted in repricer_pool_fallbacks_total{task="audit"}),
 * the model registry with the starting model activated (the given one, else the database's active
 * version, else the fallback model, e.g. serve's demo model), and the Prometheus metrics following the
 * active version.
 */
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { compiledTaskFile } from '../pool/taskPool.js';
import { defaultCore, type WasmCore } from '../core/wasm.js';
import type { Model } from '../model/format.js';
import { validatePolicy, type Policy } from '../pricing/policy.js';
import { Store } from './store.js';
import type { AuditRetention } from './auditRetention.js';
import { ModelRegistry } from './modelRegistry.js';
import { Metrics } from './metrics.js';

export interface StateOptions {
  modelPath?: string;
  model?: Model;
  /** activated at start when no model is given and the database has no active version */
  fallbackModelPath?: string;
  dbFile?: string;
  modelsDir?: string;
  policy?: Policy;
  defaultMetrics?: boolean;
  core?: WasmCore;
  auditRetention?: AuditRetention;
}

/** given (model or modelPath), restored (the database's active version), fallback, none */
export type StartModel = 'given' | 'restored' | 'fallback' | 'none';

export interface ServerState {
  core: WasmCore;
  policy: Policy;
  store: Store;
  registry: ModelRegistry;
  metrics: Metrics;
  /** how the serving model was chosen at start */
  startModel: StartModel;
  /** close the store, then remove the temporary database and model versions, if any */
  close(): Promise<void>;
}

/**
 * Open the store and the registry and activate the starting model (the given one, or the version
 * active when the database was last used). If that fails, what was opened is closed and removed
 * before the error is rethrown.
 */
export function openState(opts: StateOptions, log: FastifyBaseLogger): ServerState {
  const core = opts.core ?? defaultCore();
  const policy = opts.policy ? validatePolicy(opts.policy) : {};
  // no database file given: a temporary one (so the audit writer thread can open it too),
  // removed on close with the model versions next to it
  const tempDir = opts.dbFile === undefined || (opts.dbFile === ':memory:' && !opts.modelsDir) ? mkdtempSync(join(tmpdir(), 'repricer-')) : undefined;
  const dbFile = opts.dbFile ?? join(tempDir!, 'repricer.sqlite');
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics });
  const store = new Store(dbFile, {
    auditRetention: opts.auditRetention,
    auditWorkerFile: compiledTaskFile(import.meta.url, './auditWorker.js'),
    onAuditWriterDeath: (err) => {
      metrics.poolFallbacks.inc({ task: 'audit' });
      log.error({ err }, 'audit writer thread died; audit rows are written on the main thread from now on (rows it had not committed are lost)');
    },
  });
  let registry: ModelRegistry;
  let startModel: StartModel = 'given';
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    const modelsDir = opts.modelsDir ?? (tempDir ? join(tempDir, 'models') : `${resolve(dbFile)}.models`);
    registry = new ModelRegistry(store, modelsDir, core);
    if (opts.model) registry.activate(registry.register(opts.model, 'upload').version);
    if (opts.modelPath) registry.activate(registry.registerFile(opts.modelPath).version);
    if (!opts.model && !opts.modelPath) {
      startModel = registry.restore() ? 'restored' : 'none';
      if (startModel === 'none' && opts.fallbackModelPath) {
        registry.activate(registry.registerFile(opts.fallbackModelPath).version);
        startModel = 'fallback';
      }
    }
  } catch (err) {
    void store.close();
    removeTemp(); // now: the caller may exit at once (serve reports the error and exits)
    throw err;
  }
  if (registry.active) metrics.setModel(registry.active.version, registry.active.seq);
  registry.onActivate((m) => metrics.setModel(m.version, m.seq));
  return {
    core,
    policy,
    store,
    registry,
    metrics,
    startModel,
    close: async () => {
      await store.close();
      removeTemp();
    },
  };
}
