/**
 * Connections to the Redis server of publication and tiered quotes. Commands fail at once while
 * the connection is down (no offline queue, one try), so a request never waits on a Redis that is
 * gone: the caller turns the failure into REDIS_UNAVAILABLE (503 / exit 5) and says which server.
 * ioredis keeps reconnecting in the background, and a subscriber re-subscribes when it is back.
 */
import { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';

/** The URL without a password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** REDIS_UNAVAILABLE naming the server, what was being done and the cause. */
export function redisUnavailable(url: string, doing: string, err: unknown): RepricerError {
  const why = err instanceof Error ? err.message : String(err);
  return new RepricerError('REDIS_UNAVAILABLE', `redis ${redactUrl(url)}: ${doing}: ${why}`, { url: redactUrl(url) });
}

export interface ConnectOptions {
  /** connection name shown by CLIENT LIST (e.g. "repricer-serve") */
  name: string;
  /** give up connecting after this long (default 5 s) */
  connectTimeoutMs?: number;
  /** each command fails after this long (default 2 s) */
  commandTimeoutMs?: number;
}

/** Connect and wait until the server answers; REDIS_UNAVAILABLE when it does not. */
export async function connectRedis(url: string, o: ConnectOptions): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    commandTimeout: o.commandTimeoutMs ?? 2000,
    connectionName: o.name,
    // reconnect every 100 ms .. 1 s while the server is away
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  // errors surface on the commands; the event is only noise while reconnecting
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw redisUnavailable(url, 'cannot connect', err);
  }
  return redis;
}
