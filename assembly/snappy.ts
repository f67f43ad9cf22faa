// Snappy decompression (raw format: varint length, then literal and copy elements), for the
// batch job's Parquet pages (issue 4: hyparquet's JavaScript decoder, byte by byte at ~350 MB/s,
// was a fifth of reading a Parquet catalogue). Literals and non-overlapping copies are
// memory.copy; overlapping copies repeat their pattern byte by byte as the format requires.
// Every read and write is bounds-checked: a corrupt page returns -1 and writes nothing outside dst.

/** Decompress src[0, srcLen) into dst, which must hold exactly dstLen bytes. 0 on success, -1 if corrupt. */
export function snappyUncompress(src: usize, srcLen: i32, dst: usize, dstLen: i32): i32 {
  let pos: i32 = 0;
  let expected: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (pos >= srcLen || shift > 28) return -1;
    const c = <u32>load<u8>(src + <usize>pos);
    pos++;
    expected |= <u64>(c & 0x7f) << shift;
    if (c < 128) break;
    shift += 7;
  }
  if (expected != <u64>dstLen) return -1;
  let out: i32 = 0;
  while (pos < srcLen) {
    const tag = <u32>load<u8>(src + <usize>pos);
    pos++;
    const kind = tag & 3;
    if (kind == 0) {
      let len = <i64>(tag >> 2) + 1;
      if (len > 60) {
        const extra = <i32>len - 60;
        if (pos + extra > srcLen) return -1;
        len = 0;
        for (let k = 0; k < extra; k++) len |= <i64>load<u8>(src + <usize>(pos + k)) << (8 * <i64>k);
        len += 1;
        pos += extra;
      }
      if (<i64>pos + len > <i64>srcLen || <i64>out + len > <i64>dstLen) return -1;
      if (len <= 16 && pos + 16 <= srcLen && out + 16 <= dstLen) {
        // short literal (the common case): two 8-byte moves, the slack rewritten later
        store<u64>(dst + <usize>out, load<u64>(src + <usize>pos));
        store<u64>(dst + <usize>out + 8, load<u64>(src + <usize>pos + 8));
      } else {
        memory.copy(dst + <usize>out, src + <usize>pos, <usize>len);
      }
      pos += <i32>len;
      out += <i32>len;
      continue;
    }
    let len: i32;
    let offset: i64;
    if (kind == 1) {
      if (pos >= srcLen) return -1;
      len = <i32>((tag >> 2) & 7) + 4;
      offset = <i64>(((tag >> 5) << 8) | <u32>load<u8>(src + <usize>pos));
      pos += 1;
    } else if (kind == 2) {
      if (pos + 2 > srcLen) return -1;
      len = <i32>(tag >> 2) + 1;
      offset = <i64>load<u16>(src + <usize>pos);
      pos += 2;
    } else {
      if (pos + 4 > srcLen) return -1;
      len = <i32>(tag >> 2) + 1;
      offset = <i64>load<u32>(src + <usize>pos);
      pos += 4;
    }
    if (offset == 0 || offset > <i64>out || out + len > dstLen) return -1;
    const from = out - <i32>offset;
    if (offset >= 8 && len <= 16 && out + 16 <= dstLen) {
      // short copy 8 or more bytes back: two 8-byte moves never read what they write
      store<u64>(dst + <usize>out, load<u64>(dst + <usize>from));
      store<u64>(dst + <usize>out + 8, load<u64>(dst + <usize>from + 8));
    } else if (<i64>len <= offset) {
      memory.copy(dst + <usize>out, dst + <usize>from, <usize>len);
    } else {
      for (let k: i32 = 0; k < len; k++) store<u8>(dst + <usize>(out + k), load<u8>(dst + <usize>(from + k)));
    }
    out += len;
  }
  return out == dstLen ? 0 : -1;
}
