/**
 * The numbers the CSV kernel (assembly/catalogCsv.ts, parseCatalogCsv) leaves to the host:
 * well-formed decimals beyond its exact paths, listed as i32 quadruples (target byte address,
 * field start, field end, 1 when the value may not be negative). Number() of each field's text,
 * from one latin1 string of the chunk, goes to its target. Shared by the catalogue and the
 * observation readers.
 */

/** Fill the `nSlow` listed targets in `mem`; false when a value is not finite or negative where it may not be. */
export function resolveSlowNumbers(mem: ArrayBufferLike, slow: number, nSlow: number, bytes: Uint8Array): boolean {
  if (nSlow === 0) return true;
  const f = new Float64Array(mem);
  const s = new Int32Array(mem, slow, 4 * nSlow);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  for (let k = 0; k < nSlow; k++) {
    const v = Number(text.slice(s[4 * k + 1], s[4 * k + 2]));
    if (!Number.isFinite(v) || (s[4 * k + 3] === 1 && v < 0)) return false;
    f[s[4 * k] >> 3] = v;
  }
  return true;
}
