import t from 'tap';
import { Graph } from '../graphs/graph';
import { cycleGraph, makeFamily, randomTree } from '../graphs/families';
import { Rng } from '../graphs/random';
import { evaluateSamples } from '../eval/quality';

const relabel = (g: Graph, rng: Rng): Graph => {
  const perm = rng.permutation(g.numNodes);
  return { numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [perm[u], perm[v]] as const) };
};
const path = (n: number): Graph => ({ numNodes: n, edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const) });

t.test('validity, uniqueness and novelty by exact isomorphism', async (t) => {
  const rng = new Rng(1);
  const cycles = makeFamily('cycles');
  // Two relabelled copies of C12 count once; C13 and C14 are new; the paths are not cycles.
  const samples = [cycleGraph(12), relabel(cycleGraph(12), rng), cycleGraph(13), relabel(cycleGraph(14), rng), path(12), path(12)];
  const train = [relabel(cycleGraph(12), rng), cycleGraph(15)];
  const r = evaluateSamples(samples, train, [cycleGraph(16)], cycles);
  t.equal(r.samples, 6);
  t.equal(r.validity, 4 / 6);
  t.equal(r.uniqueness, 4 / 6, 'distinct classes C12, C13, C14, P12 over 6 samples');
  t.equal(r.novelty, 4 / 6, 'both C12 copies are in the training set');
  t.equal(r.meanNodes, (12 + 12 + 13 + 14 + 12 + 12) / 6);
  t.equal(r.meanEdges, (12 + 12 + 13 + 14 + 11 + 11) / 6);
  t.same(r.sizeHistogram, [...new Array<number>(12).fill(0), 4, 1, 1]);
});

t.test('no family: validity is null; no training graphs: everything is novel', async (t) => {
  const r = evaluateSamples([cycleGraph(5)], [], [cycleGraph(6)], null);
  t.equal(r.validity, null);
  t.equal(r.novelty, 1);
  t.equal(r.uniqueness, 1);
});

t.test('MMD: zero for cycles against cycles, positive against trees; empty graphs are left out', async (t) => {
  const rng = new Rng(2);
  const cycles = Array.from({ length: 20 }, (_, i) => cycleGraph(5 + i));
  const same = evaluateSamples(cycles, [], cycles.slice(3, 9), null);
  t.same(same.mmd, { degree: 0, clustering: 0, orbit: 0 }, 'all cycles of 5 or more nodes share every statistic');
  t.same({ ...same.mmdTv, spectrum: 0 }, { degree: 0, clustering: 0, orbit: 0, spectrum: 0 }, 'GRAN kernels too');
  t.ok(same.mmdTv.spectrum !== null && same.mmdTv.spectrum > 0, 'but cycles of different lengths have different spectra');
  const trees = Array.from({ length: 20 }, () => randomTree(rng.int(10, 20), rng));
  const apart = evaluateSamples(cycles, [], trees, null);
  t.ok(apart.mmd.degree !== null && apart.mmd.degree > 0.1);
  t.ok(apart.mmd.orbit !== null && apart.mmd.orbit > 0);
  t.ok(apart.mmdTv.degree !== null && apart.mmdTv.degree > 0.1 && apart.mmdTv.degree !== apart.mmd.degree, 'GRAN degree kernel differs from GraphRNN');
  t.ok(apart.mmdTv.orbit !== null && apart.mmdTv.orbit > 0 && apart.mmdTv.orbit !== apart.mmd.orbit, 'GRAN orbit kernel (TV) differs from GraphRNN (L2)');
  t.match(apart.mmdKernels.mmd, /GraphRNN.*EMD/);
  t.match(apart.mmdKernels.mmdTv, /GRAN.*total variation/);
  const withEmpty = evaluateSamples([...cycles, { numNodes: 0, edges: [] }], [], cycles, null);
  t.same(withEmpty.mmd, same.mmd);
  t.equal(withEmpty.samples, 21);
  t.same(evaluateSamples([{ numNodes: 0, edges: [] }], [], cycles, null).mmd, { degree: null, clustering: null, orbit: null });
  t.same(evaluateSamples(cycles, [], [], null).mmd, { degree: null, clustering: null, orbit: null });
});

t.test('bad input is refused', async (t) => {
  t.throws(() => evaluateSamples([], [], [], null), /no samples/);
  t.throws(() => evaluateSamples([{ numNodes: 2, edges: [[0, 0]] }], [], [], null), /self loop/);
});

// How long these take is a benchmark's question (bench/), not an assertion's.
t.test('1000 samples against 500 test graphs', async (t) => {
  const rng = new Rng(3);
  const cycles = makeFamily('cycles');
  const draw = (n: number): Graph[] => Array.from({ length: n }, () => relabel(cycles.sample(rng), rng));
  const samples = draw(1000);
  const train = draw(500);
  const test = draw(500);
  const r = evaluateSamples(samples, train, test, cycles);
  t.equal(r.validity, 1);
  t.equal(r.novelty, 0, 'every size 10..20 is in 500 training cycles');
  t.equal(r.uniqueness, 11 / 1000);

  const community = makeFamily('community');
  const a = Array.from({ length: 1000 }, () => community.sample(rng));
  const b = Array.from({ length: 500 }, () => community.sample(rng));
  const rc = evaluateSamples(a, b, b, community);
  t.equal(rc.validity, 1, 'samples of the family are valid members of it');
});
