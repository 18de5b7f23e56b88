import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The little of WebAssembly used here, declared locally: the command line's lib (ES2022) leaves
 * WebAssembly undeclared and the web page's (DOM) declares it, so a global declaration would
 * clash with one of them.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { readonly exports: object } } }).WebAssembly;

/**
 * The SIMD kernels of model/assembly/kernels.ts (compiled to kernels.wasm beside this file by
 * `npm run build`) and the one memory they work in. Pointers are byte offsets into that memory.
 */
export interface Kernels {
  matmul(a: number, b: number, bias: number, c: number, M: number, K: number, N: number, acc: number): void;
  matmulAtB(a: number, b: number, c: number, M: number, K: number, N: number): void;
  colSum(x: number, M: number, N: number, out: number): void;
  gatherRows(x: number, idx: number, count: number, width: number, out: number): void;
  gatherRows3(a: number, na: number, b: number, nb: number, c: number, idx: number, count: number, width: number, out: number): void;
  scatterAddRows(dy: number, idx: number, count: number, width: number, dx: number): void;
  scatterAddRows3(dy: number, idx: number, count: number, width: number, da: number, na: number, db: number, nb: number, dc: number): void;
  messageInput(h: number, deg: number, counts: number, src: number, dst: number, edges: number, rows: number, n: number, B: number, z: number): void;
  messageInputBackward(dz: number, deg: number, src: number, dst: number, edges: number, rows: number, n: number, B: number, dh: number): void;
  gruForward(gi: number, gh: number, h: number, rows: number, n: number, out: number, saved: number): void;
  gruBackward(dy: number, h: number, saved: number, rows: number, n: number, dgi: number, dgh: number, dh: number): void;
  gatedSum(y: number, graphOfRow: number, rows: number, m: number, numGraphs: number, gate: number, hG: number): void;
  gatedSumBackward(dhG: number, y: number, graphOfRow: number, gate: number, rows: number, m: number, dy: number): void;
  maxAbs(x: number, count: number): number;
  scale(x: number, count: number, f: number): void;
  heapBase(): number;
  readonly memory: WasmMemory;
}

let loaded: Kernels | null = null;

/** Where this thread's kernels come from: kernels.wasm beside this file, unless useKernelBytes said otherwise. */
let kernelBytes = (): Uint8Array => readFileSync(join(__dirname, 'kernels.wasm'));

/**
 * Makes this thread's kernels from `bytes` (kernels.wasm as fetched by a web page, which has no
 * file system) instead of reading the file. Called before the first kernels() of the thread.
 */
export function useKernelBytes(bytes: Uint8Array): void {
  if (loaded) throw new Error('useKernelBytes: the kernels of this thread are already loaded');
  kernelBytes = () => bytes;
}

/** This thread's instance of the kernels (one per thread: a worker's memory is its own). */
export function kernels(): Kernels {
  if (!loaded) {
    const module = new wasm.Module(kernelBytes());
    loaded = new wasm.Instance(module, {}).exports as unknown as Kernels;
  }
  return loaded;
}

const PAGE = 65536;

/**
 * The most bytes the kernels can address: wasm32 pointers are 32 bits, so 65,536 pages of 64 KiB.
 * Every buffer a pass lays out lies below it (docs/speed.md, 'What limits the size of a graph').
 */
export const ENGINE_MEMORY_LIMIT = 2 ** 32;

/** Bytes for messages: GiB to two decimals, or MiB to one below a GiB. */
export function bytesText(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * A layout that does not fit the engine's memory. Final: computing the same work again needs the
 * same memory, so a runner must not retry it.
 */
export class EngineMemoryError extends Error {
  constructor(
    what: string,
    readonly bytes: number,
    readonly limit = engineRoom(),
  ) {
    super(`${what} needs ${bytesText(bytes)} of engine memory; the limit is ${bytesText(limit)}`);
    this.name = 'EngineMemoryError';
  }
}

/**
 * A bump allocator over the kernels' memory: a pass lays out every buffer it needs (`f32`, `i32`),
 * then `commit` grows the memory once if the layout does not fit. The memory only grows, to the
 * largest batch seen, so a long run allocates nothing once it has seen its largest batch.
 * Views (`F`, `I`) must be re-read after `commit`: growing detaches the old ones.
 * Offsets are plain numbers up to ENGINE_MEMORY_LIMIT: they are turned into view indexes with
 * `>>> 2` (unsigned), never `>> 2`, which turns negative past 2^31.
 */
export class Arena {
  readonly k = kernels();
  private base: number;
  private top: number;
  F: Float32Array;
  I: Int32Array;

  constructor() {
    this.base = Math.ceil(this.k.heapBase() / 16) * 16;
    this.top = this.base;
    this.F = new Float32Array(this.k.memory.buffer);
    this.I = new Int32Array(this.k.memory.buffer);
  }

  /** Frees everything laid out since `mark` was taken (or everything). */
  reset(mark = this.base): void {
    this.top = mark;
  }

  mark(): number {
    return this.top;
  }

  /** The bytes a layout may take: what wasm32 addresses, less the module's data (and any lift). */
  room(): number {
    return ENGINE_MEMORY_LIMIT - this.base;
  }

  /**
   * Starts every later layout `bytes` above the module's data, untouched (the pages are reserved,
   * not written, so they cost address space only): the tests place a pass's buffers past 2^31 and
   * near the limit with it.
   */
  lift(bytes: number): void {
    this.base = Math.ceil((this.k.heapBase() + bytes) / 16) * 16;
    this.top = this.base;
  }

  /** Room for `count` floats, 16-byte aligned for the SIMD loads. Returns a byte offset. */
  f32(count: number): number {
    const at = this.top;
    this.top += Math.ceil(count / 4) * 16;
    return at;
  }

  i32(count: number): number {
    return this.f32(count);
  }

  /**
   * Makes the layout so far addressable, or throws an EngineMemoryError saying that `what` needs
   * more than the engine can address (before anything is written).
   */
  commit(what: string): void {
    if (this.top > ENGINE_MEMORY_LIMIT) throw new EngineMemoryError(what, this.top - this.base, this.room());
    const mem = this.k.memory;
    if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / PAGE));
    if (this.F.buffer !== mem.buffer) {
      this.F = new Float32Array(mem.buffer);
      this.I = new Int32Array(mem.buffer);
    }
  }

  /** Copies `src` to byte offset `at` (after commit). */
  put(at: number, src: Float32Array | Int32Array): void {
    if (src instanceof Float32Array) this.F.set(src, at >>> 2);
    else this.I.set(src, at >>> 2);
  }

  zero(at: number, count: number): void {
    this.F.fill(0, at >>> 2, (at >>> 2) + count);
  }
}

let threadArena: Arena | null = null;

/**
 * This thread's arena. Teacher forcing and sampling each lay out their buffers afresh per call
 * (calls are synchronous and never nest), so they share it.
 */
export function arena(): Arena {
  threadArena ??= new Arena();
  return threadArena;
}

/** The bytes a pass may lay out in this thread's arena. */
export function engineRoom(): number {
  return arena().room();
}
