import { Graph, adjacency } from './graph';
import { Rng } from './random';

/**
 * A graph family to train on: how to draw one graph, and whether a graph belongs to it (its
 * validity, docs/design.md, 'Measures').
 */
export interface Family {
  readonly name: string;
  sample(rng: Rng): Graph;
  isValid(g: Graph): boolean;
}

type Edge = readonly [number, number];

/**
 * The cycle 0-1-...-(k-1)-0 with each node's edges to earlier nodes listed in the order the
 * public DGL example adds them: (1,0), (2,1), ..., (k-1,k-2), (k-1,0).
 */
export function cycleGraph(k: number): Graph {
  if (!Number.isInteger(k) || k < 3) throw new Error(`cycleGraph: a cycle needs an integer k >= 3, got ${k}`);
  const edges: Edge[] = [];
  for (let i = 1; i < k; i++) edges.push([i, i - 1]);
  edges.push([k - 1, 0]);
  return { numNodes: k, edges };
}

/** A uniformly random labelled tree on n nodes: a uniform Prüfer sequence, decoded in linear time. */
export function randomTree(n: number, rng: Rng): Graph {
  if (!Number.isInteger(n) || n < 1) throw new Error(`randomTree: n must be an integer >= 1, got ${n}`);
  if (n === 1) return { numNodes: 1, edges: [] };
  const prufer = Array.from({ length: n - 2 }, () => rng.int(0, n - 1));
  const degree = new Int32Array(n).fill(1);
  for (const v of prufer) degree[v]++;
  let next = degree.indexOf(1);
  let leaf = next;
  const edges: Edge[] = [];
  for (const v of prufer) {
    edges.push([leaf, v]);
    degree[leaf]--;
    if (--degree[v] === 1 && v < next) {
      leaf = v;
    } else {
      do next++;
      while (degree[next] !== 1);
      leaf = next;
    }
  }
  edges.push([leaf, n - 1]);
  return { numNodes: n, edges };
}

/** The rows x cols grid, node r * cols + c, each node's edges to its left and upper neighbours listed with it. */
export function gridGraph(rows: number, cols: number): Graph {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new Error(`gridGraph: sides must be integers >= 1, got ${rows} x ${cols}`);
  }
  const edges: Edge[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = r * cols + c;
      if (c > 0) edges.push([v, v - 1]);
      if (r > 0) edges.push([v, v - cols]);
    }
  }
  return { numNodes: rows * cols, edges };
}

/** The ladder with `rungs` rungs: the 2 x rungs grid, two rails 0..rungs-1 and rungs..2*rungs-1. */
export function ladderGraph(rungs: number): Graph {
  return gridGraph(2, rungs);
}

/**
 * A random lobster as networkx's random_lobster_graph draws it (GraphRNN's lobster data set): a
 * backbone path of round(2 * U * meanBackbone) nodes, U uniform in [0, 1); every backbone node
 * gets a geometric number of first-level nodes (go on with probability p1), and each of those a
 * geometric number of leaves (go on with probability p2).
 */
export function randomLobster(meanBackbone: number, p1: number, p2: number, rng: Rng): Graph {
  if (!(meanBackbone > 0) || !(p1 >= 0 && p1 < 1) || !(p2 >= 0 && p2 < 1)) {
    throw new Error(`randomLobster: need meanBackbone > 0 and 0 <= p1, p2 < 1, got ${meanBackbone}, ${p1}, ${p2}`);
  }
  const backbone = Math.floor(2 * rng.uniform() * meanBackbone + 0.5);
  const edges: Edge[] = [];
  for (let i = 1; i < backbone; i++) edges.push([i, i - 1]);
  let last = backbone - 1;
  for (let b = 0; b < backbone; b++) {
    while (rng.uniform() < p1) {
      const arm = ++last;
      edges.push([arm, b]);
      while (rng.uniform() < p2) edges.push([++last, arm]);
    }
  }
  return { numNodes: last + 1, edges };
}

const MAX_TRIES = 10000;

/**
 * A connected two-community graph (GraphRNN's community data): Erdős–Rényi G(floor(n/2), pIntra)
 * on nodes 0..floor(n/2)-1 and G(ceil(n/2), pIntra) on the rest, joined by `interEdges` distinct
 * edges drawn uniformly between the halves; drawn again until connected.
 */
export function twoCommunityGraph(n: number, pIntra: number, interEdges: number, rng: Rng): Graph {
  const half = Math.floor(n / 2);
  if (!Number.isInteger(n) || n < 2 || !(pIntra > 0 && pIntra <= 1) || !Number.isInteger(interEdges) || interEdges < 1 || interEdges > half * (n - half)) {
    throw new Error(`twoCommunityGraph: need integer n >= 2, 0 < pIntra <= 1 and 1 <= interEdges <= ${half * (n - half)}, got ${n}, ${pIntra}, ${interEdges}`);
  }
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const edges: Edge[] = [...erdosRenyi(0, half, pIntra, rng), ...erdosRenyi(half, n, pIntra, rng)];
    const chosen = new Set<number>();
    while (chosen.size < interEdges) {
      const u = rng.int(0, half - 1);
      const v = rng.int(half, n - 1);
      if (chosen.has(u * n + v)) continue;
      chosen.add(u * n + v);
      edges.push([v, u]);
    }
    const g = { numNodes: n, edges };
    if (isConnected(g)) return g;
  }
  throw new Error(`twoCommunityGraph: no connected graph in ${MAX_TRIES} draws with n=${n}, pIntra=${pIntra}; raise pIntra`);
}

function erdosRenyi(from: number, to: number, p: number, rng: Rng): Edge[] {
  const edges: Edge[] = [];
  for (let v = from + 1; v < to; v++) {
    for (let u = from; u < v; u++) {
      if (rng.uniform() < p) edges.push([v, u]);
    }
  }
  return edges;
}

/** Whether every node is reachable from every other; the graph with no nodes does not count as connected. */
export function isConnected(g: Graph): boolean {
  return g.numNodes > 0 && distancesFrom(adjacency(g), 0).every((d) => d >= 0);
}

/** BFS hop counts from `root`; -1 for nodes it cannot reach. */
function distancesFrom(adj: readonly number[][], root: number): Int32Array {
  const dist = new Int32Array(adj.length).fill(-1);
  const queue = [root];
  dist[root] = 0;
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of adj[v]) {
      if (dist[w] < 0) {
        dist[w] = dist[v] + 1;
        queue.push(w);
      }
    }
  }
  return dist;
}

const degrees = (g: Graph): number[] => adjacency(g).map((ns) => ns.length);

function isTree(g: Graph): boolean {
  return g.edges.length === g.numNodes - 1 && isConnected(g);
}

/**
 * The sides [short, long] when `g` is a grid with both sides >= 2, else undefined. A grid has
 * exactly four degree-2 corners; from one corner c the others lie at hop distances x, y and x + y
 * (x <= y), and hop distances d1 from c and d2 from the corner at distance x give every node its
 * coordinates: row (d1 + d2 - x) / 2, column (d1 - d2 + x) / 2. Along an edge d1 and d2 change by
 * at most one each and, for integer coordinates, by the same parity, so every edge joins
 * coordinates one step apart; a bijection onto the (y+1) x (x+1) grid with the grid's edge count
 * therefore has exactly the grid's edges.
 */
function gridShape(g: Graph): readonly [number, number] | undefined {
  const adj = adjacency(g);
  const corners = adj.flatMap((ns, v) => (ns.length === 2 ? [v] : []));
  if (corners.length !== 4) return undefined;
  const fromCorner = distancesFrom(adj, corners[0]);
  const [x, y, z] = corners.slice(1).map((c) => fromCorner[c]).sort((a, b) => a - b);
  const cols = x + 1;
  const rows = y + 1;
  if (x < 1 || z !== x + y || rows * cols !== g.numNodes || g.edges.length !== rows * (cols - 1) + cols * (rows - 1)) return undefined;
  const fromSecond = distancesFrom(adj, corners.find((c) => fromCorner[c] === x) as number);
  const taken = new Uint8Array(g.numNodes);
  for (let v = 0; v < g.numNodes; v++) {
    const twiceRow = fromCorner[v] + fromSecond[v] - x;
    const twiceCol = fromCorner[v] - fromSecond[v] + x;
    if (fromCorner[v] < 0 || twiceRow % 2 !== 0 || twiceRow < 0 || twiceCol < 0 || twiceRow > 2 * y || twiceCol > 2 * x) return undefined;
    const cell = (twiceRow / 2) * cols + twiceCol / 2;
    if (taken[cell]) return undefined;
    taken[cell] = 1;
  }
  return [cols, rows];
}

/** A tree that becomes a path (or nothing) once its leaves are removed twice. */
function isLobster(g: Graph): boolean {
  if (!isTree(g)) return false;
  const adj = adjacency(g);
  let alive = Array.from({ length: g.numNodes }, () => true);
  const liveDegree = (v: number): number => adj[v].filter((w) => alive[w]).length;
  for (let round = 0; round < 2; round++) {
    alive = alive.map((a, v) => a && liveDegree(v) !== 1);
  }
  return alive.every((a, v) => !a || liveDegree(v) <= 2);
}

type Params = Readonly<Record<string, number>>;

interface ParamSpec {
  readonly default: number;
  readonly rule: string;
  readonly ok: (x: number) => boolean;
}

const integerAtLeast = (lo: number, byDefault: number): ParamSpec => ({
  default: byDefault,
  rule: `an integer >= ${lo}`,
  ok: (x) => Number.isInteger(x) && x >= lo,
});

const probability = (byDefault: number, includeOne: boolean): ParamSpec => ({
  default: byDefault,
  rule: includeOne ? 'in [0, 1]' : 'in [0, 1)',
  ok: (x) => x >= 0 && (includeOne ? x <= 1 : x < 1),
});

interface FamilySpec {
  readonly params: Readonly<Record<string, ParamSpec>>;
  make(p: Params): Omit<Family, 'name'>;
}

const inRange = (n: number, p: Params): boolean => n >= p.minNodes && n <= p.maxNodes;

const FAMILIES: Readonly<Record<string, FamilySpec>> = {
  // A single cycle; defaults as in the DGL example and the paper.
  cycles: {
    params: { minNodes: integerAtLeast(3, 10), maxNodes: integerAtLeast(3, 20) },
    make: (p) => ({
      sample: (rng) => cycleGraph(rng.int(p.minNodes, p.maxNodes)),
      isValid: (g) => inRange(g.numNodes, p) && degrees(g).every((d) => d === 2) && isConnected(g),
    }),
  },
  trees: {
    params: { minNodes: integerAtLeast(1, 10), maxNodes: integerAtLeast(1, 20) },
    make: (p) => ({
      sample: (rng) => randomTree(rng.int(p.minNodes, p.maxNodes), rng),
      isValid: (g) => inRange(g.numNodes, p) && isTree(g),
    }),
  },
  // Both sides drawn independently, as GraphRNN's grid data set takes every pair of sides.
  grids: {
    params: { minSide: integerAtLeast(2, 3), maxSide: integerAtLeast(2, 6) },
    make: (p) => ({
      sample: (rng) => gridGraph(rng.int(p.minSide, p.maxSide), rng.int(p.minSide, p.maxSide)),
      isValid: (g) => {
        const shape = gridShape(g);
        return shape !== undefined && shape[0] >= p.minSide && shape[1] <= p.maxSide;
      },
    }),
  },
  ladders: {
    params: { minRungs: integerAtLeast(2, 5), maxRungs: integerAtLeast(2, 10) },
    make: (p) => ({
      sample: (rng) => ladderGraph(rng.int(p.minRungs, p.maxRungs)),
      isValid: (g) => {
        const shape = gridShape(g);
        return shape !== undefined && shape[0] === 2 && shape[1] >= p.minRungs && shape[1] <= p.maxRungs;
      },
    }),
  },
  // networkx's generator with GraphRNN's p1 = p2 = 0.7, redrawn until the size is in range; a
  // mean backbone of 4 gives about 9 nodes per backbone node, so most draws land in 10..40.
  lobsters: {
    params: {
      meanBackbone: { default: 4, rule: 'a number > 0', ok: (x) => x > 0 },
      p1: probability(0.7, false),
      p2: probability(0.7, false),
      minNodes: integerAtLeast(1, 10),
      maxNodes: integerAtLeast(1, 40),
    },
    make: (p) => ({
      sample: (rng) => {
        for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
          const g = randomLobster(p.meanBackbone, p.p1, p.p2, rng);
          if (inRange(g.numNodes, p)) return g;
        }
        throw new Error(`lobsters: no lobster with ${p.minNodes}..${p.maxNodes} nodes in ${MAX_TRIES} draws; adjust meanBackbone`);
      },
      isValid: (g) => inRange(g.numNodes, p) && isLobster(g),
    }),
  },
  // GraphRNN's community: halves G(n/2, 0.3), 0.05 n inter-community edges (at least one).
  community: {
    params: {
      minNodes: integerAtLeast(2, 12),
      maxNodes: integerAtLeast(2, 20),
      pIntra: { default: 0.3, rule: 'in (0, 1]', ok: (x) => x > 0 && x <= 1 },
      interFraction: probability(0.05, true),
    },
    make: (p) => ({
      sample: (rng) => {
        const n = rng.int(p.minNodes, p.maxNodes);
        const half = Math.floor(n / 2);
        const interEdges = Math.min(half * (n - half), Math.max(1, Math.round(p.interFraction * n)));
        return twoCommunityGraph(n, p.pIntra, interEdges, rng);
      },
      isValid: (g) => inRange(g.numNodes, p) && isConnected(g),
    }),
  },
};

export const FAMILY_NAMES: readonly string[] = Object.keys(FAMILIES);

/**
 * The family `name` with `params` over its defaults. Unknown names and parameters, values that
 * break a parameter's rule, and min/max pairs the wrong way round are refused with the known
 * alternatives in the message.
 */
export function makeFamily(name: string, params: Params = {}): Family {
  const spec = Object.prototype.hasOwnProperty.call(FAMILIES, name) ? FAMILIES[name] : undefined;
  if (spec === undefined) throw new Error(`unknown graph family ${JSON.stringify(name)}; known: ${FAMILY_NAMES.join(', ')}`);
  const known = Object.keys(spec.params);
  const p: Record<string, number> = {};
  for (const [key, rule] of Object.entries(spec.params)) p[key] = rule.default;
  for (const [key, value] of Object.entries(params)) {
    if (!known.includes(key)) throw new Error(`family ${name}: unknown parameter ${JSON.stringify(key)}; known: ${known.join(', ')}`);
    const rule = spec.params[key];
    if (typeof value !== 'number' || !rule.ok(value)) throw new Error(`family ${name}: ${key} must be ${rule.rule}, got ${value}`);
    p[key] = value;
  }
  for (const key of known) {
    const max = `max${key.slice(3)}`;
    if (key.startsWith('min') && max in p && p[key] > p[max]) throw new Error(`family ${name}: ${key} = ${p[key]} exceeds ${max} = ${p[max]}`);
  }
  return { name, ...spec.make(p) };
}
