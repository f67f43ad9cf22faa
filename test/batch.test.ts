import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { runReprice } from '../src/batch/job.js';
import { CSV_DECLINED } from '../src/batch/catalogTask.js';
import { writeDemoCatalog, writeDemoModel, demoModel, rng } from '../src/batch/demoData.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk } from '../src/pricing/engine.js';
import { priceRecord } from '../src/records/formatChunk.js';
import { WasmCore } from '../src/core/wasm.js';
import type { Policy } from '../src/pricing/policy.js';

const spec = { products: 300, features: 4, seed: 7 };
let dir: string;
let modelPath: string;
let catalogPath: string;
const ROWS = 3000;
const policy: Policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-batch-'));
  modelPath = join(dir, 'model.json');
  catalogPath = join(dir, 'catalog.csv');
  writeDemoModel(modelPath, spec);
  await writeDemoCatalog(catalogPath, ROWS, spec);
});

type Row = Record<string, string>;
const readCsv = (f: string): Row[] => parse(readFileSync(f, 'utf8'), { columns: true }) as Row[];

/** The single-quote path: one row at a time through the engine on the main thread. */
function singleQuote(row: Row, pol: Policy): Record<string, unknown> {
  const core = WasmCore.create();
  const cm = compileModel(demoModel(spec));
  const num = (s: string | undefined) => (s === undefined || s === '' ? NaN : Number(s));
  const x = new Float64Array([1, ...cm.features.map((f) => Number(row[f]))]);
  const p = priceChunk(core, cm, pol, {
    n: 1,
    ids: [row.product_id],
    x,
    cost: new Float64Array([num(row.cost)]),
    currentPrice: new Float64Array([num(row.current_price)]),
    minPrice: new Float64Array([num(row.min_price)]),
    maxPrice: new Float64Array([num(row.max_price)]),
  });
  return priceRecord(row.product_id, p, 0) as unknown as Record<string, unknown>;
}

describe('priceChunk when the arena has to grow', () => {
  it('gives the same prices wherever in the chunk the WASM memory grows', () => {
    const cm = compileModel(demoModel(spec));
    const n = 1000;
    const r = rng(3);
    const D = cm.D;
    const chunk = {
      n,
      ids: Array.from({ length: n }, (_, i) => `SKU-${i % 300}`),
      x: Float64Array.from({ length: n * D }, (_, i) => (i % D === 0 ? 1 : r() * 2 - 1)),
      cost: Float64Array.from({ length: n }, () => 8 + r() * 8),
      currentPrice: Float64Array.from({ length: n }, () => 18 + r() * 6),
      minPrice: new Float64Array(n).fill(NaN),
      maxPrice: new Float64Array(n).fill(NaN),
    };
    const want = priceChunk(WasmCore.create(), cm, policy, chunk);
    const core = WasmCore.create();
    // leave 0 .. 160 KiB of room before the memory's end, so each allocation of priceChunk in
    // turn is the one that grows it
    for (let room = 0; room < 160 * 1024; room += 512) {
      const mark = core.arena.mark();
      const free = core.memory.buffer.byteLength - mark;
      core.arena.allocBytes(Math.max(0, free - room - 16));
      const got = priceChunk(core, cm, policy, chunk);
      core.arena.release(mark);
      expect(Array.from(got.price), `room ${room}`).toEqual(Array.from(want.price));
      expect(Array.from(got.priceStdError)).toEqual(Array.from(want.priceStdError));
    }
  });
});

describe('reprice: real files, real workers', () => {
  it('every output row equals the single-quote path for that row, in input order (2 workers, small chunks)', async () => {
    const out = join(dir, 'prices.csv');
    const s = await runReprice({ modelPath, catalogPath, outPath: out, workers: 2, chunkSize: 257, policy });
    expect(s.rows).toBe(ROWS);
    const input = readCsv(catalogPath);
    const output = readCsv(out);
    expect(output.length).toBe(ROWS);
    const core = WasmCore.create();
    void core;
    for (let i = 0; i < ROWS; i += 7) {
      expect(output[i].product_id).toBe(input[i].product_id);
      const ref = singleQuote(input[i], policy);
      for (const [k, v] of Object.entries(ref)) {
        const got = output[i][k];
        if (v === null) expect(got, `${k} row ${i}`).toBe('');
        else expect(got, `${k} row ${i}`).toBe(String(v));
      }
    }
    expect(s.status.cold_start + s.status.clipped + s.status.ok + s.status.held).toBe(ROWS);
    const cold = output.filter((r) => r.product_id.startsWith('NEW-'));
    expect(cold.length).toBeGreaterThan(0);
    expect(cold.every((r) => r.reason.includes('cold_start'))).toBe(true);
    expect(output.every((r) => Number.isFinite(Number(r.price)) && r.price !== '')).toBe(true);
  });

  it('1 worker and 2 workers give byte-identical output', async () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    await runReprice({ modelPath, catalogPath, outPath: a, workers: 1, chunkSize: 1000, policy });
    await runReprice({ modelPath, catalogPath, outPath: b, workers: 2, chunkSize: 333, policy });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('a per-product policy and a quoted chunk give the single-quote result on the WASM and the JavaScript paths alike', async () => {
    const input = readCsv(catalogPath).slice(0, 600);
    const ids = [...new Set(input.map((r) => r.product_id))].slice(0, 40);
    const pol: Policy = { ...policy, products: Object.fromEntries(ids.map((id) => [id, { min: 25, max: 26 }])) };
    // rows 300.. carry a quoted id, so that chunk takes the JavaScript path (csv-parse)
    const text = readFileSync(catalogPath, 'utf8').split('\n').slice(0, 601);
    for (let i = 301; i <= 600; i++) text[i] = text[i].replace(/^([^,]*),/, '"$1",');
    const cat = join(dir, 'quoted.csv');
    writeFileSync(cat, text.join('\n') + '\n');
    const out = join(dir, 'quoted-out.csv');
    const summary = await runReprice({ modelPath, catalogPath: cat, outPath: out, workers: 2, chunkSize: 300, policy: pol });
    // the quoted chunk (rows 300..599) went to the JavaScript parser, and the summary says so
    expect(summary.fallbacks).toEqual({ chunks: 1, reasons: { [CSV_DECLINED]: 1 } });
    const output = readCsv(out);
    expect(output.length).toBe(600);
    for (let i = 0; i < 600; i += 3) {
      const ref = singleQuote(input[i], pol);
      for (const [k, v] of Object.entries(ref)) expect(output[i][k], `${k} row ${i}`).toBe(v === null ? '' : String(v));
    }
    expect(output.filter((r) => ids.includes(r.product_id)).every((r) => Number(r.price) >= 25 && Number(r.price) <= 26)).toBe(true);
  });

  it('a chunk larger than the 8 MiB read buffer, and output larger than its slot, change no byte', async () => {
    // 160 000 rows (> 8 MiB) in one chunk grows the staging buffer; a narrow catalogue (ids and
    // features only) formats to far more bytes than it reads, overflowing the first output slot
    const big = join(dir, 'big.csv');
    await writeDemoCatalog(big, 160_000, spec);
    const narrow = join(dir, 'narrow.csv');
    writeFileSync(narrow, readFileSync(big, 'utf8').split('\n').map((l) => l.split(',').slice(0, 5).join(',')).join('\n'));
    for (const cat of [big, narrow]) {
      const a = join(dir, 'one-chunk.csv');
      const b = join(dir, 'small-chunks.csv');
      await runReprice({ modelPath, catalogPath: cat, outPath: a, workers: 1, chunkSize: 200_000, policy });
      await runReprice({ modelPath, catalogPath: cat, outPath: b, workers: 2, chunkSize: 777, policy });
      expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
      expect(readFileSync(a, 'utf8').split('\n').length).toBe(160_002);
    }
    const first = readCsv(narrow)[0];
    expect(readCsv(join(dir, 'one-chunk.csv'))[0].price).toBe(String(singleQuote(first, policy).price));
  });

  it('NDJSON in and out carries the same numbers as CSV', async () => {
    const input = readCsv(catalogPath).slice(0, 500);
    const nd = join(dir, 'cat.ndjson');
    writeFileSync(nd, input.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'p.ndjson');
    await runReprice({ modelPath, catalogPath: nd, outPath: out, workers: 2, chunkSize: 100, policy });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.length).toBe(500);
    for (let i = 0; i < 500; i += 50) expect(recs[i]).toEqual(singleQuote(input[i], policy));
  });

  it('NDJSON output is JSON.stringify of each record, byte for byte (written in WASM; a chunk with an id JSON escapes goes through JSON.stringify)', async () => {
    const input = readCsv(catalogPath).slice(0, 300);
    input[120] = { ...input[120], product_id: 'odd"id\\x' };
    input[7] = { ...input[7], product_id: 'ünï-😀' };
    const nd = join(dir, 'cat2.ndjson');
    writeFileSync(nd, input.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'p2.ndjson');
    await runReprice({ modelPath, catalogPath: nd, outPath: out, workers: 2, chunkSize: 100, policy });
    expect(readFileSync(out, 'utf8')).toBe(input.map((r) => JSON.stringify(singleQuote(r, policy)) + '\n').join(''));
  });

  it('a malformed row stops the job naming file, line and column; no partial or temporary output', async () => {
    const lines = readFileSync(catalogPath, 'utf8').split('\n');
    lines[1500] = lines[1500].replace(/^([^,]*),([^,]*),/, '$1,abc,');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, lines.join('\n'));
    const out = join(dir, 'bad-out.csv');
    const err = await runReprice({ modelPath, catalogPath: bad, outPath: out, workers: 2, chunkSize: 100, policy }).catch((e: unknown) => e as Error & { code?: string });
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('INPUT_ROW_INVALID');
    expect((err as Error).message).toContain(`${bad}:1501: column f1: expected a finite number, got "abc"`);
    expect(readdirSync(dir).filter((f) => f.includes('bad-out'))).toEqual([]);
  });

  it('--on-error skip sends bad rows to a rejects file and continues', async () => {
    const lines = readFileSync(catalogPath, 'utf8').split('\n');
    lines[10] = lines[10].replace(/^([^,]*),([^,]*),/, '$1,,');
    lines[20] = lines[20].replace(/,([^,]*)$/, ',-5');
    const bad = join(dir, 'skip.csv');
    writeFileSync(bad, lines.join('\n'));
    const out = join(dir, 'skip-out.csv');
    const s = await runReprice({ modelPath, catalogPath: bad, outPath: out, workers: 2, chunkSize: 64, policy, onError: 'skip' });
    expect(s.rejects).toBe(2);
    expect(s.rows).toBe(ROWS - 2);
    const rej = readCsv(`${out}.rejects.csv`);
    expect(rej.map((r) => r.line)).toEqual(['11', '21']);
    expect(rej[0].reason).toMatch(/column f1/);
    expect(rej[1].reason).toMatch(/column max_price/);
  });

  it('a worker that crashes gets its chunk retried once', async () => {
    const marker = join(dir, 'crash.marker');
    process.env.CRASH_SEQ = '3';
    process.env.CRASH_MARKER = marker;
    const out = join(dir, 'crash-out.csv');
    const ref = join(dir, 'crash-ref.csv');
    const workerFile = new URL('./fixtures/crashingWorker.mjs', import.meta.url).pathname;
    const s = await runReprice({ modelPath, catalogPath, outPath: out, workers: 2, chunkSize: 200, policy, workerFile });
    expect(existsSync(marker)).toBe(true);
    expect(s.retries).toBe(1);
    await runReprice({ modelPath, catalogPath, outPath: ref, workers: 2, chunkSize: 200, policy });
    expect(readFileSync(out).equals(readFileSync(ref))).toBe(true);
  });

  it('a chunk that crashes twice fails the job cleanly with no output', async () => {
    process.env.CRASH_SEQ = '2';
    delete process.env.CRASH_MARKER;
    const out = join(dir, 'crash2-out.csv');
    const workerFile = new URL('./fixtures/crashingWorker.mjs', import.meta.url).pathname;
    const err = await runReprice({ modelPath, catalogPath, outPath: out, workers: 2, chunkSize: 200, policy, workerFile }).catch((e: unknown) => e as { code?: string });
    expect(err.code).toBe('WORKER_CRASHED');
    expect(readdirSync(dir).filter((f) => f.includes('crash2-out'))).toEqual([]);
    delete process.env.CRASH_SEQ;
  });

  it('temporary files of this output left by a killed run are removed and reported; those of a live process are kept', async () => {
    const out = join(dir, 'stale-out.csv');
    let dead = 4_000_000;
    const isAlive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    };
    while (isAlive(dead)) dead--;
    const stale = join(dir, `.stale-out.csv.${dead}.tmp`);
    const live = join(dir, `.stale-out.csv.${process.ppid}.tmp`);
    const other = join(dir, `.other.csv.${dead}.tmp`);
    for (const f of [stale, live, other]) writeFileSync(f, 'partial');
    const s = await runReprice({ modelPath, catalogPath, outPath: out, workers: 1, policy });
    expect(s.staleTempsRemoved).toEqual([stale]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(out)).toBe(true);
    for (const f of [live, other]) rmSync(f);
  });

  it('an interrupt (abort) stops cleanly and leaves no partial output', async () => {
    const out = join(dir, 'int-out.csv');
    const ac = new AbortController();
    const err = await runReprice({
      modelPath, catalogPath, outPath: out, workers: 2, chunkSize: 50, policy, signal: ac.signal,
      onProgress: (rows) => { if (rows >= 100) ac.abort(); },
    }).catch((e: unknown) => e as { code?: string });
    expect(err.code).toBe('INTERRUPTED');
    expect(readdirSync(dir).filter((f) => f.includes('int-out'))).toEqual([]);
  });

  it('a catalogue missing a model feature fails before writing', async () => {
    const bad = join(dir, 'nofeat.csv');
    writeFileSync(bad, 'product_id,f1,f2,f3,cost\nSKU-1,0,0,0,1\n');
    const err = await runReprice({ modelPath, catalogPath: bad, outPath: join(dir, 'nf.csv') }).catch((e: unknown) => e as Error & { code?: string });
    expect(err.code).toBe('FEATURES_MISMATCH');
    expect(err.message).toMatch(/missing column f4/);
    expect(existsSync(join(dir, 'nf.csv'))).toBe(false);
    rmSync(bad);
  });
});

describe('reprice: Parquet in and out', () => {
  it('Parquet -> CSV equals CSV -> CSV, CSV -> Parquet reads back the same numbers, bad values name row and column', async () => {
    const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const input = readCsv(catalogPath);
    const header = Object.keys(input[0]);
    const num = (s: string) => (s === '' ? null : Number(s));
    const writeCatalog = (file: string, rows: Row[]) => {
      const schema = [
        { name: 'root', num_children: header.length },
        ...header.map((h) => (h === 'product_id' ? { name: h, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const } : { name: h, type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const })),
      ];
      const w = new ParquetWriter({ writer: fileWriter(file), schema });
      w.write({ columnData: header.map((h) => ({ name: h, data: rows.map((r) => (h === 'product_id' ? r[h] : num(r[h]))) })), rowGroupSize: 700 });
      w.finish();
    };
    const pqIn = join(dir, 'cat.parquet');
    writeCatalog(pqIn, input);
    const a = join(dir, 'from-pq.csv');
    const b = join(dir, 'from-csv.csv');
    await runReprice({ modelPath, catalogPath: pqIn, outPath: a, workers: 2, chunkSize: 500, policy });
    await runReprice({ modelPath, catalogPath, outPath: b, workers: 2, chunkSize: 500, policy });
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));

    const pqOut = join(dir, 'prices.parquet');
    await runReprice({ modelPath, catalogPath, outPath: pqOut, workers: 2, chunkSize: 800, policy });
    const back = (await parquetReadObjects({ file: await asyncBufferFromFile(pqOut) })) as Record<string, unknown>[];
    const csv = readCsv(b);
    expect(back.length).toBe(csv.length);
    for (let i = 0; i < csv.length; i += 37) {
      for (const [k, v] of Object.entries(csv[i])) {
        const got = back[i][k];
        expect(got === null ? '' : String(got), `${k} row ${i}`).toBe(v);
      }
    }

    const bad = input.map((r) => ({ ...r }));
    bad[41].f2 = '';
    const pqBad = join(dir, 'bad.parquet');
    writeCatalog(pqBad, bad);
    const err = await runReprice({ modelPath, catalogPath: pqBad, outPath: join(dir, 'pq-bad.csv'), workers: 2, chunkSize: 10, policy }).catch((e: unknown) => e as Error & { code?: string });
    expect(err.code).toBe('INPUT_ROW_INVALID');
    expect(err.message).toBe(`${pqBad}: row 42: column f2: expected a finite number, got null`);
    expect(readdirSync(dir).filter((f) => f.includes('pq-bad'))).toEqual([]);
  });
});

describe('Parquet output: row groups encoded in the workers, assembled on the main thread', () => {
  it('Parquet -> Parquet with several row groups reads back every value of CSV -> CSV, one row group per chunk, same bytes for 1 and 2 workers', async () => {
    const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
    const { asyncBufferFromFile, parquetReadObjects, parquetMetadataAsync } = await import('hyparquet');
    const { parquetRanges } = await import('../src/records/parquet.js');
    const input = readCsv(catalogPath);
    const header = Object.keys(input[0]);
    const schema = [
      { name: 'root', num_children: header.length },
      ...header.map((h) => (h === 'product_id' ? { name: h, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const } : { name: h, type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const })),
    ];
    const pqIn = join(dir, 'rg-cat.parquet');
    const w = new ParquetWriter({ writer: fileWriter(pqIn), schema });
    w.write({ columnData: header.map((h) => ({ name: h, data: input.map((r) => (h === 'product_id' ? r[h] : r[h] === '' ? null : Number(r[h]))) })), rowGroupSize: 700 });
    w.finish();

    const csvOut = join(dir, 'rg-ref.csv');
    const out2 = join(dir, 'rg-2.parquet');
    const out1 = join(dir, 'rg-1.parquet');
    await runReprice({ modelPath, catalogPath, outPath: csvOut, workers: 2, chunkSize: 500, policy });
    await runReprice({ modelPath, catalogPath: pqIn, outPath: out2, workers: 2, chunkSize: 300, policy });
    await runReprice({ modelPath, catalogPath: pqIn, outPath: out1, workers: 1, chunkSize: 300, policy });
    expect(readFileSync(out1).equals(readFileSync(out2))).toBe(true);

    // tasks follow the input row groups (700 x 4 + 200), split to <= 300 rows: one output group each
    const ranges = parquetRanges([700, 700, 700, 700, 200], 300);
    expect(ranges.length).toBe(13);
    const file = await asyncBufferFromFile(out2);
    const meta = await parquetMetadataAsync(file);
    expect(meta.row_groups.length).toBe(ranges.length);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(ranges.map((r) => r.end - r.start));
    expect(Number(meta.num_rows)).toBe(ROWS);
    // column chunks lie in order inside the data region, after 'PAR1' and before the footer
    const bytes = readFileSync(out2);
    const footerStart = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
    let prevEnd = 4n;
    for (const g of meta.row_groups) {
      for (const c of g.columns) {
        const m = c.meta_data!;
        const start = m.dictionary_page_offset ?? m.data_page_offset;
        expect(start).toBe(prevEnd);
        expect(c.file_offset).toBe(start);
        prevEnd = start + m.total_compressed_size;
      }
    }
    expect(prevEnd).toBe(BigInt(footerStart));

    const csv = readCsv(csvOut);
    const back = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    expect(back.length).toBe(csv.length);
    for (let i = 0; i < csv.length; i++) {
      for (const [k, v] of Object.entries(csv[i])) {
        const got = back[i][k];
        expect(got === null ? '' : String(got), `${k} row ${i}`).toBe(v);
      }
    }
    // a row range inside a middle group, found through the shifted offsets
    const mid = (await parquetReadObjects({ file, rowStart: 1500, rowEnd: 1720 })) as Record<string, unknown>[];
    expect(mid).toEqual(back.slice(1500, 1720));
  });

  it('ParquetPriceWriter assembles row groups encoded separately; a reader sees every group and value (nulls for non-finite)', async () => {
    const { ParquetPriceWriter, encodePriceRowGroup } = await import('../src/records/parquet.js');
    const { emptyPriceColumns } = await import('../src/pricing/engine.js');
    const { STATUSES, reasonString } = await import('../src/pricing/policy.js');
    const { asyncBufferFromFile, parquetReadObjects, parquetMetadataAsync } = await import('hyparquet');
    const sizes = [5, 1, 40000, 17];
    const file = join(dir, 'assembled.parquet');
    const pw = new ParquetPriceWriter(file);
    const expected: Record<string, unknown>[] = [];
    const keys = ['price', 'previousPrice', 'changePct', 'winProbability', 'expectedProfit', 'delta', 'gamma', 'vega', 'priceStdError'] as const;
    const names = ['price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error'];
    let row = 0;
    for (const n of sizes) {
      const p = emptyPriceColumns(n);
      const ids: string[] = [];
      for (let i = 0; i < n; i++, row++) {
        ids.push(`sku-${row}`);
        const rec: Record<string, unknown> = { product_id: `sku-${row}` };
        keys.forEach((k, j) => {
          const v = (row + 1) * 1.25 + j / 7 - (row % 3);
          p[k][i] = (row + j) % 11 === 0 ? NaN : v;
          rec[names[j]] = Number.isFinite(p[k][i]) ? v : null;
        });
        p.status[i] = row % STATUSES.length;
        p.reasons[i] = row % 4;
        rec.status = STATUSES[p.status[i]];
        rec.reason = reasonString(p.reasons[i]);
        expected.push(rec);
      }
      // encode as a worker would, through a structured clone (as across the thread boundary)
      pw.append(structuredClone(encodePriceRowGroup(ids, p)));
    }
    pw.finish();
    const buf = await asyncBufferFromFile(file);
    const meta = await parquetMetadataAsync(buf);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(sizes);
    const back = (await parquetReadObjects({ file: buf })) as Record<string, unknown>[];
    expect(back).toEqual(expected);
  });
});
