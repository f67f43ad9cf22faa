/**
 * The model of a distributed run travels through Redis, named by the SHA-256 of its file's bytes:
 * the coordinator stores the bytes once, every job carries the hash, and a worker fetches the
 * bytes once per hash, checks that they hash to the name (a model changed in between is refused,
 * not used) and keeps them in a local cache file, which the worker loads (and validates as
 * repricer.model/1) once for all the shards that name it. Workers thus need no shared copy of the
 * model file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { RepricerError, readFailure } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { parseModel } from '../model/format.js';
import { modelKey } from './connection.js';

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** A model is kept in Redis this long after its last run started (seconds). */
const MODEL_TTL_S = 14 * 24 * 3600;

/** Read, validate and store a model file; its SHA-256 names it. */
export async function putModel(redis: Redis, file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw readFailure(file, 'model', err);
  }
  parseModel(bytes.toString('utf8'), file); // a bad model fails the run before anything is queued
  const sha = sha256(bytes);
  await redis.set(modelKey(sha), bytes, 'EX', MODEL_TTL_S);
  return sha;
}

/** Where this machine keeps fetched models. */
export const defaultModelCache = (): string => join(tmpdir(), 'repricer-models');

const fetched = new Map<string, Promise<string>>();

/** The local file of the model named `sha`, fetched from Redis once per process (and per cache). */
export function fetchModel(redis: Redis, sha: string, cacheDir = defaultModelCache()): Promise<string> {
  const key = `${cacheDir}\0${sha}`;
  let p = fetched.get(key);
  if (!p) {
    p = fetchOnce(redis, sha, cacheDir);
    fetched.set(key, p);
    p.catch(() => fetched.delete(key));
  }
  return p;
}

async function fetchOnce(redis: Redis, sha: string, cacheDir: string): Promise<string> {
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new RepricerError('MODEL_INVALID', `model version ${JSON.stringify(sha)} is not a SHA-256`);
  const file = join(cacheDir, `${sha}.json`);
  // a cached copy is used only if it still hashes to its name
  if (existsSync(file) && sha256(readFileSync(file)) === sha) return file;
  const bytes = await redis.getBuffer(modelKey(sha));
  if (!bytes) throw new RepricerError('NOT_FOUND', `model ${sha} is not in Redis (expired, or the database was flushed); run the coordinator again`);
  const got = sha256(bytes);
  if (got !== sha) throw new RepricerError('MODEL_INVALID', `model ${sha} fetched from Redis hashes to ${got}: refused`);
  // validated by the coordinator before it was stored, and again when the worker loads the file
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, bytes, 'model cache');
  return file;
}
