/**
 * `repricer serve`: the HTTP API (src/server/app.ts) on a port. SIGTERM/SIGINT: stop accepting,
 * let requests in flight finish (fastify close), then close the worker pool and the database;
 * a second signal exits at once.
 *
 * The model served: --model FILE; else the version active when --db was last used; else the demo
 * model npm start leaves in demo/model.json (with a notice); else none (readyz 503, and a notice
 * saying how to get one).
 *
 * Write routes need a bearer key: --api-key KEY (or REPRICER_API_KEY). Without a key they stay
 * locked (401) unless --no-auth opens them explicitly. Quote and read routes need no key.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { RepricerError, readFailure } from '../core/errors.js';
import { loadPolicy } from '../pricing/policy.js';
import { loadPricingAgent } from '../rl/agentPricing.js';
import { buildApp, type AppOptions } from '../server/app.js';
import { loadState } from '../pricing/segmentState.js';
import { checkRedisUrl } from '../records/redisPrices.js';
import { redactUrl } from '../records/redisClient.js';

import { loadMarketModel } from '../market/bookingModel.js';
import { validateMarketPolicy } from '../market/marketPolicy.js';

export interface ServeOptions {
  port: string;
  host: string;
  model?: string;
  db?: string;
  modelsDir?: string;
  apiKey?: string;
  apiKeyFile?: string;
  auth: boolean;
  policy?: string;
  agent?: string;
  breakerState?: string;
  rateLimit?: string;
  bodyLimit?: string;
  uploadLimit?: string;
  workers?: string;
  poolThreshold?: string;
  log?: string;
  auditMaxAge?: string;
  auditMaxRows?: string;
  redis?: string;
  quoteMaxAge?: string;
  quoteCache?: string;

  market?: string;
  marketModel?: string;
  marketPolicy?: string;
  marketCalendar?: string;
}

function int(name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "7d", "12h", "30m", "90s" -> milliseconds. */
export function parseDuration(name: string, v: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(v.trim());
  if (!m || Number(m[1]) === 0) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be a positive whole number of s, m, h or d (e.g. 7d), got ${JSON.stringify(v)}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** The key in a file (one line; surrounding whitespace and the final newline are not part of it). */
function readKeyFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'API key', err);
  }
  return text.trim();
}

/** What `npm start` (`repricer demo`) leaves in the working directory; served when no --model is given. */
export const DEMO_MODEL = 'demo/model.json';

/** CLI strings -> buildApp options (throws INVALID_ARGUMENT naming the option). */
export function parseServeOptions(o: ServeOptions, env: NodeJS.ProcessEnv = process.env): { app: AppOptions; port: number; host: string } {
  const port = int('port', o.port, 0, 65535);
  if (o.apiKey !== undefined && o.apiKeyFile !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--api-key contradicts --api-key-file; give one or the other');
  const apiKey = o.apiKey ?? (o.apiKeyFile !== undefined ? readKeyFile(o.apiKeyFile) : undefined) ?? (env.REPRICER_API_KEY || undefined);
  const source = o.apiKey !== undefined ? '--api-key' : o.apiKeyFile !== undefined ? '--api-key-file' : 'REPRICER_API_KEY';
  if (o.auth === false && apiKey) throw new RepricerError('INVALID_ARGUMENT', `--no-auth contradicts ${source}; give one or the other`);
  if (apiKey !== undefined && apiKey.length < 8) throw new RepricerError('INVALID_ARGUMENT', 'the API key must have at least 8 characters');
  const app: AppOptions = { auth: o.auth !== false, warmPool: true };
  if (apiKey) app.apiKey = apiKey;
  if (o.model) app.modelPath = o.model;
  else if (existsSync(DEMO_MODEL)) app.fallbackModelPath = DEMO_MODEL;
  if (o.db) app.dbFile = o.db;
  if (o.modelsDir) app.modelsDir = o.modelsDir;
  if (o.policy) app.policy = loadPolicy(o.policy);
  // the Redis tier serves the prices a batch run published with the model: an agent would answer
  // the same SKU two ways
  if (o.agent !== undefined && o.redis !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--agent with --redis: the Redis tier serves prices published by reprice without an agent; use one of them');
  if (o.agent !== undefined) app.agent = loadPricingAgent(o.agent);
  if (o.breakerState !== undefined) {
    // a state file that is not there is a mistake here (reprice --state starts from none instead)
    if (!existsSync(o.breakerState)) throw new RepricerError('NOT_FOUND', `--breaker-state ${o.breakerState}: no such breaker state file`, { file: o.breakerState });
    app.breakerState = loadState(o.breakerState);
  }
  if (o.rateLimit !== undefined) {
    const n = int('rate-limit', o.rateLimit, 0);
    app.rateLimit = n === 0 ? false : { max: n, timeWindow: '1 minute' };
  }
  if (o.bodyLimit !== undefined) app.bodyLimit = int('body-limit', o.bodyLimit, 1024);
  if (o.uploadLimit !== undefined) app.uploadBodyLimit = int('upload-limit', o.uploadLimit, 1024);
  const threads = o.workers !== undefined ? int('workers', o.workers, 0, 256) : undefined;
  if (threads === 0) app.pool = false;
  else {
    const pool: NonNullable<Exclude<AppOptions['pool'], false>> = {};
    if (threads !== undefined) pool.threads = threads;
    if (o.poolThreshold !== undefined) pool.threshold = int('pool-threshold', o.poolThreshold, 1);
    app.pool = pool;
  }
  if (o.market === undefined) {
    if (o.marketModel !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--market-model needs --market (the market whose items it prices)');
    if (o.marketPolicy !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--market-policy needs --market (the market it sets the weights and zone band of)');
    if (o.marketCalendar !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--market-calendar needs --market (the market whose zones it names)');
  } else {
    app.market = { market: o.market };
    if (o.marketModel !== undefined) app.market.model = loadMarketModel(o.marketModel);
    if (o.marketPolicy !== undefined) app.market.policy = validateMarketPolicy(loadPolicy(o.marketPolicy).market, o.marketPolicy);
    // read and checked against the market's zones when the market is built (errors name line and column)
    if (o.marketCalendar !== undefined) app.market.calendar = o.marketCalendar;
  }
  if (o.log) app.logger = { level: o.log };
  if (o.auditMaxAge !== undefined || o.auditMaxRows !== undefined) {
    app.auditRetention = {};
    if (o.auditMaxAge !== undefined) app.auditRetention.maxAgeMs = parseDuration('audit-max-age', o.auditMaxAge);
    if (o.auditMaxRows !== undefined) app.auditRetention.maxRows = int('audit-max-rows', o.auditMaxRows, 1);
  }
  if (o.redis !== undefined) {
    app.redis = { url: checkRedisUrl('--redis', o.redis) };
    if (o.quoteMaxAge !== undefined) app.redis.maxAgeMs = parseDuration('quote-max-age', o.quoteMaxAge);
    if (o.quoteCache !== undefined) app.redis.cacheSize = int('quote-cache', o.quoteCache, 1);
  } else if (o.quoteMaxAge !== undefined || o.quoteCache !== undefined) {
    throw new RepricerError('INVALID_ARGUMENT', `--${o.quoteMaxAge !== undefined ? 'quote-max-age' : 'quote-cache'} needs --redis (the tiered quotes are served only with it)`);
  }
  return { app, port, host: o.host };
}

export async function serve(o: ServeOptions): Promise<void> {
  const { app: opts, port, host } = parseServeOptions(o);
  const app = buildApp(opts);
  // the handlers are in place before the server listens and says so: a signal sent as soon as
  // the notice is read drains and exits 0 (installed after the notice, a process descheduled
  // between the two was killed by the signal's default action)
  let closing = false;
  const stop = (sig: string) => {
    if (closing) {
      process.stderr.write(`repricer: ${sig} again, exiting now\n`);
      process.exit(130);
    }
    closing = true;
    process.stderr.write(`repricer: ${sig}: draining requests, then closing the pool and the database\n`);
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`repricer: error while closing: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const address = await app.listen({ port, host });
  const m = app.repricer.registry.active;
  let note = `repricer: listening on ${address}; ${m ? `serving model ${m.version}` : 'no model active (readyz: 503)'}; docs at ${address}/docs\n`;
  if (app.repricer.startModel === 'fallback') {
    note += `repricer: no --model given and no active version in the database: serving the demo model ${DEMO_MODEL} (written by npm start)\n`;
  } else if (!m) {
    note += `repricer: no model to serve: pass --model FILE, or run \`npm start\` first (it writes the demo model ${DEMO_MODEL}, served when no --model is given), or POST /v1/models and activate a version\n`;
  }
  if (opts.redis) note += `repricer: tiered quotes (GET /v1/products/:id/quote) and the serving model shared with the replicas on ${redactUrl(opts.redis.url)}\n`;
  if (o.apiKey !== undefined) {
    // the flag's value is visible to every user of the machine (ps, /proc/<pid>/cmdline)
    note += 'repricer: warning: --api-key shows the key in the process list; prefer REPRICER_API_KEY or --api-key-file\n';
  }
  if (!opts.apiKey) {
    note +=
      opts.auth === false
        ? 'repricer: warning: --no-auth: write routes (observations, models, fit, activate) are open to anyone who can reach this port\n'
        : 'repricer: no API key configured: write routes are locked (401); pass --api-key KEY or set REPRICER_API_KEY, or --no-auth\n';
  }
  if (opts.market) note += `repricer: serving the market ${o.market} (${app.repricerMarket?.pairs.length ?? 0} zone-asset pairs) at /v1/market\n`;
  process.stderr.write(note);
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve quotes and model management over HTTP (JSON API under /v1, OpenAPI at /docs)')
    .option('--port <p>', 'TCP port (0: any free port)', '8080')
    .option('--host <h>', 'interface to listen on', '127.0.0.1')
    .option('--model <file>', 'model JSON to register and activate at start (default: the last active version in --db, else demo/model.json from npm start)')
    .option('--db <file>', 'SQLite database (observations, price audit, model versions); default a temporary file removed on exit')
    .option('--models-dir <dir>', 'directory of immutable model version files (default <db>.models)')
    .option('--api-key <key>', 'bearer key required on write routes (visible in ps: prefer REPRICER_API_KEY or --api-key-file)')
    .option('--api-key-file <file>', 'read the bearer key from a file (one line)')
    .option('--no-auth', 'open the write routes without a key (explicit opt-out)')
    .option('--policy <file>', 'guardrails JSON, as for reprice')
    .option('--agent <file>', 'price quotes with a trained agent (repricer.agent/1), as reprice --agent; items need current_price, inventory and days_left')
    .option('--breaker-state <file>', "import a batch run's segment breaker state (reprice --state) at start: its tripped segments' quotes are held")
    .option('--rate-limit <n>', 'requests per minute per client IP (0: off; default 100000)')
    .option('--body-limit <bytes>', 'body limit of the bulk routes (default 16 MiB)')
    .option('--upload-limit <bytes>', 'body limit of an observation file upload, POST /v1/observations/bulk (default 1 GiB)')
    .option('--workers <n>', 'worker threads for large bodies and fit jobs (default: all cores; 0: none)')
    .option('--pool-threshold <n>', 'SKUs from which POST /v1/quotes runs on the pool (default 2000)')
    .option('--audit-max-age <duration>', 'delete audit rows older than this (e.g. 7d, 12h; default: keep)')
    .option('--audit-max-rows <n>', 'keep at most the newest n audit rows (default: keep all)')
    .option('--redis <url>', 'redis://HOST:PORT/DB: serve GET /v1/products/:id/quote from the prices reprice --publish wrote, and share the serving model with the other replicas on it')
    .option('--quote-max-age <duration>', 'with --redis: re-quote a published price older than this (e.g. 12h, 30m; default 24h)')
    .option('--quote-cache <n>', 'with --redis: SKUs kept in this replica\'s cache (tier 1; default 100000)')

    .option('--market <file>', 'serve this market file: the /v1/market routes (events, prices, quote) exist only with it')
    .option('--market-model <file>', 'booking model (repricer market fit) for the market quotes: item prices maximise the weighted objective inside the zone bounds (without it: the zone-level price)')
    .option('--market-policy <file>', "policy file whose `market` object sets the item objective's weights and the zone band")
    .option('--market-calendar <file>', "events calendar CSV (zone,start,end,multiplier[,name]): the watcher's external-events signal and GET /v1/market/prices' scheduled_multiplier")
    .option('--log <level>', 'request log level (fatal, error, warn, info, debug); default off')
    .action(async (o: ServeOptions) => {
      await serve(o);
    });
}
