/**
 * Reader of the observations file (README "Files", Observations): CSV (streamed through csv-parse)
 * or Parquet (hyparquet), into the column layout the likelihood kernels take
 * (`ObservationColumns`: row-major design matrix with the intercept column first, `won` as 0/1,
 * `competitor` NaN on lost rows).
 *
 * Every malformed row stops the read with an INPUT_ROW_INVALID error naming file, line and column
 * (CSV: 1-based physical line, the header is line 1; Parquet: 1-based row number). Checked:
 * non-numbers in numeric columns (empty, `NaN`, `Infinity`, hex and trailing junk are all
 * non-numbers), `won` other than 0/1/true/false, a won row without `competitor_price`, a negative
 * weight, an empty `product_id`, a row with the wrong number of fields. Missing required or
 * requested columns are reported against line 1 (INPUT_UNREADABLE).
 *
 * On a lost row (`won` = 0) `competitor_price` should be empty (censored: we only know y < p); a
 * number there must still parse but is ignored.
 */
import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { RepricerError, readFailure, rowError } from '../core/errors.js';
import { defaultCore } from '../core/wasm.js';
import { Builder, addRow, layoutFromHeader, type Layout, type ObservationTable, type ReadObservationsOptions } from './observationRows.js';
import { readObservationsCsvFast } from './observationsCsv.js';
import { readObservationsParquet } from './observationsParquet.js';

export { RESERVED_COLUMNS, parseDecimal, parseWon, type ObservationTable, type ReadObservationsOptions } from './observationRows.js';

function formatOf(file: string): 'csv' | 'parquet' {
  const e = extname(file).toLowerCase();
  if (e === '.parquet' || e === '.pq') return 'parquet';
  return 'csv';
}

/** Read an observations file (.csv or .parquet by extension). */
export async function readObservations(path: string, opts: ReadObservationsOptions = {}): Promise<ObservationTable> {
  const file = opts.name ?? path;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    throw readFailure(file, 'observations', err);
  }
  if (!isFile) throw new RepricerError('INPUT_UNREADABLE', `${file}: not a file (expected an observations .csv or .parquet)`, { file });
  if (formatOf(path) === 'parquet') return readObservationsParquet(path, opts);
  // the WASM block reader, which hands a file with quotes back to the streaming reference reader
  return readObservationsCsvFast(defaultCore(), path, opts) ?? readCsv(path, opts);
}

/** The streaming reference reader of a CSV (csv-parse): the definition the block reader is held to. */
export async function readObservationsCsvReference(path: string, opts: ReadObservationsOptions = {}): Promise<ObservationTable> {
  return readCsv(path, opts);
}

async function readCsv(path: string, opts: ReadObservationsOptions): Promise<ObservationTable> {
  const file = opts.name ?? path;
  const intercept = opts.intercept ?? true;
  const source = createReadStream(path);
  const parser = source.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true, trim: false }));
  // pipe() does not forward the source's errors: without this a read error (EIO, EISDIR) would
  // leave the loop below waiting forever and surface as an unhandled error
  source.on('error', (err) => parser.destroy(err));
  let L: Layout | undefined;
  let b: Builder | undefined;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      const line = rec.info.lines;
      if (!L) {
        L = layoutFromHeader(file, cells, opts);
        b = new Builder(L.features.length + (intercept ? 1 : 0));
        continue;
      }
      if (cells.length !== L.width) {
        throw rowError(file, line, `(${cells.length} fields)`, `${L.width} fields as in the header`, cells.join(','));
      }
      addRow(b!, L, file, line, cells, intercept);
    }
  } catch (err) {
    parser.destroy();
    if (err instanceof RepricerError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:${e.lines ?? '?'}: malformed CSV (${e.message ?? e.code})`, { file, line: e.lines });
    }
    throw new RepricerError('INPUT_UNREADABLE', `${file}: cannot read observations (${e.message ?? String(err)})`, { file });
  }
  if (!L || !b) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (no header row)`, { file, line: 1 });
  return b.finish(file, 'csv', L.features, intercept);
}
