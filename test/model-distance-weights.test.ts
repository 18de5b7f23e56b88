import t from 'tap';
import type { Decisions } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { logLikelihoods } from '../model/teacher';
import { configFromJson } from '../pipeline/config';
import { CLUSTER_FORMAT, parseTask } from '../actors/cluster-protocol';
import { checkFiniteDifferences, checkSamplerChiSquare, checkTeacherAgainstReference, matchingsInOrder, moleculeSequences, paramsWithTables, testBackend, untypedSequences } from './helpers';

/** Weights by distance (docs/design.md, 'Weights by distance'): s_ub = (w_b + q_kappa,b)·[h_u ; h_v] + c_b + delta[kappa, b]. */

t.before(testBackend);

const ATOMS = ['C', 'N', 'O', 'S', 'F'];
const BONDS = ['single', 'double', 'triple'];

const untyped: ModelConfig = { nodeSize: 5, propRounds: 2, destinationDistance: 3 };
const molecules: ModelConfig = { nodeSize: 5, propRounds: 1, nodeTypes: ATOMS, edgeTypes: BONDS, valenceMask: true, destinationDistance: 3 };

const params = (cfg: ModelConfig, seed: number): { layout: ParamLayout; flat: Float32Array } => paramsWithTables(cfg, seed, ['chooseDest.distance', 'chooseDest.distanceWeights', 'addNode.count']);

const cases: Array<{ what: string; cfg: ModelConfig; seqs: (cfg: ModelConfig) => Decisions[] }> = [
  { what: 'untyped, D = 3', cfg: untyped, seqs: () => untypedSequences(3, 10) },
  { what: 'untyped, D = 1, joint edge choice, node-count input 4', cfg: { ...untyped, destinationDistance: 1, jointEdgeChoice: true, nodeCountInput: 4 }, seqs: () => untypedSequences(4, 10) },
  { what: 'molecules, valence mask on, D = 3', cfg: molecules, seqs: (cfg) => moleculeSequences(cfg, 5, 10) },
  { what: 'molecules, valence mask on, D = 2, joint edge choice', cfg: { ...molecules, destinationDistance: 2, jointEdgeChoice: true }, seqs: (cfg) => moleculeSequences(cfg, 6, 10) },
];

for (const { what, cfg: base, seqs: make } of cases) {
  t.test(`${what}: batched teacher forcing with weights by distance equals the one-graph reference, log p and every gradient`, async (t) => {
    const cfg: ModelConfig = { ...base, distanceWeights: true };
    const { layout, flat } = params(cfg, 11);
    const seqs = make(cfg);
    const batched = checkTeacherAgainstReference(t, cfg, layout, flat, seqs);
    const q = paramView(layout, batched.gradSum, 'chooseDest.distanceWeights');
    const B = typeCounts(cfg).edgeTypes;
    const groups = (base.destinationDistance ?? 0) + 1;
    const used = Array.from({ length: groups }, (_, g) => q.some((x, i) => Math.floor(i / B) % groups === g && x !== 0));
    t.ok(used.filter(Boolean).length >= 2, `the decisions read several groups of q: ${used}`);
    // the same parameters read as one w_b for every distance (q dropped): other likelihoods
    const plainLayout = paramLayout(base);
    const plain = Float32Array.from(flat.subarray(0, plainLayout.total));
    const without = logLikelihoods(base, plainLayout, plain, seqs);
    t.ok(without.some((x, i) => Math.abs(x - batched.logLik[i]) > 1e-3), 'q changes the likelihoods');
  });
}

t.test('the gradients of w, q, c and delta match finite differences', async (t) => {
  const cfg: ModelConfig = { ...molecules, nodeSize: 3, destinationDistance: 2, jointEdgeChoice: true, distanceWeights: true };
  const { layout, flat } = params(cfg, 7);
  const seqs = moleculeSequences(cfg, 8, 6);
  checkFiniteDifferences(t, cfg, layout, flat, seqs, ['chooseDest.score.w', 'chooseDest.distanceWeights', 'chooseDest.score.b', 'chooseDest.distance']);
});

t.test('the sampler draws each graph with probability exp(log-likelihood) with weights by distance: chi-square', async (t) => {
  // The matchings model of the joint-edge test (fluorine, v_max 4): each new atom bonds before it
  // has a neighbour, so every candidate lies in another component, bucket D. q is filled in every
  // group: a sampler that read another group, or w_b alone, draws other frequencies.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['F'], edgeTypes: ['single', 'double'], valenceMask: true, destinationDistance: 2, jointEdgeChoice: true, distanceWeights: true };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
  const rng = new Rng(14);
  const q = paramView(layout, flat, 'chooseDest.distanceWeights');
  for (let i = 0; i < q.length; i++) q[i] = 0.4 * rng.normal();
  flat.fill(0, at('addNode.stop.w'), at('addNode.stop.w') + 2 * cfg.nodeSize);
  flat[at('addNode.stop.b')] = -1.2;
  flat[at('addEdge.stop.b') + 2] = 0;
  const stop = 1 / (1 + Math.exp(1.2));
  const outcomes = matchingsInOrder(4);
  const others = (q: Float32Array): Float32Array => {
    const moved = Float32Array.from(flat);
    moved.set(q, at('chooseDest.distanceWeights'));
    return logLikelihoods(cfg, layout, moved, outcomes.map((o) => o.seq));
  };
  const ll = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
  t.ok(others(q.map(() => 0)).some((x, i) => Math.abs(x - ll[i]) > 0.05), 'q moves these probabilities');
  // 17 degrees of freedom: P(chi2 > 40.79) = 0.001 when the sampler is exact.
  checkSamplerChiSquare(t, { cfg, layout, flat, vMax: 4, stopAtVMax: stop, seed: 83 }, outcomes, 'no double bond, no atom with two bonds', 40.79);
});

t.test('the sampler reads the group of each candidate\'s distance: q in group 1 closes rings at distance 2, in group 2 at distance 3', async (t) => {
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 1, destinationDistance: 3, distanceWeights: true };
  const layout = paramLayout(cfg);
  const n = cfg.nodeSize;
  /** How many ring closures (an edge from a node that has one already) span distance 2 and 3, with q of group `group` ones. */
  const closures = (group: number): [number, number] => {
    const p = initParams(layout, 3);
    const P = (name: string): Float32Array => paramView(layout, p, name);
    // no messages and a closed update gate: every propagated state is tanh(1) in each coordinate,
    // so q's group of ones adds 2n·tanh(1)·3 to every candidate in that bucket and nothing else
    for (const name of ['prop.0.msg.w', 'prop.0.msg.b', 'prop.0.gru.wi', 'prop.0.gru.wh', 'prop.0.gru.bh', 'addNode.stop.w', 'addEdge.stop.w']) P(name).fill(0);
    const bi = P('prop.0.gru.bi');
    bi.fill(0, 0, n);
    bi.fill(-30, n, 2 * n);
    bi.fill(1, 2 * n, 3 * n);
    const q = P('chooseDest.distanceWeights');
    for (let r = 0; r < 2 * n; r++) q[r * 4 + group] = 3; // G·B = 4 columns: D + 1 groups, one edge type
    P('addNode.stop.b')[0] = -2;
    P('addEdge.stop.b')[0] = 0;
    const spans: [number, number] = [0, 0];
    for (const g of sampleGraphs(cfg, layout, p, Array.from({ length: 300 }, (_, i) => Rng.derive(5, i)), 8)) {
      const adj = Array.from({ length: g.numNodes }, () => [] as number[]);
      for (const [v, u] of g.edges) {
        const dist = new Map([[v, 0]]);
        const queue = [v];
        for (const x of queue) for (const y of adj[x]) if (!dist.has(y)) dist.set(y, (dist.get(x) ?? 0) + 1), queue.push(y);
        const d = dist.get(u);
        if (d === 2 || d === 3) spans[d - 2]++;
        adj[v].push(u);
        adj[u].push(v);
      }
    }
    return spans;
  };
  const [twoIn1, threeIn1] = closures(1);
  const [twoIn2, threeIn2] = closures(2);
  // a node often has no candidate at distance 3 at all, so compare each distance across the two runs
  t.ok(twoIn1 > 2 * twoIn2, `closures at distance 2: ${twoIn1} with q in group 1, ${twoIn2} in group 2`);
  t.ok(threeIn2 > 4 * threeIn1 + 20, `closures at distance 3: ${threeIn2} with q in group 2, ${threeIn1} in group 1`);
});

t.test('a zero q is the model without it, bit for bit; off and an absent key are the same model', async (t) => {
  for (const base of [untyped, molecules]) {
    const on: ModelConfig = { ...base, distanceWeights: true };
    const { layout: plainLayout, flat: plain } = params(base, 5);
    const layout = paramLayout(on);
    const flat = new Float32Array(layout.total);
    flat.set(plain);
    t.equal(layout.total - plainLayout.total, 2 * base.nodeSize * 4 * typeCounts(base).edgeTypes, 'q is 2n x (D + 1)·B, after every other parameter');
    const seqs = base.nodeTypes ? moleculeSequences(base, 9, 6) : untypedSequences(9, 6);
    t.same(logLikelihoods(on, layout, flat, seqs), logLikelihoods(base, plainLayout, plain, seqs), 'the same log p');
    const rngs = (): Rng[] => Array.from({ length: 30 }, (_, i) => Rng.derive(4, i));
    t.equal(JSON.stringify(sampleGraphs(on, layout, flat, rngs(), 10)), JSON.stringify(sampleGraphs(base, plainLayout, plain, rngs(), 10)), 'the same samples');
    t.same(paramLayout({ ...base, distanceWeights: false }), plainLayout, 'off: no q');
    t.same(logLikelihoods({ ...base, distanceWeights: false }, plainLayout, plain, seqs), logLikelihoods(base, plainLayout, plain, seqs), 'off: the same log p');
  }
});

t.test('model.distanceWeights: off by default, a boolean, needs a distance term, passed on by a cluster task', async (t) => {
  t.equal(configFromJson({}, 'cfg.json').model.distanceWeights, false);
  t.equal(configFromJson({ model: { destinationDistance: 4, distanceWeights: true } }, 'cfg.json').model.distanceWeights, true);
  t.throws(() => configFromJson({ model: { distanceWeights: 'yes' } }, 'cfg.json'), { message: /^cfg\.json: model\.distanceWeights must be a boolean, got "yes"$/ });
  t.throws(() => configFromJson({ model: { distanceWeights: true } }, 'cfg.json'), { message: 'cfg.json: model.distanceWeights needs model.destinationDistance >= 1: its weights are one set per distance bucket' });
  const task = (m: Record<string, unknown>): unknown => ({ format: CLUSTER_FORMAT, kind: 'sample', run: '0123456789abcdef', model: { nodeSize: 4, propRounds: 1, ...m }, seed: 0, from: 0, count: 1, vMax: 5 });
  t.same(parseTask(task({ destinationDistance: 2, distanceWeights: true })).model, { nodeSize: 4, propRounds: 1, destinationDistance: 2, distanceWeights: true }, 'a task passes it on');
  t.throws(() => parseTask(task({ distanceWeights: 1 })), { message: 'task model field distanceWeights must be true or false, got 1' });
});
