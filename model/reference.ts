import * as tf from '@tensorflow/tfjs';
import type { Decisions } from '../graphs/graph';
import { GrowingGraph } from '../graphs/growing';
import { decodeDecisions } from '../graphs/sequence';
import { distanceBucket } from './distance';
import { binaryLogProb, gatherRows, indices, linear, segmentSum } from './ops';
import { destinationDistanceOf, jointEdgeChoiceOf, nodeCountRows, plannedSizeOf, size, typeCounts, type ModelConfig, type ParamLayout } from './params';
import { rulesOf } from './rules';

/** The model's parameters as named tensors (the reference path's form of the flat vector). */
export type Params = Readonly<Record<string, tf.Tensor>>;

/** Tensors viewing `flat` (copied into the backend), keyed by parameter name. */
export function paramTensors(layout: ParamLayout, flat: Float32Array): Params {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  const out: Record<string, tf.Tensor> = {};
  layout.specs.forEach((s, i) => {
    out[s.name] = tf.tensor(flat.subarray(layout.offsets[i], layout.offsets[i] + size(s.shape)), [...s.shape], 'float32');
  });
  return out;
}

/**
 * The one-graph-at-a-time computation that the batched schedule must equal (docs/design.md, 'Lockstep
 * batching'): decisions in sequence order, every equation written with plain tfjs ops as
 * docs/design.md, 'Model equations', states it, messages per edge.
 */

/**
 * AddNode: the head's logits from h_G (one: the logit of stop; else the K types, then stop), plus
 * row min(|V|, N) of the node-count table when N >= 1.
 */
function addNodeLogits(p: Params, cfg: ModelConfig, hG: tf.Tensor2D, nodes: number): tf.Tensor1D {
  const l = linear(p, 'addNode.stop', hG).reshape([-1]) as tf.Tensor1D;
  const N = nodeCountRows(cfg);
  return N > 0 ? tf.add(l, p['addNode.count'].slice([Math.min(nodes, N), 0], [1, -1]).reshape([-1])) : l;
}

/** AddEdge: the head's logits from [h_G ; h_v], v the newest node (one: the logit of no more edges; else the B types, then no more). */
function addEdgeLogits(p: Params, hG: tf.Tensor2D, hv: tf.Tensor2D): tf.Tensor1D {
  return linear(p, 'addEdge.stop', tf.concat([hG, hv], 1) as tf.Tensor2D).reshape([-1]);
}

/**
 * log P(token) from a head's logits: log-sigmoid of +-l for one stop logit l (token 1 = stop),
 * else log-softmax over the outcomes `allowed` lists (the types a valence rule leaves, then stop).
 */
function outcomeLogProb(logits: tf.Tensor1D, token: number, allowed: readonly number[]): tf.Tensor1D {
  if (logits.shape[0] === 1) return binaryLogProb(logits, tf.tensor1d([token]));
  const kept: tf.Tensor1D = allowed.length === logits.shape[0] ? logits : gatherRows(logits.reshape([-1, 1]), indices(allowed)).reshape([-1]);
  return tf.logSoftmax(kept).slice([allowed.indexOf(token)], [1]);
}

/**
 * ChooseDest: the score w_b·[h_u ; h_v] + c_b of candidate u for source v, one pair per row, b the
 * new edge's type; with `buckets` (a destination-distance term), plus delta[kappa(u, v), b], and
 * under model.distanceWeights plus q_kappa,b·[h_u ; h_v].
 */
function chooseDestScore(p: Params, hu: tf.Tensor2D, hv: tf.Tensor2D, b: number, buckets: readonly number[] | null): tf.Tensor1D {
  const pair = tf.concat([hu, hv], 1) as tf.Tensor2D;
  const all = linear(p, 'chooseDest.score', pair);
  const plain = all.slice([0, b], [-1, 1]).reshape([-1]) as tf.Tensor1D;
  if (!buckets) return plain;
  const delta = p['chooseDest.distance'] as tf.Tensor2D;
  const withDelta = tf.add(plain, gatherRows(delta.slice([0, b], [-1, 1]) as tf.Tensor2D, indices(buckets)).reshape([-1])) as tf.Tensor1D;
  const q = p['chooseDest.distanceWeights'] as tf.Tensor2D | undefined;
  if (!q) return withDelta;
  // q's columns kappa·B + b for this b, one row per kappa, then each pair's row by its bucket
  const B = delta.shape[1];
  const qb = q.reshape([q.shape[0], -1, B]).slice([0, 0, b], [-1, -1, 1]).reshape([q.shape[0], -1]).transpose() as tf.Tensor2D;
  return tf.add(withDelta, tf.sum(tf.mul(pair, gatherRows(qb, indices(buckets))), 1)) as tf.Tensor1D;
}

/** h_G = sum_v sigmoid(g(h_v)) * f(h_v) over the rows of one graph. */
export function plainGraphEmbed(p: Params, h: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(tf.mul(tf.sigmoid(linear(p, 'embed.gate', h)), linear(p, 'embed.proj', h)), 0, true) as tf.Tensor2D;
}

/** h' = GRU_t(a, h), PyTorch's GRUCell (gates r, z, n in that order). */
export function plainGruCell(p: Params, t: number, a: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const gi = tf.add(tf.matMul(a, p[`prop.${t}.gru.wi`] as tf.Tensor2D), p[`prop.${t}.gru.bi`]);
  const gh = tf.add(tf.matMul(h, p[`prop.${t}.gru.wh`] as tf.Tensor2D), p[`prop.${t}.gru.bh`]);
  const [ir, iz, inew] = tf.split(gi, 3, 1);
  const [hr, hz, hnew] = tf.split(gh, 3, 1);
  const r = tf.sigmoid(tf.add(ir, hr));
  const z = tf.sigmoid(tf.add(iz, hz));
  const c = tf.tanh(tf.add(inew, tf.mul(r, hnew)));
  return tf.add(tf.mul(tf.sub(1, z), c), tf.mul(z, h)) as tf.Tensor2D;
}

/** a_v = sum over edges u->v of W_t [h_v ; h_u ; x_uv] + b_t, x_uv the rows of `x` (one-hot edge types). */
export function messagesPerEdge(p: Params, t: number, h: tf.Tensor2D, src: tf.Tensor1D, dst: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  const m = linear(p, `prop.${t}.msg`, tf.concat([gatherRows(h, dst), gatherRows(h, src), x], 1) as tf.Tensor2D);
  return segmentSum(m, dst, h.shape[0]);
}

/** One row per entry, 1 in the entry's column of `depth` (tf.oneHot refuses depth 1, the untyped case). */
export function oneHotRows(entries: readonly number[], depth: number): tf.Tensor2D {
  const x = new Float32Array(entries.length * depth);
  entries.forEach((k, i) => (x[i * depth + k] = 1));
  return tf.tensor2d(x, [entries.length, depth]);
}

function propagateOne(p: Params, cfg: ModelConfig, h: tf.Tensor2D, edges: ReadonlyArray<[number, number]>, edgeTypes: readonly number[]): tf.Tensor2D {
  const src = indices(edges.flatMap(([a, b]) => [a, b]));
  const dst = indices(edges.flatMap(([a, b]) => [b, a]));
  const x = oneHotRows(edgeTypes.flatMap((b) => [b, b]), typeCounts(cfg).edgeTypes);
  let state = h;
  for (let t = 0; t < cfg.propRounds; t++) state = plainGruCell(p, t, messagesPerEdge(p, t, state, src, dst, x), state);
  return state;
}

/** log p(graph, order) of one valid decision sequence. */
export function referenceLogLikelihood(p: Params, cfg: ModelConfig, s: Decisions): tf.Scalar {
  const n = cfg.nodeSize;
  const { nodeTypes: K, edgeTypes: B } = typeCounts(cfg);
  const rules = rulesOf(cfg);
  const set = rules ? rules.start(s.length) : null;
  const D = destinationDistanceOf(cfg);
  const joint = jointEdgeChoiceOf(cfg);
  const graph = D > 0 ? new GrowingGraph(s.length, s.length) : null;
  const every = (count: number): number[] => Array.from({ length: count }, (_, c) => c);
  /** The destinations of an edge of type b from v, their states and, under a distance term, their kappa. */
  const destinations = (v: number, b: number): { candidates: number[]; hu: tf.Tensor2D; buckets: number[] | null } => {
    const candidates = every(v).filter((u) => !set || set.fits(u, b));
    const hu = candidates.length === v ? h.slice([0, 0], [v, n]) : gatherRows(h, indices(candidates));
    const dist = graph?.distancesFrom(v);
    return { candidates, hu, buckets: dist ? candidates.map((u) => distanceBucket(dist[u], D)) : null };
  };
  /** Scores of an edge of type b from v to each of `d`'s candidates. */
  const scoresOf = (v: number, b: number, d: ReturnType<typeof destinations>): tf.Tensor1D =>
    chooseDestScore(p, d.hu, tf.tile(h.slice([v, 0], [1, n]), [d.candidates.length, 1]), b, d.buckets);
  let h: tf.Tensor2D = tf.zeros([0, n]);
  const edges: Array<[number, number]> = [];
  const edgeTypes: number[] = [];
  const terms: tf.Tensor[] = [];
  // the graph with no nodes has its own learned embedding, embed.empty
  const embed = (): tf.Tensor2D => (h.shape[0] === 0 ? p['embed.empty'].reshape([1, 2 * n]) : plainGraphEmbed(p, h));
  // a planned size: log p(n) = log softmax(sigma)[n] first, then the graph is built to n nodes
  const planned = plannedSizeOf(cfg) > 0 ? decodeDecisions(s, { nodeTypes: K, edgeTypes: B }).numNodes : null;
  if (planned !== null) {
    if (planned > plannedSizeOf(cfg)) throw new Error(`a graph of ${planned} nodes is larger than model.plannedSize ${plannedSizeOf(cfg)}`);
    terms.push(tf.logSoftmax(p['size.logits']).slice([planned], [1]));
  }
  let i = 0;
  for (;;) {
    const hG = embed();
    const addNode = s[i++];
    // a rule that joins every node stops a graph with no room left: certain, no term
    const mayGrow = !set || set.mayAddNode();
    if (!mayGrow && addNode !== K) throw new Error(`add-node token ${addNode} at position ${i - 1} ${set?.whyNotNode() ?? ''}`);
    // the planned size decides the stop: certain at n nodes, removed before (and then certain for one type)
    if (planned === null) {
      if (mayGrow) terms.push(outcomeLogProb(addNodeLogits(p, cfg, hG, h.shape[0]), addNode, every(K + 1)));
    } else if (h.shape[0] < planned && K > 1) terms.push(outcomeLogProb(addNodeLogits(p, cfg, hG, h.shape[0]), addNode, every(K)));
    if (addNode === K) break;
    set?.addNode(addNode);
    graph?.addNode();
    // e_k, the embedding of the new node's type
    const e = p['addNode.typeEmbed'].slice([addNode, 0], [1, n]) as tf.Tensor2D;
    const init = linear(p, 'addNode.init', tf.concat([e, hG], 1) as tf.Tensor2D);
    // and under a planned size rho[n - |V|], |V| counting the new node
    const remaining = planned === null ? null : p['addNode.remaining'].slice([planned - h.shape[0] - 1, 0], [1, n]);
    h = tf.concat([h, remaining ? tf.add(init, remaining) : init], 0) as tf.Tensor2D;
    const v = h.shape[0] - 1;
    for (;;) {
      const addEdge = s[i++];
      // the types the rules leave (each fits the newest node and some earlier node), then stop unless a rule forces an add that is left
      // jointly, a type needs a destination: the first node of a rule-free model has none
      const types = set ? set.allowedEdgeTypes() : joint && v === 0 ? 0 : -1;
      const allowed = every(B + 1).filter((b) => (b === B ? !set || types === 0 || set.mayStop() : (types & (1 << b)) !== 0));
      if (!allowed.includes(addEdge)) throw new Error(`add-edge token ${addEdge} at position ${i - 1} ${!set ? '' : addEdge === B ? set.whyNotStop() : set.whyNotType(addEdge)}`);
      // forced: no term
      if (allowed.length > 1) {
        let logits = addEdgeLogits(p, embed(), h.slice([v, 0], [1, n]));
        if (joint) {
          // l_b + log sum_u exp(s_ub) for each allowed type b (a removed type is dropped by outcomeLogProb)
          const lse = every(logits.shape[0]).map((c) => (c < B && allowed.includes(c) ? tf.logSumExp(scoresOf(v, c, destinations(v, c))) : tf.scalar(0)));
          logits = tf.add(logits, tf.stack(lse)) as tf.Tensor1D;
        }
        terms.push(outcomeLogProb(logits, addEdge, allowed));
      }
      if (addEdge === B) break;
      const dest = s[i++];
      const d = destinations(v, addEdge);
      if (!d.candidates.includes(dest)) throw new Error(`destination ${dest} at position ${i - 1} ${set?.whyNotDest(dest, addEdge) ?? ''}`);
      if (d.candidates.length > 1) terms.push(tf.logSoftmax(scoresOf(v, addEdge, d)).slice([d.candidates.indexOf(dest)], [1]));
      set?.addEdge(v, dest, addEdge);
      graph?.addEdge(v, dest);
      edges.push([v, dest]);
      edgeTypes.push(addEdge);
      h = propagateOne(p, cfg, h, edges, edgeTypes);
    }
  }
  return tf.addN(terms).sum() as tf.Scalar;
}
