import * as tf from '@tensorflow/tfjs';
import { gatherRows, linear, segmentSum } from './ops';
import type { ModelConfig, Params } from './params';

/**
 * The DGMG modules of SPEC §3, written for many graphs at once: node rows of a block-diagonal
 * graph, each row tagged with its graph. One graph is the special case of one tag.
 */

/** Graph embedding h_G = sum_v sigmoid(g(h_v)) * f(h_v), per graph; a graph with no rows gets 0. */
export function graphEmbed(p: Params, h: tf.Tensor2D, graphOfRow: tf.Tensor1D, numGraphs: number): tf.Tensor2D {
  const gated = tf.mul(tf.sigmoid(linear(p, 'embed.gate', h)), linear(p, 'embed.proj', h)) as tf.Tensor2D;
  return segmentSum(gated, graphOfRow, numGraphs);
}

/** h' = GRU_t(a, h), PyTorch's GRUCell (gates r, z, n in that order). */
export function gruCell(p: Params, t: number, a: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const gi = tf.add(tf.matMul(a, p[`prop.${t}.gru.wi`] as tf.Tensor2D), p[`prop.${t}.gru.bi`]);
  const gh = tf.add(tf.matMul(h, p[`prop.${t}.gru.wh`] as tf.Tensor2D), p[`prop.${t}.gru.bh`]);
  const [ir, iz, inew] = tf.split(gi, 3, 1);
  const [hr, hz, hnew] = tf.split(gh, 3, 1);
  const r = tf.sigmoid(tf.add(ir, hr));
  const z = tf.sigmoid(tf.add(iz, hz));
  const c = tf.tanh(tf.add(inew, tf.mul(r, hnew)));
  return tf.add(c, tf.mul(z, tf.sub(h, c))) as tf.Tensor2D; // (1 - z) * c + z * h
}

/** The directed edges (both directions of each undirected edge) that messages flow along. */
export interface PropEdges {
  readonly src: tf.Tensor1D;
  readonly dst: tf.Tensor1D;
  /** In-degree of every row, [rows, 1]. */
  readonly deg: tf.Tensor2D;
}

/**
 * a_v = sum over u->v of W_t [h_v ; h_u ; x_uv] + b_t. With x_uv = 1 the sum distributes:
 * a_v = W_t [deg_v h_v ; sum_u h_u ; deg_v] + deg_v b_t, so the only per-edge work is one gather
 * and one segment sum of n-wide rows instead of a (2n+1) x 2n product for every edge.
 */
export function aggregateMessages(p: Params, t: number, h: tf.Tensor2D, e: PropEdges): tf.Tensor2D {
  const neighbourSum = segmentSum(gatherRows(h, e.src), e.dst, h.shape[0]);
  const z = tf.concat([tf.mul(e.deg, h), neighbourSum, e.deg], 1) as tf.Tensor2D;
  return tf.add(tf.matMul(z, p[`prop.${t}.msg.w`] as tf.Tensor2D), tf.mul(e.deg, p[`prop.${t}.msg.b`])) as tf.Tensor2D;
}

/** GraphProp: T rounds of message passing and GRU updates over every row of `h`. */
export function graphProp(p: Params, cfg: ModelConfig, h: tf.Tensor2D, e: PropEdges): tf.Tensor2D {
  let x = h;
  for (let t = 0; t < cfg.propRounds; t++) x = gruCell(p, t, aggregateMessages(p, t, x, e), x);
  return x;
}

/** AddNode's logit for "stop" from h_G. */
export function addNodeLogit(p: Params, hG: tf.Tensor2D): tf.Tensor1D {
  return linear(p, 'addNode.stop', hG).reshape([-1]);
}

/**
 * A new node's state h_v = W_init [e ; h_G] + b_init. There is one node type, so the e-part of
 * W_init·[e ; h_G] is one row shared by all new nodes: computing it once saves a concat per node.
 */
export function initNodes(p: Params, nodeSize: number, hG: tf.Tensor2D): tf.Tensor2D {
  const w = p['addNode.init.w'] as tf.Tensor2D;
  const typePart = tf.add(tf.matMul(p['addNode.typeEmbed'] as tf.Tensor2D, w.slice([0, 0], [nodeSize, nodeSize])), p['addNode.init.b']);
  return tf.add(tf.matMul(hG, w.slice([nodeSize, 0], [2 * nodeSize, nodeSize])), typePart) as tf.Tensor2D;
}

/** AddEdge's logit for "no more edges" from [h_G ; h_v], v the newest node. */
export function addEdgeLogit(p: Params, hG: tf.Tensor2D, hv: tf.Tensor2D): tf.Tensor1D {
  return linear(p, 'addEdge.stop', tf.concat([hG, hv], 1) as tf.Tensor2D).reshape([-1]);
}

/** ChooseDest's score s_u = w·[h_u ; h_v] + b for candidate u and source v, one row each. */
export function chooseDestScore(p: Params, hu: tf.Tensor2D, hv: tf.Tensor2D): tf.Tensor1D {
  return linear(p, 'chooseDest.score', tf.concat([hu, hv], 1) as tf.Tensor2D).reshape([-1]);
}
