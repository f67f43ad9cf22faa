/**
 * Background jobs (`POST /v1/models/fit`, `GET /v1/jobs/:id`): in memory, the last 100 kept.
 * A fit job snapshots the observation table (rows up to the current last id), reads and fits
 * it on the pool (src/server/fitJobTask.ts), registers the model as a new version and, when asked,
 * activates it. Stages and progress: queued 0 -> reading 0.05 -> fitting 0.1 ->
 * registering 0.95 -> done 1 (the solver reports no finer progress). A failed job keeps a coded
 * error (a RepricerError's code, else JOB_FAILED), is counted in repricer_jobs_total, and a
 * failure that is not a RepricerError is also logged with its stack.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { RepricerError, type ErrorCode, ERROR_CATALOG } from '../core/errors.js';
import type { FitOptions } from '../model/fit.js';
import type { ModelStrategy } from '../model/format.js';
import type { NoiseFamily } from '../core/validate.js';
import { readObservationTable, type Store } from './store.js';
import type { ModelRegistry } from './modelRegistry.js';
import type { Metrics } from './metrics.js';
import type { FitTask, FitTaskResult } from './fitJobTask.js';

export interface FitBody {
  strategy?: ModelStrategy;
  family?: NoiseFamily;
  scale?: number;
  radius?: number;
  lambda_c?: number;
  reservation?: number;
  features?: string[];
  intercept?: boolean;
  activate?: boolean;
  created_at?: string;
}

export interface Job {
  id: string;
  kind: 'fit';
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  stage: 'queued' | 'reading' | 'fitting' | 'registering' | 'done';
  progress: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  result?: { model_version: string; rows: number; products: number; log_likelihood: number; iterations: number; converged: boolean; activated: boolean };
  error?: { code: string; message: string };
}

export type FitRunner = (task: FitTask) => Promise<FitTaskResult>;

const KEEP = 100;

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly registry: ModelRegistry,
    private readonly metrics: Metrics,
    private readonly runFit: () => FitRunner,
    private readonly log: FastifyBaseLogger,
  ) {}

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Settles when every started job has finished (for shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  startFit(body: FitBody): Job {
    if (this.store.countObservations() === 0) throw new RepricerError('CONFLICT', 'no observations stored: POST /v1/observations first');
    const active = this.registry.active;
    const features = body.features ?? active?.compiled.features ?? Object.keys(this.store.firstObservation()?.features ?? {});
    const intercept = body.intercept ?? active?.compiled.intercept ?? true;
    if (features.length === 0 && !intercept) throw new RepricerError('INVALID_BODY', 'features: at least one feature or the intercept is required', { path: 'features' });
    const options: FitOptions = {};
    if (body.strategy) options.strategy = body.strategy;
    if (body.family) options.family = body.family;
    if (body.scale !== undefined) {
      options.scale = body.scale;
      options.estimateScale = false;
    }
    if (body.radius !== undefined) options.radius = body.radius;
    if (body.lambda_c !== undefined) options.lambdaC = body.lambda_c;
    options.reservation = body.reservation ?? active?.compiled.reservation ?? 0;
    if (body.created_at !== undefined) options.createdAt = body.created_at;

    const job: Job = { id: randomUUID(), kind: 'fit', status: 'queued', stage: 'queued', progress: 0, created_at: new Date().toISOString(), started_at: null, finished_at: null };
    this.jobs.set(job.id, job);
    while (this.jobs.size > KEEP) this.jobs.delete(this.jobs.keys().next().value as string);
    const p = this.runFitJob(job, features, intercept, options, body.activate === true).finally(() => this.running.delete(p));
    this.running.add(p);
    return job;
  }

  private async runFitJob(job: Job, features: string[], intercept: boolean, options: FitOptions, activate: boolean): Promise<void> {
    await new Promise((r) => setImmediate(r));
    try {
      job.status = 'running';
      job.started_at = new Date().toISOString();
      job.stage = 'reading';
      job.progress = 0.05;
      // the pool thread reads the rows present now from its own connection; an in-memory
      // database can only be read here
      const maxId = this.store.maxObservationId();
      const source: FitTask['source'] =
        this.store.file === ':memory:' ? { table: readObservationTable(this.store.db, features, intercept, maxId) } : { dbFile: this.store.file, features, intercept, maxId };
      job.stage = 'fitting';
      job.progress = 0.1;
      const r = await this.runFit()({ source, options });
      if (!r.ok) throw new RepricerError(r.error.code in ERROR_CATALOG ? (r.error.code as ErrorCode) : 'JOB_FAILED', r.error.message, r.error.details);
      job.stage = 'registering';
      job.progress = 0.95;
      const summary = this.registry.register(r.model, 'fit', job.id);
      if (activate) this.registry.activate(summary.version);
      const fit = r.model.fit;
      job.result = {
        model_version: summary.version,
        rows: r.rows,
        products: Object.keys(r.model.products).length,
        log_likelihood: fit.logLikelihood,
        iterations: fit.iterations,
        converged: fit.converged,
        activated: activate,
      };
      job.status = 'succeeded';
      job.stage = 'done';
      job.progress = 1;
    } catch (err) {
      job.status = 'failed';
      if (err instanceof RepricerError) job.error = { code: err.code, message: err.message };
      else {
        // not a coded failure of the fit (the pool or the task module broke): kept with its stack
        this.log.error({ err, job: job.id }, 'fit job failed');
        job.error = { code: 'JOB_FAILED', message: `fit failed: ${err instanceof Error ? err.message : String(err)}` };
      }
    } finally {
      job.finished_at = new Date().toISOString();
      this.metrics.jobs.inc({ kind: job.kind, status: job.status });
    }
  }
}
