// Snappy decompression (raw format: varint length, then literal and copy elements), for the
// batch job's Parquet pages (hyparquet's JavaScript decoder, byte by byte at ~350 MB/s,
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

// Snappy compression: Google's algorithm (snappy.cc CompressFragment), for the batch job's Parquet
// output (hyparquet-writer's JavaScript compressor was the writer's largest piece).
// The input goes in 64 KiB blocks, each with a fresh hash table of 4-byte sequences, so a table
// entry is a u16 position in its block and every copy offset fits copy-2. The table lives in
// caller-given scratch: the module has no allocator and its memory is shared between threads.
// Bounds: the caller gives dstCap >= 32 + n + n/6 (Google's MaxCompressedLength), which bounds
// everything emitted, including the 16-byte stores of short literals (checked against dstCap too);
// reads stay within src.

const BLOCK_SIZE: i32 = 1 << 16;
const MAX_HASH_BITS: i32 = 14;
// the match finder never looks at the last 15 bytes of a block (room for its 8-byte loads)
const INPUT_MARGIN: i32 = 15;

/** Scratch bytes snappyCompress needs: a hash table of 2^14 u16 positions. */
export function snappyCompressWorkSize(): i32 {
  return 2 << MAX_HASH_BITS;
}

@inline function hash4(bytes: u32, shift: u32): usize {
  return <usize>((bytes * 0x1e35a7bd) >> shift) << 1; // byte offset of the u16 entry
}

/** Literal element: tag (length - 1 in 6 bits, or 60..63 = 1..4 length bytes follow), then the bytes. */
@inline function emitLiteral(op: usize, lit: usize, len: i32, opEnd: usize, readable: bool): usize {
  const n = <u32>(len - 1);
  if (n < 60) {
    store<u8>(op, <u8>(n << 2));
    op++;
    if (readable && len <= 16 && op + 16 <= opEnd) {
      // two 8-byte moves; the slack past len is overwritten by what comes next
      store<u64>(op, load<u64>(lit));
      store<u64>(op + 8, load<u64>(lit + 8));
    } else {
      memory.copy(op, lit, <usize>len);
    }
    return op + <usize>len;
  }
  const count: u32 = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
  store<u8>(op, <u8>((59 + count) << 2));
  store<u32>(op + 1, n); // the bytes past `count` are overwritten by the literal (len > 60)
  op += 1 + <usize>count;
  memory.copy(op, lit, <usize>len);
  return op + <usize>len;
}

/** Copy elements for a match of len >= 4 at offset 1..65535: copy-1 when it fits, copy-2 otherwise. */
@inline function emitCopy(op: usize, offset: u32, len: i32): usize {
  // copy-2 elements of 64 while more than 67 remain, one of 60 if 65..67 remain: the rest is >= 4
  while (len >= 68) {
    store<u8>(op, <u8>(2 | (63 << 2)));
    store<u16>(op + 1, <u16>offset);
    op += 3;
    len -= 64;
  }
  if (len > 64) {
    store<u8>(op, <u8>(2 | (59 << 2)));
    store<u16>(op + 1, <u16>offset);
    op += 3;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    // copy-1: 3 bits of length - 4, 11 bits of offset
    store<u8>(op, <u8>(1 | ((<u32>len - 4) << 2) | ((offset >> 8) << 5)));
    store<u8>(op + 1, <u8>offset);
    return op + 2;
  }
  store<u8>(op, <u8>(2 | ((<u32>len - 1) << 2)));
  store<u16>(op + 1, <u16>offset);
  return op + 3;
}

/** How many bytes s1[0..] and s2[0..] share, s1 < s2, stopping at s2End. */
@inline function matchLength(s1: usize, s2: usize, s2End: usize): i32 {
  const start = s2;
  while (s2 + 8 <= s2End) {
    const x = load<u64>(s1) ^ load<u64>(s2);
    if (x != 0) return <i32>(s2 - start) + <i32>(ctz(x) >> 3);
    s1 += 8;
    s2 += 8;
  }
  while (s2 < s2End && load<u8>(s1) == load<u8>(s2)) {
    s1++;
    s2++;
  }
  return <i32>(s2 - start);
}

/** One block (at most 64 KiB) of src into op; returns the new output position. */
function compressFragment(base: usize, len: i32, op: usize, opEnd: usize, table: usize): usize {
  // table of the smallest power of two >= len, 256 to 2^14 entries
  let bits: u32 = 8;
  while (bits < <u32>MAX_HASH_BITS && (1 << bits) < len) bits++;
  const shift: u32 = 32 - bits;
  memory.fill(table, 0, <usize>2 << bits);
  const ipEnd = base + <usize>len;
  let nextEmit = base;
  if (len < INPUT_MARGIN) return emitLiteralTail(op, nextEmit, ipEnd, opEnd);
  const ipLimit = ipEnd - <usize>INPUT_MARGIN;
  let ip = base + 1;
  let nextHash = hash4(load<u32>(ip), shift);
  while (true) {
    // look for a 4-byte match, probing further apart the longer none is found (skip >> 5 bytes:
    // 1 for the first 32 probes, then 2, ...) so incompressible data is crossed quickly
    let skip: u32 = 32;
    let nextIp = ip;
    let candidate: usize;
    do {
      ip = nextIp;
      const h = nextHash;
      nextIp = ip + <usize>(skip >> 5);
      skip++;
      if (nextIp > ipLimit) return emitLiteralTail(op, nextEmit, ipEnd, opEnd);
      nextHash = hash4(load<u32>(nextIp), shift);
      candidate = base + <usize>load<u16>(table + h);
      store<u16>(table + h, <u16>(ip - base));
    } while (load<u32>(ip) != load<u32>(candidate));

    op = emitLiteral(op, nextEmit, <i32>(ip - nextEmit), opEnd, true);

    // emit copies while the bytes right after each one match again
    let after: u64;
    let candidateBytes: u32;
    do {
      const matched = 4 + matchLength(candidate + 4, ip + 4, ipEnd);
      op = emitCopy(op, <u32>(ip - candidate), matched);
      ip += <usize>matched;
      nextEmit = ip;
      if (ip >= ipLimit) return emitLiteralTail(op, nextEmit, ipEnd, opEnd);
      // hash ip - 1 and ip from one 8-byte load
      after = load<u64>(ip - 1);
      store<u16>(table + hash4(<u32>after, shift), <u16>(ip - 1 - base));
      const h = hash4(<u32>(after >> 8), shift);
      candidate = base + <usize>load<u16>(table + h);
      candidateBytes = load<u32>(candidate);
      store<u16>(table + h, <u16>(ip - base));
    } while (<u32>(after >> 8) == candidateBytes);
    nextHash = hash4(<u32>(after >> 16), shift);
    ip++;
  }
}

@inline function emitLiteralTail(op: usize, from: usize, end: usize, opEnd: usize): usize {
  return from < end ? emitLiteral(op, from, <i32>(end - from), opEnd, false) : op;
}

/**
 * Compress src[0, srcLen) into dst as raw snappy (varint length, then elements). work:
 * snappyCompressWorkSize() bytes of scratch. Returns the compressed size, or -1 when
 * dstCap < 32 + srcLen + srcLen / 6.
 */
export function snappyCompress(src: usize, srcLen: i32, dst: usize, dstCap: i32, work: usize): i32 {
  if (srcLen < 0 || <i64>dstCap < 32 + <i64>srcLen + <i64>(srcLen / 6)) return -1;
  let op = dst;
  let n = <u32>srcLen;
  while (n >= 0x80) {
    store<u8>(op, <u8>(n | 0x80));
    op++;
    n >>= 7;
  }
  store<u8>(op, <u8>n);
  op++;
  const opEnd = dst + <usize>dstCap;
  for (let pos: i32 = 0; pos < srcLen; ) {
    const len = min(BLOCK_SIZE, srcLen - pos);
    op = compressFragment(src + <usize>pos, len, op, opEnd, work);
    pos += len;
  }
  return <i32>(op - dst);
}
