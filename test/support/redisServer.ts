/**
 * A real redis-server for tests: spawned from the Debian binary on a free loopback port, with no
 * persistence unless asked (`--save ''`, `--appendonly no`) in a temporary folder, and stopped by
 * its pid. Tests that need it call `redisUnavailable()`: when the binary is missing they are
 * skipped with that reason (scripts/test-summary.mjs prints it), and under CI=true a missing
 * binary is a failure instead of a skip, because .ci/run installs the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, appendFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server'];

/** Path of a runnable redis-server, or null. */
export function redisBinary(): string | null {
  for (const c of CANDIDATES) {
    if (c.includes('/') && !existsSync(c)) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0 && /Redis server v=/.test(r.stdout)) return c;
  }
  return null;
}

/** Why redis tests cannot run here (null: they can). Under CI=true the caller must fail, not skip. */
export function redisUnavailable(): string | null {
  return redisBinary() ? null : 'redis-server not found (install the Debian package redis-server)';
}

/** Skip (locally) or fail (CI=true) when redis-server is missing: use as `describe.skipIf(skipRedis)`. */
export const redisSkipReason = redisUnavailable();
export const skipRedis = redisSkipReason !== null && process.env.CI !== 'true';
if (skipRedis) {
  // scripts/test-summary.mjs prints these next to the count of skipped tests
  mkdirSync('.tmp', { recursive: true });
  appendFileSync('.tmp/skip-reasons.txt', `redis tests skipped: ${redisSkipReason}\n`);
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  pid(): number;
  /** Stop (SIGTERM by pid, then SIGKILL after 5 s) and wait for the exit. */
  stop(): Promise<void>;
  /** Kill -9 by pid (a crash), then wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port and folder (after stop or kill). */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** keep data across restart (appendonly yes, fsync always); default false */
  persist?: boolean;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(); });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Start a redis-server on a free port; throws with the reason when the binary is missing. */
export async function startRedis(o: RedisOptions = {}): Promise<RedisServer> {
  const bin = redisBinary();
  if (!bin) throw new Error(redisUnavailable() ?? 'redis-server missing');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'repricer-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    '--appendonly', o.persist ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--protected-mode', 'no'];
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitForPort(port, 10_000);
  };
  await launch();
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    const done = exited(c);
    process.kill(c.pid!, signal);
    const timer = setTimeout(() => { try { process.kill(c.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await done;
    clearTimeout(timer);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    dir,
    pid: () => child.pid!,
    stop: async () => { await stopWith('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
    kill: () => stopWith('SIGKILL'),
    restart: launch,
  };
}
