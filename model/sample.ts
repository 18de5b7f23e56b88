import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../graphs/graph';
import type { Rng } from '../graphs/random';
import { addEdgeLogit, addNodeLogit, chooseDestScore, prepareWeights } from './dgmg';
import { advance, emptyTables, type Tables } from './lockstep';
import { gatherRows, indices } from './ops';
import { paramTensors, type ModelConfig, type ParamLayout } from './params';
import { planStep, type GraphEvent, type LiveGraph } from './schedule';

/** Where a graph being sampled stands: before an add-node or an add-edge decision. */
interface Sampler {
  readonly graph: LiveGraph;
  readonly rng: Rng;
  phase: 'node' | 'edge';
  /** Add-edge attempts of the newest node so far. */
  attempts: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Index of a draw from softmax(scores[from..to)), relative to `from`. */
function drawSoftmax(rng: Rng, scores: Float32Array, from: number, to: number): number {
  let max = -Infinity;
  for (let i = from; i < to; i++) max = Math.max(max, scores[i]);
  let z = 0;
  for (let i = from; i < to; i++) z += Math.exp(scores[i] - max);
  let u = rng.uniform() * z;
  for (let i = from; i < to - 1; i++) {
    u -= Math.exp(scores[i] - max);
    if (u < 0) return i - from;
  }
  return to - 1 - from;
}

/**
 * Runs a graph's decisions at the current state until the state changes (a new node, or a new
 * edge) or the graph stops (null). Every decision here reads the same state, so the logits
 * computed for this state serve them all; a repeated edge changes nothing and the node tries again.
 */
function decide(s: Sampler, vMax: number, nodeLogit: number, edgeLogit: number, scores: Float32Array, scoreFrom: number): GraphEvent | null {
  const g = s.graph;
  for (;;) {
    if (s.phase === 'edge') {
      const v = g.numNodes - 1;
      // P(1 = no more edges) = sigmoid(l); a node tries at most (nodes - 1) edges
      if (s.attempts >= g.numNodes - 1 || s.rng.uniform() < sigmoid(edgeLogit)) {
        s.phase = 'node';
        continue;
      }
      s.attempts++;
      const dest = v === 1 ? 0 : drawSoftmax(s.rng, scores, scoreFrom, scoreFrom + v);
      if (!g.edges.some(([a, b]) => (a === v && b === dest) || (a === dest && b === v))) return { kind: 'edge', src: v, dst: dest };
      continue;
    }
    if (g.numNodes >= vMax || s.rng.uniform() < sigmoid(nodeLogit)) return null;
    s.phase = 'edge';
    s.attempts = 0;
    return { kind: 'node' };
  }
}

/**
 * Samples one graph per generator in `rngs`, all in lockstep: each step scores the decisions of
 * every live graph at its current state in one set of ops, then applies all graphs' events at once.
 * A graph's draws come from its own generator only, so it does not depend on its batch mates.
 */
export function sampleGraphs(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, rngs: readonly Rng[], vMax: number): Graph[] {
  const samplers: Sampler[] = rngs.map((rng, id) => ({ graph: { id, numNodes: 0, edges: [] }, rng, phase: 'node', attempts: 0 }));
  // One scope for the parameters and weights; the tables of each step are freed as the next replaces them.
  tf.engine().startScope();
  try {
    const params = paramTensors(layout, flat);
    const w = prepareWeights(params, cfg);
    let live = samplers.map((s) => s.graph);
    let tables: Tables = emptyTables(w, cfg, live.length);
    while (live.length) {
      const cur = live;
      const current = tables;
      // rows of each live graph in the node table, in order
      const base: number[] = [];
      cur.reduce((r, g) => (base.push(r), r + g.numNodes), 0);
      const withNodes = cur.map((_, i) => i).filter((i) => cur[i].numNodes > 0);
      const uRows: number[] = [];
      const vRows: number[] = [];
      const scoreFrom = new Array<number>(cur.length).fill(0);
      for (const i of withNodes) {
        const v = cur[i].numNodes - 1;
        scoreFrom[i] = uRows.length;
        for (let u = 0; u < v; u++) {
          uRows.push(base[i] + u);
          vRows.push(base[i] + v);
        }
      }
      const [nodeLogits, edgeLogits, scores] = tf.tidy(() => {
        const nl = addNodeLogit(params, current.hG);
        const el = withNodes.length
          ? addEdgeLogit(params, gatherRows(current.hG, indices(withNodes)), gatherRows(current.h, indices(withNodes.map((i) => base[i] + cur[i].numNodes - 1))))
          : tf.zeros([0]);
        const sc = uRows.length ? chooseDestScore(params, gatherRows(current.h, indices(uRows)), gatherRows(current.h, indices(vRows))) : tf.zeros([0]);
        return [nl.dataSync() as Float32Array, el.dataSync() as Float32Array, sc.dataSync() as Float32Array];
      });
      const edgeLogit = new Array<number>(cur.length).fill(0);
      withNodes.forEach((i, k) => (edgeLogit[i] = edgeLogits[k]));
      const events = cur.map((g, i) => decide(samplers[g.id], vMax, nodeLogits[i], edgeLogit[i], scores, scoreFrom[i]));
      const { plan, next } = planStep(cur, events);
      live = next;
      const [h, hG] = tf.tidy(() => {
        const t = advance(w, cfg, current, plan);
        return [t.h, t.hG];
      });
      tables = { h: h as tf.Tensor2D, hG: hG as tf.Tensor2D };
      tf.dispose([current.h, current.hG]);
    }
  } finally {
    tf.engine().endScope();
  }
  return samplers.map((s) => ({ numNodes: s.graph.numNodes, edges: s.graph.edges.map(([a, b]) => [a, b] as const) }));
}
