import { canonicalLabelling } from './canonical';
import { Graph, adjacency } from './graph';
import { Rng } from './random';

export const ORDER_KINDS = ['natural', 'bfs', 'dfs', 'path', 'random', 'random-dfs'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

/** The orders drawn afresh at every visit of a graph in training (from an Rng), not fixed by the graph. */
export function drawnPerVisit(kind: OrderKind): boolean {
  return kind === 'random' || kind === 'random-dfs';
}

/**
 * The fixed order that stands in for a drawn one where one sequence per graph is needed (the
 * held-out likelihood, the checks of a graph against the model's rules): `natural` for `random`,
 * canonical `dfs` for `random-dfs` (a DFS too, so every rule a random DFS keeps holds under it).
 */
export function fixedOrder(kind: OrderKind): OrderKind {
  if (kind === 'random') return 'natural';
  if (kind === 'random-dfs') return 'dfs';
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
 */
export function nodeOrder(g: Graph, kind: OrderKind, rng?: Rng): number[] {
  switch (kind) {
    case 'natural':
      return Array.from({ length: g.numNodes }, (_, i) => i);
    case 'bfs':
      return traverse(g, bfsFrom);
    case 'dfs':
      return traverse(g, dfsFrom);
    case 'path':
      return traverse(g, pathFrom);
    case 'random':
      if (rng === undefined) throw new Error('nodeOrder: the random order needs an Rng');
      return rng.permutation(g.numNodes);
    case 'random-dfs':
      if (rng === undefined) throw new Error('nodeOrder: the random-dfs order needs an Rng');
      return randomDfs(g, rng);
    default:
      throw new Error(`nodeOrder: unknown order kind ${JSON.stringify(kind)}; known: ${ORDER_KINDS.join(', ')}`);
  }
}

type Visit = (adj: readonly number[][], root: number, seen: Uint8Array, out: number[]) => void;

function traverse(g: Graph, visit: Visit): number[] {
  const rank = new Int32Array(g.numNodes);
  canonicalLabelling(g).forEach((v, i) => (rank[v] = i));
  const adj = adjacency(g).map((ns) => ns.sort((a, b) => rank[a] - rank[b]));
  const roots = Array.from({ length: g.numNodes }, (_, v) => v).sort((a, b) => adj[a].length - adj[b].length || rank[a] - rank[b]);
  const seen = new Uint8Array(g.numNodes);
  const out: number[] = [];
  for (const root of roots) {
    if (!seen[root]) visit(adj, root, seen, out);
  }
  return out;
}

function randomDfs(g: Graph, rng: Rng): number[] {
  // neighbours sorted before the shuffle, so that a draw depends on the graph, not on how a file lists its edges
  const adj = adjacency(g).map((ns) => {
    ns.sort((x, y) => x - y);
    return rng.permutation(ns.length).map((i) => ns[i]);
  });
  const seen = new Uint8Array(g.numNodes);
  const out: number[] = [];
  for (const root of rng.permutation(g.numNodes)) {
    if (!seen[root]) dfsFrom(adj, root, seen, out);
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
