import t from 'tap';
import { Graph } from '../graphs/graph';
import { canonicalForm, isIsomorphic } from '../graphs/canonical';
import { FAMILY_NAMES, cycleGraph, gridGraph, makeFamily } from '../graphs/families';
import { parseGraph6 } from '../graphs/formats';
import { Rng } from '../graphs/random';
import { differs, firstWrong, forAll, trials } from './property';

type Edge = readonly [number, number];

function randomGraph(n: number, p: number, rng: Rng): Graph {
  const edges: Edge[] = [];
  for (let v = 1; v < n; v++) {
    for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  }
  return { numNodes: n, edges: rng.permutation(edges.length).map((i) => edges[i]) };
}

/** `g` under a random relabelling, its edges listed in a random order and direction. */
function shuffled(g: Graph, rng: Rng): Graph {
  const perm = rng.permutation(g.numNodes);
  const edges = g.edges.map(([u, v]): Edge => (rng.uniform() < 0.5 ? [perm[u], perm[v]] : [perm[v], perm[u]]));
  return { numNodes: g.numNodes, edges: rng.permutation(edges.length).map((i) => edges[i]) };
}

const union = (a: Graph, b: Graph): Graph => ({
  numNodes: a.numNodes + b.numNodes,
  edges: [...a.edges, ...b.edges.map(([u, v]) => [u + a.numNodes, v + a.numNodes] as const)],
});

const fromPredicate = (n: number, adjacent: (u: number, v: number) => boolean): Graph => {
  const edges: Edge[] = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) if (adjacent(u, v)) edges.push([u, v]);
  return { numNodes: n, edges };
};

// Both strongly regular with parameters (16, 6, 2, 2): colour refinement alone cannot split a single node.
const rook4x4 = fromPredicate(16, (u, v) => u % 4 === v % 4 || Math.floor(u / 4) === Math.floor(v / 4));
const shrikhande = fromPredicate(16, (u, v) => {
  const da = (((u % 4) - (v % 4)) + 4) % 4;
  const db = ((Math.floor(u / 4) - Math.floor(v / 4)) + 4) % 4;
  return [[0, 1], [0, 3], [1, 0], [3, 0], [1, 1], [3, 3]].some(([a, b]) => a === da && b === db);
});

t.test('relabelled graphs get the same form', async (t) => {
  const rng = new Rng(1);
  forAll(t, 'the same form, and isomorphic, relabelled', trials(150), (trial) => {
    const g = randomGraph(rng.int(0, 30), [0.05, 0.15, 0.5, 0.9][trial % 4], rng);
    const form = canonicalForm(g);
    const wrong = differs(canonicalForm(shuffled(g, rng)), form, `form of ${JSON.stringify(g)} relabelled`);
    return wrong ?? (isIsomorphic(g, shuffled(g, rng)) ? null : `${JSON.stringify(g)} not isomorphic to itself relabelled`);
  });
});

t.test('family samples: relabelled forms agree', async (t) => {
  for (const name of FAMILY_NAMES) {
    const family = makeFamily(name, {});
    forAll(t, `${name}: two relabellings, one form`, trials(20), (k) => {
      const g = family.sample(new Rng(k));
      const rng = new Rng(100 + k);
      return differs(canonicalForm(shuffled(g, rng)), canonicalForm(shuffled(g, rng)), `${name} sample ${k}`);
    });
  }
});

t.test('the form is a graph6 line of an isomorphic graph, and a fixed point', async (t) => {
  const rng = new Rng(2);
  forAll(t, 'the form parses to a graph of the same size whose form it is', trials(30), () => {
    const g = randomGraph(rng.int(1, 20), 0.3, rng);
    const form = canonicalForm(g);
    const h = parseGraph6(form, 'form');
    return firstWrong(differs(h.numNodes, g.numNodes, `nodes of ${form}`), differs(h.edges.length, g.edges.length, `edges of ${form}`), differs(canonicalForm(h), form, `form of ${form}`));
  });
  t.equal(canonicalForm({ numNodes: 0, edges: [] }), '?');
  t.equal(canonicalForm({ numNodes: 1, edges: [] }), '@');
});

/** Every labelled graph on n nodes, one a bit pattern over the node pairs. */
function* allGraphs(n: number): Generator<Graph> {
  const pairs: Edge[] = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) pairs.push([u, v]);
  for (let mask = 0; mask < 1 << pairs.length; mask++) yield { numNodes: n, edges: pairs.filter((_, k) => (mask >> k) & 1) };
}

t.test('forms count the isomorphism classes exactly (OEIS A000088)', async (t) => {
  const classes = [1, 1, 2, 4, 11, 34, 156];
  for (let n = 0; n <= 6; n++) {
    const forms = new Set<string>();
    for (const g of allGraphs(n)) forms.add(canonicalForm(g));
    t.equal(forms.size, classes[n], `${classes[n]} graphs on ${n} nodes`);
  }
});

t.test('non-isomorphic graphs that colour refinement cannot tell apart get different forms', async (t) => {
  const pairs: Array<[string, Graph, Graph]> = [
    ['C6 vs two triangles', cycleGraph(6), union(cycleGraph(3), cycleGraph(3))],
    ['K3,3 vs the prism', fromPredicate(6, (u, v) => u % 2 !== v % 2), { numNodes: 6, edges: [[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3], [0, 3], [1, 4], [2, 5]] }],
    ['C12 vs C5 + C7', cycleGraph(12), union(cycleGraph(5), cycleGraph(7))],
    ['4x4 rook graph vs Shrikhande', rook4x4, shrikhande],
  ];
  const rng = new Rng(3);
  for (const [what, a, b] of pairs) {
    t.equal(a.edges.length, b.edges.length, `${what}: same size`);
    t.not(canonicalForm(a), canonicalForm(b), what);
    t.notOk(isIsomorphic(a, b), what);
    t.equal(canonicalForm(shuffled(a, rng)), canonicalForm(a), `${what}: first relabelled`);
    t.equal(canonicalForm(shuffled(b, rng)), canonicalForm(b), `${what}: second relabelled`);
  }
});

t.test('isIsomorphic', async (t) => {
  t.ok(isIsomorphic(cycleGraph(5), { numNodes: 5, edges: [[0, 2], [2, 4], [4, 1], [1, 3], [3, 0]] }), 'the pentagram is C5');
  t.notOk(isIsomorphic(cycleGraph(5), cycleGraph(6)));
  t.notOk(isIsomorphic({ numNodes: 4, edges: [[0, 1]] }, { numNodes: 4, edges: [[0, 1], [2, 3]] }));
  t.notOk(isIsomorphic({ numNodes: 4, edges: [[0, 1], [0, 2], [0, 3]] }, { numNodes: 4, edges: [[0, 1], [1, 2], [2, 3]] }), 'star vs path');
});

// Their cost once blew up exponentially; a relapse shows as the test's timeout, and its speed in bench/.
t.test('highly symmetric graphs: relabelled forms agree', async (t) => {
  const rng = new Rng(4);
  const star = { numNodes: 41, edges: Array.from({ length: 40 }, (_, i) => [0, i + 1] as const) };
  const triangles = Array.from({ length: 15 }, () => cycleGraph(3)).reduce(union);
  const cases: Array<[string, Graph]> = [
    ['20 x 20 grid', gridGraph(20, 20)],
    ['empty graph on 60 nodes', { numNodes: 60, edges: [] }],
    ['K16', fromPredicate(16, () => true)],
    ['star K1,40', star],
    ['15 disjoint triangles', triangles],
    ['C100', cycleGraph(100)],
    ['Petersen', parseGraph6('IheA@GUAo', 'petersen')],
  ];
  for (const [what, g] of cases) {
    t.equal(canonicalForm(shuffled(g, rng)), canonicalForm(g), what);
  }
});
