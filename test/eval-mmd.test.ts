import t from 'tap';
import { Graph } from '../graphs/graph';
import { cycleGraph, gridGraph, makeFamily } from '../graphs/families';
import { Rng } from '../graphs/random';
import { CLUSTERING_MMD, CLUSTERING_MMD_TV, DEGREE_MMD, DEGREE_MMD_TV, MmdSettings, ORBIT_MMD, mmdSquared } from '../eval/mmd';
import { GraphStatistics, graphStatistics } from '../eval/stats';

const EMD_1: MmdSettings = { ...DEGREE_MMD, sigma: 1 };

const graph = (numNodes: number, edges: Array<readonly [number, number]>): Graph => ({ numNodes, edges });
const features = {
  degree: (s: GraphStatistics): number[] => s.degreeHistogram,
  clustering: (s: GraphStatistics): number[] => s.clusteringHistogram,
  orbit: (s: GraphStatistics): number[] => s.orbitMeans,
};
const SETTINGS = { degree: DEGREE_MMD, clustering: CLUSTERING_MMD, orbit: ORBIT_MMD };

function mmdOf(a: readonly Graph[], b: readonly Graph[], which: keyof typeof features): number {
  const pick = features[which];
  return mmdSquared(a.map(graphStatistics).map(pick), b.map(graphStatistics).map(pick), SETTINGS[which]);
}

t.test("GraphRNN's own mmd.py example, computed by hand", async (t) => {
  // EMDs between the pmfs are |first entry differences|: 0.1 within each set, 0.05 or 0.15 across.
  const k = (d: number): number => Math.exp(-(d * d) / 2);
  const within = (2 + 2 * k(0.1)) / 4;
  const across = (3 * k(0.05) + k(0.15)) / 4;
  const got = mmdSquared([[0.2, 0.8], [0.3, 0.7]], [[0.25, 0.75], [0.35, 0.65]], EMD_1);
  t.ok(Math.abs(got - (2 * within - 2 * across)) < 1e-12, `${got}`);
  const far = mmdSquared([[0.2, 0.8], [0.3, 0.7]], [[0.8, 0.2], [0.7, 0.3]], EMD_1);
  t.ok(far > got, 'the mirrored set is farther');
});

t.test('single histograms: 2 - 2 k(EMD)', async (t) => {
  // Path P3 [0, 2, 1] against a cycle [0, 0, 3]: cumulative [0, 2/3, 1] vs [0, 0, 1], EMD 2/3.
  const got = mmdSquared([[0, 2, 1]], [[0, 0, 3]], DEGREE_MMD);
  t.ok(Math.abs(got - (2 - 2 * Math.exp(-(4 / 9) / 2))) < 1e-12);
  // Unnormalised counts and trailing zeros do not matter.
  t.equal(mmdSquared([[0, 4, 2, 0, 0]], [[0, 0, 1]], DEGREE_MMD), got);
  // Clustering: mass moved by 50 bins of width 1/100 is an EMD of 0.5, with sigma 0.1.
  const a = new Array<number>(100).fill(0);
  const b = new Array<number>(100).fill(0);
  a[0] = 1;
  b[50] = 1;
  t.ok(Math.abs(mmdSquared([a], [b], CLUSTERING_MMD) - (2 - 2 * Math.exp(-(0.25 / 0.02)))) < 1e-12);
  // Orbits: Euclidean distance 30 = sigma.
  t.ok(Math.abs(mmdSquared([[0, 0]], [[18, 24]], ORBIT_MMD) - (2 - 2 * Math.exp(-0.5))) < 1e-12);
});

t.test('reference values from networkx, numpy.histogram and an LP earth mover distance', async (t) => {
  // Computed with GraphRNN's compute_mmd, the EMD solved as a transport LP (scipy) instead of pyemd.
  const x = [cycleGraph(5), cycleGraph(6), graph(4, [[0, 1], [1, 2], [2, 3]]), graph(4, [[0, 1], [1, 2], [2, 0], [2, 3]])];
  const y = [
    graph(4, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]),
    graph(4, [[0, 1], [0, 2], [0, 3]]),
    gridGraph(2, 3),
    graph(5, [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [2, 3], [3, 4], [4, 1]]),
  ];
  t.ok(Math.abs(mmdOf(x, y, 'degree') - 0.3480682335339198) < 1e-12);
  t.ok(Math.abs(mmdOf(x, y, 'clustering') - 0.2504892658761182) < 1e-12);
});

t.test('identical sets give 0, and MMD is symmetric', async (t) => {
  const rng = new Rng(3);
  const community = makeFamily('community');
  const lobsters = makeFamily('lobsters');
  const a = Array.from({ length: 30 }, () => community.sample(rng));
  const b = Array.from({ length: 25 }, () => lobsters.sample(rng));
  for (const which of ['degree', 'clustering', 'orbit'] as const) {
    t.ok(Math.abs(mmdOf(a, a, which)) < 1e-12, `${which}: identical`);
    t.ok(Math.abs(mmdOf(a, [...a].reverse(), which)) < 1e-12, `${which}: same set, other order`);
    t.ok(Math.abs(mmdOf(a, b, which) - mmdOf(b, a, which)) < 1e-12, `${which}: symmetric`);
    t.ok(mmdOf(a, b, which) > 1e-3, `${which}: different families differ`);
  }
});

t.test('ordering: cycles are nearer to cycles than to cycles with a chord, and nearer to those than to trees', async (t) => {
  const rng = new Rng(4);
  const cycles = makeFamily('cycles');
  const trees = makeFamily('trees');
  const draw = (n: number): Graph[] => Array.from({ length: n }, () => cycles.sample(rng));
  // The chord closes a triangle: two nodes of degree 3, three nodes with nonzero clustering.
  const withChord = (g: Graph): Graph => {
    const u = rng.int(0, g.numNodes - 1);
    return { numNodes: g.numNodes, edges: [...g.edges, [u, (u + 2) % g.numNodes] as const] };
  };
  const reference = draw(40);
  const more = draw(40);
  const noisy = draw(40).map(withChord);
  const treeSet = Array.from({ length: 40 }, () => trees.sample(rng));
  for (const which of ['degree', 'orbit'] as const) {
    const same = mmdOf(reference, more, which);
    const near = mmdOf(reference, noisy, which);
    const far = mmdOf(reference, treeSet, which);
    t.ok(same < near && near < far, `${which}: ${same} < ${near} < ${far}`);
  }
  // Cycles and trees have no triangles: every clustering coefficient is 0 in both.
  t.equal(mmdOf(reference, more, 'clustering'), 0);
  t.equal(mmdOf(reference, treeSet, 'clustering'), 0);
  t.ok(mmdOf(reference, noisy, 'clustering') > 0.01);
});

t.test('bad input is refused', async (t) => {
  t.throws(() => mmdSquared([], [[1]], DEGREE_MMD), /both sets/);
  t.throws(() => mmdSquared([[0, 0]], [[1]], DEGREE_MMD), /cannot be normalised/);
  t.throws(() => mmdSquared([[1]], [[1]], { ...DEGREE_MMD, sigma: 0 }), /sigma/);
});

t.test("GRAN's gaussian_tv: total variation between normalised histograms, no bin scaling", async (t) => {
  // Path P3 [0, 2, 1] against a cycle [0, 0, 3]: pmfs [0, 2/3, 1/3] and [0, 0, 1], TV (2/3 + 2/3) / 2.
  const got = mmdSquared([[0, 2, 1]], [[0, 0, 3]], DEGREE_MMD_TV);
  t.ok(Math.abs(got - (2 - 2 * Math.exp(-(4 / 9) / 2))) < 1e-12, `${got}`);
  t.equal(mmdSquared([[0, 4, 2, 0, 0]], [[0, 0, 1]], DEGREE_MMD_TV), got, 'unnormalised counts and padding do not matter');
  // Mass moved by one bin or by 50 is the same TV (1), unlike the EMD (0.01 and 0.5).
  const at = (i: number): number[] => Array.from({ length: 100 }, (_, j) => (j === i ? 1 : 0));
  const tv = 2 - 2 * Math.exp(-1 / 0.02);
  t.ok(Math.abs(mmdSquared([at(0)], [at(1)], CLUSTERING_MMD_TV) - tv) < 1e-12);
  t.ok(Math.abs(mmdSquared([at(0)], [at(50)], CLUSTERING_MMD_TV) - tv) < 1e-12);
  t.ok(mmdSquared([at(0)], [at(1)], CLUSTERING_MMD) < 0.01, 'the EMD kernel sees a one-bin move as small');
});
