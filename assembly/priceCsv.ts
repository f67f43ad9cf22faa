// Price columns -> CSV rows in linear memory (formatting nine doubles per row with V8's
// String(x) was the largest single cost of a batch job). The bytes are exactly those of the
// JavaScript formatter (src/batch/formatChunk.ts formatCsvBytes): numbers in shortest round-trip
// form (writeShortest, equal to String(x)), non-finite values as empty fields.
import { writeShortest } from "./ryu";

// Per row at most: quotes around the id, 9 numbers of <= 25 bytes and their commas, 2 more commas,
// the newline (plus the id, status and reason lengths).
const ROW_FIXED: i32 = 2 + 9 * 26 + 2 + 1;

/**
 * Write n rows: the product id (bytes src[idStart[i], +idLen[i]), quoted when it holds a '\r';
 * the host only sends quote-, comma- and newline-free ids), the nine f64 columns whose addresses
 * are the i32s at `cols`, the status string and the reason string. Strings come from `strings`
 * through (offset, length) i32 pairs: statusTab[status[i]] and reasonTab[reasons[i]]. Returns the
 * bytes written, or -1 when `cap` is too small.
 */
export function formatPriceCsv(
  n: i32, src: usize, idStart: usize, idLen: usize, cols: usize, status: usize, reasons: usize,
  strings: usize, statusTab: usize, reasonTab: usize, dst: usize, cap: i32, nTail: i32, tailCols: usize,
): i32 {
  let pos: usize = dst;
  const end: usize = dst + <usize>cap;
  for (let i: i32 = 0; i < n; i++) {
    const s = src + <usize>load<i32>(idStart + (<usize>i << 2));
    const l = load<i32>(idLen + (<usize>i << 2));
    const st = statusTab + (<usize>load<u8>(status + <usize>i) << 3);
    const rs = reasonTab + (<usize>load<u32>(reasons + (<usize>i << 2)) << 3);
    const stLen = load<i32>(st, 4);
    const rsLen = load<i32>(rs, 4);
    if (pos + <usize>(ROW_FIXED + nTail * 26 + l + stLen + rsLen) > end) return -1;
    let cr = false;
    for (let k: i32 = 0; k < l; k++) if (load<u8>(s + <usize>k) == 13) cr = true;
    if (cr) store<u8>(pos++, 34);
    memory.copy(pos, s, <usize>l);
    pos += <usize>l;
    if (cr) store<u8>(pos++, 34);
    for (let c: i32 = 0; c < 9; c++) {
      store<u8>(pos++, 44);
      const v = load<f64>(<usize>load<i32>(cols + (<usize>c << 2)) + (<usize>i << 3));
      if (v - v == 0) pos += <usize>writeShortest(v, pos);
    }
    store<u8>(pos++, 44);
    memory.copy(pos, strings + <usize>load<i32>(st), <usize>stLen);
    pos += <usize>stLen;
    store<u8>(pos++, 44);
    memory.copy(pos, strings + <usize>load<i32>(rs), <usize>rsLen);
    pos += <usize>rsLen;
    for (let c: i32 = 0; c < nTail; c++) {
      store<u8>(pos++, 44);
      const v = load<f64>(<usize>load<i32>(tailCols + (<usize>c << 2)) + (<usize>i << 3));
      if (v - v == 0) pos += <usize>writeShortest(v, pos);
    }
    store<u8>(pos++, 10);
  }
  return <i32>(pos - dst);
}
