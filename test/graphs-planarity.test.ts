import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Graph } from '../graphs/graph';
import { gridGraph } from '../graphs/families';
import { isPlanar } from '../graphs/planarity';

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
  lines.forEach((line, i) => {
    const d = JSON.parse(line) as { num_nodes: number; edges: [number, number][]; planar: boolean };
    const g: Graph = { numNodes: d.num_nodes, edges: d.edges };
    if (isPlanar(g) !== d.planar) wrong.push(i + 1);
    if (d.planar) planar++;
    else if (g.edges.length <= 3 * g.numNodes - 6) nonPlanarUnderEuler++;
  });
  t.same(wrong, [], 'fixture lines where the verdicts differ');
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
