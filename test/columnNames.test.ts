/**
 * Misspelt columns are errors that name the intended column (core/columnNames.ts), in catalogues
 * (records/catalogSchema.ts) and observations (model/observations.ts); other extra columns are an
 * error too unless extra columns are allowed (test/extraColumns.test.ts runs the commands).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookalike } from '../src/core/columnNames.js';
import { resolveLayout } from '../src/records/catalogSchema.js';
import { readObservations } from '../src/model/observations.js';
import type { RepricerError } from '../src/core/errors.js';

const KNOWN = ['cost', 'current_price', 'min_price', 'max_price'];

describe('lookalike', () => {
  it('case, spaces, underscores and hyphens; one edit for names of five letters or more', () => {
    expect(lookalike('Cost', KNOWN)).toBe('cost');
    expect(lookalike(' COST', KNOWN)).toBe('cost');
    expect(lookalike('current price', KNOWN)).toBe('current_price');
    expect(lookalike('Current-Price', KNOWN)).toBe('current_price');
    expect(lookalike('curent_price', KNOWN)).toBe('current_price');
    expect(lookalike('max_prise', KNOWN)).toBe('max_price');
    expect(lookalike('minprice', KNOWN)).toBe('min_price');
  });
  it('leaves unrelated names, short near-misses and the name itself alone', () => {
    expect(lookalike('cost', KNOWN)).toBeUndefined();
    expect(lookalike('post', KNOWN)).toBeUndefined(); // one edit from cost, but shorter than five
    expect(lookalike('category', KNOWN)).toBeUndefined();
    expect(lookalike('brand', KNOWN)).toBeUndefined();
    expect(lookalike('', KNOWN)).toBeUndefined();
    expect(lookalike('price_max_in_eur', KNOWN)).toBeUndefined();
  });
});

describe('catalogue header', () => {
  it('a misspelt optional column is an error naming the column and the intended name', () => {
    const e = (() => {
      try {
        resolveLayout('c.csv', ['product_id', 'f1', 'Cost', 'current_price'], ['f1']);
      } catch (x) {
        return x as RepricerError;
      }
      throw new Error('accepted');
    })();
    expect(e.code).toBe('INPUT_UNREADABLE');
    expect(e.message).toBe('c.csv:1: column "Cost" looks like "cost", which is missing: rename it (or drop it)');
    expect(e.details).toMatchObject({ line: 1, column: 'Cost', expected: 'cost' });
  });
  it('a missing feature names the look-alike that is there', () => {
    expect(() => resolveLayout('c.csv', ['product_id', 'F1'], ['f1'])).toThrow('did you mean to name column "F1" "f1"?');
  });
  it('unrelated extra columns are an error naming them and what a catalogue has', () => {
    expect(() => resolveLayout('c.csv', ['product_id', 'f1', 'cost', 'brand', ' ', 'category'], ['f1'])).toThrow(
      'c.csv:1: unexpected columns "brand", (unnamed column 5), "category": a catalogue has product_id, the model\'s features (f1) and optionally cost, current_price, min_price, max_price, map_price, elasticity, return_rate, return_cost, inventory, target_inventory, expert_price, days_left, segment, season; remove them, or pass --allow-extra-columns to ignore them',
    );
  });
  it('allowed, unrelated extra columns and a look-alike of a column that is present are ignored', () => {
    const l = resolveLayout('c.csv', ['product_id', 'f1', 'cost', 'Cost', 'brand', 'category'], ['f1'], { allowExtraColumns: true });
    expect(l.cost).toBe(2);
    expect(l.features).toEqual([1]);
  });
  it('allowed extra columns do not cover a look-alike of a missing column', () => {
    expect(() => resolveLayout('c.csv', ['product_id', 'f1', 'Cost', 'brand'], ['f1'], { allowExtraColumns: true })).toThrow('column "Cost" looks like "cost", which is missing: rename it');
  });
});

describe('observations header', () => {
  const dir = mkdtempSync(join(tmpdir(), 'repricer-cols-'));
  it('a misspelt weight is an error, not a feature', async () => {
    const f = join(dir, 'w.csv');
    writeFileSync(f, 'product_id,f1,price,won,competitor_price,Weight\nA,1,1,1,2,1\n');
    const e = (await readObservations(f).catch((x: unknown) => x)) as RepricerError;
    expect(e.code).toBe('INPUT_UNREADABLE');
    expect(e.message).toBe(`${f}:1: column "Weight" looks like "weight", which is missing: rename it`);
  });
  it('with --features, another column is an error unless allowed; a look-alike stays an error', async () => {
    const f = join(dir, 'x.csv');
    writeFileSync(f, 'product_id,f1,f2,price,won,competitor_price\nA,1,2,1,1,2\n');
    const e = (await readObservations(f, { features: ['f1'] }).catch((x: unknown) => x)) as RepricerError;
    expect(e.code).toBe('INPUT_UNREADABLE');
    expect(e.message).toBe(`${f}:1: unexpected column "f2": with --features, observations have product_id, price, won, competitor_price, optionally weight, and the features f1; remove it, add it to --features, or pass --allow-extra-columns to ignore it`);
    expect((await readObservations(f, { features: ['f1'], allowExtraColumns: true })).features).toEqual(['f1']);
    const g = join(dir, 'xw.csv');
    writeFileSync(g, 'product_id,f1,price,won,competitor_price,Weight\nA,1,1,1,2,1\n');
    await expect(readObservations(g, { features: ['f1'], allowExtraColumns: true })).rejects.toThrow('column "Weight" looks like "weight", which is missing: rename it');
  });
  it('a feature that only resembles a reserved name which is present stays a feature', async () => {
    const f = join(dir, 'ok.csv');
    writeFileSync(f, 'product_id,prices,price,won,competitor_price\nA,1,1,1,2\n');
    const t = await readObservations(f);
    expect(t.features).toEqual(['prices']);
  });
});
