/**
 * JSON schemas of every request and response (fastify validates requests with them, serialises
 * responses through them, and @fastify/swagger publishes them at /docs/json). Field names and
 * meanings follow docs/formats.md: a quote item is a catalogue row with its features given by name;
 * a quote result is a prices row plus `cold_start` and `model_version`.
 *
 * Numbers must be finite JSON numbers (`1e999` parses to Infinity and is refused); an optional
 * number may be null, which means absent ("empty means absent").
 */

export const LIMITS = {
  /** SKUs per POST /v1/quotes body */
  maxQuotes: 10_000,
  /** rows per POST /v1/observations body (appended in one transaction on the event loop: ~5 us a row) */
  maxObservations: 10_000,
  /** feature names per row */
  maxFeatures: 1_000,
  maxIdLength: 256,
  /** observation batch ids (idempotency keys): printable ASCII without spaces */
  maxBatchIdLength: 128,
} as const;

const num = { type: 'number' } as const;
const optNum = { type: ['number', 'null'] } as const;
const nullableNum = { type: ['number', 'null'] } as const;

export const errorSchema = {
  $id: 'repricer.error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'a code of the error catalogue (README, src/core/errors.ts)' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

const errRef = { $ref: 'repricer.error#' } as const;

/** Error responses a route can produce, by status. */
export function errors(...statuses: number[]): Record<number, typeof errRef> {
  const out: Record<number, typeof errRef> = {};
  for (const s of statuses) out[s] = errRef;
  return out;
}

const productId = { type: 'string', minLength: 1, maxLength: LIMITS.maxIdLength } as const;
const features = {
  type: 'object',
  description: 'feature values by name; every name in the model\'s `features` is required, others are ignored',
  additionalProperties: num,
  maxProperties: LIMITS.maxFeatures,
} as const;

export const quoteItemSchema = {
  type: 'object',
  required: ['product_id', 'features'],
  additionalProperties: false,
  properties: {
    product_id: productId,
    features,
    cost: { ...optNum, description: 'c, the payoff when we do not sell; default: the model reservation' },
    current_price: { ...optNum, description: "today's price, for change limits and reporting" },
    min_price: optNum,
    max_price: optNum,
    map_price: { ...optNum, description: 'minimum advertised price: a floor (reason map_floor)' },
    elasticity: { ...optNum, description: 'constant-elasticity demand Q = Q0 (P/P0)^elasticity (< -1); absent: the learned win probability' },
    return_rate: { ...optNum, description: 'constant return rate R in [0, 1)' },
    return_cost: { ...optNum, description: 'cost per returned unit' },
    inventory: { ...optNum, description: 'units in stock (with target_inventory and the policy\'s inventory skew)' },
    target_inventory: optNum,
    expert_price: { ...optNum, description: 'an expert price blended with the model price by blend_weight' },
    days_left: { ...optNum, description: 'days left in the selling season (read by the pricing agent of `serve --agent`)' },
    segment: { type: ['string', 'null'], maxLength: 256, description: 'the catalogue segment: a segment the segment breaker tripped is held (reason segment_breaker); blank or absent: none' },
    season: { type: ['string', 'null'], maxLength: 256, description: "the season, whose multiplier in the policy's returns.seasons scales the return curve; blank or null: none" },
  },
} as const;

export const explainQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { explain: { type: 'boolean', default: false, description: 'add the price breakdown (docs/formats.md "Explanation")' } },
} as const;

const explanationSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['step', 'amount', 'reason'],
    properties: { step: { type: 'string' }, amount: nullableNum, reason: { type: 'string' } },
  },
} as const;

export const quoteBodySchema = {
  ...quoteItemSchema,
  examples: [{ product_id: 'SKU-1', features: { f1: 0.1, f2: -0.2 }, cost: 0.8, current_price: 2.0 }],
} as const;

export const quotesBodySchema = {
  type: 'object',
  required: ['items'],
  additionalProperties: false,
  properties: {
    items: { type: 'array', minItems: 1, maxItems: LIMITS.maxQuotes, items: quoteItemSchema },
  },
} as const;

const priceRecordProperties = {
  product_id: { type: 'string' },
  price: { ...nullableNum, description: 'the published price; null when rejected' },
  previous_price: nullableNum,
  change_pct: nullableNum,
  win_probability: nullableNum,
  expected_profit: nullableNum,
  delta: nullableNum,
  gamma: nullableNum,
  vega: nullableNum,
  price_std_error: nullableNum,
  status: { type: 'string', enum: ['ok', 'clipped', 'held', 'cold_start', 'rejected'] },
  reason: { type: 'string', description: 'machine-readable codes joined by ";"' },
  cold_start: { type: 'boolean', description: 'the product is not in the model: priced with common.theta' },
} as const;

/** Present only when asked for (explain) or when the item has an expert price (blend_weight). */
const optionalRecordProperties = {
  blend_weight: nullableNum,
  base_price: nullableNum,
  return_adjustment: nullableNum,
  inventory_adjustment: nullableNum,
  cold_start_adjustment: nullableNum,
  agent_adjustment: nullableNum,
  guardrail_adjustment: nullableNum,
  rounding_adjustment: nullableNum,
  explanation: explanationSchema,
} as const;

const priceRecordRequired = Object.keys(priceRecordProperties);

export const quoteResponseSchema = {
  type: 'object',
  required: [...priceRecordRequired, 'model_version'],
  properties: { ...priceRecordProperties, ...optionalRecordProperties, model_version: { type: 'string' } },
} as const;

export const quotesResponseSchema = {
  type: 'object',
  required: ['model_version', 'count', 'items'],
  properties: {
    model_version: { type: 'string' },
    count: { type: 'integer' },
    items: { type: 'array', items: { type: 'object', required: priceRecordRequired, properties: { ...priceRecordProperties, ...optionalRecordProperties } } },
  },
} as const;

export const observationItemSchema = {
  type: 'object',
  required: ['product_id', 'features', 'price', 'won'],
  additionalProperties: false,
  properties: {
    product_id: productId,
    features,
    price: num,
    won: { enum: [0, 1, true, false], description: '1 when the buyer took our quote' },
    competitor_price: { ...optNum, description: 'required when won = 1; null or absent when won = 0 (censored)' },
    weight: { type: 'number', minimum: 0 },
  },
} as const;

const batchId = { type: 'string', minLength: 1, maxLength: LIMITS.maxBatchIdLength, pattern: '^[\\x21-\\x7e]+$' } as const;

export const observationsBodySchema = {
  type: 'object',
  required: ['observations'],
  additionalProperties: false,
  properties: {
    observations: { type: 'array', minItems: 1, maxItems: LIMITS.maxObservations, items: observationItemSchema },
    batch_id: { ...batchId, description: 'idempotency key of this batch (or the Idempotency-Key header): a retry with the same key and rows is answered with the original acknowledgement and stores nothing' },
  },
} as const;

export const observationsHeadersSchema = {
  type: 'object',
  properties: { 'idempotency-key': { ...batchId, description: 'idempotency key of this batch (same as `batch_id` in the body)' } },
} as const;

/** The media types of an observation file upload (POST /v1/observations/bulk) and the reader each goes to. */
export const UPLOAD_MEDIA_TYPES = { 'text/csv': 'csv', 'application/vnd.apache.parquet': 'parquet' } as const;

const uploadFile = (what: string) => ({ schema: { type: 'string', format: 'binary', description: what } }) as const;

/**
 * The body of POST /v1/observations/bulk, for the OpenAPI document only: the file is not JSON and
 * is not validated by a schema but read by the fit's readers (validation.ts fileBodyCompiler).
 */
export const observationUploadBodySchema = {
  content: {
    'text/csv': uploadFile('an observations CSV as `repricer fit --observations` reads it (docs/formats.md "Observations"): a header row, then one row per quote; UTF-8'),
    'application/vnd.apache.parquet': uploadFile('an observations Parquet file with the same columns'),
  },
} as const;

export const observationsResponseSchema = {
  type: 'object',
  required: ['batch_id', 'accepted', 'total', 'replayed'],
  properties: {
    batch_id: { type: 'string', description: 'the idempotency key given, or an id made up by the server' },
    accepted: { type: 'integer', description: 'rows the batch added (when it was first stored)' },
    first_id: { type: 'integer' },
    last_id: { type: 'integer' },
    received_at: { type: 'string' },
    total: { type: 'integer', description: 'observations in the store now' },
    replayed: { type: 'boolean', description: 'true (status 200): this key and rows were already stored; nothing was written' },
  },
} as const;

const batchProperties = {
  batch_id: { type: 'string' },
  seq: { type: 'integer', description: 'order of arrival; page with `before`' },
  received_at: { type: 'string' },
  rows: { type: 'integer' },
  first_id: { type: 'integer' },
  last_id: { type: 'integer' },
  status: { type: 'string', enum: ['stored', 'deleted'] },
  deleted_at: { type: ['string', 'null'] },
} as const;

export const batchesQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    before: { type: 'integer', minimum: 1, description: 'only batches with seq < before (paging)' },
  },
} as const;

export const batchesResponseSchema = {
  type: 'object',
  required: ['batches', 'total'],
  properties: {
    batches: { type: 'array', items: { type: 'object', required: Object.keys(batchProperties), properties: batchProperties } },
    total: { type: 'integer', description: 'observations in the store' },
  },
} as const;

export const batchParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: batchId },
} as const;

export const batchDeleteResponseSchema = {
  type: 'object',
  required: ['batch_id', 'deleted', 'total'],
  properties: {
    batch_id: { type: 'string' },
    deleted: { type: 'integer', description: 'observations removed' },
    deleted_at: { type: 'string' },
    total: { type: 'integer', description: 'observations in the store now' },
  },
} as const;

export const modelSummaryProperties = {
  version: { type: 'string' },
  seq: { type: 'integer' },
  sha256: { type: 'string' },
  source: { type: 'string', enum: ['file', 'upload', 'fit'] },
  registered_at: { type: 'string' },
  created_at: { type: 'string', description: 'the model file\'s createdAt' },
  active: { type: 'boolean' },
  features: { type: 'array', items: { type: 'string' } },
  intercept: { type: 'boolean' },
  strategy: { type: 'string' },
  products: { type: 'integer' },
  job_id: { type: ['string', 'null'] },
} as const;

export const modelSummarySchema = {
  type: 'object',
  required: ['version', 'seq', 'sha256', 'source', 'registered_at', 'active'],
  properties: modelSummaryProperties,
} as const;

export const modelsListSchema = {
  type: 'object',
  required: ['active', 'models'],
  properties: { active: { type: ['string', 'null'] }, models: { type: 'array', items: modelSummarySchema } },
} as const;

export const modelDetailSchema = {
  type: 'object',
  required: ['version', 'active', 'model'],
  properties: { ...modelSummaryProperties, model: { type: 'object', additionalProperties: true, description: 'the repricer.model/1 document' } },
} as const;

export const modelUploadBodySchema = {
  type: 'object',
  additionalProperties: true,
  description: 'a repricer.model/1 document (docs/formats.md); validated in full, 422 MODEL_INVALID names the field',
} as const;

export const versionParamsSchema = {
  type: 'object',
  required: ['version'],
  properties: { version: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const activateResponseSchema = {
  type: 'object',
  required: ['active', 'previous'],
  properties: { active: { type: 'string' }, previous: { type: ['string', 'null'] } },
} as const;

export const fitBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    strategy: { enum: ['tsmt', 'pooled', 'individual', 'bayes'] },
    family: { enum: ['gaussian', 'logistic'] },
    scale: { type: 'number', exclusiveMinimum: 0, description: 'known noise scale; omit to estimate it' },
    radius: { type: 'number', exclusiveMinimum: 0 },
    lambda_c: { type: 'number', minimum: 0 },
    reservation: { type: 'number' },
    features: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, maxItems: LIMITS.maxFeatures, description: "default: the active model's features, else the first observation's" },
    intercept: { type: 'boolean' },
    activate: { type: 'boolean', description: 'activate the fitted model when the job succeeds (default false)' },
    created_at: { type: 'string', minLength: 1, description: 'createdAt written into the model (default now)' },
  },
} as const;

export const jobSchema = {
  type: 'object',
  required: ['id', 'kind', 'status', 'stage', 'progress', 'created_at'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['fit'] },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed'] },
    stage: { type: 'string', description: 'queued, reading, fitting, registering, done' },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    created_at: { type: 'string' },
    started_at: { type: ['string', 'null'] },
    finished_at: { type: ['string', 'null'] },
    result: {
      type: 'object',
      properties: {
        model_version: { type: 'string' },
        rows: { type: 'integer' },
        products: { type: 'integer' },
        log_likelihood: { type: 'number' },
        iterations: { type: 'integer' },
        converged: { type: 'boolean' },
        activated: { type: 'boolean' },
      },
    },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

export const jobParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const productParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: productId },
} as const;

export const historyQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    before: { type: 'integer', minimum: 1, description: 'only records with id < before (paging)' },
  },
} as const;

export const historyResponseSchema = {
  type: 'object',
  required: ['product_id', 'prices'],
  properties: {
    product_id: { type: 'string' },
    prices: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          at: { type: 'string' },
          price: num,
          previous_price: nullableNum,
          change_pct: nullableNum,
          win_probability: nullableNum,
          expected_profit: nullableNum,
          price_std_error: nullableNum,
          status: { type: 'string' },
          reason: { type: 'string' },
          model_version: { type: 'string' },
          source: { type: 'string' },
        },
      },
    },
  },
} as const;

export const healthSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, model_version: { type: ['string', 'null'] }, uptime_s: { type: 'number' } },
} as const;
