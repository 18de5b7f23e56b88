import type { Decisions } from '../graphs/graph';
import {
  addWeightGrads,
  allocWeightGrads,
  allocWeights,
  backwardStep,
  emptyGraphEmbeddings,
  fillWeights,
  forwardStep,
  initConstRows,
  messageWidth,
  outcomeLogProb,
  type BackwardBuffers,
  type StepBuffers,
  type WeightGrads,
} from './engine';
import { destinationDistanceOf, destinationWeights, distanceGroups, headColumns, jointEdgeChoiceOf, nodeCountRows, paramView, plannedSizeOf, remainingRows, typeCounts, type ModelConfig, type ParamLayout } from './params';
import { compileSchedule, type EdgeCandidateRows, type Schedule } from './schedule';
import { arena, EngineMemoryError, engineRoom, type Arena } from './wasm';
import { rulesOf } from './rules';

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
 * per edge type and weight group (a decision of type b reads column g·B + b of both, g the
 * candidate's distance bucket under model.distanceWeights, else 0, the column holding
 * w_b + q_g,b). Their backward is the same pair of products, transposed, on per-row sums of
 * d(-log p).
 */
interface HeadBuffers {
  /**
   * Cn, Ce, the B destination types, the G·B destination columns of each side, and the widths
   * of the two projections: Cn + Ce and Ce + 2·G·B.
   */
  readonly cn: number;
  readonly ce: number;
  readonly cb: number;
  readonly cq: number;
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
  for (const plan of sch.steps) maxProp = Math.max(maxProp, plan.prop ? plan.prop.rows.length : 0);
  // Z is cheap to form again (a row sum per edge), so one buffer serves every step and round: the
  // backward recomputes it, and a propagated row keeps (T + 1)·n + 4Tn floats instead of also T·(2n + B + 1)
  const z = new Array<number>(T).fill(a.f32(maxProp * m));
  const steps: StepBuffers[] = sch.steps.map((plan, i) => {
    const s = i + 1;
    const prop = plan.prop;
    const P = prop ? prop.rows.length : 0;
    const I = plan.init ? plan.init.length : 0;
    maxRows = Math.max(maxRows, plan.assemble.length);
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
            z,
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
  const cq = distanceGroups(cfg) * cb;
  const wh = ce + 2 * cq;
  const heads = {
    cn,
    ce,
    cb,
    cq,
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
        // the weights' gradients lie from w.embedW up to hgCoef: run rescales them as one range
        w: allocWeightGrads(a, cfg),
        hgCoef: a.f32(graphs * wg),
        hCoef: a.f32(rows * wh),
        dHgW: a.f32(2 * n * wg),
        dHW: a.f32(n * wh),
        // everything above is summed into and starts at zero; the scratch below is written first
        zeroFloats: (a.mark() - gradsFrom) >>> 2,
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
function putPlans(a: Arena, cfg: ModelConfig, sch: Schedule, laid: Laid): void {
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
    if (plan.init && plan.initType && plan.initRemaining && st.init) {
      a.put(st.init.idx, plan.init);
      a.put(st.init.type, initConstRows(plan.initType, plan.initRemaining, remainingRows(cfg)));
    }
  });
}

/** The heads' weight columns (see HeadBuffers) and their transposes, from the parameters. */
function fillHeads(a: Arena, n: number, h: HeadBuffers, P: (name: string) => Float32Array, cd: Float32Array): void {
  const F = a.F;
  const an = P('addNode.stop.w');
  const ae = P('addEdge.stop.w');
  const put = (W: number, WT: number, rows: number, width: number, r: number, c: number, x: number): void => {
    F[(W >>> 2) + width * r + c] = x;
    F[(WT >>> 2) + c * rows + r] = x;
  };
  for (let r = 0; r < 2 * n; r++) {
    for (let c = 0; c < h.cn; c++) put(h.hgW, h.hgWT, 2 * n, h.wg, r, c, an[r * h.cn + c]);
    for (let c = 0; c < h.ce; c++) put(h.hgW, h.hgWT, 2 * n, h.wg, r, h.cn + c, ae[r * h.ce + c]);
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < h.ce; c++) put(h.hW, h.hWT, n, h.wh, r, c, ae[(2 * n + r) * h.ce + c]);
    for (let c = 0; c < h.cq; c++) {
      put(h.hW, h.hWT, n, h.wh, r, h.ce + c, cd[r * h.cq + c]);
      put(h.hW, h.hWT, n, h.wh, r, h.ce + h.cq + c, cd[(n + r) * h.cq + c]);
    }
  }
}

/**
 * Every decision of the batch scored against the tables: log p of every graph, and with `grad`
 * the gradient of -sum log p added into the node and embedding table gradients and the heads'
 * parameters. Add-node and add-edge decisions: engine.ts's outcomeLogProb of their logits, the
 * add-node ones with row min(|V|, N) of the node-count table nu added when N >= 1.
 * ChooseDest: log-softmax of the scores s_u = w_b·[h_u ; h_v] + c_b within each decision's
 * segment of candidates (those a valence rule leaves), b the decision's edge type, plus
 * delta[kappa(u, v), b] under a destination-distance term (model/distance.ts).
 */
function decisions(a: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sch: Schedule, laid: Laid, grad: Float32Array | null): Float64Array {
  const n = cfg.nodeSize;
  const k = a.k;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const h = laid.heads;
  const { cn, ce, cb, cq, wg, wh } = h;
  const byDistance = cq > cb;
  fillHeads(a, n, h, P, destinationWeights(cfg, layout, flat));
  k.matmul(laid.hgTable, h.hgW, 0, h.hgProj, laid.totalGraphs, 2 * n, wg, 0);
  k.matmul(laid.hTable, h.hW, 0, h.hProj, laid.totalRows, n, wh, 0);
  const F = a.F;
  const hg = h.hgProj >>> 2;
  const hp = h.hProj >>> 2;
  const g = grad ? laid.grads : null;
  const hgC = g ? g.hgCoef >>> 2 : 0;
  const hC = g ? g.hCoef >>> 2 : 0;
  const total = new Float64Array(sch.numGraphs);
  const z = new Float64Array(Math.max(cn, ce));
  const dz = new Float64Array(z.length);

  const an = sch.addNode;
  const anB = P('addNode.stop.b');
  const dAnB = new Float64Array(cn);
  const N = nodeCountRows(cfg);
  const nu = N > 0 ? P('addNode.count') : null;
  const dNu = new Float64Array(nu ? nu.length : 0);
  const size = plannedSizeOf(cfg) > 0 ? sch.sizes : null;
  if (size) addSizeTerms(cfg, layout, flat, size, total, grad);
  for (let i = 0; i < an.graph.length; i++) {
    // a planned size decides the stop: at |V| = n it is certain, before it removed (logit -inf), and one type is then certain too
    if (size && (an.nodes[i] === size[an.graph[i]] || cn === 1)) continue;
    const row = an.hgRow[i];
    for (let c = 0; c < cn; c++) z[c] = F[hg + wg * row + c] + anB[c];
    const count = Math.min(an.nodes[i], N) * cn;
    if (nu) for (let c = 0; c < cn; c++) z[c] += nu[count + c];
    if (size) z[cn - 1] = -Infinity;
    total[an.graph[i]] += outcomeLogProb(z, cn, an.token[i], dz);
    if (g) {
      for (let c = 0; c < cn; c++) {
        F[hgC + wg * row + c] += dz[c];
        dAnB[c] += dz[c];
      }
      if (nu) for (let c = 0; c < cn; c++) dNu[count + c] += dz[c];
    }
  }
  const cd = sch.chooseDest;
  const cdB = P('chooseDest.score.b');
  const dCdB = new Float64Array(cb);
  const D = destinationDistanceOf(cfg);
  const delta = D > 0 ? P('chooseDest.distance') : null;
  const dDelta = delta ? new Float64Array(delta.length) : null;

  const ae = sch.addEdge;
  const aeB = P('addEdge.stop.b');
  const dAeB = new Float64Array(ce);
  // under a joint edge choice, type b's logit gains L_b = log sum_u exp(s_ub) over its candidates
  const jc = sch.addEdgeCandidates;
  // a candidate's column of type b: in its bucket's group under model.distanceWeights, else group 0
  const column = (buckets: Int32Array | null, i: number, b: number): number => (byDistance && buckets ? buckets[i] * cb + b : b);
  const jointScore = (c: EdgeCandidateRows, j: number, hRow: number, b: number): number =>
    F[hp + wh * c.uRow[j] + ce + column(c.bucket, j, b)] + F[hp + wh * hRow + ce + cq + column(c.bucket, j, b)] + cdB[b] + (delta && c.bucket ? delta[c.bucket[j] * cb + b] : 0);
  const L = new Float64Array(cb);
  for (let i = 0; i < ae.graph.length; i++) {
    const row = ae.hgRow[i];
    const hRow = ae.hRow[i];
    for (let c = 0; c < ce; c++) z[c] = F[hg + wg * row + cn + c] + F[hp + wh * hRow + c] + aeB[c];
    // actions a rule removes (types, or stop under connected): logit -inf, so they take no probability and no gradient;
    // with one edge type (ce = 1, a sigmoid) a decision that lost an action was forced and is not here
    if (ae.allowed && ce > 1) for (let c = 0; c < ce; c++) if (!(ae.allowed[i] & (1 << c))) z[c] = -Infinity;
    if (jc) {
      for (let b = 0; b < cb; b++) {
        const from = jc.start[i * cb + b];
        const to = jc.start[i * cb + b + 1];
        let max = -Infinity;
        for (let j = from; j < to; j++) max = Math.max(max, jointScore(jc, j, hRow, b));
        let sum = 0;
        for (let j = from; j < to; j++) sum += Math.exp(jointScore(jc, j, hRow, b) - max);
        // no candidate: the type is removed (the walk left it out of allowed, so z[b] is -inf already or the decision is forced)
        L[b] = from < to ? max + Math.log(sum) : -Infinity;
        z[b] += L[b];
      }
    }
    total[ae.graph[i]] += outcomeLogProb(z, ce, ae.token[i], dz);
    if (g) {
      for (let c = 0; c < ce; c++) {
        F[hgC + wg * row + cn + c] += dz[c];
        F[hC + wh * hRow + c] += dz[c];
        dAeB[c] += dz[c];
      }
      if (jc) {
        // dL_b/ds_ub = softmax_u of the scores; the softmax sums to 1, so c_b gets dz_b whole
        for (let b = 0; b < cb; b++) {
          const from = jc.start[i * cb + b];
          const to = jc.start[i * cb + b + 1];
          if (from === to || dz[b] === 0) continue;
          for (let j = from; j < to; j++) {
            const ds = dz[b] * Math.exp(jointScore(jc, j, hRow, b) - L[b]);
            F[hC + wh * jc.uRow[j] + ce + column(jc.bucket, j, b)] += ds;
            F[hC + wh * hRow + ce + cq + column(jc.bucket, j, b)] += ds;
            if (dDelta && jc.bucket) dDelta[jc.bucket[j] * cb + b] += ds;
          }
          dCdB[b] += dz[b];
        }
      }
    }
  }
  const bucket = cd.bucket;
  // column b of the u and v projections, b the segment's edge type, in candidate i's group; delta's entry (kappa, b) is kappa·B + b
  const plain = (i: number, b: number): number => F[hp + wh * cd.uRow[i] + ce + column(bucket, i, b)] + F[hp + wh * cd.vRow[i] + ce + cq + column(bucket, i, b)] + cdB[b];
  const score = bucket && delta ? (i: number, b: number): number => plain(i, b) + delta[bucket[i] * cb + b] : plain;
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
        F[hC + wh * cd.uRow[i] + ce + column(bucket, i, b)] += ds;
        F[hC + wh * cd.vRow[i] + ce + cq + column(bucket, i, b)] += ds;
        if (bucket && dDelta) dDelta[bucket[i] * cb + b] += ds;
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
    const dQ = byDistance ? G('chooseDest.distanceWeights') : null;
    for (let r = 0; r < 2 * n; r++) {
      for (let c = 0; c < cn; c++) dAn[r * cn + c] += F[(g.dHgW >>> 2) + wg * r + c];
      for (let c = 0; c < ce; c++) dAe[r * ce + c] += F[(g.dHgW >>> 2) + wg * r + cn + c];
    }
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < ce; c++) dAe[(2 * n + r) * ce + c] += F[(g.dHW >>> 2) + wh * r + c];
      // column g·B + b holds w_b + q_g,b: its gradient goes to both
      for (let c = 0; c < cq; c++) {
        const du = F[(g.dHW >>> 2) + wh * r + ce + c];
        const dv = F[(g.dHW >>> 2) + wh * r + ce + cq + c];
        dCd[r * cb + (c % cb)] += du;
        dCd[(n + r) * cb + (c % cb)] += dv;
        if (dQ) {
          dQ[r * cq + c] += du;
          dQ[(n + r) * cq + c] += dv;
        }
      }
    }
    const dB = (name: string, d: Float64Array): void => {
      const b = G(name);
      for (let c = 0; c < d.length; c++) b[c] += d[c];
    };
    dB('addNode.stop.b', dAnB);
    if (nu) dB('addNode.count', dNu);
    dB('addEdge.stop.b', dAeB);
    if (dDelta) dB('chooseDest.distance', dDelta);
    if (jc) dB('chooseDest.score.b', dCdB);
  }
  return total;
}

/**
 * Under a planned size (docs/design.md, 'Planned size'): log softmax(sigma)[n] added to every
 * graph's log p, n its size, and with `grad` d(-log p)/dsigma = softmax(sigma) - onehot(n) added
 * to sigma's gradient. A graph larger than N is refused.
 */
function addSizeTerms(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sizes: Int32Array, total: Float64Array, grad: Float32Array | null): void {
  const N = plannedSizeOf(cfg);
  const sigma = Float64Array.from(paramView(layout, flat, 'size.logits'));
  const dz = new Float64Array(N + 1);
  const dSigma = grad ? paramView(layout, grad, 'size.logits') : null;
  sizes.forEach((n, g) => {
    if (n > N) throw new Error(`a graph of ${n} nodes is larger than model.plannedSize ${N}`);
    total[g] += outcomeLogProb(sigma, N + 1, n, dz);
    if (dSigma) for (let k = 0; k <= N; k++) dSigma[k] += dz[k];
  });
}

/**
 * Past this magnitude the backward's node-state gradients are scaled down by a power of two (see
 * run). A step multiplies them by far less than 2^88, so float32 (to 2^128) never overflows.
 */
const RESCALE_ABOVE = 2 ** 40;

/** What a pass lays out for, in messages: one graph by its size, or a batch by its count. */
function describeBatch(seqs: readonly Decisions[], cfg: ModelConfig): string {
  if (seqs.length !== 1) return `a batch of ${seqs.length} graphs`;
  const c = sequenceCost(cfg, seqs[0]);
  return `a graph of ${c.nodes} nodes and ${c.edges} edges`;
}

/**
 * Lays out the batch, runs it forward and returns log p per graph; with `grad` (zeros), runs the
 * backward too and writes the gradient of -sum log p into `grad` (flat, layout order) scaled by
 * 2^-exponent. The exponent is 0 unless the gradient would overflow float32: with node states in
 * the hundreds (h_G sums over a graph's nodes, and new nodes start from it) each propagation round
 * can multiply the gradient of the earlier states, and over thousands of rounds (SBM graphs of
 * 1,500 edges) the exact gradient passes 2^128. The backward then carries a power-of-two scale: when
 * a step's node-state gradients pass RESCALE_ABOVE, every gradient accumulated so far is
 * multiplied by 2^-k (exact) and k is added to the exponent. The optimizer clips the true
 * gradient, grad · 2^exponent, whose direction is this one.
 */
function run(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[], grad: Float32Array | null): { logLik: Float64Array; exponent: number } {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  const sch = compileSchedule(seqs, typeCounts(cfg), rulesOf(cfg), destinationDistanceOf(cfg), jointEdgeChoiceOf(cfg));
  const a = arena();
  a.reset();
  const w = allocWeights(a, cfg);
  const laid = layOut(a, cfg, sch, grad !== null);
  a.commit(describeBatch(seqs, cfg));
  fillWeights(a, cfg, layout, flat, w);
  putPlans(a, cfg, sch, laid);
  emptyGraphEmbeddings(a, cfg, layout, flat, laid.hgTable, sch.numGraphs);
  if (laid.grads) a.zero(laid.grads.dHTable, laid.grads.zeroFloats);
  const scratch = { gi: laid.gi, gh: laid.gh };
  for (const st of laid.steps) forwardStep(a.k, cfg, w, st, scratch);
  const logLik = decisions(a, cfg, layout, flat, sch, laid, grad);
  let exponent = 0;
  if (grad && laid.grads) {
    const g = laid.grads;
    const n = cfg.nodeSize;
    for (let s = laid.steps.length; s >= 1; s--) {
      const b = g.back;
      b.dH = g.dHTable + laid.hOff[s] * n * 4;
      b.dHG = g.dHGTable + laid.hgOff[s] * 2 * n * 4;
      b.dPrevH = g.dHTable + laid.hOff[s - 1] * n * 4;
      b.dPrevHG = g.dHGTable + laid.hgOff[s - 1] * 2 * n * 4;
      const st = laid.steps[s - 1];
      backwardStep(a.k, a, cfg, w, g.w, st, b);
      const big = Math.max(a.k.maxAbs(b.dPrevH, st.prevRows * n), a.k.maxAbs(b.dPrevHG, (laid.hgOff[s] - laid.hgOff[s - 1]) * 2 * n));
      if (big > RESCALE_ABOVE && big < Infinity) {
        // what is still to be summed: the tables' gradients of the steps before s, the weights' and the heads'
        const k = Math.floor(Math.log2(big));
        a.k.scale(g.dHTable, laid.hOff[s] * n, 2 ** -k);
        a.k.scale(g.dHGTable, laid.hgOff[s] * 2 * n, 2 ** -k);
        a.k.scale(g.w.embedW, (g.hgCoef - g.w.embedW) >>> 2, 2 ** -k);
        for (let i = 0; i < grad.length; i++) grad[i] *= 2 ** -k;
        exponent += k;
      }
    }
    // hG_0 is embed.empty in every graph's row
    const dEmpty = paramView(layout, grad, 'embed.empty');
    for (let r = 0; r < sch.numGraphs; r++) {
      for (let c = 0; c < 2 * n; c++) dEmpty[c] += a.F[(g.dHGTable >>> 2) + r * 2 * n + c];
    }
    addWeightGrads(a, cfg, layout, flat, g.w, grad);
  }
  return { logLik, exponent };
}

/** What a shard of a batch contributes to a training step. */
export interface ShardGradients {
  /** log p of every graph of the shard, in order. */
  readonly logLik: Float32Array;
  /**
   * Gradient of the shard's summed negative log-likelihood, flat in layout order, scaled by
   * 2^-gradExponent (0 unless the gradient passes float32's range: see run).
   */
  readonly gradSum: Float32Array;
  readonly gradExponent: number;
}

/** `acc` (scaled by 2^-accExp) plus `part` (2^-partExp), in place, at the larger exponent, which it returns. */
export function addScaled(acc: Float32Array, accExp: number, part: Float32Array, partExp: number): number {
  const e = Math.max(accExp, partExp);
  const fa = 2 ** (accExp - e);
  const fp = 2 ** (partExp - e);
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i] * fa + part[i] * fp;
  return e;
}

/**
 * Forward and backward of batched teacher forcing on one shard of (valid) decision sequences, in
 * micro-batches of at most MICRO_BATCH_BYTES of engine memory (microBatches), whose gradients are
 * summed in order.
 */
export function shardGradients(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): ShardGradients {
  const logLik = new Float32Array(seqs.length);
  let gradSum: Float32Array | null = null;
  let gradExponent = 0;
  let done = 0;
  for (const part of microBatches(cfg, seqs)) {
    const grad = new Float32Array(layout.total);
    const r = run(cfg, layout, flat, part, grad);
    logLik.set(r.logLik, done);
    done += part.length;
    if (gradSum === null) [gradSum, gradExponent] = [grad, r.exponent];
    else gradExponent = addScaled(gradSum, gradExponent, grad, r.exponent);
  }
  return { logLik, gradSum: gradSum ?? new Float32Array(layout.total), gradExponent };
}

/** log p of every graph, no gradients (evaluation), in micro-batches as shardGradients. */
export function logLikelihoods(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): Float32Array {
  const out = new Float32Array(seqs.length);
  let done = 0;
  for (const part of microBatches(cfg, seqs)) {
    out.set(run(cfg, layout, flat, part, null).logLik, done);
    done += part.length;
  }
  return out;
}

/**
 * What one decision sequence costs the teacher, counted in rows: its nodes and edges, its steps
 * (one per node and one per edge), the node rows of the steps that add a node (each embeds the
 * graph's nodes so far), the rows the edge steps propagate (all the graph's nodes, every round),
 * and the directed edges they read (both directions of every edge so far).
 */
export interface SequenceCost {
  readonly graphs: number;
  readonly nodes: number;
  readonly edges: number;
  readonly steps: number;
  readonly nodeRows: number;
  readonly propRows: number;
  readonly propEdges: number;
}

const NO_COST: SequenceCost = { graphs: 0, nodes: 0, edges: 0, steps: 0, nodeRows: 0, propRows: 0, propEdges: 0 };

export function sequenceCost(cfg: ModelConfig, s: Decisions): SequenceCost {
  const { nodeTypes, edgeTypes } = typeCounts(cfg);
  let nodes = 0;
  let edges = 0;
  let nodeRows = 0;
  let propRows = 0;
  let propEdges = 0;
  for (let i = 0; i < s.length; ) {
    if (s[i++] === nodeTypes) break;
    nodeRows += ++nodes;
    while (i < s.length && s[i++] !== edgeTypes) {
      i++; // the destination
      edges++;
      propRows += nodes;
      propEdges += 2 * edges;
    }
  }
  return { graphs: 1, nodes, edges, steps: nodes + edges, nodeRows, propRows, propEdges };
}

/**
 * The most a graph of `nodes` nodes and `edges` edges can cost under any node order: every edge
 * step propagating all its nodes (the data's check, before an order is drawn).
 */
export function graphCostBound(nodes: number, edges: number): SequenceCost {
  return { graphs: 1, nodes, edges, steps: nodes + edges, nodeRows: (nodes * (nodes + 1)) / 2, propRows: edges * nodes, propEdges: edges * (edges + 1) };
}

/** The cost of two sets of graphs laid out together. */
export function addCosts(a: SequenceCost, b: SequenceCost): SequenceCost {
  return {
    graphs: a.graphs + b.graphs,
    nodes: a.nodes + b.nodes,
    edges: a.edges + b.edges,
    steps: a.steps + b.steps,
    nodeRows: a.nodeRows + b.nodeRows,
    propRows: a.propRows + b.propRows,
    propEdges: a.propEdges + b.propEdges,
  };
}

/**
 * The engine memory (bytes) that a training pass (layOut, with gradients) takes at most for graphs
 * of total cost `c`, the weights included. Every buffer of layOut is a sum over steps of rows each
 * graph contributes, or a scratch sized for the largest step, which no graph exceeds alone; each
 * buffer is padded to 16 bytes. The tests hold it above the layout's true size.
 */
export function trainingBytes(cfg: ModelConfig, c: SequenceCost): number {
  const n = cfg.nodeSize;
  const T = cfg.propRounds;
  const { nodeTypes: K, edgeTypes: B } = typeCounts(cfg);
  const m = messageWidth(cfg);
  const wg = headColumns(K) + headColumns(B);
  const wh = headColumns(B) + 2 * distanceGroups(cfg) * B;
  const tableRows = c.nodeRows + c.propRows;
  const hgRows = c.graphs + c.steps;
  // per table row: H, Y, gate, graphOfRow, assemble, the head projection; with gradients dH, hCoef, dY
  const perTableRow = n + 2 * n + 4 + wh + n + wh;
  // per propagated row: rows, deg, type counts, T + 1 states, T saved gates
  const perPropRow = 2 + B + (T + 1) * n + T * 4 * n;
  // per graph-embedding row: hG, its projection, dHG, hgCoef
  const perGraphRow = 2 * n + wg + 2 * n + wg;
  // scratch sized for the largest step, at most every node of every graph at once: Z, GRU products,
  // the backward's dY, two dX, dGI, dGH, dZ; and the new nodes' rows, at most one per graph
  const scratch = c.nodes * (m + 6 * n + 2 * n + 1 + 2 * n + 6 * n + m) + c.graphs * 6 * n;
  const perStepPads = 4 * (12 + 3 * T);
  const weights = 2 * n * (2 * n + 1) + 2 * n * n * 3 + 2 * K * remainingRows(cfg) * n + T * (3 * m * 3 * n + 3 * n * 3 * n + 12 * n) + m * 2 * n + 2 * n * 3 * n + 3 * (2 * n * wg + n * wh) + 4 * (2 * n + 1);
  const weightPads = 4 * (40 + 12 * T);
  const floats = tableRows * perTableRow + c.propRows * perPropRow + 2 * c.propEdges + hgRows * perGraphRow + 2 * c.nodes + scratch + c.steps * perStepPads + weights + weightPads;
  return 4 * floats;
}

/** The most engine memory one micro-batch of a shard may lay out (docs/speed.md, 'Memory per shard and per sampled graph'). */
export const MICRO_BATCH_BYTES = 512 * 2 ** 20;

/**
 * A shard cut into consecutive micro-batches of at most `budget` bytes of training layout each
 * (trainingBytes), a graph larger than that alone. The cut depends on the sequences alone, so a
 * run is reproducible and W workers give what one process gives with the same shards. A graph
 * that cannot fit the engine at all is refused here, before any work (assertFitsEngine).
 */
export function microBatches(cfg: ModelConfig, seqs: readonly Decisions[], budget = MICRO_BATCH_BYTES): Array<readonly Decisions[]> {
  const out: Decisions[][] = [];
  let part: Decisions[] = [];
  let cost = NO_COST;
  for (const s of seqs) {
    const one = sequenceCost(cfg, s);
    assertFitsEngine(cfg, one);
    const next = addCosts(cost, one);
    if (part.length && trainingBytes(cfg, next) > budget) {
      out.push(part);
      part = [];
      cost = one;
    } else cost = next;
    part.push(s);
  }
  if (part.length) out.push(part);
  return out;
}

/**
 * Refuses, before any work, a graph whose training layout cannot fit the engine's memory (an
 * EngineMemoryError names its size, the memory it needs and the limit).
 */
export function assertFitsEngine(cfg: ModelConfig, cost: SequenceCost, what = `a graph of ${cost.nodes} nodes and ${cost.edges} edges`): void {
  const bytes = trainingBytes(cfg, cost);
  if (bytes > engineRoom()) throw new EngineMemoryError(what, bytes);
}

/**
 * The work `shardGradients` does for one sequence, in node rows: each new node is embedded with
 * its graph's nodes, and each new edge propagates over them for every round and embeds them again.
 * A shard's time grows with the sum of its sequences' work (the lockstep steps are shared), so
 * shards of equal work finish together where shards of equal counts do not.
 */
export function sequenceWork(cfg: ModelConfig, s: Decisions): number {
  const c = sequenceCost(cfg, s);
  return c.nodeRows + (cfg.propRounds + 1) * c.propRows;
}
