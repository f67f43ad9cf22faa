/**
 * The one door to hyparquet's and hyparquet-writer's internals: the page-level primitives the fast
 * Parquet paths (parquetPages.ts, parquetRowGroups.ts, parquetFile.ts) build on. Neither package
 * exports these from its main entry, only through `src/*.js` deep paths, which a minor release
 * may move or change; every deep import lives here, so an upgrade (package.json pins
 * hyparquet ^1.31.5, hyparquet-writer ^0.17.0) is checked in one file, and test/parquetFast.test.ts
 * compares every value both fast paths read or write with hyparquet's public API.
 *
 * Everything else in src/ uses `hyparquet` / `hyparquet-writer` (public API) or this module.
 */

/** The thrift PageHeader at reader.offset (advances the reader past it). */
export { parquetHeader } from 'hyparquet/src/column.js';
/** `count` PLAIN values of a physical type (DOUBLE -> Float64Array, FLOAT -> Float32Array, INT32 -> Int32Array, INT64 -> BigInt64Array). */
export { readPlain } from 'hyparquet/src/plain.js';
/** RLE/bit-packed hybrid values of `width` bits into `output` (length-prefixed when `length` is absent). */
export { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';

/** A thrift PageHeader appended to a ByteWriter. */
export { writePageHeader } from 'hyparquet-writer/src/datapage.js';
/** Values as an RLE/bit-packed hybrid run of `bitWidth` bits appended to a ByteWriter. */
export { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
/** Raw snappy in JavaScript (hyparquet-writer's compressor; a thread with a WASM core uses core/snappy.ts). */
export { snappyCompress as snappyCompressJs } from 'hyparquet-writer/src/snappy.js';
/** A FileMetaData footer (thrift) appended to a ByteWriter. */
export { writeMetadata } from 'hyparquet-writer/src/metadata.js';
