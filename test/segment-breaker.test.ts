/**
 * The segment circuit breaker through both doors, with real parts: the batch job on real worker
 * threads over real files (every reader, every writer), the state file across runs, the CLI, and
 * the HTTP server on a real port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { runReprice } from '../src/batch/job.js';
import { demoModel, writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';
import { validatePolicy, type Policy } from '../src/pricing/policy.js';
import { loadState, BREAKER_STATE_FORMAT } from '../src/pricing/segmentState.js';
import { buildApp } from '../src/server/app.js';
import { requireDist, SPEC as spec } from './server-helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const ROWS = 3000;
let dir: string;
let modelPath: string;
let header: string[];
let base: string[][];

const policy: Policy = {
  rounding: { step: 0.01 },
  minMarginOverCost: 1.05,
  segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 30, resumeAfterRuns: 2 },
};

type Row = Record<string, string>;
const readCsv = (f: string): Row[] => parse(readFileSync(f, 'utf8'), { columns: true }) as Row[];
const segmentOf = (i: number) => (i % 3 === 0 ? 'toys' : i % 3 === 1 ? 'garden' : i % 7 === 0 ? ' ' : '');

/** The demo catalogue with a segment column; `shock` halves the current price of every toys row (their moves are then ~+100 %). */
function catalogue(shock: boolean): string[][] {
  const ci = header.indexOf('current_price');
  return base.map((r, i) => {
    const f = [...r];
    if (shock && segmentOf(i) === 'toys' && f[ci] !== '') f[ci] = String(Math.round(Number(f[ci]) * 50) / 100);
    return [...f, segmentOf(i)];
  });
}

function writeCsv(name: string, rows: string[][], quoteFirstId = false): string {
  const f = join(dir, name);
  const body = rows.map((r, i) => (quoteFirstId && i === 0 ? [`"${r[0]}"`, ...r.slice(1)] : r).join(','));
  writeFileSync(f, [[...header, 'segment'].join(','), ...body].join('\n') + '\n');
  return f;
}

function writeNdjson(name: string, rows: string[][]): string {
  const h = [...header, 'segment'];
  const f = join(dir, name);
  writeFileSync(f, rows.map((r) => JSON.stringify(Object.fromEntries(h.map((k, j) => [k, k === 'product_id' || k === 'segment' ? r[j] : r[j] === '' ? null : Number(r[j])])))).join('\n') + '\n');
  return f;
}

function writeParquet(name: string, rows: string[][]): string {
  const h = [...header, 'segment'];
  const buf = parquetWriteBuffer({
    columnData: h.map((k, j) =>
      k === 'product_id' || k === 'segment'
        ? { name: k, data: rows.map((r) => (k === 'segment' && r[j] === '' ? null : r[j])), type: 'STRING' as const, nullable: k === 'segment' }
        : { name: k, data: rows.map((r) => (r[j] === '' ? null : Number(r[j]))), type: 'DOUBLE' as const, nullable: true },
    ),
  });
  const f = join(dir, name);
  writeFileSync(f, new Uint8Array(buf));
  return f;
}

beforeAll(async () => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-segment-'));
  modelPath = join(dir, 'model.json');
  writeDemoModel(modelPath, spec);
  const cat = join(dir, 'demo.csv');
  await writeDemoCatalog(cat, ROWS, spec);
  const lines = readFileSync(cat, 'utf8').trim().split('\n');
  header = lines[0].split(',');
  base = lines.slice(1).map((l) => l.split(','));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segment breaker: policy', () => {
  it('is validated with errors that name the field', () => {
    expect(() => validatePolicy({ segmentBreaker: { maxMovePct: 20 } }, 'p.json')).toThrow(/p\.json: invalid policy: segmentBreaker.*maxShareMovedPct/);
    expect(() => validatePolicy({ segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 100 } }, 'p.json')).toThrow(/segmentBreaker\.maxShareMovedPct/);
    expect(() => validatePolicy({ segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 10, resumeAfterRuns: 1.5 } }, 'p.json')).toThrow(/resumeAfterRuns/);
    expect(() => validatePolicy({ segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 10, segments: { toys: { maxMovePtc: 5 } } } }, 'p.json')).toThrow(/maxMovePtc/);
    expect(validatePolicy({ segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 10, maxGamma: 2, segments: { toys: { maxMovePct: 5 } } } }).segmentBreaker?.segments?.toys.maxMovePct).toBe(5);
  });
});

describe('segment breaker: the batch job', () => {
  it('trips a segment with many big moves and holds all of it; the other segments and the rows without one are priced', async () => {
    const rows = catalogue(true);
    const cat = writeCsv('shock.csv', rows);
    const out = join(dir, 'shock-out.csv');
    const s = await runReprice({ modelPath, catalogPath: cat, outPath: out, workers: 2, chunkSize: 500, policy });
    expect(s.segmentBreaker?.tripped.map((r) => r.segment)).toEqual(['toys']);
    const t = s.segmentBreaker!.tripped[0];
    expect(t.why[0]).toMatchObject({ measure: 'moves', limitPct: 30, threshold: 20 });
    expect(t.why[0].sharePct).toBeGreaterThan(90);
    expect(s.segmentBreaker?.held).toEqual([]);
    expect(s.segmentBreaker?.stateFile).toBeUndefined();
    const got = readCsv(out);
    const ci = header.indexOf('current_price');
    const cost = header.indexOf('cost');
    const minP = header.indexOf('min_price');
    const maxP = header.indexOf('max_price');
    let toys = 0;
    got.forEach((r, i) => {
      const seg = segmentOf(i).trim();
      if (seg === 'toys' && rows[i][ci] !== '') {
        toys++;
        expect(r.status, `row ${i}`).toBe('held');
        expect(r.reason.split(';')).toContain('segment_breaker');
        // held at today's price unless a hard bound moves it (the margin floor cost x 1.05, min_price, max_price)
        const lo = Math.max(Number(rows[i][cost]) * 1.05, rows[i][minP] === '' ? 0 : Number(rows[i][minP]));
        const hi = rows[i][maxP] === '' ? Infinity : Number(rows[i][maxP]);
        const cur = Number(rows[i][ci]);
        const price = Number(r.price);
        expect(price).toBeGreaterThanOrEqual(lo);
        expect(price).toBeLessThanOrEqual(hi);
        if (cur >= lo && cur <= hi) expect(price).toBe(cur);
        else expect(r.reason.split(';').some((x) => ['margin_floor', 'floor', 'ceiling'].includes(x)), r.reason).toBe(true);
      } else expect(r.reason, `row ${i}`).not.toContain('segment_breaker');
    });
    expect(toys).toBeGreaterThan(900);
    expect(s.status.held).toBe(toys);
  });

  it('reads the segment the same way from CSV (WASM and JavaScript paths), NDJSON and Parquet, and writes held/segment_breaker to CSV, NDJSON and Parquet', async () => {
    const rows = catalogue(true);
    const inputs = [writeCsv('in.csv', rows), writeCsv('in-quoted.csv', rows, true), writeNdjson('in.ndjson', rows), writeParquet('in.parquet', rows)];
    const want = readCsv((await (async () => {
      const o = join(dir, 'ref.csv');
      await runReprice({ modelPath, catalogPath: inputs[0], outPath: o, workers: 1, policy });
      return o;
    })()));
    const held = want.filter((r) => r.reason.includes('segment_breaker')).length;
    expect(held).toBeGreaterThan(900);
    for (const input of inputs) {
      for (const ext of ['csv', 'ndjson', 'parquet']) {
        const o = join(dir, `out-${input.split('/').pop()}.${ext}`);
        const s = await runReprice({ modelPath, catalogPath: input, outPath: o, workers: 2, chunkSize: 700, policy });
        expect(s.segmentBreaker?.tripped.map((r) => r.segment), `${input} -> ${ext}`).toEqual(['toys']);
        // the fast readers read the segment (the WASM CSV kernel, the Parquet page decoder); a CSV with a quote takes the JavaScript path
        expect(s.fallbacks.chunks > 0, `${input}: ${JSON.stringify(s.fallbacks)}`).toBe(input.endsWith('in-quoted.csv'));
        const got: Record<string, unknown>[] =
          ext === 'csv' ? readCsv(o) : ext === 'ndjson' ? readFileSync(o, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : await parquetReadObjects({ file: await asyncBufferFromFile(o) });
        expect(got.length).toBe(want.length);
        got.forEach((r, i) => {
          if (r.status !== want[i].status || r.reason !== want[i].reason) expect({ i, status: r.status, reason: r.reason }, `${input} -> ${ext}`).toEqual({ i, status: want[i].status, reason: want[i].reason });
          if (Number(r.price ?? NaN) !== Number(want[i].price === '' ? NaN : want[i].price) && !(r.price == null && want[i].price === '')) expect(r.price, `${input} -> ${ext} row ${i}`).toBe(Number(want[i].price));
        });
      }
    }
    // hyparquet's reader (the fast one declines a chunk with a missing feature): the same segments
    const f1 = header.indexOf('f1');
    const bad = rows.map((r, i) => (i === 5 ? r.map((v, j) => (j === f1 ? '' : v)) : r));
    const o = join(dir, 'out-hyparquet.csv');
    const s = await runReprice({ modelPath, catalogPath: writeParquet('in-bad.parquet', bad), outPath: o, workers: 1, policy, onError: 'skip' });
    expect(Object.keys(s.fallbacks.reasons).join()).toMatch(/f1/);
    expect(s.segmentBreaker?.tripped.map((r) => r.segment)).toEqual(['toys']);
    const got = readCsv(o);
    expect(got.map((r) => r.reason)).toEqual(want.filter((_, i) => i !== 5).map((r) => r.reason));
  });

  it('keeps the state in a file written atomically, stays held until K clean runs, then resumes by itself', async () => {
    const state = join(dir, 'state', 'breakers.json');
    rmSync(join(dir, 'state'), { recursive: true, force: true });
    execFileSync('mkdir', ['-p', join(dir, 'state')]);
    const shock = writeCsv('run1.csv', catalogue(true));
    const calm = writeCsv('run2.csv', catalogue(false));
    const out = join(dir, 'state-out.csv');
    const heldRows = () => readCsv(out).filter((r) => r.reason.includes('segment_breaker')).length;

    const s1 = await runReprice({ modelPath, catalogPath: shock, outPath: out, workers: 2, policy, statePath: state });
    expect(s1.segmentBreaker?.tripped.map((r) => r.segment)).toEqual(['toys']);
    expect(s1.segmentBreaker?.stateFile).toBe(state);
    const st1 = loadState(state);
    expect(st1.format).toBe(BREAKER_STATE_FORMAT);
    expect(Object.keys(st1.segments)).toEqual(['toys']);
    expect(st1.segments.toys).toMatchObject({ cleanRuns: 0, resumeAfterRuns: 2, trippedRun: st1.lastRun });
    expect(st1.segments.toys.why[0].measure).toBe('moves');
    // atomic: only the state file is left in its folder (no temporary file beside it)
    expect(readdirSync(join(dir, 'state'))).toEqual(['breakers.json']);
    const h1 = heldRows();
    expect(h1).toBeGreaterThan(900);

    // clean, but one clean run of the two needed: still held
    const s2 = await runReprice({ modelPath, catalogPath: calm, outPath: out, workers: 2, policy, statePath: state });
    expect(s2.segmentBreaker?.tripped).toEqual([]);
    expect(s2.segmentBreaker?.held.map((r) => [r.segment, r.cleanRuns, r.resumeAfterRuns])).toEqual([['toys', 1, 2]]);
    expect(s2.segmentBreaker!.held[0].movedSharePct).toBeLessThan(30);
    expect(loadState(state).segments.toys).toMatchObject({ cleanRuns: 1, trippedAt: st1.segments.toys.trippedAt });
    expect(heldRows()).toBe(h1);

    // a second clean run: resumed, priced again, gone from the state
    const s3 = await runReprice({ modelPath, catalogPath: calm, outPath: out, workers: 2, policy, statePath: state });
    expect(s3.segmentBreaker?.resumed.map((r) => [r.segment, r.cleanRuns])).toEqual([['toys', 2]]);
    expect(s3.segmentBreaker?.held).toEqual([]);
    expect(loadState(state).segments).toEqual({});
    expect(heldRows()).toBe(0);

    // a failed run leaves the state as it was
    writeFileSync(state, JSON.stringify(st1));
    const before = readFileSync(state, 'utf8');
    await expect(runReprice({ modelPath: join(dir, 'missing-model.json'), catalogPath: calm, outPath: out, workers: 1, policy, statePath: state })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(readFileSync(state, 'utf8')).toBe(before);
  });

  it('runs a second (measuring) pass only when the policy has a segment breaker', async () => {
    const cat = writeCsv('passes.csv', catalogue(true));
    const log = join(dir, 'passes.log');
    const workerFile = new URL('./fixtures/passLoggingWorker.mjs', import.meta.url).pathname;
    process.env.PASS_LOG = log;
    try {
      const count = () => {
        const l = readFileSync(log, 'utf8').trim().split('\n');
        return { measure: l.filter((x) => x === 'measure').length, price: l.filter((x) => x === 'price').length };
      };
      writeFileSync(log, '');
      const { segmentBreaker: _, ...plain } = policy;
      const s0 = await runReprice({ modelPath, catalogPath: cat, outPath: join(dir, 'p0.csv'), workers: 2, chunkSize: 500, policy: plain, workerFile });
      expect(s0.segmentBreaker).toBeUndefined();
      const c0 = count();
      expect(c0.measure).toBe(0);
      expect(c0.price).toBeGreaterThan(1);
      // and the segment column alone holds nothing
      expect(readCsv(join(dir, 'p0.csv')).some((r) => r.reason.includes('segment_breaker'))).toBe(false);
      writeFileSync(log, '');
      await runReprice({ modelPath, catalogPath: cat, outPath: join(dir, 'p1.csv'), workers: 2, chunkSize: 500, policy, workerFile });
      const c1 = count();
      expect(c1.measure).toBeGreaterThan(1);
      expect(c1.price).toBe(c0.price);
    } finally {
      delete process.env.PASS_LOG;
    }
  });

  it('refuses --state without a segment breaker in the policy', async () => {
    const cat = writeCsv('nostate.csv', catalogue(false));
    await expect(runReprice({ modelPath, catalogPath: cat, outPath: join(dir, 'x.csv'), workers: 1, policy: {}, statePath: join(dir, 's.json') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('segment breaker: the command line', () => {
  it('reprice --state prints the trip; breaker list shows it; breaker reset resumes one or --all', () => {
    const cat = writeCsv('cli.csv', catalogue(true));
    const pol = join(dir, 'cli-policy.json');
    writeFileSync(pol, JSON.stringify({ ...policy, segmentBreaker: { ...policy.segmentBreaker, segments: { garden: { maxMovePct: 0.001, maxShareMovedPct: 0 } } } }));
    const state = join(dir, 'cli-state.json');
    const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
    const r = run('reprice', '--model', modelPath, '--catalog', cat, '--out', join(dir, 'cli-out.csv'), '--workers', '1', '--policy', pol, '--state', state);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/segment breaker: 2 segments measured .*tripped 2, held 0, resumed 0/);
    expect(r.stdout).toMatch(/ {2}tripped {2}toys: [\d.]+ % of rows move > 20 % \(limit 30 %\); \d+ rows held/);
    expect(r.stdout).toContain(`breaker state written to ${state}`);
    expect(Object.keys(loadState(state).segments).sort()).toEqual(['garden', 'toys']);

    const list = run('breaker', 'list', '--state', state);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^garden: tripped .*\ntoys: tripped .*moves/);

    const one = run('breaker', 'reset', 'toys', '--state', state);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain('resumed "toys"');
    expect(Object.keys(loadState(state).segments)).toEqual(['garden']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.cli-state'))).toEqual([]);

    const missing = run('breaker', 'reset', 'toys', '--state', state);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toContain('segment "toys" is not tripped (tripped: "garden")');

    const all = run('breaker', 'reset', '--all', '--state', state);
    expect(all.status).toBe(0);
    expect(loadState(state).segments).toEqual({});
    expect(run('breaker', 'reset', '--state', state).status).toBe(2);

    const nostate = run('reprice', '--model', modelPath, '--catalog', cat, '--out', join(dir, 'cli-out2.csv'), '--workers', '1', '--policy', pol);
    expect(nostate.stdout).toContain('no --state: trips hold prices in this run only');
  });
});

describe('segment breaker: the server', () => {
  it('lists the imported state, holds quotes of a tripped segment, resets with the key only', async () => {
    const key = 'segment-key-0123456789';
    const state = { format: BREAKER_STATE_FORMAT, updatedAt: '2026-12-05T02:00:00.000Z', lastRun: 'n1', segments: { toys: { trippedAt: '2026-12-05T02:00:00.000Z', trippedRun: 'n1', why: [{ measure: 'moves' as const, sharePct: 62.5, limitPct: 30, threshold: 20 }], cleanRuns: 0, resumeAfterRuns: 2 } } };
    const app = buildApp({ model: demoModel(spec), breakerState: state, apiKey: key, pool: false, defaultMetrics: false, docs: false, policy: { rounding: { step: 0.01 } } });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const json = { 'content-type': 'application/json' };
      const list = await fetch(`${url}/v1/breakers`);
      expect(list.status).toBe(200);
      const body = (await list.json()) as { segments: { segment: string; why: unknown[]; clean_runs: number }[] };
      expect(body.segments.map((s) => [s.segment, s.clean_runs])).toEqual([['toys', 0]]);
      expect(body.segments[0].why).toEqual(state.segments.toys.why);

      const item = { product_id: 'SKU-1', features: { f1: 0.1, f2: -0.2, f3: 0.3 }, cost: 8, current_price: 11 };
      const quote = async (seg?: string) => (await (await fetch(`${url}/v1/quote`, { method: 'POST', headers: json, body: JSON.stringify(seg === undefined ? item : { ...item, segment: seg }) })).json()) as { status: string; reason: string; price: number };
      expect(await quote('toys')).toMatchObject({ status: 'held', reason: 'segment_breaker', price: 11 });
      expect((await quote('garden')).reason).not.toContain('segment_breaker');
      expect((await quote()).reason).not.toContain('segment_breaker');
      const bulk = (await (await fetch(`${url}/v1/quotes`, { method: 'POST', headers: json, body: JSON.stringify({ items: [{ ...item, segment: 'toys' }, { ...item, segment: 'garden' }] }) })).json()) as { items: { status: string; reason: string }[] };
      expect(bulk.items.map((r) => r.reason.includes('segment_breaker'))).toEqual([true, false]);

      const noKey = await fetch(`${url}/v1/breakers/toys/reset`, { method: 'POST' });
      expect(noKey.status).toBe(401);
      expect(await quote('toys')).toMatchObject({ status: 'held', reason: 'segment_breaker' });
      const badPut = await fetch(`${url}/v1/breakers`, { method: 'PUT', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ format: 'nope', segments: {} }) });
      expect(badPut.status).toBe(400);
      expect(((await badPut.json()) as { error: { code: string } }).error.code).toBe('INVALID_BODY');
      const reset = await fetch(`${url}/v1/breakers/toys/reset`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      expect(reset.status).toBe(200);
      expect(((await reset.json()) as { segment: string }).segment).toBe('toys');
      expect((await quote('toys')).reason).not.toContain('segment_breaker');
      expect((await fetch(`${url}/v1/breakers/toys/reset`, { method: 'POST', headers: { authorization: `Bearer ${key}` } })).status).toBe(404);
      expect(((await (await fetch(`${url}/v1/breakers`)).json()) as { segments: unknown[] }).segments).toEqual([]);

      const put = await fetch(`${url}/v1/breakers`, { method: 'PUT', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify(state) });
      expect(put.status).toBe(200);
      expect(await quote('toys')).toMatchObject({ status: 'held', reason: 'segment_breaker' });
      expect((await fetch(`${url}/v1/breakers`, { method: 'PUT', headers: json, body: JSON.stringify(state) })).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('serve --breaker-state imports a batch run\'s state file at start', async () => {
    const file = join(dir, 'serve-state.json');
    writeFileSync(file, JSON.stringify({ format: BREAKER_STATE_FORMAT, segments: { garden: { trippedAt: 't', trippedRun: 'r', why: [], cleanRuns: 1, resumeAfterRuns: 3 } } }));
    const { parseServeOptions } = await import('../src/cli/serve.js');
    const { app: opts } = parseServeOptions({ port: '0', host: '127.0.0.1', auth: false, model: modelPath, breakerState: file, workers: '0' }, {});
    const app = buildApp({ ...opts, defaultMetrics: false, docs: false });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const body = (await (await fetch(`${url}/v1/breakers`)).json()) as { segments: { segment: string; clean_runs: number; resume_after_runs: number }[] };
      expect(body.segments).toMatchObject([{ segment: 'garden', clean_runs: 1, resume_after_runs: 3 }]);
    } finally {
      await app.close();
    }
    expect(() => parseServeOptions({ port: '0', host: '127.0.0.1', auth: false, breakerState: join(dir, 'none.json') }, {})).toThrow(/no such breaker state file/);
  });
});
