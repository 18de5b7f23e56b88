import { Graph, adjacency } from './graph';
import { Rng } from './random';

export const ORDER_KINDS = ['natural', 'bfs', 'dfs', 'random'] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

/**
 * A node order for encodeGraph: entry i is the node placed at position i. BFS and DFS start at
 * node 0, restart at the lowest unvisited node for every further component, and visit
 * neighbours in ascending id order, so the order depends on the labelling only.
 */
export function nodeOrder(g: Graph, kind: OrderKind, rng?: Rng): number[] {
  switch (kind) {
    case 'natural':
      return Array.from({ length: g.numNodes }, (_, i) => i);
    case 'bfs':
      return traverse(g, bfsFrom);
    case 'dfs':
      return traverse(g, dfsFrom);
    case 'random':
      if (rng === undefined) throw new Error('nodeOrder: the random order needs an Rng');
      return rng.permutation(g.numNodes);
    default:
      throw new Error(`nodeOrder: unknown order kind ${JSON.stringify(kind)}; known: ${ORDER_KINDS.join(', ')}`);
  }
}

type Visit = (adj: readonly number[][], root: number, seen: Uint8Array, out: number[]) => void;

function traverse(g: Graph, visit: Visit): number[] {
  const adj = adjacency(g).map((ns) => ns.sort((a, b) => a - b));
  const seen = new Uint8Array(g.numNodes);
  const out: number[] = [];
  for (let root = 0; root < g.numNodes; root++) {
    if (!seen[root]) visit(adj, root, seen, out);
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

// Preorder of the recursive DFS, with an explicit stack so long paths cannot overflow the call stack.
function dfsFrom(adj: readonly number[][], root: number, seen: Uint8Array, out: number[]): void {
  const stack: Array<[node: number, next: number]> = [[root, 0]];
  seen[root] = 1;
  out.push(root);
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
