/**
 * One serving model across replicas (docs/scale-out.md "Tiered quotes"). Replicas share models
 * through Redis, not a file system: a version's document is stored under its content hash
 * (`repricer:model:<sha256>`, the exact text the registry hashes) and `repricer:model:active`
 * names the hash every replica serves. Version names (`v3`) stay per database; the hash is the
 * identity replicas and published prices agree on.
 *
 * - A local activation (the activate route, a fit job with activate) stores the document, points
 *   the active key at it and publishes {"type":"activate"} on `repricer:events`, in one
 *   transaction. When Redis refuses, the activation is undone here and the route answers 503
 *   REDIS_UNAVAILABLE, so a replica never serves a version the others were not told of.
 * - A replica that sees the message (or, every `pollMs`, finds the active key or
 *   `repricer:run:latest` changed: the safety net for a message missed while disconnected)
 *   registers the document in its own store and activates it; a new publication clears the
 *   replica's tier-1 cache.
 * - At start the cluster wins: a replica joining a Redis that names an active model serves that
 *   one; with none named, the replica announces its own.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { RepricerError } from '../core/errors.js';
import { parseModel } from '../model/format.js';
import { ACTIVE_MODEL_KEY, EVENTS_CHANNEL, LATEST_RUN_KEY, modelKey, parseEvent, type ReplicaEvent } from '../records/redisPrices.js';
import { redisUnavailable } from '../records/redisClient.js';
import type { ActiveModel, ModelRegistry } from './modelRegistry.js';

export interface ReplicaSyncOptions {
  url: string;
  /** commands */
  redis: Redis;
  /** the subscription (a connection in subscriber mode takes no other command) */
  sub: Redis;
  registry: ModelRegistry;
  log: FastifyBaseLogger;
  /** a publication finished: cached published prices are out of date */
  onPublished: (runId: string | null) => void;
  /** how often the active key and the latest run are checked besides the messages (default 1 000 ms) */
  pollMs?: number;
  /** this replica's name in activation messages */
  origin: string;
}

interface ActiveRef {
  sha256: string;
  version: string;
  origin: string;
  at: string;
}

export class ReplicaSync {
  /** set while this replica activates a version it was told of (not announced again) */
  private adopting = false;
  /** in-flight local announcements (a poll meanwhile would see the old active key) */
  private announcing = 0;
  private pending: { model: ActiveModel; done: Promise<void> } | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private lastRun: string | null | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: ReplicaSyncOptions) {}

  /** Join the cluster (adopt its model, or announce ours), then follow its messages and poll. */
  async start(): Promise<void> {
    const { registry, sub } = this.o;
    let ref: ActiveRef | undefined;
    try {
      const [active, latest] = await this.o.redis.mget(ACTIVE_MODEL_KEY, LATEST_RUN_KEY);
      ref = parseRef(active);
      this.lastRun = latest;
    } catch (err) {
      throw redisUnavailable(this.o.url, 'reading the active model', err);
    }
    if (ref && ref.sha256 !== registry.active?.sha256) await this.adopt(ref.sha256);
    else if (!ref && registry.active) await this.announce(registry.active, undefined);
    registry.onActivate((m, previous) => {
      if (this.adopting) return;
      const done = this.announce(m, previous);
      this.pending = { model: m, done };
      done.catch((err: unknown) => this.o.log.error({ err }, `activation of ${m.version} not announced to the other replicas; undone`));
    });
    sub.on('message', (channel: string, message: string) => {
      if (channel !== EVENTS_CHANNEL) return;
      const e = parseEvent(message);
      if (e) this.onEvent(e);
    });
    try {
      await sub.subscribe(EVENTS_CHANNEL);
    } catch (err) {
      throw redisUnavailable(this.o.url, `subscribing to ${EVENTS_CHANNEL}`, err);
    }
    this.timer = setInterval(() => this.sync(), this.o.pollMs ?? 1000);
    this.timer.unref();
  }

  /** The announcement of the activation of `m` (resolved when it was not a local one). */
  announced(m: ActiveModel): Promise<void> {
    return this.pending && this.pending.model === m ? this.pending.done : Promise.resolve();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  private onEvent(e: ReplicaEvent): void {
    if (e.type === 'published') {
      if (e.run_id !== this.lastRun) {
        this.lastRun = e.run_id;
        this.o.onPublished(e.run_id);
      }
    } else if (e.sha256 !== this.o.registry.active?.sha256) this.sync();
  }

  /** Check the active key and the latest run now (one at a time; a failure is logged, the next poll retries). */
  private sync(): void {
    this.syncing = this.syncing.then(() => this.reconcile()).catch((err: unknown) => {
      this.o.log.warn({ err }, 'replica sync with redis failed; retrying at the next poll');
    });
  }

  private async reconcile(): Promise<void> {
    if (this.closed || this.announcing > 0) return;
    const before = this.o.registry.active;
    const [active, latest] = await this.o.redis.mget(ACTIVE_MODEL_KEY, LATEST_RUN_KEY);
    if (latest !== this.lastRun) {
      this.lastRun = latest;
      this.o.onPublished(latest);
    }
    // a local activation meanwhile is newer than what was read
    if (this.closed || this.announcing > 0 || this.o.registry.active !== before) return;
    const ref = parseRef(active);
    if (ref && ref.sha256 !== before?.sha256) await this.adopt(ref.sha256);
  }

  /** Serve the version with this content hash: its document from Redis, registered in this replica's store. */
  private async adopt(sha256: string): Promise<void> {
    const text = await this.o.redis.get(modelKey(sha256));
    if (text === null) throw new RepricerError('NOT_FOUND', `redis: ${ACTIVE_MODEL_KEY} names model ${sha256}, but ${modelKey(sha256)} is missing`);
    const got = createHash('sha256').update(text).digest('hex');
    if (got !== sha256) throw new RepricerError('MODEL_INVALID', `redis: ${modelKey(sha256)} holds a document whose sha256 is ${got}`);
    const { registry } = this.o;
    this.adopting = true;
    try {
      const s = registry.register(parseModel(text, modelKey(sha256)), 'upload');
      if (s.sha256 !== sha256) throw new RepricerError('MODEL_INVALID', `redis: ${modelKey(sha256)} registers with sha256 ${s.sha256} (the document does not round-trip)`);
      registry.activate(s.version);
    } finally {
      this.adopting = false;
    }
    this.o.log.info(`replica: now serving ${registry.active?.version} (sha256 ${sha256.slice(0, 12)}), as the other replicas`);
  }

  /** Store the document, point the active key at it and tell the replicas; undo the activation if Redis refuses. */
  private async announce(m: ActiveModel, previous: ActiveModel | undefined): Promise<void> {
    this.announcing++;
    try {
      const text = readFileSync(m.path, 'utf8');
      const ref: ActiveRef = { sha256: m.sha256, version: m.version, origin: this.o.origin, at: new Date().toISOString() };
      const event: ReplicaEvent = { type: 'activate', sha256: m.sha256, version: m.version, origin: this.o.origin };
      let r: [Error | null, unknown][] | null;
      try {
        r = await this.o.redis.multi().set(modelKey(m.sha256), text).set(ACTIVE_MODEL_KEY, JSON.stringify(ref)).publish(EVENTS_CHANNEL, JSON.stringify(event)).exec();
        const failed = r?.find(([e]) => e)?.[0];
        if (!r || failed) throw failed ?? new Error('transaction discarded');
      } catch (err) {
        const { registry } = this.o;
        if (previous && registry.active === m) {
          this.adopting = true;
          try {
            registry.activate(previous.version);
          } finally {
            this.adopting = false;
          }
        }
        throw redisUnavailable(this.o.url, `announcing model ${m.version} to the other replicas (this replica ${previous ? `serves ${previous.version} again` : 'keeps it'})`, err);
      }
    } finally {
      this.announcing--;
    }
  }
}

function parseRef(s: string | null): ActiveRef | undefined {
  if (s === null) return undefined;
  try {
    const r = JSON.parse(s) as Partial<ActiveRef>;
    if (typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256)) return r as ActiveRef;
  } catch {
    // fall through
  }
  throw new RepricerError('INPUT_UNREADABLE', `redis: ${ACTIVE_MODEL_KEY} is not {"sha256": ...}: ${JSON.stringify(s.slice(0, 100))}`);
}
