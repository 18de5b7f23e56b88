import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { GrowingGraph } from '../graphs/growing';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { distanceBucket } from '../model/distance';
import { initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods } from '../model/teacher';
import { valenceRuleOf } from '../model/valence';
import { rulesOf } from '../model/rules';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';
import { CLUSTER_FORMAT, parseTask } from '../actors/cluster-protocol';
import { checkFiniteDifferences, checkTeacherAgainstReference, randomGraph, randomTypedGraph, testBackend } from './helpers';

/** The destination-distance term (docs/design.md, 'Destination distance'). */

t.before(testBackend);

const ATOMS = ['C', 'N', 'O', 'S'];
const BONDS = ['single', 'double', 'triple'];

/** Fresh parameters with the distance table filled with distinct values (a zero table would hide a wrong bucket). */
function withTable(cfg: ModelConfig, seed: number): { layout: ParamLayout; flat: Float32Array } {
  const layout = paramLayout(cfg);
  const flat = initParams(layout, seed);
  const rng = new Rng(seed + 100);
  const delta = paramView(layout, flat, 'chooseDest.distance');
  for (let i = 0; i < delta.length; i++) delta[i] = 2 * rng.normal();
  return { layout, flat };
}

/** All-pairs distances by Floyd-Warshall over the first `n` nodes and `edges`, -1 where unreachable. */
function allPairs(n: number, edges: ReadonlyArray<readonly [number, number]>): number[][] {
  const d = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : Infinity)));
  for (const [a, b] of edges) d[a][b] = d[b][a] = 1;
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i][j] = Math.min(d[i][j], d[i][k] + d[k][j]);
  return d.map((row) => row.map((x) => (x === Infinity ? -1 : x)));
}

t.test('a growing graph measures breadth-first distances as all-pairs shortest paths do, past its first capacity', async (t) => {
  const rng = new Rng(5);
  let checked = 0;
  for (let trial = 0; trial < 20; trial++) {
    const g = randomGraph(rng, rng.int(1, 14), [0.1, 0.2, 0.5][trial % 3]);
    const grown = new GrowingGraph(1, 1);
    const edges: Array<readonly [number, number]> = [];
    // nodes and edges in generation order: an edge comes with its later end
    for (let v = 0; v < g.numNodes; v++) {
      grown.addNode();
      for (const [a, b] of g.edges) {
        if (Math.max(a, b) !== v) continue;
        grown.addEdge(a, b);
        edges.push([a, b]);
      }
      const want = allPairs(v + 1, edges);
      for (let s = 0; s <= v; s++) {
        const got = Array.from(grown.distancesFrom(s).subarray(0, v + 1));
        if (JSON.stringify(got) !== JSON.stringify(want[s])) t.fail(`trial ${trial}, ${v + 1} nodes, from ${s}: ${got} != ${want[s]}`);
        checked++;
      }
    }
  }
  t.ok(checked > 100, `${checked} distance rows agree`);
  t.same([-1, 1, 2, 3, 4, 7].map((d) => distanceBucket(d, 3)), [3, 0, 1, 2, 2, 2], 'kappa under D = 3: neighbour 0, distance 2 is 1, 3 and beyond are 2, unreachable is 3');
});

/** A ring of 12 nodes in natural order: its last node closes it, at distance 11 from its other end. */
const RING: Graph = { numNodes: 12, edges: Array.from({ length: 12 }, (_, i) => [i, (i + 1) % 12] as const) };

/** Graphs of 1 to 12 nodes, sparse ones among them, so that a new node often has candidates in other components. */
function untypedSeqs(seed: number, count: number): Decisions[] {
  const rng = new Rng(seed);
  const seqs: Decisions[] = [[1], [0, 1, 1], encodeGraph(RING)];
  for (let i = 0; i < count; i++) {
    const g = randomGraph(rng, rng.int(3, 11), [0.15, 0.3, 0.6][i % 3]);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes)));
  }
  return seqs;
}

/** Molecule-like graphs within the valences of C, N, O, S (bonds dropped where an atom is full). */
function moleculeSeqs(cfg: ModelConfig, seed: number, count: number): Decisions[] {
  const rule = valenceRuleOf(cfg);
  if (!rule) throw new Error('a molecule model with the valence mask on');
  const rng = new Rng(seed);
  const seqs: Decisions[] = [encodeGraph({ ...RING, nodeTypes: new Array<number>(12).fill(0), edgeTypes: new Array<number>(12).fill(0) }, undefined, typeCounts(cfg))];
  for (let i = 0; i < count; i++) {
    const g = randomTypedGraph(rng, rng.int(3, 10), [0.2, 0.35, 0.5][i % 3], ATOMS.length, BONDS.length);
    const room = (g.nodeTypes ?? []).map((k) => rule.cap[k]);
    const edges: Array<[number, number]> = [];
    const edgeTypes: number[] = [];
    g.edges.forEach(([a, b], j) => {
      const o = rule.order[(g.edgeTypes ?? [])[j]];
      if (room[a] < o || room[b] < o) return;
      room[a] -= o;
      room[b] -= o;
      edges.push([a, b]);
      edgeTypes.push((g.edgeTypes ?? [])[j]);
    });
    seqs.push(encodeGraph({ ...g, edges, edgeTypes }, rng.permutation(g.numNodes), typeCounts(cfg)));
  }
  return seqs;
}

const cases: Array<{ what: string; base: ModelConfig; seqs: (cfg: ModelConfig) => Decisions[] }> = [
  { what: 'untyped', base: { nodeSize: 5, propRounds: 2 }, seqs: () => untypedSeqs(3, 10) },
  { what: 'molecules, valence mask on', base: { nodeSize: 5, propRounds: 1, nodeTypes: ATOMS, edgeTypes: BONDS, valenceMask: true }, seqs: (cfg) => moleculeSeqs(cfg, 4, 10) },
];

for (const { what, base, seqs: make } of cases) {
  for (const D of [1, 3, 8]) {
    t.test(`${what}, D = ${D}: batched teacher forcing equals the one-graph reference, log p and every gradient`, async (t) => {
      const cfg: ModelConfig = { ...base, destinationDistance: D };
      const { layout, flat } = withTable(cfg, 10 + D);
      const seqs = make(cfg);
      const sch = compileSchedule(seqs, typeCounts(cfg), rulesOf(cfg), D);
      const buckets = new Set(sch.chooseDest.bucket ?? []);
      t.same([...buckets].sort((a, b) => a - b), Array.from({ length: D + 1 }, (_, k) => k), 'every bucket occurs: neighbours, each distance, and other components');
      const batched = checkTeacherAgainstReference(t, cfg, layout, flat, seqs);
      t.ok(paramView(layout, batched.gradSum, 'chooseDest.distance').some((x) => Math.abs(x) > 1e-3), 'the table has a gradient');
      // the term moves log p: without it (a zero table) the likelihoods differ
      const zero = Float32Array.from(flat);
      paramView(layout, zero, 'chooseDest.distance').fill(0);
      const plain = logLikelihoods(cfg, layout, zero, seqs);
      t.ok(plain.some((x, i) => Math.abs(x - batched.logLik[i]) > 1e-3), 'the table changes the likelihoods');
    });
  }
}

t.test('the gradient of the distance table matches finite differences', async (t) => {
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 1, destinationDistance: 3 };
  const { layout, flat } = withTable(cfg, 7);
  const seqs = untypedSeqs(9, 6);
  const grad = paramView(layout, checkFiniteDifferences(t, cfg, layout, flat, seqs, ['chooseDest.distance']), 'chooseDest.distance');
  // each bucket's gradient sums (softmax - chosen) over its pairs, so over all buckets it is zero per decision
  t.ok(Math.abs(grad.reduce((a, b) => a + b, 0)) < 1e-4, 'the entries sum to zero');
});

t.test('sampling with the term: samples score finite under teacher forcing, and the sampler is reproducible', async (t) => {
  for (const base of cases.map((c) => c.base)) {
    const cfg: ModelConfig = { ...base, destinationDistance: 3 };
    const { layout, flat } = withTable(cfg, 31);
    // stop rarely, so that graphs grow to several edges: the stop outcome is the heads' last column
    for (const head of ['addNode.stop.b', 'addEdge.stop.b']) {
      const b = paramView(layout, flat, head);
      b[b.length - 1] = -3;
    }
    const rngs = (): Rng[] => Array.from({ length: 40 }, (_, i) => Rng.derive(12, i));
    const graphs = sampleGraphs(cfg, layout, flat, rngs(), 12);
    t.same(sampleGraphs(cfg, layout, flat, rngs(), 12), graphs, 'the same seeds give the same graphs');
    t.ok(graphs.some((g) => g.edges.length > 2), 'some samples have several edges');
    const ll = logLikelihoods(cfg, layout, flat, graphs.map((g) => encodeGraph(g, undefined, typeCounts(cfg))));
    t.ok(ll.every((x) => Number.isFinite(x) && x <= 0), `${cfg.nodeTypes ? 'molecule' : 'untyped'} samples round-trip to finite log p (every action allowed)`);
  }
});

/** Sampled graphs as text, to compare bit for bit. */
const text = (gs: readonly Graph[]): string => JSON.stringify(gs);

t.test('D = 0 and an absent key are the same model, bit for bit: parameters, log p and samples', async (t) => {
  for (const base of cases.map((c) => c.base)) {
    const off: ModelConfig = { ...base, destinationDistance: 0 };
    const layout = paramLayout(base);
    t.same(paramLayout(off).specs, layout.specs, 'the same layout');
    t.notOk(layout.specs.some((s) => s.name === 'chooseDest.distance'), 'no distance table');
    const flat = initParams(layout, 3);
    t.same(initParams(paramLayout(off), 3), flat, 'the same draws');
    const on = paramLayout({ ...base, destinationDistance: 2 });
    t.same(Array.from(initParams(on, 3).subarray(0, layout.total)), Array.from(flat), 'D >= 1 draws every other parameter the same, its table last at zero');
    const seqs = base.nodeTypes ? moleculeSeqs(base, 6, 6) : untypedSeqs(6, 6);
    t.same(logLikelihoods(off, layout, flat, seqs), logLikelihoods(base, layout, flat, seqs), 'the same log p');
    const withZeros = new Float32Array(on.total);
    withZeros.set(flat);
    t.same(logLikelihoods({ ...base, destinationDistance: 2 }, on, withZeros, seqs), logLikelihoods(base, layout, flat, seqs), 'a zero table scores as plain DGMG (the init-from start)');
    const rngs = (): Rng[] => Array.from({ length: 30 }, (_, i) => Rng.derive(4, i));
    t.equal(text(sampleGraphs(off, layout, flat, rngs(), 10)), text(sampleGraphs(base, layout, flat, rngs(), 10)), 'the same samples');
  }
  const shipped = loadCheckpoint('models/cycles.json');
  t.equal(shipped.config.model.destinationDistance, 0, 'a checkpoint written before the key loads with it off');
  t.equal(shipped.params.length, paramLayout({ nodeSize: shipped.config.model.nodeSize, propRounds: shipped.config.model.propRounds }).total, 'and without a table');
});

t.test('bad values of model.destinationDistance are refused with the key named', async (t) => {
  for (const bad of [-1, 33, 2.5]) {
    t.throws(() => configFromJson({ model: { destinationDistance: bad } }, 'cfg.json'), { message: `cfg.json: model.destinationDistance must be an integer from 0 to 32, got ${bad}` });
    t.throws(() => paramLayout({ nodeSize: 4, propRounds: 1, destinationDistance: bad }), { message: `model.destinationDistance must be an integer from 0 to 32, got ${bad}` });
  }
  t.throws(() => configFromJson({ model: { destinationDistance: 'x' } }, 'cfg.json'), { message: 'cfg.json: model.destinationDistance must be a number, got "x"' });
  t.equal(configFromJson({}, 'cfg.json').model.destinationDistance, 0, 'off by default');
  t.equal(configFromJson({ model: { destinationDistance: 32 } }, 'cfg.json').model.destinationDistance, 32, '32 is allowed');
  // a cluster task carries the key, checked like every other field
  const task = (m: Record<string, unknown>): unknown => ({ format: CLUSTER_FORMAT, kind: 'sample', run: '0123456789abcdef', model: { nodeSize: 4, propRounds: 1, ...m }, seed: 0, from: 0, count: 1, vMax: 5 });
  t.same(parseTask(task({ destinationDistance: 4 })).model, { nodeSize: 4, propRounds: 1, destinationDistance: 4 }, 'a task passes it on');
  t.throws(() => parseTask(task({ destinationDistance: 33 })), { message: 'task field destinationDistance must be an integer from 0 to 32, got 33' });
});
