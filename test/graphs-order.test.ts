import t from 'tap';
import { Graph, adjacency } from '../graphs/graph';
import { ORDER_KINDS, OrderKind, bridges, edgeKey, nodeOrder } from '../graphs/order';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { differs, firstWrong, forAll, trials } from './property';

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
  t.same([...ORDER_KINDS], ['natural', 'bfs', 'dfs', 'ring-dfs', 'path', 'random', 'random-dfs', 'random-ring-dfs']);
});

t.test('natural is the identity', async (t) => {
  t.same(nodeOrder(sample, 'natural'), [0, 1, 2, 3, 4, 5, 6, 7]);
  t.same(nodeOrder({ numNodes: 0, edges: [] }, 'bfs'), []);
});

t.test('bfs, dfs, ring-dfs and path depend on the graph only: a relabelled graph gets the same decision sequence', async (t) => {
  const rng = new Rng(3);
  forAll(t, 'bfs, dfs, ring-dfs and path sequences unchanged by relabelling', trials(150), () => {
    const g = randomGraph(rng.int(1, 25), rng.uniform() * 0.4, rng);
    const perm = rng.permutation(g.numNodes);
    const relabelled: Graph = { numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [perm[u], perm[v]] as const) };
    return firstWrong(...(['bfs', 'dfs', 'ring-dfs', 'path'] as const).map((kind) => differs(encodeGraph(relabelled, nodeOrder(relabelled, kind)), encodeGraph(g, nodeOrder(g, kind)), `${kind} of ${JSON.stringify(g)} relabelled by ${perm}`)));
  });
  // natural does follow the labelling: the check above can fail
  const path: Graph = { numNodes: 3, edges: [[0, 1], [1, 2]] };
  const bent: Graph = { numNodes: 3, edges: [[1, 0], [0, 2]] };
  t.notSame(encodeGraph(bent, nodeOrder(bent, 'natural')), encodeGraph(path, nodeOrder(path, 'natural')));
  t.same(encodeGraph(bent, nodeOrder(bent, 'bfs')), encodeGraph(path, nodeOrder(path, 'bfs')));
});

t.test('bfs and dfs start each component at a node of least degree', async (t) => {
  const ladder: Graph = { numNodes: 6, edges: [[0, 1], [1, 2], [3, 4], [4, 5], [0, 3], [1, 4], [2, 5]] };
  const order = nodeOrder(ladder, 'bfs');
  t.ok([0, 2, 3, 5].includes(order[0]), `starts at a corner (${order[0]})`);
  const star: Graph = { numNodes: 5, edges: [[4, 2], [2, 0], [2, 3], [2, 1]] };
  t.not(nodeOrder(star, 'bfs')[0], 2, 'a star starts at a leaf');
  t.equal(nodeOrder(star, 'bfs')[1], 2);
  const rng = new Rng(2);
  forAll(t, 'bfs and dfs: permutations that start each component at a node of least degree', trials(100), () => {
    const g = randomGraph(rng.int(1, 30), rng.uniform() * 0.3, rng);
    const adj = adjacency(g);
    for (const kind of ['bfs', 'dfs'] as const) {
      const o = nodeOrder(g, kind);
      if (!isPermutation(o, g.numNodes)) return `${kind} of ${JSON.stringify(g)}: ${o} is no permutation`;
      const placed = new Set<number>();
      for (const v of o) {
        if (!adj[v].some((w) => placed.has(w))) {
          const least = Math.min(...[...Array(g.numNodes).keys()].filter((u) => !placed.has(u)).map((u) => adj[u].length));
          if (adj[v].length !== least) return `${kind} of ${JSON.stringify(g)} restarts at a node of degree ${adj[v].length}, not the least ${least}`;
        }
        placed.add(v);
      }
    }
    return null;
  });
});

t.test('dfs and path cope with a path too long for recursion', async (t) => {
  const n = 3000;
  const path: Graph = { numNodes: n, edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const) };
  for (const kind of ['dfs', 'path'] as const) {
    const order = nodeOrder(path, kind);
    t.equal(order.length, n);
    t.ok(order[0] === 0 || order[0] === n - 1, `${kind} starts at an end`);
    t.ok(order.every((v, i) => i === 0 || Math.abs(v - order[i - 1]) === 1), `${kind} walks the path`);
  }
});

/** Longest shortest-path length from v, by BFS. */
function eccentricity(adj: number[][], v: number): number {
  const dist = new Map([[v, 0]]);
  const queue = [v];
  for (let head = 0; head < queue.length; head++) {
    for (const w of adj[queue[head]]) if (!dist.has(w)) dist.set(w, (dist.get(queue[head]) as number) + 1), queue.push(w);
  }
  return Math.max(...dist.values());
}

t.test('path places a longest path of a tree first, then every node next to an earlier one', async (t) => {
  // a lobster: backbone 0-1-2-3, arms 4 and 5 on 2, leaf 6 on arm 5
  const lobster: Graph = { numNodes: 7, edges: [[0, 1], [1, 2], [2, 3], [2, 4], [2, 5], [5, 6]] };
  t.same(nodeOrder(lobster, 'path').slice(0, 5).sort(), [0, 1, 2, 5, 6], 'the one longest path, 0-1-2-5-6 or its reverse, comes first');
  const rng = new Rng(5);
  forAll(t, 'path on a random tree: a permutation, a longest path first, every later node beside a placed one', trials(100), () => {
    const n = rng.int(2, 40);
    const edges: Array<readonly [number, number]> = [];
    for (let v = 1; v < n; v++) edges.push([rng.int(0, v - 1), v]);
    const tree: Graph = { numNodes: n, edges };
    const adj = adjacency(tree);
    const order = nodeOrder(tree, 'path');
    if (!isPermutation(order, n)) return `${order} is no permutation of ${n}`;
    const diameter = Math.max(...order.map((v) => eccentricity(adj, v)));
    const prefix = order.slice(0, diameter + 1);
    if (!prefix.every((v, i) => i === 0 || adj[v].includes(prefix[i - 1]))) return `${JSON.stringify(tree)}: the first ${diameter + 1} nodes of ${order} are not a path`;
    const placed = new Set([order[0]]);
    for (const v of order.slice(1)) {
      if (!adj[v].some((w) => placed.has(w))) return `${JSON.stringify(tree)}: node ${v} of ${order} placed before any neighbour`;
      placed.add(v);
    }
    return null;
  });
});

t.test('random needs an Rng and is a reproducible permutation', async (t) => {
  const g: Graph = { numNodes: 20, edges: [] };
  t.throws(() => nodeOrder(g, 'random'), /needs an Rng/);
  const a = nodeOrder(g, 'random', new Rng(9));
  t.ok(isPermutation(a, 20));
  t.same(nodeOrder(g, 'random', new Rng(9)), a);
  t.not(a.join(), nodeOrder(g, 'random', new Rng(10)).join());
  t.throws(() => nodeOrder(g, 'preorder' as OrderKind), /unknown order kind "preorder"; known: natural, bfs, dfs, ring-dfs, path, random, random-dfs, random-ring-dfs/);
});

/** A rule on one step of a DFS, from the node it extends to v (from undefined at a restart): why it is broken, or null. */
type StepRule = (from: number | undefined, v: number, placed: Uint8Array) => string | null;

/**
 * Why `order` is not a preorder of some depth-first search of `g` (restarting at any unplaced
 * node), or why one of its steps breaks `rule`; null when neither.
 */
function notDfsPreorder(g: Graph, order: readonly number[], rule?: StepRule): string | null {
  const adj = adjacency(g);
  const placed = new Uint8Array(g.numNodes);
  const stack: number[] = [];
  for (const v of order) {
    // a DFS steps to an unplaced neighbour of the deepest node that still has one, or restarts
    while (stack.length && !adj[stack[stack.length - 1]].some((w) => !placed[w])) stack.pop();
    const from = stack[stack.length - 1];
    if (from !== undefined && !adj[from].includes(v)) return `${v} placed while ${from} still had an unplaced neighbour`;
    const broken = rule?.(from, v, placed);
    if (broken) return broken;
    placed[v] = 1;
    stack.push(v);
  }
  return null;
}

t.test('random-dfs is a depth-first preorder from a random root in random neighbour order, drawn from its Rng', async (t) => {
  const path: Graph = { numNodes: 5, edges: [[0, 1], [1, 2], [2, 3], [3, 4]] };
  t.throws(() => nodeOrder(path, 'random-dfs'), /random-dfs order needs an Rng/);
  t.equal(notDfsPreorder(path, [2, 3, 4, 1, 0]), null);
  t.match(notDfsPreorder(path, [2, 1, 3, 0, 4]), /3 placed while 1 still had an unplaced neighbour/, 'the check can fail');
  const rng = new Rng(4);
  forAll(t, 'random-dfs: a reproducible permutation and a DFS preorder', trials(150), () => {
    const g = randomGraph(rng.int(1, 30), rng.uniform() * 0.3, rng);
    const seed = rng.int(0, 1000);
    const o = nodeOrder(g, 'random-dfs', new Rng(seed));
    if (!isPermutation(o, g.numNodes)) return `random-dfs of ${JSON.stringify(g)}: ${o} is no permutation`;
    if (nodeOrder(g, 'random-dfs', new Rng(seed)).join() !== o.join()) return `random-dfs of ${JSON.stringify(g)} differs under one seed`;
    const why = notDfsPreorder(g, o);
    return why && `random-dfs of ${JSON.stringify(g)} = ${o}: ${why}`;
  });
  // every node of a path starts some draw, and both directions out of an inner node occur
  const roots = new Set<number>();
  const afterTwo = new Set<number>();
  for (let s = 0; s < 200; s++) {
    const o = nodeOrder(path, 'random-dfs', new Rng(s));
    roots.add(o[0]);
    if (o[0] === 2) afterTwo.add(o[1]);
  }
  t.same([...roots].sort(), [0, 1, 2, 3, 4]);
  t.same([...afterTwo].sort(), [1, 3]);
});

t.test('dfs gives a cycle its natural-order sequence whatever its labelling, so cycles from any tool train alike', async (t) => {
  const rng = new Rng(11);
  forAll(t, 'a relabelled cycle in dfs order = the cycle in natural order', trials(50), () => {
    const n = rng.int(3, 25);
    const perm = rng.permutation(n);
    const relabelled: Graph = { numNodes: n, edges: Array.from({ length: n }, (_, i) => [perm[i], perm[(i + 1) % n]] as const) };
    const natural: Graph = { numNodes: n, edges: Array.from({ length: n }, (_, i) => [i, (i + 1) % n] as const) };
    return differs(encodeGraph(relabelled, nodeOrder(relabelled, 'dfs')), encodeGraph(natural, nodeOrder(natural, 'natural')), `cycle of ${n} relabelled by ${perm}`);
  });
});

/** The number of connected components of g without the edge at index `skip`. */
function componentsWithout(g: Graph, skip: number): number {
  const adj = adjacency({ numNodes: g.numNodes, edges: g.edges.filter((_, i) => i !== skip) });
  const seen = new Uint8Array(g.numNodes);
  let count = 0;
  for (let r = 0; r < g.numNodes; r++) {
    if (seen[r]) continue;
    count++;
    const queue = [r];
    seen[r] = 1;
    for (let head = 0; head < queue.length; head++) for (const w of adj[queue[head]]) if (!seen[w]) (seen[w] = 1), queue.push(w);
  }
  return count;
}

t.test('bridges are the edges whose removal splits a component', async (t) => {
  const rng = new Rng(21);
  forAll(t, 'bridges() = the edges that raise the component count', trials(150), () => {
    const g = randomGraph(rng.int(1, 30), rng.uniform() * 0.2, rng);
    const found = bridges(adjacency(g));
    const whole = componentsWithout(g, -1);
    const isBridge = g.edges.map((_, i) => componentsWithout(g, i) > whole);
    for (const [i, [u, v]] of g.edges.entries()) {
      if (found.has(edgeKey(g.numNodes, u, v)) !== isBridge[i]) return `${JSON.stringify(g)}: edge ${u}-${v} ${isBridge[i] ? 'is' : 'is not'} a bridge`;
    }
    return found.size === isBridge.filter(Boolean).length ? null : `${JSON.stringify(g)}: ${found.size} bridges found`;
  });
});

/** The rule of the ring orders: a step over a bridge only from a node with no unplaced neighbour across a cycle edge. */
function cycleEdgesBeforeBridges(g: Graph): StepRule {
  const adj = adjacency(g);
  const bridge = bridges(adj);
  const across = (u: number, w: number): boolean => bridge.has(edgeKey(g.numNodes, u, w));
  return (from, v, placed) => {
    if (from === undefined || !across(from, v)) return null;
    const open = adj[from].find((w) => !placed[w] && !across(from, w));
    return open === undefined ? null : `stepped from ${from} over the bridge to ${v} before the cycle edge to ${open}`;
  };
}

t.test('random-ring-dfs is a random DFS that follows cycle edges before bridges, so a ring closes before its side chains start', async (t) => {
  // a six-ring 0..5 with the chain 0-6-7-8 and a methyl 9 on atom 3
  const ringWithChain: Graph = { numNodes: 10, edges: [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 6], [6, 7], [7, 8], [3, 9]] };
  t.throws(() => nodeOrder(ringWithChain, 'random-ring-dfs'), /random-ring-dfs order needs an Rng/);
  const ringRule = cycleEdgesBeforeBridges(ringWithChain);
  let ringFirst = 0;
  let randomOpen = 0;
  for (let s = 0; s < 200; s++) {
    const o = nodeOrder(ringWithChain, 'random-ring-dfs', new Rng(s));
    if (o[0] < 6) {
      ringFirst++;
      t.same(o.slice(0, 6).sort(), [0, 1, 2, 3, 4, 5], `seed ${s}: a ring root places the whole ring first (${o})`);
    }
    if (notDfsPreorder(ringWithChain, nodeOrder(ringWithChain, 'random-dfs', new Rng(s)), ringRule) !== null) randomOpen++;
  }
  t.ok(ringFirst > 0 && ringFirst < 200, `roots drawn in and out of the ring (${ringFirst} of 200 in it)`);
  t.ok(randomOpen > 0, `random-dfs does leave a ring open (${randomOpen} of 200 draws): the check can fail`);
  const rng = new Rng(8);
  forAll(t, 'random-ring-dfs and ring-dfs: (reproducible) permutations, DFS preorders, cycle edges before bridges', trials(150), () => {
    const g = randomGraph(rng.int(1, 30), rng.uniform() * 0.15, rng);
    const seed = rng.int(0, 1000);
    const o = nodeOrder(g, 'random-ring-dfs', new Rng(seed));
    if (nodeOrder(g, 'random-ring-dfs', new Rng(seed)).join() !== o.join()) return `random-ring-dfs of ${JSON.stringify(g)} differs under one seed`;
    for (const [kind, order] of [['random-ring-dfs', o], ['ring-dfs', nodeOrder(g, 'ring-dfs')]] as const) {
      if (!isPermutation(order, g.numNodes)) return `${kind} of ${JSON.stringify(g)}: ${order} is no permutation`;
      const why = notDfsPreorder(g, order, cycleEdgesBeforeBridges(g));
      if (why) return `${kind} of ${JSON.stringify(g)} = ${order}: ${why}`;
    }
    return null;
  });
});
