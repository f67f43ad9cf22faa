import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import fc from 'fast-check';
import { readObservations, parseDecimal, parseWon } from '../src/model/observations.js';
import { RepricerError } from '../src/core/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obs-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csv(name: string, lines: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

const GOOD = [
  'product_id,f1,f2,price,won,competitor_price',
  'A,0.5,-1,2.0,1,2.3',
  'B,1e-1,2,1.5,0,',
  'A,-0.25,0,1.8,true,1.9',
  'C,3,4,2.5,FALSE,',
];

/** Expect `p` to reject with INPUT_ROW_INVALID naming line and column. */
async function expectRowError(p: Promise<unknown>, line: number, column: string): Promise<RepricerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RepricerError);
  const e = err as RepricerError;
  expect(e.code).toBe('INPUT_ROW_INVALID');
  expect(e.details).toMatchObject({ line, column });
  expect(e.message).toContain(`:${line}:`);
  expect(e.message).toContain(column);
  return e;
}

describe('readObservations (CSV)', () => {
  it('reads columns, intercept, product groups and censoring', async () => {
    const t = await readObservations(csv('good.csv', GOOD));
    expect(t.features).toEqual(['f1', 'f2']);
    expect(t.intercept).toBe(true);
    const c = t.columns;
    expect(c.n).toBe(4);
    expect(c.d).toBe(3);
    expect(Array.from(c.x)).toEqual([1, 0.5, -1, 1, 0.1, 2, 1, -0.25, 0, 1, 3, 4]);
    expect(Array.from(c.won)).toEqual([1, 0, 1, 0]);
    expect(Array.from(c.price)).toEqual([2, 1.5, 1.8, 2.5]);
    expect(c.competitor[0]).toBe(2.3);
    expect(Number.isNaN(c.competitor[1])).toBe(true);
    expect(c.competitor[2]).toBe(1.9);
    expect(c.weight).toBeUndefined();
    expect(t.productIds).toEqual(['A', 'B', 'C']);
    expect(Array.from(t.product)).toEqual([0, 1, 0, 2]);
    expect(Array.from(t.lines)).toEqual([2, 3, 4, 5]);
  });

  it('honours --features order, no intercept, weights', async () => {
    const f = csv('w.csv', ['weight,f2,product_id,price,won,competitor_price,f1', '2,7,A,1,1,1.5,3', ',8,B,1,0,,4']);
    const t = await readObservations(f, { features: ['f1', 'f2'], intercept: false });
    expect(t.columns.d).toBe(2);
    expect(Array.from(t.columns.x)).toEqual([3, 7, 4, 8]);
    expect(Array.from(t.columns.weight!)).toEqual([2, 1]);
  });

  it('non-number feature: file, line, column', async () => {
    const lines = GOOD.slice();
    lines[3] = 'A,abc,0,1.8,1,1.9';
    const e = await expectRowError(readObservations(csv('bad1.csv', lines)), 4, 'f1');
    expect(e.message).toContain('bad1.csv');
    expect(e.message).toContain('"abc"');
  });

  it('empty, NaN, Infinity, hex and trailing junk are not numbers', async () => {
    for (const v of ['', 'NaN', 'Infinity', '0x10', '1.5abc', '1,5']) {
      const lines = GOOD.slice();
      lines[2] = `B,${v === '1,5' ? '"1,5"' : v},2,1.5,0,`;
      await expectRowError(readObservations(csv('bad2.csv', lines)), 3, 'f1');
    }
  });

  it('bad won value', async () => {
    const lines = GOOD.slice();
    lines[4] = 'C,3,4,2.5,yes,';
    await expectRowError(readObservations(csv('bad3.csv', lines)), 5, 'won');
  });

  it('won row without competitor_price', async () => {
    const lines = GOOD.slice();
    lines[1] = 'A,0.5,-1,2.0,1,';
    const e = await expectRowError(readObservations(csv('bad4.csv', lines)), 2, 'competitor_price');
    expect(e.message).toMatch(/required when won = 1/);
  });

  it('non-number price, negative weight, empty product id, wrong field count', async () => {
    await expectRowError(readObservations(csv('b5.csv', [GOOD[0], 'A,1,1,x,0,'])), 2, 'price');
    await expectRowError(readObservations(csv('b6.csv', ['product_id,f1,price,won,competitor_price,weight', 'A,1,1,0,,-1'])), 2, 'weight');
    await expectRowError(readObservations(csv('b7.csv', [GOOD[0], ',1,1,1,0,'])), 2, 'product_id');
    const e = await readObservations(csv('b8.csv', [GOOD[0], 'A,1,1,1,0,', 'A,1,1,0,'])).catch((x: unknown) => x as RepricerError);
    expect((e as RepricerError).code).toBe('INPUT_ROW_INVALID');
    expect((e as RepricerError).details?.line).toBe(3);
  });

  it('blank lines do not shift line numbers', async () => {
    const f = join(dir, 'blank.csv');
    writeFileSync(f, [GOOD[0], GOOD[1], '', GOOD[2], 'A,zz,1,1,0,'].join('\n') + '\n');
    await expectRowError(readObservations(f), 5, 'f1');
  });

  it('missing required and requested columns name the column against line 1', async () => {
    const e1 = await readObservations(csv('m1.csv', ['product_id,f1,price,won', 'A,1,1,0'])).catch((x: unknown) => x as RepricerError);
    expect((e1 as RepricerError).code).toBe('INPUT_UNREADABLE');
    expect((e1 as RepricerError).details).toMatchObject({ line: 1, column: 'competitor_price' });
    const e2 = await readObservations(csv('m2.csv', GOOD), { features: ['f1', 'f9'] }).catch((x: unknown) => x as RepricerError);
    expect((e2 as RepricerError).details).toMatchObject({ line: 1, column: 'f9' });
    // a file that does not exist is a missing resource (NOT_FOUND, exit 4), not an unreadable one
    const e3 = await readObservations(join(dir, 'nope.csv')).catch((x: unknown) => x as RepricerError);
    expect((e3 as RepricerError).code).toBe('NOT_FOUND');
    expect((e3 as RepricerError).message).toBe(`${join(dir, 'nope.csv')}: no such observations file`);
    const e4 = await readObservations(dir).catch((x: unknown) => x as RepricerError);
    expect((e4 as RepricerError).code).toBe('INPUT_UNREADABLE');
  });

  it('property: parseDecimal agrees with the decimal grammar (and the check catches plain Number())', () => {
    const grammar = /^ *[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)? *$/;
    const reference = (t: string) => (grammar.test(t) && Number.isFinite(Number(t)) ? Number(t) : NaN);
    const cell = fc.oneof(
      fc.stringMatching(/^ ?[+-]?\d{0,4}(\.\d{0,3})?([eE][+-]?\d{0,3})? ?$/),
      fc.constantFrom('', ' ', 'NaN', 'Infinity', '-Infinity', '0x1A', '0b1', '0o7', '1e999', '.', 'e5', '1..2', '1,5', '--1', '1e'),
      fc.string({ maxLength: 6 }),
    );
    const same = (f: (t: string) => number) => fc.property(cell, (t) => Object.is(f(t), reference(t)));
    expect(fc.check(same(parseDecimal), { numRuns: 3000, seed: 5 }).failed).toBe(false);
    expect(fc.check(same((t) => Number(t)), { numRuns: 3000, seed: 5 }).failed).toBe(true);
  });

  it('parseDecimal and parseWon', () => {
    expect(parseDecimal(' 1.5e3 ')).toBe(1500);
    expect(parseDecimal('-.5')).toBe(-0.5);
    expect(Number.isNaN(parseDecimal('1e999'))).toBe(true);
    expect(Number.isNaN(parseDecimal(''))).toBe(true);
    expect(parseWon('TRUE')).toBe(1);
    expect(parseWon('0')).toBe(0);
    expect(parseWon('2')).toBe(-1);
  });
});

describe('readObservations (Parquet)', () => {
  function writeParquet(name: string, won: (boolean | number)[], comp: (number | null)[]): string {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'product_id', data: ['A', 'B', 'A'], type: 'STRING' },
        { name: 'f1', data: Float64Array.from([0.5, 1, -2]), type: 'DOUBLE' },
        { name: 'price', data: Float64Array.from([2, 1.5, 1.8]), type: 'DOUBLE' },
        { name: 'won', data: won, type: typeof won[0] === 'boolean' ? 'BOOLEAN' : 'INT32' },
        { name: 'competitor_price', data: comp, type: 'DOUBLE', nullable: true },
      ],
    });
    const f = join(dir, name);
    writeFileSync(f, new Uint8Array(buf));
    return f;
  }

  it('reads the same columns as CSV', async () => {
    const t = await readObservations(writeParquet('ok.parquet', [true, false, true], [2.5, null, 2.0]));
    expect(t.format).toBe('parquet');
    expect(t.features).toEqual(['f1']);
    expect(Array.from(t.columns.x)).toEqual([1, 0.5, 1, 1, 1, -2]);
    expect(Array.from(t.columns.won)).toEqual([1, 0, 1]);
    expect(t.columns.competitor[2]).toBe(2.0);
    expect(Number.isNaN(t.columns.competitor[1])).toBe(true);
    expect(t.productIds).toEqual(['A', 'B']);
  });

  it('won row without competitor price names the row (1-based) and column', async () => {
    await expectRowError(readObservations(writeParquet('bad.parquet', [1, 0, 1], [2.5, null, null])), 3, 'competitor_price');
    await expectRowError(readObservations(writeParquet('bad2.parquet', [1, 2, 1], [2.5, null, 1])), 2, 'won');
  });
});
