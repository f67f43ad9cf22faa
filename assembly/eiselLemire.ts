// Decimal w·10^q -> the nearest binary64, by the Eisel-Lemire algorithm (Daniel Lemire, "Number
// Parsing at a Gigabyte per Second", Software: Practice and Experience 51(8), 2021; the fast_float
// library's compute_float). For the CSV kernel's numbers with 16 to 19 significant digits, which a
// shortest round-trip printer writes for most doubles and which Clinger's fast path cannot take.
//
// It returns false whenever it cannot prove the result correctly rounded (the rare products whose
// truncation could decide the rounding, a value that would be subnormal, infinite or out of the
// table's range): the caller then converts the text with the host's Number(), so every value is
// exactly Number()'s. Tested against Number() on millions of strings (test/eiselLemire.test.ts).

import { POW5_128, POW5_SMALLEST, POW5_LARGEST } from './eiselLemireTables';

/** The result of the last successful eiselLemire call. */
export let eiselLemireValue: f64 = 0;

let mulHi: u64 = 0;

/** Low 64 bits of a·b; the high 64 bits go to mulHi. */
@inline function mul128(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const p0 = aLo * bLo;
  const p1 = aLo * bHi;
  const p2 = aHi * bLo;
  const p3 = aHi * bHi;
  const mid = (p0 >> 32) + (p1 & 0xffffffff) + (p2 & 0xffffffff);
  mulHi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
  return (p0 & 0xffffffff) | (mid << 32);
}

/**
 * w·10^q (w > 0, at most 19 decimal digits) as the nearest binary64 (ties to even) into
 * eiselLemireValue; false when the algorithm cannot decide it (see the header).
 */
export function eiselLemire(w: u64, q: i32): bool {
  if (w == 0 || q < POW5_SMALLEST || q > POW5_LARGEST) return false;
  const lz = <i32>clz(w);
  const wn = w << <u64>lz;
  const entry = POW5_128 + (<usize>(q - POW5_SMALLEST) << 4);
  // the 128-bit product's high part, refined by the table's low word when the bits that decide
  // the rounding are all ones (fast_float compute_product_approximation, 55 = 52 + 3 bits kept)
  let lo = mul128(wn, load<u64>(entry));
  let hi = mulHi;
  const precisionMask: u64 = 0xffffffffffffffff >> 55;
  if ((hi & precisionMask) == precisionMask) {
    mul128(wn, load<u64>(entry, 8));
    const secondHi = mulHi;
    lo += secondHi;
    if (secondHi > lo) hi++;
  }
  // the truncated power may still hide a carry: outside -27..55 such a product is undecided
  if (lo == 0xffffffffffffffff && (q < -27 || q > 55)) return false;
  const upperbit = <i32>(hi >> 63);
  let mantissa = hi >> <u64>(upperbit + 9);
  // floor(q·log2(10)) + 63, then the binary exponent with the double's bias (1023)
  let power2 = ((((152170 + 65536) * q) >> 16) + 63) + upperbit - lz + 1023;
  if (power2 <= 0) return false; // subnormal or zero: left to the host
  // exactly halfway between two doubles (only possible for small |q|): round to even
  if (lo <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1) {
    if ((mantissa << <u64>(upperbit + 9)) == hi) mantissa &= ~(<u64>1);
  }
  mantissa += mantissa & 1;
  mantissa >>= 1;
  if (mantissa >= (<u64>2 << 52)) {
    mantissa = <u64>1 << 52;
    power2++;
  }
  mantissa &= ~(<u64>1 << 52);
  if (power2 >= 0x7ff) return false; // infinite: left to the host
  eiselLemireValue = reinterpret<f64>(mantissa | (<u64>power2 << 52));
  return true;
}
