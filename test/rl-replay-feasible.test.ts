/**
 * The replay buffer (ring wraparound, seeded uniform sampling) and the feasible price set of the
 * learning policy (src/rl/feasiblePrice.ts): a property test that no action, however noisy, maps
 * to a price the engine's guardrails (src/pricing/guardrails.ts, applyPolicy) would move, and that
 * the bind counts say which constraint made each end of the set.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReplayBuffer } from '../src/rl/replayBuffer.js';
import { actionToPrice, checkGuardrails, countBinds, emptyBindCounts, feasibleSet, type PriceGuardrails } from '../src/pricing/feasiblePrice.js';
import { applyPolicy } from '../src/pricing/guardrails.js';
import { Rng } from '../src/sim/random.js';

describe('ReplayBuffer', () => {
  it('keeps the last `capacity` transitions in a ring, overwriting the oldest', () => {
    const b = new ReplayBuffer(3, 2, 1);
    for (let i = 0; i < 5; i++) b.add([i, -i], [i / 10], i, [i + 1, -i - 1], i === 4);
    expect(b.size).toBe(3);
    expect(b.cursor).toBe(2);
    // slots 0, 1 hold transitions 3 and 4; slot 2 still transition 2
    expect([0, 1, 2].map((k) => b.at(k).reward)).toEqual([3, 4, 2]);
    const t = b.at(1);
    expect(Array.from(t.state)).toEqual([4, -4]);
    expect(Array.from(t.nextState)).toEqual([5, -5]);
    expect(t.action[0]).toBeCloseTo(0.4, 6);
    expect(t.done).toBe(true);
    expect(b.at(0).done).toBe(false);
    expect(() => b.add([1], [0], 0, [1, 2], false)).toThrow(/states must have 2 entries/);
  });

  it('samples only stored slots, the same ones for the same seed, and about uniformly', () => {
    const b = new ReplayBuffer(100, 1, 1);
    for (let i = 0; i < 40; i++) b.add([i], [0], i, [i], false);
    const s1 = b.sampleSlots(4000, new Rng(5, 0, 9));
    const s2 = b.sampleSlots(4000, new Rng(5, 0, 9));
    const s3 = b.sampleSlots(4000, new Rng(6, 0, 9));
    expect(Array.from(s1)).toEqual(Array.from(s2));
    expect(Array.from(s1)).not.toEqual(Array.from(s3));
    const counts = new Array(40).fill(0);
    for (const i of s1) counts[i]++;
    expect(Math.min(...s1)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...s1)).toBeLessThan(40);
    // chi-square with 39 degrees of freedom: its 99.9 % quantile is 72.1
    const e = 4000 / 40;
    const chi2 = counts.reduce((a, c) => a + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(72.1);
    // a minibatch is the transitions of the drawn slots
    const mb = b.sample(7, new Rng(5, 0, 9));
    const slots = b.sampleSlots(7, new Rng(5, 0, 9));
    for (let k = 0; k < 7; k++) {
      expect(mb.rewards[k]).toBe(slots[k]);
      expect(mb.states[k]).toBe(slots[k]);
    }
  });
});

describe('feasible price set', () => {
  it('maps the action affinely onto [max(floor, MAP, step low), min(ceiling, step high)]', () => {
    const g: PriceGuardrails = { floor: 11, ceiling: 200, maxStepPct: 50 };
    // 30 ± 50 % = [15, 45]: no bound binds, a = 0 keeps the price
    const free = feasibleSet(30, g);
    expect(free).toEqual({ lo: 15, hi: 45, lower: 'step', upper: 'step', empty: false });
    expect([-1, 0, 1, 0.5].map((a) => actionToPrice(a, free))).toEqual([15, 30, 45, 37.5]);
    // 20 ± 50 % = [10, 30]: the floor 11 binds
    const low = feasibleSet(20, g);
    expect(low).toEqual({ lo: 11, hi: 30, lower: 'floor', upper: 'step', empty: false });
    expect(actionToPrice(-3, low)).toBe(11); // clipped to a = −1
    // a MAP above the floor is the binding lower bound
    expect(feasibleSet(20, { ...g, map: 12 })).toMatchObject({ lo: 12, lower: 'map' });
    // the band wholly above the ceiling: the ceiling alone
    expect(feasibleSet(500, g)).toEqual({ lo: 200, hi: 200, lower: 'step', upper: 'ceiling', empty: true });
    expect(feasibleSet(5, g)).toMatchObject({ lo: 11, hi: 11, empty: true });
    expect(() => actionToPrice(NaN, free)).toThrow(/NaN/);
  });

  it('property: no action maps outside the set the engine guardrails accept, and binds are counted', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 1000, noNaN: true }),
        fc.double({ min: 0.1, max: 100, noNaN: true }),
        fc.double({ min: 1, max: 20, noNaN: true }),
        fc.double({ min: 1, max: 99, noNaN: true }),
        fc.option(fc.double({ min: 0, max: 1.5, noNaN: true })),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (last, floor, ceilOverFloor, step, mapShare, actions) => {
          const ceiling = floor * ceilOverFloor;
          const map = mapShare === null ? undefined : Math.min(floor * mapShare, ceiling);
          const g: PriceGuardrails = { floor, ceiling, maxStepPct: step, map };
          checkGuardrails(g);
          const set = feasibleSet(last, g);
          const counts = emptyBindCounts();
          countBinds(counts, set);
          expect(counts.days).toBe(1);
          expect(counts.floor + counts.map).toBe(set.lower === 'step' ? 0 : 1);
          expect(counts.ceiling).toBe(set.upper === 'ceiling' ? 1 : 0);
          expect(counts.empty).toBe(set.empty ? 1 : 0);
          // the end a bound made is that bound
          if (!set.empty && set.lower === 'floor') expect(set.lo).toBe(floor);
          if (!set.empty && set.upper === 'ceiling') expect(set.hi).toBe(ceiling);
          for (const a of actions) {
            const p = actionToPrice(a, set);
            expect(p).toBeGreaterThanOrEqual(set.lo);
            expect(p).toBeLessThanOrEqual(set.hi);
            expect(p).toBeGreaterThanOrEqual(Math.max(floor, map ?? 0));
            expect(p).toBeLessThanOrEqual(ceiling);
            // the engine's guardrails publish the proposed price unchanged
            const out = applyPolicy(
              { minMarginOverCost: 1, maxChangePct: step, bounds: { max: ceiling } },
              { productId: 'x', modelPrice: p, cost: floor, currentPrice: last, minPrice: NaN, maxPrice: NaN, mapPrice: map ?? NaN, gamma: -1, stdError: 0 },
              false,
            );
            expect(out.price).toBe(p);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
