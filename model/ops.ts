import * as tf from '@tensorflow/tfjs';

/** An index vector as an int32 tensor. */
export function indices(a: Int32Array | readonly number[]): tf.Tensor1D {
  return tf.tensor1d(a instanceof Int32Array ? a : Int32Array.from(a), 'int32');
}

/**
 * Row gather and segment sum as a pair of custom-gradient ops, each the other's adjoint, so the
 * backward pass is one linear-time kernel instead of tfjs's generic gather gradient (reshapes,
 * transposes and an UnsortedSegmentSum that wasm lacks).
 */
export function gatherRows(x: tf.Tensor2D, idx: tf.Tensor1D): tf.Tensor2D {
  const rows = x.shape[0];
  // The index tensor must be saved: a tensor only captured by the closure is disposed with the
  // forward scope before the backward pass reads it.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    (args[1] as tf.GradSaveFunc)([idx]);
    return {
      value: tf.gather(args[0] as tf.Tensor, idx),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.unsortedSegmentSum(dy, saved[0] as tf.Tensor1D, rows),
    };
  });
  return op(x) as tf.Tensor2D;
}

/** out[s] = sum of the rows i with seg[i] = s. */
export function segmentSum(x: tf.Tensor2D, seg: tf.Tensor1D, numSegments: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    (args[1] as tf.GradSaveFunc)([seg]);
    return {
      value: tf.unsortedSegmentSum(args[0] as tf.Tensor, seg, numSegments),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]),
    };
  });
  return op(x) as tf.Tensor2D;
}

/** x·W + b for a layer stored as `${name}.w` [in, out] and `${name}.b` [out]. */
export function linear(p: Readonly<Record<string, tf.Tensor>>, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(x, p[`${name}.w`] as tf.Tensor2D), p[`${name}.b`]);
}

/** log P(decision) for binary decisions with P(1) = sigmoid(logit): log-sigmoid of +-logit. */
export function binaryLogProb(logits: tf.Tensor1D, decisions: tf.Tensor1D): tf.Tensor1D {
  // decisions are 0/1: sign = 2d - 1. log sigmoid(y) = -softplus(-y); tf.logSigmoid is not used
  // because its gradient reads its input through a closure, freed before the backward pass.
  const y = tf.mul(logits, tf.sub(tf.mul(decisions, 2), 1));
  return tf.neg(tf.softplus(tf.neg(y))) as tf.Tensor1D;
}
