import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import type { Decisions, Graph } from '../graphs/graph';
import type { MoleculeVocabulary } from '../graphs/molecule';
import { Rng } from '../graphs/random';
import { decodeDecisions, encodeGraph } from '../graphs/sequence';
import { carryParams, initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods, shardGradients } from '../model/teacher';
import { loadCheckpoint, parseCheckpoint } from '../pipeline/checkpoint';
import { configFromJson } from '../pipeline/config';
import { checkOffIsAbsent, checkSamplesScoreAsReference, maxRelDiff, randomGraph, randomMolecule, referenceGradients, testBackend } from './helpers';

/** The node-count input of the add-node decision (docs/design.md, 'Node-count input'). */

t.before(testBackend);

const plain: ModelConfig = { nodeSize: 6, propRounds: 2 };
const ATOMS = ['C', 'N', 'O', 'F', 'N+', 'O-'];
const molecule: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ATOMS, edgeTypes: ['single', 'double', 'triple'], valenceMask: true };

/** Fresh parameters of `cfg` with the node-count table drawn N(0, 1) instead of zeros, so that it moves every logit it is added to. */
function withTable(cfg: ModelConfig, seed: number): { layout: ParamLayout; flat: Float32Array } {
  const layout = paramLayout(cfg);
  const flat = initParams(layout, seed);
  const rng = new Rng(seed + 1000);
  const nu = paramView(layout, flat, 'addNode.count');
  for (let i = 0; i < nu.length; i++) nu[i] = rng.normal();
  return { layout, flat };
}

/** A copy of `flat` with the node-count table at zeros: the plain model (carryParams's test holds it bit for bit). */
function tableAtZeros(layout: ParamLayout, flat: Float32Array): Float32Array {
  const out = flat.slice();
  paramView(layout, out, 'addNode.count').fill(0);
  return out;
}

/**
 * Parameters for the chi-square tests: no edges (the add-edge logits read 30 for "no more edges"
 * alone), add-node weights shrunk to a twentieth and biases 0, so that the sizes are spread over
 * every outcome while h_G still moves each decision a little.
 */
function edgelessSpread(layout: ParamLayout, flat: Float32Array): void {
  paramView(layout, flat, 'addEdge.stop.w').fill(0);
  paramView(layout, flat, 'addEdge.stop.b').fill(0).fill(30, -1);
  paramView(layout, flat, 'addNode.stop.w').forEach((x, i, w) => (w[i] = x / 20));
  paramView(layout, flat, 'addNode.stop.b').fill(0);
}

/**
 * The chi-square statistic of 50,000 samples of an edgeless model (edgelessSpread) against
 * `expected`, each sample counted under outcomeOf; an expected count under 5 fails the test.
 */
function edgelessChiSquare(t: Test, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, vMax: number, seed: number, expected: readonly number[], outcomeOf: (g: Graph) => number): number {
  const N = 50_000;
  const counts = new Array<number>(expected.length).fill(0);
  for (let from = 0; from < N; from += 5000) {
    const rngs = Array.from({ length: 5000 }, (_, i) => Rng.derive(seed, from + i));
    for (const g of sampleGraphs(cfg, layout, flat, rngs, vMax)) {
      if (g.edges.length) t.fail(`a sample has edges: ${JSON.stringify(g)}`);
      counts[outcomeOf(g)]++;
    }
  }
  let chi2 = 0;
  expected.forEach((p, i) => {
    const e = N * p;
    if (e < 5) t.fail(`expected count ${e} of outcome ${i} is too small for a chi-square test`);
    chi2 += (counts[i] - e) ** 2 / e;
  });
  t.comment(`expected ${expected.map((p) => p.toFixed(4)).join(' ')}; counts ${counts.join(' ')}`);
  return chi2;
}

/** Untyped sequences of 0 to 11 nodes (the empty graph first), in random orders. */
function plainSequences(seed: number): Decisions[] {
  const rng = new Rng(seed);
  const seqs: Decisions[] = [[1]];
  for (let i = 0; i < 12; i++) {
    const g = randomGraph(rng, i, [0.2, 0.5, 0.8][i % 3]);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes)));
  }
  return seqs;
}

/** Molecules of 0 to 11 atoms within their valences, in random orders. */
function moleculeSequences(seed: number): Decisions[] {
  const rng = new Rng(seed);
  const seqs: Decisions[] = [[ATOMS.length]];
  for (let i = 1; i < 12; i++) {
    const g = randomMolecule(rng, i, [0.3, 0.6, 0.9][i % 3], molecule as MoleculeVocabulary);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes), typeCounts(molecule)));
  }
  return seqs;
}

t.test('the table exists only with N >= 1: (N + 1) rows of the add-node head\'s columns, starting at zeros', async (t) => {
  const base = paramLayout(plain);
  t.same(paramLayout({ ...plain, nodeCountInput: 0 }).specs, base.specs, 'N = 0: the layout of a model without the key');
  const five = paramLayout({ ...plain, nodeCountInput: 5 });
  t.same(five.specs.find((s) => s.name === 'addNode.count')?.shape, [6, 1], 'untyped: 6 rows of one stop logit');
  t.equal(five.total, base.total + 6);
  t.same(paramLayout({ ...molecule, nodeCountInput: 5 }).specs.find((s) => s.name === 'addNode.count')?.shape, [6, ATOMS.length + 1], 'typed: K + 1 columns');
  const fresh = initParams(five, 3, { addNode: 0.1, addEdge: 0.5, empty: 0.01, nodeTypes: [1], edgeTypes: [1] });
  t.ok(paramView(five, fresh, 'addNode.count').every((x) => x === 0), 'initialised to zeros');
  const drawn = initParams(base, 3, { addNode: 0.1, addEdge: 0.5, empty: 0.01, nodeTypes: [1], edgeTypes: [1] });
  for (const s of base.specs) t.same(paramView(five, fresh, s.name), paramView(base, drawn, s.name), `${s.name} draws as without the table`);
});

t.test('N = 0 and absent: the same numbers bit for bit, log p, gradients and samples', async (t) => {
  checkOffIsAbsent(t, plain, { nodeCountInput: 0 }, plainSequences(4));
  checkOffIsAbsent(t, molecule, { nodeCountInput: 0 }, moleculeSequences(4));
  const cycles = loadCheckpoint('models/cycles.json');
  t.equal(cycles.config.model.nodeCountInput, 0, 'models/cycles.json, written before the key, loads with it off');
  t.notOk(paramLayout(cycles.config.model).specs.some((s) => s.name === 'addNode.count'), 'and without the table');
});

t.test('batched teacher forcing equals the one-graph reference with the node-count input, gradients included', async (t) => {
  // N = 1: every graph past the empty one reads the last row; 5: graphs both sides of N; 40: every count its own row
  for (const [name, cfg, seqs] of [
    ['untyped', plain, plainSequences(7)],
    ['molecules with the valence mask', molecule, moleculeSequences(7)],
  ] as const) {
    for (const N of [1, 5, 40]) {
      const c = { ...cfg, nodeCountInput: N };
      const { layout, flat } = withTable(c, N);
      const { refLL, refGrad } = referenceGradients(c, layout, flat, seqs);
      const batched = shardGradients(c, layout, flat, seqs);
      t.ok(maxRelDiff(batched.logLik, refLL, 1e-6) < 1e-5, `${name}, N = ${N}: per-graph log-likelihoods agree (max rel ${maxRelDiff(batched.logLik, refLL, 1e-6)})`);
      const scale = Math.max(...Array.from(refGrad, Math.abs));
      t.ok(maxRelDiff(batched.gradSum, refGrad, scale) < 1e-5, `${name}, N = ${N}: gradients agree elementwise (max diff / max |g| ${maxRelDiff(batched.gradSum, refGrad, scale)})`);
      // the table moves log p: the same parameters without it score otherwise
      const off = logLikelihoods(c, layout, tableAtZeros(layout, flat), seqs);
      t.ok(seqs.every((_, i) => batched.logLik[i] !== off[i]), `${name}, N = ${N}: every graph's log p moves with the table`);
      // row k's gradient gathers the add-node decisions at k nodes: rows past the largest graph get none
      const nodes = Math.max(...seqs.map((s) => decodeDecisions(s, typeCounts(c)).numNodes));
      const dNu = paramView(layout, batched.gradSum, 'addNode.count');
      const C = dNu.length / (N + 1);
      for (let k = 0; k <= N; k++) {
        const row = dNu.subarray(k * C, (k + 1) * C);
        const used = k <= nodes;
        if (used !== row.some((x) => x !== 0)) t.fail(`${name}, N = ${N}: row ${k} has gradient ${Array.from(row).join(' ')}, the largest graph has ${nodes} nodes`);
      }
    }
  }
});

t.test('the sampler draws the sizes the teacher gives: chi-square, untyped, N below v_max', async (t) => {
  // No edges, so a graph is its number of nodes and its probability is that of its add-node
  // decisions; the sizes 3, 4 and 5 share the table's last row (N = 3). The teacher scores the
  // stop at v_max, which the sampler never draws: that size is the rest.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 1, nodeCountInput: 3 };
  const { layout, flat } = withTable(cfg, 5);
  edgelessSpread(layout, flat);
  const vMax = 6;
  const seqOf = (n: number): number[] => [...new Array<number>(n).fill(0).flatMap(() => [0, 1]), 1];
  const sizes = Array.from({ length: vMax }, (_, n) => n);
  const ll = logLikelihoods(cfg, layout, flat, sizes.map(seqOf));
  const expected = sizes.map((n) => Math.exp(ll[n]));
  expected.push(1 - expected.reduce((a, b) => a + b, 0));
  // without the table the sizes would be drawn otherwise: the test can tell
  const plainLL = logLikelihoods(cfg, layout, tableAtZeros(layout, flat), sizes.map(seqOf));
  const moved = sizes.reduce((s, n) => s + Math.abs(Math.exp(plainLL[n]) - expected[n]), 0);
  t.ok(moved > 0.1, `the table moves the size distribution (total |difference| ${moved.toFixed(3)})`);

  const chi2 = edgelessChiSquare(t, cfg, layout, flat, vMax, 31, expected, (g) => g.numNodes);
  // 6 degrees of freedom: P(chi2 > 22.46) = 0.001 when the sampler is exact.
  t.ok(chi2 < 22.46, `chi-square ${chi2.toFixed(2)} < 22.46 (6 degrees of freedom, p = 0.001)`);
});

t.test('the sampler draws node types and sizes the teacher gives: chi-square, K = 2, N = 2', async (t) => {
  // Every type sequence of up to 3 nodes with its add-node decisions, no edges; the rest reach v_max = 4.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 1, nodeTypes: ['a', 'b'], nodeCountInput: 2 };
  const { layout, flat } = withTable(cfg, 8);
  edgelessSpread(layout, flat);
  const vMax = 4;
  const strings: number[][] = [[]];
  for (let n = 1; n < vMax; n++) for (const s of strings.filter((x) => x.length === n - 1)) strings.push([...s, 0], [...s, 1]);
  const ll = logLikelihoods(cfg, layout, flat, strings.map((s) => [...s.flatMap((k) => [k, 1]), 2]));
  const expected = strings.map((_, i) => Math.exp(ll[i]));
  expected.push(1 - expected.reduce((a, b) => a + b, 0));
  const keys = strings.map((s) => JSON.stringify(s));

  const chi2 = edgelessChiSquare(t, cfg, layout, flat, vMax, 47, expected, (g) => (g.numNodes === vMax ? strings.length : keys.indexOf(JSON.stringify(g.nodeTypes ?? []))));
  // 15 degrees of freedom: P(chi2 > 37.70) = 0.001 when the sampler is exact.
  t.ok(chi2 < 37.7, `chi-square ${chi2.toFixed(2)} < 37.70 (15 degrees of freedom, p = 0.001)`);
});

t.test('a table that says "stop at 7 nodes" is obeyed: every sample has 7 nodes, and the teacher gives each stop probability 1', async (t) => {
  const cfg: ModelConfig = { nodeSize: 6, propRounds: 2, nodeCountInput: 7 };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 2);
  const nu = paramView(layout, flat, 'addNode.count');
  for (let k = 0; k <= 7; k++) nu[k] = k === 7 ? 60 : -60;
  const samples = sampleGraphs(cfg, layout, flat, Array.from({ length: 200 }, (_, i) => Rng.derive(3, i)), 20);
  t.same([...new Set(samples.map((g) => g.numNodes))], [7], 'every sample has 7 nodes');
  t.ok(samples.some((g) => g.edges.length > 0), 'and edges');
  // sample -> decisions -> teacher: the add-node decisions are certain, so log p is the edges' alone
  const seqs = samples.map((g) => encodeGraph(g));
  // the encoding lists a node's destinations in its own order: compare edge sets
  const edgeSet = (g: Graph): string => JSON.stringify([g.numNodes, g.edges.map(([v, d]) => `${v}-${d}`).sort()]);
  samples.forEach((g, i) => {
    if (edgeSet(decodeDecisions(seqs[i])) !== edgeSet(g)) t.fail(`sample ${i} does not decode to itself`);
  });
  const ll = logLikelihoods(cfg, layout, flat, seqs);
  const sure = flat.slice();
  paramView(layout, sure, 'addNode.stop.w').fill(0);
  const edgesOnly = logLikelihoods(cfg, layout, sure, seqs);
  t.ok(ll.every((x, i) => Number.isFinite(x) && Math.abs(x - edgesOnly[i]) < 1e-4), 'log p of every sample is that of its edge decisions (the add-node head\'s weights do not matter)');
});

t.test('sampled graphs of a model with the input round-trip through the teacher, equal to the reference', async (t) => {
  for (const [name, cfg] of [
    ['untyped', { ...plain, nodeCountInput: 4 }],
    ['molecules', { ...molecule, nodeCountInput: 4 }],
  ] as const) {
    const { layout, flat } = withTable(cfg, 21);
    const samples: Graph[] = sampleGraphs(cfg, layout, flat, Array.from({ length: 30 }, (_, i) => Rng.derive(9, i)), 10);
    t.ok(new Set(samples.map((g) => g.numNodes)).size > 2, `${name}: samples of several sizes (${samples.map((g) => g.numNodes).join(' ')})`);
    const types = typeCounts(cfg);
    t.doesNotThrow(() => compileSchedule(samples.map((g) => encodeGraph(g, undefined, types)), types), `${name}: every sample is a valid sequence`);
    checkSamplesScoreAsReference(t, name, cfg, layout, flat, samples);
  }
});

t.test('bad values of model.nodeCountInput are refused naming the key', async (t) => {
  for (const bad of [-1, 4097, 2.5]) {
    t.throws(() => configFromJson({ model: { nodeCountInput: bad } }, 'cfg.json'), { name: 'ConfigError', message: `cfg.json: model.nodeCountInput must be an integer from 0 to 4096, got ${bad}` });
  }
  t.throws(() => configFromJson({ model: { nodeCountInput: '8' } }, 'cfg.json'), { message: 'cfg.json: model.nodeCountInput must be a number, got "8"' });
  t.throws(() => paramLayout({ ...plain, nodeCountInput: -3 }), /model\.nodeCountInput must be an integer from 0 to 4096, got -3/);
  t.equal(configFromJson({ model: { nodeCountInput: 4096 } }, 'cfg.json').model.nodeCountInput, 4096, '4096 is allowed');
  // a checkpoint whose config asks for the table but whose parameters lack it
  const json = JSON.parse(readFileSync('models/cycles.json', 'utf8')) as { config: { model: Record<string, unknown> }; params: unknown[] };
  json.config.model.nodeCountInput = 3;
  const text = JSON.stringify(json);
  const specs = json.params.length;
  t.throws(() => parseCheckpoint(text, 'c.json'), { message: `c.json: has ${specs} parameters, its config's model has ${specs + 1}` });
});

t.test('carryParams keeps every parameter and starts the new table at zeros; it refuses anything else', async (t) => {
  const from = paramLayout(molecule);
  const flat = initParams(from, 4);
  const to = paramLayout({ ...molecule, nodeCountInput: 6 });
  const carried = carryParams(from, flat, to);
  for (const s of from.specs) t.same(paramView(to, carried, s.name), paramView(from, flat, s.name), `${s.name} carried`);
  t.ok(paramView(to, carried, 'addNode.count').every((x) => x === 0), 'the table at zeros');
  const seqs = moleculeSequences(2);
  t.same(logLikelihoods({ ...molecule, nodeCountInput: 6 }, to, carried, seqs), logLikelihoods(molecule, from, flat, seqs), 'the same log p, bit for bit');
  t.throws(() => carryParams(to, carried, from), /the new model drops parameters of the old/);
  t.throws(() => carryParams(paramLayout({ ...molecule, nodeCountInput: 2 }), new Float32Array(paramLayout({ ...molecule, nodeCountInput: 2 }).total), to), /parameter addNode\.count is 3 x 7, the new model's 7 x 7/);
  t.throws(() => carryParams(paramLayout(plain), new Float32Array(paramLayout(plain).total), paramLayout({ ...plain, nodeSize: 8 })), /parameter embed\.gate\.w is 6 x 1, the new model's 8 x 1/);
});
