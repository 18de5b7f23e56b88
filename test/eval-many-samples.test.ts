import t from 'tap';
import { cycleGraph, makeFamily } from '../graphs/families';
import type { Graph } from '../graphs/graph';
import { mmdSquared, DEGREE_MMD } from '../eval/mmd';
import { evaluateSamples } from '../eval/quality';

// `eval --n 200000` crashed: Math.max(...samples) spreads one argument per sample, and V8 takes
// about 120,000 before "Maximum call stack size exceeded". Sampling 200,000 graphs takes minutes,
// so the measures are checked directly on that many graphs.
const N = 200_000;

t.test('200,000 samples are evaluated, not a stack overflow', async (t) => {
  // Mostly empty graphs, which cost little to measure; every 1000th a cycle of 3, 4, 5 nodes in turn.
  const samples: Graph[] = Array.from({ length: N }, (_, i) => (i % 1000 ? { numNodes: 0, edges: [] } : cycleGraph(3 + ((i / 1000) % 3))));
  const r = evaluateSamples(samples, [cycleGraph(3)], [cycleGraph(4), cycleGraph(6)], makeFamily('cycles', { minNodes: 3, maxNodes: 6 }));
  t.equal(r.samples, N);
  t.same(r.sizeHistogram, [N - 200, 0, 0, 67, 67, 66]);
  t.equal(r.validity, 200 / N, 'the cycles');
  t.equal(r.uniqueness, 4 / N, 'C3, C4, C5 and the empty graph');
  t.ok(r.mmd.degree !== null && r.mmd.degree < 1e-9, 'every cycle has the degree histogram of the test cycles');
});

t.test('mmdSquared takes 200,000 vectors on a side', async (t) => {
  const x = Array.from({ length: N }, (_, i) => (i % 2 ? [0, 0, 4] : [0, 0, 4, 0]));
  t.ok(Math.abs(mmdSquared(x, [[0, 0, 3]], DEGREE_MMD)) < 1e-9, 'padding to the longest vector: all equal to the other side');
});
