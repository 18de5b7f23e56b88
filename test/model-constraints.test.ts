import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delaunayGraph, isConnected, makeFamily } from '../graphs/families';
import type { Decisions, Graph } from '../graphs/graph';
import { nodeOrder } from '../graphs/order';
import { isPlanar } from '../graphs/planarity';
import { Rng } from '../graphs/random';
import { decodeDecisions, encodeGraph } from '../graphs/sequence';
import type { MoleculeVocabulary } from '../graphs/molecule';
import { initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { rulesOf } from '../model/rules';
import { sampleGraphs } from '../model/sample';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods } from '../model/teacher';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { runTrain, type TrainOptions } from '../pipeline/commands/train';
import { configFromJson } from '../pipeline/config';
import { loadDataset } from '../pipeline/dataset';
import { inProcessRunner } from '../pipeline/runner';
import { checkSamplerChiSquare, checkTeacherAgainstReference, maxRelDiff, paramsWithTables, randomGraph, randomMolecule, referenceGradients, testBackend, thrown } from './helpers';

t.before(testBackend);

const plain: ModelConfig = { nodeSize: 6, propRounds: 2 };
const both: ModelConfig = { ...plain, constraints: ['connected', 'planar'] };
const connected: ModelConfig = { ...plain, constraints: ['connected'] };
const planar: ModelConfig = { ...plain, constraints: ['planar'] };

/** The flat offset of parameter `name`. */
const offsetOf = (layout: ParamLayout, name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];

/** Sets the add-node and add-edge heads to their biases alone: P(stop) = sigmoid(bias), the same at every state. */
function fixedStops(layout: ParamLayout, flat: Float32Array, n: number, addNodeStop: number, addEdgeStop: number): void {
  flat.fill(0, offsetOf(layout, 'addNode.stop.w'), offsetOf(layout, 'addNode.stop.w') + 2 * n);
  flat[offsetOf(layout, 'addNode.stop.b')] = addNodeStop;
  flat.fill(0, offsetOf(layout, 'addEdge.stop.w'), offsetOf(layout, 'addEdge.stop.w') + 3 * n);
  flat[offsetOf(layout, 'addEdge.stop.b')] = addEdgeStop;
}

/**
 * The destinations the planar rule leaves the newest node of `g` (node numNodes - 1) after `g`'s
 * edges, each added while its later end is the newest node, as DGMG grows a graph.
 */
function planarCandidates(g: Graph): number[] {
  const set = rulesOf(planar)?.start(g.numNodes);
  if (!set) throw new Error('planar has rules');
  for (let v = 0; v < g.numNodes; v++) {
    set.addNode(0);
    for (const [a, b] of g.edges) if (Math.max(a, b) === v) set.addEdge(v, Math.min(a, b), 0);
  }
  const out = new Int32Array(g.numNodes);
  return Array.from(out.subarray(0, set.candidates(0, out)));
}

/** Connected, counting the graph with no nodes (a sample may stop at once) as connected. */
const linked = (g: Graph): boolean => g.numNodes === 0 || isConnected(g);

const complete = (n: number): Array<[number, number]> => {
  const edges: Array<[number, number]> = [];
  for (let b = 1; b < n; b++) for (let a = 0; a < b; a++) edges.push([a, b]);
  return edges;
};

t.test('the planar rule removes exactly the destinations networkx calls non-planar', async (t) => {
  // expected lists from networkx 3.6.1's check_planarity on the graph with each edge (u, newest) added
  const k5e = complete(5).filter(([a, b]) => !(a === 0 && b === 1));
  const k33e = [0, 1, 2].flatMap((a) => [3, 4, 5].map((b) => [a, b] as [number, number])).filter(([a, b]) => !(a === 2 && b === 5));
  const octahedron = complete(6).filter(([a, b]) => !((a === 0 && b === 1) || (a === 2 && b === 3) || (a === 4 && b === 5)));
  const cases: Array<[string, Graph, number[]]> = [
    ['K5 minus an edge, a new node joined to 0', { numNodes: 6, edges: [...k5e, [0, 5]] }, [0, 2, 3, 4]],
    ['K5 minus an edge, a new lone node (pendant edges only)', { numNodes: 6, edges: k5e }, [0, 1, 2, 3, 4]],
    ['K3,3 minus an edge, its last node newest', { numNodes: 6, edges: k33e }, [0, 1, 3, 4]],
    ['the octahedron and a node joined to 0', { numNodes: 7, edges: [...octahedron, [0, 6]] }, [0, 2, 3, 4, 5]],
    ['the octahedron and a node joined to 0 and 2', { numNodes: 7, edges: [...octahedron, [0, 6], [2, 6]] }, [0, 2, 4, 5]],
    ['the octahedron and a node joined to 0, 2 and 4', { numNodes: 7, edges: [...octahedron, [0, 6], [2, 6], [4, 6]] }, [0, 2, 4]],
  ];
  for (const [what, g, want] of cases) t.same(planarCandidates(g), want, what);
});

t.test('the planar rule never removes the teacher\'s action on Delaunay graphs of the planar family, and does remove candidates there', async (t) => {
  const family = makeFamily('planar', { numNodes: 64 });
  const rng = new Rng(4);
  const seqs = Array.from({ length: 6 }, () => {
    const g = family.sample(rng);
    return encodeGraph(g, nodeOrder(g, 'bfs'));
  });
  const on = compileSchedule(seqs, undefined, rulesOf(both));
  const off = compileSchedule(seqs);
  t.equal(on.chooseDest.graph.length, off.chooseDest.graph.length, 'every destination decision with more than one candidate keeps more than one');
  t.ok(on.chooseDest.uRow.length < 0.9 * off.chooseDest.uRow.length, `the rule removes candidates (${on.chooseDest.uRow.length} of ${off.chooseDest.uRow.length} pairs left)`);
  t.same(compileSchedule(seqs, undefined, rulesOf(both)), on, 'compiled again (walks from the cache): the same schedule');
});

/** Sequences the constraints of each config allow, on graphs where they bite. */
function constrainedBatches(): Array<[string, ModelConfig, Decisions[]]> {
  const rng = new Rng(11);
  const triangulations = Array.from({ length: 5 }, () => {
    const g = delaunayGraph(rng.int(5, 9), rng);
    return encodeGraph(g, nodeOrder(g, 'bfs'));
  });
  const octahedron = complete(6).filter(([a, b]) => !((a === 0 && b === 1) || (a === 2 && b === 3) || (a === 4 && b === 5)));
  const dense: Decisions[] = [];
  while (dense.length < 5) {
    const g = randomGraph(rng, rng.int(5, 8), 0.7);
    if (isConnected(g) && !isPlanar(g)) dense.push(encodeGraph(g, nodeOrder(g, 'dfs')));
  }
  const sparse: Decisions[] = [];
  while (sparse.length < 5) {
    const g = randomGraph(rng, rng.int(4, 9), 0.45);
    if (isPlanar(g)) sparse.push(encodeGraph(g));
  }
  return [
    ['connected and planar: triangulations and the octahedron in BFS order', both, [[1], [0, 1, 1], ...triangulations, encodeGraph({ numNodes: 6, edges: octahedron }, nodeOrder({ numNodes: 6, edges: octahedron }, 'bfs'))]],
    ['connected: non-planar graphs in DFS order', connected, [[0, 1, 1], ...dense]],
    ['planar: planar graphs, some disconnected, in natural order', planar, [[0, 1, 0, 1, 1], ...sparse]],
    // the model options together: the distance term and the node-count input read the constrained candidates and decisions
    ['connected and planar with destination distance 3 and node-count input 6', { ...both, destinationDistance: 3, nodeCountInput: 6 }, [[1], [0, 1, 1], ...triangulations]],
  ];
}

/**
 * Batched teacher forcing of `seqs` held to the reference under `cfg` (checkTeacherAgainstReference),
 * with the option tables filled at random so their terms count; returns the parameters and the
 * batched log-likelihoods.
 */
function checkBatchedEqualsReference(t: { ok(value: unknown, message: string): unknown }, cfg: ModelConfig, seqs: Decisions[]): { layout: ParamLayout; flat: Float32Array; logLik: ArrayLike<number> } {
  const { layout, flat } = paramsWithTables(cfg, 21, ['chooseDest.distance', 'addNode.count', 'chooseDest.distanceWeights']);
  const batched = checkTeacherAgainstReference(t, cfg, layout, flat, seqs);
  t.ok(batched.logLik.every((x) => Number.isFinite(x) && x <= 0), 'log-likelihoods are finite and at most 0');
  t.ok(batched.gradSum.every(Number.isFinite), 'every gradient entry is finite');
  return { layout, flat, logLik: batched.logLik };
}

t.test('batched teacher forcing equals one graph at a time under the constraints, gradients included', async (t) => {
  for (const [what, cfg, seqs] of constrainedBatches()) {
    await t.test(what, async (t) => {
      const { layout, flat, logLik } = checkBatchedEqualsReference(t, cfg, seqs);
      // every graph with a node has a forced decision (node 0's add-edge has no destination): removing actions raises log p
      const free = logLikelihoods({ ...cfg, constraints: [] }, layout, flat, seqs);
      const notAbove = seqs.filter((s, i) => s.length > 1 && !(logLik[i] > free[i]));
      t.same(notAbove, [], "log p above the unconstrained model's for every graph with a node");
    });
  }
});

t.test('a sequence that takes an action the constraints remove is refused, with its position', async (t) => {
  // node 1 stops without an edge
  t.match(thrown(() => compileSchedule([[0, 1, 0, 1, 1]], undefined, rulesOf(connected))), { name: 'SequenceError', position: 3, message: /"no more edges" for node 1 would leave the node without an earlier neighbour \(model.constraints has connected\)/ });
  t.match(thrown(() => compileSchedule([[0, 1, 0, 1, 1]], undefined, rulesOf(both))), { name: 'SequenceError', position: 3 });
  // K5 in natural order: its last edge, node 4 to node 0, is the one that makes it non-planar
  const k5 = encodeGraph({ numNodes: 5, edges: complete(5) });
  t.match(thrown(() => compileSchedule([k5], undefined, rulesOf(planar))), { name: 'SequenceError', position: k5.length - 3, message: /destination 0 of node 4 would make the graph non-planar/ });
  t.doesNotThrow(() => compileSchedule([k5, [0, 1, 0, 1, 1]]), 'without the constraints both are valid sequences');
});

t.test('the sampler draws each graph with probability exp(log-likelihood) under connected: chi-square', async (t) => {
  // Add-edge's stop logit is +40: a node adds the one edge "connected" forces, and then stops,
  // so the generations are the recursive trees (each node picks one earlier node) of up to
  // v_max = 5 nodes: 1 + 1 + 1 + 2 + 6 + 24 = 35 graphs. Without the rule every graph would be
  // edgeless. The only decision teacher forcing scores that the sampler does not draw is the stop
  // at v_max: the add-node head reads its bias alone (weights 0).
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, constraints: ['connected'] };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  fixedStops(layout, flat, cfg.nodeSize, -1.2, 40);
  const w = offsetOf(layout, 'chooseDest.score.w');
  for (let i = 0; i < 2 * cfg.nodeSize; i++) flat[w + i] *= 3; // sharper destination scores: a wrong softmax moves the counts far
  const stop = 1 / (1 + Math.exp(1.2));
  const vMax = 5;

  const outcomes: Array<{ graph: Graph; seq: number[] }> = [];
  const grow = (n: number, edges: Array<[number, number]>, seq: number[]): void => {
    outcomes.push({ graph: { numNodes: n, edges }, seq: [...seq, 1] });
    if (n === vMax) return;
    // node 0 has no add-edge decision left: the rules force its stop
    if (n === 0) grow(1, edges, [0, 1]);
    else for (let d = 0; d < n; d++) grow(n + 1, [...edges, [n, d]], [...seq, 0, 0, d, 1]);
  };
  grow(0, [], []);
  t.equal(outcomes.length, 35, '35 generations');
  // 34 degrees of freedom: P(chi2 > 65.25) = 0.001 when the sampler is exact.
  checkSamplerChiSquare(t, { cfg, layout, flat, vMax, stopAtVMax: stop, seed: 78 }, outcomes, 'no node without an earlier neighbour', 65.25);
});

t.test('every sample is connected and planar under both constraints, connected under connected alone; the teacher scores each', async (t) => {
  const layout = paramLayout(plain);
  const flat = initParams(layout, 5);
  // P(stop) 0.05 for add-node and 0.12 for add-edge: big graphs whose nodes try many edges
  fixedStops(layout, flat, plain.nodeSize, -3, -2);
  const rngs = Array.from({ length: 200 }, (_, i) => Rng.derive(9, i));
  const vMax = 30;
  const free = sampleGraphs(plain, layout, flat, rngs, vMax);
  t.ok(free.some((g) => !linked(g)) && free.some((g) => !isPlanar(g)), 'unconstrained, the same parameters give disconnected and non-planar graphs');
  t.ok(free.some((g) => g.numNodes > 20), 'and graphs of more than 20 nodes');

  const sampled = sampleGraphs(both, layout, flat, rngs, vMax);
  t.same(sampled.filter((g) => !linked(g) || !isPlanar(g)).length, 0, 'connected and planar: all 200 samples are both');
  t.ok(sampled.some((g) => g.numNodes > 20 && g.edges.length > 2 * g.numNodes), 'some are large and dense');
  const alone = sampleGraphs(connected, layout, flat, rngs, vMax);
  t.same(alone.filter((g) => !linked(g)).length, 0, 'connected alone: all 200 samples are connected');
  t.ok(alone.some((g) => !isPlanar(g)), 'and some are not planar');

  // round trip: a sample's sequence in the order it was drawn is one the teacher accepts
  const seqs = sampled.slice(0, 40).map((g) => encodeGraph(g));
  const decoded = seqs.map((s) => decodeDecisions(s));
  const edgeSet = (g: Graph): string[] => g.edges.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`).sort();
  t.same(decoded.map(edgeSet), sampled.slice(0, 40).map(edgeSet), 'decoded back to the same graphs');
  const ll = logLikelihoods(both, layout, flat, seqs);
  const unconstrained = logLikelihoods(plain, layout, flat, seqs);
  t.ok(ll.every((x, i) => Number.isFinite(x) && x > unconstrained[i]), 'the teacher scores every sample, above the unconstrained log p');
  const small = seqs.filter((s) => s.length < 60).slice(0, 3);
  t.ok(small.length === 3, 'three small samples for the reference');
  const { refLL } = referenceGradients(both, layout, flat, small);
  t.ok(maxRelDiff(logLikelihoods(both, layout, flat, small), refLL, 1e-6) < 1e-5, 'and the reference agrees');
});

const ATOMS = ['C', 'N', 'O', 'F', 'N+', 'O-', 'S'];
const molecule: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ATOMS, edgeTypes: ['single', 'double', 'triple'], valenceMask: true };
const joinedMolecule: ModelConfig = { ...molecule, constraints: ['connected'] };

/** Connected random molecules of ATOMS in DFS order (every atom after the first has an earlier neighbour), and F-F, which ends saturated. */
function connectedMolecules(rng: Rng, count: number): Decisions[] {
  const types = typeCounts(molecule);
  const F = ATOMS.indexOf('F');
  const seqs: Decisions[] = [[ATOMS.length], [F, 3, F, 0, 0, 3, ATOMS.length]];
  while (seqs.length < count) {
    const g = randomMolecule(rng, rng.int(3, 10), 0.5, molecule as MoleculeVocabulary);
    if (isConnected(g)) seqs.push(encodeGraph(g, nodeOrder(g, 'random-dfs', rng), types));
  }
  return seqs;
}

t.test('connected with the valence constraint: batched teacher forcing equals one graph at a time, gradients included', async (t) => {
  const seqs = connectedMolecules(new Rng(12), 14);
  const types = typeCounts(molecule);
  const B = molecule.edgeTypes?.length ?? 0;
  const on = compileSchedule(seqs, types, rulesOf(joinedMolecule));
  // the rule bites where valences alone do not: stop removed with two or three types left, and saturated molecules stop unscored
  const stopRemoved = Array.from(on.addEdge.allowed ?? []).filter((bits) => !(bits & (1 << B)));
  t.ok(stopRemoved.length > 0 && stopRemoved.every((bits) => (bits & (bits - 1)) !== 0), `${stopRemoved.length} add-edge decisions lose "no more edges" and keep two or more types`);
  t.equal(on.addNode.token.length, compileSchedule(seqs, types, rulesOf(molecule)).addNode.token.length - 1, 'F-F, saturated, stops without a scored add-node decision');
  // the shipped fine-tune's options read the constrained decisions too
  const cfgs: Array<[string, ModelConfig]> = [
    ['connected and valences', joinedMolecule],
    ['with the joint edge choice, weights by distance and node-count input', { ...joinedMolecule, destinationDistance: 3, jointEdgeChoice: true, distanceWeights: true, nodeCountInput: 8 }],
  ];
  for (const [what, cfg] of cfgs) {
    await t.test(what, async (t) => {
      const { layout, flat, logLik } = checkBatchedEqualsReference(t, cfg, seqs);
      // every molecule of two or more atoms has an atom whose first bond is no longer optional
      const valencesOnly = logLikelihoods({ ...cfg, constraints: [] }, layout, flat, seqs);
      t.same(seqs.filter((s, i) => s.length > 4 && !(logLik[i] > valencesOnly[i])), [], "log p above the valence-only model's for every molecule of two or more atoms");
    });
  }
  // a lone atom after the first is refused where the rule removes its stop
  t.match(thrown(() => compileSchedule([[0, 3, 0, 3, ATOMS.length]], types, rulesOf(joinedMolecule))), { name: 'SequenceError', position: 3, message: /"no more edges" for node 1 would leave the node without an earlier neighbour/ });
  // after F-F no atom has room: a third atom is refused
  const F = ATOMS.indexOf('F');
  t.match(thrown(() => compileSchedule([[F, 3, F, 0, 0, 3, 0, 3, ATOMS.length]], types, rulesOf(joinedMolecule))), { name: 'SequenceError', position: 6, message: /add-node type 0 would not be joined to an earlier node, none of which has room for an edge/ });
});

t.test('the sampler draws each molecule with probability exp(log-likelihood) under connected and valences: chi-square', async (t) => {
  // F (1 bond) and O (2), single and double bonds, v_max = 4. Add-edge's stop logit is +40: an atom
  // makes the one bond "connected" forces (single or double, as its logits say, where both fit)
  // and stops; a molecule whose atoms are all full stops itself, unscored. Atoms never try a
  // second bond, so no edge repeats. The add-node head reads its bias alone.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['F', 'O'], edgeTypes: ['single', 'double'], valenceMask: true, constraints: ['connected'] };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  paramView(layout, flat, 'addNode.stop.w').fill(0);
  paramView(layout, flat, 'addNode.stop.b').set([0.3, 0.6, -0.4]);
  paramView(layout, flat, 'addEdge.stop.b').set([1.5, 0, 40]); // single bonds as likely as double ones, where both fit
  paramView(layout, flat, 'chooseDest.score.w').forEach((x, i, a) => (a[i] = 6 * x)); // sharp destination scores
  const stop = Math.exp(-0.4) / (Math.exp(0.3) + Math.exp(0.6) + Math.exp(-0.4));
  const vMax = 4;
  const cap = [1, 2];
  const order = [1, 2];
  const outcomes: Array<{ graph: Graph; seq: number[]; stopsItself: boolean }> = [];
  const grow = (types: number[], room: number[], edges: Array<[number, number]>, edgeTypes: number[], seq: number[]): void => {
    const n = types.length;
    const full = n > 0 && room.every((r) => r === 0);
    outcomes.push({ graph: { numNodes: n, edges, nodeTypes: types, edgeTypes }, seq: [...seq, 2], stopsItself: full });
    if (full || n === vMax) return;
    for (const k of [0, 1]) {
      if (n === 0) {
        grow([k], [cap[k]], edges, edgeTypes, [...seq, k, 2]);
        continue;
      }
      for (const b of [0, 1]) {
        if (cap[k] < order[b]) continue;
        for (let u = 0; u < n; u++) {
          if (room[u] < order[b]) continue;
          const next = [...room, cap[k] - order[b]];
          next[u] -= order[b];
          grow([...types, k], next, [...edges, [n, u]], [...edgeTypes, b], [...seq, k, b, u, 2]);
        }
      }
    }
  };
  grow([], [], [], [], []);
  const full = outcomes.filter((o) => o.stopsItself && o.graph.numNodes < vMax).map((o) => o.graph.numNodes);
  t.ok(outcomes.some((o) => o.graph.edgeTypes?.includes(1)), 'O=O among them: a bond drawn where stop was removed and two types were left');
  t.ok(full.length > 0, `${full.length} molecules full before v_max, which stop unscored`);
  t.equal(outcomes.length, 32, '32 generations');
  // 31 degrees of freedom: P(chi2 > 61.10) = 0.001 when the sampler is exact.
  checkSamplerChiSquare(t, { cfg, layout, flat, vMax, stopAtVMax: stop, seed: 79 }, outcomes, 'connected, within valences', 61.1);
});

t.test('every sample of a molecule model under connected is one molecule, and the teacher scores it', async (t) => {
  const layout = paramLayout(molecule);
  const flat = initParams(layout, 5);
  const rngs = Array.from({ length: 200 }, (_, i) => Rng.derive(6, i));
  const free = sampleGraphs(molecule, layout, flat, rngs, 20);
  t.ok(free.some((g) => !linked(g)), 'valences alone, the same parameters give molecules of several fragments');
  const joined = sampleGraphs(joinedMolecule, layout, flat, rngs, 20);
  t.same(joined.filter((g) => !linked(g)).length, 0, 'under connected all 200 samples are one fragment');
  t.ok(joined.some((g) => g.numNodes >= 5), 'some have five atoms or more');
  const types = typeCounts(molecule);
  const seqs = joined.slice(0, 40).map((g) => encodeGraph(g, undefined, types));
  const ll = logLikelihoods(joinedMolecule, layout, flat, seqs);
  t.ok(ll.every(Number.isFinite), 'the teacher scores every sample');
});

t.test('absent and [] are the model as before, bit for bit', async (t) => {
  const cycles = loadCheckpoint('models/cycles.json');
  t.same(cycles.config.model.constraints, [], 'models/cycles.json, written before the key, loads with none');
  t.equal(rulesOf(cycles.config.model), null, 'and no rules');
  const { constraints: _, ...absent } = cycles.config.model;
  const layout = paramLayout(absent);
  const rng = new Rng(3);
  const seqs = Array.from({ length: 6 }, () => encodeGraph(randomGraph(rng, rng.int(1, 12), 0.3)));
  t.same(logLikelihoods(cycles.config.model, layout, cycles.params, seqs), logLikelihoods(absent, layout, cycles.params, seqs), 'log p');
  const rngs = (): Rng[] => Array.from({ length: 50 }, (_, i) => Rng.derive(7, i));
  t.same(sampleGraphs(cycles.config.model, layout, cycles.params, rngs(), 25), sampleGraphs(absent, layout, cycles.params, rngs(), 25), 'samples');
});

t.test('bad values are refused naming the key', async (t) => {
  const refused = (json: unknown): unknown => thrown(() => configFromJson(json, 'cfg.json'));
  t.match(refused({ model: { constraints: ['x'] } }), { name: 'ConfigError', message: "cfg.json: model.constraints: unknown constraint 'x'; known: connected, planar" });
  t.match(refused({ model: { constraints: 'planar' } }), { message: /^cfg\.json: model\.constraints must be a/ });
  t.match(refused({ model: { constraints: ['planar', 'planar'] } }), { message: "cfg.json: model.constraints lists 'planar' twice" });
  t.doesNotThrow(() => configFromJson({ model: { constraints: ['connected'], nodeTypes: ['C', 'N'], edgeTypes: ['single', 'double'] } }, 'cfg.json'), 'connected with the valence constraint');
  t.doesNotThrow(() => configFromJson({ model: { constraints: ['planar'], nodeTypes: ['a', 'b'], edgeTypes: ['x', 'y'] } }, 'cfg.json'), 'planar on a typed model');
  t.match(refused({ model: { constraints: ['connected'], nodeTypes: ['C', 'F'], edgeTypes: ['double'] } }), { message: "cfg.json: model.constraints: connected needs every atom type to take a bond, but RDKit's default valences leave F room for none of [double]; leave out the type or the constraint" });
  t.match(refused({ model: { constraints: ['connected'], nodeTypes: ['C', 'N'], edgeTypes: ['single'], plannedSize: 20 }, sample: { vMax: 20 } }), { message: /^cfg\.json: model\.constraints: connected with the valence constraint cannot keep model\.plannedSize/ });
  t.doesNotThrow(() => configFromJson({ model: { constraints: ['connected'], nodeTypes: ['C', 'N'], edgeTypes: ['single'], plannedSize: 20, valenceMask: false }, sample: { vMax: 20 } }, 'cfg.json'), 'without valences nothing saturates');
  const edgeTypes = Array.from({ length: 31 }, (_, i) => `e${i}`);
  t.match(refused({ model: { constraints: ['planar'], edgeTypes } }), { message: 'cfg.json: model.constraints: a model with constraints has at most 30 edge types, not 31' });
  t.match(refused({ model: { constraints: ['connected'] }, data: { order: 'random' } }), { message: /^cfg\.json: model\.constraints: connected needs .* data\.order random/ });
  t.doesNotThrow(() => configFromJson({ model: { constraints: ['planar'] }, data: { order: 'random' } }, 'cfg.json'), 'planar alone reads no order');
});

t.test('training graphs the constraints cannot teach are refused at load, naming the file and line or the family', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-constraints-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'g.jsonl');
  // line 2: node 2 joins node 0 only through node 3, which comes later in the natural order
  writeFileSync(file, ['{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}', '{"num_nodes": 4, "edges": [[0, 1], [0, 3], [2, 3]]}', '{"num_nodes": 2, "edges": [[0, 1]]}'].join('\n'));
  const cfg = (model: object, data: object = {}): ReturnType<typeof configFromJson> => configFromJson({ data: { file, order: 'natural', testSize: 0, ...data }, model }, 'cfg.json');
  await t.rejects(loadDataset(cfg({ constraints: ['connected'] }), 0), { name: 'GraphFormatError', message: `${file}:2: node 2 (position 2 in the node order) has no earlier neighbour, but model.constraints has connected: every node after the first needs one` });
  await t.resolves(loadDataset(cfg({ constraints: ['connected'] }, { order: 'bfs' }), 0), 'in BFS order every node of a connected graph has an earlier neighbour');
  await t.resolves(loadDataset(cfg({}), 0), 'without constraints the file loads');
  writeFileSync(file, `{"num_nodes": 3, "edges": [[0, 1]]}\n${JSON.stringify({ num_nodes: 5, edges: complete(5) })}\n`);
  await t.rejects(loadDataset(cfg({ constraints: ['planar'] }), 0), { message: `${file}:2: the graph is not planar, but model.constraints has planar` });
  await t.rejects(loadDataset(configFromJson({ data: { family: 'planar', familyParams: { numNodes: 12 }, order: 'natural', trainSize: 8, testSize: 2 }, model: { constraints: ['connected'] } }, 'cfg.json'), 0), {
    message: /^family planar: training graph \d+: node \d+ \(position \d+ in the node order\) has no earlier neighbour/,
  });
});

t.test('train --init-from may switch the constraints on or off; left out, they are the checkpoint\'s', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-constraints-init-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, json: object): string => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(json));
    return f;
  };
  const train = (over: Partial<TrainOptions>): ReturnType<typeof runTrain> =>
    runTrain({ configFile: null, outDir: dir, resumeDir: null, initFrom: null, overrides: {}, workers: 1, makeRunner: inProcessRunner, stopAtStep: null, quiet: true, force: false, ...over }, () => false);
  const data = { family: 'cycles', trainSize: 8, testSize: 2, order: 'bfs' };
  const base = await train({ configFile: file('base.json', { data, model: { nodeSize: 4, propRounds: 1 }, train: { epochs: 1, batchSize: 4 }, sample: { vMax: 25 } }), outDir: join(dir, 'base') });
  const on = await train({ configFile: file('on.json', { data, model: { constraints: ['connected', 'planar'] }, train: { epochs: 1, batchSize: 4 } }), initFrom: base.checkpoint, outDir: join(dir, 'on'), stopAtStep: 1 });
  const tuned = loadCheckpoint(on.checkpoint);
  t.same(tuned.config.model.constraints, ['connected', 'planar'], 'the config switches them on');
  t.equal(tuned.params.length, loadCheckpoint(base.checkpoint).params.length, 'the same parameters');
  const kept = await train({ configFile: file('kept.json', { data, train: { epochs: 1, batchSize: 4 } }), initFrom: on.checkpoint, outDir: join(dir, 'kept'), stopAtStep: 1 });
  t.same(loadCheckpoint(kept.checkpoint).config.model.constraints, ['connected', 'planar'], 'no model key: the checkpoint\'s');
  const off = await train({ configFile: file('off.json', { data, model: { constraints: [] }, train: { epochs: 1, batchSize: 4 } }), initFrom: on.checkpoint, outDir: join(dir, 'off'), stopAtStep: 1 });
  t.same(loadCheckpoint(off.checkpoint).config.model.constraints, [], 'and off again');
});
