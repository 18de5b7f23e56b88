import * as tf from '@tensorflow/tfjs';
import { gatedGraphSum, gruGates, messageInput, type EdgeArrays } from './fused';
import { linear } from './ops';
import type { ModelConfig, Params } from './params';

/**
 * The DGMG modules of SPEC §3 for many graphs at once: rows of a block-diagonal graph, each row
 * tagged with its graph. reference.ts writes the same equations plainly, one graph at a time.
 */

/** Parameters rearranged once per forward pass so that each module is one product and one fused op. */
export interface Weights {
  readonly p: Params;
  /** [w_gate | W_proj], [b_gate | b_proj]. */
  readonly embedW: tf.Tensor2D;
  readonly embedB: tf.Tensor1D;
  /** [W_t ; b_t] per round: Z·msgW[t] with Z from messageInput is a_v. */
  readonly msgW: readonly tf.Tensor2D[];
  /** The h_G rows of W_init, and W_init's e rows applied to the one node type plus b_init. */
  readonly initFromGraph: tf.Tensor2D;
  readonly initConst: tf.Tensor2D;
}

export function prepareWeights(p: Params, cfg: ModelConfig): Weights {
  const n = cfg.nodeSize;
  const initW = p['addNode.init.w'] as tf.Tensor2D;
  return {
    p,
    embedW: tf.concat([p['embed.gate.w'], p['embed.proj.w']], 1) as tf.Tensor2D,
    embedB: tf.concat([p['embed.gate.b'], p['embed.proj.b']]) as tf.Tensor1D,
    msgW: Array.from({ length: cfg.propRounds }, (_, t) =>
      tf.concat([p[`prop.${t}.msg.w`], p[`prop.${t}.msg.b`].reshape([1, 2 * n])], 0) as tf.Tensor2D,
    ),
    initFromGraph: initW.slice([n, 0], [2 * n, n]),
    initConst: tf.add(tf.matMul(p['addNode.typeEmbed'] as tf.Tensor2D, initW.slice([0, 0], [n, n])), p['addNode.init.b']) as tf.Tensor2D,
  };
}

/** GraphEmbed: h_G = sum_v sigmoid(g(h_v)) * f(h_v) per graph; a graph with no rows gets 0. */
export function graphEmbed(w: Weights, h: tf.Tensor2D, graphOfRow: Int32Array, numGraphs: number): tf.Tensor2D {
  return gatedGraphSum(tf.matMul(h, w.embedW), w.embedB, graphOfRow, numGraphs);
}

/**
 * GraphProp: T rounds of a_v = sum_{u->v} W_t [h_v ; h_u ; x_uv] + b_t and h_v <- GRU_t(a_v, h_v).
 * With x_uv = 1 the sum distributes: a_v = W_t [deg_v h_v ; sum_u h_u ; deg_v] + deg_v b_t, so the
 * per-edge work is one n-wide row sum instead of a (2n+1) x 2n product for every edge.
 */
export function graphProp(w: Weights, cfg: ModelConfig, h: tf.Tensor2D, e: EdgeArrays): tf.Tensor2D {
  let x = h;
  for (let t = 0; t < cfg.propRounds; t++) {
    const a = tf.matMul(messageInput(x, e), w.msgW[t]) as tf.Tensor2D;
    const gi = tf.matMul(a, w.p[`prop.${t}.gru.wi`] as tf.Tensor2D) as tf.Tensor2D;
    const gh = tf.matMul(x, w.p[`prop.${t}.gru.wh`] as tf.Tensor2D) as tf.Tensor2D;
    x = gruGates(gi, gh, x, w.p[`prop.${t}.gru.bi`], w.p[`prop.${t}.gru.bh`]);
  }
  return x;
}

/** AddNode: the logit of "stop" from h_G. */
export function addNodeLogit(p: Params, hG: tf.Tensor2D): tf.Tensor1D {
  return linear(p, 'addNode.stop', hG).reshape([-1]);
}

/** AddNode: a new node's state W_init [e ; h_G] + b_init, h_G the embedding before it was added. */
export function initNodes(w: Weights, hG: tf.Tensor2D): tf.Tensor2D {
  return tf.add(tf.matMul(hG, w.initFromGraph), w.initConst) as tf.Tensor2D;
}

/** [x ; y]·w + b as x·w_x + y·w_y + b: tfjs's concat gradient (SplitV) is slow on wasm. */
function linearOfPair(p: Params, name: string, x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  const w = p[`${name}.w`] as tf.Tensor2D;
  const k = x.shape[1];
  const wx = w.slice([0, 0], [k, 1]);
  const wy = w.slice([k, 0], [w.shape[0] - k, 1]);
  return tf.add(tf.add(tf.matMul(x, wx), tf.matMul(y, wy)), p[`${name}.b`]).reshape([-1]);
}

/** AddEdge: the logit of "no more edges" from [h_G ; h_v], v the newest node. */
export function addEdgeLogit(p: Params, hG: tf.Tensor2D, hv: tf.Tensor2D): tf.Tensor1D {
  return linearOfPair(p, 'addEdge.stop', hG, hv);
}

/** ChooseDest: the score w·[h_u ; h_v] + b of candidate u for source v, one pair per row. */
export function chooseDestScore(p: Params, hu: tf.Tensor2D, hv: tf.Tensor2D): tf.Tensor1D {
  return linearOfPair(p, 'chooseDest.score', hu, hv);
}
