/**
 * Reused SharedArrayBuffers for the batch job's chunk bytes (in) and formatted rows (out).
 * Shared, so a task reaches a worker by reference (no structured-clone copy, and a crashed chunk
 * can be resent); reused, so the job does not fault in fresh pages for every chunk: allocating
 * per chunk cost ~200 000 page faults and ~2.4 s of system time per million SKUs
 * (bench/RESULTS.md).
 */
const MIB = 1 << 20;

export class SlotPool {
  private readonly free: SharedArrayBuffer[] = [];

  /** A slot of at least `bytes`; a free slot that is too small is dropped for a larger one. */
  take(bytes: number): SharedArrayBuffer {
    const i = this.free.findIndex((b) => b.byteLength >= bytes);
    if (i !== -1) return this.free.splice(i, 1)[0];
    this.free.pop();
    // whole MiB with headroom: chunks vary a little in size, and slots of a few fixed sizes are
    // reused instead of replaced (replacing them let the heap fragment and RSS creep)
    return new SharedArrayBuffer(Math.ceil((bytes * 1.25) / MIB) * MIB);
  }

  give(slot: SharedArrayBuffer): void {
    this.free.push(slot);
  }
}

/**
 * Slots for the workers' output, sized from the output seen so far: text output by bytes out per
 * byte in (raised when a chunk overflowed its slot), Parquet output by bytes per row.
 */
export class OutputSlots {
  private readonly slots = new SlotPool();
  private perInByte = 0;
  /** 9 doubles, an id and two labels, raised by what is seen */
  private perRow = 96;

  /** For a text chunk of `bytes` bytes and `lines` lines. */
  forChunk(bytes: number, lines: number, parquetOut: boolean): SharedArrayBuffer {
    return this.slots.take(Math.max(1, Math.ceil(parquetOut ? lines * this.perRow * 1.1 : bytes * Math.max(this.perInByte, 1.25))));
  }

  /** For an encoded Parquet row group of `rows` rows. */
  forRows(rows: number): SharedArrayBuffer {
    return this.slots.take(Math.ceil(rows * this.perRow * 1.1));
  }

  /** Text output that did not fit its slot: `outBytes` from `inBytes` of input. */
  sawText(outBytes: number, inBytes: number): void {
    this.perInByte = Math.max(this.perInByte, outBytes / inBytes);
  }

  sawRowGroup(bytes: number, rows: number): void {
    this.perRow = Math.max(this.perRow, bytes / Math.max(1, rows));
  }

  give(slot: SharedArrayBuffer): void {
    this.slots.give(slot);
  }
}
