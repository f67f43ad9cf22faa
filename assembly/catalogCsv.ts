// Catalogue CSV chunk -> columns, in linear memory (parsing was ~30 % of a batch job in
// JavaScript). Handles the quote-free fast path only; anything unusual ends the scan with a
// non-zero code and the host re-parses the whole chunk with the JavaScript path, which names
// file, line and column. The numbers are exactly Number()'s: with <= 15 significant digits and
// |exponent| <= 22 one IEEE multiply or divide of exact values is correctly rounded (Clinger's
// fast path), with up to 19 significant digits by Eisel-Lemire (assembly/eiselLemire.ts, exact or
// declined); any other well-formed decimal is listed for the host to convert with Number().

import { eiselLemire, eiselLemireValue } from './eiselLemire';

// Column roles (the host maps the header onto these).
const ROLE_IGNORE: i32 = -1;
const ROLE_ID: i32 = 0;
// optional numeric column k (0 <= k < 15) has role 1 + k; its column array is the k-th usize at
// `opt`, and bit k of `nonNeg` says whether a negative value must go to the host's path
const ROLE_OPT: i32 = 1;
const ROLE_FEATURE: i32 = 16; // feature j has role 16 + j
// the text columns set by catalogTextColumn (the catalogue's segment and season): text column k
// has role ROLE_TEXT - k; its byte range per row, as the id's, blank cells included (length 0
// after trimming spaces and a line-ending '\r')
const ROLE_TEXT: i32 = -2;
const TEXT_COLUMNS: i32 = 2;

// Where the cells of text column k go (i32 start and length per row, relative to src); set by the
// host right before a parse whose roles name that column.
// Plain globals, not a StaticArray: the host's arena starts at the heap base, so this module
// allocates nothing at run time.
let textStart0: usize = 0;
let textLen0: usize = 0;
let textStart1: usize = 0;
let textLen1: usize = 0;

/** Where the next parse puts the byte ranges of text column k (i32 arrays of cap rows). */
export function catalogTextColumn(k: i32, start: usize, len: usize): void {
  if (k == 0) {
    textStart0 = start;
    textLen0 = len;
  } else {
    textStart1 = start;
    textLen1 = len;
  }
}

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

// The value of the last FIELD_VALUE, the trimmed bounds of the last number field, and the scan
// position (left on the byte that ended the field: ',', '\n', a line-ending '\r' or the end).
let fieldValue: f64 = 0;
let fieldStart: i32 = 0;
let fieldEnd: i32 = 0;
let pos: i32 = 0;

/**
 * Scan the number field at `pos`: [+-]digits[.digits][(e|E)[+-]digits] with surrounding spaces,
 * ended by ',', '\n', '\r' before '\n' (or before the end) or the end of the chunk. One pass:
 * the digits are read as the field is delimited.
 */
function scanNumber(src: usize, len: i32): i32 {
  let i = pos;
  while (i < len && load<u8>(src + <usize>i) == 32) i++;
  const s = i;
  let neg = false;
  let mant: u64 = 0;
  let frac: i32 = 0;
  let any = false;
  let exp: i32 = 0;
  let expOk = true;
  let digits: i32 = 0;
  let d0: i32 = 0; // where the digits start
  if (i < len) {
    let c = <u32>load<u8>(src + <usize>i);
    if (c == 45 || c == 43) {
      neg = c == 45;
      i++;
    }
    d0 = i;
    // mant wraps past 19 significant digits: such fields take the slow path anyway
    while (i < len) {
      const d = <u32>load<u8>(src + <usize>i) - 48;
      if (d >= 10) break;
      mant = mant * 10 + <u64>d;
      i++;
    }
    digits = i - d0;
    if (i < len && load<u8>(src + <usize>i) == 46) {
      i++;
      const f0 = i;
      while (i < len) {
        const d = <u32>load<u8>(src + <usize>i) - 48;
        if (d >= 10) break;
        mant = mant * 10 + <u64>d;
        i++;
      }
      frac = i - f0;
      digits += frac;
    }
    any = digits > 0;
    if (any && i < len) {
      c = <u32>load<u8>(src + <usize>i);
      if (c == 101 || c == 69) {
        i++;
        let eneg = false;
        if (i < len) {
          c = <u32>load<u8>(src + <usize>i);
          if (c == 45 || c == 43) {
            eneg = c == 45;
            i++;
          }
        }
        let ed: i32 = 0;
        while (i < len) {
          const d = <u32>load<u8>(src + <usize>i) - 48;
          if (d >= 10) break;
          if (exp < 100000) exp = exp * 10 + <i32>d;
          ed++;
          i++;
        }
        expOk = ed > 0;
        if (eneg) exp = -exp;
      }
    }
  }
  const e = i;
  while (i < len && load<u8>(src + <usize>i) == 32) i++;
  // the field must end here
  if (i < len) {
    const c = <u32>load<u8>(src + <usize>i);
    if (c == 13) {
      if (i + 1 < len && load<u8>(src + <usize>(i + 1)) != 10) return FIELD_INVALID;
    } else if (c != 44 && c != 10) return FIELD_INVALID;
  }
  pos = i;
  fieldStart = s;
  fieldEnd = e;
  if (e == s) return FIELD_BLANK;
  if (!any || !expOk) return FIELD_INVALID;
  const e10 = exp - frac;
  // significant digits: all of them but the leading zeros (counted only when it matters)
  let sig = digits;
  if (sig > 15) {
    for (let k = d0; k < e && sig > 0; k++) {
      const c = load<u8>(src + <usize>k);
      if (c == 46) continue;
      if (c != 48) break;
      sig--;
    }
  }
  if (sig <= 15 && e10 >= -22 && e10 <= 22) {
    const m = <f64>mant;
    const v = e10 < 0 ? m / unchecked(POW10[-e10]) : m * unchecked(POW10[e10]);
    fieldValue = neg ? -v : v;
    return FIELD_VALUE;
  }
  // 16 to 19 significant digits (a shortest round-trip printer's output) or a larger exponent:
  // Eisel-Lemire, exact or declined (then the host's Number() converts the text)
  if (sig <= 19 && mant != 0 && eiselLemire(mant, e10)) {
    fieldValue = neg ? -eiselLemireValue : eiselLemireValue;
    return FIELD_VALUE;
  }
  return FIELD_SLOW;
}

/** Move `pos` to the ',' or '\n' (or the end) that ends a text field; false on a quote. */
function skipText(src: usize, len: i32): bool {
  let k = pos;
  while (k < len) {
    const c = load<u8>(src + <usize>k);
    if (c == 44 || c == 10) break;
    if (c == 34) return false;
    k++;
  }
  pos = k;
  return true;
}

/**
 * Parse whole lines src[0, len) of a catalogue chunk. `roles` holds one i32 role per header
 * column (width of them). Rows go to x (n x D, intercept 1.0 first when `intercept`), the
 * optional numeric columns (nOpt f64 arrays whose addresses are the usizes at `opt`; NaN when
 * blank or absent) and the product id's byte range to
 * idStart / idLen (i32). Well-formed numbers beyond the fast path are listed in `slow` as i32
 * quadruples (target byte address, field start, field end, 1 when the value may not be negative)
 * with the target pre-set to NaN. `out` (i32 x 4) receives rows, lines, slow count and, when the
 * scan stops early, the 0-based line. A chunk with a quote anywhere ends the scan (SCAN_BAD_ROW).
 * Empty lines are skipped. With `strictWidth` a row with more or fewer fields than the header
 * ends the scan; without it (catalogues) fields beyond the header are ignored and missing trailing
 * optional fields are blank, as the catalogue's JavaScript path reads them.
 */
export function parseCatalogCsv(
  src: usize, len: i32, roles: usize, width: i32, D: i32, intercept: i32, cap: i32,
  x: usize, opt: usize, nOpt: i32, nonNeg: i32,
  idStart: usize, idLen: usize, slow: usize, slowCap: i32, out: usize, strictWidth: i32,
): i32 {
  const F = D - intercept;
  // text columns only when the roles name them (the pointers of catalogTextColumn are then fresh)
  let hasText0 = false;
  let hasText1 = false;
  for (let c: i32 = 0; c < width; c++) {
    const rc = load<i32>(roles + (<usize>c << 2));
    if (rc == ROLE_TEXT) hasText0 = true;
    else if (rc == ROLE_TEXT - 1) hasText1 = true;
  }
  let n: i32 = 0;
  let nSlow: i32 = 0;
  let line: i32 = 0;
  let i: i32 = 0;
  while (i < len) {
    const c0 = load<u8>(src + <usize>i);
    if (c0 == 10) {
      line++;
      i++;
      continue;
    }
    if (c0 == 13 && (i + 1 == len || load<u8>(src + <usize>(i + 1)) == 10)) {
      line++;
      i += 2;
      continue;
    }
    if (n >= cap) {
      store<i32>(out + 12, line);
      return SCAN_FULL;
    }
    const rowX = x + (<usize>n * <usize>D << 3);
    if (intercept) store<f64>(rowX, 1.0);
    const r8 = <usize>n << 3;
    for (let k: i32 = 0; k < nOpt; k++) store<f64>(load<usize>(opt + (<usize>k << 2)) + r8, NaN);
    // a row too short to reach a text column has a blank one
    if (hasText0) store<i32>(textLen0 + (<usize>n << 2), 0);
    if (hasText1) store<i32>(textLen1 + (<usize>n << 2), 0);
    let hasId = false;
    let seen: i32 = 0;
    let col: i32 = 0;
    pos = i;
    while (true) {
      const role = col < width ? load<i32>(roles + (<usize>col << 2)) : ROLE_IGNORE;
      if (role == ROLE_ID) {
        const s = pos;
        if (!skipText(src, len)) return bad(out, line);
        let e = pos;
        // a '\r' before the line's '\n' (or the chunk's end) is not part of the last field
        if (e > s && load<u8>(src + <usize>(e - 1)) == 13 && (e == len || load<u8>(src + <usize>e) == 10)) e--;
        if (e == s) return bad(out, line);
        store<i32>(idStart + (<usize>n << 2), s);
        store<i32>(idLen + (<usize>n << 2), e - s);
        hasId = true;
      } else if (role < 0) {
        // one test for both text roles: the numeric fields (most of a row) see as many tests as
        // before the text role existed
        let s = pos;
        if (!skipText(src, len)) return bad(out, line);
        if (role <= ROLE_TEXT && role > ROLE_TEXT - TEXT_COLUMNS) {
          const k = ROLE_TEXT - role;
          let e = pos;
          if (e > s && load<u8>(src + <usize>(e - 1)) == 13 && (e == len || load<u8>(src + <usize>e) == 10)) e--;
          while (s < e && load<u8>(src + <usize>s) == 32) s++;
          while (e > s && load<u8>(src + <usize>(e - 1)) == 32) e--;
          store<i32>((k == 0 ? textStart0 : textStart1) + (<usize>n << 2), s);
          store<i32>((k == 0 ? textLen0 : textLen1) + (<usize>n << 2), e - s);
        }
      } else {
        const f = scanNumber(src, len);
        if (f == FIELD_INVALID) return bad(out, line);
        let target: usize;
        let mustBeNonNeg: i32 = 0;
        if (role >= ROLE_FEATURE) {
          if (f == FIELD_BLANK) return bad(out, line);
          target = rowX + (<usize>(role - ROLE_FEATURE + intercept) << 3);
          seen++;
        } else {
          target = load<usize>(opt + (<usize>(role - ROLE_OPT) << 2)) + r8;
          mustBeNonNeg = (nonNeg >> (role - ROLE_OPT)) & 1;
        }
        if (f == FIELD_VALUE) {
          // prices and bounds may not be negative (the JavaScript path rejects them)
          if (mustBeNonNeg != 0 && fieldValue < 0) return bad(out, line);
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
          store<i32>(t, mustBeNonNeg, 12);
          nSlow++;
        }
      }
      if (pos < len && load<u8>(src + <usize>pos) == 44) {
        col++;
        pos++;
        continue;
      }
      break;
    }
    // with `strictWidth` (observations: the reference reader refuses them) a row with more or
    // fewer fields than the header goes to the JavaScript path, which names it
    if (seen != F || !hasId || (strictWidth != 0 && col + 1 != width)) return bad(out, line);
    if (pos < len && load<u8>(src + <usize>pos) == 13) pos++;
    if (pos < len && load<u8>(src + <usize>pos) == 10) pos++;
    n++;
    line++;
    i = pos;
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
