import * as tf from '@tensorflow/tfjs';
import type { Decisions, Graph } from '../graphs/graph';
import type { MoleculeVocabulary, TypedGraph } from '../graphs/molecule';
import { Rng } from '../graphs/random';
import { valenceRule } from '../graphs/valence';
import { initBackend } from '../model/backend';
import { initParams, paramLayout, paramView, typeCounts, type ModelConfig, type ParamLayout } from '../model/params';
import { paramTensors, referenceLogLikelihood } from '../model/reference';
import { sampleGraphs } from '../model/sample';
import { logLikelihoods, shardGradients, type ShardGradients } from '../model/teacher';
import { encodeGraph } from '../graphs/sequence';

// tfjs advises, once per process, installing its native Node backend; the tests run tfjs only as
// the reference path's backend (production does not load it), so the advice is noise in their
// output. Production mode silences it (initBackend sets it anyway); tfjs's IS_TEST flag would too,
// but it also turns on tfjs's kernel leak check, which the reference path trips on wasm.
tf.enableProdMode();

/** The tfjs backend the reference equations (model/reference.ts) run on: DGMG_TEST_BACKEND, default wasm. */
export async function testBackend(): Promise<string> {
  const choice = process.env.DGMG_TEST_BACKEND === 'cpu' ? 'cpu' : 'wasm';
  return initBackend(choice);
}

/** What `f` throws (null when it returns). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

/** A random simple graph with `n` nodes and edge probability `p`, edges in random order. */
export function randomGraph(rng: Rng, n: number, p: number): Graph {
  const edges: Array<[number, number]> = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  const order = rng.permutation(edges.length);
  return { numNodes: n, edges: order.map((i) => edges[i]) };
}

/** randomGraph with every node and edge given a random type, 0..nodeTypes-1 and 0..edgeTypes-1. */
export function randomTypedGraph(rng: Rng, n: number, p: number, nodeTypes: number, edgeTypes: number): Graph {
  const g = randomGraph(rng, n, p);
  return {
    ...g,
    nodeTypes: Array.from({ length: n }, () => rng.int(0, nodeTypes - 1)),
    edgeTypes: g.edges.map(() => rng.int(0, edgeTypes - 1)),
  };
}

/**
 * A random graph of `n` atoms of `vocab` that no valence is exceeded in: candidate pairs in random
 * order, each bonded with a random bond order that both atoms still have room for (if any).
 */
export function randomMolecule(rng: Rng, n: number, p: number, vocab: MoleculeVocabulary): TypedGraph {
  const rule = valenceRule(vocab);
  const nodeTypes = Array.from({ length: n }, () => rng.int(0, vocab.nodeTypes.length - 1));
  const room = Array.from(nodeTypes, (k) => rule.cap[k]);
  const pairs: Array<[number, number]> = [];
  for (let v = 1; v < n; v++) for (let u = 0; u < v; u++) if (rng.uniform() < p) pairs.push([u, v]);
  const edges: Array<[number, number]> = [];
  const edgeTypes: number[] = [];
  for (const i of rng.permutation(pairs.length)) {
    const [u, v] = pairs[i];
    const fits = [0, 1, 2].filter((b) => b < vocab.edgeTypes.length && rule.order[b] <= Math.min(room[u], room[v]));
    if (fits.length === 0) continue;
    const b = fits[rng.int(0, fits.length - 1)];
    room[u] -= rule.order[b];
    room[v] -= rule.order[b];
    edges.push([u, v]);
    edgeTypes.push(b);
  }
  return { numNodes: n, edges, nodeTypes, edgeTypes };
}

/** max |a - b| / max(|b|, floor), elementwise. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-3): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}

/** ||a - b|| / ||b||. */
export function relNormDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / s);
}

export { tf };

/** The reference path's log-likelihood of every sequence and the gradient of minus their sum, flat. */
export function referenceGradients(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): { refLL: number[]; refGrad: Float32Array } {
  const refLL: number[] = [];
  const refGrad = tf.tidy(() => {
    const params = paramTensors(layout, flat);
    const names = layout.specs.map((s) => s.name);
    const f = (...xs: tf.Tensor[]): tf.Scalar => {
      const p: Record<string, tf.Tensor> = {};
      names.forEach((n, i) => (p[n] = xs[i]));
      const lls = seqs.map((s) => referenceLogLikelihood(p, cfg, s));
      lls.forEach((l) => refLL.push(l.dataSync()[0]));
      // 0·sum(x) of every parameter: one no decision reads (the add-node head of an untyped model
      // under a planned size) gets gradient 0 where tf.grads would refuse it
      return tf.add(tf.neg(tf.addN(lls)), tf.mul(0, tf.addN(xs.map((x) => tf.sum(x))))) as tf.Scalar;
    };
    const g = tf.grads(f)(names.map((n) => params[n]));
    const flatGrad = new Float32Array(layout.total);
    g.forEach((x, i) => flatGrad.set(x.dataSync() as Float32Array, layout.offsets[i]));
    return flatGrad;
  });
  return { refLL, refGrad };
}

/**
 * Batched teacher forcing (shardGradients) of `seqs` held to the reference path: per-graph log p to
 * 1e-5 relative and every gradient element to 1e-5 of the largest; returns the batched result.
 */
export function checkTeacherAgainstReference(t: { ok(value: unknown, message: string): unknown }, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[]): ShardGradients {
  const { refLL, refGrad } = referenceGradients(cfg, layout, flat, seqs);
  const batched = shardGradients(cfg, layout, flat, seqs);
  t.ok(maxRelDiff(batched.logLik, refLL, 1e-6) < 1e-5, `per-graph log-likelihoods agree (max rel ${maxRelDiff(batched.logLik, refLL, 1e-6)})`);
  const scale = Math.max(...Array.from(refGrad, Math.abs));
  t.ok(maxRelDiff(batched.gradSum, refGrad, scale) < 1e-5, `gradients agree elementwise (max diff / max |g| ${maxRelDiff(batched.gradSum, refGrad, scale)})`);
  return batched;
}

/**
 * The gradient of -sum log p of `seqs` (shardGradients) held, entry by entry for each parameter
 * of `names`, to central finite differences of step 1e-2: within 2e-3 + 1%. Returns the gradient.
 */
export function checkFiniteDifferences(t: { ok(value: unknown, message: string): unknown }, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, seqs: readonly Decisions[], names: readonly string[]): Float32Array {
  const grad = shardGradients(cfg, layout, flat, seqs).gradSum;
  const nll = (p: Float32Array): number => -logLikelihoods(cfg, layout, p, seqs).reduce((a, b) => a + b, 0);
  const h = 1e-2;
  for (const name of names) {
    const at = layout.offsets[layout.specs.findIndex((s) => s.name === name)];
    const view = paramView(layout, grad, name);
    for (let k = 0; k < view.length; k++) {
      const plus = Float32Array.from(flat);
      const minus = Float32Array.from(flat);
      plus[at + k] += h;
      minus[at + k] -= h;
      const fd = (nll(plus) - nll(minus)) / (plus[at + k] - minus[at + k]);
      t.ok(Math.abs(fd - view[k]) < 2e-3 + 1e-2 * Math.abs(fd), `${name}[${k}]: analytic ${view[k].toFixed(5)}, finite difference ${fd.toFixed(5)}`);
    }
  }
  return grad;
}

/**
 * Sampled graphs round-trip: each encodes to a sequence the teacher scores finitely and equal to the
 * one-graph reference (1e-5 relative).
 */
export function checkSamplesScoreAsReference(t: { ok(value: unknown, message: string): unknown }, name: string, cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, samples: readonly Graph[]): void {
  const types = typeCounts(cfg);
  const seqs = samples.map((g) => encodeGraph(g, undefined, types));
  const refLL = tf.tidy(() => {
    const p = paramTensors(layout, flat);
    return seqs.map((s) => referenceLogLikelihood(p, cfg, s).dataSync()[0]);
  });
  const ll = logLikelihoods(cfg, layout, flat, seqs);
  t.ok(ll.every(Number.isFinite), `${name}: finite log p`);
  t.ok(maxRelDiff(ll, refLL, 1e-6) < 1e-5, `${name}: teacher = reference on the samples (max rel ${maxRelDiff(ll, refLL, 1e-6)})`);
}

/**
 * A model option at its off value (`off`, e.g. { nodeCountInput: 0 }) is the model without the key,
 * bit for bit: log p and gradients of `seqs`, and 40 samples of up to 12 nodes.
 */
export function checkOffIsAbsent(t: { same(found: unknown, wanted: unknown, message: string): unknown }, cfg: ModelConfig, off: Partial<ModelConfig>, seqs: readonly Decisions[]): void {
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 9);
  const zero = { ...cfg, ...off };
  t.same(logLikelihoods(zero, layout, flat, seqs), logLikelihoods(cfg, layout, flat, seqs), 'log p');
  t.same(shardGradients(zero, layout, flat, seqs), shardGradients(cfg, layout, flat, seqs), 'gradients');
  const rngs = (): Rng[] => Array.from({ length: 40 }, (_, i) => Rng.derive(12, i));
  t.same(sampleGraphs(zero, layout, flat, rngs(), 12), sampleGraphs(cfg, layout, flat, rngs(), 12), 'samples');
}

/** Fresh parameters (initParams) with the zero-started tables of `names` drawn N(0, scale²), so that none hides a wrong index. */
export function paramsWithTables(cfg: ModelConfig, seed: number, names: readonly string[], scale = 1): { layout: ParamLayout; flat: Float32Array } {
  const layout = paramLayout(cfg);
  const flat = initParams(layout, seed);
  const rng = new Rng(seed + 100);
  for (const name of names) {
    if (!layout.specs.some((s) => s.name === name)) continue;
    const table = paramView(layout, flat, name);
    for (let i = 0; i < table.length; i++) table[i] = scale * rng.normal();
  }
  return { layout, flat };
}

/** Two edge cases (no node, one node) and `count` random graphs of 2 to 10 nodes in random orders, untyped. */
export function untypedSequences(seed: number, count: number): Decisions[] {
  const rng = new Rng(seed);
  const seqs: Decisions[] = [[1], [0, 1, 1]];
  for (let i = 0; i < count; i++) {
    const g = randomGraph(rng, rng.int(2, 10), [0.15, 0.3, 0.6][i % 3]);
    seqs.push(encodeGraph(g, rng.permutation(g.numNodes)));
  }
  return seqs;
}

/** `count` random molecules of 2 to 10 atoms within RDKit's valences, of `cfg`'s atom and bond types, in random orders. */
export function moleculeSequences(cfg: ModelConfig, seed: number, count: number): Decisions[] {
  const rng = new Rng(seed);
  const vocab = { nodeTypes: cfg.nodeTypes ?? [], edgeTypes: cfg.edgeTypes ?? [] };
  return Array.from({ length: count }, (_, i) => {
    const g = randomMolecule(rng, rng.int(2, 10), [0.25, 0.4, 0.6][i % 3], vocab);
    return encodeGraph(g, rng.permutation(g.numNodes), typeCounts(cfg));
  });
}

/**
 * A sampler's draws against the teacher: `N` graphs of up to `vMax` nodes sampled from streams
 * Rng.derive(seed, i), counted against the probabilities exp(log p) teacher forcing gives every
 * possible generation (its graph and its sequence), which must sum to 1 and each expect 5 draws;
 * a sample that is no generation, `what` says why it cannot be. The add-node head must read its
 * bias alone, P(stop) = `stopAtVMax`: the sampler does not draw the stop at v_max, so it is
 * divided out, unless the generation `stopsItself` (its rules force the stop, which the teacher
 * does not score either). Passes when chi-square is below `critical`, its p = 0.001 point for
 * (generations - 1) degrees of freedom.
 */
export function checkSamplerChiSquare(
  t: { ok(value: unknown, message: string): unknown; same(found: unknown, wanted: unknown, message: string): unknown },
  run: { cfg: ModelConfig; layout: ParamLayout; flat: Float32Array; vMax: number; stopAtVMax: number; seed: number },
  outcomes: ReadonlyArray<{ graph: Graph; seq: Decisions; stopsItself?: boolean }>,
  what: string,
  critical: number,
  N = 50_000,
): void {
  const { cfg, layout, flat, vMax } = run;
  const ll = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
  const expected = outcomes.map((o, i) => Math.exp(ll[i] - (o.graph.numNodes === vMax && !o.stopsItself ? Math.log(run.stopAtVMax) : 0)));
  const total = expected.reduce((a, b) => a + b, 0);
  t.ok(Math.abs(total - 1) < 1e-5, `the generations' probabilities sum to 1: ${total}`);
  const counts = new Map<string, number>();
  for (let from = 0; from < N; from += 5000) {
    const rngs = Array.from({ length: Math.min(5000, N - from) }, (_, i) => Rng.derive(run.seed, from + i));
    for (const g of sampleGraphs(cfg, layout, flat, rngs, vMax)) {
      const key = JSON.stringify(g);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const keys = outcomes.map((o) => JSON.stringify(o.graph));
  t.same([...counts.keys()].filter((k) => !keys.includes(k)), [], `every sample is one of the ${outcomes.length} generations: ${what}`);
  t.same(keys.filter((_, i) => N * expected[i] < 5), [], 'every generation expects at least 5 draws');
  let chi2 = 0;
  expected.forEach((p, i) => (chi2 += ((counts.get(keys[i]) ?? 0) - N * p) ** 2 / (N * p)));
  t.ok(chi2 < critical, `chi-square ${chi2.toFixed(2)} < ${critical} (${outcomes.length - 1} degrees of freedom, p = 0.001)`);
}

/**
 * Every generation of a model of one atom type of valence 1 with two bond types (single, double)
 * up to `vMax` atoms: the double bond is always removed and a bonded atom is full, so each atom
 * makes at most one single bond to a free earlier atom; the generations are the matchings built
 * in order (18 for v_max = 4), each with its graph and decision sequence.
 */
export function matchingsInOrder(vMax: number): Array<{ graph: Graph; seq: number[] }> {
  const outcomes: Array<{ graph: Graph; seq: number[] }> = [];
  const grow = (n: number, edges: Array<[number, number]>, seq: number[]): void => {
    outcomes.push({ graph: { numNodes: n, edges, edgeTypes: edges.map(() => 0) }, seq: [...seq, 1] });
    if (n === vMax) return;
    const bonded = new Set(edges.flat());
    grow(n + 1, edges, [...seq, 0, 2]);
    for (let d = 0; d < n; d++) if (!bonded.has(d)) grow(n + 1, [...edges, [n, d]], [...seq, 0, 0, d, 2]);
  };
  grow(0, [], []);
  return outcomes;
}
