/**
 * Rows the guardrails reject because of their input (a negative cost, bounds that leave no
 * admissible price): under --on-error fail the job stops at the first one and names it, as it
 * does for a malformed row; under skip they are published with status `rejected` and the reason.
 */
import type { PriceColumns } from '../pricing/engine.js';
import { REASON_BIT, STATUS_CODE } from '../pricing/policy.js';
import type { CatalogChunk } from '../pricing/engine.js';

const INPUT_CAUSES = REASON_BIT.invalid_cost | REASON_BIT.conflicting_bounds;

/** The first row rejected for its input, or -1. */
export function firstInputRejection(p: PriceColumns): number {
  for (let i = 0; i < p.n; i++) if (p.status[i] === STATUS_CODE.rejected && p.reasons[i] & INPUT_CAUSES) return i;
  return -1;
}

const opt = (v: number) => (Number.isNaN(v) ? 'empty' : String(v));

/** What is wrong with row i, in the words of the catalogue's columns. */
export function describeInputRejection(p: PriceColumns, chunk: CatalogChunk, i: number): string {
  if (p.reasons[i] & REASON_BIT.invalid_cost) return `column cost: expected a finite number >= 0, got ${chunk.cost[i]} (invalid_cost)`;
  return `min_price ${opt(chunk.minPrice[i])} and max_price ${opt(chunk.maxPrice[i])}, with the policy's bounds, margin floor and rounding grid, leave no admissible price (conflicting_bounds)`;
}

/**
 * The file line of the i-th row of a text chunk whose first line is `firstLine`: rows are the
 * chunk's non-blank lines, as the parsers count them.
 */
export function lineOfRow(bytes: Uint8Array, i: number, firstLine: number): number {
  let line = firstLine;
  let row = -1;
  let blank = true;
  for (let k = 0; k < bytes.length; k++) {
    const b = bytes[k];
    if (b === 10) {
      if (!blank && ++row === i) return line;
      line++;
      blank = true;
    } else if (b !== 13 && b !== 32 && b !== 9) blank = false;
  }
  return !blank && ++row === i ? line : firstLine + i;
}
