import t, { type Test } from 'tap';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from '../model/kernels';
import { Rng } from '../graphs/random';
import { maxRelDiff } from './helpers';

/** Every kernel of ours against the stock kernel it replaces, on the same inputs. */

interface Outputs {
  segSum: Float32Array;
  segSumDropped: Float32Array;
  gather: Float32Array;
  gatherInt: Int32Array;
  matMulGrads: Float32Array[];
}

const rng = new Rng(11);
const x = Float32Array.from({ length: 50 * 7 }, () => rng.normal());
const ids = Int32Array.from({ length: 50 }, () => rng.int(0, 12));
const idsWithOutOfRange = Int32Array.from(ids, (v, i) => (i % 9 === 0 ? -1 : i % 11 === 0 ? 99 : v));
const gatherIdx = Int32Array.from({ length: 80 }, () => rng.int(0, 49));
const a = Float32Array.from({ length: 6 * 5 }, () => rng.normal());
const b = Float32Array.from({ length: 5 * 4 }, () => rng.normal());

function compute(): Outputs {
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, [50, 7]);
    const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.sin(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D))));
    return {
      segSum: tf.unsortedSegmentSum(xt, tf.tensor1d(ids, 'int32'), 13).dataSync() as Float32Array,
      segSumDropped: tf.unsortedSegmentSum(xt, tf.tensor1d(idsWithOutOfRange, 'int32'), 13).dataSync() as Float32Array,
      gather: tf.gather(xt, tf.tensor1d(gatherIdx, 'int32')).dataSync() as Float32Array,
      gatherInt: tf.gather(tf.tensor2d(ids, [10, 5], 'int32'), tf.tensor1d([3, 0, 9], 'int32')).dataSync() as Int32Array,
      matMulGrads: grads([tf.tensor2d(a, [6, 5]), tf.tensor2d(b, [5, 4])]).map((g) => g.dataSync() as Float32Array),
    };
  }) as unknown as Outputs;
}

function same(t: Test, got: Outputs, want: Outputs, label: string): void {
  t.ok(maxRelDiff(got.segSum, want.segSum, 1) < 1e-6, `${label}: UnsortedSegmentSum`);
  t.ok(maxRelDiff(got.segSumDropped, want.segSumDropped, 1) < 1e-6, `${label}: UnsortedSegmentSum drops out-of-range ids`);
  t.same(Array.from(got.gather), Array.from(want.gather), `${label}: GatherV2 rows`);
  t.same(Array.from(got.gatherInt), Array.from(want.gatherInt), `${label}: GatherV2 on int32 falls back to the stock kernel`);
  got.matMulGrads.forEach((g, i) => t.ok(maxRelDiff(g, want.matMulGrads[i], 1) < 1e-6, `${label}: matMul gradient ${i === 0 ? 'a' : 'b'}`));
}

t.test('our kernels equal the stock ones', async (t) => {
  await tf.setBackend('cpu');
  const stockCpu = compute();
  t.equal(stockCpu.segSum.length, 13 * 7);
  registerFastKernels('cpu');
  same(t, compute(), stockCpu, 'cpu');

  await tf.setBackend('wasm');
  // wasm has no stock UnsortedSegmentSum: only its gather can be compared before ours replace it
  const stockWasmGather = tf.tidy(() => tf.gather(tf.tensor2d(x, [50, 7]), tf.tensor1d(gatherIdx, 'int32')).dataSync());
  t.same(Array.from(stockWasmGather), Array.from(stockCpu.gather), 'stock wasm gather equals stock cpu gather');
  registerFastKernels('wasm');
  same(t, compute(), stockCpu, 'wasm');

  // empty inputs
  await tf.setBackend('wasm');
  const empty = tf.tidy(() => tf.unsortedSegmentSum(tf.zeros([0, 3]), tf.tensor1d([], 'int32'), 2).dataSync());
  t.same(Array.from(empty), [0, 0, 0, 0, 0, 0], 'segment sum of no rows is zeros (wasm memory is not zeroed by malloc)');
});
