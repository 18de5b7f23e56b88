import t, { type Test } from 'tap';
import { initParams, paramLayout, type ModelConfig, type ParamLayout } from '../model/params';
import { paramTensors, referenceLogLikelihood } from '../model/reference';
import { logLikelihoods, shardGradients } from '../model/teacher';
import { Rng } from '../graphs/random';
import { testBackend, tf } from './helpers';

const cfg: ModelConfig = { nodeSize: 4, propRounds: 2 };
const layout = paramLayout(cfg);
const flat = initParams(layout, 5);
t.before(testBackend);

/**
 * The batched gradient along six random unit directions against central differences of the loss;
 * with `along`, the directions move only the flat entries it accepts.
 */
function finiteDifferences(t: Test, c: ModelConfig, l: ParamLayout, flat: Float32Array, seqs: number[][], along: (i: number) => boolean = () => true): void {
  const { gradSum } = shardGradients(c, l, flat, seqs);
  const loss = (f: Float32Array): number => -logLikelihoods(c, l, f, seqs).reduce((s, x) => s + x, 0);
  const dirRng = new Rng(4);
  for (let k = 0; k < 6; k++) {
    const raw = Float32Array.from({ length: flat.length }, (_, i) => (along(i) ? dirRng.normal() : 0));
    const norm = Math.hypot(...raw);
    const dir = raw.map((x) => x / norm); // unit direction: the step stays in the linear regime
    const eps = 3e-3;
    const plus = Float32Array.from(flat, (v, i) => v + eps * dir[i]);
    const minus = Float32Array.from(flat, (v, i) => v - eps * dir[i]);
    const numeric = (loss(plus) - loss(minus)) / (2 * eps);
    const analytic = gradSum.reduce((s, g, i) => s + g * dir[i], 0);
    t.ok(Math.abs(numeric - analytic) <= 2e-3 * Math.max(1, Math.abs(analytic)), `direction ${k}: analytic ${analytic.toFixed(4)} vs numeric ${numeric.toFixed(4)}`);
  }
}

t.test('gradient of the batched loss matches finite differences', async (t) => {
  finiteDifferences(t, cfg, layout, flat, [
    [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1], // triangle
    [0, 1, 0, 0, 0, 1, 0, 1, 1], // edge + isolated node
    [0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 2, 1, 1], // path 0-1-2-3
  ]);
});

t.test('typed model (K = 3, B = 2): gradient of the batched loss matches finite differences', async (t) => {
  const typed: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y'] };
  const l = paramLayout(typed);
  finiteDifferences(t, typed, l, initParams(l, 6), [
    [2, 2, 0, 1, 0, 2, 1, 1, 1, 0, 0, 2, 3], // triangle: types 2, 0, 1; edges of types 1, 1, 0
    [0, 2, 2, 0, 0, 2, 1, 2, 3], // edge + isolated node
    [1, 2, 1, 1, 0, 2, 0, 0, 1, 2, 2, 1, 2, 2, 3], // path 0-1-2-3
  ]);
});

t.test('typed model (B = 2): each destination score column\'s gradient matches finite differences', async (t) => {
  const typed: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y'] };
  const l = paramLayout(typed);
  const i = l.specs.findIndex((s) => s.name === 'chooseDest.score.w');
  // destinations with >= 2 candidates of both types: the triangle's node 2 (types 1, then 0), the
  // path's node 2 (type 0) and node 3 (type 1)
  const seqs = [
    [2, 2, 0, 1, 0, 2, 1, 1, 1, 0, 0, 2, 3],
    [1, 2, 1, 1, 0, 2, 0, 0, 1, 2, 2, 1, 2, 2, 3],
  ];
  for (const b of [0, 1]) {
    t.test(`column ${b}`, async (t) => {
      const flat = initParams(l, 6);
      const { gradSum } = shardGradients(typed, l, flat, seqs);
      const col = Array.from({ length: 2 * typed.nodeSize }, (_, r) => gradSum[l.offsets[i] + r * 2 + b]);
      t.ok(col.some((g) => Math.abs(g) > 1e-4), `column ${b} has a gradient`);
      finiteDifferences(t, typed, l, flat, seqs, (j) => j >= l.offsets[i] && j < l.offsets[i] + 4 * typed.nodeSize && (j - l.offsets[i]) % 2 === b);
    });
  }
});

t.test('valence-constrained molecule model: gradient of the batched loss matches finite differences', async (t) => {
  // atoms F, O, C; bonds single, double. Removed actions: node 0's edges (no earlier atom), the
  // double bond to or from F, and bonds to the F of F-C and the O of O=C, which are full.
  const mol: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['F', 'O', 'C'], edgeTypes: ['single', 'double'], valenceMask: true };
  const l = paramLayout(mol);
  const seqs = [
    [2, 2, 0, 0, 0, 2, 1, 1, 0, 2, 2, 2, 2, 0, 3, 2, 3], // C, F-C, O=C, a lone C, then C-C: node 4 chooses between the two carbons
    [1, 2, 2, 1, 0, 2, 0, 0, 1, 2, 3], // O=C, then F-C
    [2, 2, 2, 0, 0, 2, 1, 0, 1, 0, 0, 2, 3], // C-C, O bonded to both (a three-ring)
  ];
  const flat = initParams(l, 8);
  t.ok(logLikelihoods(mol, l, flat, seqs).every((x, i) => x > logLikelihoods({ ...mol, valenceMask: false }, l, flat, [seqs[i]])[0]), 'the constraint removes actions from every sequence');
  finiteDifferences(t, mol, l, flat, seqs);
});

t.test('node-count input: the gradient of its table matches finite differences, untyped and typed', async (t) => {
  // N = 2 below the graphs' sizes: row 2 gathers the decisions at 2 and 3 nodes
  for (const c of [
    { ...cfg, nodeCountInput: 2 },
    { nodeSize: 4, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y'], nodeCountInput: 2 },
  ]) {
    const l = paramLayout(c);
    const flat = initParams(l, 7);
    const i = l.specs.findIndex((s) => s.name === 'addNode.count');
    const rng = new Rng(3);
    for (let j = l.offsets[i]; j < l.offsets[i + 1]; j++) flat[j] = rng.normal();
    const K = c.nodeTypes?.length ?? 1;
    // a triangle and a path of 4 nodes, the typed ones with types taken in turn
    const seqs = K === 1
      ? [[0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1], [0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 2, 1, 1]]
      : [[2, 2, 0, 1, 0, 2, 1, 1, 1, 0, 0, 2, 3], [1, 2, 1, 1, 0, 2, 0, 0, 1, 2, 2, 1, 2, 2, 3]];
    finiteDifferences(t, c, l, flat, seqs, (j) => j >= l.offsets[i] && j < l.offsets[i + 1]);
  }
});

/** The 2-node graph 0-1, computed with scalars from the model equations (docs/design.md) for node size 1 and one round. */
t.test('log-likelihood of a 2-node graph equals the hand computation', async (t) => {
  const c1: ModelConfig = { nodeSize: 1, propRounds: 1 };
  const l1 = paramLayout(c1);
  const f1 = initParams(l1, 3);
  const P = (name: string, i = 0): number => f1[l1.offsets[l1.specs.findIndex((s) => s.name === name)] + i];
  // a learned h_G for the empty graph (it starts at zeros)
  f1.set([0.3, -0.7], l1.offsets[l1.specs.findIndex((s) => s.name === 'embed.empty')]);
  const empty = [P('embed.empty', 0), P('embed.empty', 1)];
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const logSig = (x: number): number => Math.log(sig(x));
  // [in, out] storage: W[r][c] = P(name, r * out + c)
  const embed = (hs: number[]): [number, number] => {
    const hG: [number, number] = [0, 0];
    for (const h of hs) {
      const gate = sig(P('embed.gate.w') * h + P('embed.gate.b'));
      for (let k = 0; k < 2; k++) hG[k] += gate * (P('embed.proj.w', k) * h + P('embed.proj.b', k));
    }
    return hG;
  };
  const addNodeLogit = (hG: number[]): number => P('addNode.stop.w', 0) * hG[0] + P('addNode.stop.w', 1) * hG[1] + P('addNode.stop.b');
  const addEdgeLogit = (hG: number[], hv: number): number =>
    P('addEdge.stop.w', 0) * hG[0] + P('addEdge.stop.w', 1) * hG[1] + P('addEdge.stop.w', 2) * hv + P('addEdge.stop.b');
  const init = (hG: number[]): number =>
    P('addNode.init.w', 0) * P('addNode.typeEmbed') + P('addNode.init.w', 1) * hG[0] + P('addNode.init.w', 2) * hG[1] + P('addNode.init.b');
  const message = (hv: number, hu: number): number[] =>
    [0, 1].map((c) => P('prop.0.msg.w', c) * hv + P('prop.0.msg.w', 2 + c) * hu + P('prop.0.msg.w', 4 + c) * 1 + P('prop.0.msg.b', c));
  const gru = (a: number[], h: number): number => {
    const gi = [0, 1, 2].map((g) => P('prop.0.gru.wi', g) * a[0] + P('prop.0.gru.wi', 3 + g) * a[1] + P('prop.0.gru.bi', g));
    const gh = [0, 1, 2].map((g) => P('prop.0.gru.wh', g) * h + P('prop.0.gru.bh', g));
    const r = sig(gi[0] + gh[0]);
    const z = sig(gi[1] + gh[1]);
    const c = Math.tanh(gi[2] + r * gh[2]);
    return (1 - z) * c + z * h;
  };
  let ll = logSig(-addNodeLogit(empty)); // add node 0
  const h0 = init(empty);
  let hG = embed([h0]);
  ll += logSig(addEdgeLogit(hG, h0)); // node 0: no edges
  ll += logSig(-addNodeLogit(hG)); // add node 1
  const h1 = init(hG);
  hG = embed([h0, h1]);
  ll += logSig(-addEdgeLogit(hG, h1)); // node 1: add an edge, destination 0 (one candidate: no term)
  const h0n = gru(message(h0, h1), h0);
  const h1n = gru(message(h1, h0), h1);
  hG = embed([h0n, h1n]);
  ll += logSig(addEdgeLogit(hG, h1n)); // no more edges
  ll += logSig(addNodeLogit(hG)); // stop

  const seq = [0, 1, 0, 0, 0, 1, 1];
  const batched = logLikelihoods(c1, l1, f1, [seq])[0];
  const ref = tf.tidy(() => referenceLogLikelihood(paramTensors(l1, f1), c1, seq).dataSync()[0]);
  t.ok(Math.abs(batched - ll) < 1e-5 * Math.abs(ll), `batched ${batched} vs hand ${ll}`);
  t.ok(Math.abs(ref - ll) < 1e-5 * Math.abs(ll), `reference ${ref} vs hand ${ll}`);
});
