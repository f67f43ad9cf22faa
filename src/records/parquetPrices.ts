/**
 * Price records as Parquet: the price schema, one chunk of prices encoded as a row group (in the
 * workers), and the file writer the batch job appends those row groups to.
 */
import type { SchemaElement } from 'hyparquet';
import { ParquetWriter, ByteWriter } from 'hyparquet-writer';
import { RepricerError } from '../core/errors.js';
import type { OutputColumns, PriceColumns } from '../pricing/engine.js';
import { tailColumnNames, tailColumns } from '../pricing/record.js';
import { STATUSES, reasonString } from '../pricing/policy.js';
import type { IdBytes } from './parquetSinks.js';
import { RowGroupEncoder, shiftRowGroup, type EncodedRowGroup, type FastColumn, type FastWriteOptions } from './parquetRowGroups.js';
import { ParquetFileWriter } from './parquetFile.js';

const DOUBLE_COLUMNS = ['price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error'] as const;

/** The price schema; the optional columns (blend weight, explanation) follow `reason` as nullable doubles. */
export function priceSchema(o: OutputColumns = {}): SchemaElement[] {
  const tail = tailColumnNames(o);
  return [
    { name: 'root', num_children: 3 + DOUBLE_COLUMNS.length + tail.length },
    { name: 'product_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ...DOUBLE_COLUMNS.map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' })),
    { name: 'status', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'reason', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    ...tail.map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' })),
  ];
}

/** The nine double columns of the price schema, by column name. */
function doubleColumns(p: PriceColumns): Record<(typeof DOUBLE_COLUMNS)[number], Float64Array> {
  return {
    price: p.price,
    previous_price: p.previousPrice,
    change_pct: p.changePct,
    win_probability: p.winProbability,
    expected_profit: p.expectedProfit,
    delta: p.delta,
    gamma: p.gamma,
    vega: p.vega,
    price_std_error: p.priceStdError,
  };
}

/**
 * Snappy on the id strings only (with the encoder's WASM core when it has one, else
 * hyparquet-writer's JavaScript compressor): the doubles are either dictionary-encoded or mostly
 * incompressible.
 */
const PRICE_SNAPPY: FastWriteOptions['snappy'] = 'strings';

/**
 * Encode one chunk of prices as a complete row group (runs in the workers), straight from the
 * typed columns (parquetRowGroups.ts): doubles PLAIN or, for columns with few distinct values
 * (rounded prices), a dictionary; status and reason as dictionaries; ids PLAIN with snappy;
 * statistics as hyparquet-writer writes them. No column or offset indexes or bloom filters, so
 * everything the row group needs lies inside its own bytes.
 *
 * `idBytes`: the ids as read (raw UTF-8), written instead of `ids`. `encoder`: the caller's
 * per-thread encoder (its buffers and WASM core); the result is then a view of its reused buffer,
 * valid until its next row group. Without one, a fresh encoder and a copy.
 */
export function encodePriceRowGroup(ids: string[], p: PriceColumns, idBytes?: IdBytes, encoder?: RowGroupEncoder): EncodedRowGroup {
  const doubles = doubleColumns(p);
  const columns: FastColumn[] = [
    { kind: 'string', name: 'product_id', values: ids, bytes: idBytes },
    ...DOUBLE_COLUMNS.map((name): FastColumn => ({ kind: 'double', name, values: doubles[name] })),
    { kind: 'label', name: 'status', codes: p.status, label: (s) => STATUSES[s] },
    { kind: 'label', name: 'reason', codes: p.reasons, label: reasonString },
    ...tailColumns(p).map((t): FastColumn => ({ kind: 'double', name: t.name, values: t.values })),
  ];
  return (encoder ?? new RowGroupEncoder()).encodeRowGroup(columns, p.n, { snappy: PRICE_SNAPPY, shared: encoder !== undefined });
}

/** The previous encoder (hyparquet-writer's ParquetWriter on boxed arrays), kept for comparison. */
export function encodePriceRowGroupHyparquet(ids: string[], p: PriceColumns): EncodedRowGroup {
  const nullable = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  const pick = doubleColumns(p);
  const bw = new ByteWriter(Math.max(1024, p.n * 48));
  const w = new ParquetWriter({ writer: bw, schema: priceSchema({ blend: Boolean(p.blendWeight), explain: Boolean(p.explain), agent: p.explain?.agentAdjustment !== undefined }), createdBy: 'repricer' });
  const local = { columnIndex: false, offsetIndex: false, bloomFilter: false } as const;
  void w.write({
    columnData: [
      { name: 'product_id', data: ids, ...local },
      ...DOUBLE_COLUMNS.map((name) => ({ name, data: nullable(pick[name]), ...local })),
      { name: 'status', data: Array.from(p.status, (s) => STATUSES[s]), ...local },
      { name: 'reason', data: Array.from(p.reasons, (r) => reasonString(r)), ...local },
      ...tailColumns(p).map((t) => ({ name: t.name, data: nullable(t.values), ...local })),
    ],
    rowGroupSize: Math.max(1, p.n),
  });
  if (w.row_groups.length !== 1) throw new RepricerError('INTERNAL', `hyparquet-writer: expected one row group, got ${w.row_groups.length}`);
  const rowGroup = w.row_groups[0];
  shiftRowGroup(rowGroup, -4n); // the ByteWriter starts with the 4-byte 'PAR1' header
  return { bytes: new Uint8Array(bw.buffer.slice(4, bw.index)), rowGroup };
}

/**
 * A price file: row groups from `encodePriceRowGroup` (encoded in the workers) appended in order,
 * then the footer of the price schema (`finish`).
 */
export class ParquetPriceWriter extends ParquetFileWriter {
  /** for `write`: row groups encoded on this thread reuse one encoder's buffers */
  private encoder: RowGroupEncoder | undefined;

  constructor(path: string, o: OutputColumns = {}) {
    super(path, priceSchema(o));
  }

  /** Encode on this thread and append (for callers without workers). */
  write(ids: string[], p: PriceColumns): void {
    if (p.n === 0) return;
    this.encoder ??= new RowGroupEncoder();
    this.append(encodePriceRowGroup(ids, p, undefined, this.encoder));
  }
}
