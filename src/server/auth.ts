/**
 * The bearer-key hook of the write routes (POST /v1/observations, /v1/models,
 * /v1/models/:version/activate, /v1/models/fit). A key is required when `apiKey` is set; with
 * `auth: false` and no key they are open; with neither they are locked (401 telling how to
 * configure a key). Keys are compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { RepricerError } from '../core/errors.js';

export interface AuthOptions {
  apiKey?: string;
  /** false: write routes open without a key (explicit opt-out) */
  auth?: boolean;
}

export function bearerKeyHook(opts: AuthOptions): onRequestHookHandler {
  const keyDigest = opts.apiKey ? createHash('sha256').update(opts.apiKey).digest() : undefined;
  return async (req, reply) => {
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
}
