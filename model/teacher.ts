import type { Decisions } from '../graphs/graph';
import {
  addWeightGrads,
  allocWeightGrads,
  allocWeights,
  backwardStep,
  dot,
  fillWeights,
  forwardStep,
  logSigmoid,
  sigmoid,
  type BackwardBuffers,
  type StepBuffers,
  type WeightGrads,
} from './engine';
import { paramView, type ModelConfig, type ParamLayout } from './params';
import { compileSchedule, type BinaryDecisionRows, type Schedule } from './schedule';
import { arena, type Arena } from './wasm';

/**
 * Batched teacher forcing (SPEC §4) on the engine: the compiled schedule is laid out in one arena
 * (every step's node table H_s and embeddings hG_s, the values the backward needs, the index
 * plans), the steps run forward, every decision of a kind is scored in one pass over the tables,
 * and the backward runs the steps in reverse. The tables are stored back to back, so the
 * schedule's decision rows (into concat(hG_0..hG_K) and concat(H_1..H_K)) index them directly.
 */

interface Laid {
  readonly steps: StepBuffers[];
  /** Row offsets of H_s in the node table and of hG_s in the embedding table. */
  readonly hOff: number[];
  readonly hgOff: number[];
  readonly hTable: number;
  readonly hgTable: number;
  readonly totalRows: number;
  readonly totalGraphs: number;
  readonly gi: number;
  readonly gh: number;
  /** Score of every choose-destination pair. */
  readonly scores: number;
  readonly grads: { readonly dHTable: number; readonly dHGTable: number; readonly w: WeightGrads; readonly zeroFloats: number; readonly back: BackwardBuffers } | null;
}

/** Places the schedule's tables, saved values, index plans and (with `grads`) gradient buffers. */
function layOut(a: Arena, cfg: ModelConfig, sch: Schedule, grads: boolean): Laid {
  const n = cfg.nodeSize;
  const T = cfg.propRounds;
  const hOff = [0];
  const hgOff = [0];
  let rows = 0;
  let graphs = sch.numGraphs;
  for (const plan of sch.steps) {
    hOff.push(rows);
    hgOff.push(graphs);
    rows += plan.assemble.length;
    graphs += plan.numGraphs;
  }
  const hTable = a.f32(rows * n);
  const hgTable = a.f32(graphs * 2 * n);
  let maxRows = 0;
  let maxProp = 0;
  let maxInit = 0;
  const steps: StepBuffers[] = sch.steps.map((plan, i) => {
    const s = i + 1;
    const prop = plan.prop;
    const P = prop ? prop.rows.length : 0;
    const I = plan.init ? plan.init.length : 0;
    maxRows = Math.max(maxRows, plan.assemble.length);
    maxProp = Math.max(maxProp, P);
    maxInit = Math.max(maxInit, I);
    return {
      prevH: hTable + hOff[s - 1] * n * 4,
      prevRows: s === 1 ? 0 : sch.steps[i - 1].assemble.length,
      prevHG: hgTable + hgOff[s - 1] * 2 * n * 4,
      H: hTable + hOff[s] * n * 4,
      rows: plan.assemble.length,
      hG: hgTable + hgOff[s] * 2 * n * 4,
      numGraphs: plan.numGraphs,
      Y: a.f32(plan.assemble.length * (2 * n + 1)),
      gate: a.f32(plan.assemble.length),
      graphOfRow: a.i32(plan.graphOfRow.length),
      assemble: a.i32(plan.assemble.length),
      prop: prop
        ? {
            rows: a.i32(P),
            count: P,
            src: a.i32(prop.src.length),
            dst: a.i32(prop.dst.length),
            edges: prop.src.length,
            deg: a.f32(P),
            x: Array.from({ length: T + 1 }, () => a.f32(P * n)),
            z: Array.from({ length: T }, () => a.f32(P * (2 * n + 2))),
            saved: Array.from({ length: T }, () => a.f32(P * 4 * n)),
          }
        : null,
      // the gathered h_G rows and new states are scratch: the backward gathers again
      init: plan.init ? { idx: a.i32(I), count: I, hG: 0, h: 0 } : null,
    };
  });
  const initHG = a.f32(maxInit * 2 * n);
  const initH = a.f32(maxInit * n);
  for (const st of steps) if (st.init) st.init = { ...st.init, hG: initHG, h: initH };
  const gi = a.f32(maxProp * 3 * n);
  const gh = a.f32(maxProp * 3 * n);
  const scores = a.f32(sch.chooseDest.uRow.length);
  const gradsFrom = a.mark();
  const g = grads
    ? {
        dHTable: a.f32(rows * n),
        dHGTable: a.f32(graphs * 2 * n),
        w: allocWeightGrads(a, cfg),
        // everything above is summed into and starts at zero; the scratch below is written first
        zeroFloats: (a.mark() - gradsFrom) >> 2,
        back: {
          dH: 0,
          dHG: 0,
          dPrevH: 0,
          dPrevHG: 0,
          dY: a.f32(maxRows * (2 * n + 1)),
          dXa: a.f32(maxProp * n),
          dXb: a.f32(maxProp * n),
          dGI: a.f32(maxProp * 3 * n),
          dGH: a.f32(maxProp * 3 * n),
          dZ: a.f32(maxProp * (2 * n + 2)),
          dInitH: a.f32(maxInit * n),
          dInitHG: a.f32(maxInit * 2 * n),
        },
      }
    : null;
  return { steps, hOff, hgOff, hTable, hgTable, totalRows: rows, totalGraphs: graphs, gi, gh, scores, grads: g };
}

/** Copies the schedule's index plans into their places (after commit). */
function putPlans(a: Arena, sch: Schedule, laid: Laid): void {
  sch.steps.forEach((plan, i) => {
    const st = laid.steps[i];
    a.put(st.graphOfRow, plan.graphOfRow);
    a.put(st.assemble, plan.assemble);
    if (plan.prop && st.prop) {
      a.put(st.prop.rows, plan.prop.rows);
      a.put(st.prop.src, plan.prop.src);
      a.put(st.prop.dst, plan.prop.dst);
      a.put(st.prop.deg, plan.prop.deg);
    }
    if (plan.init && st.init) a.put(st.init.idx, plan.init);
  });
}

/**
 * Binary decisions with P(1) = σ(l), l = [x ; y]·w + b, x a row of table X (width wx), y a row of
 * table Y (width wy; none when wy = 0). Adds log P(decision) to its graph's total; with `dl`,
 * writes d(-log P)/dl per decision.
 */
function scoreBinary(
  F: Float32Array,
  d: BinaryDecisionRows,
  X: number,
  wx: number,
  Y: number,
  wy: number,
  w: Float32Array,
  b: number,
  total: Float64Array,
  dl: Float64Array | null,
): void {
  for (let i = 0; i < d.graph.length; i++) {
    let l = b + dot(F, (X >> 2) + d.hgRow[i] * wx, w, 0, wx);
    if (wy) l += dot(F, (Y >> 2) + d.hRow[i] * wy, w, wx, wy);
    const sign = 2 * d.decision[i] - 1;
    total[d.graph[i]] += logSigmoid(sign * l);
    if (dl) dl[i] = -sign * sigmoid(-sign * l);
  }
}

/** The adjoint of scoreBinary's logit: dX, dY rows and dw, db from dl. */
function scoreBinaryBackward(F: Float32Array, d: BinaryDecisionRows, X: number, dX: number, wx: number, Y: number, dY: number, wy: number, w: Float32Array, dw: Float32Array, db: Float32Array, dl: Float64Array): void {
  for (let i = 0; i < d.graph.length; i++) {
    const g = dl[i];
    const xo = (X >> 2) + d.hgRow[i] * wx;
    const dxo = (dX >> 2) + d.hgRow[i] * wx;
    for (let k = 0; k < wx; k++) {
      dw[k] += g * F[xo + k];
      F[dxo + k] += g * w[k];
    }
    if (wy) {
      const yo = (Y >> 2) + d.hRow[i] * wy;
      const dyo = (dY >> 2) + d.hRow[i] * wy;
      for (let k = 0; k < wy; k++) {
        dw[wx + k] += g * F[yo + k];
        F[dyo + k] += g * w[wx + k];
      }
    }
    db[0] += g;
  }
}

/**
 * Every decision of the batch scored against the tables: log p of every graph, and with `grad`
 * the gradient of -sum log p added into the node and embedding table gradients and the heads'
 * parameters.
 */
function decisions(a: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, laid: Laid, grad: Float32Array | null): Float64Array {
  const n = cfg.nodeSize;
  const F = a.F;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const total = new Float64Array(sch.numGraphs);
  const g = laid.grads;
  const an = sch.addNode;
  const anDl = grad ? new Float64Array(an.graph.length) : null;
  scoreBinary(F, an, laid.hgTable, 2 * n, 0, 0, P('addNode.stop.w'), P('addNode.stop.b')[0], total, anDl);
  const ae = sch.addEdge;
  const aeDl = grad ? new Float64Array(ae.graph.length) : null;
  scoreBinary(F, ae, laid.hgTable, 2 * n, laid.hTable, n, P('addEdge.stop.w'), P('addEdge.stop.b')[0], total, aeDl);

  // ChooseDest: s_u = w·[h_u ; h_v] + b per candidate, log-softmax within each decision's segment
  const cd = sch.chooseDest;
  const cw = P('chooseDest.score.w');
  const cb = P('chooseDest.score.b')[0];
  const S = laid.scores >> 2;
  const H = laid.hTable >> 2;
  for (let i = 0; i < cd.uRow.length; i++) F[S + i] = cb + dot(F, H + cd.uRow[i] * n, cw, 0, n) + dot(F, H + cd.vRow[i] * n, cw, n, n);
  const segStart = (seg: number, from: number): number => {
    let i = from;
    while (i < cd.segment.length && cd.segment[i] === seg) i++;
    return i;
  };
  const dScore = grad ? new Float64Array(cd.uRow.length) : null;
  for (let seg = 0, from = 0; seg < cd.graph.length; seg++) {
    const to = segStart(seg, from);
    let max = -Infinity;
    for (let i = from; i < to; i++) max = Math.max(max, F[S + i]);
    let z = 0;
    for (let i = from; i < to; i++) z += Math.exp(F[S + i] - max);
    const logZ = max + Math.log(z);
    total[cd.graph[seg]] += F[S + cd.chosen[seg]] - logZ;
    if (dScore) {
      for (let i = from; i < to; i++) dScore[i] = Math.exp(F[S + i] - logZ);
      dScore[cd.chosen[seg]] -= 1;
    }
    from = to;
  }

  if (grad && g && anDl && aeDl && dScore) {
    const G = (name: string): Float32Array => paramView(layout, grad, name);
    scoreBinaryBackward(F, an, laid.hgTable, g.dHGTable, 2 * n, 0, 0, 0, P('addNode.stop.w'), G('addNode.stop.w'), G('addNode.stop.b'), anDl);
    scoreBinaryBackward(F, ae, laid.hgTable, g.dHGTable, 2 * n, laid.hTable, g.dHTable, n, P('addEdge.stop.w'), G('addEdge.stop.w'), G('addEdge.stop.b'), aeDl);
    const dcw = G('chooseDest.score.w');
    const dcb = G('chooseDest.score.b');
    const dH = g.dHTable >> 2;
    for (let i = 0; i < cd.uRow.length; i++) {
      const d = dScore[i];
      const uo = cd.uRow[i] * n;
      const vo = cd.vRow[i] * n;
      for (let k = 0; k < n; k++) {
        dcw[k] += d * F[H + uo + k];
        dcw[n + k] += d * F[H + vo + k];
        F[dH + uo + k] += d * cw[k];
        F[dH + vo + k] += d * cw[n + k];
      }
      dcb[0] += d;
    }
  }
  return total;
}

/** Lays out, fills and runs the forward pass; returns log p per graph and the layout. */
function forward(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, grad: Float32Array | null): { logLik: Float64Array; laid: Laid; a: Arena } {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  const a = arena();
  a.reset();
  const w = allocWeights(a, cfg);
  const laid = layOut(a, cfg, sch, grad !== null);
  a.commit();
  fillWeights(a, cfg, layout, flat, w);
  putPlans(a, sch, laid);
  // hG_0: every graph starts empty, with h_G = 0
  a.zero(laid.hgTable, sch.numGraphs * 2 * cfg.nodeSize);
  if (laid.grads) a.zero(laid.grads.dHTable, laid.grads.zeroFloats);
  const scratch = { gi: laid.gi, gh: laid.gh };
  for (const st of laid.steps) forwardStep(a.k, cfg, w, st, scratch);
  const logLik = decisions(a, cfg, layout, flat, sch, laid, grad);
  if (grad && laid.grads) {
    const g = laid.grads;
    const n = cfg.nodeSize;
    for (let s = laid.steps.length; s >= 1; s--) {
      const b = g.back;
      b.dH = g.dHTable + laid.hOff[s] * n * 4;
      b.dHG = g.dHGTable + laid.hgOff[s] * 2 * n * 4;
      b.dPrevH = g.dHTable + laid.hOff[s - 1] * n * 4;
      b.dPrevHG = g.dHGTable + laid.hgOff[s - 1] * 2 * n * 4;
      backwardStep(a.k, a, cfg, w, g.w, laid.steps[s - 1], b);
    }
    addWeightGrads(a, cfg, layout, flat, g.w, grad);
  }
  return { logLik, laid, a };
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
  const gradSum = new Float32Array(layout.total);
  const { logLik } = forward(cfg, layout, flat, sch, gradSum);
  return { logLik: Float32Array.from(logLik), gradSum };
}

/** log p of every graph, no gradients (evaluation). */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  return Float32Array.from(forward(cfg, layout, flat, compileSchedule(seqs), null).logLik);
}
