import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods, shardGradients } from '../model/teacher';
import { rulesOf } from '../model/rules';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';
import { CLUSTER_FORMAT, parseTask } from '../actors/cluster-protocol';
import { checkFiniteDifferences, checkSamplerChiSquare, checkTeacherAgainstReference, matchingsInOrder, moleculeSequences, paramsWithTables, testBackend, untypedSequences } from './helpers';

/** The joint edge choice (docs/design.md, 'Joint edge choice'): add-edge's logit of type b gains log sum_u exp(s_ub). */

t.before(testBackend);

const ATOMS = ['C', 'N', 'O', 'S', 'F'];
const BONDS = ['single', 'double', 'triple'];

const untyped: ModelConfig = { nodeSize: 5, propRounds: 2 };
const molecules: ModelConfig = { nodeSize: 5, propRounds: 1, nodeTypes: ATOMS, edgeTypes: BONDS, valenceMask: true };

const cases: Array<{ what: string; cfg: ModelConfig; seqs: (cfg: ModelConfig) => Decisions[] }> = [
  { what: 'untyped', cfg: untyped, seqs: () => untypedSequences(3, 10) },
  { what: 'untyped, destination distance 3 and node-count input 4', cfg: { ...untyped, destinationDistance: 3, nodeCountInput: 4 }, seqs: () => untypedSequences(4, 10) },
  { what: 'molecules, valence mask on', cfg: molecules, seqs: (cfg) => moleculeSequences(cfg, 5, 10) },
  { what: 'molecules, valence mask on, destination distance 3', cfg: { ...molecules, destinationDistance: 3 }, seqs: (cfg) => moleculeSequences(cfg, 6, 10) },
];

const params = (cfg: ModelConfig, seed: number): { layout: ParamLayout; flat: Float32Array } => paramsWithTables(cfg, seed, ['chooseDest.distance', 'addNode.count']);

for (const { what, cfg: base, seqs: make } of cases) {
  t.test(`${what}: batched teacher forcing with the joint edge choice equals the one-graph reference, log p and every gradient`, async (t) => {
    const cfg: ModelConfig = { ...base, jointEdgeChoice: true };
    const { layout, flat } = params(cfg, 11);
    const seqs = make(cfg);
    const batched = checkTeacherAgainstReference(t, cfg, layout, flat, seqs);
    const factored = logLikelihoods(base, layout, flat, seqs);
    t.ok(factored.some((x, i) => Math.abs(x - batched.logLik[i]) > 1e-3), 'the joint choice changes the likelihoods');
    // the destination bias c_b now moves add-edge; in DGMG's softmax over destinations alone it cancels
    const cB = paramView(layout, batched.gradSum, 'chooseDest.score.b');
    t.ok(cB.some((x) => Math.abs(x) > 1e-4), 'c_b has a gradient');
    t.ok(paramView(layout, shardGradients(base, layout, flat, seqs).gradSum, 'chooseDest.score.b').every((x) => Math.abs(x) < 1e-9), 'without the joint choice it has none');
  });
}

t.test('the gradient of the destination scorer matches finite differences under the joint choice', async (t) => {
  const cfg: ModelConfig = { ...molecules, nodeSize: 3, destinationDistance: 2, jointEdgeChoice: true };
  const { layout, flat } = params(cfg, 7);
  const seqs = moleculeSequences(cfg, 8, 6);
  checkFiniteDifferences(t, cfg, layout, flat, seqs, ['chooseDest.score.b', 'chooseDest.distance']);
});

t.test('the first node of a rule-free model has no destination: jointly its add-edge is forced and scores nothing', async (t) => {
  const seqs: Decisions[] = [[0, 1, 1], [0, 1, 0, 1, 1]];
  const plain = compileSchedule(seqs);
  const joint = compileSchedule(seqs, undefined, null, 0, true);
  t.equal(plain.addEdge.graph.length, 3, 'DGMG scores the three "no more edges"');
  t.equal(joint.addEdge.graph.length, 1, 'jointly only node 1 decides');
  t.same(Array.from(joint.addEdgeCandidates?.start ?? []), [0, 1], 'node 1 has one candidate, node 0');
  // a single node: log p is the two add-node decisions alone
  const cfg: ModelConfig = { ...untyped, jointEdgeChoice: true };
  const { layout, flat } = params(cfg, 3);
  const addNodeOnly = logLikelihoods({ ...untyped, jointEdgeChoice: true }, layout, flat, [[0, 1, 1]])[0];
  const withEdgeTerm = logLikelihoods(untyped, layout, flat, [[0, 1, 1]])[0];
  t.ok(addNodeOnly > withEdgeTerm, `without the forced term log p is larger: ${addNodeOnly} > ${withEdgeTerm}`);
});

t.test('the candidates of each add-edge decision are those the valence rule leaves, per bond type', async (t) => {
  // O=C then N: N may bond C by a single or a double bond (C has 2 left) but not O (full); a triple does not fit C
  const cfg: ModelConfig = { ...molecules, jointEdgeChoice: true };
  const types = typeCounts(cfg);
  const g: Graph = { numNodes: 3, edges: [[1, 0], [2, 1]], nodeTypes: [2, 0, 1], edgeTypes: [1, 0] };
  const sch = compileSchedule([encodeGraph(g, undefined, types)], types, rulesOf(cfg), 0, true);
  const c = sch.addEdgeCandidates;
  if (!c) throw new Error('no candidates');
  // decisions: node 1 (one: C to O), node 1 again (C to nothing left: O full), node 2 (N to C), node 2 again
  const perType = (e: number): number[] => [0, 1, 2].map((b) => c.start[e * 3 + b + 1] - c.start[e * 3 + b]);
  const decisions = sch.addEdge.graph.length;
  const lists = Array.from({ length: decisions }, (_, e) => perType(e));
  t.same(lists[0], [1, 1, 0], 'C beside O: single or double to O, no triple (O takes 2)');
  t.ok(lists.some((l) => l[0] === 1 && l[1] === 1 && l[2] === 0), 'N beside C: single or double to C');
  t.ok(lists.every((l) => l.reduce((a, b) => a + b, 0) > 0), 'a recorded decision has some destination');
});

t.test('the sampler draws each graph with probability exp(log-likelihood) under the joint choice: chi-square', async (t) => {
  // Fluorine only (cap 1), single and double bonds, v_max = 4, as in the valence test: every node
  // makes at most one edge, never a repeated one, so the generations are the matchings built in
  // order (18). Jointly, P(add) grows with the scores of the atoms still free, which the counts see.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['F'], edgeTypes: ['single', 'double'], valenceMask: true, jointEdgeChoice: true };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
  flat.fill(0, at('addNode.stop.w'), at('addNode.stop.w') + 2 * cfg.nodeSize);
  flat[at('addNode.stop.b')] = -1.2;
  flat[at('addEdge.stop.b') + 2] = 0; // with the scores below every generation has p > 4e-4, 20 draws expected
  const w = at('chooseDest.score.w');
  for (let i = 0; i < 4 * cfg.nodeSize; i++) flat[w + i] *= 1.5; // sharper destination scores: a wrong sum moves the counts far
  const stop = 1 / (1 + Math.exp(1.2));
  const vMax = 4;
  const outcomes = matchingsInOrder(vMax);
  t.equal(outcomes.length, 18, '18 generations');
  const factored = logLikelihoods({ ...cfg, jointEdgeChoice: false }, layout, flat, outcomes.map((o) => o.seq));
  const joint = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
  t.ok(factored.some((x, i) => Math.abs(x - joint[i]) > 0.05), `the joint choice moves these probabilities: ${Array.from(joint, (x) => Math.exp(x).toFixed(3))}`);
  // 17 degrees of freedom: P(chi2 > 40.79) = 0.001 when the sampler is exact.
  checkSamplerChiSquare(t, { cfg, layout, flat, vMax, stopAtVMax: stop, seed: 79 }, outcomes, 'no double bond, no atom with two bonds', 40.79);
});

t.test('off and an absent key are the same model, bit for bit; a shipped checkpoint loads with it off', async (t) => {
  for (const base of [untyped, molecules]) {
    const { layout, flat } = params(base, 5);
    const seqs = base.nodeTypes ? moleculeSequences(base, 9, 6) : untypedSequences(9, 6);
    t.same(logLikelihoods({ ...base, jointEdgeChoice: false }, layout, flat, seqs), logLikelihoods(base, layout, flat, seqs), 'the same log p');
    const rngs = (): Rng[] => Array.from({ length: 30 }, (_, i) => Rng.derive(4, i));
    t.equal(JSON.stringify(sampleGraphs({ ...base, jointEdgeChoice: false }, layout, flat, rngs(), 10)), JSON.stringify(sampleGraphs(base, layout, flat, rngs(), 10)), 'the same samples');
    const joint = sampleGraphs({ ...base, jointEdgeChoice: true }, layout, flat, rngs(), 10);
    t.same(joint, sampleGraphs({ ...base, jointEdgeChoice: true }, layout, flat, rngs(), 10), 'joint sampling is reproducible');
    const ll = logLikelihoods({ ...base, jointEdgeChoice: true }, layout, flat, joint.map((g) => encodeGraph(g, undefined, typeCounts(base))));
    t.ok(ll.every((x) => Number.isFinite(x) && x <= 0), 'joint samples score finite under teacher forcing');
  }
  t.equal(loadCheckpoint('models/molecules-nci.json').config.model.jointEdgeChoice, false, 'a checkpoint written before the key loads with it off');
});

t.test('model.jointEdgeChoice: off by default, a boolean, passed on by a cluster task', async (t) => {
  t.equal(configFromJson({}, 'cfg.json').model.jointEdgeChoice, false);
  t.equal(configFromJson({ model: { jointEdgeChoice: true } }, 'cfg.json').model.jointEdgeChoice, true);
  t.throws(() => configFromJson({ model: { jointEdgeChoice: 'yes' } }, 'cfg.json'), { message: /^cfg\.json: model\.jointEdgeChoice must be a boolean, got "yes"$/ });
  const task = (m: Record<string, unknown>): unknown => ({ format: CLUSTER_FORMAT, kind: 'sample', run: '0123456789abcdef', model: { nodeSize: 4, propRounds: 1, ...m }, seed: 0, from: 0, count: 1, vMax: 5 });
  t.same(parseTask(task({ jointEdgeChoice: true })).model, { nodeSize: 4, propRounds: 1, jointEdgeChoice: true }, 'a task passes it on');
  t.throws(() => parseTask(task({ jointEdgeChoice: 1 })), { message: 'task model field jointEdgeChoice must be true or false, got 1' });
});
