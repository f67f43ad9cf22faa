/**
 * The library entry: `import { … } from 'repricer'`. Learn a model from win/loss observations,
 * quote items with it, reprice a whole catalogue file on a worker pool, or serve it over HTTP —
 * the same engine as the `repricer` command (docs/architecture.md).
 */
export { RepricerError, ERROR_CATALOG, type ErrorCode } from './core/errors.js';
export { WasmCore, type Variant } from './core/wasm.js';

export { MODEL_FORMAT, loadModel, parseModel, saveModel, serializeModel, validateModel, type Model, type ThetaEntry } from './model/format.js';
export { readObservations, type ObservationTable, type ReadObservationsOptions } from './model/observations.js';
export { fitObservationsFile as fitObservations, fitTable, fitTableAsync, type FitOptions } from './model/fit.js';

export { loadPolicy, validatePolicy, STATUSES, REASONS, type Policy, type Status, type Reason } from './pricing/policy.js';
export { createEngine, type Engine, type EngineOptions } from './pricing/quoteEngine.js';
export type { QuoteItem, QuoteRecord } from './pricing/quoteItems.js';
export type { PriceRecord } from './pricing/record.js';
export type { CatalogChunk, PriceColumns } from './pricing/engine.js';
export type { CompiledModel } from './pricing/compiledModel.js';

export { runReprice as priceCatalog, type RepriceOptions, type RepriceSummary } from './batch/job.js';
export { buildApp, VERSION, type AppOptions } from './server/app.js';

export { MarketPotential, checkMarket, clearingProblem, smoothnessBound, type Market, type MarketState } from './market/potential.js';
export { loadMarketFile, validateMarketFile, marketSchema, type MarketFile, type LoadedMarket } from './market/marketFile.js';
export { solveMarket, kktResidual, MARKET_METHODS, MARKET_ORACLES, type MarketMethod, type MarketOracle, type SolveOptions, type SolveResult } from './market/solvers.js';
export { timeBucket, segmentId, parseSegmentId, TIME_BUCKETS, type TimeBucket } from './market/segments.js';
export { readEventLog, parseEventLog, EVENT_TYPES, type EventLog } from './market/eventLog.js';
export { validateMarketPolicy, type MarketPolicy, type MarketWeights } from './market/marketPolicy.js';
export { fitBookingModel } from './market/bookingFit.js';
export { loadMarketModel, curveFor, bookingProbability, MARKET_MODEL_FORMAT, type MarketModel, type BookingCurve } from './market/bookingModel.js';
export { zoneBounds } from './market/zoneBounds.js';
export { optimiseItemPrice, type ItemPriceProblem, type ItemPrice } from './market/itemPrice.js';
export { OnlineClearing, ONLINE_METHODS, type OnlineMethod, type OnlineClearingOptions, type OfferedQuantity, type StreamCounts } from './market/onlineClearing.js';
export { StreamSampler, type MarketDraw } from './market/streamSample.js';
