/**
 * The README's front door: after `npm start` (`repricer demo`, which leaves demo/model.json),
 * `repricer serve` without --model serves the demo model and says so, and every curl example of
 * the README's API table runs as written, top to bottom, with the status it documents: the
 * examples of version v2 find the version the fit example made. The examples run through a real
 * shell and curl, with localhost:8080 pointed at the server's port, KEY its API key and JOB the
 * id the fit answered. Without the demo model and --model, serve says how to get one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireDist } from './server-helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const KEY = 'readme-key-0123456789';
let dir: string;
const spawned: ChildProcess[] = [];
beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-readme-'));
});
afterAll(() => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The README's API table: [route, example] in order, with the table's `\|` unescaped. */
function readmeExamples(): [string, string][] {
  const md = readFileSync('README.md', 'utf8');
  const m = /<!-- api:start -->([\s\S]*?)<!-- api:end -->/.exec(md);
  if (!m) throw new Error('README.md: no API table');
  return m[1]
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const cells = l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
      return [cells[0].replace(/`/g, ''), cells[2].replace(/^`|`$/g, '').replace(/\\\|/g, '|')];
    });
}

async function serve(cwd: string, args: string[]): Promise<{ proc: ChildProcess; port: string; stderr: () => string; exited: Promise<number | string | null> }> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--workers', '1', ...args], { cwd, env: { ...process.env, REPRICER_API_KEY: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  spawned.push(proc);
  let err = '';
  // the exit code, or the signal that ended the process
  const exited = new Promise<number | string | null>((res) => proc.on('exit', (code, signal) => res(code ?? signal)));
  const port = await new Promise<string>((res, rej) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      // the start-up notice is one write: its last line has come once the listening line has
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+).*\n/.exec(err);
      if (m) res(m[1]);
    });
    void exited.then((code) => rej(new Error(`serve exited ${code}: ${err}`)));
  });
  return { proc, port, stderr: () => err, exited };
}

/** Run one example through bash as written (host and port substituted); status and body. */
function run(example: string, cwd: string, port: string, env: Record<string, string>): { status: number; body: string } {
  const cmd = `${example.replaceAll('localhost:8080', `127.0.0.1:${port}`)} -w '\\n%{http_code}'`;
  const out = execFileSync('bash', ['-c', cmd], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  const nl = out.lastIndexOf('\n');
  return { status: Number(out.slice(nl + 1)), body: out.slice(0, nl) };
}

const EXPECTED: Record<string, number> = { 'POST /v1/observations': 201, 'POST /v1/observations/bulk': 201, 'POST /v1/models/fit': 202, 'POST /v1/models': 200 };

describe('README API examples against the demo model', () => {
  it('serve without --model serves the demo model; every example runs as written with its status', async () => {
    execFileSync('curl', ['--version']); // the examples are curl lines
    execFileSync(process.execPath, [MAIN, 'demo', '--skus', '1000'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(dir, 'key'), `${KEY}\n`);
    const s = await serve(dir, ['--api-key-file', 'key']);
    expect(s.stderr()).toContain('serving model v1');
    expect(s.stderr()).toContain('no --model given and no active version in the database: serving the demo model demo/model.json (written by npm start)');

    const examples = readmeExamples();
    expect(examples.length).toBeGreaterThanOrEqual(15);
    const env: Record<string, string> = { KEY };
    const ran: string[] = [];
    for (const [route, example] of examples) {
      let r = run(example, dir, s.port, env);
      if (route === 'GET /v1/jobs/:id') {
        // what a reader does: ask again until the job is done
        while ((JSON.parse(r.body) as { status: string }).status !== 'succeeded' && (JSON.parse(r.body) as { status: string }).status !== 'failed') r = run(example, dir, s.port, env);
        expect(JSON.parse(r.body)).toMatchObject({ status: 'succeeded', result: { model_version: 'v2' } });
      }
      expect(r.status, `${route}: ${example}\n${r.body}`).toBe(EXPECTED[route] ?? 200);
      if (route === 'POST /v1/models/fit') env.JOB = (JSON.parse(r.body) as { id: string }).id;
      if (route === 'POST /v1/models/:version/activate') expect(JSON.parse(r.body)).toEqual({ active: 'v2', previous: 'v1' });
      if (route === 'POST /v1/quotes') expect((JSON.parse(r.body) as { items: { cold_start: boolean }[] }).items.map((i) => i.cold_start)).toEqual([false, true]);
      ran.push(route);
    }
    expect(ran).toContain('GET /v1/models/:version');
    s.proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('without the demo model and without --model, serve says how to get a model', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const s = await serve(empty, ['--no-auth']);
    expect(s.stderr()).toContain('no model active (readyz: 503)');
    expect(s.stderr()).toContain('run `npm start` first (it writes the demo model demo/model.json, served when no --model is given)');
    s.proc.kill('SIGTERM');
    expect([await s.exited, s.stderr()]).toEqual([0, expect.stringContaining('SIGTERM: draining requests')]);
  });
});
