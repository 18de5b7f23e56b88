import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Graph } from '../graphs/graph';
import { blockModelGraph, gridGraph, makeFamily, randomLobster, triangulation } from '../graphs/families';
import { fitBlockModel, sbmTestPValue } from '../graphs/blockmodel';
import { isPlanar } from '../graphs/planarity';
import { Rng } from '../graphs/random';
import { loadConfig } from '../pipeline/config';

const ROOT = resolve(__dirname, '..', '..');
const fixture = JSON.parse(readFileSync(resolve(ROOT, 'test', 'fixtures', 'families', 'measures.json'), 'utf8')) as {
  delaunay: { points: [number, number][]; edges: [number, number][] }[];
};
const sortedEdges = (g: Graph): number[][] => g.edges.map(([u, v]) => [Math.min(u, v), Math.max(u, v)]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

t.test("planar: the Delaunay triangulation has exactly scipy.spatial.Delaunay's edges", async (t) => {
  for (const { points, edges } of fixture.delaunay) {
    t.same(sortedEdges(triangulation(Float64Array.from(points.flat()))), edges, `${points.length} points`);
  }
});

t.test('planar: 64 nodes, maximal planar but for the hull, connected, all valid', async (t) => {
  const planar = makeFamily('planar');
  const rng = new Rng(4);
  for (let i = 0; i < 20; i++) {
    const g = planar.sample(rng);
    t.equal(g.numNodes, 64);
    // A triangulation with h hull nodes has 3n - 3 - h edges.
    t.ok(g.edges.length <= 3 * 64 - 6 && g.edges.length >= 3 * 64 - 3 - 20, `${g.edges.length} edges`);
    t.ok(planar.isValid(g));
  }
  const k5: Graph = { numNodes: 5, edges: [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [1, 3], [1, 4], [2, 3], [2, 4], [3, 4]] };
  t.notOk(planar.isValid(k5), 'K5 is not planar');
  t.notOk(planar.isValid({ numNodes: 4, edges: [[0, 1], [2, 3]] }), 'planar but disconnected');
  t.ok(planar.isValid(gridGraph(3, 3)), "SPECTRE's predicate does not look at the size");
});

t.test("sbm: SPECTRE's set, fitted back to its blocks, passes the block-model test", async (t) => {
  const sbm = makeFamily('sbm');
  const rng = new Rng(11);
  let valid = 0;
  let recovered = 0;
  const N = 40;
  for (let i = 0; i < N; i++) {
    const g = sbm.sample(rng);
    t.ok(g.numNodes >= 40 && g.numNodes <= 200);
    if (sbm.isValid(g)) valid++;
    // With one block size the generator's blocks are nodes size * b .. size * (b + 1) - 1.
    const size = 20 + 10 * (i % 3);
    const blocks = 2 + (i % 4);
    const h = blockModelGraph({ minBlocks: blocks, maxBlocks: blocks, minBlockSize: size, maxBlockSize: size, pIntra: 0.3, pInter: 0.005 }, rng);
    const planted = Int32Array.from({ length: h.numNodes }, (_, v) => Math.floor(v / size));
    if (samePartition(fitBlockModel(h, 7).of, planted)) recovered++;
  }
  t.ok(recovered >= 0.9 * N, `planted partition recovered in ${recovered} of ${N}`);
  t.ok(valid >= 0.75 * N, `${valid} of ${N} pass (SPECTRE's own test rejects some true SBM graphs, e.g. two blocks with no edge between them)`);
});

t.test('sbm: other graphs fail the block-model test', async (t) => {
  const rng = new Rng(12);
  const shape = { minBlocks: 2, maxBlocks: 5, minBlockSize: 20, maxBlockSize: 40, pIntra: 0.3, pInter: 0.005 };
  const lobsters = Array.from({ length: 10 }, () => randomLobster(10, 0.7, 0.7, rng)).filter((g) => g.numNodes >= 40);
  t.ok(lobsters.length > 0);
  for (const g of lobsters) t.ok(sbmTestPValue(g, shape) <= 0.9, `lobster of ${g.numNodes} nodes`);
  // Too many blocks, too small blocks, a denser model, one Erdős–Rényi block.
  const wrong = [
    blockModelGraph({ ...shape, minBlocks: 8, maxBlocks: 8 }, rng),
    blockModelGraph({ ...shape, minBlockSize: 8, maxBlockSize: 10 }, rng),
    blockModelGraph({ ...shape, pIntra: 0.6, pInter: 0.1 }, rng),
    blockModelGraph({ ...shape, minBlocks: 1, maxBlocks: 1, minBlockSize: 120, maxBlockSize: 120 }, rng),
  ];
  wrong.forEach((g, i) => t.ok(sbmTestPValue(g, shape) <= 0.9, `wrong model ${i}`));
  t.equal(sbmTestPValue({ numNodes: 0, edges: [] }, shape), 0);
});

t.test('the shipped benchmark configs', async (t) => {
  const planar = loadConfig(resolve(ROOT, 'configs', 'planar.json'));
  t.same([planar.data.family, planar.data.trainSize, planar.data.testSize], ['planar', 128, 40], "SPECTRE's 128 training and 40 test graphs");
  const sbm = loadConfig(resolve(ROOT, 'configs', 'sbm.json'));
  t.same([sbm.data.family, sbm.data.trainSize, sbm.data.testSize], ['sbm', 128, 40]);
  const lobsters = loadConfig(resolve(ROOT, 'configs', 'lobsters-gran.json'));
  t.same(lobsters.data.familyParams, { meanBackbone: 80, p1: 0.7, p2: 0.7, minNodes: 10, maxNodes: 100 }, "GRAN's random_lobster(80, 0.7, 0.7), 10..100 nodes");
  t.same([lobsters.data.trainSize, lobsters.data.testSize], [80, 20]);
  const grids = loadConfig(resolve(ROOT, 'configs', 'grids.json'));
  t.same(grids.data.familyParams, { minSide: 10, maxSide: 19 }, "GraphRNN's sides 10..19: 100 to 361 nodes");
  t.same([grids.data.trainSize, grids.data.testSize], [80, 20]);
  for (const c of [planar, sbm, lobsters, grids]) {
    const family = makeFamily(c.data.family, c.data.familyParams);
    const rng = new Rng(3);
    const sizes = Array.from({ length: 20 }, () => family.sample(rng).numNodes);
    t.ok(sizes.every((n) => n <= c.sample.vMax), `${c.data.family}: sample.vMax ${c.sample.vMax} holds every size (${Math.max(...sizes)})`);
  }
});

t.test('lobsters in GRAN form: 10 to 100 nodes, every one a lobster', async (t) => {
  const lobsters = makeFamily('lobsters', { meanBackbone: 80, minNodes: 10, maxNodes: 100 });
  const rng = new Rng(5);
  for (let i = 0; i < 30; i++) {
    const g = lobsters.sample(rng);
    t.ok(g.numNodes >= 10 && g.numNodes <= 100 && lobsters.isValid(g) && isPlanar(g));
  }
});

function samePartition(a: Int32Array, b: Int32Array): boolean {
  const map = new Map<number, number>();
  const back = new Map<number, number>();
  for (let v = 0; v < a.length; v++) {
    if ((map.get(a[v]) ?? b[v]) !== b[v] || (back.get(b[v]) ?? a[v]) !== a[v]) return false;
    map.set(a[v], b[v]);
    back.set(b[v], a[v]);
  }
  return true;
}
