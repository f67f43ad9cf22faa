/**
 * `repricer market em` through the built CLI (dist/src/cli/main.js): the README's example run as
 * written through bash (with `repricer` pointing at the build) printing exactly what the README
 * shows, the JSON it writes against the library, and the exit codes of bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPeriodsFile } from '../src/market/periodsFile.js';
import { estimateZone } from '../src/market/zoneEstimates.js';
import { runMarketEm } from '../src/cli/marketEm.js';
import { RepricerError } from '../src/core/errors.js';

const MAIN = resolve('dist/src/cli/main.js');
let dir: string;

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: dir });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** The README's `repricer market em` section: its sh block and the text block it says is printed. */
function readmeExample(): { script: string; printed: string } {
  const md = readFileSync('README.md', 'utf8');
  const start = md.indexOf('### Censored demand by EM\n');
  expect(start).toBeGreaterThan(0);
  const next = md.slice(start + 4).search(/\n#{2,3} /);
  const section = md.slice(start, next < 0 ? undefined : start + 4 + next);
  const sh = /```sh\n([\s\S]*?)```/.exec(section);
  const text = /```text\n([\s\S]*?)```/.exec(section);
  if (!sh || !text) throw new Error('README: the market em section lacks its sh or text block');
  return { script: sh[1], printed: text[1] };
}

/** The RepricerError runMarketEm throws for these options. */
function errorOf(o: Parameters<typeof runMarketEm>[0]): RepricerError {
  try {
    runMarketEm(o);
  } catch (e) {
    if (e instanceof RepricerError) return e;
    throw e;
  }
  throw new Error('runMarketEm accepted the input');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-market-em-'));
});

describe('repricer market em', () => {
  it('the README example runs as written and prints what the README shows', () => {
    const { script, printed } = readmeExample();
    const out = execFileSync('bash', ['-e', '-c', `repricer() { node ${JSON.stringify(MAIN)} "$@"; }\n${script}`], { cwd: dir, encoding: 'utf8' });
    expect(out).toBe(printed);
    const doc = JSON.parse(readFileSync(join(dir, 'estimates.json'), 'utf8')) as { format: string; zones: { zone: string; lambda: number; stdErr: number; logLikPath: number[]; multiplier: { value: number } }[] };
    expect(doc.format).toBe('repricer.market-em/1');
    // the file holds what the library computes from the same periods
    const lib = readPeriodsFile(join(dir, 'periods.csv')).map((z) => estimateZone(z, { elasticity: 1.5, weights: { revenue: 1, utilisation: 0.4, lostSales: 0.3, volatility: 0.5 }, tol: 1e-10, maxIterations: 100000 }));
    expect(doc.zones.map((z) => z.zone)).toEqual(['centre', 'airport']);
    doc.zones.forEach((z, i) => {
      expect(z.lambda).toBe(lib[i].lambda);
      expect(z.stdErr).toBe(lib[i].stdErr);
      expect(z.logLikPath).toEqual(lib[i].logLikPath);
      expect(z.multiplier.value).toBe(lib[i].multiplier!.value);
      for (let k = 1; k < z.logLikPath.length; k++) expect(z.logLikPath[k]).toBeGreaterThanOrEqual(z.logLikPath[k - 1] - 1e-12);
    });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--policy takes the weights from the policy file\'s market object, the same as --weights', () => {
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ market: { weights: { revenue: 1, utilisation: 0.4, lostSales: 0.3, volatility: 0.5 } } }));
    const a = cli('market', 'em', '--periods', 'periods.csv', '--elasticity', '1.5', '--policy', 'policy.json');
    expect(a.status).toBe(0);
    // the README's run with --weights 1,0.4,0.3,0.5 printed these lines
    expect(a.stdout).toBe(readmeExample().printed.replace('-> estimates.json\n', ''));
    expect(errorOf({ periods: join(dir, 'periods.csv'), policy: join(dir, 'policy.json'), weights: '1,0,0,0' })).toMatchObject({ code: 'INVALID_ARGUMENT', message: '--weights and --policy both set the weights: give one' });
    writeFileSync(join(dir, 'badpolicy.json'), JSON.stringify({ market: { weights: { revenue: -1 } } }));
    const bad = cli('market', 'em', '--periods', 'periods.csv', '--policy', 'badpolicy.json');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('market');
  });

  it('says when a zone has no finite estimate, and writes nulls for it', () => {
    writeFileSync(join(dir, 'full.csv'), 'zone,period_start,price,bookings,available,exposure\nz,2026-01-01,10,3,3,1\nz,2026-01-02,10,2,2,2\nq,2026-01-01,10,0,0,1\n');
    const r = cli('market', 'em', '--periods', 'full.csv', '--out', 'full.json');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('zone z: no finite estimate: every period with units available sold out (2 of 2 periods sold out, 5 bookings)');
    expect(r.stdout).toContain('zone q: no estimate: no period had a unit available');
    const doc = JSON.parse(readFileSync(join(dir, 'full.json'), 'utf8')) as { zones: { status: string; lambda: null }[] };
    expect(doc.zones.map((z) => [z.status, z.lambda])).toEqual([['unbounded', null], ['no-data', null]]);
  });

  it('exit codes: a bad row 3 with file, line and column; a missing file 4; a bad option 2', () => {
    writeFileSync(join(dir, 'bad.csv'), 'zone,period_start,price,bookings,available\nz,2026-01-01,10,3,5\nz,2026-01-02,10,6,5\n');
    let r = cli('market', 'em', '--periods', 'bad.csv');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('INPUT_ROW_INVALID: bad.csv:3: column bookings: expected an integer in [0, available = 5], got "6"');
    // the other bad inputs in-process: the same RepricerError the CLI maps to its exit code
    writeFileSync(join(dir, 'hex.csv'), 'zone,period_start,price,bookings,available\nz,2026-01-01,0x10,3,5\n');
    expect(errorOf({ periods: join(dir, 'hex.csv') })).toMatchObject({ code: 'INPUT_ROW_INVALID', exitCode: 3, message: expect.stringContaining('hex.csv:2: column price: expected a finite number > 0, got "0x10"') });
    writeFileSync(join(dir, 'dup.csv'), 'zone,period_start,price,bookings,available\nz,2026-01-01T10:00:00Z,10,3,5\nz,2026-01-01T10:00:00Z,11,3,5\n');
    expect(errorOf({ periods: join(dir, 'dup.csv') }).message).toContain('dup.csv:3: column period_start: expected a period start not already given for zone z (line 2)');
    writeFileSync(join(dir, 'col.csv'), 'zone,period_start,price,Bookings,available\nz,2026-01-01,10,3,5\n');
    expect(errorOf({ periods: join(dir, 'col.csv') })).toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringContaining('col.csv: unknown column Bookings (did you mean bookings?)') });
    writeFileSync(join(dir, 'nocol.csv'), 'zone,period_start,price,bookings\nz,2026-01-01,10,3\n');
    expect(errorOf({ periods: join(dir, 'nocol.csv') }).message).toContain('nocol.csv: missing column available');
    expect(errorOf({ periods: join(dir, 'bad.csv'), range: '2,1' }).message).toContain('--range must be two numbers lo,hi with 0 < lo <= hi');
    expect(errorOf({ periods: join(dir, 'full.csv'), out: join(dir, 'no', 'such', 'e.json') })).toMatchObject({ code: 'NOT_FOUND', exitCode: 4 });
    r = cli('market', 'em', '--periods', 'nope.csv');
    expect([r.status, r.stderr]).toEqual([4, expect.stringContaining('nope.csv: no such periods file')]);
    r = cli('market', 'em', '--periods', 'bad.csv', '--weights', '1,2,3');
    expect([r.status, r.stderr]).toEqual([2, expect.stringContaining('--weights must be four numbers >= 0')]);
  });
});
