// The exported surface of the WASM core. Kernels take raw byte offsets into the imported shared
// memory and check nothing; src/core validates at the boundary.
export { erfcx, erfc, normLogCdf, normMills, noiseTable } from "./noise";
export { linearPredictor, winProbabilityAt } from "./pricing";
export { censoredLogLikelihood, projectedNewton, newtonBegin, newtonResume, newtonRequest, projectedSgd, newtonWorkSize, sgdWorkSize, proxL2Ball } from "./solvers";
export { virtualValuationInverse, optimalQuote, priceVariance } from "./quote";
export { greeks, profitTerms, returnAwareOptimum, closedFormPrice } from "./greeks";
export { parseCatalogCsv, catalogTextColumn } from "./catalogCsv";
export { buildProductIndex, lookupProducts } from "./productIndex";
export { formatPriceCsv } from "./priceCsv";
export { formatPriceJson } from "./priceJson";
export { snappyUncompress, snappyCompress, snappyCompressWorkSize } from "./snappy";
export { formatShortestColumn } from "./ryu";
export { firstNonFinite, columnsToRows } from "./columns";
export { marketWorkSize, marketSetup, marketPotential, marketOracle, marketOracleSampled } from "./market";
export { mlpGemm, mlpBiasAct, mlpTranspose, mlpActGrad, mlpColSums, mlpAdam, mlpSoftUpdate } from "./mlp";

/** First byte after the module's static data: the host arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when this build uses f64x2 SIMD. */
export function simdEnabled(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}
