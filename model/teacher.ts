import type { Decisions } from '../graphs/graph';
import {
  addWeightGrads,
  allocWeightGrads,
  allocWeights,
  backwardStep,
  emptyGraphEmbeddings,
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

/**
 * The decision heads read the tables only through dot products with fixed vectors, so every row
 * is projected once (two products) and each decision adds up two or three of those numbers:
 * hG rows · [w_addNode | w_addEdge,G] and H rows · [w_addEdge,v | w_dest,u | w_dest,v].
 * Their backward is the same pair of products, transposed, on per-row sums of d(-log p).
 */
interface HeadBuffers {
  readonly hgW: number;
  readonly hgWT: number;
  readonly hW: number;
  readonly hWT: number;
  readonly hgProj: number;
  readonly hProj: number;
}

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
  readonly heads: HeadBuffers;
  readonly grads: {
    readonly dHTable: number;
    readonly dHGTable: number;
    readonly w: WeightGrads;
    /** d(-log p) per table row and head column (see HeadBuffers), and the head weights' gradients. */
    readonly hgCoef: number;
    readonly hCoef: number;
    readonly dHgW: number;
    readonly dHW: number;
    readonly zeroFloats: number;
    readonly back: BackwardBuffers;
  } | null;
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
  const heads = {
    hgW: a.f32(2 * n * 2),
    hgWT: a.f32(2 * n * 2),
    hW: a.f32(n * 3),
    hWT: a.f32(n * 3),
    hgProj: a.f32(graphs * 2),
    hProj: a.f32(rows * 3),
  };
  const gradsFrom = a.mark();
  const g = grads
    ? {
        dHTable: a.f32(rows * n),
        dHGTable: a.f32(graphs * 2 * n),
        w: allocWeightGrads(a, cfg),
        hgCoef: a.f32(graphs * 2),
        hCoef: a.f32(rows * 3),
        dHgW: a.f32(2 * n * 2),
        dHW: a.f32(n * 3),
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
  return { steps, hOff, hgOff, hTable, hgTable, totalRows: rows, totalGraphs: graphs, gi, gh, heads, grads: g };
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

/** The heads' weight columns (see HeadBuffers) and their transposes, from the parameters. */
function fillHeads(a: Arena, n: number, h: HeadBuffers, P: (name: string) => Float32Array): void {
  const F = a.F;
  const an = P('addNode.stop.w');
  const ae = P('addEdge.stop.w');
  const cd = P('chooseDest.score.w');
  for (let k = 0; k < 2 * n; k++) {
    F[(h.hgW >> 2) + 2 * k] = an[k];
    F[(h.hgW >> 2) + 2 * k + 1] = ae[k];
    F[(h.hgWT >> 2) + k] = an[k];
    F[(h.hgWT >> 2) + 2 * n + k] = ae[k];
  }
  for (let k = 0; k < n; k++) {
    const cols = [ae[2 * n + k], cd[k], cd[n + k]];
    for (let c = 0; c < 3; c++) {
      F[(h.hW >> 2) + 3 * k + c] = cols[c];
      F[(h.hWT >> 2) + c * n + k] = cols[c];
    }
  }
}

/**
 * Every decision of the batch scored against the tables: log p of every graph, and with `grad`
 * the gradient of -sum log p added into the node and embedding table gradients and the heads'
 * parameters. Binary decisions: P(1) = σ(l), log-sigmoid of ±l. ChooseDest: log-softmax of the
 * scores s_u = w·[h_u ; h_v] + b within each decision's segment of candidates.
 */
function decisions(a: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, laid: Laid, grad: Float32Array | null): Float64Array {
  const n = cfg.nodeSize;
  const k = a.k;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const h = laid.heads;
  fillHeads(a, n, h, P);
  k.matmul(laid.hgTable, h.hgW, 0, h.hgProj, laid.totalGraphs, 2 * n, 2, 0);
  k.matmul(laid.hTable, h.hW, 0, h.hProj, laid.totalRows, n, 3, 0);
  const F = a.F;
  const hg = h.hgProj >> 2;
  const hp = h.hProj >> 2;
  const g = grad ? laid.grads : null;
  const hgC = g ? g.hgCoef >> 2 : 0;
  const hC = g ? g.hCoef >> 2 : 0;
  const total = new Float64Array(sch.numGraphs);

  /** log P of decision i with logit l; returns d(-log P)/dl. */
  const binary = (d: BinaryDecisionRows, i: number, l: number): number => {
    const sign = 2 * d.decision[i] - 1;
    total[d.graph[i]] += logSigmoid(sign * l);
    return -sign * sigmoid(-sign * l);
  };
  const an = sch.addNode;
  const anB = P('addNode.stop.b')[0];
  let dAnB = 0;
  for (let i = 0; i < an.graph.length; i++) {
    const dl = binary(an, i, F[hg + 2 * an.hgRow[i]] + anB);
    if (g) {
      F[hgC + 2 * an.hgRow[i]] += dl;
      dAnB += dl;
    }
  }
  const ae = sch.addEdge;
  const aeB = P('addEdge.stop.b')[0];
  let dAeB = 0;
  for (let i = 0; i < ae.graph.length; i++) {
    const dl = binary(ae, i, F[hg + 2 * ae.hgRow[i] + 1] + F[hp + 3 * ae.hRow[i]] + aeB);
    if (g) {
      F[hgC + 2 * ae.hgRow[i] + 1] += dl;
      F[hC + 3 * ae.hRow[i]] += dl;
      dAeB += dl;
    }
  }
  const cd = sch.chooseDest;
  const cdB = P('chooseDest.score.b')[0];
  const score = (i: number): number => F[hp + 3 * cd.uRow[i] + 1] + F[hp + 3 * cd.vRow[i] + 2] + cdB;
  for (let seg = 0, from = 0; seg < cd.graph.length; seg++) {
    let to = from;
    let max = -Infinity;
    for (; to < cd.segment.length && cd.segment[to] === seg; to++) max = Math.max(max, score(to));
    let z = 0;
    for (let i = from; i < to; i++) z += Math.exp(score(i) - max);
    const logZ = max + Math.log(z);
    total[cd.graph[seg]] += score(cd.chosen[seg]) - logZ;
    if (g) {
      // d(-log p)/ds_i = softmax_i - [i chosen]; they sum to zero over a segment, so b's gradient is 0
      for (let i = from; i < to; i++) {
        const ds = Math.exp(score(i) - logZ) - (i === cd.chosen[seg] ? 1 : 0);
        F[hC + 3 * cd.uRow[i] + 1] += ds;
        F[hC + 3 * cd.vRow[i] + 2] += ds;
      }
    }
    from = to;
  }

  if (grad && g) {
    k.matmul(g.hgCoef, h.hgWT, 0, g.dHGTable, laid.totalGraphs, 2, 2 * n, 1);
    k.matmul(g.hCoef, h.hWT, 0, g.dHTable, laid.totalRows, 3, n, 1);
    k.matmulAtB(laid.hgTable, g.hgCoef, g.dHgW, laid.totalGraphs, 2 * n, 2);
    k.matmulAtB(laid.hTable, g.hCoef, g.dHW, laid.totalRows, n, 3);
    const G = (name: string): Float32Array => paramView(layout, grad, name);
    const dAn = G('addNode.stop.w');
    const dAe = G('addEdge.stop.w');
    const dCd = G('chooseDest.score.w');
    for (let c = 0; c < 2 * n; c++) {
      dAn[c] += F[(g.dHgW >> 2) + 2 * c];
      dAe[c] += F[(g.dHgW >> 2) + 2 * c + 1];
    }
    for (let c = 0; c < n; c++) {
      dAe[2 * n + c] += F[(g.dHW >> 2) + 3 * c];
      dCd[c] += F[(g.dHW >> 2) + 3 * c + 1];
      dCd[n + c] += F[(g.dHW >> 2) + 3 * c + 2];
    }
    G('addNode.stop.b')[0] += dAnB;
    G('addEdge.stop.b')[0] += dAeB;
  }
  return total;
}

/**
 * Lays out the batch, runs it forward and returns log p per graph; with `grad`, runs the backward
 * too and adds the gradient of -sum log p into `grad` (flat, layout order).
 */
function run(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, grad: Float32Array | null): Float64Array {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  const a = arena();
  a.reset();
  const w = allocWeights(a, cfg);
  const laid = layOut(a, cfg, sch, grad !== null);
  a.commit();
  fillWeights(a, cfg, layout, flat, w);
  putPlans(a, sch, laid);
  emptyGraphEmbeddings(a, cfg, layout, flat, laid.hgTable, sch.numGraphs);
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
    // hG_0 is embed.empty in every graph's row
    const dEmpty = paramView(layout, grad, 'embed.empty');
    for (let r = 0; r < sch.numGraphs; r++) {
      for (let c = 0; c < 2 * n; c++) dEmpty[c] += a.F[(g.dHGTable >> 2) + r * 2 * n + c];
    }
    addWeightGrads(a, cfg, layout, flat, g.w, grad);
  }
  return logLik;
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
  const logLik = run(cfg, layout, flat, sch, gradSum);
  return { logLik: Float32Array.from(logLik), gradSum };
}

/** log p of every graph, no gradients (evaluation). */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  return Float32Array.from(run(cfg, layout, flat, compileSchedule(seqs), null));
}
