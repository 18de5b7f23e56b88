import * as tf from '@tensorflow/tfjs';
import type { Decisions } from '../graphs/graph';
import { addEdgeLogit, addNodeLogit, chooseDestScore, graphEmbed, gruCell, initNodes } from './dgmg';
import { binaryLogProb, gatherRows, linear, segmentSum } from './ops';
import type { ModelConfig, Params } from './params';

/**
 * The one-graph-at-a-time computation that the batched schedule must equal (SPEC §4): decisions in
 * sequence order, and every message computed per edge as the equation writes it.
 */

function messagesPerEdge(p: Params, t: number, h: tf.Tensor2D, src: tf.Tensor1D, dst: tf.Tensor1D): tf.Tensor2D {
  const x = tf.ones([src.shape[0], 1]);
  const m = linear(p, `prop.${t}.msg`, tf.concat([gatherRows(h, dst), gatherRows(h, src), x], 1) as tf.Tensor2D);
  return segmentSum(m, dst, h.shape[0]);
}

function propagateOne(p: Params, cfg: ModelConfig, h: tf.Tensor2D, edges: ReadonlyArray<[number, number]>): tf.Tensor2D {
  const src = tf.tensor1d(edges.flatMap(([a, b]) => [a, b]), 'int32');
  const dst = tf.tensor1d(edges.flatMap(([a, b]) => [b, a]), 'int32');
  let x = h;
  for (let t = 0; t < cfg.propRounds; t++) x = gruCell(p, t, messagesPerEdge(p, t, x, src, dst), x);
  return x;
}

/** log p(graph, order) of one valid decision sequence. */
export function referenceLogLikelihood(p: Params, cfg: ModelConfig, s: Decisions): tf.Scalar {
  const n = cfg.nodeSize;
  let h: tf.Tensor2D = tf.zeros([0, n]);
  const edges: Array<[number, number]> = [];
  const terms: tf.Tensor[] = [];
  const embed = (): tf.Tensor2D =>
    h.shape[0] === 0 ? tf.zeros([1, 2 * n]) : graphEmbed(p, h, tf.zeros([h.shape[0]], 'int32'), 1);
  const bit = (d: number): tf.Tensor1D => tf.tensor1d([d]);
  let i = 0;
  for (;;) {
    const hG = embed();
    const addNode = s[i++];
    terms.push(binaryLogProb(addNodeLogit(p, hG), bit(addNode)));
    if (addNode === 1) break;
    h = tf.concat([h, initNodes(p, n, hG)], 0) as tf.Tensor2D;
    const v = h.shape[0] - 1;
    for (;;) {
      const addEdge = s[i++];
      terms.push(binaryLogProb(addEdgeLogit(p, embed(), h.slice([v, 0], [1, n])), bit(addEdge)));
      if (addEdge === 1) break;
      const dest = s[i++];
      if (v >= 2) {
        const scores = chooseDestScore(p, h.slice([0, 0], [v, n]), tf.tile(h.slice([v, 0], [1, n]), [v, 1]));
        terms.push(tf.logSoftmax(scores).slice([dest], [1]));
      }
      edges.push([v, dest]);
      h = propagateOne(p, cfg, h, edges);
    }
  }
  return tf.addN(terms).sum() as tf.Scalar;
}
