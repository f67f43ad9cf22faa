/**
 * `buildApp(opts)`: the Fastify instance of the programmatic API, without `listen` (the CLI's
 * `serve` listens; tests use `inject()` or listen on an ephemeral port). A thin layer: routes
 * validate and shape JSON, `src/pricing` computes (directly, or through the Piscina pool for large
 * bodies), `store.ts` keeps observations, the price audit trail and model versions in SQLite.
 *
 * Auth rule for write routes (POST /v1/observations, /v1/models, /v1/models/:version/activate,
 * /v1/models/fit): a bearer API key is required when `apiKey` is set; with `auth: false` they are
 * open; with neither they are locked (401 telling how to configure a key). Quote and read
 * routes need no key.
 *
 * Errors: every error response is `{error: {code, message, details?}}` with a code of
 * src/core/errors.ts; a body that fails its schema is 400 INVALID_BODY naming each field path
 * ("features.f1: must be number").
 */
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions, type onRequestHookHandler } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import { Ajv, type ErrorObject } from 'ajv';
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { defaultCore, type WasmCore } from '../core/wasm.js';
import { ERROR_CATALOG, RepricerError, type ErrorCode } from '../core/errors.js';
import type { Model } from '../model/format.js';
import { validatePolicy, type Policy } from '../pricing/policy.js';
import type { CatalogChunk, PriceColumns } from '../pricing/engine.js';
import type { SharedModel } from '../pricing/sharedModel.js';
import type { QuoteTask } from '../pricing/quoteTask.js';
import { Store } from './store.js';
import { ModelRegistry } from './modelRegistry.js';
import { Metrics } from './metrics.js';
import { Jobs } from './jobs.js';
import type { FitTask, FitTaskResult } from './fitJobTask.js';
import type { ServerContext } from './context.js';
import { errorSchema } from './schemas.js';
import { quoteRoutes } from './routes/quotes.js';
import { observationRoutes } from './routes/observations.js';
import { modelRoutes } from './routes/models.js';
import { productRoutes } from './routes/products.js';
import { healthRoutes } from './routes/health.js';

export interface AppOptions {
  /** model file registered (as a version) and activated at start */
  modelPath?: string;
  /** or a model document (tests, embedding) */
  model?: Model;
  /** SQLite file; default a temporary file removed on close (nothing persists); ':memory:' keeps all on the main thread */
  dbFile?: string;
  /** where model versions are stored; default `<dbFile>.models/`, or a temporary directory for an in-memory db */
  modelsDir?: string;
  /** bearer API key of the write routes */
  apiKey?: string;
  /** false: write routes open without a key (explicit opt-out) */
  auth?: boolean;
  /** guardrails (validated like `reprice --policy`) */
  policy?: Policy;
  /** per client IP; false disables. Default 100 000 requests per minute. */
  rateLimit?: false | { max: number; timeWindow?: number | string };
  /** body limit of POST /v1/quote, default 64 KiB */
  quoteBodyLimit?: number;
  /** body limit of the bulk routes (quotes, observations, model upload), default 16 MiB */
  bodyLimit?: number;
  /**
   * worker pool for large bodies and fit jobs; false: everything on the main thread (fit jobs
   * fail). `workerFile` and `fitTaskFile` override the task modules (pricing/quoteTask.js,
   * server/fitJobTask.js under dist/src).
   */
  pool?: false | { threads?: number; threshold?: number; workerFile?: string; fitTaskFile?: string };
  /**
   * price the single quotes that arrive in the same event-loop turn in one engine call (default
   * true). Exact only while the engine prices each row independently of its chunk (the batch
   * job's invariant too); false prices every request on its own.
   */
  batchQuotes?: boolean;
  /** start the pool threads and their WASM cores when the app is ready (serve does) */
  warmPool?: boolean;
  /** keep an audit record of every published price (default true) */
  audit?: boolean;
  /** fastify logger option (default off) */
  logger?: FastifyServerOptions['logger'];
  /** serve /docs (default true) */
  docs?: boolean;
  /** prom-client default process metrics (default true) */
  defaultMetrics?: boolean;
  core?: WasmCore;
}

export const VERSION = '0.1.0';


function pathOf(e: ErrorObject, part: string): string {
  const p = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const pre = part === 'body' ? '' : `${part}.`;
  return p ? pre + p : part === 'body' ? 'body' : part;
}

/** One validation error as "path: what was expected". */
export function describeValidation(e: ErrorObject, part: string): { path: string; message: string } {
  let path = pathOf(e, part);
  const join = (name: string) => (path === 'body' ? name : `${path}.${name}`);
  let message: string;
  switch (e.keyword) {
    case 'required':
      path = join(String(e.params.missingProperty));
      message = 'is required';
      break;
    case 'additionalProperties':
      path = join(String(e.params.additionalProperty));
      message = 'is not an allowed field';
      break;
    case 'type': {
      const t = e.params.type as string | string[];
      message = `must be ${Array.isArray(t) ? t.join(' or ') : String(t).split(',').join(' or ')}`;
      break;
    }
    case 'enum':
      message = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      message = e.message ?? 'is invalid';
  }
  return { path, message };
}

const bodyAjvOptions = { allErrors: true, strict: false, strictNumbers: true, coerceTypes: false, useDefaults: true, removeAdditional: false } as const;

export function buildApp(opts: AppOptions = {}): FastifyInstance {
  const quoteBodyLimit = opts.quoteBodyLimit ?? 64 * 1024;
  const bulkBodyLimit = opts.bodyLimit ?? 16 * 1024 * 1024;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: bulkBodyLimit,
    // while closing, a request that still reaches a route (an active keep-alive connection, a
    // pipelined request) is answered normally with Connection: close, not refused
    return503OnClosing: false,
  });

  // --- state ---
  const core = opts.core ?? defaultCore();
  const policy = opts.policy ? validatePolicy(opts.policy) : {};
  // no database file given: a temporary one (so the audit writer thread can open it too),
  // removed on close with the model versions next to it
  const tempDir = opts.dbFile === undefined || (opts.dbFile === ':memory:' && !opts.modelsDir) ? mkdtempSync(join(tmpdir(), 'repricer-')) : undefined;
  const dbFile = opts.dbFile ?? join(tempDir!, 'repricer.sqlite');
  const store = new Store(dbFile, { auditWorkerFile: compiledTaskFile(import.meta.url, './auditWorker.js') });
  let registry: ModelRegistry;
  const removeTemp = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    const modelsDir = opts.modelsDir ?? (tempDir ? join(tempDir, 'models') : `${resolve(dbFile)}.models`);
    registry = new ModelRegistry(store, modelsDir, core);
    if (opts.model) registry.activate(registry.register(opts.model, 'upload').version);
    if (opts.modelPath) registry.activate(registry.registerFile(opts.modelPath).version);
    if (!opts.model && !opts.modelPath) registry.restore();
  } catch (err) {
    void store.close();
    removeTemp(); // now: the caller may exit at once (serve reports the error and exits)
    throw err;
  }
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics });
  if (registry.active) metrics.setModel(registry.active.version, registry.active.seq);
  registry.onActivate((m) => metrics.setModel(m.version, m.seq));

  let pool: TaskPool | undefined;
  const poolOpts = opts.pool === false ? undefined : (opts.pool ?? {});
  const quoteTaskFile = poolOpts?.workerFile ?? compiledTaskFile(import.meta.url, '../pricing/quoteTask.js');
  const fitTaskFile = poolOpts?.fitTaskFile ?? compiledTaskFile(import.meta.url, './fitJobTask.js');
  const getPool = (): TaskPool => {
    if (!poolOpts) throw new RepricerError('INTERNAL', 'the worker pool is disabled');
    pool ??= new TaskPool({ threads: poolOpts.threads ?? availableParallelism(), idleTimeoutMs: 60_000 });
    return pool;
  };
  const runQuotes = (model: SharedModel, pol: Policy, chunk: CatalogChunk): Promise<PriceColumns> => {
    const task: QuoteTask = { model, policy: pol, chunk };
    return getPool().run<PriceColumns>(task, { taskFile: quoteTaskFile });
  };
  const runFit = async (task: FitTask): Promise<FitTaskResult> => {
    if (!poolOpts) return { ok: false, error: { code: 'JOB_FAILED', message: 'fit jobs need the worker pool, which is disabled' } };
    return getPool().run<FitTaskResult>(task, { taskFile: fitTaskFile });
  };
  const jobs = new Jobs(store, registry, metrics, () => runFit);

  // --- auth ---
  const keyDigest = opts.apiKey ? createHash('sha256').update(opts.apiKey).digest() : undefined;
  const requireKey: onRequestHookHandler = async (req, reply) => {
    if (opts.auth === false && !keyDigest) return;
    if (!keyDigest) {
      throw new RepricerError('UNAUTHORIZED', 'write routes are locked: no API key is configured (start with --api-key KEY or REPRICER_API_KEY, or --no-auth to open them)');
    }
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
    const ok = m !== null && timingSafeEqual(createHash('sha256').update(m[1]).digest(), keyDigest);
    if (!ok) {
      reply.header('www-authenticate', 'Bearer realm="repricer"');
      throw new RepricerError('UNAUTHORIZED', h ? 'the bearer API key is not valid' : 'a bearer API key is required: Authorization: Bearer <key>');
    }
  };

  const ctx: ServerContext = {
    store,
    registry,
    metrics,
    jobs,
    core,
    policy,
    pricing: {
      core, policy, pool: poolOpts ? runQuotes : undefined, poolThreshold: poolOpts?.threshold ?? 2000,
      onPoolFallback: (err) => {
        metrics.poolFallbacks.inc({ task: 'quote' });
        app.log.warn({ err }, 'quote pool run failed; priced on the main thread instead');
      },
    },
    requireKey,
    audit: opts.audit ?? true,
    batchQuotes: opts.batchQuotes ?? true,
    limits: { quoteBodyLimit, bulkBodyLimit },
    poolStarted: () => pool !== undefined,
  };
  app.decorate('repricer', ctx);

  // --- validation: bodies strictly typed (no coercion: "1" is not a number); query and path
  // parameters coerced from strings ---
  const bodyAjv = new Ajv(bodyAjvOptions);
  const paramAjv = new Ajv({ ...bodyAjvOptions, coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
  app.addSchema(errorSchema);

  // --- errors ---
  const send = (code: ErrorCode, message: string, details?: Record<string, unknown>) => ({
    status: ERROR_CATALOG[code].status,
    body: { error: details ? { code, message, details } : { code, message } },
  });
  app.setErrorHandler((err: FastifyError | RepricerError, req, reply) => {
    let out: ReturnType<typeof send>;
    const fe = err as FastifyError;
    if (err instanceof RepricerError) out = send(err.code, err.message, err.details);
    else if (fe.validation) {
      const part = fe.validationContext ?? 'body';
      const list = fe.validation.map((e) => describeValidation(e as ErrorObject, part));
      const msg = list.slice(0, 10).map((e) => `${e.path}: ${e.message}`).join('; ') + (list.length > 10 ? `; ... (${list.length} in all)` : '');
      out = send(part === 'body' ? 'INVALID_BODY' : 'INVALID_ARGUMENT', msg, { errors: list.slice(0, 100) });
    } else if (fe.statusCode === 413) out = send('PAYLOAD_TOO_LARGE', `the request body is larger than the limit of this route (${req.routeOptions.bodyLimit ?? bulkBodyLimit} bytes)`);
    else if (fe.statusCode === 415) out = send('UNSUPPORTED_MEDIA_TYPE', `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json`);
    else if (fe.statusCode === 429) out = send('RATE_LIMITED', fe.message);
    else if (fe.statusCode === 404) out = send('NOT_FOUND', fe.message);
    else if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      // JSON syntax, empty JSON body, bad content-length, forbidden __proto__ keys
      out = send('INVALID_BODY', `body: ${fe.message}`);
    } else {
      req.log.error({ err }, 'internal error');
      out = send('INTERNAL', 'internal error');
    }
    reply.code(out.status).type('application/json').send(out.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const out = send('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    reply.code(out.status).send(out.body);
  });

  // --- metrics: latency of every request, by route template ---
  app.addHook('onRequest', (_req, _reply, done) => {
    metrics.inFlight.inc();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.inFlight.dec();
    metrics.latency.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  // --- plugins (order matters: swagger and rate-limit hook into routes registered after them) ---
  if (opts.docs !== false) {
    app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'repricer API', version: VERSION, description: 'Optimal quotes, Greeks and model management over the repricer engine (FORMATS.md fields).' },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      },
      // shared schemas appear under their $id (components.schemas['repricer.error'])
      refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    });
    app.register(swaggerUi, { routePrefix: '/docs' });
  }
  if (opts.rateLimit !== false) {
    const rl = opts.rateLimit ?? { max: 100_000, timeWindow: '1 minute' };
    app.register(rateLimit, {
      global: true,
      max: rl.max,
      timeWindow: rl.timeWindow ?? '1 minute',
      errorResponseBuilder: (_req, c) => new RepricerError('RATE_LIMITED', `too many requests: at most ${c.max} per window; retry in ${c.after}`, { retry_after: c.after }),
    });
  }
  const ro = { ctx };
  app.register(healthRoutes, ro);
  app.register(quoteRoutes, ro);
  app.register(observationRoutes, ro);
  app.register(modelRoutes, ro);
  app.register(productRoutes, ro);

  if (opts.warmPool && poolOpts) {
    app.addHook('onReady', async () => {
      const m = registry.active;
      if (!m) return void getPool();
      const x = new Float64Array(m.compiled.D);
      const nan = () => new Float64Array([NaN]);
      await runQuotes(m.shared(), policy, { n: 1, ids: ['warm-up'], x, cost: nan(), currentPrice: nan(), minPrice: nan(), maxPrice: nan() });
    });
  }

  // --- shutdown: fastify drains requests first; then the pool, then the database ---
  app.addHook('onClose', async () => {
    if (pool) await pool.destroy();
    await jobs.idle();
    await store.close();
    removeTemp();
  });
  return app;
}
