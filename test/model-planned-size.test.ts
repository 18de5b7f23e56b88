import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { decodeDecisions, encodeGraph } from '../graphs/sequence';
import { carryParams, initParams, paramLayout, paramView, startPlannedSizes, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { logLikelihoods } from '../model/teacher';
import { configFromJson } from '../pipeline/config';
import { loadDataset } from '../pipeline/dataset';
import { checkFiniteDifferences, checkOffIsAbsent, checkSamplesScoreAsReference, checkTeacherAgainstReference, moleculeSequences, paramsWithTables, testBackend, untypedSequences } from './helpers';

/** The planned size: p(n) first, then a graph built to n nodes (docs/design.md, 'Planned size'). */

t.before(testBackend);

const plain: ModelConfig = { nodeSize: 6, propRounds: 2 };
const ATOMS = ['C', 'N', 'O', 'F', 'N+', 'O-'];
const molecule: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ATOMS, edgeTypes: ['single', 'double', 'triple'], valenceMask: true };

const TABLES = ['size.logits', 'addNode.remaining'];
/** Fresh parameters of `cfg` with sigma and rho drawn N(0, 1) instead of zeros, so that both move log p. */
const withTables = (cfg: ModelConfig, seed: number): { layout: ParamLayout; flat: Float32Array } => paramsWithTables(cfg, seed, TABLES);
const plainSequences = (seed: number): Decisions[] => untypedSequences(seed, 12);
const molecules = (seed: number): Decisions[] => moleculeSequences(molecule, seed, 12);

t.test('the tables exist only with N >= 1: sigma of N + 1 logits and rho of N + 1 rows, last, at zeros', async (t) => {
  const base = paramLayout(molecule);
  t.same(paramLayout({ ...molecule, plannedSize: 0 }).specs, base.specs, 'N = 0: the layout of a model without the key');
  const five = paramLayout({ ...molecule, plannedSize: 5 });
  t.same(five.specs.slice(-2).map((s) => [s.name, s.shape]), [['size.logits', [6]], ['addNode.remaining', [6, 6]]]);
  t.equal(five.total, base.total + 6 + 36);
  const fresh = initParams(five, 3);
  t.ok(paramView(five, fresh, 'size.logits').every((x) => x === 0) && paramView(five, fresh, 'addNode.remaining').every((x) => x === 0), 'initialised to zeros');
  const drawn = initParams(base, 3);
  for (const s of base.specs) t.same(paramView(five, fresh, s.name), paramView(base, drawn, s.name), `${s.name} draws as without the tables`);
});

t.test('N = 0 and absent: the same numbers bit for bit, log p, gradients and samples', async (t) => {
  checkOffIsAbsent(t, plain, { plannedSize: 0 }, plainSequences(4));
  checkOffIsAbsent(t, molecule, { plannedSize: 0 }, molecules(4));
});

t.test('batched teacher forcing equals the one-graph reference under a planned size, gradients included', async (t) => {
  for (const [name, cfg, seqs] of [
    ['untyped', plain, plainSequences(7)],
    ['molecules with the valence mask', molecule, molecules(7)],
    ['molecules with the node-count input too', { ...molecule, nodeCountInput: 4 }, molecules(8)],
  ] as const) {
    // N = 11: the largest graph is N; 30: rows past every graph
    for (const N of [11, 30]) {
      const c = { ...cfg, plannedSize: N };
      const { layout, flat } = withTables(c, N);
      t.comment(`${name}, N = ${N}`);
      const batched = checkTeacherAgainstReference(t, c, layout, flat, seqs);
      // rho row r gathers the nodes with r still to come: rows from the largest graph's size on get none
      const largest = Math.max(...seqs.map((s) => decodeDecisions(s, typeCounts(c)).numNodes));
      const dRho = paramView(layout, batched.gradSum, 'addNode.remaining');
      for (let r = 0; r <= N; r++) {
        const used = r < largest;
        if (used !== dRho.subarray(r * c.nodeSize, (r + 1) * c.nodeSize).some((x) => x !== 0)) t.fail(`${name}, N = ${N}: rho row ${r} has gradient, the largest graph has ${largest} nodes`);
      }
      // sigma's gradient sums to zero (softmax minus one-hot per graph) and is -count + B·softmax
      const dSigma = paramView(layout, batched.gradSum, 'size.logits');
      t.ok(Math.abs(dSigma.reduce((a, b) => a + b, 0)) < 1e-4, `${name}, N = ${N}: sigma's gradient sums to 0`);
    }
  }
  // and the gradients of the two tables are those of the log-likelihood, by finite differences
  const c = { ...molecule, plannedSize: 11 };
  const { layout, flat } = paramsWithTables(c, 3, TABLES, 0.5);
  checkFiniteDifferences(t, c, layout, flat, molecules(9).slice(0, 4), TABLES);
});

t.test('log p is log p(n) plus the decisions given n: raising sigma_7 moves every log p by the size term alone', async (t) => {
  const cfg: ModelConfig = { ...molecule, plannedSize: 12 };
  const { layout, flat } = withTables(cfg, 4);
  const seqs = molecules(3);
  const ll = logLikelihoods(cfg, layout, flat, seqs);
  const shifted = flat.slice();
  const sigma = paramView(layout, shifted, 'size.logits');
  sigma[7] += 5;
  const moved = logLikelihoods(cfg, layout, shifted, seqs);
  // raising sigma_7 by 5 changes log Z alone for the other sizes, and adds 5 for the graph of 7 nodes
  const old = paramView(layout, flat, 'size.logits');
  const lse = (x: Float32Array): number => Math.log(Array.from(x).reduce((s, v) => s + Math.exp(v), 0));
  const dLogZ = lse(sigma) - lse(old);
  seqs.forEach((s, i) => {
    const n = decodeDecisions(s, typeCounts(cfg)).numNodes;
    const want = ll[i] - dLogZ + (n === 7 ? 5 : 0);
    if (Math.abs(moved[i] - want) > 1e-4) t.fail(`graph ${i} (${n} nodes): log p ${moved[i]}, expected ${want}`);
  });
  t.pass('only the size term moves');
});

t.test('every sample has the size it drew: its generator\'s first draw under softmax(sigma); sizes chi-square, untyped and typed', async (t) => {
  for (const [name, cfg, seed] of [
    ['untyped', { ...plain, plannedSize: 7 }, 4],
    ['molecules', { ...molecule, plannedSize: 7 }, 5],
  ] as const) {
    const { layout, flat } = withTables(cfg, seed);
    const sigma = Array.from(paramView(layout, flat, 'size.logits'));
    const Z = sigma.reduce((s, x) => s + Math.exp(x), 0);
    const expected = sigma.map((x) => Math.exp(x) / Z);
    // the size of generator i's graph by inverse CDF of its first uniform draw
    const drawn = (i: number): number => {
      let u = Rng.derive(seed, i).uniform() * Z;
      let k = 0;
      for (; k < sigma.length - 1; k++) if ((u -= Math.exp(sigma[k])) < 0) break;
      return k;
    };
    const N = 20_000;
    const counts = new Array<number>(8).fill(0);
    const samples: Graph[] = [];
    let mismatched = 0;
    for (let from = 0; from < N; from += 2000) {
      sampleGraphs(cfg, layout, flat, Array.from({ length: 2000 }, (_, i) => Rng.derive(seed, from + i)), 10).forEach((g, i) => {
        counts[g.numNodes]++;
        if (g.numNodes !== drawn(from + i)) mismatched++;
        if (samples.length < 40) samples.push(g);
      });
    }
    t.equal(mismatched, 0, `${name}: every one of ${N} samples has the size its first draw picks`);
    let chi2 = 0;
    expected.forEach((p, k) => {
      if (N * p < 5) t.fail(`expected count of size ${k} too small`);
      chi2 += (counts[k] - N * p) ** 2 / (N * p);
    });
    t.comment(`${name}: expected ${expected.map((p) => p.toFixed(3)).join(' ')}; counts ${counts.join(' ')}`);
    // 7 degrees of freedom: P(chi2 > 24.32) = 0.001 when the sampler is exact
    t.ok(chi2 < 24.32, `${name}: chi-square ${chi2.toFixed(2)} < 24.32 (7 degrees of freedom, p = 0.001)`);
    checkSamplesScoreAsReference(t, name, cfg, layout, flat, samples);
  }
});

t.test('rho reaches the decisions: the same parameters without it give other samples and other log p', async (t) => {
  const cfg: ModelConfig = { ...molecule, plannedSize: 12 };
  const { layout, flat } = withTables(cfg, 6);
  const flatRho0 = flat.slice();
  paramView(layout, flatRho0, 'addNode.remaining').fill(0);
  const seqs = molecules(5).slice(2);
  const a = logLikelihoods(cfg, layout, flat, seqs);
  const b = logLikelihoods(cfg, layout, flatRho0, seqs);
  t.ok(seqs.every((_, i) => a[i] !== b[i]), 'every graph of 2 or more atoms: log p moves with rho');
});

t.test('startPlannedSizes sets sigma to the data\'s add-half log counts; larger graphs are refused naming the data', async (t) => {
  const cfg: ModelConfig = { ...plain, plannedSize: 4 };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 1);
  startPlannedSizes(cfg, layout, flat, [2, 2, 3, 0], 'd.txt');
  t.same(Array.from(paramView(layout, flat, 'size.logits')), [1.5, 0.5, 2.5, 1.5, 0.5].map((c) => Math.fround(Math.log(c))));
  t.throws(() => startPlannedSizes(cfg, layout, flat, [2, 5], 'd.txt'), { message: 'd.txt: a training graph has 5 nodes, more than model.plannedSize 4 (raise it, or leave larger graphs out)' });
  const big = encodeGraph({ numNodes: 5, edges: [[1, 0]] });
  t.throws(() => logLikelihoods(cfg, layout, flat, [big]), { message: 'a graph of 5 nodes is larger than model.plannedSize 4' });
});

t.test('bad values of model.plannedSize are refused naming the key, graphs larger than it naming the graph; carryParams starts the tables at zeros', async (t) => {
  for (const bad of [-1, 4097, 2.5]) {
    t.throws(() => configFromJson({ model: { plannedSize: bad } }, 'cfg.json'), { name: 'ConfigError', message: `cfg.json: model.plannedSize must be an integer from 0 to 4096, got ${bad}` });
  }
  // a family's graph larger than N is refused when the data is drawn, naming it
  await t.rejects(loadDataset(configFromJson({ data: { family: 'cycles', familyParams: { minNodes: 10, maxNodes: 20 }, trainSize: 50, testSize: 5 }, model: { plannedSize: 15 } }, 'cfg.json'), 0), {
    message: /^family cycles: training graph \d+: has (1[6-9]|20) nodes, more than model\.plannedSize = 15 can draw; raise model\.plannedSize in the config$/,
  });
  const from = paramLayout(molecule);
  const flat = initParams(from, 4);
  const to = paramLayout({ ...molecule, plannedSize: 6 });
  const carried = carryParams(from, flat, to);
  for (const s of from.specs) t.same(paramView(to, carried, s.name), paramView(from, flat, s.name), `${s.name} carried`);
  t.ok(paramView(to, carried, 'addNode.remaining').every((x) => x === 0), 'rho at zeros');
});
