/**
 * Values of command-line options given as strings: whole numbers with a lower bound and one of a
 * fixed set of words. A bad value is INVALID_ARGUMENT (exit 2) naming the option and what it got.
 */
import { RepricerError } from '../core/errors.js';

/** An integer option (undefined when not given). */
export function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isInteger(x) || x < min) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return x;
}

/** An option that takes one of a fixed set of words. */
export function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
