// Catalogue CSV chunk -> columns, in linear memory (issue 4: parsing was ~30 % of a batch job in
// JavaScript). Handles the quote-free fast path only; anything unusual ends the scan with a
// non-zero code and the host re-parses the whole chunk with the JavaScript path, which names
// file, line and column. The numbers are exactly Number()'s: with <= 15 significant digits and
// |exponent| <= 22 one IEEE multiply or divide of exact values is correctly rounded (Clinger's
// fast path); any other well-formed decimal is listed for the host to convert with Number().

// Column roles (the host maps the header onto these).
const ROLE_IGNORE: i32 = -1;
const ROLE_ID: i32 = 0;
const ROLE_COST: i32 = 1;
const ROLE_CURRENT: i32 = 2;
const ROLE_MIN: i32 = 3;
const ROLE_MAX: i32 = 4;
const ROLE_FEATURE: i32 = 16; // feature j has role 16 + j

// Scan outcomes.
const SCAN_OK: i32 = 0;
const SCAN_BAD_ROW: i32 = 1; // a field the fast path will not accept: the host re-parses
const SCAN_FULL: i32 = 2; // more rows or slow numbers than the host allowed room for

// Field outcomes.
const FIELD_VALUE: i32 = 0;
const FIELD_BLANK: i32 = 1;
const FIELD_INVALID: i32 = 2;
const FIELD_SLOW: i32 = 3;

const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

// The value of the last FIELD_VALUE and the trimmed bounds of the last field.
let fieldValue: f64 = 0;
let fieldStart: i32 = 0;
let fieldEnd: i32 = 0;

/** Parse b[s, e) as [+-]digits[.digits][(e|E)[+-]digits] with surrounding spaces. */
function parseField(src: usize, s: i32, e: i32): i32 {
  while (s < e && load<u8>(src + <usize>s) == 32) s++;
  while (e > s && load<u8>(src + <usize>(e - 1)) == 32) e--;
  fieldStart = s;
  fieldEnd = e;
  if (s >= e) return FIELD_BLANK;
  let i = s;
  let neg = false;
  let c = <u32>load<u8>(src + <usize>i);
  if (c == 45 || c == 43) {
    neg = c == 45;
    i++;
  }
  let mant: u64 = 0;
  let sig: i32 = 0;
  let frac: i32 = 0;
  let any = false;
  while (i < e) {
    const d = <u32>load<u8>(src + <usize>i) - 48;
    if (d >= 10) break;
    if (sig > 0 || d != 0) sig++;
    mant = mant * 10 + <u64>d; // wraps past 19 digits: such fields take the slow path anyway
    any = true;
    i++;
  }
  if (i < e && load<u8>(src + <usize>i) == 46) {
    i++;
    while (i < e) {
      const d = <u32>load<u8>(src + <usize>i) - 48;
      if (d >= 10) break;
      if (sig > 0 || d != 0) sig++;
      mant = mant * 10 + <u64>d;
      frac++;
      any = true;
      i++;
    }
  }
  if (!any) return FIELD_INVALID;
  let exp: i32 = 0;
  if (i < e) {
    c = <u32>load<u8>(src + <usize>i);
    if (c != 101 && c != 69) return FIELD_INVALID;
    i++;
    let eneg = false;
    if (i < e) {
      c = <u32>load<u8>(src + <usize>i);
      if (c == 45 || c == 43) {
        eneg = c == 45;
        i++;
      }
    }
    let ed: i32 = 0;
    while (i < e) {
      const d = <u32>load<u8>(src + <usize>i) - 48;
      if (d >= 10) break;
      if (exp < 100000) exp = exp * 10 + <i32>d;
      ed++;
      i++;
    }
    if (ed == 0 || i != e) return FIELD_INVALID;
    if (eneg) exp = -exp;
  }
  const e10 = exp - frac;
  if (sig <= 15 && e10 >= -22 && e10 <= 22) {
    const m = <f64>mant;
    const v = e10 < 0 ? m / unchecked(POW10[-e10]) : m * unchecked(POW10[e10]);
    fieldValue = neg ? -v : v;
    return FIELD_VALUE;
  }
  return FIELD_SLOW;
}

/**
 * Parse whole lines src[0, len) of a quote-free catalogue chunk. `roles` holds one i32 role per
 * header column (width of them). Rows go to x (n x D, intercept 1.0 first when `intercept`),
 * cost / cur / minP / maxP (NaN when blank or absent) and the product id's byte range to
 * idStart / idLen (i32). Well-formed numbers beyond the fast path are listed in `slow` as i32
 * quadruples (target byte address, field start, field end, 1 when the value may not be negative)
 * with the target pre-set to NaN.
 * `out` (i32 x 4) receives rows, lines, slow count and, on SCAN_BAD_ROW, the 0-based line.
 * Empty lines are skipped; columns beyond the header are ignored (as the JavaScript path does).
 */
export function parseCatalogCsv(
  src: usize, len: i32, roles: usize, width: i32, D: i32, intercept: i32, cap: i32,
  x: usize, cost: usize, cur: usize, minP: usize, maxP: usize,
  idStart: usize, idLen: usize, slow: usize, slowCap: i32, out: usize,
): i32 {
  const F = D - intercept;
  let n: i32 = 0;
  let nSlow: i32 = 0;
  let line: i32 = 0;
  let i: i32 = 0;
  while (i < len) {
    // find the end of this line
    let j = i;
    while (j < len && load<u8>(src + <usize>j) != 10) j++;
    let le = j;
    if (le > i && load<u8>(src + <usize>(le - 1)) == 13) le--;
    if (le == i) {
      line++;
      i = j + 1;
      continue;
    }
    if (n >= cap) {
      store<i32>(out + 12, line);
      return SCAN_FULL;
    }
    const rowX = x + (<usize>n * <usize>D << 3);
    if (intercept) store<f64>(rowX, 1.0);
    const r8 = <usize>n << 3;
    store<f64>(cost + r8, NaN);
    store<f64>(cur + r8, NaN);
    store<f64>(minP + r8, NaN);
    store<f64>(maxP + r8, NaN);
    store<i32>(idLen + (<usize>n << 2), 0);
    // features must all be seen: count them
    let seen: i32 = 0;
    let col: i32 = 0;
    let fs = i;
    let k = i;
    while (true) {
      const at = k == le;
      if (at || load<u8>(src + <usize>k) == 44) {
        if (col < width) {
          const role = load<i32>(roles + (<usize>col << 2));
          if (role == ROLE_ID) {
            if (k == fs) return bad(out, line);
            store<i32>(idStart + (<usize>n << 2), fs);
            store<i32>(idLen + (<usize>n << 2), k - fs);
          } else if (role != ROLE_IGNORE) {
            const f = parseField(src, fs, k);
            let target: usize;
            if (role >= ROLE_FEATURE) {
              if (f == FIELD_BLANK) return bad(out, line);
              target = rowX + (<usize>(role - ROLE_FEATURE + intercept) << 3);
              seen++;
            } else {
              target = (role == ROLE_COST ? cost : role == ROLE_CURRENT ? cur : role == ROLE_MIN ? minP : maxP) + r8;
            }
            if (f == FIELD_INVALID) return bad(out, line);
            if (f == FIELD_VALUE) {
              // prices and bounds may not be negative (the JavaScript path rejects them)
              if (role != ROLE_COST && role < ROLE_FEATURE && fieldValue < 0) return bad(out, line);
              store<f64>(target, fieldValue);
            } else if (f == FIELD_SLOW) {
              if (nSlow >= slowCap) {
                store<i32>(out + 12, line);
                return SCAN_FULL;
              }
              store<f64>(target, NaN);
              const t = slow + (<usize>nSlow << 4);
              store<i32>(t, <i32>target);
              store<i32>(t, fieldStart, 4);
              store<i32>(t, fieldEnd, 8);
              store<i32>(t, role != ROLE_COST && role < ROLE_FEATURE ? 1 : 0, 12);
              nSlow++;
            }
          }
        }
        col++;
        fs = k + 1;
        if (at) break;
      }
      k++;
    }
    if (seen != F || load<i32>(idLen + (<usize>n << 2)) == 0) return bad(out, line);
    n++;
    line++;
    i = j + 1;
  }
  store<i32>(out, n);
  store<i32>(out + 4, line);
  store<i32>(out + 8, nSlow);
  return SCAN_OK;
}

function bad(out: usize, line: i32): i32 {
  store<i32>(out + 12, line);
  return SCAN_BAD_ROW;
}
