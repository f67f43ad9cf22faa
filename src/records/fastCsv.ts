/**
 * Hand-written CSV fast path for catalogue chunks without quote characters: scans bytes, parses
 * decimals straight from the buffer. csv-parse remains the reference (test/fastCsv.test.ts feeds
 * both the same bytes) and handles every chunk that contains a quote. Measured on the demo
 * catalogue (bench/RESULTS.md): the reason this file exists.
 */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

const latin1 = new TextDecoder('latin1');

/**
 * Parse a plain decimal ([+-]digits[.digits][e[+-]digits], optional surrounding spaces) from
 * b[s, e). NaN when the field is empty or not a decimal. Exactly Number()'s result: with <= 15
 * significant digits and |exponent| <= 22 one IEEE multiply or divide of exact values is
 * correctly rounded (Clinger's fast path); otherwise we defer to Number().
 */
export function parseDecimal(b: Uint8Array, s: number, e: number): number {
  while (s < e && b[s] === 32) s++;
  while (e > s && b[e - 1] === 32) e--;
  if (s >= e) return NaN;
  let i = s;
  let neg = false;
  if (b[i] === 45 || b[i] === 43) {
    neg = b[i] === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let sig = 0;
  let frac = 0;
  let any = false;
  while (i < e && b[i] >= 48 && b[i] <= 57) {
    const d = b[i] - 48;
    if (sig > 0 || d !== 0) sig++;
    mant = mant * 10 + d;
    digits++;
    any = true;
    i++;
  }
  if (i < e && b[i] === 46) {
    i++;
    while (i < e && b[i] >= 48 && b[i] <= 57) {
      const d = b[i] - 48;
      if (sig > 0 || d !== 0) sig++;
      mant = mant * 10 + d;
      frac++;
      any = true;
      i++;
    }
  }
  if (!any) return NaN;
  let exp = 0;
  if (i < e && (b[i] === 101 || b[i] === 69)) {
    i++;
    let eneg = false;
    if (i < e && (b[i] === 45 || b[i] === 43)) {
      eneg = b[i] === 45;
      i++;
    }
    let ed = 0;
    while (i < e && b[i] >= 48 && b[i] <= 57) {
      exp = exp * 10 + (b[i] - 48);
      ed++;
      i++;
      if (exp > 100000) break;
    }
    if (ed === 0) return NaN;
    if (eneg) exp = -exp;
  }
  if (i !== e) return NaN;
  const e10 = exp - frac;
  if (sig <= 15 && e10 >= -22 && e10 <= 22) {
    const v = e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
    return neg ? -v : v;
  }
  return Number(latin1.decode(b.subarray(s, e)));
}

export interface FieldSink {
  /** called per record with field boundaries; return false to stop */
  (starts: Int32Array, ends: Int32Array, count: number, lineIndex: number): void;
}

/**
 * Split quote-free CSV bytes into records and fields. `starts`/`ends` are reused per record.
 * Empty lines are skipped (as csv-parse's skip_empty_lines does); lineIndex is 0-based within b.
 */
export function scanRecords(b: Uint8Array, maxFields: number, sink: FieldSink): number {
  const starts = new Int32Array(maxFields + 1);
  const ends = new Int32Array(maxFields + 1);
  let line = 0;
  let i = 0;
  const n = b.length;
  while (i < n) {
    let count = 0;
    let fs = i;
    let j = i;
    for (; j < n; j++) {
      const c = b[j];
      if (c === 44) {
        if (count < maxFields) {
          starts[count] = fs;
          ends[count] = j;
        }
        count++;
        fs = j + 1;
      } else if (c === 10) break;
    }
    let fe = j;
    if (fe > fs && b[fe - 1] === 13) fe--;
    const empty = count === 0 && fe === fs;
    if (count < maxFields) {
      starts[count] = fs;
      ends[count] = fe;
    }
    count++;
    if (!empty) sink(starts, ends, Math.min(count, maxFields), line);
    line++;
    i = j + 1;
  }
  return line;
}
