import { RepricerError } from './errors.js';

/**
 * A bump allocator over WebAssembly linear memory. It hands out 16-byte-aligned Float64Array
 * views (f64x2 loads want 16-byte lanes); `mark`/`release` scope temporary buffers. Views of a
 * memory that has grown keep their old length (measured on Node 20), so `f64` always builds a fresh
 * view over the current buffer and callers must not keep views across a grow they trigger.
 */
export class Arena {
  private top: number;
  private base: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.base = align16(base);
    this.top = this.base;
    this.buffers.add(memory.buffer);
  }

  /**
   * Every buffer object this memory has handed out: a shared memory returns a new
   * SharedArrayBuffer after each grow, all over the same bytes, so views made before a grow are
   * still views of this memory.
   */
  readonly buffers = new WeakSet<ArrayBufferLike>();

  /** Allocate `n` doubles; returns the byte offset. Grows the memory when needed. */
  alloc(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Arena.alloc: n must be a non-negative integer, got ${n}`);
    const ptr = this.top;
    const end = align16(ptr + n * 8);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / 65536);
      try {
        this.memory.grow(pages);
        this.buffers.add(this.memory.buffer);
      } catch (err) {
        throw new RangeError(`Arena.alloc: cannot grow WASM memory to ${end} bytes for ${n} doubles (${String(err)})`);
      }
    }
    this.top = end;
    return ptr;
  }

  /**
   * Allocate for the life of the arena (model tables): only while no scope is open, so no
   * `release` can take it back.
   */
  allocPermanent(n: number): number {
    if (this.top !== this.base) throw new RepricerError('INTERNAL', 'Arena.allocPermanent: a scope is open (or an unscoped allocation sits above the base)');
    const ptr = this.alloc(n);
    this.base = this.top;
    return ptr;
  }

  /** Allocate and return a view. */
  f64(n: number): Float64Array {
    const ptr = this.alloc(n);
    return new Float64Array(this.memory.buffer, ptr, n);
  }

  /** Allocate room for `src` and copy it in (a column the kernels will read); returns the byte offset. */
  allocCopy(src: Float64Array): number {
    const ptr = this.alloc(src.length);
    this.view(ptr, src.length).set(src);
    return ptr;
  }

  /** Allocate `n` bytes (rounded up to whole doubles); returns the byte offset. */
  allocBytes(n: number): number {
    return this.alloc(Math.ceil(n / 8));
  }

  /** Allocate `n` bytes for the life of the arena (see allocPermanent). */
  allocBytesPermanent(n: number): number {
    return this.allocPermanent(Math.ceil(n / 8));
  }

  /** A view of `n` doubles at byte offset `ptr` over the current buffer. */
  view(ptr: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, n);
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new RangeError(`Arena.release: bad mark ${mark}`);
    this.top = mark;
  }

  /**
   * Run `fn` and free everything it allocated, except what it allocated permanently: a permanent
   * allocation made first thing in the scope moves the base above the scope's start.
   */
  scoped<T>(fn: () => T): T {
    const m = this.top;
    try {
      return fn();
    } finally {
      this.top = Math.max(m, this.base);
    }
  }

  get used(): number {
    return this.top - this.base;
  }
}

function align16(x: number): number {
  return (x + 15) & ~15;
}
