import * as tf from '@tensorflow/tfjs';
import type { Decisions } from '../graphs/graph';
import { addEdgeLogit, addNodeLogit, chooseDestScore, prepareWeights } from './dgmg';
import { stackRows } from './fused';
import { advance, emptyTables } from './lockstep';
import { binaryLogProb, gatherRows, indices, segmentLogSoftmaxAt, segmentSum } from './ops';
import { paramTensors, type ModelConfig, type ParamLayout, type Params } from './params';
import { compileSchedule, type Schedule } from './schedule';


/**
 * Teacher-forced log p(graph, order) of every graph of a compiled batch: run the steps, then score
 * every decision of every stage with one set of ops per decision kind.
 */
export function scheduleLogLikelihoods(p: Params, cfg: ModelConfig, sch: Schedule): tf.Tensor1D {
  const w = prepareWeights(p, cfg);
  let tables = emptyTables(w, cfg, sch.numGraphs);
  const hGs: tf.Tensor2D[] = [tables.hG];
  const hs: tf.Tensor2D[] = [];
  for (const plan of sch.steps) {
    tables = advance(w, cfg, tables, plan);
    hGs.push(tables.hG);
    hs.push(tables.h);
  }
  const hG = stackRows(hGs);
  const h = hs.length ? stackRows(hs) : tf.zeros([0, cfg.nodeSize]) as tf.Tensor2D;

  // Each decision kind's log-probabilities summed per graph: log p(graph, order).
  const perGraph = (logp: tf.Tensor1D, graph: Int32Array): tf.Tensor1D =>
    segmentSum(logp.reshape([-1, 1]), indices(graph), sch.numGraphs).reshape([-1]);
  const an = sch.addNode;
  let total = perGraph(binaryLogProb(addNodeLogit(p, gatherRows(hG, indices(an.hgRow))), tf.tensor1d(an.decision)), an.graph);
  const ae = sch.addEdge;
  if (ae.graph.length) {
    const logits = addEdgeLogit(p, gatherRows(hG, indices(ae.hgRow)), gatherRows(h, indices(ae.hRow)));
    total = tf.add(total, perGraph(binaryLogProb(logits, tf.tensor1d(ae.decision)), ae.graph));
  }
  const cd = sch.chooseDest;
  if (cd.graph.length) {
    const scores = chooseDestScore(p, gatherRows(h, indices(cd.uRow)), gatherRows(h, indices(cd.vRow)));
    total = tf.add(total, perGraph(segmentLogSoftmaxAt(scores, cd.segment, cd.graph.length, cd.chosen), cd.graph));
  }
  return total;
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
    const negLogLik = (): tf.Scalar => {
      const ll = scheduleLogLikelihoods(params, cfg, sch);
      logLik = ll.dataSync() as Float32Array;
      return tf.neg(tf.sum(ll)) as tf.Scalar;
    };
    // A shard may not reach every parameter (no graph with an edge leaves GraphProp unused):
    // such a parameter's gradient is zero, not an error.
    const xs = names.map((n) => params[n]);
    const { grads } = tf.engine().gradients(negLogLik, xs, undefined, true);
    const gradSum = new Float32Array(layout.total);
    grads.forEach((g, i) => {
      if (g) gradSum.set(g.dataSync() as Float32Array, layout.offsets[i]);
    });
    return { logLik: Float32Array.from(logLik), gradSum };
  });
}

/** log p of every graph, no gradients (evaluation). */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  const sch = compileSchedule(seqs);
  return tf.tidy(() => Float32Array.from(scheduleLogLikelihoods(paramTensors(layout, flat), cfg, sch).dataSync()));
}
