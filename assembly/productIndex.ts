// Product id -> model row, by the id's bytes (a JavaScript Map lookup needs a string per
// row, and decoding the string cost more than the lookup). Open addressing with linear probing
// over a power-of-two slot table; FNV-1a over the UTF-8 bytes. Byte equality is string equality
// for valid UTF-8, which the host checks before it uses this path.

function fnv1a(p: usize, n: i32): u32 {
  let h: u32 = 0x811c9dc5;
  for (let i: i32 = 0; i < n; i++) {
    h ^= <u32>load<u8>(p + <usize>i);
    h *= 0x01000193;
  }
  return h;
}

function sameBytes(a: usize, b: usize, n: i32): bool {
  for (let i: i32 = 0; i < n; i++) if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  return true;
}

/**
 * Fill `slots` (mask + 1 i32, zeroed by the host) with k + 1 for each of the K keys, key k being
 * keys[keyStart[k], keyStart[k] + keyLen[k]). The table must have more slots than keys.
 */
export function buildProductIndex(K: i32, keys: usize, keyStart: usize, keyLen: usize, slots: usize, mask: u32): void {
  for (let k: i32 = 0; k < K; k++) {
    const s = load<i32>(keyStart + (<usize>k << 2));
    const l = load<i32>(keyLen + (<usize>k << 2));
    let h = fnv1a(keys + <usize>s, l) & mask;
    while (load<i32>(slots + (<usize>h << 2)) != 0) h = (h + 1) & mask;
    store<i32>(slots + (<usize>h << 2), k + 1);
  }
}

/**
 * For each of n ids src[idStart[i], idStart[i] + idLen[i]) write to out (f64) the model row of
 * that product (k + 1 for key k) or 0 when the model does not know it (cold start).
 */
export function lookupProducts(
  n: i32, src: usize, idStart: usize, idLen: usize,
  keys: usize, keyStart: usize, keyLen: usize, slots: usize, mask: u32, out: usize,
): void {
  for (let i: i32 = 0; i < n; i++) {
    const p = src + <usize>load<i32>(idStart + (<usize>i << 2));
    const l = load<i32>(idLen + (<usize>i << 2));
    let h = fnv1a(p, l) & mask;
    let row: i32 = 0;
    while (true) {
      const v = load<i32>(slots + (<usize>h << 2));
      if (v == 0) break;
      const k = v - 1;
      if (load<i32>(keyLen + (<usize>k << 2)) == l && sameBytes(keys + <usize>load<i32>(keyStart + (<usize>k << 2)), p, l)) {
        row = v;
        break;
      }
      h = (h + 1) & mask;
    }
    store<f64>(out + (<usize>i << 3), <f64>row);
  }
}
