/**
 * The fast Parquet reader and writer (src/records/parquetPages.ts, parquetSinks.ts,
 * parquetCatalog.ts, parquetRowGroups.ts) against hyparquet itself: every
 * value read fast equals what parquetReadObjects returns (null = NaN), every value written fast
 * reads back through hyparquet, and chunks outside the fast case (or with a bad value) still go
 * through the hyparquet path with the same errors.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects, type AsyncBuffer, type ColumnChunk, type CompressionCodec, type FileMetaData, type SchemaElement } from 'hyparquet';
import { ByteWriter, parquetWriteBuffer } from 'hyparquet-writer';
import { writeMetadata, writePageHeader, writeRleBitPackedHybrid, snappyCompressJs as snappyCompress } from '../src/records/hyparquetInternals.js';
import { CHECK_NONE, type ColumnSink } from '../src/records/parquetSinks.js';
import { readCatalogFast, readColumnsFast } from '../src/records/parquetCatalog.js';
import { fileAsyncBuffer } from '../src/records/parquetFile.js';
import { WasmCore } from '../src/core/wasm.js';
import { ParquetPriceWriter, openParquet, encodePriceRowGroup, encodePriceRowGroupHyparquet, parquetTaskMeta, readParquetChunk, readParquetChunkHyparquet, type ParquetReadOptions } from '../src/records/parquet.js';
import { resolveLayout } from '../src/records/catalogSchema.js';
import { rng } from '../src/batch/demoData.js';
import { emptyPriceColumns, type PriceColumns } from '../src/pricing/engine.js';
import { REASONS, STATUSES, reasonString } from '../src/pricing/policy.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pqfast-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memoryFile(buf: ArrayBuffer): AsyncBuffer {
  return { byteLength: buf.byteLength, slice: (s: number, e?: number) => buf.slice(s, e) };
}

const IDS = ['SKU-1', 'ü-umlaut', '日本-42', 'emoji-😀', 'a-rather-long-product-identifier-0001', 'x'];

/** What the fast reader stores for a value hyparquet returns: numbers as is, bigints through Number, null -> NaN. */
function asNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

interface TestColumn {
  name: string;
  kind: 'number' | 'string';
}

/** Fast-read [start, end) of `columns` and compare every value with parquetReadObjects (Object.is). */
async function compareWithHyparquet(buf: ArrayBuffer, columns: TestColumn[], start: number, end: number): Promise<void> {
  const file = memoryFile(buf);
  const meta = parquetMetadata(buf);
  const n = end - start;
  const out = new Map<string, Float64Array | (string | null)[]>();
  const declined = await readColumnsFast(file, meta, columns.map((c) => ({ column: c.name, kind: c.kind })), start, end, () =>
    columns.map((c): ColumnSink => {
      if (c.kind === 'string') {
        const dst = new Array<string | null>(n);
        out.set(c.name, dst);
        return { kind: 'string', column: c.name, dst, check: CHECK_NONE };
      }
      const dst = new Float64Array(n).fill(12345); // not a value any file has: unwritten rows show
      out.set(c.name, dst);
      return { kind: 'number', column: c.name, dst, stride: 1, offset: 0, check: CHECK_NONE };
    }),
  );
  expect(declined, `fast path taken for [${start}, ${end})`).toBeNull();
  const want = (await parquetReadObjects({ file, metadata: meta, columns: columns.map((c) => c.name), rowStart: start, rowEnd: end })) as Record<string, unknown>[];
  expect(want.length).toBe(n);
  for (const c of columns) {
    const got = out.get(c.name)!;
    for (let r = 0; r < n; r++) {
      const w = want[r][c.name];
      const g = got[r];
      const expected = c.kind === 'string' ? (w ?? null) : asNumber(w);
      if (!Object.is(g, expected)) expect(g, `${c.name} row ${start + r}`).toBe(expected);
    }
  }
}

/** A read's result or error, in a form toEqual compares (what the paths must agree on). */
async function outcome(read: (o: ParquetReadOptions) => Promise<unknown>, o: ParquetReadOptions): Promise<unknown> {
  try {
    const r = (await read(o)) as { chunk: { ids: string[]; x: Float64Array; cost: Float64Array; currentPrice: Float64Array; minPrice: Float64Array; maxPrice: Float64Array; n: number }; lines: number; rejects: unknown[] };
    const c = r.chunk;
    return { n: c.n, ids: c.ids, x: Array.from(c.x), cost: Array.from(c.cost), cur: Array.from(c.currentPrice), min: Array.from(c.minPrice), max: Array.from(c.maxPrice), lines: r.lines, rejects: r.rejects };
  } catch (err) {
    const e = err as Error & { code?: string; details?: unknown };
    return { error: e.message, code: e.code, details: e.details };
  }
}

function ranges(total: number, groups: number[], r: () => number): [number, number][] {
  const out: [number, number][] = [[0, total], [total - 1, total], [0, 1]];
  let g0 = 0;
  for (const len of groups) {
    out.push([g0, g0 + len], [g0 + 3, g0 + len - 5]); // whole group, inside one group
    g0 += len;
  }
  out.push([groups[0] - 7, groups[0] + groups[1] + 9]); // across groups, mid-group at both ends
  for (let k = 0; k < 12; k++) {
    const a = Math.floor(r() * total);
    out.push([a, a + 1 + Math.floor(r() * (total - a))]);
  }
  return out;
}

describe('fast Parquet reader vs parquetReadObjects', () => {
  const N = 2600;
  const groups = [700, 900, 1000];
  const r = rng(7);
  const specialDoubles = [0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, -Number.MAX_VALUE, 1e-310];
  const data = {
    id_plain: Array.from({ length: N }, (_, i) => `${IDS[i % IDS.length]}-${i}`),
    id_dict: Array.from({ length: N }, (_, i) => IDS[(i * 7) % IDS.length]),
    req_d: Array.from({ length: N }, (_, i) => (i % 97 === 0 ? specialDoubles[(i / 97) % specialDoubles.length] : r() * 2e3 - 1e3)),
    opt_d: Array.from({ length: N }, (_, i) => (r() < 0.3 || (i >= 900 && i < 1100) ? null : r() - 0.5)), // a run of nulls across a group edge
    opt_dict: Array.from({ length: N }, () => (r() < 0.2 ? null : [1.5, 2.25, -0, 0, 99][Math.floor(r() * 5)])),
    all_null: Array.from({ length: N }, () => null),
    f32: Array.from({ length: N }, () => (r() < 0.1 ? null : Math.fround(r() * 100))),
    i32: Array.from({ length: N }, () => Math.floor(r() * 2e9) - 1e9),
    i64: Array.from({ length: N }, () => (r() < 0.1 ? null : BigInt(Math.floor(r() * 2 ** 53)) - 2n ** 52n)),
    opt_s: Array.from({ length: N }, (_, i) => (r() < 0.25 ? null : IDS[i % IDS.length])),
  };
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 10 },
    { name: 'id_plain', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'id_dict', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'req_d', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    { name: 'opt_d', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'opt_dict', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'all_null', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'f32', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'i32', type: 'INT32', repetition_type: 'REQUIRED' },
    { name: 'i64', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'opt_s', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ];
  const columns: TestColumn[] = schema.slice(1).map((s) => ({ name: s.name, kind: s.type === 'BYTE_ARRAY' ? 'string' : 'number' }));
  const write = (codec: CompressionCodec, pageSize: number) =>
    parquetWriteBuffer({
      schema,
      codec,
      pageSize,
      rowGroupSize: groups,
      columnData: [
        { name: 'id_plain', data: data.id_plain, encoding: 'PLAIN' },
        { name: 'id_dict', data: data.id_dict, encoding: 'RLE_DICTIONARY' },
        { name: 'req_d', data: data.req_d, encoding: 'PLAIN' },
        { name: 'opt_d', data: data.opt_d },
        { name: 'opt_dict', data: data.opt_dict, encoding: 'RLE_DICTIONARY' },
        { name: 'all_null', data: data.all_null },
        { name: 'f32', data: data.f32 },
        { name: 'i32', data: data.i32 },
        { name: 'i64', data: data.i64 },
        { name: 'opt_s', data: data.opt_s },
      ],
    });

  for (const [codec, pageSize] of [
    ['SNAPPY', 1024],
    ['UNCOMPRESSED', 1024],
    ['SNAPPY', 1 << 20],
  ] as const) {
    it(`data page v2, ${codec}, pages of ${pageSize} bytes: every value of every range equals hyparquet's`, async () => {
      const buf = write(codec, pageSize);
      const meta = parquetMetadata(buf);
      expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(groups);
      const encodings = new Set(meta.row_groups[0].columns.flatMap((c) => c.meta_data!.encodings));
      expect(encodings.has('RLE_DICTIONARY') && encodings.has('PLAIN')).toBe(true);
      for (const [a, b] of ranges(N, groups, rng(pageSize))) await compareWithHyparquet(buf, columns, a, b);
    });
  }

  it('data page v1 (PLAIN and PLAIN_DICTIONARY, SNAPPY and UNCOMPRESSED) equals hyparquet', async () => {
    for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
      const buf = writeV1File(codec, data.id_plain, data.opt_d, data.opt_dict, groups, 128);
      for (const [a, b] of ranges(N, groups, rng(3))) {
        await compareWithHyparquet(
          buf,
          [
            { name: 'id', kind: 'string' },
            { name: 'v', kind: 'number' },
            { name: 'd', kind: 'number' },
          ],
          a,
          b,
        );
      }
    }
  });

  it('with a WASM core: v1 pages (all present, with nulls), v2 pages and partial pages give the same chunk as without', async () => {
    const core = WasmCore.create({ variant: 'simd' });
    const present = data.req_d.map((v) => (Number.isFinite(v) && v !== 0 ? v : 1.25)); // the hand-written dictionary cannot hold both zeros
    const files: [string, ArrayBuffer, string[]][] = [
      ['v1 SNAPPY, all present', writeV1File('SNAPPY', data.id_plain, present, present, groups, 128), ['v', 'd']],
      ['v1 UNCOMPRESSED, all present', writeV1File('UNCOMPRESSED', data.id_plain, present, present, groups, 128), ['v', 'd']],
      ['v1 SNAPPY, nulls', writeV1File('SNAPPY', data.id_plain, data.opt_d, present, groups, 128), ['d']],
    ];
    const v2 = parquetWriteBuffer({ columnData: [{ name: 'id', data: data.id_plain }, { name: 'v', data: present, type: 'DOUBLE' }, { name: 'w', data: present.map((x) => -x), type: 'DOUBLE' }], rowGroupSize: groups, pageSize: 4096 });
    files.push(['v2 SNAPPY', v2, ['v', 'w']]);
    for (const [what, buf, features] of files) {
      const path = join(dir, `core-${files.findIndex((f) => f[0] === what)}.parquet`);
      writeFileSync(path, new Uint8Array(buf));
      const file = fileAsyncBuffer(path);
      const meta = parquetMetadata(buf);
      for (const [a, b] of ranges(N, groups, rng(11))) {
        for (const intercept of [true, false]) {
          const o = { file, meta, idColumn: 'id', featureColumns: features, intercept, rowStart: a, rowEnd: b, idsAsBytes: true };
          const plain = (await readCatalogFast({ ...o, alloc: (n) => new Float64Array(n) })).chunk;
          const mark = core.arena.mark();
          const viaCore = (await readCatalogFast({ ...o, alloc: (n) => core.arena.f64(n), core })).chunk;
          expect(plain, `${what} [${a}, ${b})`).toBeDefined();
          expect(viaCore, `${what} [${a}, ${b}) with the core`).toBeDefined();
          expect(Array.from(viaCore!.x), `${what} [${a}, ${b}) x`).toEqual(Array.from(plain!.x));
          expect(core.owns(viaCore!.x)).toBe(true);
          for (const k of ['cost', 'currentPrice', 'minPrice', 'maxPrice'] as const) expect(Array.from(viaCore![k])).toEqual(Array.from(plain![k]));
          expect(Array.from(viaCore!.idBytes!.len)).toEqual(Array.from(plain!.idBytes!.len));
          core.arena.release(mark);
        }
      }
    }
  });

  it('declines what it does not cover: nested columns, BOOLEAN, strings read as numbers', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'b', data: [true, false, true], type: 'BOOLEAN' },
        { name: 's', data: ['1.5', '2', '3'], type: 'STRING' },
        { name: 'l', data: [[1], [2, 3], []], type: 'JSON' },
      ],
    });
    const meta = parquetMetadata(buf);
    for (const c of [{ column: 'b', kind: 'number' }, { column: 's', kind: 'number' }, { column: 'l', kind: 'string' }, { column: 'missing', kind: 'number' }] as const) {
      const declined = await readColumnsFast(memoryFile(buf), meta, [c], 0, 3, () => []);
      expect(declined, c.column).toContain(`column ${c.column}: `);
    }
  });

  it('declines only what it checks: an exception of its own (here a sink too short for the rows) propagates', async () => {
    const buf = parquetWriteBuffer({ columnData: [{ name: 'v', data: [1.5, 2.5, 3.5], type: 'DOUBLE' }] });
    const read = readColumnsFast(memoryFile(buf), parquetMetadata(buf), [{ column: 'v', kind: 'number' }], 0, 3, () => [{ kind: 'number', column: 'v', dst: new Float64Array(1), stride: 1, offset: 0, check: CHECK_NONE }]);
    await expect(read).rejects.toThrow(RangeError);
  });
});

/**
 * A file of data page v1 pages written by hand (hyparquet-writer writes only v2): id REQUIRED
 * UTF8 PLAIN, v OPTIONAL DOUBLE PLAIN, d OPTIONAL DOUBLE PLAIN_DICTIONARY; `pageRows` rows a page.
 */
function writeV1File(codec: CompressionCodec, ids: string[], v: (number | null)[], d: (number | null)[], groups: number[], pageRows: number): ArrayBuffer {
  const enc = new TextEncoder();
  const w = new ByteWriter();
  w.appendUint32(0x31524150);
  const compress = (b: Uint8Array) => (codec === 'SNAPPY' ? snappyCompress(b) : b);
  const page = (type: 'DATA_PAGE' | 'DICTIONARY_PAGE', body: Uint8Array, count: number, encoding: 'PLAIN' | 'PLAIN_DICTIONARY') => {
    const stored = compress(body);
    writePageHeader(w, {
      type,
      uncompressed_page_size: body.length,
      compressed_page_size: stored.length,
      ...(type === 'DATA_PAGE'
        ? { data_page_header: { num_values: count, encoding, definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' } }
        : { dictionary_page_header: { num_values: count, encoding: 'PLAIN' } }),
    });
    w.appendBytes(stored);
  };
  const defLevels = (b: ByteWriter, vals: (number | null)[]) => {
    const lw = new ByteWriter();
    writeRleBitPackedHybrid(lw, vals.map((x) => (x === null ? 0 : 1)), 1);
    b.appendUint32(lw.offset);
    b.appendBytes(lw.getBytes());
  };
  const rowGroups = [];
  let g0 = 0;
  for (const len of groups) {
    const columns: ColumnChunk[] = [];
    // id
    let start = w.offset;
    for (let p = g0; p < g0 + len; p += pageRows) {
      const b = new ByteWriter();
      for (const s of ids.slice(p, Math.min(g0 + len, p + pageRows))) {
        const e = enc.encode(s);
        b.appendUint32(e.length);
        b.appendBytes(e);
      }
      page('DATA_PAGE', b.getBytes().slice(), Math.min(pageRows, g0 + len - p), 'PLAIN');
    }
    columns.push(chunkMeta('id', 'BYTE_ARRAY', codec, len, start, w.offset, ['PLAIN']));
    // v
    start = w.offset;
    for (let p = g0; p < g0 + len; p += pageRows) {
      const vals = v.slice(p, Math.min(g0 + len, p + pageRows));
      const b = new ByteWriter();
      defLevels(b, vals);
      for (const x of vals) if (x !== null) b.appendFloat64(x);
      page('DATA_PAGE', b.getBytes().slice(), vals.length, 'PLAIN');
    }
    columns.push(chunkMeta('v', 'DOUBLE', codec, len, start, w.offset, ['PLAIN', 'RLE']));
    // d: dictionary page, then PLAIN_DICTIONARY data pages
    start = w.offset;
    const dict = [...new Set(d.slice(g0, g0 + len).filter((x): x is number => x !== null))];
    const db = new ByteWriter();
    for (const x of dict) db.appendFloat64(x);
    page('DICTIONARY_PAGE', db.getBytes().slice(), dict.length, 'PLAIN');
    const dataStart = w.offset;
    const width = Math.max(1, Math.ceil(Math.log2(dict.length)));
    for (let p = g0; p < g0 + len; p += pageRows) {
      const vals = d.slice(p, Math.min(g0 + len, p + pageRows));
      const b = new ByteWriter();
      defLevels(b, vals);
      b.appendUint8(width);
      writeRleBitPackedHybrid(b, vals.filter((x) => x !== null).map((x) => dict.findIndex((y) => Object.is(x, y))), width);
      page('DATA_PAGE', b.getBytes().slice(), vals.length, 'PLAIN_DICTIONARY');
    }
    const cd = chunkMeta('d', 'DOUBLE', codec, len, start, w.offset, ['PLAIN_DICTIONARY', 'RLE']);
    cd.meta_data!.dictionary_page_offset = BigInt(start);
    cd.meta_data!.data_page_offset = BigInt(dataStart);
    columns.push(cd);
    rowGroups.push({ columns, num_rows: BigInt(len), total_byte_size: BigInt(w.offset - Number(columns[0].file_offset)) });
    g0 += len;
  }
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 3 },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'v', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'd', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  ];
  writeMetadata(w, { version: 1, schema, num_rows: BigInt(g0), row_groups: rowGroups, metadata_length: 0 } as FileMetaData);
  w.appendUint32(0x31524150);
  return w.getBuffer();
}

function chunkMeta(name: string, type: 'DOUBLE' | 'BYTE_ARRAY', codec: CompressionCodec, rows: number, start: number, end: number, encodings: ('PLAIN' | 'RLE' | 'PLAIN_DICTIONARY')[]): ColumnChunk {
  return {
    file_offset: BigInt(start),
    meta_data: { type, encodings, path_in_schema: [name], codec, num_values: BigInt(rows), total_uncompressed_size: BigInt(end - start), total_compressed_size: BigInt(end - start), data_page_offset: BigInt(start) },
  };
}

// ---------------------------------------------------------------------------------------------

const DOUBLE_KEYS = ['price', 'previousPrice', 'changePct', 'winProbability', 'expectedProfit', 'delta', 'gamma', 'vega', 'priceStdError'] as const;
const DOUBLE_NAMES = ['price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error'] as const;

/** Random prices: grid prices (dictionary path) and continuous columns (PLAIN), NaN/Infinity/-0 sprinkled in. */
function randomPrices(n: number, seed: number): { ids: string[]; p: PriceColumns } {
  const r = rng(seed);
  const p = emptyPriceColumns(n);
  const weird = [NaN, Infinity, -Infinity, -0, 0];
  for (let i = 0; i < n; i++) {
    p.price[i] = Math.round((13 + r() * 12) * 100) / 100;
    p.previousPrice[i] = [0, -0, 18.5, 19, 20.25][i % 5];
    p.changePct[i] = (r() - 0.5) * 60;
    p.winProbability[i] = r();
    p.expectedProfit[i] = r() * 10 - 2;
    p.delta[i] = -r();
    p.gamma[i] = -r() * 1e-3;
    p.vega[i] = r() * 1e5;
    p.priceStdError[i] = r() < 0.5 ? NaN : r(); // half null
    for (const k of DOUBLE_KEYS) if (r() < 0.03) p[k][i] = weird[Math.floor(r() * weird.length)];
    p.status[i] = i % STATUSES.length;
    p.reasons[i] = (i * 37) % (1 << REASONS.length);
  }
  p.price[7] = NaN; // a null in a dictionary-encoded column
  const ids = Array.from({ length: n }, (_, i) => (i === 3 ? '' : `${IDS[i % IDS.length]}/${i}`));
  return { ids, p };
}

function expectRowsEqual(back: Record<string, unknown>[], ids: string[], p: PriceColumns, from = 0): void {
  for (let i = 0; i < p.n; i++) {
    const row = back[from + i];
    const at = `row ${from + i}`;
    if (row.product_id !== ids[i]) expect(row.product_id, at).toBe(ids[i]);
    DOUBLE_KEYS.forEach((k, j) => {
      const v = p[k][i];
      const want = Number.isFinite(v) ? v : null;
      if (!Object.is(row[DOUBLE_NAMES[j]], want)) expect(row[DOUBLE_NAMES[j]], `${DOUBLE_NAMES[j]} ${at}`).toBe(want);
    });
    if (row.status !== STATUSES[p.status[i]]) expect(row.status, at).toBe(STATUSES[p.status[i]]);
    if (row.reason !== reasonString(p.reasons[i])) expect(row.reason, at).toBe(reasonString(p.reasons[i]));
  }
}

describe('fast Parquet writer', () => {
  it('a row group reads back through hyparquet with every value (non-finite -> null), every status and reason mask, and the statistics hyparquet-writer writes', async () => {
    const { ids, p } = randomPrices(1 << REASONS.length, 11);
    const files: Record<string, FileMetaData> = {};
    for (const [name, encode] of [
      ['fast', encodePriceRowGroup],
      ['hyparquet', encodePriceRowGroupHyparquet],
    ] as const) {
      const path = join(dir, `one-${name}.parquet`);
      const w = new ParquetPriceWriter(path);
      w.append(encode(ids, p));
      w.finish();
      const buf = new Uint8Array((await import('node:fs')).readFileSync(path)).buffer;
      files[name] = parquetMetadata(buf);
      const back = (await parquetReadObjects({ file: memoryFile(buf) })) as Record<string, unknown>[];
      expect(back.length).toBe(p.n);
      // (hyparquet-writer's dictionary keys values with SameValueZero, so it writes -0 as 0)
      if (name === 'fast') expectRowsEqual(back, ids, p);
    }
    const fast = files.fast.row_groups[0].columns;
    const ref = files.hyparquet.row_groups[0].columns;
    expect(fast.map((c) => c.meta_data!.path_in_schema[0])).toEqual(ref.map((c) => c.meta_data!.path_in_schema[0]));
    for (let j = 0; j < fast.length; j++) {
      const a = fast[j].meta_data!;
      const b = ref[j].meta_data!;
      expect(a.num_values).toBe(b.num_values);
      for (const k of ['min_value', 'max_value', 'null_count'] as const) expect(Object.is(a.statistics?.[k], b.statistics?.[k]), `${a.path_in_schema[0]} ${k}: ${String(a.statistics?.[k])} vs ${String(b.statistics?.[k])}`).toBe(true);
    }
    // the few-valued previous_price (with -0 and 0 kept apart) went through the dictionary, the continuous ones PLAIN
    expect(fast[2].meta_data!.encodings).toContain('RLE_DICTIONARY');
    expect(fast[4].meta_data!.encodings).toEqual(['PLAIN']);
  });

  it('ids written from raw bytes give the same row group, byte for byte, as from strings', () => {
    const { ids, p } = randomPrices(3000, 12);
    const enc = new TextEncoder();
    const parts = ids.map((id) => enc.encode(id));
    const total = parts.reduce((n, b) => n + b.length, 0);
    const ib = { bytes: new Uint8Array(total), used: total, start: new Int32Array(ids.length), len: new Int32Array(ids.length) };
    let o = 0;
    parts.forEach((b, i) => {
      ib.bytes.set(b, o);
      ib.start[i] = o;
      ib.len[i] = b.length;
      o += b.length;
    });
    const fromStrings = encodePriceRowGroup(ids, p);
    const fromBytes = encodePriceRowGroup([], p, ib);
    expect(Buffer.from(fromBytes.bytes).equals(Buffer.from(fromStrings.bytes))).toBe(true);
    expect(fromBytes.rowGroup).toEqual(fromStrings.rowGroup);
  });

  it('ParquetPriceWriter assembles several fast row groups (incl. 1 row and all-null columns) into a file hyparquet reads whole and by range', async () => {
    const parts = [randomPrices(700, 1), randomPrices(1, 2), randomPrices(2000, 3), randomPrices(65, 4)];
    parts[3].p.vega.fill(NaN);
    parts[3].p.price.fill(Infinity);
    const path = join(dir, 'assembled-fast.parquet');
    const w = new ParquetPriceWriter(path);
    for (const { ids, p } of parts) w.append(encodePriceRowGroup(ids, p));
    w.finish();
    const buf = new Uint8Array((await import('node:fs')).readFileSync(path)).buffer;
    const meta = parquetMetadata(buf);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(parts.map((x) => x.p.n));
    const back = (await parquetReadObjects({ file: memoryFile(buf) })) as Record<string, unknown>[];
    let from = 0;
    for (const { ids, p } of parts) {
      expectRowsEqual(back, ids, p, from);
      from += p.n;
    }
    expect(back.length).toBe(from);
    const mid = (await parquetReadObjects({ file: memoryFile(buf), rowStart: 650, rowEnd: 760 })) as Record<string, unknown>[];
    expect(mid).toEqual(back.slice(650, 760));
    // and the fast reader reads the doubles back too
    await compareWithHyparquet(buf, [{ name: 'product_id', kind: 'string' }, ...DOUBLE_NAMES.map((name): TestColumn => ({ name, kind: 'number' }))], 0, from);
  });
});

// ---------------------------------------------------------------------------------------------

// The batch worker reads with its WASM core: feature pages are then decompressed into WASM memory
// and laid out by a kernel. Every check below runs both ways.
const wasmCore = WasmCore.create({ variant: 'simd' });
for (const mode of ['plain arrays', 'WASM core'] as const) describe(`readParquetChunk (${mode}): fast path equals the hyparquet path, bad values fall back and are named`, () => {
  const N = 900;
  const features = ['f1', 'f2'];
  type Col = { name: string; data: unknown[]; el?: Partial<SchemaElement> };
  function catalog(r: () => number): Col[] {
    return [
      { name: 'product_id', data: Array.from({ length: N }, (_, i) => `${IDS[i % IDS.length]}-${i}`) },
      { name: 'f1', data: Array.from({ length: N }, () => Math.round(r() * 2e4) / 1e4 - 1) },
      { name: 'f2', data: Array.from({ length: N }, () => r() * 2 - 1) },
      { name: 'cost', data: Array.from({ length: N }, () => (r() < 0.1 ? null : 8 + r() * 8)) },
      { name: 'current_price', data: Array.from({ length: N }, () => (r() < 0.1 ? null : Math.round((18 + r() * 6) * 100) / 100)) },
      { name: 'min_price', data: Array.from({ length: N }, () => (r() < 0.9 ? null : 9)) },
      { name: 'max_price', data: Array.from({ length: N }, () => (r() < 0.9 ? null : 30)) },
    ];
  }
  let fileNo = 0;
  function writeCatalog(cols: Col[]): string {
    const schema: SchemaElement[] = [
      { name: 'root', num_children: cols.length },
      ...cols.map((c): SchemaElement => ({ name: c.name, ...(c.name === 'product_id' ? { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } : { type: 'DOUBLE', repetition_type: 'OPTIONAL' }), ...c.el })),
    ];
    const path = join(dir, `catalog-${fileNo++}.parquet`);
    writeFileSync(path, new Uint8Array(parquetWriteBuffer({ schema, columnData: cols.map((c) => ({ name: c.name, data: c.data })), rowGroupSize: 400, pageSize: 2048 })));
    return path;
  }
  function options(path: string, rowStart: number, rowEnd: number, onError: 'fail' | 'skip', header: string[]): ParquetReadOptions {
    const base = { file: path, layout: resolveLayout(path, header, features), featureNames: features, intercept: true, rowStart, rowEnd, onError };
    return mode === 'WASM core' ? { ...base, alloc: (n) => wasmCore.arena.f64(n), core: wasmCore } : { ...base, alloc: (n) => new Float64Array(n) };
  }

  const header = ['product_id', 'f1', 'f2', 'cost', 'current_price', 'min_price', 'max_price'];

  it('valid catalogue: the fast reader is taken and its chunks equal the hyparquet path for ranges in and across groups', async () => {
    const path = writeCatalog(catalog(rng(5)));
    for (const [a, b] of [[0, 400], [400, 800], [800, 900], [13, 777], [399, 401]] as const) {
      const o = options(path, a, b, 'fail', header);
      const fast = await outcome(readParquetChunk, o);
      expect(fast).toEqual(await outcome(readParquetChunkHyparquet, o));
      expect(fast).not.toHaveProperty('error');
      expect((await readParquetChunk(o)).fastPathDeclined, `[${a}, ${b}) read by the fast path`).toBeUndefined();
      // with only the metadata of the range (what the batch job sends a worker): the same chunk
      const meta = parquetTaskMeta(await openParquet(path), a, b);
      expect(meta.row_groups.length).toBeLessThanOrEqual(3);
      expect(await outcome(readParquetChunk, { ...o, meta })).toEqual(fast);
    }
    const file = fileAsyncBuffer(path);
    const meta = parquetMetadata(await file.slice(0));
    const { chunk } = await readCatalogFast({ file, meta, idColumn: 'product_id', featureColumns: features, costColumn: 'cost', currentPriceColumn: 'current_price', intercept: false, rowStart: 10, rowEnd: 20, alloc: (n) => new Float64Array(n) });
    expect(chunk?.n).toBe(10);
    expect(Array.from(chunk!.minPrice).every((v) => Number.isNaN(v))).toBe(true); // column not asked for: empty
    // ids as raw bytes (the batch job's way): the same ids, byte for byte, and the same numbers
    for (const [a, b] of [[0, 900], [13, 777], [399, 401]] as const) {
      const o = options(path, a, b, 'fail', header);
      const asStrings = await readParquetChunk(o);
      const asBytes = await readParquetChunk({ ...o, idsAsBytes: true });
      const ib = asBytes.idBytes!;
      expect(asBytes.chunk.ids).toEqual([]);
      const decoded = Array.from({ length: b - a }, (_, i) => new TextDecoder().decode(ib.bytes.subarray(ib.start[i], ib.start[i] + ib.len[i])));
      expect(decoded).toEqual(asStrings.chunk.ids);
      expect(Array.from(asBytes.chunk.x)).toEqual(Array.from(asStrings.chunk.x));
    }
    // a dictionary-encoded id column reads the same way
    const dictIds = Array.from({ length: N }, (_, i) => IDS[i % IDS.length]);
    const dictPath = writeCatalog([{ name: 'product_id', data: dictIds }, ...catalog(rng(6)).slice(1)]);
    const od = options(dictPath, 5, 805, 'fail', header);
    const db = await readParquetChunk({ ...od, idsAsBytes: true });
    const dib = db.idBytes!;
    expect(Array.from({ length: 800 }, (_, i) => new TextDecoder().decode(dib.bytes.subarray(dib.start[i], dib.start[i] + dib.len[i])))).toEqual(dictIds.slice(5, 805));
  });

  it('a corrupt feature page: the same outcome as the hyparquet path (the fast path never reads it differently)', async () => {
    const path = writeCatalog(catalog(rng(12)));
    const bytes = new Uint8Array(readFileSync(path));
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const md = meta.row_groups[1].columns.find((c) => c.meta_data!.path_in_schema[0] === 'f2')!.meta_data!;
    const start = Number(md.data_page_offset);
    const mid = start + Math.floor(Number(md.total_compressed_size) / 2);
    for (const [what, at] of [['page body', mid], ['page start', start + 12]] as const) {
      const spoiled = bytes.slice();
      spoiled.fill(0xff, at, at + 24);
      const bad = join(dir, `corrupt-${mode === 'WASM core' ? 'w' : 'p'}-${at}.parquet`);
      writeFileSync(bad, spoiled);
      for (const [a, b] of [[0, 900], [400, 800]] as const) {
        const o = options(bad, a, b, 'fail', header);
        const got = (await outcome(readParquetChunk, o)) as { error?: string; code?: string };
        expect(got, `${what} [${a}, ${b})`).toEqual(await outcome(readParquetChunkHyparquet, o));
        expect(got.code, `${what} [${a}, ${b})`).toBe('INPUT_UNREADABLE');
        expect(got.error).toContain(`${bad}: rows ${a + 1}-${b}: not readable Parquet (`);
      }
    }
  });

  const cases: [string, (cols: Col[]) => void][] = [
    ['a null feature', (c) => (c[1].data[417] = null)],
    ['a NaN feature', (c) => (c[2].data[5] = NaN)],
    ['an infinite cost', (c) => (c[3].data[650] = Infinity)],
    ['a NaN cost', (c) => (c[3].data[651] = NaN)],
    ['a negative current price', (c) => (c[4].data[123] = -0.01)],
    ['a NaN max price', (c) => (c[6].data[899] = NaN)],
    ['an empty product id', (c) => (c[0].data[401] = '')],
    ['a null product id', (c) => (c[0].data[0] = null)],
    ['numbers as strings in a feature column (hyparquet path parses them)', (c) => {
      c[1].data = c[1].data.map((v) => String(v));
      c[1].el = { type: 'BYTE_ARRAY', converted_type: 'UTF8' };
      c[1].data[77] = 'abc';
    }],
  ];
  for (const [what, spoil] of cases) {
    it(`${what}: same error (row and column named) with --on-error fail, same rejects and rows with skip`, async () => {
      const cols = catalog(rng(9));
      spoil(cols);
      const path = writeCatalog(cols);
      for (const [a, b] of [[0, 900], [0, 400], [400, 800], [800, 900]] as const) {
        for (const onError of ['fail', 'skip'] as const) {
          const o = options(path, a, b, onError, header);
          const want = await outcome(readParquetChunkHyparquet, o);
          expect(await outcome(readParquetChunk, o), `[${a}, ${b}) ${onError}`).toEqual(want);
          // rows named absolutely with only the range's metadata, on both paths
          const meta = parquetTaskMeta(await openParquet(path), a, b);
          expect(await outcome(readParquetChunk, { ...o, meta }), `[${a}, ${b}) ${onError}, task metadata`).toEqual(want);
          expect(await outcome(readParquetChunkHyparquet, { ...o, meta }), `[${a}, ${b}) ${onError}, task metadata, hyparquet`).toEqual(want);
        }
      }
      const failed = (await outcome(readParquetChunk, options(path, 0, 900, 'fail', header))) as { error?: string; code?: string };
      expect(failed.code).toBe('INPUT_ROW_INVALID');
      expect(failed.error).toMatch(/: row \d+: column \w+: expected /);
    });
  }
});

describe('readParquetChunk, property: the WASM-core path, the plain path and hyparquet agree on any catalogue', () => {
  const core = WasmCore.create({ variant: 'simd' });
  const special = [NaN, Infinity, -Infinity, -0, 0, 1e-310, -1e308];
  // each column clean or dirty on its own, so a bad value in one column is not always masked by
  // another (a chunk with any bad value goes to the hyparquet path as a whole)
  const value = (dirty: boolean, min: number) =>
    fc.oneof(
      { weight: 12, arbitrary: fc.double({ min, max: 1e3, noNaN: true }) },
      { weight: 4, arbitrary: fc.integer({ min: min * 100, max: 5000 }).map((k) => k / 100) },
      { weight: dirty ? 2 : 0, arbitrary: fc.constantFrom(...special) },
    );
  const column = (n: number, nulls: boolean, min = -1e3) =>
    fc.boolean().chain((dirty) => fc.array(nulls ? fc.option(value(dirty, min), { freq: 8 }) : value(dirty, min), { minLength: n, maxLength: n }));
  const header = ['product_id', 'f1', 'f2', 'cost', 'current_price', 'min_price', 'max_price'];
  let k = 0;

  it('random values (NaN, infinities, nulls, cents), codecs, page and row-group sizes, row ranges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            f1: column(n, false),
            f2: column(n, true),
            cost: column(n, true),
            price: column(n, true, 0),
            codec: fc.constantFrom<CompressionCodec>('SNAPPY', 'UNCOMPRESSED'),
            pageSize: fc.constantFrom(128, 512, 1 << 20),
            group: fc.integer({ min: Math.max(1, n >> 2), max: n }),
            // whole pages are what the WASM path decodes: often the whole file or whole groups
            range: fc.oneof(
              fc.constant([0, n] as const),
              fc.tuple(fc.nat({ max: n - 1 }), fc.nat({ max: n - 1 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b) + 1] as const),
            ),
            wholeGroup: fc.boolean(),
            onError: fc.constantFrom<'fail' | 'skip'>('fail', 'skip'),
          }),
        ),
        async (c) => {
          const schema: SchemaElement[] = [
            { name: 'root', num_children: 7 },
            { name: 'product_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
            { name: 'f1', type: 'DOUBLE', repetition_type: 'REQUIRED' },
            ...['f2', 'cost', 'current_price', 'min_price', 'max_price'].map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' })),
          ];
          const ids = Array.from({ length: c.n }, (_, i) => `SKU-${i % 37}`);
          const buf = parquetWriteBuffer({
            schema,
            codec: c.codec,
            pageSize: c.pageSize,
            rowGroupSize: c.group,
            columnData: [
              { name: 'product_id', data: ids },
              { name: 'f1', data: c.f1 },
              { name: 'f2', data: c.f2 },
              { name: 'cost', data: c.cost },
              { name: 'current_price', data: c.price },
              { name: 'min_price', data: c.price.map((v) => (v === null ? null : v * 0.5)) },
              { name: 'max_price', data: c.price.map(() => null) },
            ],
          });
          const path = join(dir, `prop-${k++}.parquet`);
          writeFileSync(path, new Uint8Array(buf));
          let [a, b] = c.range;
          if (c.wholeGroup) [a, b] = [Math.floor(a / c.group) * c.group, Math.min(c.n, (Math.floor(a / c.group) + 1) * c.group)];
          const base = { file: path, layout: resolveLayout(path, header, ['f1', 'f2']), featureNames: ['f1', 'f2'], intercept: true, rowStart: a, rowEnd: b, onError: c.onError };
          const want = await outcome(readParquetChunkHyparquet, { ...base, alloc: (m) => new Float64Array(m) });
          expect(await outcome(readParquetChunk, { ...base, alloc: (m) => new Float64Array(m) })).toEqual(want);
          const mark = core.arena.mark();
          try {
            const meta = parquetTaskMeta(await openParquet(path), a, b);
            const gotW = await outcome(readParquetChunk, { ...base, alloc: (m) => core.arena.f64(m), core, meta, idsAsBytes: false });
            expect(gotW).toEqual(want);
          } finally {
            core.arena.release(mark);
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});
