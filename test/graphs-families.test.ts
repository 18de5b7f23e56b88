import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph, adjacency, assertSimpleGraph } from '../graphs/graph';
import { isIsomorphic } from '../graphs/canonical';
import {
  FAMILY_NAMES,
  cycleGraph,
  gridGraph,
  isConnected,
  ladderGraph,
  makeFamily,
  randomLobster,
  randomTree,
  twoCommunityGraph,
} from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { differs, firstWrong, forAll, trials } from './property';

type Edge = readonly [number, number];

const relabel = (g: Graph, perm: readonly number[]): Graph => ({ numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [perm[u], perm[v]] as const) });
const shuffled = (g: Graph, rng: Rng): Graph => relabel(g, rng.permutation(g.numNodes));
const union = (a: Graph, b: Graph): Graph => ({
  numNodes: a.numNodes + b.numNodes,
  edges: [...a.edges, ...b.edges.map(([u, v]) => [u + a.numNodes, v + a.numNodes] as const)],
});
const degreeList = (g: Graph): number[] => adjacency(g).map((ns) => ns.length);

/** The DGL example's get_decision_sequence(size) for a cycle, transcribed. */
function dglCycleSequence(size: number): number[] {
  const s: number[] = [];
  for (let i = 0; i < size; i++) {
    s.push(0);
    if (i !== 0) s.push(0, i - 1);
    if (i === size - 1) s.push(0, 0);
    s.push(1);
  }
  s.push(1);
  return s;
}

t.test('cycleGraph encodes to the DGL example sequence', async (t) => {
  t.same(encodeGraph(cycleGraph(4)), [0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 2, 0, 0, 1, 1]);
  for (let k = 3; k <= 25; k++) t.same(encodeGraph(cycleGraph(k)), dglCycleSequence(k), `k=${k}`);
  t.throws(() => cycleGraph(2), /k >= 3/);
  t.throws(() => cycleGraph(3.5), /k >= 3/);
});

t.test('randomTree draws every labelled tree on 4 nodes about equally often', async (t) => {
  const rng = new Rng(1);
  const counts = new Map<string, number>();
  const draws = 16000;
  for (let k = 0; k < draws; k++) {
    const g = randomTree(4, rng);
    const key = g.edges.map(([u, v]) => `${Math.min(u, v)}${Math.max(u, v)}`).sort().join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  t.equal(counts.size, 16, 'Cayley: 4^2 labelled trees');
  forAll(t, 'each tree drawn 800 to 1200 times of 16,000', counts, ([key, c]) => (c > 800 && c < 1200 ? null : `${key}: ${c} times`));
  t.same(randomTree(1, rng), { numNodes: 1, edges: [] });
  t.same(randomTree(2, rng), { numNodes: 2, edges: [[0, 1]] });
  t.throws(() => randomTree(0, rng), /n must be an integer >= 1/);
});

t.test('randomTree gives trees', async (t) => {
  const rng = new Rng(2);
  const trees = makeFamily('trees', { minNodes: 1, maxNodes: 60 });
  forAll(t, 'a tree', trials(300), () => {
    const g = randomTree(rng.int(1, 60), rng);
    assertSimpleGraph(g, 'tree');
    return trees.isValid(g) ? null : `not a tree: ${JSON.stringify(g)}`;
  });
});

t.test('gridGraph and ladderGraph', async (t) => {
  const g = gridGraph(3, 4);
  t.equal(g.numNodes, 12);
  t.equal(g.edges.length, 3 * 3 + 4 * 2);
  t.same(degreeList(g), [2, 3, 3, 2, 3, 4, 4, 3, 2, 3, 3, 2]);
  t.ok(g.edges.every(([u, v]) => u > v), 'edges point back to earlier nodes');
  t.same(gridGraph(1, 3), { numNodes: 3, edges: [[1, 0], [2, 1]] });
  t.same(ladderGraph(3), { numNodes: 6, edges: [[1, 0], [2, 1], [3, 0], [4, 3], [4, 1], [5, 4], [5, 2]] });
  t.throws(() => gridGraph(0, 3), /sides must be integers >= 1/);
});

t.test('randomLobster follows networkx: backbone path with two levels of geometric arms', async (t) => {
  const rng = new Rng(3);
  const lobsters = makeFamily('lobsters', { minNodes: 1, maxNodes: 1e9 });
  let total = 0;
  forAll(t, 'every non-empty draw is a lobster', trials(2000), () => {
    const g = randomLobster(5, 0.7, 0.7, rng);
    assertSimpleGraph(g, 'lobster');
    total += g.numNodes;
    return g.numNodes === 0 || lobsters.isValid(g) ? null : `not a lobster: ${JSON.stringify(g)}`;
  });
  // Per backbone node: 1 + p1/(1-p1) * (1 + p2/(1-p2)) = 1 + (7/3)(10/3) nodes; backbone mean 5.
  const expected = 5 * (1 + (7 / 3) * (10 / 3));
  t.ok(Math.abs(total / 2000 - expected) < 0.1 * expected, `mean size ${total / 2000} near ${expected}`);
  forAll(t, 'p1 = 0: the bare backbone path', trials(20), () => {
    const bare = randomLobster(10, 0, 0, rng);
    return differs(bare.edges, Array.from({ length: Math.max(0, bare.numNodes - 1) }, (_, i) => [i + 1, i]), `${bare.numNodes} nodes`);
  });
  t.throws(() => randomLobster(5, 1, 0.5, rng), /p1, p2 < 1/);
});

t.test('twoCommunityGraph: connected, halves joined by exactly the requested edges', async (t) => {
  const rng = new Rng(4);
  forAll(t, 'connected, with the requested edges between the halves', trials(100), () => {
    const n = rng.int(12, 20);
    const inter = rng.int(1, 3);
    const g = twoCommunityGraph(n, 0.3, inter, rng);
    assertSimpleGraph(g, 'community');
    const half = Math.floor(n / 2);
    const between = g.edges.filter(([u, v]) => u < half !== v < half).length;
    return isConnected(g) ? differs(between, inter, `edges between the halves of ${JSON.stringify(g)}`) : `not connected: ${JSON.stringify(g)}`;
  });
  t.throws(() => twoCommunityGraph(4, 0.3, 5, rng), /interEdges <= 4/);
  t.throws(() => twoCommunityGraph(10, 0, 1, rng), /0 < pIntra <= 1/);
});

t.test('isConnected', async (t) => {
  t.notOk(isConnected({ numNodes: 0, edges: [] }), 'the null graph is not connected');
  t.ok(isConnected({ numNodes: 1, edges: [] }));
  t.notOk(isConnected({ numNodes: 2, edges: [] }));
  t.ok(isConnected(cycleGraph(5)));
  t.notOk(isConnected(union(cycleGraph(3), cycleGraph(3))));
});

t.test('every family samples valid graphs, reproducibly by seed', async (t) => {
  t.same([...FAMILY_NAMES], ['cycles', 'trees', 'grids', 'ladders', 'lobsters', 'community', 'planar', 'sbm']);
  for (const name of FAMILY_NAMES) {
    const family = makeFamily(name, {});
    t.equal(family.name, name);
    // SPECTRE's block-model test rejects some true SBM graphs (test/graphs-field-families.test.ts).
    const every = name !== 'sbm';
    forAll(t, `${name}: samples ${every ? 'valid, and ' : ''}the same verdict relabelled`, trials(every ? 200 : 20), (k) => {
      const g = family.sample(Rng.derive(42, k));
      assertSimpleGraph(g, name);
      const valid = family.isValid(g);
      if (every && !valid) return `sample ${k} invalid: ${JSON.stringify(g)}`;
      return family.isValid(shuffled(g, new Rng(k))) === valid ? null : `sample ${k}: another verdict relabelled`;
    });
    t.same(family.sample(Rng.derive(1, 2)), family.sample(Rng.derive(1, 2)), `${name}: same seed, same graph`);
  }
});

t.test('family sizes follow their parameters', async (t) => {
  const sizes = (name: string, params: Record<string, number>): Set<number> => {
    const family = makeFamily(name, params);
    return new Set(Array.from({ length: 300 }, (_, k) => family.sample(new Rng(k)).numNodes));
  };
  t.same([...sizes('cycles', {})].sort((a, b) => a - b), Array.from({ length: 11 }, (_, i) => 10 + i), 'cycles: 10..20 by default');
  t.same([...sizes('trees', { minNodes: 4, maxNodes: 6 })].sort(), [4, 5, 6]);
  t.same([...sizes('ladders', { minRungs: 3, maxRungs: 4 })].sort(), [6, 8]);
  t.same([...sizes('grids', { minSide: 2, maxSide: 3 })].sort(), [4, 6, 9]);
  t.ok([...sizes('lobsters', {})].every((n) => n >= 10 && n <= 40));
  t.ok([...sizes('community', {})].every((n) => n >= 12 && n <= 20));
});

t.test('cycles validity: one cycle of minNodes..maxNodes nodes', async (t) => {
  const cycles = makeFamily('cycles', {});
  t.ok(cycles.isValid(cycleGraph(10)));
  t.ok(cycles.isValid(cycleGraph(20)));
  t.notOk(cycles.isValid(cycleGraph(9)), 'too small');
  t.notOk(cycles.isValid(cycleGraph(21)), 'too large');
  t.notOk(cycles.isValid(union(cycleGraph(5), cycleGraph(6))), 'two cycles: every degree 2 but disconnected');
  const path = { numNodes: 12, edges: cycleGraph(12).edges.slice(0, 11) };
  t.notOk(cycles.isValid(path), 'a path');
  t.notOk(cycles.isValid({ numNodes: 12, edges: [...cycleGraph(12).edges, [0, 6]] }), 'a chord');
});

t.test('trees validity', async (t) => {
  const trees = makeFamily('trees', {});
  t.ok(trees.isValid(randomTree(15, new Rng(1))));
  t.notOk(trees.isValid(randomTree(9, new Rng(1))), 'too small');
  const triangleAndPath = union(cycleGraph(3), { numNodes: 9, edges: Array.from({ length: 8 }, (_, i) => [i, i + 1] as const) });
  t.equal(triangleAndPath.edges.length, triangleAndPath.numNodes - 1);
  t.notOk(trees.isValid(triangleAndPath), 'n - 1 edges but a cycle and two components');
});

/** Degree-preserving double edge swaps: mostly non-grids with a grid's degree sequence. */
function swapEdges(g: Graph, swaps: number, rng: Rng): Graph {
  const edges = g.edges.map(([u, v]): [number, number] => [u, v]);
  const key = (u: number, v: number): number => Math.min(u, v) * g.numNodes + Math.max(u, v);
  const present = new Set(edges.map(([u, v]) => key(u, v)));
  for (let done = 0, tries = 0; done < swaps && tries < 1000; tries++) {
    const i = rng.int(0, edges.length - 1);
    const j = rng.int(0, edges.length - 1);
    const [a, b] = edges[i];
    const [c, d] = edges[j];
    if (new Set([a, b, c, d]).size < 4 || present.has(key(a, d)) || present.has(key(c, b))) continue;
    present.delete(key(a, b));
    present.delete(key(c, d));
    present.add(key(a, d));
    present.add(key(c, b));
    edges[i] = [a, d];
    edges[j] = [c, b];
    done++;
  }
  return { numNodes: g.numNodes, edges };
}

t.test('grids validity is exact: agrees with isomorphism to the grid of the same size', async (t) => {
  const grids = makeFamily('grids', { minSide: 2, maxSide: 8 });
  const rng = new Rng(5);
  for (const [rows, cols] of [[2, 2], [2, 7], [3, 3], [4, 5], [6, 3], [8, 8]] as const) {
    const g = gridGraph(rows, cols);
    t.ok(grids.isValid(shuffled(g, rng)), `${rows} x ${cols}`);
    let rejected = 0;
    forAll(t, `${rows} x ${cols} with swapped edges: valid exactly when isomorphic to the grid`, trials(30), () => {
      const h = shuffled(swapEdges(g, rng.int(1, 3), rng), rng);
      const isGrid = isIsomorphic(h, g);
      if (!isGrid) rejected++;
      return differs(grids.isValid(h), isGrid, `isValid of ${JSON.stringify(h)}`);
    });
    // Every double swap of a 4-cycle gives a 4-cycle again.
    if (rows * cols > 4) t.ok(rejected > 0, 'some swaps break the grid');
  }
  t.notOk(makeFamily('grids', { minSide: 3, maxSide: 8 }).isValid(gridGraph(2, 5)), 'short side below minSide');
  t.notOk(makeFamily('grids', { minSide: 2, maxSide: 4 }).isValid(gridGraph(3, 5)), 'long side above maxSide');
  t.notOk(grids.isValid(cycleGraph(4 * 5)), 'no corners');
  t.notOk(grids.isValid(union(gridGraph(2, 2), gridGraph(2, 2))), 'eight corners');
  const torusLike = { numNodes: 12, edges: [...gridGraph(3, 4).edges, [0, 11] as Edge] };
  t.notOk(grids.isValid(torusLike), 'an extra edge');
});

t.test('ladders validity', async (t) => {
  const ladders = makeFamily('ladders', {});
  t.ok(ladders.isValid(ladderGraph(5)));
  t.ok(ladders.isValid(shuffled(gridGraph(10, 2), new Rng(1))), 'a 10 x 2 grid is a ladder');
  t.notOk(ladders.isValid(ladderGraph(4)), 'too few rungs');
  t.notOk(ladders.isValid(ladderGraph(11)), 'too many rungs');
  t.notOk(ladders.isValid(gridGraph(3, 5)), 'three rails');
  // Crossing the rails between two rungs gives the same ladder, relabelled.
  const crossed = ladderGraph(6).edges.map(([u, v]): Edge => (u === 9 && v === 8 ? [9, 2] : u === 3 && v === 2 ? [3, 8] : [u, v]));
  t.ok(ladders.isValid({ numNodes: 12, edges: crossed }));
  t.notOk(ladders.isValid({ numNodes: 12, edges: [...ladderGraph(6).edges, [11, 0], [6, 5]] }), 'a Möbius ladder is not a ladder');
  t.notOk(ladders.isValid({ numNodes: 12, edges: [...ladderGraph(6).edges, [5, 0], [11, 6]] }), 'nor is a prism');
});

t.test('lobsters validity: trees within two leaf-strippings of a path', async (t) => {
  const lobsters = makeFamily('lobsters', { minNodes: 1, maxNodes: 100 });
  const path = (n: number): Graph => ({ numNodes: n, edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const) });
  t.ok(lobsters.isValid(path(1)));
  t.ok(lobsters.isValid(path(10)));
  // Backbone 0-1-2, arms 3 (on 1) and 4 (on 1), leaves 5, 6 on arm 3: a lobster.
  t.ok(lobsters.isValid({ numNodes: 7, edges: [[0, 1], [1, 2], [1, 3], [1, 4], [3, 5], [3, 6]] }));
  // A spider with three legs of length 3: stripping twice leaves a claw, not a path.
  const spider: Graph = { numNodes: 10, edges: [[0, 1], [1, 2], [2, 3], [0, 4], [4, 5], [5, 6], [0, 7], [7, 8], [8, 9]] };
  t.notOk(lobsters.isValid(spider));
  t.ok(lobsters.isValid({ numNodes: 9, edges: spider.edges.slice(0, 8) }), 'with a leg shortened it is one');
  t.notOk(lobsters.isValid(cycleGraph(6)), 'not a tree');
  t.notOk(makeFamily('lobsters', {}).isValid(path(9)), 'below the default minNodes of 10');
});

t.test('community validity: connected, in size range', async (t) => {
  const community = makeFamily('community', {});
  t.ok(community.isValid(cycleGraph(14)));
  t.notOk(community.isValid(union(cycleGraph(7), cycleGraph(7))));
  t.notOk(community.isValid(cycleGraph(11)));
});

t.test('makeFamily refuses unknown names and bad parameters', async (t) => {
  t.throws(() => makeFamily('cycle', {}), /unknown graph family "cycle"; known: cycles, trees, grids, ladders, lobsters, community/);
  t.throws(() => makeFamily('toString', {}), /unknown graph family "toString"/);
  t.throws(() => makeFamily('cycles', { minNode: 5 }), /family cycles: unknown parameter "minNode"; known: minNodes, maxNodes/);
  t.throws(() => makeFamily('cycles', { minNodes: 2 }), /minNodes must be an integer >= 3, got 2/);
  t.throws(() => makeFamily('cycles', { minNodes: 10.5 }), /an integer >= 3/);
  t.throws(() => makeFamily('cycles', { minNodes: 21 }), /minNodes = 21 exceeds maxNodes = 20/);
  t.throws(() => makeFamily('grids', { minSide: 1 }), /minSide must be an integer >= 2/);
  t.throws(() => makeFamily('ladders', { minRungs: 12 }), /minRungs = 12 exceeds maxRungs = 10/);
  t.throws(() => makeFamily('lobsters', { p1: 1 }), /p1 must be in \[0, 1\), got 1/);
  t.throws(() => makeFamily('lobsters', { meanBackbone: 0 }), /meanBackbone must be a number > 0/);
  t.throws(() => makeFamily('community', { pIntra: 0 }), /pIntra must be in \(0, 1\]/);
  t.throws(() => makeFamily('community', { interFraction: NaN }), /interFraction must be in \[0, 1\]/);
  t.throws(() => makeFamily('lobsters', { minNodes: 1000, maxNodes: 1000, meanBackbone: 0.01 }).sample(new Rng(1)), /no lobster with 1000\.\.1000 nodes/);
});

t.test("configs/community-small.json draws GraphRNN's community-small: two G(n/2, 0.7) halves, round(0.05 n) edges between", async (t) => {
  const config = JSON.parse(readFileSync(join(__dirname, '..', '..', 'configs', 'community-small.json'), 'utf8'));
  const family = makeFamily(config.data.family, config.data.familyParams);
  const rng = new Rng(4);
  let intra = 0;
  let pairs = 0;
  forAll(t, '12 to 20 nodes, round(0.05 n) edges between the halves, valid', trials(300), () => {
    const g = family.sample(rng);
    const n = g.numNodes;
    const half = Math.floor(n / 2);
    const across = g.edges.filter(([u, v]) => u < half !== v < half).length;
    intra += g.edges.length - across;
    pairs += (half * (half - 1)) / 2 + ((n - half) * (n - half - 1)) / 2;
    if (n < 12 || n > 20) return `size ${n}`;
    return firstWrong(differs(across, Math.max(1, Math.round(0.05 * n)), `inter-community edges of a ${n}-node graph`), family.isValid(g) ? null : `invalid: ${JSON.stringify(g)}`);
  });
  t.ok(Math.abs(intra / pairs - 0.7) < 0.02, `intra-community density ${intra / pairs}`);
});
