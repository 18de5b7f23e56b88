import * as tf from '@tensorflow/tfjs';
import type { Decisions } from '../graphs/graph';
import { addEdgeLogit, addNodeLogit, chooseDestScore } from './dgmg';
import { advance, emptyTables } from './lockstep';
import { binaryLogProb, gatherRows, segmentLogSoftmaxAt, segmentSum } from './ops';
import { flattenTensors, paramTensors, type ModelConfig, type ParamLayout, type Params } from './params';
import { compileSchedule, type Schedule } from './schedule';

const ints = (a: Int32Array): tf.Tensor1D => tf.tensor1d(a, 'int32');

/**
 * Teacher-forced log p(graph, order) of every graph of a compiled batch: run the steps, then score
 * every decision of every stage with one set of ops per decision kind.
 */
export function scheduleLogLikelihoods(p: Params, cfg: ModelConfig, sch: Schedule): tf.Tensor1D {
  let tables = emptyTables(cfg, sch.numGraphs);
  const hGs: tf.Tensor2D[] = [tables.hG];
  const hs: tf.Tensor2D[] = [];
  for (const plan of sch.steps) {
    tables = advance(p, cfg, tables, plan);
    hGs.push(tables.hG);
    hs.push(tables.h);
  }
  const hG = tf.concat(hGs, 0) as tf.Tensor2D;
  const h = (hs.length ? tf.concat(hs, 0) : tf.zeros([0, cfg.nodeSize])) as tf.Tensor2D;

  const terms: tf.Tensor1D[] = [];
  const owners: Int32Array[] = [];
  const an = sch.addNode;
  terms.push(binaryLogProb(addNodeLogit(p, gatherRows(hG, ints(an.hgRow))), tf.tensor1d(an.decision)));
  owners.push(an.graph);
  const ae = sch.addEdge;
  if (ae.graph.length) {
    const logits = addEdgeLogit(p, gatherRows(hG, ints(ae.hgRow)), gatherRows(h, ints(ae.hRow)));
    terms.push(binaryLogProb(logits, tf.tensor1d(ae.decision)));
    owners.push(ae.graph);
  }
  const cd = sch.chooseDest;
  if (cd.graph.length) {
    const scores = chooseDestScore(p, gatherRows(h, ints(cd.uRow)), gatherRows(h, ints(cd.vRow)));
    terms.push(segmentLogSoftmaxAt(scores, cd.segment, cd.graph.length, cd.chosen));
    owners.push(cd.graph);
  }
  const all = tf.concat(terms, 0).reshape([-1, 1]) as tf.Tensor2D;
  const owner = new Int32Array(owners.reduce((a, o) => a + o.length, 0));
  owners.reduce((off, o) => (owner.set(o, off), off + o.length), 0);
  return segmentSum(all, ints(owner), sch.numGraphs).reshape([-1]);
}

/** What a shard of a batch contributes to a training step. */
export interface ShardGradients {
  /** log p of every graph of the shard, in order. */
  readonly logLik: Float32Array;
  /** Gradient of the shard's summed negative log-likelihood, flat in layout order. */
  readonly gradSum: Float32Array;
}

/** Forward and backward of batched teacher forcing on one shard of (valid) decision sequences. */
export function shardGradients(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): ShardGradients {
  const sch = compileSchedule(seqs);
  const names = layout.specs.map((s) => s.name);
  return tf.tidy(() => {
    const params = paramTensors(layout, flat);
    let logLik: Float32Array = new Float32Array(0);
    const negLogLik = (...xs: tf.Tensor[]): tf.Scalar => {
      const p: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => (p[n] = xs[i]));
      const ll = scheduleLogLikelihoods(p, cfg, sch);
      logLik = ll.dataSync() as Float32Array;
      return tf.neg(tf.sum(ll)) as tf.Scalar;
    };
    const grads = tf.grads(negLogLik)(names.map((n) => params[n]));
    const named: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => (named[n] = grads[i]));
    return { logLik: Float32Array.from(logLik), gradSum: flattenTensors(layout, named) };
  });
}

/** log p of every graph, no gradients (evaluation). */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  const sch = compileSchedule(seqs);
  return tf.tidy(() => Float32Array.from(scheduleLogLikelihoods(paramTensors(layout, flat), cfg, sch).dataSync()));
}
