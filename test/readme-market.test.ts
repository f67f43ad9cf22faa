/**
 * The README's "Serving the marketplace" examples run as written (test/readme-examples.test.ts's
 * rules): the serve line of its first fenced block starts a real `repricer serve` process (with
 * `--port 0`, in a scratch directory holding the example market and a key file at the paths the
 * line names), and every curl line of the second block runs through bash and curl with
 * localhost:8080 pointed at that port and KEY the key, answering 200 with what the text says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** The fenced sh blocks of the README section "### Serving the marketplace". */
function sectionBlocks(): string[][] {
  const md = readFileSync('README.md', 'utf8');
  const start = md.indexOf('### Serving the marketplace');
  if (start < 0) throw new Error('README.md: no "### Serving the marketplace" section');
  const rest = md.slice(start + 1);
  const end = rest.search(/\n#{1,3} /);
  const text = end < 0 ? rest : rest.slice(0, end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
}

describe('README: serving the marketplace', () => {
  it('the serve line starts the marketplace, and every curl example answers 200 as described', async () => {
    const [start, examples] = sectionBlocks();
    expect(start).toHaveLength(1);
    const m = /^node dist\/src\/cli\/main\.js (serve .*?)\s*&\s*(#.*)?$/.exec(start[0]);
    expect(m, start[0]).not.toBeNull();
    const args = m![1].split(/\s+/).slice(1);
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    mkdirSync(join(dir, '.tmp'), { recursive: true });
    writeFileSync(join(dir, at('--api-key-file')), `${KEY}\n`);
    mkdirSync(join(dir, 'docs/marketplace'), { recursive: true });
    copyFileSync(at('--market'), join(dir, at('--market')));
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
    expect(err).toContain('serving the market docs/marketplace/market.json (4 zone-asset pairs) at /v1/market');

    expect(examples.length).toBe(3);
    const answers: Record<string, any> = {};
    for (const ex of examples) {
      const cmd = `${ex.replaceAll('localhost:8080', `127.0.0.1:${port}`)} -w '\\n%{http_code}'`;
      const out = execFileSync('bash', ['-c', cmd], { cwd: dir, env: { ...process.env, KEY }, encoding: 'utf8' });
      const nl = out.lastIndexOf('\n');
      expect(Number(out.slice(nl + 1)), `${ex}\n${out}`).toBe(200);
      answers[/\/v1\/market\/(\w+)/.exec(ex)![1]] = JSON.parse(out.slice(0, nl));
    }
    expect(answers.prices.prices.map((p: { zone: string; asset: string }) => `${p.zone}/${p.asset}`)).toEqual(['downtown/compact', 'downtown/suv', 'airport/compact', 'airport/suv']);
    expect(answers.prices.version).toBe(1);
    expect(answers.events).toMatchObject({ accepted: 3, steps: 3, counts: { bookings: 1, searches: 1, listings: 1, views: 0, steps: 3 } });
    const q = answers.quote;
    expect(q).toMatchObject({ item_id: 'car-17', segment: 'downtown/suv/weekend-evening', basis: 'zone_price', cache_tier: 3 });
    expect(q.price).toBeGreaterThanOrEqual(q.lower);
    expect(q.price).toBeLessThanOrEqual(q.upper);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
