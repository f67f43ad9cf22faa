/**
 * Parquet catalogues and price files, the face the batch job sees (hyparquet to read,
 * hyparquet-writer to write; both pure JS, both maintained). Workers read their own row ranges
 * of the input file and encode one output row group per chunk; the main thread only appends the
 * bytes and writes the footer. By concern:
 *   - parquetFile.ts: positioned reads, the footer, task row ranges, the file writer;
 *   - parquetCatalog.ts: catalogue rows (fast path, then hyparquet's parquetRead);
 *   - parquetPages.ts: decoding a column chunk's pages into typed arrays;
 *   - parquetSinks.ts: where decoded values go, how they are checked, why a fast read declines;
 *   - parquetRowGroups.ts: encoding typed columns as a row group;
 *   - parquetPrices.ts: the price schema, its row groups and its file writer;
 *   - hyparquetInternals.ts: the only door to hyparquet's internals.
 * A worker owns one PageDecoder and one RowGroupEncoder (made with its WASM core) and passes them.
 */
export { openParquet, parquetRanges, parquetShape, parquetTaskMeta, type OpenParquet, fileAsyncBuffer, type FileBuffer } from './parquetFile.js';
export { readParquetChunk, readParquetChunkHyparquet, type ParquetReadOptions } from './parquetCatalog.js';
export { PageDecoder } from './parquetPages.js';
export type { IdBytes } from './parquetSinks.js';
export { RowGroupEncoder, type EncodedRowGroup } from './parquetRowGroups.js';
export { ParquetPriceWriter, encodePriceRowGroup, encodePriceRowGroupHyparquet } from './parquetPrices.js';
