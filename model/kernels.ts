import * as tf from '@tensorflow/tfjs';

/**
 * tfjs kernels of our own for the reference path (reference.ts, the tests' oracle; training and
 * sampling run on engine.ts): row gather and segment sum, which its per-edge messages live on,
 * and a matMul gradient without transposed-operand matMuls. Measured on this machine
 * (shared/probes/tfjs-backends): wasm has no UnsortedSegmentSum at all, cpu's is
 * O(segments x rows), wasm's GatherV2 and transposed MatMul are several times slower than a
 * plain loop and an explicit transpose.
 */

export type ArrayBackend = 'cpu' | 'wasm';
type TypedArray = Float32Array | Int32Array | Uint8Array;

interface CpuLike {
  data: { get(id: tf.DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: TypedArray): tf.TensorInfo;
}
interface WasmLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): TypedArray;
}

/**
 * Runs `fill(inputs, out)` over plain typed arrays on either backend. On wasm the output must be
 * allocated before the input views are taken: malloc may grow the heap and detach older views.
 */
function runOnArrays(
  backendName: ArrayBackend,
  backend: unknown,
  inputs: tf.TensorInfo[],
  outShape: number[],
  fill: (ins: TypedArray[], out: Float32Array) => void,
): tf.TensorInfo {
  const size = outShape.reduce((a, b) => a * b, 1);
  if (backendName === 'wasm') {
    const b = backend as WasmLike;
    const out = b.makeOutput(outShape, 'float32');
    const ov = b.typedArrayFromHeap(out) as Float32Array;
    ov.fill(0); // wasm malloc does not zero memory
    fill(inputs.map((t) => b.typedArrayFromHeap(t)), ov);
    return out;
  }
  const b = backend as CpuLike;
  const ov = new Float32Array(size);
  fill(inputs.map((t) => b.data.get(t.dataId).values as TypedArray), ov);
  return b.makeTensorInfo(outShape, 'float32', ov);
}

/** out[ids[i]] += x[i] for every row i; ids outside [0, numSegments) are dropped, as tf's op does. */
function segmentSumLoop(x: TypedArray, ids: TypedArray, inner: number, numSegments: number, out: Float32Array): void {
  for (let e = 0; e < ids.length; e++) {
    const s = ids[e];
    if (s < 0 || s >= numSegments) continue;
    const xo = e * inner;
    const oo = s * inner;
    for (let k = 0; k < inner; k++) out[oo + k] += x[xo + k];
  }
}

/** out[i] = x[ids[i]] for every row i. */
function gatherLoop(x: TypedArray, ids: TypedArray, inner: number, out: Float32Array): void {
  for (let e = 0; e < ids.length; e++) {
    const s = ids[e] * inner;
    out.set(x.subarray(s, s + inner), e * inner);
  }
}

const stockKernels = new Map<string, tf.KernelFunc | null>();
const stockKey = (kernelName: string, backendName: string): string => `${kernelName}/${backendName}`;

/** The kernel tfjs itself registered (null where it has none): ours fall back to it for other cases. */
function stockKernel(kernelName: string, backendName: ArrayBackend): tf.KernelFunc | null {
  const key = stockKey(kernelName, backendName);
  if (!stockKernels.has(key)) return tf.getKernel(kernelName, backendName)?.kernelFunc ?? null;
  return stockKernels.get(key) ?? null;
}

function replaceKernel(kernelName: string, backendName: ArrayBackend, kernelFunc: (stock: tf.KernelFunc | null) => tf.KernelFunc): void {
  const stock = stockKernel(kernelName, backendName);
  stockKernels.set(stockKey(kernelName, backendName), stock);
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc(stock) });
}

function innerSize(shape: number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

function registerSegmentSum(backendName: ArrayBackend): void {
  replaceKernel('UnsortedSegmentSum', backendName, (stock) => (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (args.attrs as { numSegments: number }).numSegments;
    if (segmentIds.shape.length !== 1 || x.dtype !== 'float32') {
      if (stock) return stock(args);
      throw new Error(`UnsortedSegmentSum on ${backendName}: only float32 rows with 1-D segment ids are supported`);
    }
    const inner = innerSize(x.shape);
    return runOnArrays(backendName, args.backend, [x, segmentIds], [numSegments, ...x.shape.slice(1)], ([xv, ids], out) =>
      segmentSumLoop(xv, ids, inner, numSegments, out),
    );
  });
}

function registerGather(backendName: ArrayBackend): void {
  replaceKernel('GatherV2', backendName, (stock) => (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
    const plain = (axis === 0 || axis === -x.shape.length) && !batchDims && x.dtype === 'float32' && indices.shape.length === 1;
    if (!plain && stock) return stock(args);
    if (!plain) throw new Error(`GatherV2 on ${backendName}: unsupported arguments`);
    const inner = innerSize(x.shape);
    return runOnArrays(backendName, args.backend, [x, indices], [indices.shape[0], ...x.shape.slice(1)], ([xv, ids], out) =>
      gatherLoop(xv, ids, inner, out),
    );
  });
}

let stockMatMulGrad: tf.GradConfig | undefined;

/** The matMul gradient tfjs registered: ours falls back to it for batched or transposed products. */
function stockMatMulGradient(): tf.GradConfig {
  const g = stockMatMulGrad ?? tf.getGradient('BatchMatMul');
  if (!g) throw new Error('tfjs registered no BatchMatMul gradient (load @tensorflow/tfjs, not tfjs-core alone)');
  return g;
}

function registerMatMulGradient(): void {
  const stock = stockMatMulGradient();
  stockMatMulGrad = stock;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (a.rank !== 2 || b.rank !== 2 || transposeA || transposeB) return stock.gradFunc(dy, saved, attrs);
      const g = dy as tf.Tensor2D;
      return { a: () => tf.matMul(g, tf.transpose(b)), b: () => tf.matMul(tf.transpose(a), g) };
    },
  });
}

const tuned = new Set<ArrayBackend>();

/** Registers our kernels on a backend; idempotent. */
export function registerFastKernels(backendName: ArrayBackend): void {
  if (tuned.has(backendName)) return;
  tuned.add(backendName);
  registerSegmentSum(backendName);
  registerGather(backendName);
  if (backendName === 'wasm' && !stockMatMulGrad) registerMatMulGradient();
}
