// The test support that every queue and tiered-cache test stands on: a real redis-server on a
// free port, answering PING, killed by its pid and restarted on the same port.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, skipRedis, redisSkipReason, type RedisServer } from './support/redisServer.js';

describe.skipIf(skipRedis)('redis-server test support', () => {
  let server: RedisServer;
  beforeAll(async () => {
    if (redisSkipReason) throw new Error(`CI=true and ${redisSkipReason}`);
    server = await startRedis({ persist: true });
  });
  afterAll(async () => { await server?.stop(); });

  it('answers on its port, survives kill -9 with appendonly data, and stops by pid', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: null, lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    await client.set('k', 'v');
    const pid = server.pid();
    await server.kill();
    expect(() => process.kill(pid, 0)).toThrow();
    await server.restart();
    expect(server.pid()).not.toBe(pid);
    expect(await client.get('k')).toBe('v');
    client.disconnect();
  });
});
