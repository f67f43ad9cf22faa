/**
 * Observations from Parquet, by columns: hyparquet decodes each column chunk into an array
 * (onChunk), the reference reader's rules are checked over whole columns, and the columns are laid
 * into the table's row-major x. A file that breaks a rule is read again row by row through the
 * reference row parser (observationRows.ts addRow), which names the row and column exactly as
 * before. Rows as objects (the old path) cost ~13 µs each; columns cost a fraction of that
 * (bench/RESULTS.md "Fit ingest").
 */
import { RepricerError } from '../core/errors.js';
import { Builder, addRow, cellEmpty as empty, cellNumber as num, cellString, cellWon as wonOf, layoutFromHeader, type Cell, type Layout, type ObservationTable, type ReadObservationsOptions } from './observationRows.js';

type Column = ArrayLike<Cell>;

/** The columns laid into the store, or false (nothing kept) when a row breaks a rule. */
function fromColumns(b: Builder, L: Layout, get: (name: string) => Column, n: number, intercept: boolean): boolean {
  const id = get('product_id');
  const price = get('price');
  const won = get('won');
  const comp = get('competitor_price');
  const weight = L.iWeight >= 0 ? get('weight') : undefined;
  const feats = L.features.map((f) => get(f));
  const r0 = b.reserve(n);
  const D = b.D;
  const off = intercept ? 1 : 0;
  const ok = (() => {
    for (let i = 0; i < n; i++) {
      const k = r0 + i;
      const pid = cellString(id[i]).trim();
      if (pid === '') return false;
      const p = num(price[i]);
      const w = wonOf(won[i]);
      if (!Number.isFinite(p) || w < 0) return false;
      let c = NaN;
      if (w === 1) {
        c = num(comp[i]);
        if (!Number.isFinite(c)) return false;
      } else if (!empty(comp[i]) && !Number.isFinite(num(comp[i]))) return false;
      let g = 1;
      if (weight && !empty(weight[i])) {
        g = num(weight[i]);
        if (!Number.isFinite(g) || g < 0) return false;
        if (g !== 1) b.anyWeight = true;
      }
      b.price[k] = p;
      b.won[k] = w;
      b.competitor[k] = c;
      b.weight[k] = g;
      b.product[k] = b.productIndex(pid);
      b.lines[k] = i + 1;
      if (off) b.x[k * D] = 1;
    }
    for (let j = 0; j < feats.length; j++) {
      const col = feats[j];
      for (let i = 0; i < n; i++) {
        const v = num(col[i]);
        if (!Number.isFinite(v)) return false;
        b.x[(r0 + i) * D + off + j] = v;
      }
    }
    return true;
  })();
  if (!ok) b.n = r0;
  return ok;
}

export async function readObservationsParquet(path: string, opts: ReadObservationsOptions): Promise<ObservationTable> {
  const file = opts.name ?? path;
  const intercept = opts.intercept ?? true;
  const { asyncBufferFromFile, parquetMetadataAsync, parquetSchema, parquetRead } = await import('hyparquet');
  const chunks = new Map<string, { rowStart: number; data: Column }[]>();
  let header: string[];
  let n = 0;
  try {
    const buf = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(buf);
    const all = parquetSchema(metadata).children.map((c) => c.element.name);
    const L0 = layoutFromHeader(file, all, opts);
    header = [...new Set([...L0.featureIdx.map((k) => all[k]), 'product_id', 'price', 'won', 'competitor_price', ...(L0.iWeight >= 0 ? ['weight'] : [])])];
    n = Number(metadata.num_rows);
    await parquetRead({
      file: buf,
      metadata,
      columns: header,
      onChunk: (c) => {
        let list = chunks.get(c.columnName);
        if (!list) chunks.set(c.columnName, (list = []));
        list.push({ rowStart: c.rowStart, data: c.columnData as Column });
      },
    });
  } catch (err) {
    if (err instanceof RepricerError) throw err;
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not a readable Parquet file (${(err as Error).message})`, { file });
  }
  const L = layoutFromHeader(file, header, opts);
  // one array per column, in row order (a column's chunks are its row groups)
  const columns = new Map<string, Column>();
  for (const name of header) {
    const list = (chunks.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    if (list.length === 1 && list[0].data.length === n) {
      columns.set(name, list[0].data);
      continue;
    }
    const out: Cell[] = new Array<Cell>(n);
    for (const ch of list) for (let i = 0; i < ch.data.length && ch.rowStart + i < n; i++) out[ch.rowStart + i] = ch.data[i];
    columns.set(name, out);
  }
  const get = (name: string): Column => columns.get(name) ?? new Array<Cell>(n);
  const b = new Builder(L.features.length + (intercept ? 1 : 0));
  b.expect(n);
  if (!fromColumns(b, L, get, n, intercept)) {
    // a rule is broken somewhere: the reference row parser finds and names it
    const cols = header.map((h) => get(h));
    const row: Cell[] = new Array<Cell>(header.length);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < cols.length; k++) row[k] = cols[k][r];
      addRow(b, L, file, r + 1, row, intercept);
    }
  }
  return b.finish(file, 'parquet', L.features, intercept);
}
