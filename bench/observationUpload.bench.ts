/**
 * Observation upload benchmark: the same observations sent to `repricer serve` as one CSV file
 * (POST /v1/observations/bulk) and as JSON bodies of 10 000 rows (POST /v1/observations, the
 * most one body takes), each to a fresh server process on its own database file.
 *
 *   npm run bench:upload                     (builds, then node dist/bench/observationUpload.bench.js)
 *   node dist/bench/observationUpload.bench.js --rows 1000000 --features 20 --modes csv,json
 *
 * Reported per mode: the time the server took (from the first byte sent to the last
 * acknowledgement; the client builds each JSON body before its request starts, and the CSV file
 * is written before the upload starts, so neither side's serialisation is counted), rows per
 * second, the server's peak RSS (VmHWM of its /proc status, read before it exits) and a checksum
 * of the stored rows (count, sum of prices, total length of the features' JSON text), which must
 * be equal across modes: the two routes store the same rows. The load average is printed, since
 * the machine may be shared. Data: `--features` columns f1.. with six decimals, products
 * SKU-0..SKU-999, prices near 20, about half the rows won.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { rng } from '../src/batch/demoData.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const ROWS = Number(arg('rows', '1000000'));
const FEATURES = Number(arg('features', '20'));
const MODES = arg('modes', 'csv,json').split(',');
const BATCH = 10_000;
const MAIN = resolve('dist/src/cli/main.js');

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** Row i of the data set, the same for both modes (one generator, consumed in order). */
function rows(): () => { product_id: string; f: number[]; price: number; won: 0 | 1; competitor: number | undefined } {
  const r = rng(42);
  let i = 0;
  return () => {
    const f = Array.from({ length: FEATURES }, () => round6(r() * 2 - 1));
    const price = round6(20 + (r() - 0.5) * 4);
    const y = round6(20 + (r() - 0.5) * 4);
    const won = price <= y ? 1 : 0;
    return { product_id: `SKU-${i++ % 1000}`, f, price, won, competitor: won ? y : undefined };
  };
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  const next = rows();
  out.write(`product_id,price,won,competitor_price,${Array.from({ length: FEATURES }, (_, j) => `f${j + 1}`).join(',')}\n`);
  for (let i = 0; i < ROWS; i++) {
    const o = next();
    if (!out.write(`${o.product_id},${o.price},${o.won},${o.competitor ?? ''},${o.f.join(',')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function jsonBody(next: ReturnType<typeof rows>, n: number): string {
  const names = Array.from({ length: FEATURES }, (_, j) => `f${j + 1}`);
  const observations = Array.from({ length: n }, () => {
    const o = next();
    const features: Record<string, number> = {};
    names.forEach((k, j) => (features[k] = o.f[j]));
    return { product_id: o.product_id, features, price: o.price, won: o.won, ...(o.competitor !== undefined ? { competitor_price: o.competitor } : {}) };
  });
  return JSON.stringify({ observations });
}

interface Server {
  proc: ChildProcess;
  port: number;
}

/** No model: the first batch's names are the feature schema (docs/server-api.md), the same for both routes. */
async function startServer(dir: string, db: string): Promise<Server> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--no-auth', '--workers', '0', '--db', db, '--upload-limit', String(4 * 1024 ** 3), '--rate-limit', '0'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const port = await new Promise<number>((res, rej) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) res(Number(m[1]));
    });
    proc.on('exit', (code) => rej(new Error(`serve exited ${code}: ${err}`)));
  });
  return { proc, port };
}

/** VmHWM (peak resident set) of a live process, in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function post(port: number, path: string, type: string, body: string | { file: string }): Promise<{ status: number; text: string }> {
  return new Promise((res, rej) => {
    const length = typeof body === 'string' ? Buffer.byteLength(body) : statSync(body.file).size;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': type, 'content-length': length } }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => (text += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, text }));
    });
    req.on('error', rej);
    if (typeof body === 'string') req.end(body);
    else createReadStream(body.file).pipe(req);
  });
}

interface Result {
  mode: string;
  seconds: number;
  requests: number;
  bytes: number;
  peakRss: number;
  checksum: string;
}

async function run(mode: string, dir: string, csv: string): Promise<Result> {
  const db = join(dir, `${mode}.sqlite`);
  const s = await startServer(dir, db);
  let seconds = 0;
  let requests = 0;
  let bytes = 0;
  try {
    if (mode === 'csv') {
      const t0 = process.hrtime.bigint();
      const r = await post(s.port, '/v1/observations/bulk', 'text/csv', { file: csv });
      seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 201) throw new Error(`csv upload: ${r.status} ${r.text}`);
      requests = 1;
      bytes = statSync(csv).size;
    } else {
      const next = rows();
      for (let done = 0; done < ROWS; done += BATCH) {
        const body = jsonBody(next, Math.min(BATCH, ROWS - done));
        const t0 = process.hrtime.bigint();
        const r = await post(s.port, '/v1/observations', 'application/json', body);
        seconds += Number(process.hrtime.bigint() - t0) / 1e9;
        if (r.status !== 201) throw new Error(`json batch at row ${done}: ${r.status} ${r.text.slice(0, 300)}`);
        requests++;
        bytes += Buffer.byteLength(body);
      }
    }
    const peakRss = peakRssMiB(s.proc.pid!);
    s.proc.kill('SIGTERM');
    await once(s.proc, 'exit');
    const d = new Database(db, { readonly: true });
    const c = d.prepare('SELECT COUNT(*) AS n, SUM(price) AS p, SUM(LENGTH(features)) AS f, SUM(won) AS w FROM observations').get() as { n: number; p: number; f: number; w: number };
    d.close();
    return { mode, seconds, requests, bytes, peakRss, checksum: `${c.n} rows, sum(price) ${c.p.toFixed(6)}, sum(won) ${c.w}, features text ${c.f} chars` };
  } finally {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'repricer-upload-bench-'));
  try {
    const csv = join(dir, 'obs.csv');
    await writeCsv(csv);
    process.stdout.write(`${ROWS} rows x ${FEATURES} features; CSV ${(statSync(csv).size / 1e6).toFixed(1)} MB; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write('| mode | requests | body MB | server time (s) | rows/s | server peak RSS (MiB) | stored |\n|---|---|---|---|---|---|---|\n');
    for (const mode of MODES) {
      const r = await run(mode, dir, csv);
      process.stdout.write(`| ${r.mode} | ${r.requests} | ${(r.bytes / 1e6).toFixed(1)} | ${r.seconds.toFixed(2)} | ${Math.round(ROWS / r.seconds).toLocaleString('en-US')} | ${r.peakRss.toFixed(0)} | ${r.checksum} |\n`);
    }
    process.stdout.write(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
