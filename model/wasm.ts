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
 * A bump allocator over the kernels' memory: a pass lays out every buffer it needs (`f32`, `i32`),
 * then `commit` grows the memory once if the layout does not fit. The memory only grows, to the
 * largest batch seen, so a long run allocates nothing once it has seen its largest batch.
 * Views (`F`, `I`) must be re-read after `commit`: growing detaches the old ones.
 */
export class Arena {
  readonly k = kernels();
  private readonly base: number;
  private top: number;
  F: Float32Array;
  I: Int32Array;

  constructor() {
    this.base = (this.k.heapBase() + 15) & ~15;
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

  /** Room for `count` floats, 16-byte aligned for the SIMD loads. Returns a byte offset. */
  f32(count: number): number {
    const at = this.top;
    this.top += (count * 4 + 15) & ~15;
    return at;
  }

  i32(count: number): number {
    return this.f32(count);
  }

  /** Makes the layout so far addressable. */
  commit(): void {
    const mem = this.k.memory;
    if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / PAGE));
    if (this.F.buffer !== mem.buffer) {
      this.F = new Float32Array(mem.buffer);
      this.I = new Int32Array(mem.buffer);
    }
  }

  /** Copies `src` to byte offset `at` (after commit). */
  put(at: number, src: Float32Array | Int32Array): void {
    if (src instanceof Float32Array) this.F.set(src, at >> 2);
    else this.I.set(src, at >> 2);
  }

  zero(at: number, count: number): void {
    this.F.fill(0, at >> 2, (at >> 2) + count);
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
