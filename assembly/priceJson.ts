// Price columns -> JSON price records in linear memory (docs/formats.md prices; the NDJSON output of
// the batch job and the items of POST /v1/quotes). The bytes are exactly those of JSON.stringify
// on the records src/pricing/record.ts builds: numbers in shortest round-trip form (writeShortest,
// equal to String(x), which is what JSON.stringify writes for a finite number), non-finite values
// as null. Ids must need no escaping (the host checks and falls back to JSON.stringify).
import { writeShortest } from "./ryu";

// Keys and literals, as (offset, length) i32 pairs in the host's string blob:
// 0 '{"product_id":"', 1 '","price":', 2..9 ',"previous_price":' .. ',"price_std_error":',
// 10 ',"status":"', 11 '","reason":"', 12 '"}', 13 '","cold_start":true}',
// 14 '","cold_start":false}', 15 'null'.
const KEY_STATUS = 10;
const KEY_REASON = 11;
const KEY_END = 12;
const KEY_COLD = 13;
const KEY_WARM = 14;
const KEY_NULL = 15;

@inline function put(pos: usize, strings: usize, tab: usize, k: i32): usize {
  const e = tab + (<usize>k << 3);
  const len = load<i32>(e, 4);
  memory.copy(pos, strings + <usize>load<i32>(e), <usize>len);
  return pos + <usize>len;
}

/**
 * Write n records: the product id (bytes src[idStart[i], +idLen[i])), the nine f64 columns whose
 * addresses are the i32s at `cols`, statusTab[status[i]], reasonTab[reasons[i]] and, when
 * coldBit != 0, "cold_start": (reasons[i] & coldBit) != 0. Records are separated by the byte
 * `sep`, also written after the last when sepLast != 0. Returns the bytes written, or -1 when
 * `cap` is too small.
 */
export function formatPriceJson(
  n: i32, src: usize, idStart: usize, idLen: usize, cols: usize, status: usize, reasons: usize,
  strings: usize, statusTab: usize, reasonTab: usize, keysTab: usize, coldBit: u32, sep: i32, sepLast: i32,
  dst: usize, cap: i32,
): i32 {
  // every key and literal once, at most
  let fixed: i32 = 0;
  for (let k = 0; k < 16; k++) fixed += load<i32>(keysTab + (<usize>k << 3), 4);
  let pos: usize = dst;
  const end: usize = dst + <usize>cap;
  for (let i: i32 = 0; i < n; i++) {
    const l = load<i32>(idLen + (<usize>i << 2));
    const code = load<u32>(reasons + (<usize>i << 2));
    const st = <i32>load<u8>(status + <usize>i);
    const stLen = load<i32>(statusTab + (<usize>st << 3), 4);
    const rsLen = load<i32>(reasonTab + (<usize>code << 3), 4);
    if (pos + <usize>(fixed + 9 * 25 + l + stLen + rsLen + 1) > end) return -1;
    pos = put(pos, strings, keysTab, 0);
    memory.copy(pos, src + <usize>load<i32>(idStart + (<usize>i << 2)), <usize>l);
    pos += <usize>l;
    for (let c: i32 = 0; c < 9; c++) {
      pos = put(pos, strings, keysTab, 1 + c);
      const v = load<f64>(<usize>load<i32>(cols + (<usize>c << 2)) + (<usize>i << 3));
      if (v - v == 0) pos += <usize>writeShortest(v, pos);
      else pos = put(pos, strings, keysTab, KEY_NULL);
    }
    pos = put(pos, strings, keysTab, KEY_STATUS);
    pos = put(pos, strings, statusTab, st);
    pos = put(pos, strings, keysTab, KEY_REASON);
    pos = put(pos, strings, reasonTab, <i32>code);
    pos = put(pos, strings, keysTab, coldBit == 0 ? KEY_END : (code & coldBit) != 0 ? KEY_COLD : KEY_WARM);
    if (i + 1 < n || sepLast != 0) store<u8>(pos++, <u8>sep);
  }
  return <i32>(pos - dst);
}
