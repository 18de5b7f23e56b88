import { UNTYPED, type Decisions, type TypeCounts } from '../graphs/graph';
import { SequenceError, decodeDecisions } from '../graphs/sequence';
import { GrowingGraph } from '../graphs/growing';
import { distanceBucket } from './distance';
import type { ModelRules } from './rules';

/**
 * Batching by step (docs/design.md, 'Lockstep batching'). A graph's state changes only at events (a new node, or a new edge
 * followed by propagation), and every decision reads the state between two events: at each such
 * stage a graph makes at most one add-edge, one choose-destination and one add-node decision. So
 * B graphs run in lockstep by stage: step s applies every graph's event s at once, and all the
 * decisions, whose inputs are then known, are scored together at the end.
 */

/** A new node of type `type`, or a new edge of type `type`. */
export type GraphEvent = { readonly kind: 'node'; readonly type: number } | { readonly kind: 'edge'; readonly src: number; readonly dst: number; readonly type: number };

/** A graph in flight: its rows in the node table are its nodes in order. */
export interface LiveGraph {
  readonly id: number;
  numNodes: number;
  readonly nodeTypes: number[];
  /** Undirected edges in the order they were added, and their types. */
  readonly edges: Array<[number, number]>;
  readonly edgeTypes: number[];
  /** Under a planned size (docs/design.md, 'Planned size'), the size n the graph is built to; absent: none. */
  readonly plannedSize?: number;
}

export interface PropPlan {
  /** Rows of the previous node table gathered for propagation (all nodes of the graphs that added an edge). */
  readonly rows: Int32Array;
  /** Directed edges local to `rows`, both directions of each undirected edge. */
  readonly src: Int32Array;
  readonly dst: Int32Array;
  /** In-degree of every gathered row, and its in-edges of each of the B types (rows x B). */
  readonly deg: Float32Array;
  readonly typeCount: Float32Array;
}

export interface StepPlan {
  readonly prop: PropPlan | null;
  /** For each node added in this step, its graph's row in the previous step's graph embeddings. */
  readonly init: Int32Array | null;
  /** The type of each node added in this step. */
  readonly initType: Int32Array | null;
  /** n - |V| after each node added in this step, its graph's planned size n less its nodes with it (0 without a planned size). */
  readonly initRemaining: Int32Array | null;
  /** Source of every row of the new node table in concat([previous table, propagated rows, new nodes]). */
  readonly assemble: Int32Array;
  /** Row of the new graph-embedding table that each new node row sums into. */
  readonly graphOfRow: Int32Array;
  readonly numGraphs: number;
}

/**
 * Applies one event to each live graph (null: the graph is finished and leaves the batch) and
 * returns the index plan of that step, for a model of `edgeTypes` edge types. Mutates the graphs;
 * returns those still live, in order. Sizes are counted first so that every index array is filled
 * in place (the sampler plans a step per decision round).
 */
export function planStep(live: readonly LiveGraph[], events: ReadonlyArray<GraphEvent | null>, edgeTypes: number): { plan: StepPlan; next: LiveGraph[] } {
  let prevRows = 0;
  let propCount = 0;
  let edgeCount = 0;
  let initCount = 0;
  let rowCount = 0;
  live.forEach((g, slot) => {
    const ev = events[slot];
    prevRows += g.numNodes;
    if (ev === null) return;
    if (ev.kind === 'edge') {
      g.edges.push([ev.src, ev.dst]);
      g.edgeTypes.push(ev.type);
      propCount += g.numNodes;
      edgeCount += 2 * g.edges.length;
    } else initCount++;
    rowCount += g.numNodes + (ev.kind === 'node' ? 1 : 0);
  });
  const rows = new Int32Array(propCount);
  const src = new Int32Array(edgeCount);
  const dst = new Int32Array(edgeCount);
  const deg = new Float32Array(propCount);
  const typeCount = new Float32Array(propCount * edgeTypes);
  const init = new Int32Array(initCount);
  const initType = new Int32Array(initCount);
  const initRemaining = new Int32Array(initCount);
  const assemble = new Int32Array(rowCount);
  const graphOfRow = new Int32Array(rowCount);
  const next: LiveGraph[] = [];
  // rows of concat([previous table, propagated rows, new nodes]) (see StepPlan.assemble)
  const newNodeBase = prevRows + propCount;
  let base = 0;
  let local = 0;
  let e = 0;
  let newNodes = 0;
  let r = 0;
  live.forEach((g, slot) => {
    const ev = events[slot];
    const oldBase = base;
    base += g.numNodes;
    if (ev === null) return;
    if (ev.kind === 'edge') {
      g.edges.forEach(([a, b], j) => {
        src[e] = local + a;
        dst[e++] = local + b;
        src[e] = local + b;
        dst[e++] = local + a;
        deg[local + a]++;
        deg[local + b]++;
        typeCount[(local + a) * edgeTypes + g.edgeTypes[j]]++;
        typeCount[(local + b) * edgeTypes + g.edgeTypes[j]]++;
      });
      for (let j = 0; j < g.numNodes; j++) {
        rows[local + j] = oldBase + j;
        assemble[r++] = prevRows + local + j;
      }
      local += g.numNodes;
    } else {
      for (let j = 0; j < g.numNodes; j++) assemble[r++] = oldBase + j;
      init[newNodes] = slot;
      initType[newNodes] = ev.type;
      g.nodeTypes.push(ev.type);
      g.numNodes++;
      initRemaining[newNodes] = g.plannedSize === undefined ? 0 : g.plannedSize - g.numNodes;
      assemble[r++] = newNodeBase + newNodes++;
    }
    graphOfRow.fill(next.length, r - g.numNodes, r);
    next.push(g);
  });

  const plan: StepPlan = {
    prop: propCount ? { rows, src, dst, deg, typeCount } : null,
    init: initCount ? init : null,
    initType: initCount ? initType : null,
    initRemaining: initCount ? initRemaining : null,
    assemble,
    graphOfRow,
    numGraphs: next.length,
  };
  return { plan, next };
}

/** Add-node or add-edge decisions, each read at one row of the graph-embedding table (and of the node table). */
export interface OutcomeDecisionRows {
  readonly hgRow: Int32Array;
  /** Newest node's row in the node table (add-edge only). */
  readonly hRow: Int32Array;
  /** |V|, the graph's nodes before the decision (add-node only; the node-count input reads it). */
  readonly nodes: Int32Array;
  /** The decision token: a type, or the number of types for stop. */
  readonly token: Int32Array;
  readonly graph: Int32Array;
  /** Under a model's rules (add-edge only): the actions each decision may choose, bit b for type b and bit B for stop. Null: every action. */
  readonly allowed: Int32Array | null;
}

/**
 * Under a joint edge choice (docs/design.md, 'Joint edge choice'): for every add-edge decision e
 * and edge type b, the candidates its logit sums over, rows start[e·B + b] .. start[e·B + b + 1]
 * of uRow (the node table rows of the destinations that type b could choose; none for a type the
 * rules remove). The source row is the decision's hRow.
 */
export interface EdgeCandidateRows {
  readonly uRow: Int32Array;
  readonly start: Int32Array;
  /** With a destination-distance term: kappa(u, v) of every candidate; null: no term. */
  readonly bucket: Int32Array | null;
}

export interface DestDecisionRows {
  /** Candidate u and source v rows of every (u, v) pair, in segments of one decision each. */
  readonly uRow: Int32Array;
  readonly vRow: Int32Array;
  readonly segment: Int32Array;
  /** Index of the chosen pair for every segment. */
  readonly chosen: Int32Array;
  /** Graph of every segment. */
  readonly graph: Int32Array;
  /** Edge type of every segment (its add-edge token), which picks the score column. */
  readonly type: Int32Array;
  /** With a destination-distance term (model/distance.ts): kappa(u, v) of every pair; null: no term. */
  readonly bucket: Int32Array | null;
}

/**
 * A compiled batch. Graph-embedding table = concat of the per-stage tables hG_0..hG_K (hG_0: the
 * empty graph of every batch member); node table = concat of H_1..H_K.
 */
export interface Schedule {
  readonly numGraphs: number;
  /** Every graph's node count n (a planned size's n: docs/design.md, 'Planned size'). */
  readonly sizes: Int32Array;
  readonly steps: readonly StepPlan[];
  readonly addNode: OutcomeDecisionRows;
  readonly addEdge: OutcomeDecisionRows;
  readonly chooseDest: DestDecisionRows;
  /** Under a joint edge choice, the candidates of every add-edge decision; null: DGMG's add-edge. */
  readonly addEdgeCandidates: EdgeCandidateRows | null;
}

interface GraphWalk {
  events: GraphEvent[];
  addNode: Array<{ stage: number; d: number; nodes: number }>;
  /** `allowed`: the actions the decision may choose, bit b for type b and bit B for stop; -1 (all bits) without rules. */
  addEdge: Array<{ stage: number; v: number; d: number; allowed: number }>;
  /** `candidates`: the earlier nodes the decision may choose, in order, and `dest` indexes them; null: every earlier node. */
  chooseDest: Array<{ stage: number; v: number; dest: number; type: number; candidates: Int32Array | null }>;
  /** Under a destination-distance term: kappa of every candidate of every chooseDest entry, in order. */
  buckets: number[];
  /**
   * Under a joint edge choice: for every addEdge entry and type b, edgeCounts[e·B + b] candidates,
   * listed in order in edgeCandidates, with their kappa in edgeBuckets under a distance term.
   */
  edgeCandidates: number[];
  edgeCounts: number[];
  edgeBuckets: number[];
}

/**
 * Splits one valid decision sequence (decodeDecisions accepts it) into its events and the stage
 * each decision reads, and, under a model's rules (model/rules.ts), the actions each decision may
 * choose. A decision left with a single action has probability 1 and adds no term (a destination
 * with one candidate, an add-edge whose types all exceed a valence or that must add an edge); an
 * action the rules remove is refused. With `distance` D >= 1, the bucket of each candidate's
 * distance from v in the graph as it stands at the decision (teacher forcing knows the whole
 * history, so it is exact). With `joint`, every add-edge decision also lists, per type, the
 * destinations it could choose; a type with none is removed, so the first node's add-edge, which
 * has no earlier node, is forced to "no more edges".
 */
function walk(s: Decisions, types: TypeCounts, rules: ModelRules | null, distance: number, joint: boolean): GraphWalk {
  const w: GraphWalk = { events: [], addNode: [], addEdge: [], chooseDest: [], buckets: [], edgeCandidates: [], edgeCounts: [], edgeBuckets: [] };
  // each node takes at least two tokens (its type and its "no more edges"), each edge two
  const maxNodes = s.length >> 1;
  const set = rules ? rules.start(maxNodes) : null;
  const scratch = set ? new Int32Array(maxNodes) : null;
  const listed = joint && set ? new Int32Array(maxNodes) : null;
  const graph = distance > 0 ? new GrowingGraph(maxNodes, maxNodes) : null;
  const measure = (v: number, count: number, candidates: Int32Array | null): void => {
    if (!graph) return;
    const dist = graph.distancesFrom(v);
    for (let j = 0; j < count; j++) w.buckets.push(distanceBucket(dist[candidates ? candidates[j] : j], distance));
  };
  const listCandidates = (v: number, allowed: number): void => {
    const dist = graph ? graph.distancesFrom(v) : null;
    for (let b = 0; b < types.edgeTypes; b++) {
      let count = 0;
      if (allowed & (1 << b)) {
        count = set && listed ? set.candidates(b, listed) : v;
        for (let j = 0; j < count; j++) {
          const u = listed ? listed[j] : j;
          w.edgeCandidates.push(u);
          if (dist) w.edgeBuckets.push(distanceBucket(dist[u], distance));
        }
      }
      w.edgeCounts.push(count);
    }
  };
  let i = 0;
  let nodes = 0;
  for (;;) {
    const addNode = s[i++];
    // a rule that joins every node stops a graph none of whose nodes has room left: forced, no term
    if (!set || set.mayAddNode()) w.addNode.push({ stage: w.events.length, d: addNode, nodes });
    else if (addNode !== types.nodeTypes) throw new SequenceError(i - 1, `add-node type ${addNode} ${set.whyNotNode()}`);
    if (addNode === types.nodeTypes) return w;
    w.events.push({ kind: 'node', type: addNode });
    set?.addNode(addNode);
    graph?.addNode();
    const v = nodes++;
    for (;;) {
      const addEdge = s[i++];
      // -1: every bit set, every type allowed (constraintsProblem keeps the types within the bits);
      // jointly, a type needs a destination, and without rules the first node has none
      const allowed = set ? set.allowedEdgeTypes() : joint && v === 0 ? 0 : -1;
      // with no type left the node must stop, whatever a rule that forbids stopping says
      const mayStop = !set || allowed === 0 || set.mayStop();
      if (set && addEdge < types.edgeTypes && !(allowed & (1 << addEdge))) {
        throw new SequenceError(i - 1, `add-edge type ${addEdge} for node ${v} ${set.whyNotType(addEdge)}`);
      }
      if (set && addEdge === types.edgeTypes && !mayStop) throw new SequenceError(i - 1, `"no more edges" for node ${v} ${set.whyNotStop()}`);
      // a decision with one action left is forced and adds no term; stop is bit B of the mask
      if (mayStop ? allowed !== 0 : (allowed & (allowed - 1)) !== 0) {
        w.addEdge.push({ stage: w.events.length, v, d: addEdge, allowed: mayStop ? allowed | (1 << types.edgeTypes) : allowed });
        if (joint) listCandidates(v, allowed);
      }
      if (addEdge === types.edgeTypes) break;
      const dest = s[i++];
      if (set && scratch) {
        const count = set.candidates(addEdge, scratch);
        let at = count - 1;
        while (at >= 0 && scratch[at] !== dest) at--;
        if (at < 0) throw new SequenceError(i - 1, `destination ${dest} of node ${v} ${set.whyNotDest(dest, addEdge)}`);
        if (count > 1) {
          const candidates = count === v ? null : scratch.slice(0, count);
          w.chooseDest.push({ stage: w.events.length, v, dest: at, type: addEdge, candidates });
          measure(v, count, candidates);
        }
        set.addEdge(v, dest, addEdge);
      } else if (v >= 2) {
        w.chooseDest.push({ stage: w.events.length, v, dest, type: addEdge, candidates: null });
        measure(v, v, null);
      }
      graph?.addEdge(v, dest);
      w.events.push({ kind: 'edge', src: v, dst: dest, type: addEdge });
    }
  }
}

/**
 * The most sequences, and bytes, the walk cache holds; a walk's bytes are estimated at 64 per
 * event or decision (a small object) and 4 per candidate listed or bucket.
 */
const WALK_CACHE = { sequences: 4096, bytes: 64 * 2 ** 20 };
const walkCache = new Map<string, { walk: GraphWalk; bytes: number }>();
let cachedBytes = 0;

/**
 * walk() under rules worth caching (the planarity tests of a structural constraint), remembered
 * per rules, distance and sequence: teacher forcing gives the same sequences every epoch, and a
 * walk is a function of the sequence, the type counts, the rules, D and the joint choice alone (docs/design.md,
 * 'Structural constraints'), so a cached walk is the walk. The oldest go first past WALK_CACHE.
 */
function cachedWalk(s: Decisions, types: TypeCounts, rules: ModelRules | null, distance: number, joint: boolean): GraphWalk {
  if (!rules?.cacheKey) return walk(s, types, rules, distance, joint);
  const key = `${rules.cacheKey};${distance};${joint};${types.nodeTypes},${types.edgeTypes};${s.join(',')}`;
  const hit = walkCache.get(key);
  if (hit) return hit.walk;
  const w = walk(s, types, rules, distance, joint);
  let bytes = 64 * (w.events.length + w.addNode.length + w.addEdge.length + w.chooseDest.length) + 4 * (w.buckets.length + w.edgeCandidates.length + w.edgeCounts.length + w.edgeBuckets.length);
  for (const c of w.chooseDest) bytes += c.candidates ? 4 * c.candidates.length : 0;
  if (bytes > WALK_CACHE.bytes) return w;
  for (const [k, old] of walkCache) {
    if (walkCache.size < WALK_CACHE.sequences && cachedBytes + bytes <= WALK_CACHE.bytes) break;
    walkCache.delete(k);
    cachedBytes -= old.bytes;
  }
  walkCache.set(key, { walk: w, bytes });
  cachedBytes += bytes;
  return w;
}

/**
 * Compiles B decision sequences (for `types` node and edge types) into the plan of every step and
 * the table rows of every decision, under a model's rules (model/rules.ts) the actions each
 * decision may choose, with `distance` D >= 1 the distance bucket of every destination
 * candidate, and with `joint` the candidates of every add-edge decision. A malformed sequence, or
 * one that takes an action the rules remove, is refused with its position and reason (SequenceError).
 */
export function compileSchedule(seqs: readonly Decisions[], types: TypeCounts = UNTYPED, rules: ModelRules | null = null, distance = 0, joint = false): Schedule {
  for (const s of seqs) decodeDecisions(s, types);
  const walks = seqs.map((s) => cachedWalk(s, types, rules, distance, joint));
  const B = seqs.length;
  // slotAt[k][g] / baseAt[k][g]: graph g's row in hG_k and its first row in H_k (-1: not live)
  const slotAt: Int32Array[] = [Int32Array.from({ length: B }, (_, g) => g)];
  const baseAt: Int32Array[] = [new Int32Array(B)];
  const hgOffset = [0];
  const hOffset = [0, 0];
  const steps: StepPlan[] = [];
  // every graph is built to its own size: the teacher knows it (the planned size's n, read by the new nodes' states)
  const sizes = Int32Array.from(walks, (w) => w.addNode.length - 1);
  let live: LiveGraph[] = walks.map((_, g) => ({ id: g, numNodes: 0, nodeTypes: [], edges: [], edgeTypes: [], plannedSize: sizes[g] }));
  for (let k = 1; live.length; k++) {
    const events = live.map((g) => walks[g.id].events[k - 1] ?? null);
    if (events.every((e) => e === null)) break;
    const { plan, next } = planStep(live, events, types.edgeTypes);
    steps.push(plan);
    live = next;
    const slot = new Int32Array(B).fill(-1);
    const base = new Int32Array(B).fill(-1);
    let rows = 0;
    live.forEach((g, i) => {
      slot[g.id] = i;
      base[g.id] = rows;
      rows += g.numNodes;
    });
    slotAt.push(slot);
    baseAt.push(base);
    hgOffset.push(hgOffset[k - 1] + (k === 1 ? B : steps[k - 2].numGraphs));
    hOffset.push(hOffset[k] + rows);
  }

  const hg = (g: number, k: number): number => hgOffset[k] + slotAt[k][g];
  const h = (g: number, k: number, v: number): number => hOffset[k] + baseAt[k][g] + v;
  // counted first, then filled in place: a shard's decision rows are tens of thousands of entries
  let addNodes = 0;
  let addEdges = 0;
  let dests = 0;
  let pairs = 0;
  let listedCandidates = 0;
  for (const w of walks) {
    listedCandidates += w.edgeCandidates.length;
    addNodes += w.addNode.length;
    addEdges += w.addEdge.length;
    dests += w.chooseDest.length;
    for (const c of w.chooseDest) pairs += c.candidates ? c.candidates.length : c.v;
  }
  const outcomeRows = (n: number, newestNode: boolean, masked: boolean): OutcomeDecisionRows => ({
    hgRow: new Int32Array(n),
    hRow: new Int32Array(newestNode ? n : 0),
    nodes: new Int32Array(newestNode ? 0 : n),
    token: new Int32Array(n),
    graph: new Int32Array(n),
    allowed: masked ? new Int32Array(n) : null,
  });
  const addNode = outcomeRows(addNodes, false, false);
  const addEdge = outcomeRows(addEdges, true, rules !== null);
  const E = types.edgeTypes;
  const addEdgeCandidates: EdgeCandidateRows | null = joint
    ? { uRow: new Int32Array(listedCandidates), start: new Int32Array(addEdges * E + 1), bucket: distance > 0 ? new Int32Array(listedCandidates) : null }
    : null;
  const chooseDest: DestDecisionRows = {
    uRow: new Int32Array(pairs),
    vRow: new Int32Array(pairs),
    segment: new Int32Array(pairs),
    chosen: new Int32Array(dests),
    graph: new Int32Array(dests),
    type: new Int32Array(dests),
    bucket: distance > 0 ? new Int32Array(pairs) : null,
  };
  let n = 0;
  let e = 0;
  let seg = 0;
  let pair = 0;
  let listed = 0;
  walks.forEach((w, g) => {
    // a walk's buckets are its pairs in the order they are laid out below, and so are its listed candidates
    chooseDest.bucket?.set(w.buckets, pair);
    addEdgeCandidates?.bucket?.set(w.edgeBuckets, listed);
    let at = 0;
    for (const a of w.addNode) {
      addNode.hgRow[n] = hg(g, a.stage);
      addNode.token[n] = a.d;
      addNode.nodes[n] = a.nodes;
      addNode.graph[n++] = g;
    }
    w.addEdge.forEach((a, j) => {
      if (addEdgeCandidates) {
        for (let b = 0; b < E; b++) {
          addEdgeCandidates.start[e * E + b] = listed;
          for (let c = 0; c < w.edgeCounts[j * E + b]; c++) addEdgeCandidates.uRow[listed++] = h(g, a.stage, w.edgeCandidates[at++]);
        }
      }
      addEdge.hgRow[e] = hg(g, a.stage);
      addEdge.hRow[e] = h(g, a.stage, a.v);
      addEdge.token[e] = a.d;
      if (addEdge.allowed) addEdge.allowed[e] = a.allowed;
      addEdge.graph[e++] = g;
    });
    for (const c of w.chooseDest) {
      chooseDest.chosen[seg] = pair + c.dest;
      const count = c.candidates ? c.candidates.length : c.v;
      for (let j = 0; j < count; j++) {
        chooseDest.uRow[pair] = h(g, c.stage, c.candidates ? c.candidates[j] : j);
        chooseDest.vRow[pair] = h(g, c.stage, c.v);
        chooseDest.segment[pair++] = seg;
      }
      chooseDest.graph[seg] = g;
      chooseDest.type[seg++] = c.type;
    }
  });
  if (addEdgeCandidates) addEdgeCandidates.start[addEdges * E] = listed;
  return { numGraphs: B, sizes, steps, addNode, addEdge, chooseDest, addEdgeCandidates };
}
