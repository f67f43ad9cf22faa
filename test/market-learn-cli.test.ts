/**
 * `repricer market fit` and `repricer market price`: the files they write, the exit codes of the
 * error table and nothing written on failure (in process, through the commands' runners; one
 * success and one failure of each through the built CLI, dist/src/cli/main.js, for stdout and
 * the process's exit code); and the README's marketplace examples, run as written through bash
 * from a copy of examples/marketplace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMarketModel } from '../src/market/bookingModel.js';
import { runMarketFit, runMarketSolve } from '../src/cli/market.js';
import { runMarketPrice } from '../src/cli/marketPrice.js';
import { RepricerError } from '../src/core/errors.js';
import { requireDist } from './server-helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const EX = resolve('examples/marketplace');
let dir: string;

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function rows(file: string): Record<string, string>[] {
  const [header, ...rest] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  return rest.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i], v])));
}

beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-mlearn-'));
  runMarketSolve({ market: join(EX, 'market.json'), method: 'accelerated', out: join(dir, 'zone-prices.csv') });
  runMarketFit({ events: join(EX, 'events.csv'), out: join(dir, 'mm.json') });
});

/** The RepricerError a runner throws. */
function failure(f: () => unknown): RepricerError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RepricerError);
    return err as RepricerError;
  }
  throw new Error('no error');
}

describe('repricer market fit', () => {
  it('writes a valid market model and says what it fitted (CLI)', () => {
    const r = cli('market', 'fit', '--events', join(EX, 'events.csv'), '--out', 'mm-cli.json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^booking model: 16 segments by zone,asset,time, 2366 trials, \d+ bookings, lambda \S+ \(best held-out \S+\); pooled a \S+ b -\S+ -> mm-cli\.json\n$/);
    const m = loadMarketModel(join(dir, 'mm-cli.json'));
    expect(Object.keys(m.segments)).toHaveLength(16);
    expect(m.fit.events).toBe(join(EX, 'events.csv'));
    const bad = cli('market', 'fit', '--events', join(dir, 'none.csv'), '--out', 'never.json');
    expect([bad.status, bad.stderr]).toEqual([4, expect.stringMatching(/none\.csv: no such event log file/)]);
  });

  it('--segments pools the dimensions left out; NDJSON is read by extension', () => {
    const coarse = runMarketFit({ events: join(EX, 'events.csv'), out: join(dir, 'mm-zone.json'), segments: 'time,zone' });
    expect(Object.keys(coarse.segments).every((id) => /^(north|south)\/\*\/week(day|end)-(morning|evening)$/.test(id))).toBe(true);
    expect(loadMarketModel(join(dir, 'mm-zone.json')).segmentBy).toEqual(['zone', 'time']);
    // the example log's trials as NDJSON
    const [head, ...lines] = readFileSync(join(EX, 'events.csv'), 'utf8').trimEnd().split('\n');
    const names = head.split(',');
    const nd = lines.map((l) => {
      const c = l.split(',');
      return JSON.stringify(Object.fromEntries(names.map((n, i) => [n, c[i] === '' ? null : ['time', 'type', 'zone', 'asset', 'item_id'].includes(n) ? c[i] : Number(c[i])])));
    });
    writeFileSync(join(dir, 'events.ndjson'), `${nd.join('\n')}\n`);
    const fromNd = runMarketFit({ events: join(dir, 'events.ndjson'), out: join(dir, 'mm-nd.json'), segments: 'zone,asset,time' });
    const fromCsv = loadMarketModel(join(dir, 'mm.json'));
    expect(fromNd.segments).toEqual(fromCsv.segments);
  });

  it('exit codes: 2 for bad options, 3 for a bad cell naming file, line and column, 4 for a missing file; nothing written', () => {
    const bad = join(dir, 'bad.csv');
    const lines = readFileSync(join(EX, 'events.csv'), 'utf8').split('\n');
    lines[6] = lines[6].replace(/,(search|booking),/, ',purchase,');
    writeFileSync(bad, lines.join('\n'));
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ segments: 'zone,city' }, 2, /--segments must list some of zone, asset, time/],
      [{ format: 'xml' }, 2, /--format must be one of csv, ndjson/],
      [{ events: bad }, 3, /bad\.csv:7: column type: expected one of search, view, booking, listing, got "purchase"/],
      [{ events: join(dir, 'none.csv') }, 4, /no such event log file/],
    ];
    for (const [over, code, re] of cases) {
      const e = failure(() => runMarketFit({ events: join(EX, 'events.csv'), out: join(dir, 'never.json'), ...over }));
      expect(e.exitCode, e.message).toBe(code);
      expect(e.message).toMatch(re);
      expect(existsSync(join(dir, 'never.json'))).toBe(false);
    }
  });
});

describe('repricer market price', () => {
  it('prices every item inside its zone bounds, on its segment curve, in input order', () => {
    const r = cli('market', 'price', '--market', join(EX, 'market.json'), '--prices', 'zone-prices.csv', '--model', 'mm.json', '--items', join(EX, 'items.csv'), '--policy', join(EX, 'policy.json'), '--out', 'items-out.csv');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('priced 6 items (1 on the pooled curve: segment not in the model) -> items-out.csv\n');
    const zone = Object.fromEntries(rows(join(dir, 'zone-prices.csv')).map((z) => [z.product_id, Number(z.price)]));
    const out = rows(join(dir, 'items-out.csv'));
    expect(out.map((o) => o.item_id)).toEqual(['north-suv-1', 'north-suv-2', 'north-hatch-3', 'south-suv-1', 'south-hatch-2', 'south-hatch-5']);
    expect(out.map((o) => o.segment)).toEqual(['north/suv/weekday-evening', 'north/suv/weekend-evening', 'north/hatch/weekend-morning', 'south/suv/weekday-morning', 'south/hatch/weekend-evening', 'south/hatch/weekday-night']);
    for (const o of out) {
      const p0 = zone[`${o.zone}-${o.asset}`];
      expect(Number(o.lower)).toBeCloseTo(p0 * 0.85, 9); // policy zoneBand 0.15
      expect(Number(o.upper)).toBeCloseTo(p0 * 1.15, 9);
      expect(Number(o.price)).toBeGreaterThanOrEqual(Number(o.lower));
      expect(Number(o.price)).toBeLessThanOrEqual(Number(o.upper));
      expect(Number(o.booking_probability)).toBeGreaterThan(0);
      expect(Number(o.booking_probability)).toBeLessThan(1);
    }
    // without the policy: revenue only and band 0.2 (wider bounds, dearer prices)
    runMarketPrice({ market: join(EX, 'market.json'), prices: join(dir, 'zone-prices.csv'), model: join(dir, 'mm.json'), items: join(EX, 'items.csv'), out: join(dir, 'items-rev.csv') });
    const rev = rows(join(dir, 'items-rev.csv'));
    rev.forEach((o, i) => {
      expect(Number(o.lower)).toBeCloseTo(zone[`${o.zone}-${o.asset}`] * 0.8, 9);
      expect(Number(o.price)).toBeGreaterThanOrEqual(Number(out[i].price));
    });
  });

  it('exit codes: 2 for a bad policy, 3 for an unknown (zone, asset) or a bad cell naming its line, a bad model; 4 for a missing model', () => {
    writeFileSync(join(dir, 'items-bad.csv'), 'item_id,zone,asset,time\nx1,north,suv,2026-03-02T10:00:00Z\nx2,east,suv,2026-03-02T10:00:00Z\n');
    writeFileSync(join(dir, 'items-time.csv'), 'item_id,zone,asset,time,previous_price\nx1,north,suv,2026-03-02,\n');
    writeFileSync(join(dir, 'items-prev.csv'), 'item_id,zone,asset,time,previous_price\nx1,north,suv,2026-03-02T10:00:00Z,-4\n');
    writeFileSync(join(dir, 'policy-bad.json'), JSON.stringify({ market: { weights: { revenue: 0 } } }));
    writeFileSync(join(dir, 'mm-bad.json'), JSON.stringify({ format: 'repricer.market-model/9' }));
    const at = (f: string) => join(dir, f);
    const base = { market: join(EX, 'market.json'), prices: at('zone-prices.csv'), model: at('mm.json'), items: join(EX, 'items.csv'), out: at('never.csv') };
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ policy: at('policy-bad.json') }, 2, /policy-bad\.json: invalid policy: market\.weights: at least one/],
      [{ items: at('items-bad.csv') }, 3, /items-bad\.csv:3: column zone: expected a zone and asset of a product of .*market\.json, got "east, suv"/],
      [{ items: at('items-time.csv') }, 3, /items-time\.csv:2: column time: expected an ISO 8601 date-time/],
      [{ items: at('items-prev.csv') }, 3, /items-prev\.csv:2: column previous_price: expected a price > 0 or an empty cell, got "-4"/],
      [{ model: at('mm-bad.json') }, 3, /is not supported \(this repricer reads repricer\.market-model\/1\)/],
      [{ model: at('none.json') }, 4, /none\.json: no such market model file/],
    ];
    for (const [over, code, re] of cases) {
      const e = failure(() => runMarketPrice({ ...base, ...over }));
      expect(e.exitCode, e.message).toBe(code);
      expect(e.message).toMatch(re);
      expect(existsSync(at('never.csv'))).toBe(false);
    }
    const r = cli('market', 'price', '--market', base.market, '--prices', base.prices, '--model', base.model, '--items', at('items-bad.csv'), '--out', base.out);
    expect([r.status, r.stderr]).toEqual([3, expect.stringMatching(/items-bad\.csv:3: column zone/)]);
  });
});

describe('README: Marketplace: segments and item prices', () => {
  it('every example runs as written from the repository root, and they leave the files they name', () => {
    const md = readFileSync('README.md', 'utf8');
    const at = md.indexOf('### Marketplace: segments and item prices');
    const block = /```sh\n([\s\S]*?)```/.exec(md.slice(at))!;
    const examples = block[1].trim().split('\n');
    expect(examples).toHaveLength(3);
    const root = mkdtempSync(join(tmpdir(), 'repricer-readme-market-'));
    mkdirSync(join(root, 'examples'));
    cpSync(EX, join(root, 'examples', 'marketplace'), { recursive: true });
    mkdirSync(join(root, 'bin'));
    writeFileSync(join(root, 'bin', 'repricer'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    chmodSync(join(root, 'bin', 'repricer'), 0o755);
    for (const ex of examples) execFileSync('bash', ['-c', ex], { cwd: root, env: { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}` }, stdio: 'pipe' });
    expect(loadMarketModel(join(root, 'market-model.json')).format).toBe('repricer.market-model/1');
    expect(readFileSync(join(root, 'item-prices.csv'), 'utf8').split('\n')[0]).toBe('item_id,zone,asset,segment,price,lower,upper,booking_probability,objective');
  });
});
