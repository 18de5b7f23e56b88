import t from 'tap';
import { Graph, adjacency } from '../graphs/graph';
import { cycleGraph, gridGraph, makeFamily } from '../graphs/families';
import { Rng } from '../graphs/random';
import { CLUSTERING_BINS, ORBITS, clusteringCoefficients, degreeHistogram, graphStatistics, histogram, meanOrbitCounts, orbitCounts } from '../eval/stats';

type Edge = readonly [number, number];

const graph = (numNodes: number, edges: Edge[]): Graph => ({ numNodes, edges });

/** An orbit vector with the given nonzero entries. */
const orbits = (entries: Record<number, number>): number[] => Array.from({ length: ORBITS }, (_, k) => entries[k] ?? 0);

function randomGraph(rng: Rng, n: number, p: number): Graph {
  const edges: Edge[] = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  return { numNodes: n, edges };
}

/**
 * Orbit counts by brute force, independent of ESU: every 3- and 4-subset of nodes, kept when its
 * induced subgraph is connected, its nodes' orbits read off the shape's degree pattern.
 */
function bruteForceOrbits(g: Graph): number[][] {
  const n = g.numNodes;
  const adj = adjacency(g);
  const linked = (a: number, b: number): boolean => adj[a].includes(b);
  const counts = adj.map((ns) => orbits({ 0: ns.length }));
  const subsets = (size: number, from: number, chosen: number[]): number[][] =>
    chosen.length === size ? [chosen] : Array.from({ length: n - from }, (_, k) => subsets(size, from + k + 1, [...chosen, from + k])).flat();
  for (const size of [3, 4]) {
    for (const set of subsets(size, 0, [])) {
      const degree = set.map((a) => set.filter((b) => b !== a && linked(a, b)).length);
      const edges = degree.reduce((s, d) => s + d, 0) / 2;
      if (edges < size - 1 || degree.some((d) => d === 0)) continue;
      // On 3 or 4 nodes, at least size - 1 edges and no isolated node mean connected.
      const pattern = [...degree].sort().join('');
      const orbitOf: Record<string, Record<number, number>> = {
        '112': { 1: 1, 2: 2 },
        '222': { 2: 3 },
        '1122': { 1: 4, 2: 5 },
        '1113': { 1: 6, 3: 7 },
        '2222': { 2: 8 },
        '1223': { 1: 9, 2: 10, 3: 11 },
        '2233': { 2: 12, 3: 13 },
        '3333': { 3: 14 },
      };
      set.forEach((v, i) => counts[v][orbitOf[pattern][degree[i]]]++);
    }
  }
  return counts;
}

t.test('orbit counts of small graphs, derived by hand', async (t) => {
  // K4: each node has degree 3, lies in 3 triangles and in the one K4; no induced paths.
  const k4 = graph(4, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
  t.same(orbitCounts(k4), Array(4).fill(orbits({ 0: 3, 3: 3, 14: 1 })));
  // Star 0 - {1, 2, 3}: the centre is the middle of 3 induced 3-paths and the star's centre.
  t.same(orbitCounts(graph(4, [[0, 1], [0, 2], [0, 3]])), [
    orbits({ 0: 3, 2: 3, 7: 1 }),
    ...Array(3).fill(orbits({ 0: 1, 1: 2, 6: 1 })),
  ]);
  // Path 0-1-2-3.
  t.same(orbitCounts(graph(4, [[0, 1], [1, 2], [2, 3]])), [
    orbits({ 0: 1, 1: 1, 4: 1 }),
    orbits({ 0: 2, 1: 1, 2: 1, 5: 1 }),
    orbits({ 0: 2, 1: 1, 2: 1, 5: 1 }),
    orbits({ 0: 1, 1: 1, 4: 1 }),
  ]);
  // C4: every node ends two 3-paths, is the middle of one, and lies on the 4-cycle.
  t.same(orbitCounts(cycleGraph(4)), Array(4).fill(orbits({ 0: 2, 1: 2, 2: 1, 8: 1 })));
  // C_k, k >= 5: two 4-paths end at each node and two pass through it.
  for (const k of [5, 8, 20]) t.same(orbitCounts(cycleGraph(k)), Array(k).fill(orbits({ 0: 2, 1: 2, 2: 1, 4: 2, 5: 2 })), `C${k}`);
  // Paw: triangle 0-1-2 with 3 hanging from 2.
  t.same(orbitCounts(graph(4, [[0, 1], [1, 2], [2, 0], [2, 3]])), [
    orbits({ 0: 2, 1: 1, 3: 1, 10: 1 }),
    orbits({ 0: 2, 1: 1, 3: 1, 10: 1 }),
    orbits({ 0: 3, 2: 2, 3: 1, 11: 1 }),
    orbits({ 0: 1, 1: 2, 9: 1 }),
  ]);
  // Diamond: K4 less the edge 0-3; 0 and 3 end the induced paths 0-1-3 and 0-2-3, 1 and 2 are their middles.
  t.same(orbitCounts(graph(4, [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]])), [
    orbits({ 0: 2, 1: 2, 3: 1, 12: 1 }),
    orbits({ 0: 3, 2: 1, 3: 2, 13: 1 }),
    orbits({ 0: 3, 2: 1, 3: 2, 13: 1 }),
    orbits({ 0: 2, 1: 2, 3: 1, 12: 1 }),
  ]);
  t.same(orbitCounts(graph(3, [])), Array(3).fill(orbits({})), 'isolated nodes count nothing');
  t.same(orbitCounts(graph(0, [])), []);
});

t.test('orbit counts agree with brute force on random graphs', async (t) => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 60; trial++) {
    const g = randomGraph(rng, rng.int(1, 11), [0.15, 0.3, 0.6, 0.9][trial % 4]);
    t.same(orbitCounts(g), bruteForceOrbits(g), `n=${g.numNodes} m=${g.edges.length}`);
  }
});

t.test('orbit counts follow the nodes under relabelling', async (t) => {
  const rng = new Rng(8);
  const g = makeFamily('community').sample(rng);
  const perm = rng.permutation(g.numNodes);
  const relabelled = orbitCounts({ numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [perm[u], perm[v]] as const) });
  const original = orbitCounts(g);
  t.same(original.map((_, v) => relabelled[perm[v]]), original);
});

t.test('degree histogram as networkx.degree_histogram', async (t) => {
  t.same(degreeHistogram(cycleGraph(7)), [0, 0, 7]);
  t.same(degreeHistogram(graph(4, [[0, 1], [0, 2], [0, 3]])), [0, 3, 0, 1]);
  t.same(degreeHistogram(graph(2, [])), [2]);
  t.same(degreeHistogram(graph(0, [])), []);
});

t.test('clustering coefficients as networkx.clustering', async (t) => {
  // Paw: the pendant and the degree-3 node see 0 and 1 of 3 neighbour pairs linked.
  t.same(clusteringCoefficients(graph(4, [[0, 1], [1, 2], [2, 0], [2, 3]])), [1, 1, 1 / 3, 0]);
  t.same(clusteringCoefficients(cycleGraph(6)), Array(6).fill(0));
  t.same(clusteringCoefficients(graph(4, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])), Array(4).fill(1));
  // Wheel W5: hub with 4 rim triangles out of 6 pairs; rim nodes 2 of 3.
  const wheel = graph(5, [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [4, 1]]);
  t.same(clusteringCoefficients(wheel), [4 / 6, 2 / 3, 2 / 3, 2 / 3, 2 / 3]);
});

t.test('histogram bins as numpy.histogram(range=(0, 1))', async (t) => {
  const bin = (x: number): number => histogram([x], CLUSTERING_BINS, [0, 1]).indexOf(1);
  t.equal(bin(0), 0);
  t.equal(bin(1), 99, 'the right edge goes into the last bin');
  t.equal(bin(1 / 3), 33);
  t.equal(bin(2 / 3), 66);
  // 0.29 * 100 is 28.999999999999996 but numpy's edge 29 * 0.01 is 0.29: bin 29.
  t.equal(bin(0.29), 29);
  // 0.57 * 100 is 56.99999999999999 and numpy's edge 57 * 0.01 is 0.5700000000000001: bin 56.
  t.equal(bin(0.57), 56);
  t.equal(bin(0.07), 7);
  t.same(histogram([-0.1, 1.1, Number.NaN], 4, [0, 1]), [0, 0, 0, 0], 'values outside [0, 1] are dropped');
  t.same(histogram([0, 0.25, 0.5, 0.75, 1], 4, [0, 1]), [1, 1, 1, 2]);
  t.throws(() => histogram([0.5], 0, [0, 1]));
  t.throws(() => histogram([0.5], 2, [1, 1]));
});

t.test('graphStatistics: the three GraphRNN features', async (t) => {
  const s = graphStatistics(cycleGraph(12));
  t.same(s.degreeHistogram, [0, 0, 12]);
  t.equal(s.clusteringHistogram.length, CLUSTERING_BINS);
  t.equal(s.clusteringHistogram[0], 12);
  t.same(s.orbitMeans, orbits({ 0: 2, 1: 2, 2: 1, 4: 2, 5: 2 }));
  const grid = graphStatistics(gridGraph(3, 3));
  t.same(grid.degreeHistogram, [0, 0, 4, 4, 1]);
  // 4 squares, each on 4 nodes: orbit 8 sums to 16 over 9 nodes.
  t.equal(grid.orbitMeans[8], 16 / 9);
  t.same(meanOrbitCounts([orbits({ 0: 1 }), orbits({ 0: 3, 14: 2 })]), orbits({ 0: 2, 14: 1 }));
});
