import type { Decisions } from '../graphs/graph';
import {
  addWeightGrads,
  allocWeightGrads,
  allocWeights,
  backwardStep,
  emptyGraphEmbeddings,
  fillWeights,
  forwardStep,
  messageWidth,
  outcomeLogProb,
  type BackwardBuffers,
  type StepBuffers,
  type WeightGrads,
} from './engine';
import { headColumns, paramView, typeCounts, type ModelConfig, type ParamLayout } from './params';
import { compileSchedule, type Schedule } from './schedule';
import { arena, type Arena } from './wasm';

/**
 * Batched teacher forcing (docs/design.md, 'Lockstep batching') on the engine: the compiled schedule is laid out in one arena
 * (every step's node table H_s and embeddings hG_s, the values the backward needs, the index
 * plans), the steps run forward, every decision of a kind is scored in one pass over the tables,
 * and the backward runs the steps in reverse. The tables are stored back to back, so the
 * schedule's decision rows (into concat(hG_0..hG_K) and concat(H_1..H_K)) index them directly.
 */

/**
 * The decision heads read the tables only through dot products with fixed vectors, so every row
 * is projected once (two products) and each decision adds up two or three of those numbers:
 * hG rows · [W_addNode | W_addEdge,G] and H rows · [W_addEdge,v | W_dest,u | W_dest,v], the add
 * heads with Cn and Ce columns (params.ts's headColumns), the destination scorer with one column
 * per edge type (a decision of type b reads column b of both). Their backward is the same pair of
 * products, transposed, on per-row sums of d(-log p).
 */
interface HeadBuffers {
  /** Cn, Ce, the B destination columns, and the widths of the two projections: Cn + Ce and Ce + 2B. */
  readonly cn: number;
  readonly ce: number;
  readonly cb: number;
  readonly wg: number;
  readonly wh: number;
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
  const m = messageWidth(cfg);
  const types = typeCounts(cfg);
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
            counts: a.f32(P * types.edgeTypes),
            x: Array.from({ length: T + 1 }, () => a.f32(P * n)),
            z: Array.from({ length: T }, () => a.f32(P * m)),
            saved: Array.from({ length: T }, () => a.f32(P * 4 * n)),
          }
        : null,
      // the gathered h_G rows and new states are scratch: the backward gathers again
      init: plan.init ? { idx: a.i32(I), type: a.i32(I), count: I, hG: 0, h: 0 } : null,
    };
  });
  const initHG = a.f32(maxInit * 2 * n);
  const initH = a.f32(maxInit * n);
  for (const st of steps) if (st.init) st.init = { ...st.init, hG: initHG, h: initH };
  const gi = a.f32(maxProp * 3 * n);
  const gh = a.f32(maxProp * 3 * n);
  const cn = headColumns(types.nodeTypes);
  const ce = headColumns(types.edgeTypes);
  const wg = cn + ce;
  const cb = types.edgeTypes;
  const wh = ce + 2 * cb;
  const heads = {
    cn,
    ce,
    cb,
    wg,
    wh,
    hgW: a.f32(2 * n * wg),
    hgWT: a.f32(2 * n * wg),
    hW: a.f32(n * wh),
    hWT: a.f32(n * wh),
    hgProj: a.f32(graphs * wg),
    hProj: a.f32(rows * wh),
  };
  const gradsFrom = a.mark();
  const g = grads
    ? {
        dHTable: a.f32(rows * n),
        dHGTable: a.f32(graphs * 2 * n),
        w: allocWeightGrads(a, cfg),
        hgCoef: a.f32(graphs * wg),
        hCoef: a.f32(rows * wh),
        dHgW: a.f32(2 * n * wg),
        dHW: a.f32(n * wh),
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
          dZ: a.f32(maxProp * m),
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
      a.put(st.prop.counts, plan.prop.typeCount);
    }
    if (plan.init && plan.initType && st.init) {
      a.put(st.init.idx, plan.init);
      a.put(st.init.type, plan.initType);
    }
  });
}

/** The heads' weight columns (see HeadBuffers) and their transposes, from the parameters. */
function fillHeads(a: Arena, n: number, h: HeadBuffers, P: (name: string) => Float32Array): void {
  const F = a.F;
  const an = P('addNode.stop.w');
  const ae = P('addEdge.stop.w');
  const cd = P('chooseDest.score.w');
  const put = (W: number, WT: number, rows: number, width: number, r: number, c: number, x: number): void => {
    F[(W >> 2) + width * r + c] = x;
    F[(WT >> 2) + c * rows + r] = x;
  };
  for (let r = 0; r < 2 * n; r++) {
    for (let c = 0; c < h.cn; c++) put(h.hgW, h.hgWT, 2 * n, h.wg, r, c, an[r * h.cn + c]);
    for (let c = 0; c < h.ce; c++) put(h.hgW, h.hgWT, 2 * n, h.wg, r, h.cn + c, ae[r * h.ce + c]);
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < h.ce; c++) put(h.hW, h.hWT, n, h.wh, r, c, ae[(2 * n + r) * h.ce + c]);
    for (let b = 0; b < h.cb; b++) {
      put(h.hW, h.hWT, n, h.wh, r, h.ce + b, cd[r * h.cb + b]);
      put(h.hW, h.hWT, n, h.wh, r, h.ce + h.cb + b, cd[(n + r) * h.cb + b]);
    }
  }
}

/**
 * Every decision of the batch scored against the tables: log p of every graph, and with `grad`
 * the gradient of -sum log p added into the node and embedding table gradients and the heads'
 * parameters. Add-node and add-edge decisions: engine.ts's outcomeLogProb of their logits.
 * ChooseDest: log-softmax of the scores s_u = w_b·[h_u ; h_v] + c_b within each decision's
 * segment of candidates, b the decision's edge type.
 */
function decisions(a: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, laid: Laid, grad: Float32Array | null): Float64Array {
  const n = cfg.nodeSize;
  const k = a.k;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const h = laid.heads;
  const { cn, ce, cb, wg, wh } = h;
  fillHeads(a, n, h, P);
  k.matmul(laid.hgTable, h.hgW, 0, h.hgProj, laid.totalGraphs, 2 * n, wg, 0);
  k.matmul(laid.hTable, h.hW, 0, h.hProj, laid.totalRows, n, wh, 0);
  const F = a.F;
  const hg = h.hgProj >> 2;
  const hp = h.hProj >> 2;
  const g = grad ? laid.grads : null;
  const hgC = g ? g.hgCoef >> 2 : 0;
  const hC = g ? g.hCoef >> 2 : 0;
  const total = new Float64Array(sch.numGraphs);
  const z = new Float64Array(Math.max(cn, ce));
  const dz = new Float64Array(z.length);

  const an = sch.addNode;
  const anB = P('addNode.stop.b');
  const dAnB = new Float64Array(cn);
  for (let i = 0; i < an.graph.length; i++) {
    const row = an.hgRow[i];
    for (let c = 0; c < cn; c++) z[c] = F[hg + wg * row + c] + anB[c];
    total[an.graph[i]] += outcomeLogProb(z, cn, an.token[i], dz);
    if (g) {
      for (let c = 0; c < cn; c++) {
        F[hgC + wg * row + c] += dz[c];
        dAnB[c] += dz[c];
      }
    }
  }
  const ae = sch.addEdge;
  const aeB = P('addEdge.stop.b');
  const dAeB = new Float64Array(ce);
  for (let i = 0; i < ae.graph.length; i++) {
    const row = ae.hgRow[i];
    const hRow = ae.hRow[i];
    for (let c = 0; c < ce; c++) z[c] = F[hg + wg * row + cn + c] + F[hp + wh * hRow + c] + aeB[c];
    total[ae.graph[i]] += outcomeLogProb(z, ce, ae.token[i], dz);
    if (g) {
      for (let c = 0; c < ce; c++) {
        F[hgC + wg * row + cn + c] += dz[c];
        F[hC + wh * hRow + c] += dz[c];
        dAeB[c] += dz[c];
      }
    }
  }
  const cd = sch.chooseDest;
  const cdB = P('chooseDest.score.b');
  // column b of the u and v projections, b the segment's edge type
  const score = (i: number, b: number): number => F[hp + wh * cd.uRow[i] + ce + b] + F[hp + wh * cd.vRow[i] + ce + cb + b] + cdB[b];
  for (let seg = 0, from = 0; seg < cd.graph.length; seg++) {
    const b = cd.type[seg];
    let to = from;
    let max = -Infinity;
    for (; to < cd.segment.length && cd.segment[to] === seg; to++) max = Math.max(max, score(to, b));
    let sum = 0;
    for (let i = from; i < to; i++) sum += Math.exp(score(i, b) - max);
    const logZ = max + Math.log(sum);
    total[cd.graph[seg]] += score(cd.chosen[seg], b) - logZ;
    if (g) {
      // d(-log p)/ds_i = softmax_i - [i chosen]; they sum to zero over a segment, so c_b's gradient is 0
      for (let i = from; i < to; i++) {
        const ds = Math.exp(score(i, b) - logZ) - (i === cd.chosen[seg] ? 1 : 0);
        F[hC + wh * cd.uRow[i] + ce + b] += ds;
        F[hC + wh * cd.vRow[i] + ce + cb + b] += ds;
      }
    }
    from = to;
  }

  if (grad && g) {
    k.matmul(g.hgCoef, h.hgWT, 0, g.dHGTable, laid.totalGraphs, wg, 2 * n, 1);
    k.matmul(g.hCoef, h.hWT, 0, g.dHTable, laid.totalRows, wh, n, 1);
    k.matmulAtB(laid.hgTable, g.hgCoef, g.dHgW, laid.totalGraphs, 2 * n, wg);
    k.matmulAtB(laid.hTable, g.hCoef, g.dHW, laid.totalRows, n, wh);
    const G = (name: string): Float32Array => paramView(layout, grad, name);
    const dAn = G('addNode.stop.w');
    const dAe = G('addEdge.stop.w');
    const dCd = G('chooseDest.score.w');
    for (let r = 0; r < 2 * n; r++) {
      for (let c = 0; c < cn; c++) dAn[r * cn + c] += F[(g.dHgW >> 2) + wg * r + c];
      for (let c = 0; c < ce; c++) dAe[r * ce + c] += F[(g.dHgW >> 2) + wg * r + cn + c];
    }
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < ce; c++) dAe[(2 * n + r) * ce + c] += F[(g.dHW >> 2) + wh * r + c];
      for (let b = 0; b < cb; b++) {
        dCd[r * cb + b] += F[(g.dHW >> 2) + wh * r + ce + b];
        dCd[(n + r) * cb + b] += F[(g.dHW >> 2) + wh * r + ce + cb + b];
      }
    }
    const dB = (name: string, d: Float64Array): void => {
      const b = G(name);
      for (let c = 0; c < d.length; c++) b[c] += d[c];
    };
    dB('addNode.stop.b', dAnB);
    dB('addEdge.stop.b', dAeB);
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
  const sch = compileSchedule(seqs, typeCounts(cfg));
  const gradSum = new Float32Array(layout.total);
  const logLik = run(cfg, layout, flat, sch, gradSum);
  return { logLik: Float32Array.from(logLik), gradSum };
}

/** log p of every graph, no gradients (evaluation). */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  return Float32Array.from(run(cfg, layout, flat, compileSchedule(seqs, typeCounts(cfg)), null));
}

/**
 * The work `shardGradients` does for one sequence, in node rows: each new node is embedded with
 * its graph's nodes, and each new edge propagates over them for every round and embeds them again.
 * A shard's time grows with the sum of its sequences' work (the lockstep steps are shared), so
 * shards of equal work finish together where shards of equal counts do not.
 */
export function sequenceWork(cfg: ModelConfig, s: Decisions): number {
  const { nodeTypes, edgeTypes } = typeCounts(cfg);
  let work = 0;
  let nodes = 0;
  for (let i = 0; i < s.length; ) {
    if (s[i++] === nodeTypes) break;
    work += ++nodes;
    while (i < s.length && s[i++] !== edgeTypes) {
      i++; // the destination
      work += (cfg.propRounds + 1) * nodes;
    }
  }
  return work;
}
