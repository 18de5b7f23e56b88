import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { moleculeGraph, type MoleculeVocabulary, type TypedGraph } from '../graphs/molecule';
import { Rng } from '../graphs/random';
import { decodeDecisions, encodeGraph } from '../graphs/sequence';
import { maxValence, valenceExcess, valenceRule, valenceTypes } from '../graphs/valence';
import { initParams, paramLayout, typeCounts, type ModelConfig } from '../model/params';
import { paramTensors, referenceLogLikelihood } from '../model/reference';
import { sampleGraphs } from '../model/sample';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods, shardGradients } from '../model/teacher';
import { valenceRuleOf } from '../model/valence';
import { rulesOf } from '../model/rules';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';
import { graphToSmiles, loadRDKit, parseMolecule } from '../pipeline/molecules';
import { maxRelDiff, matchingsInOrder, randomMolecule, referenceGradients, checkSamplerChiSquare, testBackend, thrown, tf } from './helpers';

t.before(testBackend);

const ATOMS = ['C', 'N', 'O', 'F', 'N+', 'O-', 'S'];
const BONDS = ['single', 'double', 'triple'];
const masked: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ATOMS, edgeTypes: BONDS, valenceMask: true };
const unmasked: ModelConfig = { ...masked, valenceMask: false };

t.test('with the valence constraint, batched teacher forcing equals one graph at a time, gradients included', async (t) => {
  const types = typeCounts(masked);
  const layout = paramLayout(masked);
  const flat = initParams(layout, 21);
  const rng = new Rng(8);
  const seqs: Decisions[] = [[ATOMS.length], [6, 3, ATOMS.length]];
  for (let i = 0; i < 12; i++) {
    const g = randomMolecule(rng, rng.int(3, 10), [0.3, 0.6, 0.9][i % 3], masked as MoleculeVocabulary);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes), types));
  }
  t.ok(valenceRuleOf(masked), 'a molecule model with valenceMask true has a rule');
  const on = compileSchedule(seqs, types, rulesOf(masked));
  const off = compileSchedule(seqs, types);
  // the mask bites: fewer scored add-edge decisions, smaller destination segments, some add-edge types removed
  t.ok(on.addEdge.token.length < off.addEdge.token.length, `forced add-edge decisions leave the schedule (${on.addEdge.token.length} < ${off.addEdge.token.length})`);
  t.ok(on.chooseDest.uRow.length < off.chooseDest.uRow.length, `full atoms leave the destination candidates (${on.chooseDest.uRow.length} < ${off.chooseDest.uRow.length} pairs)`);
  const full = (1 << BONDS.length) - 1;
  t.ok(on.addEdge.allowed?.some((bits) => bits !== full), 'some add-edge decisions have types removed');

  const { refLL, refGrad } = referenceGradients(masked, layout, flat, seqs);
  const batched = shardGradients(masked, layout, flat, seqs);
  t.ok(refLL.every((x) => Number.isFinite(x) && x <= 0), 'reference log-likelihoods are finite');
  t.ok(maxRelDiff(batched.logLik, refLL, 1e-6) < 1e-5, `per-graph log-likelihoods agree (max rel ${maxRelDiff(batched.logLik, refLL, 1e-6)})`);
  const scale = Math.max(...Array.from(refGrad, Math.abs));
  t.ok(maxRelDiff(batched.gradSum, refGrad, scale) < 1e-5, `gradients agree elementwise (max diff / max |g| ${maxRelDiff(batched.gradSum, refGrad, scale)})`);
  t.ok(batched.gradSum.every(Number.isFinite), 'every gradient entry is finite (the removed logits are -inf)');

  // Normalising over fewer actions can only raise each kept action's probability, and every graph
  // with a node has at least one forced decision (node 0 has no earlier atom to bond to).
  const plain = logLikelihoods(unmasked, layout, flat, seqs);
  seqs.forEach((s, i) => {
    if (s.length === 1) t.equal(batched.logLik[i], plain[i], 'the empty graph: nothing to remove');
    else if (!(batched.logLik[i] > plain[i])) t.fail(`graph ${i}: masked log p ${batched.logLik[i]} is not above unmasked ${plain[i]}`);
  });
});

t.test('a sequence that takes an action the constraint removes is refused, with its position', async (t) => {
  const types = typeCounts(masked);
  const rules = rulesOf(masked);
  const F = ATOMS.indexOf('F');
  const C = ATOMS.indexOf('C');
  // F-F, then a carbon that adds a single bond: neither fluorine has room, so the type is removed
  const bad = [F, 3, F, 0, 0, 3, C, 0, 1, 3, ATOMS.length];
  t.match(thrown(() => compileSchedule([bad], types, rules)), { name: 'SequenceError', position: 7, message: /would exceed a valence/ });
  // F-F and a lone carbon, then a carbon bonding to fluorine 0: the type fits (carbon 2 has room), the destination does not
  const dest = [F, 3, F, 0, 0, 3, C, 3, C, 0, 0, 3, ATOMS.length];
  t.match(thrown(() => compileSchedule([dest], types, rules)), { name: 'SequenceError', position: 10, message: /has no room/ });
  t.throws(() => tf.tidy(() => referenceLogLikelihood(paramTensors(paramLayout(masked), initParams(paramLayout(masked), 1)), masked, bad)), /would exceed a valence/, 'the reference refuses it too');
  t.doesNotThrow(() => compileSchedule([bad], types), 'without the constraint it is a valid sequence');
  // no rule, no bits: 32 edge types (1 << 32 is 1 in JavaScript) schedule every decision
  const many = compileSchedule([[0, 32, 0, 20, 0, 32, 1]], { nodeTypes: 1, edgeTypes: 32 });
  t.same([Array.from(many.addEdge.token), many.addEdge.allowed], [[32, 20, 32], null], 'a model with 32 edge types keeps all three add-edge decisions');
});

t.test('the sampler draws each graph with probability exp(log-likelihood) under the constraint: chi-square', async (t) => {
  // Fluorine only (cap 1), single and double bonds, v_max = 4: the double bond is always removed,
  // a bonded atom is full, so every node makes at most one edge and never repeats one, and a node
  // whose earlier atoms are all bonded is forced to "no more edges". The generations are the
  // matchings built in order (18). The only decision teacher forcing scores that the sampler
  // does not draw is the stop at v_max: the add-node head reads its bias alone (weights 0).
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['F'], edgeTypes: ['single', 'double'], valenceMask: true };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
  flat.fill(0, at('addNode.stop.w'), at('addNode.stop.w') + 2 * cfg.nodeSize);
  flat[at('addNode.stop.b')] = -1.2;
  const w = at('chooseDest.score.w');
  for (let i = 0; i < 4 * cfg.nodeSize; i++) flat[w + i] *= 8; // sharp destination scores: a wrong softmax moves the counts far
  const stop = 1 / (1 + Math.exp(1.2));
  const vMax = 4;

  const outcomes = matchingsInOrder(vMax);
  t.equal(outcomes.length, 18, '18 generations');
  // 17 degrees of freedom: P(chi2 > 40.79) = 0.001 when the sampler is exact.
  checkSamplerChiSquare(t, { cfg, layout, flat, vMax, stopAtVMax: stop, seed: 77 }, outcomes, 'no double bond, no atom with two bonds', 40.79);
});

/** A star of `element` and carbons: `singles` single bonds and `doubles` double bonds, as SMILES or null (RDKit refuses it). */
async function star(name: string, singles: number, doubles: number): Promise<string | null> {
  const rd = await loadRDKit();
  const nodeTypes = name === 'C' ? ['C'] : [name, 'C'];
  const carbon = nodeTypes.indexOf('C');
  const n = 1 + singles + doubles;
  const g: Graph = {
    numNodes: n,
    edges: Array.from({ length: n - 1 }, (_, i) => [0, i + 1] as const),
    nodeTypes: [0, ...new Array<number>(n - 1).fill(carbon)],
    edgeTypes: Array.from({ length: n - 1 }, (_, i) => (i < doubles ? 1 : 0)),
  };
  return graphToSmiles(rd, g, { nodeTypes, edgeTypes: ['single', 'double'] });
}

t.test('the valence table is the RDKit this package runs: every type takes its cap in bond orders, and not one more', async (t) => {
  const names = valenceTypes();
  for (const name of ['C', 'N', 'O', 'S', 'P', 'F', 'Cl', 'Br', 'I', 'N+', 'O-', 'S-', 'N-', 'O+']) t.ok(names.includes(name), `${name} is covered`);
  t.same(['N+', 'O-', 'S', 'P', 'I', 'Cl'].map(maxValence), [4, 1, 6, 5, 5, 1], 'N+ 4, O- 1, S 6, P 5, I 5, Cl 1');
  for (const name of names) {
    const cap = maxValence(name) as number;
    t.not(await star(name, cap, 0), null, `${name} with ${cap} single bonds sanitizes`);
    t.equal(await star(name, cap + 1, 0), null, `${name} with ${cap + 1} single bonds does not`);
    if (cap >= 2) {
      t.not(await star(name, cap - 2, 1), null, `${name} with a double bond and ${cap - 2} single bonds sanitizes`);
      t.equal(await star(name, cap - 1, 1), null, `${name} with a double bond and ${cap - 1} single bonds does not`);
    }
  }
  t.equal(maxValence('Fe2+'), null, 'metals are not in the table');
  t.throws(() => valenceRule({ nodeTypes: ['C', 'Na+'], edgeTypes: ['single'] }), /Na\+ has no valence .*--no-valence-mask/);
});

t.test('molecules that fill atoms to their caps round-trip through the constrained model, up to 50+ heavy atoms', async (t) => {
  const rd = await loadRDKit();
  const vocab: MoleculeVocabulary = { nodeTypes: ['C', 'N', 'O', 'S', 'P', 'F', 'Cl', 'Br', 'I', 'N+', 'O-'], edgeTypes: BONDS };
  const cfg: ModelConfig = { nodeSize: 8, propRounds: 2, ...vocab, valenceMask: true };
  const types = typeCounts(cfg);
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 3);
  const rule = valenceRule(vocab);
  const smiles = [
    'CS(=O)(=O)N', // S at 6
    'C[N+](C)(C)C', // N+ at 4
    'OP(=O)(O)O', // P at 5
    'O=[N+]([O-])c1ccc(Cl)cc1', // N+ and O- at their caps, aromatic ring kekulized
    'N#CC(F)(F)Br', // N at 3 by one triple bond
    'ClI(Cl)Cl', // I at 3 (allowed up to 5)
    'O=C=O',
    // 51 heavy atoms: a peptide-like chain with every element of the vocabulary but I
    'CC(C)CC(NC(=O)C(Cc1ccc(F)cc1)NC(=O)C(CS)NC(=O)C(CCC(N)=O)NC(=O)C(N)CO)C(=O)NC(CC(=O)O)C(=O)NC(CCSC)C(=O)OP(=O)(O)OCCl',
  ];
  const full = new Set<string>();
  let largest = 0;
  for (const s of smiles) {
    const parsed = parseMolecule(rd, s);
    if ('error' in parsed) throw new Error(`${s}: ${parsed.error}`);
    const g = moleculeGraph(parsed.record, vocab) as TypedGraph;
    largest = Math.max(largest, g.numNodes);
    t.equal(valenceExcess(g, rule), null, `${s}: within the table's valences`);
    const bonds = new Int32Array(g.numNodes);
    g.edges.forEach(([u, v], k) => [u, v].forEach((a) => (bonds[a] += rule.order[g.edgeTypes[k]])));
    bonds.forEach((b, i) => b === rule.cap[g.nodeTypes[i]] && full.add(vocab.nodeTypes[g.nodeTypes[i]]));
    const seq = encodeGraph(g, undefined, types);
    const [withMask] = logLikelihoods(cfg, layout, flat, [seq]);
    const [without] = logLikelihoods({ ...cfg, valenceMask: false }, layout, flat, [seq]);
    t.ok(Number.isFinite(withMask) && withMask > without, `${s} (${g.numNodes} atoms): every teacher action is allowed, log p ${withMask.toFixed(2)} > ${without.toFixed(2)} unconstrained`);
    t.equal(graphToSmiles(rd, decodeDecisions(seq, types), vocab), parsed.smiles, `${s}: decoded back to the same molecule`);
  }
  t.ok(largest >= 50, `the largest has ${largest} heavy atoms`);
  for (const name of ['C', 'N', 'O', 'S', 'P', 'N+', 'O-', 'F', 'Cl', 'Br']) t.ok(full.has(name), `some ${name} sits at its cap`);
});

t.test('the constraint is on by default for molecule configs, off for old checkpoints and a no-op for other models', async (t) => {
  const mol = configFromJson({ data: { file: 'x.smi' }, model: { nodeTypes: ['C', 'N', 'O'], edgeTypes: ['single', 'double'] } }, 'test');
  t.equal(mol.model.valenceMask, true, 'a molecule config without the key has it on');
  t.ok(valenceRuleOf(mol.model), 'and the model applies it');
  t.equal(valenceRuleOf(configFromJson({ model: { nodeTypes: ['C', 'N'], edgeTypes: ['single'], valenceMask: false } }, 'test').model), null, 'model.valenceMask false turns it off');
  t.match(thrown(() => configFromJson({ model: { nodeTypes: ['C', 'Fe2+'], edgeTypes: ['single'] } }, 'cfg.json')), { name: 'ConfigError', message: /^cfg\.json: model\.nodeTypes: atom type Fe2\+ has no valence/ });
  t.doesNotThrow(() => configFromJson({ model: { nodeTypes: ['C', 'Fe2+'], edgeTypes: ['single'], valenceMask: false } }, 'cfg.json'), 'without the constraint any atom type will do');
  t.equal(valenceRuleOf(configFromJson({ model: { nodeTypes: ['a', 'b'], edgeTypes: ['x'] } }, 'test').model), null, 'not atom types: nothing to constrain');

  const nci = loadCheckpoint('models/molecules-nci.json');
  t.equal(nci.config.model.valenceMask, false, 'models/molecules-nci.json, written before the key, loads with the constraint off');
  const cycles = loadCheckpoint('models/cycles.json');
  t.equal(valenceRuleOf(cycles.config.model), null, 'models/cycles.json: untyped, no rule');

  // The NCI model's parameters with the constraint turned on: no sample exceeds a valence.
  const layout = paramLayout(nci.config.model);
  const on = { ...nci.config.model, valenceMask: true };
  const rngs = Array.from({ length: 200 }, (_, i) => Rng.derive(5, i));
  const vocab = nci.config.model as MoleculeVocabulary;
  const rule = valenceRule(vocab);
  const samples = sampleGraphs(on, layout, nci.params, rngs, nci.config.sample.vMax);
  t.same(samples.filter((g) => valenceExcess(g, rule) !== null).length, 0, 'constrained: none of 200 samples exceeds a valence');
  const before = sampleGraphs(nci.config.model, layout, nci.params, rngs, nci.config.sample.vMax);
  t.ok(before.some((g) => valenceExcess(g, rule) !== null), 'as loaded (unconstrained), some samples do');
  const rd = await loadRDKit();
  t.equal(samples.filter((g) => graphToSmiles(rd, g, vocab) === null).length, 0, 'constrained: RDKit sanitizes every sample');
  t.comment(`unconstrained: ${before.filter((g) => graphToSmiles(rd, g, vocab) !== null).length} of 200 sanitize`);
});
