import { paramView, remainingRows, typeCounts, type ModelConfig, type ParamLayout } from './params';
import type { Arena, Kernels } from './wasm';

/**
 * The DGMG modules (docs/design.md, 'Model equations') for many graphs at once (rows of a block-diagonal graph, each row
 * tagged with its graph), forward and backward, on buffers laid out in an Arena and computed by
 * the SIMD kernels. The teacher (teacher.ts) and the sampler (sample.ts) run the same steps;
 * reference.ts writes the same equations plainly, one graph at a time, and the tests hold them equal.
 *
 * Algebra that saves work, exact up to round-off:
 * - Messages: with x_uv the one-hot of the edge's type (B columns), a_v = sum_{u->v} W_t [h_v ; h_u ;
 *   x_uv] + b_t = Z_v · [W_t ; b_t] with Z_v = [deg_v h_v ; sum_{u->v} h_u ; c_v ; deg_v], c_v the
 *   counts of v's in-edges of each type (= deg_v untyped), so the per-edge work is one n-wide row sum.
 * - a_v only feeds the GRU's input product, so [W_t ; b_t] · W_i is precomposed once per batch
 *   (MsgIn_t, (2n+B+1) x 3n): a propagation round is two products, Z·MsgIn_t and h·W_h, and the gates.
 * - GraphEmbed's gate and projection are one product h·[w_gate | W_proj].
 * - AddNode's init: W_init [e_k ; h_G] + b = h_G·W_init,G + (e_k·W_init,e + b), the second term one
 *   row per node type k (InitConst, K x n), gathered by the new nodes' types. Under a planned size
 *   the state also gains rho[r], r = n - |V| (docs/design.md, 'Planned size'): InitConst then has
 *   R = N + 1 rows per type, row k·R + r = e_k·W_init,e + b + rho[r] (initConstRow).
 */

/** Width of Z, the rows of MsgIn: 2n + B + 1. */
export function messageWidth(cfg: ModelConfig): number {
  return 2 * cfg.nodeSize + typeCounts(cfg).edgeTypes + 1;
}

/** Byte offsets of the weights the kernels read, derived from the parameters once per call. */
export interface Weights {
  /** B, read per step without deriving it again. */
  readonly edgeTypes: number;
  /** [w_gate | W_proj] (n x (2n+1)) and its bias; the transpose for the backward. */
  readonly embedW: number;
  readonly embedB: number;
  readonly embedWT: number;
  /** Per round: MsgIn_t = [W_t ; b_t]·W_i ((2n+B+1) x 3n), b_i, W_h (n x 3n), b_h, transposes. */
  readonly msgIn: readonly number[];
  readonly msgInT: readonly number[];
  readonly bi: readonly number[];
  readonly wh: readonly number[];
  readonly whT: readonly number[];
  readonly bh: readonly number[];
  /** W_init's h_G rows (2n x n), its transpose, and InitConst: e_k·W_init,e + b_init (+ rho[r]) for every type k (and remaining count r), (K·R x n). */
  readonly initFromGraph: number;
  readonly initFromGraphT: number;
  readonly initConst: number;
  /** Room for [W_t ; b_t] and W_i while MsgIn_t is computed. */
  readonly stage: number;
}

/** Gradients of the derived weights (same shapes as Weights' forward parts), summed over a batch. */
export interface WeightGrads {
  readonly embedW: number;
  readonly embedB: number;
  readonly msgIn: readonly number[];
  readonly bi: readonly number[];
  readonly wh: readonly number[];
  readonly bh: readonly number[];
  readonly initFromGraph: number;
  readonly initConst: number;
}

const rounds = <T>(cfg: ModelConfig, f: () => T): T[] => Array.from({ length: cfg.propRounds }, f);

export function allocWeights(arena: Arena, cfg: ModelConfig): Weights {
  const n = cfg.nodeSize;
  const m = messageWidth(cfg);
  const f = (count: number): number => arena.f32(count);
  return {
    edgeTypes: typeCounts(cfg).edgeTypes,
    embedW: f(n * (2 * n + 1)),
    embedB: f(2 * n + 1),
    embedWT: f(n * (2 * n + 1)),
    msgIn: rounds(cfg, () => f(m * 3 * n)),
    msgInT: rounds(cfg, () => f(m * 3 * n)),
    bi: rounds(cfg, () => f(3 * n)),
    wh: rounds(cfg, () => f(n * 3 * n)),
    whT: rounds(cfg, () => f(n * 3 * n)),
    bh: rounds(cfg, () => f(3 * n)),
    initFromGraph: f(2 * n * n),
    initFromGraphT: f(2 * n * n),
    initConst: f(typeCounts(cfg).nodeTypes * remainingRows(cfg) * n),
    stage: f(m * 2 * n + 2 * n * 3 * n),
  };
}

export function allocWeightGrads(arena: Arena, cfg: ModelConfig): WeightGrads {
  const n = cfg.nodeSize;
  const f = (count: number): number => arena.f32(count);
  return {
    embedW: f(n * (2 * n + 1)),
    embedB: f(2 * n + 1),
    msgIn: rounds(cfg, () => f(messageWidth(cfg) * 3 * n)),
    bi: rounds(cfg, () => f(3 * n)),
    wh: rounds(cfg, () => f(n * 3 * n)),
    bh: rounds(cfg, () => f(3 * n)),
    initFromGraph: f(2 * n * n),
    initConst: f(typeCounts(cfg).nodeTypes * remainingRows(cfg) * n),
  };
}

/** b = aᵀ for a (rows x cols), both byte offsets into the arena. */
function transpose(F: Float32Array, a: number, rows: number, cols: number, b: number): void {
  const ai = a >>> 2;
  const bi = b >>> 2;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) F[bi + c * rows + r] = F[ai + r * cols + c];
}

/** [W_t ; b_t]: the message layer's weight rows with its bias as the last row ((2n+B+1) x 2n). */
function messageLayer(layout: ParamLayout, flat: Float32Array, t: number): Float32Array {
  const w = paramView(layout, flat, `prop.${t}.msg.w`);
  const out = new Float32Array(w.length + paramView(layout, flat, `prop.${t}.msg.b`).length);
  out.set(w);
  out.set(paramView(layout, flat, `prop.${t}.msg.b`), w.length);
  return out;
}

/** Fills `w` (laid out by allocWeights, committed) from the flat parameters. */
export function fillWeights(arena: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, w: Weights): void {
  const n = cfg.nodeSize;
  const m = messageWidth(cfg);
  const k = arena.k;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const F = arena.F;
  const gateW = P('embed.gate.w');
  const projW = P('embed.proj.w');
  for (let r = 0; r < n; r++) {
    F[(w.embedW >>> 2) + r * (2 * n + 1)] = gateW[r];
    F.set(projW.subarray(r * 2 * n, (r + 1) * 2 * n), (w.embedW >>> 2) + r * (2 * n + 1) + 1);
  }
  F[w.embedB >>> 2] = P('embed.gate.b')[0];
  F.set(P('embed.proj.b'), (w.embedB >>> 2) + 1);
  transpose(F, w.embedW, n, 2 * n + 1, w.embedWT);
  for (let t = 0; t < cfg.propRounds; t++) {
    const wi = w.stage + m * 2 * n * 4;
    arena.put(w.stage, messageLayer(layout, flat, t));
    arena.put(wi, P(`prop.${t}.gru.wi`));
    k.matmul(w.stage, wi, 0, w.msgIn[t], m, 2 * n, 3 * n, 0);
    transpose(F, w.msgIn[t], m, 3 * n, w.msgInT[t]);
    arena.put(w.wh[t], P(`prop.${t}.gru.wh`));
    transpose(F, w.wh[t], n, 3 * n, w.whT[t]);
    arena.put(w.bi[t], P(`prop.${t}.gru.bi`));
    arena.put(w.bh[t], P(`prop.${t}.gru.bh`));
  }
  const initW = P('addNode.init.w'); // [e ; h_G] rows: n + 2n, n columns
  arena.put(w.initFromGraph, initW.subarray(n * n));
  transpose(F, w.initFromGraph, 2 * n, n, w.initFromGraphT);
  const e = P('addNode.typeEmbed');
  const b = P('addNode.init.b');
  const R = remainingRows(cfg);
  const rho = R > 1 ? P('addNode.remaining') : null;
  for (let type = 0; type < typeCounts(cfg).nodeTypes; type++) {
    for (let c = 0; c < n; c++) {
      let s = b[c];
      for (let r = 0; r < n; r++) s += e[type * n + r] * initW[r * n + c];
      for (let r = 0; r < R; r++) F[(w.initConst >>> 2) + initConstRow(type, r, R) * n + c] = rho ? s + rho[r * n + c] : s;
    }
  }
}

/** The InitConst row of a new node of type `type` with `remaining` nodes still to come, R rows per type (remainingRows). */
export function initConstRow(type: number, remaining: number, R: number): number {
  return type * R + remaining;
}

/** The InitConst rows (initConstRow) of a step's new nodes, from their types and remaining counts. */
export function initConstRows(types: Int32Array, remaining: Int32Array, R: number): Int32Array {
  return R === 1 ? types : types.map((k, i) => initConstRow(k, remaining[i], R));
}

/**
 * Adds the gradient of the derived weights, mapped back to the parameters they came from, into
 * `grad` (flat, layout order).
 */
export function addWeightGrads(arena: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, g: WeightGrads, grad: Float32Array): void {
  const n = cfg.nodeSize;
  const m = messageWidth(cfg);
  const F = arena.F;
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const G = (name: string): Float32Array => paramView(layout, grad, name);
  const at = (ptr: number, i: number): number => F[(ptr >>> 2) + i];
  const w1 = 2 * n + 1;
  const dGateW = G('embed.gate.w');
  const dProjW = G('embed.proj.w');
  for (let r = 0; r < n; r++) {
    dGateW[r] += at(g.embedW, r * w1);
    for (let c = 0; c < 2 * n; c++) dProjW[r * 2 * n + c] += at(g.embedW, r * w1 + 1 + c);
  }
  G('embed.gate.b')[0] += at(g.embedB, 0);
  const dProjB = G('embed.proj.b');
  for (let c = 0; c < 2 * n; c++) dProjB[c] += at(g.embedB, 1 + c);
  for (let t = 0; t < cfg.propRounds; t++) {
    // MsgIn = M·W_i: dM = dMsgIn·W_iᵀ, dW_i = Mᵀ·dMsgIn
    const M = messageLayer(layout, flat, t);
    const wi = P(`prop.${t}.gru.wi`);
    const dW = G(`prop.${t}.msg.w`);
    const dB = G(`prop.${t}.msg.b`);
    const dWi = G(`prop.${t}.gru.wi`);
    const dIn = g.msgIn[t] >>> 2;
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < 2 * n; c++) {
        let s = 0;
        for (let j = 0; j < 3 * n; j++) s += F[dIn + r * 3 * n + j] * wi[c * 3 * n + j];
        if (r < m - 1) dW[r * 2 * n + c] += s;
        else dB[c] += s;
      }
    }
    for (let c = 0; c < 2 * n; c++) {
      for (let j = 0; j < 3 * n; j++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += M[r * 2 * n + c] * F[dIn + r * 3 * n + j];
        dWi[c * 3 * n + j] += s;
      }
    }
    const add = (name: string, ptr: number, count: number): void => {
      const d = G(name);
      for (let i = 0; i < count; i++) d[i] += at(ptr, i);
    };
    add(`prop.${t}.gru.wh`, g.wh[t], n * 3 * n);
    add(`prop.${t}.gru.bi`, g.bi[t], 3 * n);
    add(`prop.${t}.gru.bh`, g.bh[t], 3 * n);
  }
  // InitConst_k = e_k·W_init,e + b_init
  const initW = P('addNode.init.w');
  const e = P('addNode.typeEmbed');
  const dInitW = G('addNode.init.w');
  const dE = G('addNode.typeEmbed');
  const dInitB = G('addNode.init.b');
  const R = remainingRows(cfg);
  const dRho = R > 1 ? G('addNode.remaining') : null;
  for (let type = 0; type < typeCounts(cfg).nodeTypes; type++) {
    for (let c = 0; c < n; c++) {
      let d = 0;
      for (let r = 0; r < R; r++) {
        const dr = at(g.initConst, initConstRow(type, r, R) * n + c);
        d += dr;
        if (dRho) dRho[r * n + c] += dr;
      }
      dInitB[c] += d;
      for (let r = 0; r < n; r++) {
        dInitW[r * n + c] += e[type * n + r] * d;
        dE[type * n + r] += initW[r * n + c] * d;
      }
    }
  }
  for (let i = 0; i < 2 * n * n; i++) dInitW[n * n + i] += at(g.initFromGraph, i);
}

/**
 * hG_0: the embedding of every graph before its first node, the learned embed.empty (params.ts
 * says why it is not 0). Its gradient is the sum of these rows' (the teacher's backward).
 */
export function emptyGraphEmbeddings(arena: Arena, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, hG: number, numGraphs: number): void {
  const empty = paramView(layout, flat, 'embed.empty');
  for (let g = 0; g < numGraphs; g++) arena.F.set(empty, (hG >>> 2) + g * 2 * cfg.nodeSize);
}

/** The propagation part of a step: GraphProp over `count` rows gathered from the previous table. */
export interface PropBuffers {
  /** Rows of the previous node table (int32), local edges src -> dst (int32), in-degree and in-edges by type (f32). */
  readonly rows: number;
  count: number;
  readonly src: number;
  readonly dst: number;
  edges: number;
  readonly deg: number;
  readonly counts: number;
  /** x[0] gathered rows, x[t+1] after round t; Z per round (may share one buffer: the backward forms it again), the GRU's saved gates per round. */
  readonly x: readonly number[];
  readonly z: readonly number[];
  readonly saved: readonly number[];
}

/** The new nodes of a step: the rows of the previous h_G table they read, their types (int32), their states. */
export interface InitBuffers {
  readonly idx: number;
  readonly type: number;
  count: number;
  readonly hG: number;
  readonly h: number;
}

/**
 * One lockstep step (schedule.ts's StepPlan, placed in the arena): propagate the graphs that added
 * an edge, initialise the new nodes from the embedding before they were added, assemble the new
 * node table from carried, propagated and new rows, then re-embed every graph.
 */
export interface StepBuffers {
  prevH: number;
  prevRows: number;
  prevHG: number;
  H: number;
  rows: number;
  hG: number;
  numGraphs: number;
  /** GraphEmbed's product (rows x (2n+1), biases in) and gates, kept for the backward. */
  Y: number;
  gate: number;
  readonly graphOfRow: number;
  readonly assemble: number;
  prop: PropBuffers | null;
  init: InitBuffers | null;
}

/** Per-thread scratch of the forward: the GRU's two products. */
export interface ForwardScratch {
  readonly gi: number;
  readonly gh: number;
}

export function forwardStep(k: Kernels, cfg: ModelConfig, w: Weights, st: StepBuffers, s: ForwardScratch): void {
  const n = cfg.nodeSize;
  const B = w.edgeTypes;
  const p = st.prop;
  if (p) {
    k.gatherRows(st.prevH, p.rows, p.count, n, p.x[0]);
    for (let t = 0; t < cfg.propRounds; t++) {
      k.messageInput(p.x[t], p.deg, p.counts, p.src, p.dst, p.edges, p.count, n, B, p.z[t]);
      k.matmul(p.z[t], w.msgIn[t], w.bi[t], s.gi, p.count, 2 * n + B + 1, 3 * n, 0);
      k.matmul(p.x[t], w.wh[t], w.bh[t], s.gh, p.count, n, 3 * n, 0);
      k.gruForward(s.gi, s.gh, p.x[t], p.count, n, p.x[t + 1], p.saved[t]);
    }
  }
  const init = st.init;
  if (init) {
    k.gatherRows(st.prevHG, init.idx, init.count, 2 * n, init.hG);
    k.gatherRows(w.initConst, init.type, init.count, n, init.h);
    k.matmul(init.hG, w.initFromGraph, 0, init.h, init.count, 2 * n, n, 1);
  }
  k.gatherRows3(st.prevH, st.prevRows, p ? p.x[cfg.propRounds] : 0, p ? p.count : 0, init ? init.h : 0, st.assemble, st.rows, n, st.H);
  k.matmul(st.H, w.embedW, w.embedB, st.Y, st.rows, n, 2 * n + 1, 0);
  k.gatedSum(st.Y, st.graphOfRow, st.rows, 2 * n, st.numGraphs, st.gate, st.hG);
}

/** Gradient buffers of one step and the backward's scratch. */
export interface BackwardBuffers {
  /** d of this step's tables and of the previous step's (accumulated into). */
  dH: number;
  dHG: number;
  dPrevH: number;
  dPrevHG: number;
  /** Scratch, sized for the largest step. */
  readonly dY: number;
  readonly dXa: number;
  readonly dXb: number;
  readonly dGI: number;
  readonly dGH: number;
  readonly dZ: number;
  readonly dInitH: number;
  readonly dInitHG: number;
}

/** The adjoint of forwardStep: from dH, dHG of this step, adds into the previous step's and into g. */
export function backwardStep(k: Kernels, arena: Arena, cfg: ModelConfig, w: Weights, g: WeightGrads, st: StepBuffers, d: BackwardBuffers): void {
  const n = cfg.nodeSize;
  const T = cfg.propRounds;
  const B = w.edgeTypes;
  const m = 2 * n + B + 1;
  k.gatedSumBackward(d.dHG, st.Y, st.graphOfRow, st.gate, st.rows, 2 * n, d.dY);
  k.matmul(d.dY, w.embedWT, 0, d.dH, st.rows, 2 * n + 1, n, 1);
  k.matmulAtB(st.H, d.dY, g.embedW, st.rows, n, 2 * n + 1);
  k.colSum(d.dY, st.rows, 2 * n + 1, g.embedB);

  const p = st.prop;
  const init = st.init;
  if (p) arena.zero(d.dXa, p.count * n);
  if (init) arena.zero(d.dInitH, init.count * n);
  k.scatterAddRows3(d.dH, st.assemble, st.rows, n, d.dPrevH, st.prevRows, d.dXa, p ? p.count : 0, d.dInitH);

  if (init) {
    k.gatherRows(st.prevHG, init.idx, init.count, 2 * n, init.hG);
    k.matmulAtB(init.hG, d.dInitH, g.initFromGraph, init.count, 2 * n, n);
    k.scatterAddRows(d.dInitH, init.type, init.count, n, g.initConst);
    k.matmul(d.dInitH, w.initFromGraphT, 0, d.dInitHG, init.count, n, 2 * n, 0);
    k.scatterAddRows(d.dInitHG, init.idx, init.count, 2 * n, d.dPrevHG);
  }
  if (p) {
    let dx = d.dXa;
    let dPrev = d.dXb;
    for (let t = T - 1; t >= 0; t--) {
      k.gruBackward(dx, p.x[t], p.saved[t], p.count, n, d.dGI, d.dGH, dPrev);
      k.matmul(d.dGH, w.whT[t], 0, dPrev, p.count, 3 * n, n, 1);
      k.matmulAtB(p.x[t], d.dGH, g.wh[t], p.count, n, 3 * n);
      k.colSum(d.dGH, p.count, 3 * n, g.bh[t]);
      k.messageInput(p.x[t], p.deg, p.counts, p.src, p.dst, p.edges, p.count, n, B, p.z[t]);
      k.matmulAtB(p.z[t], d.dGI, g.msgIn[t], p.count, m, 3 * n);
      k.colSum(d.dGI, p.count, 3 * n, g.bi[t]);
      k.matmul(d.dGI, w.msgInT[t], 0, d.dZ, p.count, 3 * n, m, 0);
      k.messageInputBackward(d.dZ, p.deg, p.src, p.dst, p.edges, p.count, n, B, dPrev);
      [dx, dPrev] = [dPrev, dx];
    }
    k.scatterAddRows(dx, p.rows, p.count, n, d.dPrevH);
  }
}

/** log σ(y), stable for any y. */
export function logSigmoid(y: number): number {
  return y >= 0 ? -Math.log1p(Math.exp(-y)) : y - Math.log1p(Math.exp(y));
}

export function sigmoid(y: number): number {
  return 1 / (1 + Math.exp(-y));
}

/**
 * log P(token) of an add-node or add-edge decision from its head's C logits z (params.ts's
 * headColumns), and d(-log P)/dz into dz. C = 1: z[0] is the stop logit l, token 1 = stop, 0 =
 * add, P(stop) = sigmoid(l), so log P = log-sigmoid of +-l (the logits [0, l], kept in this form so
 * untyped numbers are today's to the bit). C > 1: log-softmax of z at the token.
 */
export function outcomeLogProb(z: Float64Array, C: number, token: number, dz: Float64Array): number {
  if (C === 1) {
    const sign = 2 * token - 1;
    dz[0] = -sign * sigmoid(-sign * z[0]);
    return logSigmoid(sign * z[0]);
  }
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[c]);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(z[c] - max);
  const logZ = max + Math.log(sum);
  for (let c = 0; c < C; c++) dz[c] = Math.exp(z[c] - logZ) - (c === token ? 1 : 0);
  return z[token] - logZ;
}

/** x·w over `len` floats at float offsets xo (in F) and wo (in w). */
export function dot(F: Float32Array, xo: number, w: Float32Array, wo: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += F[xo + i] * w[wo + i];
  return s;
}
