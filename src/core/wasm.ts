/**
 * One compiled WASM core per process, one instance per thread, over an imported shared memory.
 *
 * Instantiation goes through @assemblyscript/loader (the design card's choice). Its array helpers
 * (__newArray, __getFloat64Array) need the managed runtime and copy on every call, so the core
 * is compiled with `--runtime stub` and kernels receive raw byte offsets into memory this side
 * owns (see Arena). The loader only instantiates and demangles; no data passes through it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { instantiateSync } from '@assemblyscript/loader';
import { Arena } from './arena.js';
import { RepricerError } from './errors.js';

export type Variant = 'simd' | 'scalar';

/** The raw kernel exports: every argument and result is a number (f64, i32 or a byte offset). */
export type KernelExports = Record<string, (...args: number[]) => number>;

const PAGE = 65536;
const MAX_PAGES = 65536; // must match asconfig.json maximumMemory

const modules = new Map<Variant, WebAssembly.Module>();

function buildDir(): string {
  // src/core/wasm.ts and dist/src/core/wasm.js both sit two or three levels below the root
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build');
    dir = dirname(dir);
  }
  throw new RepricerError('NOT_FOUND', 'repricer: cannot find the package root (build/core.*.wasm); run `npm run build:wasm`');
}

/** Compile (once per process) the WASM module of a variant. */
export function compileCore(variant: Variant = 'simd'): WebAssembly.Module {
  let m = modules.get(variant);
  if (!m) {
    const file = join(buildDir(), `core.${variant}.wasm`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new RepricerError('NOT_FOUND', `repricer: WASM core not built (${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}); run \`npm run build:wasm\``, { file });
    }
    m = new WebAssembly.Module(new Uint8Array(bytes));
    modules.set(variant, m);
  }
  return m;
}

export function createSharedMemory(initialBytes = 16 * 1024 * 1024): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE), maximum: MAX_PAGES, shared: true });
}

export interface CoreOptions {
  variant?: Variant;
  /** A compiled module to reuse (workers receive it from the main thread). */
  module?: WebAssembly.Module;
  /** A shared memory to instantiate over (workers share the main thread's). */
  memory?: WebAssembly.Memory;
  /** Arena start offset; default: the module's heap base. Workers get disjoint ranges. */
  arenaBase?: number;
}

/** An instantiated core: kernels, memory and an arena over it. */
export class WasmCore {
  readonly variant: Variant;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  readonly arena: Arena;

  private constructor(variant: Variant, module: WebAssembly.Module, memory: WebAssembly.Memory, arenaBase?: number) {
    this.variant = variant;
    this.module = module;
    this.memory = memory;
    const imports = {
      env: {
        memory,
        abort(_msg: number, _file: number, line: number, col: number): never {
          throw new RepricerError('INTERNAL', `repricer: WASM core aborted at ${line}:${col}`);
        },
      },
    };
    const inst = instantiateSync<Record<string, unknown>>(module, imports);
    this.k = inst.exports as unknown as KernelExports;
    const heap = this.k.heapBase();
    this.arena = new Arena(memory, Math.max(heap, arenaBase ?? 0));
  }

  static create(opts: CoreOptions = {}): WasmCore {
    const variant = opts.variant ?? 'simd';
    const module = opts.module ?? compileCore(variant);
    const memory = opts.memory ?? createSharedMemory();
    return new WasmCore(variant, module, memory, opts.arenaBase);
  }

  /**
   * True when `a` is a view of this core's memory (its byteOffset can go straight to a kernel).
   * A shared memory hands out a new SharedArrayBuffer object after each grow, all over the same
   * bytes, so every one seen is remembered.
   */
  owns(a: ArrayBufferView): boolean {
    const b = this.memory.buffer;
    if (a.buffer === b) return true;
    this.arena.buffers.add(b); // grown by another instance sharing this memory
    return this.arena.buffers.has(a.buffer);
  }

  /**
   * Byte offset of `a` for a kernel: zero-copy when `a` already lives in WASM memory, otherwise
   * copied into the arena (call inside `arena.scoped`).
   */
  input(a: Float64Array): number {
    return this.owns(a) ? a.byteOffset : this.arena.allocCopy(a);
  }

  /** inputInt32: `input` for 32-bit integers (covariance offsets). */
  inputInt32(a: Int32Array): number {
    if (this.owns(a)) return a.byteOffset;
    const p = this.arena.allocBytes(Math.max(4, a.byteLength));
    new Int32Array(this.memory.buffer, p, a.length).set(a);
    return p;
  }

  /** An output buffer of n doubles in WASM memory, as pointer and view. */
  output(n: number): { ptr: number; view: () => Float64Array } {
    const ptr = this.arena.alloc(n);
    return { ptr, view: () => new Float64Array(this.memory.buffer, ptr, n) };
  }
}

let shared: WasmCore | undefined;

/** The process-wide default core (SIMD build), created on first use. */
export function defaultCore(): WasmCore {
  shared ??= WasmCore.create({ variant: 'simd' });
  return shared;
}
