import t from 'tap';
import { encodeGraph } from '../graphs/sequence';
import { Rng } from '../graphs/random';
import type { Decisions } from '../graphs/graph';
import { DEFAULT_MODEL, initParams, paramLayout, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { paramTensors, referenceLogLikelihood } from '../model/reference';
import { compileSchedule } from '../model/schedule';
import { logLikelihoods, shardGradients } from '../model/teacher';
import { maxRelDiff, randomGraph, randomTypedGraph, referenceGradients, relNormDiff, testBackend, tf } from './helpers';

/** Mixed batch: empty, 1-node, edgeless, trees, dense, cycles; random node orders. */
function mixedBatch(seed: number): Decisions[] {
  const rng = new Rng(seed);
  const seqs: Decisions[] = [[1], [0, 1, 1], [0, 1, 0, 1, 0, 1, 1]];
  for (let i = 0; i < 9; i++) {
    const g = randomGraph(rng, rng.int(2, 9), [0.2, 0.5, 0.9][i % 3]);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes)));
  }
  return seqs;
}

/** The flat offset range of parameter `name`. */
const rangeOf = (layout: ParamLayout, name: string): [number, number] => {
  const i = layout.specs.findIndex((s) => s.name === name);
  return [layout.offsets[i], layout.offsets[i] + layout.specs[i].shape.reduce((a, b) => a * b, 1)];
};

/** Fresh parameters with embed.empty drawn too (it starts at zeros), so that both paths must read it. */
function paramsWithEmpty(layout: ParamLayout, seed: number): Float32Array {
  const flat = initParams(layout, seed);
  const rng = new Rng(seed + 100);
  const [from, to] = rangeOf(layout, 'embed.empty');
  for (let j = from; j < to; j++) flat[j] = rng.normal();
  return flat;
}

t.test('batched teacher forcing equals one graph at a time', async (t) => {
  await testBackend();
  const cfg = DEFAULT_MODEL;
  const layout = paramLayout(cfg);
  const flat = paramsWithEmpty(layout, 7);
  const seqs = mixedBatch(3);
  const { refLL, refGrad } = referenceGradients(cfg, layout, flat, seqs);

  const batched = shardGradients(cfg, layout, flat, seqs);
  t.ok(refLL.every((x) => Number.isFinite(x) && x < 0), 'reference log-likelihoods are finite and negative');
  t.ok(maxRelDiff(batched.logLik, refLL, 1e-6) < 1e-5, `per-graph log-likelihoods agree (max rel ${maxRelDiff(batched.logLik, refLL, 1e-6)})`);
  t.ok(relNormDiff(batched.gradSum, refGrad) < 1e-5, `gradients agree (rel norm ${relNormDiff(batched.gradSum, refGrad)})`);
  // Elementwise, relative to the gradient's scale: a near-zero entry has only absolute round-off.
  const scale = Math.max(...Array.from(refGrad, Math.abs));
  t.ok(maxRelDiff(batched.gradSum, refGrad, scale) < 1e-5, `gradients agree elementwise (max diff / max |g| ${maxRelDiff(batched.gradSum, refGrad, scale)})`);
  t.same(Array.from(logLikelihoods(cfg, layout, flat, seqs)), Array.from(batched.logLik), 'forward-only path gives the same values');

  const [from, to] = rangeOf(layout, 'embed.empty');
  t.ok(refGrad.subarray(from, to).some((x) => x !== 0), 'the reference path reads embed.empty');
  t.ok(batched.gradSum.subarray(from, to).some((x) => x !== 0), 'the batched path reads embed.empty');

  // Each graph alone through the batched path: batch composition must not matter.
  const alone = seqs.map((s) => logLikelihoods(cfg, layout, flat, [s])[0]);
  t.ok(maxRelDiff(alone, batched.logLik, 1e-6) < 1e-5, 'a graph scores the same alone and in a batch');
});

t.test('a shard that reaches only some parameters gets zero gradients for the others', async (t) => {
  await testBackend();
  const layout = paramLayout(DEFAULT_MODEL);
  const flat = initParams(layout, 7);
  // no graph has an edge: GraphProp and ChooseDest are never used
  const r = shardGradients(DEFAULT_MODEL, layout, flat, [[1], [0, 1, 1], [0, 1, 0, 1, 1]]);
  const unused = layout.specs.map((s, i) => ({ s, i })).filter(({ s }) => s.name.startsWith('prop.') || s.name.startsWith('chooseDest.'));
  t.ok(unused.length > 0);
  for (const { s, i } of unused) {
    const g = r.gradSum.subarray(layout.offsets[i], layout.offsets[i] + s.shape.reduce((a, b) => a * b, 1));
    if (g.some((x) => x !== 0)) t.fail(`${s.name} has a non-zero gradient`);
  }
  const used = layout.specs.findIndex((s) => s.name === 'addNode.stop.b');
  t.not(r.gradSum[layout.offsets[used]], 0, 'the add-node bias does get a gradient');
  t.ok(r.logLik.every((l) => Number.isFinite(l) && l < 0));
});

t.test('embed.empty is h_G of the empty graph in both paths: the first add-node decision and the first node read it', async (t) => {
  await testBackend();
  const cfg = DEFAULT_MODEL;
  const layout = paramLayout(cfg);
  const zero = initParams(layout, 7);
  const [from, to] = rangeOf(layout, 'embed.empty');
  t.ok(zero.subarray(from, to).every((x) => x === 0), 'starts at zeros');
  const learned = paramsWithEmpty(layout, 7);
  const seqs: Decisions[] = [[1], [0, 1, 1], [0, 1, 0, 0, 0, 1, 1]];
  const both = (flat: Float32Array): [Float32Array, number[]] => [
    logLikelihoods(cfg, layout, flat, seqs),
    tf.tidy(() => seqs.map((s) => referenceLogLikelihood(paramTensors(layout, flat), cfg, s).dataSync()[0])),
  ];
  const [batchedZero, refZero] = both(zero);
  const [batchedLearned, refLearned] = both(learned);
  t.ok(maxRelDiff(batchedLearned, refLearned, 1e-6) < 1e-5, 'the paths agree with a learned embed.empty');
  // the empty graph's only decision is the first add-node decision
  t.ok(Math.abs(batchedLearned[0] - batchedZero[0]) > 1e-3, `batched: log p(empty) moves (${batchedZero[0]} -> ${batchedLearned[0]})`);
  t.ok(Math.abs(refLearned[0] - refZero[0]) > 1e-3, `reference: log p(empty) moves (${refZero[0]} -> ${refLearned[0]})`);
  // with the first add-node decision's logit held, the one-node graph still moves: its node's init reads it
  const a = layout.specs.findIndex((s) => s.name === 'addNode.stop.w');
  const held = Float32Array.from(learned);
  held.fill(0, layout.offsets[a], layout.offsets[a] + 2 * cfg.nodeSize);
  const heldZero = Float32Array.from(zero);
  heldZero.fill(0, layout.offsets[a], layout.offsets[a] + 2 * cfg.nodeSize);
  const [bHeld, rHeld] = both(held);
  const [bHeldZero, rHeldZero] = both(heldZero);
  t.equal(bHeld[0], bHeldZero[0], 'the stop weights at zero: log p(empty) is the bias alone');
  t.ok(Math.abs(bHeld[1] - bHeldZero[1]) > 1e-4, 'batched: the first node starts from embed.empty');
  t.ok(Math.abs(rHeld[1] - rHeldZero[1]) > 1e-4, 'reference: the first node starts from embed.empty');
});

t.test('typed graphs (K = 3 node types, B = 3 edge types): batched teacher forcing equals one graph at a time', async (t) => {
  await testBackend();
  const cfg: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y', 'z'] };
  const types = typeCounts(cfg);
  const layout = paramLayout(cfg);
  const flat = paramsWithEmpty(layout, 9);
  const rng = new Rng(5);
  // the empty graph, a lone node of type 2, then random typed graphs in random orders
  const seqs: Decisions[] = [[3], [2, 3, 3]];
  for (let i = 0; i < 10; i++) {
    const g = randomTypedGraph(rng, rng.int(2, 8), [0.2, 0.5, 0.9][i % 3], 3, 3);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes), types));
  }
  t.ok(seqs.some((s) => s.includes(2)) && seqs.some((s) => s.length > 20), 'the batch uses the third types and has larger graphs');
  // destinations with >= 2 candidates of every edge type, so each score column is read
  const destTypes = compileSchedule(seqs, types).chooseDest.type;
  for (let b = 0; b < 3; b++) t.ok(destTypes.filter((x) => x === b).length >= 3, `destinations of edge type ${b}: ${destTypes.filter((x) => x === b).length}`);
  const { refLL, refGrad } = referenceGradients(cfg, layout, flat, seqs);
  const batched = shardGradients(cfg, layout, flat, seqs);
  t.ok(refLL.every((x) => Number.isFinite(x) && x < 0), 'reference log-likelihoods are finite and negative');
  t.ok(maxRelDiff(batched.logLik, refLL, 1e-6) < 1e-5, `per-graph log-likelihoods agree (max rel ${maxRelDiff(batched.logLik, refLL, 1e-6)})`);
  const scale = Math.max(...Array.from(refGrad, Math.abs));
  t.ok(maxRelDiff(batched.gradSum, refGrad, scale) < 1e-5, `gradients agree elementwise (max diff / max |g| ${maxRelDiff(batched.gradSum, refGrad, scale)})`);
  // every parameter, typed ones included, gets its gradient in both paths
  for (const [i, s] of layout.specs.entries()) {
    const [from, to] = [layout.offsets[i], layout.offsets[i] + s.shape.reduce((a, b) => a * b, 1)];
    const diff = maxRelDiff(batched.gradSum.subarray(from, to), refGrad.subarray(from, to), scale);
    if (!(diff < 1e-5)) t.fail(`${s.name}: gradients differ (${diff})`);
  }
  for (const name of ['addNode.typeEmbed', 'prop.0.msg.w', 'addNode.stop.w', 'addEdge.stop.w', 'chooseDest.score.w']) {
    const [from, to] = rangeOf(layout, name);
    t.ok(refGrad.subarray(from, to).some((x) => x !== 0), `${name} has a gradient`);
  }
  t.same(Array.from(logLikelihoods(cfg, layout, flat, seqs)), Array.from(batched.logLik), 'forward-only path gives the same values');
});

t.test('a destination of edge type b reads column b of the score: perturbing a column moves only the graphs with such destinations', async (t) => {
  await testBackend();
  const cfg: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y', 'z'] };
  const types = typeCounts(cfg);
  const layout = paramLayout(cfg);
  const flat = paramsWithEmpty(layout, 9);
  // node 2 reaches back to 0 (2 candidates) with an edge of type b; node 1's edge is type 0 in all three
  const star = (b: number): Decisions => encodeGraph({ numNodes: 3, edges: [[0, 1], [0, 2]], nodeTypes: [0, 1, 2], edgeTypes: [0, b] }, undefined, types);
  const seqs = [star(0), star(1), star(2)];
  const [from] = rangeOf(layout, 'chooseDest.score.w');
  const n = cfg.nodeSize;
  const before = logLikelihoods(cfg, layout, flat, seqs);
  const refBefore = tf.tidy(() => seqs.map((s) => referenceLogLikelihood(paramTensors(layout, flat), cfg, s).dataSync()[0]));
  for (let b = 0; b < 3; b++) {
    // column b of the [2n, B] weights: its h_u half (the h_v half is the same for every candidate and cancels)
    const moved = Float32Array.from(flat);
    for (let r = 0; r < n; r++) moved[from + r * 3 + b] += 0.5 * (r % 2 ? 1 : -1);
    const after = logLikelihoods(cfg, layout, moved, seqs);
    const refAfter = tf.tidy(() => seqs.map((s) => referenceLogLikelihood(paramTensors(layout, moved), cfg, s).dataSync()[0]));
    for (let g = 0; g < 3; g++) {
      if (g === b) {
        t.ok(Math.abs(after[g] - before[g]) > 1e-3, `column ${b}: batched log p of the type-${g} destination moves (${before[g]} -> ${after[g]})`);
        t.ok(Math.abs(refAfter[g] - refBefore[g]) > 1e-3, `column ${b}: reference log p of the type-${g} destination moves`);
      } else {
        t.equal(after[g], before[g], `column ${b}: batched log p of the type-${g} destination is unchanged`);
        t.equal(refAfter[g], refBefore[g], `column ${b}: reference log p of the type-${g} destination is unchanged`);
      }
    }
  }
});

t.test('typed graphs change the model: a graph scores differently with other types', async (t) => {
  await testBackend();
  const cfg: ModelConfig = { nodeSize: 6, propRounds: 2, nodeTypes: ['a', 'b', 'c'], edgeTypes: ['x', 'y', 'z'] };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 4);
  const types = typeCounts(cfg);
  const path = { numNodes: 3, edges: [[0, 1], [1, 2]] as Array<[number, number]> };
  const ll = logLikelihoods(cfg, layout, flat, [
    encodeGraph({ ...path, nodeTypes: [0, 0, 0], edgeTypes: [0, 0] }, undefined, types),
    encodeGraph({ ...path, nodeTypes: [0, 1, 0], edgeTypes: [0, 0] }, undefined, types),
    encodeGraph({ ...path, nodeTypes: [0, 0, 0], edgeTypes: [0, 2] }, undefined, types),
  ]);
  t.not(ll[0], ll[1], 'node types move the log-likelihood');
  t.not(ll[0], ll[2], 'edge types move the log-likelihood');
});

t.test('the shipped untyped cycles model scores as before typing: values recorded from the untyped code', async (t) => {
  await testBackend();
  const ckpt = loadCheckpoint('models/cycles.json');
  const cfg = ckpt.config.model;
  t.same([typeCounts(cfg).nodeTypes, typeCounts(cfg).edgeTypes], [1, 1]);
  const cycle = (k: number): Decisions => encodeGraph({ numNodes: k, edges: Array.from({ length: k }, (_, i) => [i, (i + 1) % k] as [number, number]) });
  const ll = logLikelihoods(cfg, paramLayout(cfg), ckpt.params, [cycle(3), cycle(13)]);
  // main at a84192e (before typed DGMG), same inputs: -20.390308380126953 and -2.4460670948028564
  t.equal(ll[0], Math.fround(-20.390308380126953), 'a 3-cycle');
  t.equal(ll[1], Math.fround(-2.4460670948028564), 'a 13-cycle');
});
