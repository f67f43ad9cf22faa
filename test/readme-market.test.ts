/**
 * The README's "Serving the marketplace" examples run as written (test/readme-examples.test.ts's
 * rules), `repricer` being dist/src/cli/main.js: in a scratch directory holding the repository's
 * examples/marketplace/ and a key file at the path the serve line names, the first block's
 * `market fit` line runs through bash, its serve line starts a real `repricer serve` process (with
 * `--port 0`), and every curl line of the second block runs through bash and curl with
 * localhost:8080 pointed at that port and KEY the key, answering 200 with what the text says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireDist } from './server-helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const KEY = 'readme-market-key-0123456789';
let dir: string;
let proc: ChildProcess | undefined;
beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-readme-market-'));
});
afterAll(() => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The fenced sh blocks of the README section "### Serving the marketplace", as lines. */
function sectionBlocks(): string[][] {
  const md = readFileSync('README.md', 'utf8');
  const start = md.indexOf('### Serving the marketplace');
  if (start < 0) throw new Error('README.md: no "### Serving the marketplace" section');
  const rest = md.slice(start + 1);
  const end = rest.search(/\n#{1,3} /);
  const text = end < 0 ? rest : rest.slice(0, end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
}

const bash = (cmd: string, env: Record<string, string> = {}) => execFileSync('bash', ['-c', cmd], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });

describe('README: serving the marketplace', () => {
  it('fit, serve with the model and policy, and every curl example answers 200 as described', async () => {
    const [start, examples] = sectionBlocks();
    expect(start).toHaveLength(2);
    cpSync('examples/marketplace', join(dir, 'examples/marketplace'), { recursive: true });
    bash(start[0].replace(/^repricer /, `'${process.execPath}' '${MAIN}' `));
    const m = /^repricer (serve .*?)\s*&\s*(#.*)?$/.exec(start[1]);
    expect(m, start[1]).not.toBeNull();
    const args = m![1].split(/\s+/).slice(1);
    const keyFile = args[args.indexOf('--api-key-file') + 1];
    mkdirSync(join(dir, '.tmp'), { recursive: true });
    writeFileSync(join(dir, keyFile), `${KEY}\n`);
    proc = spawn(process.execPath, [MAIN, 'serve', ...args, '--port', '0', '--workers', '0'], { cwd: dir, env: { ...process.env, REPRICER_API_KEY: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const exited = new Promise<number | string | null>((res) => proc!.on('exit', (code, signal) => res(code ?? signal)));
    const port = await new Promise<string>((res, rej) => {
      proc!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const mm = /listening on http:\/\/127\.0\.0\.1:(\d+)[\s\S]*serving the market .*\n/.exec(err);
        if (mm) res(mm[1]);
      });
      void exited.then((code) => rej(new Error(`serve exited ${code}: ${err}`)));
    });
    expect(err).toContain('serving the market examples/marketplace/market.json (4 zone-asset pairs) at /v1/market');

    expect(examples.length).toBe(3);
    const answers: Record<string, any> = {};
    for (const ex of examples) {
      const out = bash(`${ex.replaceAll('localhost:8080', `127.0.0.1:${port}`)} -w '\\n%{http_code}'`, { KEY });
      const nl = out.lastIndexOf('\n');
      expect(Number(out.slice(nl + 1)), `${ex}\n${out}`).toBe(200);
      answers[/\/v1\/market\/(\w+)/.exec(ex)![1]] = JSON.parse(out.slice(0, nl));
    }
    expect(answers.prices.prices.map((p: { zone: string; asset: string }) => `${p.zone}/${p.asset}`)).toEqual(['north/suv', 'north/hatch', 'south/suv', 'south/hatch']);
    expect(answers.prices.version).toBe(1);
    expect(answers.events).toMatchObject({ accepted: 3, steps: 3, counts: { bookings: 1, searches: 1, listings: 1, views: 0, steps: 3 } });
    const q = answers.quote;
    // 2026-12-05 is a Saturday; the example model separates zone, asset and time
    expect(q).toMatchObject({ item_id: 'north-suv-2', segment: 'north/suv/weekend-evening', basis: 'item_optimum', curve_segment: 'north/suv/weekend-evening', cache_tier: 3, previous_price: 100 });
    // the example policy's band 0.15
    expect(q.lower).toBeCloseTo(q.zone_price * 0.85, 9);
    expect(q.upper).toBeCloseTo(q.zone_price * 1.15, 9);
    expect(q.price).toBeGreaterThanOrEqual(q.lower);
    expect(q.price).toBeLessThanOrEqual(q.upper);
    expect(q.booking_probability).toBeGreaterThan(0);
    expect(q.booking_probability).toBeLessThan(1);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
