/**
 * `repricer bench` (src/cli/bench.ts, src/cli/bench/): the real command in its tiny mode
 * (`--smoke`, a few seconds). Every section runs and reports positive figures; the Python peers'
 * answers are verified where python3 imports numpy and scipy (and pandas, for the batch peer),
 * and skipped with a reason otherwise; with no interpreter at all every peer is skipped with the
 * reason. The agreement checks themselves are shown to fail on answers that differ. No timing
 * limits: this tests the command, not the machine.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../src/cli/bench/report.js';
import { SECTIONS } from '../src/cli/bench/report.js';
import { comparePrices } from '../src/cli/bench/batch.js';
import { compareFit, FIT_TOLERANCE } from '../src/cli/bench/fit.js';
import { builtinLoad } from '../src/cli/bench/loadgen.js';
import { createServer } from 'node:http';
import type { Model } from '../src/model/format.js';

const main = 'dist/src/cli/main.js';
let dir: string;

function bench(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'bench', '--smoke', ...args], { encoding: 'utf8', timeout: 170_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-bench-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('repricer bench --smoke', () => {
  it('runs every section with positive figures, prints the table and writes the JSON; the peers agree where python has the modules', () => {
    const json = join(dir, 'bench.json');
    const r = bench('--json', json);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(rep.format).toBe('repricer.bench/1');
    expect(rep.mode).toBe('smoke');
    expect(rep.machine.cores).toBeGreaterThan(0);
    expect(rep.machine.node).toBe(process.version);
    expect(typeof rep.machine.wasmSimd).toBe('boolean');
    for (const name of SECTIONS) {
      const s = rep.sections[name];
      expect(s.ran, `${name}: ${s.skipped ?? ''}`).toBe(true);
      expect(s.rows.length, name).toBeGreaterThan(0);
      for (const row of s.rows) {
        expect(row.value, `${name} ${row.case}`).toBeGreaterThan(0);
        if (row.compare) expect(row.compare.value, `${name} ${row.case}`).toBeGreaterThan(0);
      }
    }
    expect(rep.sections.kernels.rows.map((x) => x.case).join()).toMatch(/likelihood.*optimal quote.*greeks/);
    expect(rep.sections.batch.rows.some((x) => x.case.includes('CSV -> CSV'))).toBe(true);
    expect(rep.sections.batch.rows.some((x) => x.case.includes('Parquet -> Parquet'))).toBe(true);
    expect(rep.sections.http.rows.map((x) => x.case).join()).toMatch(/hello-world.*\/v1\/quote/);
    for (const row of rep.sections.http.rows) expect(row.note).toMatch(/, 0 errors/);
    // the peers: verified where the modules import, otherwise skipped with the reason
    const fitPeer = rep.sections.fit.rows[0].peer!;
    if (rep.python.numpyScipy) {
      expect(fitPeer.ran).toBe(true);
      expect(fitPeer.seconds).toBeGreaterThan(0);
      expect(fitPeer.agreement?.ok, fitPeer.agreement?.detail).toBe(true);
    } else {
      expect(fitPeer.ran).toBe(false);
      expect(fitPeer.reason).toBeTruthy();
    }
    for (const row of rep.sections.batch.rows.filter((x) => x.case.includes('CSV -> CSV'))) {
      if (rep.python.pandas) expect(row.peer?.agreement?.ok, row.peer?.agreement?.detail).toBe(true);
      else expect(row.peer?.reason).toMatch(/pandas|python|numpy/);
    }
    // the table: machine line, a row per case
    expect(r.stdout).toMatch(/repricer bench \(smoke\): .*cores, node v\d+.*WASM SIMD (on|off)/);
    for (const name of SECTIONS) expect(r.stdout).toContain(`| ${name}`);
  });

  it('says why the peers are skipped when the interpreter is absent, and still measures', () => {
    const json = join(dir, 'nopython.json');
    const r = bench('--sections', 'fit', '--python', join(dir, 'no-such-python'), '--json', json);
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(rep.python.available).toBe(false);
    expect(rep.python.reason).toMatch(/not found/);
    expect(rep.sections.fit.rows[0].value).toBeGreaterThan(0);
    expect(rep.sections.fit.rows[0].peer).toMatchObject({ ran: false });
    expect(rep.sections.kernels.ran).toBe(false);
    expect(r.stdout).toMatch(/python peers: skipped: .*not found/);
  });

  it('rejects an unknown section as a usage error', () => {
    const r = bench('--sections', 'kernels,gpu');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--sections/);
  });
});

describe('the agreement checks', () => {
  it('fail on prices that differ beyond 1e-9 and pass on the same prices', () => {
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    writeFileSync(a, 'product_id,price,status\nSKU-1,19.5,ok\nSKU-2,21.25,ok\n');
    writeFileSync(b, 'product_id,price\nSKU-1,19.5\nSKU-2,21.25\n');
    expect(comparePrices(a, b).ok).toBe(true);
    writeFileSync(b, 'product_id,price\nSKU-1,19.5\nSKU-2,21.2500001\n');
    expect(comparePrices(a, b).ok).toBe(false);
    writeFileSync(b, 'product_id,price\nSKU-1,19.5\n');
    expect(comparePrices(a, b).ok).toBe(false);
  });

  it('fail on a fit whose coefficients, scale or log-likelihood differ beyond 1e-6', () => {
    const model = { common: { theta: [20, 0.5] }, noise: { scale: 0.5 }, fit: { logLikelihood: -1000 } } as unknown as Model;
    const peer = { rows: 10, theta: [20, 0.5], sigma: 0.5, logLikelihood: -1000, iterations: 1, message: '', seconds: { total: 1 } };
    expect(compareFit(model, peer).ok).toBe(true);
    expect(compareFit(model, { ...peer, theta: [20, 0.5 + 40 * FIT_TOLERANCE] }).ok).toBe(false);
    expect(compareFit(model, { ...peer, sigma: 0.5 * (1 + 2 * FIT_TOLERANCE) }).ok).toBe(false);
    expect(compareFit(model, { ...peer, logLikelihood: -1000 * (1 + 2 * FIT_TOLERANCE) }).ok).toBe(false);
  });
});

describe('the built-in load generator (used where autocannon is not installed)', () => {
  it('keeps its connections busy and counts requests, latencies and non-2xx answers', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = req.url === '/bad' ? 500 : 200;
        res.end('{"hello":"world"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ok = await builtinLoad(`http://127.0.0.1:${port}/hello`, { connections: 4, seconds: 0.3 });
      expect(ok.requests).toBeGreaterThan(0);
      expect(ok.errors).toBe(0);
      expect(ok.rps).toBeGreaterThan(0);
      expect(ok.p99).toBeGreaterThanOrEqual(ok.p50);
      const bad = await builtinLoad(`http://127.0.0.1:${port}/bad`, { connections: 2, seconds: 0.2, method: 'POST', body: '{}' });
      expect(bad.errors).toBe(bad.requests);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
