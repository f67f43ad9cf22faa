/**
 * Property: 10 000 random and malformed bodies to POST /v1/quote never produce a 500,
 * and every response is JSON whose numbers are all finite (no NaN or Infinity, which JSON cannot
 * carry). Bodies are JSON *text*, so literals JSON.stringify would never write (1e999, NaN, -0,
 * hex, truncated documents, __proto__ keys) reach the parser too. The companion runs the same
 * property against a deliberately careless route and expects it to fail.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { STATUSES } from '../src/pricing/policy.js';
import { model1, allFinite } from './server-helpers.js';

const literal = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)) },
  { weight: 3, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('1e999', '-1e999', '1e308', '-1.7976931348623157e308', '5e-324', '1e-400', '-0', 'NaN', 'Infinity', '0x10', '01', '1.', '.5', 'null', 'true', '"1.5"', '""', '[]', '{}', '[1]'),
  },
);
const key = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('f1', 'f2', 'f3') },
  { weight: 2, arbitrary: fc.constantFrom('f4', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'f1\u0000', '\u00e9') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const features = fc.oneof(
  { weight: 8, arbitrary: fc.uniqueArray(fc.tuple(key, literal), { maxLength: 5, selector: (t) => t[0] }).map((kv) => `{${kv.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`) },
  { weight: 1, arbitrary: literal },
);
const productId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('SKU-0', 'SKU-1', 'SKU-39', 'NEW', '__proto__', 'constructor').map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 300 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: literal },
);
const field = (name: string, value: fc.Arbitrary<string>) => fc.option(value.map((v) => `${JSON.stringify(name)}:${v}`), { nil: undefined, freq: 3 });
/** a quote-shaped object as JSON text, fields optional, values of any kind */
const quoteText = fc
  .tuple(
    field('product_id', productId),
    field('features', features),
    field('cost', literal),
    field('current_price', literal),
    field('min_price', literal),
    field('max_price', literal),
    fc.option(fc.tuple(fc.string({ maxLength: 8 }), literal).map(([k, v]) => `${JSON.stringify(k)}:${v}`), { nil: undefined, freq: 8 }),
  )
  .map((fs) => `{${fs.filter((f): f is string => f !== undefined).join(',')}}`);

/** mostly well-formed: every feature present, numbers mostly finite, optional fields mixed */
const num = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: literal },
);
const wellFormed = fc
  .tuple(
    fc.constantFrom('SKU-0', 'SKU-1', 'SKU-17', 'SKU-39', 'NEW-1', 'x'),
    num,
    num,
    num,
    ...['cost', 'current_price', 'min_price', 'max_price'].map((k) => field(k, fc.oneof({ weight: 4, arbitrary: num }, { weight: 1, arbitrary: fc.constant('null') }))),
  )
  .map(([id, a, b, c, ...opt]) => `{"product_id":${JSON.stringify(id)},"features":{"f1":${a},"f2":${b},"f3":${c}}${opt.filter((f) => f !== undefined).map((f) => ',' + f).join('')}}`);

const body = fc.oneof(
  { weight: 10, arbitrary: wellFormed },
  { weight: 10, arbitrary: quoteText },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.tuple(quoteText, fc.nat()).map(([t, k]) => t.slice(0, k % (t.length + 1))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', undefined);

type Check = (res: { statusCode: number; body: string; headers: Record<string, unknown> }) => void;

const check: Check = (res) => {
  if (res.statusCode >= 500) throw new Error(`status ${res.statusCode}: ${res.body}`);
  const parsed = JSON.parse(res.body) as Record<string, unknown>; // throws on NaN / Infinity tokens
  if (!allFinite(parsed)) throw new Error(`non-finite number in ${res.body}`);
  if (res.statusCode === 200) {
    if (!(parsed.price === null || typeof parsed.price === 'number')) throw new Error(`price ${String(parsed.price)}`);
    if (!STATUSES.includes(parsed.status as never)) throw new Error(`status field ${String(parsed.status)}`);
  } else if (typeof (parsed.error as { code?: unknown } | undefined)?.code !== 'string') throw new Error(`error body without code: ${res.body}`);
};

function property(app: FastifyInstance) {
  return fc.asyncProperty(body, contentType, async (payload, ct) => {
    const res = await app.inject({ method: 'POST', url: '/v1/quote', payload, headers: ct ? { 'content-type': ct } : {} });
    check(res);
  });
}

const apps: FastifyInstance[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

describe('POST /v1/quote under random and malformed bodies', () => {
  it('10 000 bodies: never a 500, never a non-finite number in the JSON', async () => {
    const app = buildApp({ model: model1, defaultMetrics: false, audit: false, rateLimit: false, docs: false, pool: false });
    apps.push(app);
    await app.ready();
    let ok = 0;
    const counted = fc.asyncProperty(body, contentType, async (payload, ct) => {
      const res = await app.inject({ method: 'POST', url: '/v1/quote', payload, headers: ct ? { 'content-type': ct } : {} });
      check(res);
      if (res.statusCode === 200) ok++;
    });
    await fc.assert(counted, { numRuns: 10_000, seed: Number(process.env.FUZZ_SEED ?? 20261123) });
    // the generator reaches the pricing path, not only the validators
    expect(ok).toBeGreaterThan(2000);
  });

  it('companion: the same property fails on a route without schema or error handling', async () => {
    const careless = Fastify();
    careless.post('/v1/quote', async (req, reply) => {
      const b = req.body as { features: { f1: number }; cost: number };
      const price = b.features.f1 * 2 + b.cost; // TypeError on a missing field -> 500
      reply.type('application/json').send(`{"price":${price},"status":"ok"}`); // NaN goes out raw
    });
    apps.push(careless);
    await careless.ready();
    const r = await fc.check(property(careless), { numRuns: 300, seed: 1 });
    expect(r.failed).toBe(true);
  });
});
