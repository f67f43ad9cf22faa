/**
 * The numeric domain a published price lives in (docs/math.md §4.4, "The price domain").
 *
 * A price, a cost, a bound or the mean valuation x . theta above PRICE_LIMIT is outside it: at
 * 1e12 a double still resolves 1.2e-4 of a currency unit, so cents are exact, and no catalogue
 * prices anything near it. Beyond it the engine would publish prices such as 9.24e307 whose
 * expected profit and Greeks underflow or overflow; such rows are rejected (`out_of_domain`)
 * instead.
 */
export const PRICE_LIMIT = 1e12;

/**
 * Admissible noise scale of a model, in currency units: below 1e-6 of a unit the win
 * probability is a step function at double precision, and every standardised margin (c - u)/sigma
 * overflows for ordinary prices; above PRICE_LIMIT nothing in the domain can be priced.
 */
export const SCALE_MIN = 1e-6;
export const SCALE_MAX = PRICE_LIMIT;
