import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Graph } from '../graphs/graph';
import { gridGraph } from '../graphs/families';
import { PlanarGrowth, PlanarityTest, isPlanar } from '../graphs/planarity';
import { Rng } from '../graphs/random';

// Written by test/fixtures/families/planarity.py: networkx's check_planarity on each graph.
const FIXTURE = resolve(__dirname, '..', '..', 'test', 'fixtures', 'families', 'planarity.jsonl');

const complete = (n: number): Graph => {
  const edges: [number, number][] = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) edges.push([v, u]);
  return { numNodes: n, edges };
};

t.test("agrees with networkx's check_planarity on every fixture graph", async (t) => {
  const lines = readFileSync(FIXTURE, 'utf8').trim().split('\n');
  let planar = 0;
  let nonPlanarUnderEuler = 0;
  const wrong: number[] = [];
  const graphs = lines.map((line) => JSON.parse(line) as { num_nodes: number; edges: [number, number][]; planar: boolean });
  // one test laid out for the largest graph and reused for all: no state may leak from one graph to the next
  const reused = new PlanarityTest(Math.max(...graphs.map((d) => d.num_nodes)), Math.max(...graphs.map((d) => d.edges.length)));
  const wrongReused: number[] = [];
  graphs.forEach((d, i) => {
    const g: Graph = { numNodes: d.num_nodes, edges: d.edges };
    if (isPlanar(g) !== d.planar) wrong.push(i + 1);
    const eu = Int32Array.from(d.edges, (e) => e[0]);
    const ev = Int32Array.from(d.edges, (e) => e[1]);
    if (reused.test(d.num_nodes, d.edges.length, eu, ev) !== d.planar) wrongReused.push(i + 1);
    if (d.planar) planar++;
    else if (g.edges.length <= 3 * g.numNodes - 6) nonPlanarUnderEuler++;
  });
  t.same(wrong, [], 'fixture lines where the verdicts differ');
  t.same(wrongReused, [], 'fixture lines where the reused test differs');
  // The fixture must hold both verdicts, and non-planar graphs the edge count alone cannot reject.
  t.ok(planar > 100 && nonPlanarUnderEuler > 100, `${planar} planar, ${nonPlanarUnderEuler} non-planar within the Euler bound`);
});

t.test('the classic cases', async (t) => {
  t.equal(isPlanar(complete(4)), true);
  t.equal(isPlanar(complete(5)), false);
  const k33: Graph = { numNodes: 6, edges: [[0, 3], [0, 4], [0, 5], [1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5]] };
  t.equal(isPlanar(k33), false);
  t.equal(isPlanar({ numNodes: 6, edges: k33.edges.slice(1) }), true, 'K3,3 minus an edge');
  t.equal(isPlanar({ numNodes: 0, edges: [] }), true);
  t.equal(isPlanar(gridGraph(19, 19)), true);
  // The order edges are listed in does not matter.
  t.equal(isPlanar({ numNodes: 6, edges: [...k33.edges].reverse() }), false);
});

t.test('PlanarGrowth answers for every candidate edge of the newest node what isPlanar says of the graph with it', async (t) => {
  const rng = new Rng(17);
  let asked = 0;
  let refused = 0;
  const wrong: string[] = [];
  for (let trial = 0; trial < 30; trial++) {
    const n = rng.int(5, 16);
    const growth = new PlanarGrowth(n);
    const edges: Array<[number, number]> = [];
    for (let v = 0; v < n; v++) {
      growth.addNode();
      // the newest node tries a random number of random earlier nodes, keeping the edges that stay planar
      for (let k = rng.int(0, v); k > 0; k--) {
        for (let u = 0; u < v; u++) {
          const has = edges.some(([a, b]) => a === u && b === v);
          const want = has || isPlanar({ numNodes: v + 1, edges: [...edges, [u, v]] });
          asked++;
          if (!want) refused++;
          if (growth.keepsPlanar(u) !== want) wrong.push(`trial ${trial}, edge ${u}-${v} after ${JSON.stringify(edges)}`);
        }
        const u = rng.int(0, v - 1);
        if (!edges.some(([a, b]) => a === u && b === v) && growth.keepsPlanar(u)) {
          growth.addEdge(u);
          edges.push([u, v]);
        }
      }
    }
  }
  t.same(wrong, [], 'every answer agrees');
  t.ok(refused > 50 && asked - refused > 50, `${asked} candidate edges asked, ${refused} of them non-planar`);
});
