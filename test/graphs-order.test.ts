import t from 'tap';
import { Graph, adjacency } from '../graphs/graph';
import { ORDER_KINDS, OrderKind, nodeOrder } from '../graphs/order';
import { Rng } from '../graphs/random';

function randomGraph(n: number, p: number, rng: Rng): Graph {
  const edges: Array<readonly [number, number]> = [];
  for (let v = 1; v < n; v++) {
    for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  }
  return { numNodes: n, edges: rng.permutation(edges.length).map((i) => edges[i]) };
}

const isPermutation = (order: number[], n: number): boolean =>
  order.length === n && [...order].sort((a, b) => a - b).every((v, i) => v === i);

// Two components and an isolated node; edges listed against id order so that sorting matters.
const sample: Graph = { numNodes: 8, edges: [[0, 3], [3, 2], [4, 1], [1, 0], [6, 5]] };

t.test('ORDER_KINDS lists the kinds', async (t) => {
  t.same([...ORDER_KINDS], ['natural', 'bfs', 'dfs', 'random']);
});

t.test('natural is the identity', async (t) => {
  t.same(nodeOrder(sample, 'natural'), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.same(nodeOrder({ numNodes: 0, edges: [] }, 'bfs'), []);
});

t.test('bfs and dfs start at 0, take neighbours by ascending id and restart at the lowest unvisited node', async (t) => {
  t.same(nodeOrder(sample, 'bfs'), [0, 1, 3, 4, 2, 5, 6, 7]);
  t.same(nodeOrder(sample, 'dfs'), [0, 1, 4, 3, 2, 5, 6, 7]);
  const star: Graph = { numNodes: 5, edges: [[4, 2], [2, 0], [2, 3], [2, 1]] };
  t.same(nodeOrder(star, 'bfs'), [0, 2, 1, 3, 4]);
  t.same(nodeOrder(star, 'dfs'), [0, 2, 1, 3, 4]);
  const tree: Graph = { numNodes: 7, edges: [[0, 1], [0, 2], [1, 3], [1, 4], [2, 5], [2, 6]] };
  t.same(nodeOrder(tree, 'bfs'), [0, 1, 2, 3, 4, 5, 6]);
  t.same(nodeOrder(tree, 'dfs'), [0, 1, 3, 4, 2, 5, 6]);
});

t.test('every prefix of a bfs or dfs order within a component is connected', async (t) => {
  const rng = new Rng(2);
  for (let trial = 0; trial < 100; trial++) {
    const g = randomGraph(rng.int(1, 30), rng.uniform() * 0.3, rng);
    const adj = adjacency(g);
    for (const kind of ['bfs', 'dfs'] as const) {
      const order = nodeOrder(g, kind);
      t.ok(isPermutation(order, g.numNodes), kind);
      const placed = new Set<number>();
      let restarts = 0;
      for (const v of order) {
        if (!adj[v].some((w) => placed.has(w))) {
          restarts++;
          t.ok([...Array(v).keys()].every((u) => placed.has(u)), `${kind} restarts at the lowest unvisited node`);
        }
        placed.add(v);
      }
      t.ok(restarts >= 1);
    }
  }
});

t.test('dfs copes with a path too long for recursion', async (t) => {
  const n = 200000;
  const path: Graph = { numNodes: n, edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const) };
  const order = nodeOrder(path, 'dfs');
  t.equal(order.length, n);
  t.equal(order[n - 1], n - 1);
});

t.test('random needs an Rng and is a reproducible permutation', async (t) => {
  const g: Graph = { numNodes: 20, edges: [] };
  t.throws(() => nodeOrder(g, 'random'), /needs an Rng/);
  const a = nodeOrder(g, 'random', new Rng(9));
  t.ok(isPermutation(a, 20));
  t.same(nodeOrder(g, 'random', new Rng(9)), a);
  t.not(a.join(), nodeOrder(g, 'random', new Rng(10)).join());
  t.throws(() => nodeOrder(g, 'preorder' as OrderKind), /unknown order kind "preorder"; known: natural, bfs, dfs, random/);
});
