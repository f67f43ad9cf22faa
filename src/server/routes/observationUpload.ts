/**
 * POST /v1/observations/bulk: observations as a file, the CSV `repricer fit --observations`
 * reads (`text/csv`) or its Parquet form (`application/vnd.apache.parquet`), decoded by the fit's
 * own columnar readers (the WASM CSV kernel into typed columns; Parquet by columns), never row by
 * row as JSON objects. A route of its own rather than a second media type of POST
 * /v1/observations, as /v1/quote and /v1/quotes are two routes: a file body has its own limit
 * (`uploadBodyLimit`, far above the JSON routes' 16 MiB, since it goes to disk and never through
 * JSON.parse), no 10 000-row cap, no JSON schema, and its own operation in the OpenAPI document.
 *
 * Every guarantee of the JSON route holds: the batch is stored whole or not at all (one SQLite
 * transaction), an `Idempotency-Key` makes a retry of the same bytes answer 200 with the original
 * acknowledgement, the columns are checked against the feature schema (422 FEATURES_MISMATCH
 * naming the column), a bad cell is 400 INPUT_ROW_INVALID naming `upload:LINE` and the column,
 * and each row is stored exactly as the JSON route stores the same data (observationBatches.ts
 * appendTable).
 *
 * The body is streamed to a temporary file (the readers read files: the CSV reader in blocks from
 * a descriptor, the Parquet reader by byte ranges from the footer), hashed on the way for the
 * idempotency check, and the limit is counted as it arrives (a stream parser gets no limit from
 * Fastify). The file is removed when the request ends, whatever the outcome.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { RepricerError, rowError } from '../../core/errors.js';
import { readObservations, type ObservationTable } from '../../model/observations.js';
import type { RouteOptions } from '../context.js';
import type { AppendResult } from '../observationBatches.js';
import { checkUploadColumns, featureSchema } from '../observationFeatures.js';
import { featureTexts } from '../featureText.js';
import { fileBodyCompiler } from '../validation.js';
import { LIMITS, UPLOAD_MEDIA_TYPES, errors, observationUploadBodySchema, observationsHeadersSchema, observationsResponseSchema } from '../schemas.js';
import { WRITE_ROUTES } from '../rateLimit.js';

/** What errors call the uploaded file: `upload:7: column price: expected a number, got "abc"`. */
const NAME = 'upload';

type MediaType = keyof typeof UPLOAD_MEDIA_TYPES;
const MEDIA = Object.keys(UPLOAD_MEDIA_TYPES) as MediaType[];

/** A received body: the temporary file and what the route needs to know about it. */
interface Upload {
  kind: 'upload';
  dir: string;
  path: string;
  bytes: number;
  /** sha-256 of the media type and the bytes: the batch's identity for the idempotency check */
  sha256: string;
}

const isUpload = (b: unknown): b is Upload => typeof b === 'object' && b !== null && (b as Upload).kind === 'upload';

const tooLarge = (limit: number) => new RepricerError('PAYLOAD_TOO_LARGE', `the request body is larger than the limit of this route (${limit} bytes; repricer serve --upload-limit)`, { limit });

/**
 * Stream the body to a file in a new temporary folder, counting and hashing it. Over the limit
 * the body is no longer read (not destroyed: the 413 must still reach the client; Fastify closes
 * the connection after it).
 */
async function receive(req: FastifyRequest, payload: IncomingMessage): Promise<Upload> {
  const limit = req.routeOptions.bodyLimit ?? 0;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);
  const [type, ...params] = (req.headers['content-type'] ?? '').split(';');
  const media = type.trim().toLowerCase() as MediaType;
  // the readers read UTF-8 (a byte-order mark is skipped); another charset would be misread
  const charset = params.map((p) => /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p)?.[1].toLowerCase()).find((c) => c !== undefined);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new RepricerError('UNSUPPORTED_MEDIA_TYPE', `unsupported charset ${JSON.stringify(charset)}: observation files are read as UTF-8`, { charset });
  }
  const dir = await mkdtemp(join(tmpdir(), 'repricer-upload-'));
  // the extension picks the reader (observations.ts)
  const path = join(dir, `${NAME}.${UPLOAD_MEDIA_TYPES[media]}`);
  const hash = createHash('sha256').update(`${media}\n`);
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path);
      let done = false;
      let ended = false;
      const fail = (err: Error) => {
        if (done) return;
        done = true;
        payload.removeListener('data', onData);
        payload.pause();
        out.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limit) return fail(tooLarge(limit));
        hash.update(chunk);
        if (!out.write(chunk)) {
          payload.pause();
          out.once('drain', () => payload.resume());
        }
      };
      payload.on('data', onData);
      payload.on('end', () => {
        ended = true;
        if (!done) out.end();
      });
      payload.on('error', fail);
      payload.on('close', () => {
        if (!ended) fail(new Error('the client closed the connection before the body was complete'));
      });
      out.on('error', fail);
      out.on('finish', () => {
        if (!done) {
          done = true;
          resolve();
        }
      });
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { kind: 'upload', dir, path, bytes, sha256: hash.digest('hex') };
}

/** The JSON route's other limits, which its schema enforces there: ids of at most 256 characters, at most 1 000 features, at least one row. */
function checkLimits(t: ObservationTable): void {
  if (t.features.length > LIMITS.maxFeatures) {
    throw new RepricerError('INPUT_UNREADABLE', `${NAME}:1: ${t.features.length} feature columns; at most ${LIMITS.maxFeatures} are accepted`, { file: NAME, line: 1 });
  }
  if (t.columns.n === 0) throw new RepricerError('INPUT_UNREADABLE', `${NAME}: no rows after the header; a batch has at least one`, { file: NAME, line: 1 });
  const long = t.productIds.findIndex((id) => id.length > LIMITS.maxIdLength);
  if (long >= 0) {
    const r = t.product.indexOf(long);
    throw rowError(NAME, t.lines[r], 'product_id', `a product id of at most ${LIMITS.maxIdLength} characters`, t.productIds[long]);
  }
}

export const observationUploadRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  // this plugin's scope takes files only: a JSON body here would be parsed whole under the file
  // limit; it is 415 instead, pointing to POST /v1/observations
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(MEDIA as string[], (req: FastifyRequest, payload: IncomingMessage) => receive(req, payload));
  // the temporary file goes when the request ends, also when it fails before the handler runs
  const cleanup = async (req: FastifyRequest) => {
    if (isUpload(req.body)) await rm(req.body.dir, { recursive: true, force: true });
  };
  app.addHook('onResponse', cleanup);
  app.addHook('onRequestAbort', cleanup);

  app.post<{ Headers: { 'idempotency-key'?: string } }>(
    '/v1/observations/bulk',
    {
      bodyLimit: ctx.limits.uploadBodyLimit,
      onRequest: ctx.requireKey,
      config: { ...WRITE_ROUTES, mediaTypes: MEDIA },
      validatorCompiler: fileBodyCompiler,
      schema: {
        summary: 'Upload observations as a CSV or Parquet file',
        description:
          'The observations file `repricer fit --observations` reads, as the body (text/csv or application/vnd.apache.parquet), read by the same columnar readers. One batch, stored whole or not at all; a bad cell is 400 INPUT_ROW_INVALID naming upload:LINE and the column; a feature of the active model without a column is 422 FEATURES_MISMATCH naming it. With an Idempotency-Key a retry of the same bytes answers 200 with the original acknowledgement and replayed: true; other bytes under a used key are 409. Body limit: repricer serve --upload-limit (default 1 GiB).',
        tags: ['observations'],
        security: [{ bearerAuth: [] }],
        headers: observationsHeadersSchema,
        body: observationUploadBodySchema,
        response: { 200: observationsResponseSchema, 201: observationsResponseSchema, ...errors(400, 401, 409, 413, 415, 422, 429) },
      },
    },
    async (req, reply) => {
      const up = req.body;
      if (!isUpload(up)) throw new RepricerError('INPUT_UNREADABLE', `${NAME}: no body; send the observations file with content-type ${MEDIA.join(' or ')}`, { file: NAME });
      try {
        const id = req.headers['idempotency-key'] ?? randomUUID();
        // a retry is answered (or refused) before its file is read; the transaction asks again
        let res: AppendResult | undefined = ctx.store.batches.replay(id, up.sha256);
        if (!res) {
          const t = await readObservations(up.path, { name: NAME, intercept: false });
          checkLimits(t);
          const check = () => checkUploadColumns(NAME, t.features, featureSchema(ctx.registry, ctx.store, () => t.features, "this upload's columns"));
          res = ctx.store.batches.appendTable(id, up.sha256, t, featureTexts(ctx.core, t), check);
        }
        const { batch, replayed } = res;
        reply.code(replayed ? 200 : 201);
        return {
          batch_id: batch.batch_id,
          accepted: batch.rows,
          first_id: batch.first_id,
          last_id: batch.last_id,
          received_at: batch.received_at,
          total: ctx.store.countObservations(),
          replayed,
        };
      } finally {
        await rm(up.dir, { recursive: true, force: true });
      }
    },
  );
};
