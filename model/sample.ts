import type { Graph } from '../graphs/graph';
import { GrowingGraph } from '../graphs/growing';
import type { Rng } from '../graphs/random';
import { distanceBucket } from './distance';
import { allocWeights, dot, emptyGraphEmbeddings, fillWeights, forwardStep, initConstRows, messageWidth, sigmoid, type StepBuffers } from './engine';
import { destinationDistanceOf, destinationWeights, distanceGroups, headColumns, jointEdgeChoiceOf, nodeCountRows, paramView, plannedSizeOf, remainingRows, typeCounts, type ModelConfig, type ParamLayout } from './params';
import { planStep, type GraphEvent, type LiveGraph } from './schedule';
import { rulesOf, type RuleSet } from './rules';
import { arena } from './wasm';

/** Where a graph being sampled stands: before an add-node or an add-edge decision. */
interface Sampler {
  readonly graph: LiveGraph;
  readonly rng: Rng;
  phase: 'node' | 'edge';
  /** Add-edge attempts of the newest node so far. */
  attempts: number;
  /** The model's rules on this graph (model/rules.ts); null: none. */
  readonly rules: RuleSet | null;
  /** Under a destination-distance term, the graph so far, to measure distances from the newest node; null: no term. */
  readonly distances: GrowingGraph | null;
}

/**
 * The decision heads' parameters, read once per call: the add heads' Cn and Ce columns (params.ts's
 * headColumns) stored column after column (a column of the [in, out] weight is strided), their
 * biases, the destination scorer's G·B columns (one per weight group and edge type, w_b + q_g,b:
 * params.ts's distanceGroups) stored the same way, its distance table delta (model/distance.ts;
 * null: no term), the node-count table nu (N + 1 rows of
 * Cn, null when N = 0), and room for the C logits of one decision.
 */
interface Heads {
  readonly nodeTypes: number;
  readonly edgeTypes: number;
  readonly addNodeW: Float32Array;
  readonly addNodeB: Float32Array;
  readonly addNodeCount: Float32Array | null;
  readonly countRows: number;
  readonly addEdgeW: Float32Array;
  readonly addEdgeB: Float32Array;
  readonly destW: Float32Array;
  readonly destB: Float32Array;
  /** Under model.distanceWeights, a candidate's weights are those of its distance bucket's group. */
  readonly weightsByDistance: boolean;
  /** delta[kappa, b] at kappa·B + b, and D. */
  readonly destDistance: Float32Array | null;
  readonly maxDistance: number;
  /** Under a joint edge choice, each type's add-edge logit gains the log-sum-exp of its destination scores. */
  readonly joint: boolean;
  readonly logits: Float64Array;
}

/** The columns of an [in, C] weight, one after another. */
function columns(w: Float32Array, C: number): Float32Array {
  const rows = w.length / C;
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < C; c++) out[c * rows + r] = w[r * C + c];
  return out;
}

/**
 * The token of an add-node or add-edge decision drawn from its head's C logits: with C = 1 the
 * stop logit l, P(1 = stop) = sigmoid(l); else the softmax over the types and stop.
 */
function drawOutcome(rng: Rng, logits: Float64Array, C: number): number {
  if (C === 1) return rng.uniform() < sigmoid(logits[0]) ? 1 : 0;
  return drawSoftmax(rng, logits, C);
}

/** Where graph `slot`'s state lies in the current tables: its h_G row and its first node row. */
interface StateView {
  readonly F: Float32Array;
  /** Float offsets of hG_s's row of this graph and of its first node in H_s. */
  readonly hG: number;
  readonly h: number;
  readonly n: number;
}

/** Index of a draw from softmax(scores[0..count)). */
function drawSoftmax(rng: Rng, scores: Float64Array, count: number): number {
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, scores[i]);
  let z = 0;
  for (let i = 0; i < count; i++) z += Math.exp(scores[i] - max);
  let u = rng.uniform() * z;
  for (let i = 0; i < count - 1; i++) {
    u -= Math.exp(scores[i] - max);
    if (u < 0) return i;
  }
  return count - 1;
}

/** Room for one destination decision: the candidates' scores and node indexes. */
interface DestScratch {
  readonly scores: Float64Array;
  readonly nodes: Int32Array;
}

/**
 * Scores the destinations of an edge of `edgeType` from the newest node v into `dest`: s_u =
 * w_b·[h_u ; h_v] + c_b (+ delta[kappa(u, v), b], distances in the graph as sampled so far, and
 * under model.distanceWeights w_b + q_kappa,b for w_b) for every candidate u the rules leave
 * (every earlier node without rules). Returns how many.
 */
function scoreDestinations(s: Sampler, heads: Heads, at: StateView, dest: DestScratch, v: number, edgeType: number): number {
  const n = at.n;
  let count = v;
  if (s.rules) count = s.rules.candidates(edgeType, dest.nodes);
  else for (let u = 0; u < v; u++) dest.nodes[u] = u;
  const B = heads.edgeTypes;
  const dist = heads.destDistance && s.distances ? s.distances.distancesFrom(v) : null;
  // with one group, v's half of the score is the same for every candidate
  const hv = heads.weightsByDistance ? 0 : dot(at.F, at.h + v * n, heads.destW, edgeType * 2 * n + n, n);
  for (let j = 0; j < count; j++) {
    const kappa = dist ? distanceBucket(dist[dest.nodes[j]], heads.maxDistance) : 0;
    // the column of the edge type in the candidate's group: s_u = w·[h_u ; h_v] + c_b
    const col = ((heads.weightsByDistance ? kappa * B : 0) + edgeType) * 2 * n;
    const hvOf = heads.weightsByDistance ? dot(at.F, at.h + v * n, heads.destW, col + n, n) : hv;
    dest.scores[j] = heads.destB[edgeType] + dot(at.F, at.h + dest.nodes[j] * n, heads.destW, col, n) + hvOf;
    if (dist && heads.destDistance) dest.scores[j] += heads.destDistance[kappa * B + edgeType];
  }
  return count;
}

/** log sum exp(scores[0..count)), -inf for none. */
function logSumExp(scores: Float64Array, count: number): number {
  let max = -Infinity;
  for (let i = 0; i < count; i++) max = Math.max(max, scores[i]);
  if (max === -Infinity) return max;
  let z = 0;
  for (let i = 0; i < count; i++) z += Math.exp(scores[i] - max);
  return max + Math.log(z);
}

/**
 * Runs a graph's decisions at the current state until the state changes (a new node, or a new
 * edge) or the graph stops (null). Every decision here reads the same state; each head is
 * evaluated when a decision needs it. A repeated edge changes nothing and the node tries again.
 * Under the model's rules the actions they remove are never drawn (model/rules.ts), and a
 * decision left with one action is taken without a draw.
 */
function decide(s: Sampler, vMax: number, heads: Heads, at: StateView, dest: DestScratch): GraphEvent | null {
  const g = s.graph;
  const n = at.n;
  for (;;) {
    if (s.phase === 'edge') {
      const v = g.numNodes - 1;
      // logits W·[h_G ; h_v] + b, token B = no more edges; a node tries at most (nodes - 1) edges
      if (s.attempts >= g.numNodes - 1) {
        s.phase = 'node';
        continue;
      }
      const allowed = s.rules ? s.rules.allowedEdgeTypes() : -1;
      if (allowed === 0) {
        s.phase = 'node';
        continue;
      }
      const Ce = heads.addEdgeB.length;
      for (let c = 0; c < Ce; c++) {
        heads.logits[c] = heads.addEdgeB[c] + dot(at.F, at.hG, heads.addEdgeW, c * 3 * n, 2 * n) + dot(at.F, at.h + v * n, heads.addEdgeW, c * 3 * n + 2 * n, n);
      }
      // with one edge type (Ce = 1) a decision with the type removed was forced above
      for (let c = 0; c < Ce - 1; c++) if (!(allowed & (1 << c))) heads.logits[c] = -Infinity;
      if (heads.joint) {
        // l_b + log sum_u exp(s_ub): p(add b, then u) is proportional to exp(l_b + s_ub)
        for (let b = 0; b < heads.edgeTypes; b++) {
          if (heads.logits[b] !== -Infinity) heads.logits[b] += logSumExp(dest.scores, scoreDestinations(s, heads, at, dest, v, b));
        }
      }
      // a rule that forbids stopping removes it; with one edge type (a sigmoid) the add is then the one action left
      const mayStop = !s.rules || s.rules.mayStop();
      if (!mayStop && Ce > 1) heads.logits[Ce - 1] = -Infinity;
      const edgeType = !mayStop && Ce === 1 ? 0 : drawOutcome(s.rng, heads.logits, Ce);
      if (edgeType === heads.edgeTypes) {
        s.phase = 'node';
        continue;
      }
      s.attempts++;
      const count = scoreDestinations(s, heads, at, dest, v, edgeType);
      const d = count > 1 ? dest.nodes[drawSoftmax(s.rng, dest.scores, count)] : dest.nodes[0];
      if (!g.edges.some(([a, b]) => (a === v && b === d) || (a === d && b === v))) {
        s.rules?.addEdge(v, d, edgeType);
        s.distances?.addEdge(v, d);
        return { kind: 'edge', src: v, dst: d, type: edgeType };
      }
      continue;
    }
    // a rule that joins every node stops a graph with no room left (model/rules.ts, mayAddNode)
    if (g.numNodes >= vMax || (s.rules && !s.rules.mayAddNode())) return null;
    // under a planned size the graph stops at n nodes, and not before: stop's logit is -inf, one type is certain
    const planned = g.plannedSize !== undefined;
    if (planned && g.numNodes === g.plannedSize) return null;
    // logits W·h_G + b (+ nu[min(|V|, N)]), token K = stop
    const Cn = heads.addNodeB.length;
    for (let c = 0; c < Cn; c++) heads.logits[c] = heads.addNodeB[c] + dot(at.F, at.hG, heads.addNodeW, c * 2 * n, 2 * n);
    const nu = heads.addNodeCount;
    if (nu) for (let c = 0; c < Cn; c++) heads.logits[c] += nu[Math.min(g.numNodes, heads.countRows) * Cn + c];
    if (planned) heads.logits[Cn - 1] = -Infinity;
    const nodeType = planned && Cn === 1 ? 0 : drawOutcome(s.rng, heads.logits, Cn);
    if (nodeType === heads.nodeTypes) return null;
    s.phase = 'edge';
    s.attempts = 0;
    s.rules?.addNode(nodeType);
    s.distances?.addNode();
    return { kind: 'node', type: nodeType };
  }
}

/** The most sampling buffers one lockstep batch may lay out; a batch whose graphs could outgrow it runs in parts. */
const LOCKSTEP_BYTES = 256 * 2 ** 20;

/**
 * The largest v_max (sample.vMax, --v-max, a sampling task). Sampling scores every earlier node as
 * a destination, so a graph of v nodes costs O(v^2) time at least; 4,096 is far beyond the graphs
 * DGMG is trained on, so a larger value is a typo (or a crafted task), refused before any work.
 */
export const MAX_V_MAX = 4096;

/**
 * The bytes one graph of up to v_max nodes may take in sampleLockstep's buffers sized by v_max: per
 * node row, (17 + T)·n + 5 + B floats (both tables, Y, the T + 1 propagated states, Z, the saved
 * gates, the GRU products, the in-edge counts by type, and the index rows). The edges are laid out
 * as they are sampled, not for every possible edge, so a graph costs O(V + E).
 */
export function lockstepBytesPerGraph(cfg: ModelConfig, vMax: number): number {
  return 4 * vMax * ((17 + cfg.propRounds) * cfg.nodeSize + 5 + typeCounts(cfg).edgeTypes);
}

/**
 * Samples one graph per generator in `rngs`: in one lockstep batch, or in several when the
 * batch's buffers would not fit LOCKSTEP_BYTES. A graph's draws come from its own generator
 * only, so the parts give the same graphs as one batch.
 */
export function sampleGraphs(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, rngs: readonly Rng[], vMax: number): Graph[] {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  if (!Number.isInteger(vMax) || vMax < 1 || vMax > MAX_V_MAX) throw new Error(`v_max must be an integer from 1 to ${MAX_V_MAX}, got ${vMax}`);
  const perBatch = Math.max(1, Math.floor(LOCKSTEP_BYTES / lockstepBytesPerGraph(cfg, vMax)));
  if (rngs.length <= perBatch) return sampleLockstep(cfg, layout, flat, rngs, vMax);
  const out: Graph[] = [];
  for (let i = 0; i < rngs.length; i += perBatch) for (const g of sampleLockstep(cfg, layout, flat, rngs.slice(i, i + perBatch), vMax)) out.push(g);
  return out;
}

/**
 * Samples one graph per generator in `rngs`, all in lockstep: each step draws every live graph's
 * decisions at its current state, then applies all graphs' events at once with one engine step.
 * Every buffer sized by rows is laid out once per call, for v_max nodes per graph; the directed
 * edges go last and are laid out again, twice as large, whenever a step needs more.
 */
function sampleLockstep(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, rngs: readonly Rng[], vMax: number): Graph[] {
  const n = cfg.nodeSize;
  const T = cfg.propRounds;
  const types = typeCounts(cfg);
  const D = destinationDistanceOf(cfg);
  const B = rngs.length;
  const maxRows = B * vMax;
  const what = `sampling ${B} graphs of up to ${vMax} nodes`;
  const a = arena();
  a.reset();
  const w = allocWeights(a, cfg);
  // two sets of tables: the step reads one and writes the other
  const tables = [0, 1].map(() => ({ H: a.f32(maxRows * n), hG: a.f32(B * 2 * n) }));
  const st: StepBuffers = {
    prevH: 0,
    prevRows: 0,
    prevHG: 0,
    H: 0,
    rows: 0,
    hG: 0,
    numGraphs: 0,
    Y: a.f32(maxRows * (2 * n + 1)),
    gate: a.f32(maxRows),
    graphOfRow: a.i32(maxRows),
    assemble: a.i32(maxRows),
    prop: null,
    init: null,
  };
  const prop = {
    rows: a.i32(maxRows),
    count: 0,
    src: 0,
    dst: 0,
    edges: 0,
    deg: a.f32(maxRows),
    counts: a.f32(maxRows * types.edgeTypes),
    x: Array.from({ length: T + 1 }, () => a.f32(maxRows * n)),
    // no backward: every round may reuse one Z and one gate buffer
    z: new Array<number>(T).fill(a.f32(maxRows * messageWidth(cfg))),
    saved: new Array<number>(T).fill(a.f32(maxRows * 4 * n)),
  };
  const init = { idx: a.i32(B), type: a.i32(B), count: 0, hG: a.f32(B * 2 * n), h: a.f32(B * n) };
  const scratch = { gi: a.f32(maxRows * 3 * n), gh: a.f32(maxRows * 3 * n) };
  const edgesFrom = a.mark();
  let edgeRoom = 0;
  /** Room for `count` directed edges at least, laid out again past everything else when it grows. */
  const edgeBuffers = (count: number): void => {
    if (count <= edgeRoom && edgeRoom) return;
    edgeRoom = Math.max(count, 2 * edgeRoom, 1024);
    a.reset(edgesFrom);
    prop.src = a.i32(edgeRoom);
    prop.dst = a.i32(edgeRoom);
    a.commit(what);
  };
  edgeBuffers(0);
  fillWeights(a, cfg, layout, flat, w);
  const P = (name: string): Float32Array => paramView(layout, flat, name);
  const cn = headColumns(types.nodeTypes);
  const ce = headColumns(types.edgeTypes);
  const heads: Heads = {
    nodeTypes: types.nodeTypes,
    edgeTypes: types.edgeTypes,
    addNodeW: columns(P('addNode.stop.w'), cn),
    addNodeB: P('addNode.stop.b'),
    addNodeCount: nodeCountRows(cfg) > 0 ? P('addNode.count') : null,
    countRows: nodeCountRows(cfg),
    addEdgeW: columns(P('addEdge.stop.w'), ce),
    addEdgeB: P('addEdge.stop.b'),
    destW: columns(destinationWeights(cfg, layout, flat), distanceGroups(cfg) * types.edgeTypes),
    destB: P('chooseDest.score.b'),
    weightsByDistance: distanceGroups(cfg) > 1,
    destDistance: D > 0 ? P('chooseDest.distance') : null,
    maxDistance: D,
    joint: jointEdgeChoiceOf(cfg),
    logits: new Float64Array(Math.max(cn, ce)),
  };
  const dest: DestScratch = { scores: new Float64Array(vMax), nodes: new Int32Array(vMax) };
  const rules = rulesOf(cfg);
  // a planned size is the graph's first draw, from softmax(sigma)
  const sigma = plannedSizeOf(cfg) > 0 ? Float64Array.from(P('size.logits')) : null;
  const samplers: Sampler[] = rngs.map((rng, id) => ({
    graph: { id, numNodes: 0, nodeTypes: [], edges: [], edgeTypes: [], ...(sigma ? { plannedSize: drawSoftmax(rng, sigma, sigma.length) } : {}) },
    rng,
    phase: 'node',
    attempts: 0,
    rules: rules ? rules.start(vMax) : null,
    // sized for a sparse graph of v_max nodes; the edge slots double if it is denser
    distances: D > 0 ? new GrowingGraph(vMax, 2 * vMax) : null,
  }));
  let live = samplers.map((s) => s.graph);
  let cur = 0;
  let rows = 0;
  emptyGraphEmbeddings(a, cfg, layout, flat, tables[cur].hG, B);
  while (live.length) {
    const now = tables[cur];
    let base = 0;
    const events = live.map((g, slot) => {
      const ev = decide(samplers[g.id], vMax, heads, { F: a.F, hG: (now.hG >>> 2) + slot * 2 * n, h: (now.H >>> 2) + base * n, n }, dest);
      base += g.numNodes;
      return ev;
    });
    const { plan, next } = planStep(live, events, types.edgeTypes);
    live = next;
    const out = tables[1 - cur];
    st.prevH = now.H;
    st.prevRows = rows;
    st.prevHG = now.hG;
    st.H = out.H;
    st.rows = plan.assemble.length;
    st.hG = out.hG;
    st.numGraphs = plan.numGraphs;
    a.put(st.assemble, plan.assemble);
    a.put(st.graphOfRow, plan.graphOfRow);
    st.prop = null;
    if (plan.prop) {
      prop.count = plan.prop.rows.length;
      prop.edges = plan.prop.src.length;
      edgeBuffers(prop.edges);
      a.put(prop.rows, plan.prop.rows);
      a.put(prop.src, plan.prop.src);
      a.put(prop.dst, plan.prop.dst);
      a.put(prop.deg, plan.prop.deg);
      a.put(prop.counts, plan.prop.typeCount);
      st.prop = prop;
    }
    st.init = null;
    if (plan.init && plan.initType && plan.initRemaining) {
      init.count = plan.init.length;
      a.put(init.idx, plan.init);
      a.put(init.type, initConstRows(plan.initType, plan.initRemaining, remainingRows(cfg)));
      st.init = init;
    }
    forwardStep(a.k, cfg, w, st, scratch);
    cur = 1 - cur;
    rows = st.rows;
  }
  // type lists only where the model has more than one type of the kind, as decodeDecisions builds them
  return samplers.map(({ graph: g }) => ({
    numNodes: g.numNodes,
    edges: g.edges.map(([x, y]) => [x, y] as const),
    ...(types.nodeTypes > 1 ? { nodeTypes: g.nodeTypes } : {}),
    ...(types.edgeTypes > 1 ? { edgeTypes: g.edgeTypes } : {}),
  }));
}
