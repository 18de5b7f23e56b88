import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Graph } from '../graphs/graph';
import { cycleGraph, makeFamily } from '../graphs/families';
import { symmetricEigen } from '../graphs/eigen';
import { Rng } from '../graphs/random';
import { CLUSTERING_MMD_TV, DEGREE_MMD_TV, ORBIT_MMD_TV, SPECTRUM_MMD_TV, mmdSquared } from '../eval/mmd';
import { graphStatistics, normalizedLaplacianSpectrum } from '../eval/stats';
import { evaluateSamples } from '../eval/quality';

// Written by test/fixtures/families/measures.py (numpy, scipy, networkx; GRAN's compute_mmd).
interface Fixture {
  x: { num_nodes: number; edges: [number, number][] }[];
  y: { num_nodes: number; edges: [number, number][] }[];
  spectra: number[][];
  orbit_means: { x: number[][]; y: number[][] };
  mmd: { degree: number; clustering: number; spectrum: number; orbit: number };
}
const fixture = JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'test', 'fixtures', 'families', 'measures.json'), 'utf8')) as Fixture;
const graphs = (list: Fixture['x']): Graph[] => list.map((g) => ({ numNodes: g.num_nodes, edges: g.edges }));
const X = graphs(fixture.x);
const Y = graphs(fixture.y);

t.test('normalised Laplacian spectra equal numpy.linalg.eigvalsh of networkx.normalized_laplacian_matrix', async (t) => {
  [...X, ...Y].forEach((g, i) => {
    const got = normalizedLaplacianSpectrum(g);
    const want = fixture.spectra[i];
    t.equal(got.length, want.length);
    const err = want.reduce((m, w, k) => Math.max(m, Math.abs(w - got[k])), 0);
    t.ok(err < 1e-12, `graph ${i}: largest difference ${err}`);
  });
});

t.test('eigenvectors: A v = lambda v and V^T V = I to round-off', async (t) => {
  const rng = new Rng(9);
  for (const n of [1, 2, 7, 40]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, n, true);
    const V = vectors as Float64Array;
    let residual = 0;
    let orthogonality = 0;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * V[j * n + k];
        residual = Math.max(residual, Math.abs(av - values[k] * V[i * n + k]));
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += V[i * n + k] * V[i * n + l];
        orthogonality = Math.max(orthogonality, Math.abs(dot - (k === l ? 1 : 0)));
      }
    }
    t.ok(residual < 1e-12 && orthogonality < 1e-12, `n ${n}: residual ${residual}, orthogonality ${orthogonality}`);
    const alone = symmetricEigen(a, n).values;
    t.ok(alone.every((x, k) => Math.abs(x - values[k]) < 1e-12), 'values computed without vectors agree');
    t.ok(values.every((x, k) => k === 0 || values[k - 1] <= x), 'ascending');
  }
  t.throws(() => symmetricEigen([1, 2, 3], 2), /needs 4 entries/);
});

t.test("GRAN's Gaussian-TV MMDs equal GRAN's compute_mmd on the same graphs", async (t) => {
  const sx = X.map(graphStatistics);
  const sy = Y.map(graphStatistics);
  const close = (got: number, want: number, what: string): void => {
    t.ok(Math.abs(got - want) < 1e-12, `${what}: ${got} vs ${want}`);
  };
  close(mmdSquared(sx.map((s) => s.degreeHistogram), sy.map((s) => s.degreeHistogram), DEGREE_MMD_TV), fixture.mmd.degree, 'degree');
  close(mmdSquared(sx.map((s) => s.clusteringHistogram), sy.map((s) => s.clusteringHistogram), CLUSTERING_MMD_TV), fixture.mmd.clustering, 'clustering');
  close(mmdSquared(sx.map((s) => s.spectrumHistogram), sy.map((s) => s.spectrumHistogram), SPECTRUM_MMD_TV), fixture.mmd.spectrum, 'spectrum');
  close(mmdSquared(fixture.orbit_means.x, fixture.orbit_means.y, ORBIT_MMD_TV), fixture.mmd.orbit, 'orbit means');
});

t.test('V.U.N.: valid, not isomorphic to an earlier sample, not isomorphic to a training graph', async (t) => {
  const cycles = makeFamily('cycles', { minNodes: 3, maxNodes: 10 });
  const relabelled = (g: Graph): Graph => ({ numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [(u + 1) % g.numNodes, (v + 1) % g.numNodes] as const) });
  const path: Graph = { numNodes: 4, edges: [[0, 1], [1, 2], [2, 3]] };
  // C5 (in training), C6, C6 again (relabelled), a path (invalid), C7, C7 again, C12 (too large).
  const samples = [cycleGraph(5), cycleGraph(6), relabelled(cycleGraph(6)), path, cycleGraph(7), cycleGraph(7), cycleGraph(12)];
  const r = evaluateSamples(samples, [cycleGraph(5)], [cycleGraph(6)], cycles);
  t.equal(r.vun, 2 / 7, 'only the first C6 and the first C7');
  t.equal(r.validity, 5 / 7);
  t.equal(evaluateSamples(samples, [], [cycleGraph(6)], null).vun, null, 'no family, no V.U.N.');
});

t.test('the same samples give the same report', async (t) => {
  const planar = makeFamily('planar', { numNodes: 20 });
  const draw = (seed: number): Graph[] => Array.from({ length: 30 }, (_, i) => planar.sample(Rng.derive(seed, i)));
  const a = evaluateSamples(draw(1), draw(2), draw(3), planar);
  t.same(evaluateSamples(draw(1), draw(2), draw(3), planar), a);
  t.equal(a.validity, 1);
  t.equal(a.vun, 1, 'random triangulations of 20 points are all distinct');
  t.ok(a.mmdTv.spectrum !== null && a.mmdTv.spectrum > 0 && a.mmdTv.spectrum < 0.05, `spectrum MMD between two draws of the family is small: ${a.mmdTv.spectrum}`);
});
