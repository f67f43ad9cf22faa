/**
 * POST /v1/quote (one SKU) and POST /v1/quotes (up to 10 000): the engine's numbers as price
 * records (docs/formats.md "Price records"), plus `cold_start` and the serving `model_version`.
 * The model is read once per request, so a request finishes on the version it started with even
 * if another is activated meanwhile. Large bodies (>= poolThreshold SKUs) are priced on the
 * worker pool; single quotes arriving together are priced together (QuoteBatcher), with the same
 * numbers.
 */
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions, ServerContext } from '../context.js';
import { priceItems, auditBatch, QuoteBatcher } from '../quoteService.js';
import { buildChunk, explanation, quoteRecord, type ExplanationStep, type QuoteItem, type QuoteRecord } from '../../pricing/quoteItems.js';
import { explainQuerySchema, quoteBodySchema, quoteResponseSchema, quotesBodySchema, quotesResponseSchema, errors } from '../schemas.js';
import type { ActiveModel } from '../modelRegistry.js';
import type { CatalogChunk, PriceColumns } from '../../pricing/engine.js';
import { buildJsonStrings, formatPriceJsonWasm } from '../../records/priceJson.js';

function serving(ctx: ServerContext): ActiveModel {
  const m = ctx.registry.active;
  if (!m) throw new RepricerError('NO_MODEL', 'no model is active: start with --model or POST /v1/models/:version/activate');
  return m;
}

export const quoteRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // concurrent single quotes are priced together, one chunk per event-loop turn and model
  const priced = (model: ActiveModel, chunk: CatalogChunk, p: PriceColumns) => {
    ctx.metrics.countQuotes('quote', p);
    if (ctx.audit) ctx.store.recordPrices(auditBatch(chunk.ids, p, model.version, 'quote'));
  };
  const batcher = new QuoteBatcher(ctx.pricing, priced);

  app.post<{ Body: QuoteItem; Querystring: { explain?: boolean } }>(
    '/v1/quote',
    {
      bodyLimit: ctx.limits.quoteBodyLimit,
      schema: {
        summary: 'Quote one SKU',
        description: 'Optimal price, win probability, expected profit, Greeks, price standard error, status and reasons (docs/formats.md prices) under the serving model.',
        tags: ['quotes'],
        querystring: explainQuerySchema,
        body: quoteBodySchema,
        response: { 200: quoteResponseSchema, ...errors(400, 413, 415, 422, 429, 503) },
      },
    },
    async (req) => {
      const model = serving(ctx);
      let p: PriceColumns;
      let i = 0;
      const explain = req.query.explain === true;
      let chunk: CatalogChunk | undefined;
      if (ctx.batchQuotes && !explain) ({ p, i } = await batcher.quote(model, req.body));
      else {
        chunk = buildChunk(model.compiled, [req.body], () => '');
        p = await priceItems(model, chunk, ctx.pricing, { explain });
        priced(model, chunk, p);
      }
      const rec = quoteRecord(req.body.product_id, p, i) as QuoteRecord & { model_version: string; explanation?: ExplanationStep[] };
      if (explain && chunk) rec.explanation = explanation(chunk, p, i);
      rec.model_version = model.version;
      return rec;
    },
  );

  // key, status and reason strings for the WASM record writer, allocated once outside any arena scope
  const jsonStrings = buildJsonStrings(ctx.pricing.core, (bytes) => ctx.pricing.core.arena.allocBytesPermanent(bytes));

  app.post<{ Body: { items: QuoteItem[] }; Querystring: { explain?: boolean } }>(
    '/v1/quotes',
    {
      bodyLimit: ctx.limits.bulkBodyLimit,
      // the records already have exactly the schema's fields; V8's JSON.stringify writes 10 000 of
      // them several times faster than the schema-compiled serializer (measured: ~14 vs ~40 ms)
      serializerCompiler: () => (data: unknown) => JSON.stringify(data),
      schema: {
        summary: 'Quote up to 10 000 SKUs',
        description: 'Rows come back in the order they went in. Bodies of many SKUs run on the worker pool; the numbers are the same either way.',
        tags: ['quotes'],
        querystring: explainQuerySchema,
        body: quotesBodySchema,
        response: { 200: quotesResponseSchema, ...errors(400, 413, 415, 422, 429, 503) },
      },
    },
    async (req, reply) => {
      const model = serving(ctx);
      const items = req.body.items;
      const chunk = buildChunk(model.compiled, items, (i) => `items.${i}.`);
      const explain = req.query.explain === true;
      const p = await priceItems(model, chunk, ctx.pricing, { explain });
      ctx.metrics.countQuotes('quotes', p);
      if (ctx.audit) ctx.store.recordPrices(auditBatch(chunk.ids, p, model.version, 'quotes'));
      // the records written in WASM, the same bytes as JSON.stringify (src/records/priceJson.ts);
      // ids that JSON would escape go the JSON.stringify way
      const core = ctx.pricing.core;
      const body = core.arena.scoped(() => {
        const recs = formatPriceJsonWasm(core, jsonStrings, chunk.ids, p, { coldStart: true, sep: ',', sepLast: false });
        if (!recs) return null;
        const head = Buffer.from(`{"model_version":${JSON.stringify(model.version)},"count":${p.n},"items":[`);
        const out = Buffer.allocUnsafe(head.length + recs.length + 2);
        head.copy(out);
        out.set(recs, head.length);
        out.write(']}', head.length + recs.length);
        return out;
      });
      if (body) return reply.type('application/json; charset=utf-8').send(body);
      const recs: QuoteRecord[] = new Array<QuoteRecord>(p.n);
      for (let i = 0; i < p.n; i++) {
        recs[i] = quoteRecord(chunk.ids[i], p, i);
        if (explain) (recs[i] as QuoteRecord & { explanation?: ExplanationStep[] }).explanation = explanation(chunk, p, i);
      }
      return { model_version: model.version, count: p.n, items: recs };
    },
  );
};
