/**
 * Boundary checks for the typed wrappers. Kernels check nothing (docs/architecture.md); these
 * throw RangeError/TypeError naming the argument and the offending value.
 */
export type NoiseFamily = 'gaussian' | 'logistic';
export type Convention = 'price' | 'yield';

export const FAMILY_CODE: Record<NoiseFamily, number> = { gaussian: 0, logistic: 1 };
export const CONVENTION_CODE: Record<Convention, number> = { price: 0, yield: 1 };

export interface NoiseSpec {
  family: NoiseFamily;
  /** sigma (Gaussian) or s (logistic), > 0 */
  scale: number;
}

export function familyCode(fn: string, family: unknown): number {
  if (family !== 'gaussian' && family !== 'logistic') {
    throw new RangeError(`${fn}: noise.family must be "gaussian" or "logistic", got ${JSON.stringify(family)}`);
  }
  return FAMILY_CODE[family];
}

export function conventionCode(fn: string, convention: unknown): number {
  if (convention !== 'price' && convention !== 'yield') {
    throw new RangeError(`${fn}: convention must be "price" or "yield", got ${JSON.stringify(convention)}`);
  }
  return CONVENTION_CODE[convention];
}

export function checkNoise(fn: string, noise: NoiseSpec): { family: number; scale: number } {
  if (noise === null || typeof noise !== 'object') throw new TypeError(`${fn}: noise must be an object {family, scale}, got ${String(noise)}`);
  const family = familyCode(fn, noise.family);
  checkPositive(fn, 'noise.scale', noise.scale);
  return { family, scale: noise.scale };
}

export function checkFinite(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

export function checkPositive(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new RangeError(`${fn}: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

export function checkInteger(fn: string, name: string, v: unknown, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${fn}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

export function checkArray(fn: string, name: string, a: unknown, length?: number): Float64Array {
  if (!(a instanceof Float64Array)) throw new TypeError(`${fn}: ${name} must be a Float64Array, got ${a === null ? 'null' : typeof a}`);
  if (length !== undefined && a.length !== length) throw new RangeError(`${fn}: ${name} must have length ${length}, got ${a.length}`);
  return a;
}

/** Every entry finite; names the first bad index. */
export function checkFiniteArray(fn: string, name: string, a: Float64Array, length?: number): Float64Array {
  checkArray(fn, name, a, length);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`${fn}: ${name}[${i}] must be finite, got ${a[i]}`);
  }
  return a;
}
