import { canonicalLabelling } from './canonical';
import { Graph, adjacency } from './graph';
import { Rng } from './random';

export const ORDER_KINDS = ['natural', 'bfs', 'dfs', 'ring-dfs', 'path', 'random', 'random-dfs', 'random-ring-dfs'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

/** The orders drawn afresh at every visit of a graph in training (from an Rng), not fixed by the graph. */
export function drawnPerVisit(kind: OrderKind): boolean {
  return kind === 'random' || kind === 'random-dfs' || kind === 'random-ring-dfs';
}

/**
 * The fixed order that stands in for a drawn one where one sequence per graph is needed (the
 * held-out likelihood, the checks of a graph against the model's rules): `natural` for `random`,
 * canonical `dfs` for `random-dfs` and canonical `ring-dfs` for `random-ring-dfs` (DFS orders too,
 * so every rule a random DFS keeps holds under them).
 */
export function fixedOrder(kind: OrderKind): OrderKind {
  if (kind === 'random') return 'natural';
  if (kind === 'random-dfs') return 'dfs';
  if (kind === 'random-ring-dfs') return 'ring-dfs';
  return kind;
}

/**
 * A node order for encodeGraph: entry i is the node placed at position i. BFS and DFS depend on
 * the graph only, never on its labelling: they read the nodes in canonical order
 * (graphs/canonical.ts), start at a node of least degree (the first such in canonical order),
 * visit neighbours in canonical order, and restart the same way for every further component. So
 * isomorphic graphs get the same decision sequence whatever ids a file gives their nodes, and the
 * model learns one sequence per graph instead of one per labelling.
 *
 * `path` places a longest path of each component first and then the rest by DFS from the path's
 * nodes in path order: for trees grown off a backbone (lobsters, caterpillars) the model then
 * writes the backbone before its arms, as the generator does, instead of interleaving them as a
 * traversal from a leaf does. Measured on lobsters (50 epochs, vMax 40): the generator's
 * backbone-first labelling gave 97.5% valid, DFS from a leaf 93.4%.
 *
 * `random-dfs` is a DFS from a random root with neighbours visited in random order, drawn afresh
 * at every visit (the graph form of randomized SMILES): each node after a component's first joins
 * an earlier one, as in canonical DFS, but the model sees many sequences of each graph and cannot
 * learn a training graph as one memorised sequence (docs/design.md, 'Node orders').
 *
 * `ring-dfs` and `random-ring-dfs` are `dfs` and `random-dfs` that, at every node, follow the
 * edges on a cycle before the bridges: a ring is closed before the search leaves it for a side
 * chain, so the model never has to come back to a half-built ring after writing a substituent
 * (docs/design.md, 'Node orders').
 */
export function nodeOrder(g: Graph, kind: OrderKind, rng?: Rng): number[] {
  switch (kind) {
    case 'natural':
      return Array.from({ length: g.numNodes }, (_, i) => i);
    case 'bfs':
      return traverse(g, bfsFrom, false);
    case 'dfs':
      return traverse(g, dfsFrom, false);
    case 'ring-dfs':
      return traverse(g, dfsFrom, true);
    case 'path':
      return traverse(g, pathFrom, false);
    case 'random':
      if (rng === undefined) throw new Error('nodeOrder: the random order needs an Rng');
      return rng.permutation(g.numNodes);
    case 'random-dfs':
      if (rng === undefined) throw new Error('nodeOrder: the random-dfs order needs an Rng');
      return randomDfs(g, rng, false);
    case 'random-ring-dfs':
      if (rng === undefined) throw new Error('nodeOrder: the random-ring-dfs order needs an Rng');
      return randomDfs(g, rng, true);
    default:
      throw new Error(`nodeOrder: unknown order kind ${JSON.stringify(kind)}; known: ${ORDER_KINDS.join(', ')}`);
  }
}

type Visit = (adj: readonly number[][], root: number, seen: Uint8Array, out: number[]) => void;

function traverse(g: Graph, visit: Visit, ringsFirst: boolean): number[] {
  const rank = new Int32Array(g.numNodes);
  canonicalLabelling(g).forEach((v, i) => (rank[v] = i));
  const adj = adjacency(g).map((ns) => ns.sort((a, b) => rank[a] - rank[b]));
  if (ringsFirst) cycleEdgesFirst(adj);
  const roots = Array.from({ length: g.numNodes }, (_, v) => v).sort((a, b) => adj[a].length - adj[b].length || rank[a] - rank[b]);
  const seen = new Uint8Array(g.numNodes);
  const out: number[] = [];
  for (const root of roots) {
    if (!seen[root]) visit(adj, root, seen, out);
  }
  return out;
}

function randomDfs(g: Graph, rng: Rng, ringsFirst: boolean): number[] {
  // neighbours sorted before the shuffle, so that a draw depends on the graph, not on how a file lists its edges
  const adj = adjacency(g).map((ns) => {
    ns.sort((x, y) => x - y);
    return rng.permutation(ns.length).map((i) => ns[i]);
  });
  if (ringsFirst) cycleEdgesFirst(adj);
  const seen = new Uint8Array(g.numNodes);
  const out: number[] = [];
  for (const root of rng.permutation(g.numNodes)) {
    if (!seen[root]) dfsFrom(adj, root, seen, out);
  }
  return out;
}

/** Moves each node's neighbours across cycle edges before those across bridges, in place; a stable partition, so the order within each part survives. */
function cycleEdgesFirst(adj: number[][]): void {
  const bridge = bridges(adj);
  adj.forEach((ns, v) => {
    const across = (w: number): boolean => bridge.has(edgeKey(adj.length, v, w));
    adj[v] = ns.filter((w) => !across(w)).concat(ns.filter(across));
  });
}

/** The key of the edge u-w of a graph of n nodes in a bridges() set. */
export function edgeKey(n: number, u: number, w: number): number {
  return u < w ? u * n + w : w * n + u;
}

/**
 * The bridges of a graph (the edges on no cycle), by Tarjan's low-link: a tree edge v-w of a DFS is
 * a bridge when nothing below w reaches v or above by a back edge. An explicit stack, as dfsBelow.
 */
export function bridges(adj: readonly number[][]): Set<number> {
  const n = adj.length;
  const enter = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const out = new Set<number>();
  let clock = 0;
  for (let root = 0; root < n; root++) {
    if (enter[root] >= 0) continue;
    enter[root] = low[root] = clock++;
    const stack: Array<[node: number, parent: number, next: number]> = [[root, -1, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [v, parent] = top;
      if (top[2] < adj[v].length) {
        const w = adj[v][top[2]++];
        if (enter[w] < 0) {
          enter[w] = low[w] = clock++;
          stack.push([w, v, 0]);
        } else if (w !== parent) {
          low[v] = Math.min(low[v], enter[w]);
        }
        continue;
      }
      stack.pop();
      if (parent >= 0) {
        low[parent] = Math.min(low[parent], low[v]);
        if (low[v] > enter[parent]) out.add(edgeKey(n, parent, v));
      }
    }
  }
  return out;
}

function bfsFrom(adj: readonly number[][], root: number, seen: Uint8Array, out: number[]): void {
  seen[root] = 1;
  for (let head = out.push(root) - 1; head < out.length; head++) {
    for (const w of adj[out[head]]) {
      if (!seen[w]) {
        seen[w] = 1;
        out.push(w);
      }
    }
  }
}

function dfsFrom(adj: readonly number[][], root: number, seen: Uint8Array, out: number[]): void {
  seen[root] = 1;
  out.push(root);
  dfsBelow(adj, root, seen, out);
}

// Preorder of the recursive DFS below an already placed node, with an explicit stack so long
// paths cannot overflow the call stack.
function dfsBelow(adj: readonly number[][], root: number, seen: Uint8Array, out: number[]): void {
  const stack: Array<[node: number, next: number]> = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const ns = adj[top[0]];
    while (top[1] < ns.length && seen[ns[top[1]]]) top[1]++;
    if (top[1] === ns.length) {
      stack.pop();
      continue;
    }
    const w = ns[top[1]++];
    seen[w] = 1;
    out.push(w);
    stack.push([w, 0]);
  }
}

/**
 * Two BFS sweeps (root's farthest node a, then a's farthest node b) give a longest path of a tree
 * and a long shortest path of any other component; ties go to the later node in canonical BFS
 * order, so the path depends on the graph only.
 */
function pathFrom(adj: readonly number[][], root: number, seen: Uint8Array, out: number[]): void {
  const parent = new Int32Array(adj.length);
  const farthest = (from: number): number => {
    parent.fill(-2);
    parent[from] = -1;
    const queue = [from];
    for (let head = 0; head < queue.length; head++) {
      for (const w of adj[queue[head]]) {
        if (parent[w] === -2) {
          parent[w] = queue[head];
          queue.push(w);
        }
      }
    }
    return queue[queue.length - 1];
  };
  const path: number[] = [];
  for (let v = farthest(farthest(root)); v !== -1; v = parent[v]) path.push(v);
  for (const v of path) {
    seen[v] = 1;
    out.push(v);
  }
  for (const v of path) dfsBelow(adj, v, seen, out);
}
