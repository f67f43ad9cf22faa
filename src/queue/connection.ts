/**
 * The Redis of a distributed run (docs/scale-out.md): its URL checked, connections opened as BullMQ
 * needs them, and the names of the queue and of the run's own keys. Every key is under the prefix
 * `repricer`, so a run can share a Redis (database) with other users.
 */
import { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';

/** The one queue of shard and finalising jobs. */
export const QUEUE_NAME = 'reprice';
/** The BullMQ key prefix and the prefix of the run records. */
export const PREFIX = 'repricer';

/** `redis://HOST:PORT/DB` checked (a bad URL is INVALID_ARGUMENT naming the option). */
export function checkRedisUrl(url: string, option = '--queue'): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RepricerError('INVALID_ARGUMENT', `${option} must be a URL redis://HOST:PORT/DB, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RepricerError('INVALID_ARGUMENT', `${option} must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new RepricerError('INVALID_ARGUMENT', `${option}: the database (the URL's path) must be a number, got ${JSON.stringify(db)}`);
  return url;
}

/**
 * A connection: commands wait for a reconnect instead of failing (`maxRetriesPerRequest: null`,
 * which BullMQ's workers require), so a Redis restarted mid-run is waited for, not an error.
 */
export function connect(url: string): Redis {
  const r = new Redis(checkRedisUrl(url), { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
  // errors while Redis is away are retried by ioredis; the event must be listened to, or it throws
  r.on('error', () => undefined);
  return r;
}

/** Keys of a run's records (runStore.ts). */
export const runKey = (runId: string, part?: 'parts' | 'failures' | 'starts' | 'inflight'): string => `${PREFIX}:run:${runId}${part ? `:${part}` : ''}`;
/** The key of a model's bytes, by their SHA-256. */
export const modelKey = (sha: string): string => `${PREFIX}:model:${sha}`;
