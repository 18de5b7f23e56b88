import * as tf from '@tensorflow/tfjs';
import type { Decisions, Graph } from '../graphs/graph';
import type { MoleculeVocabulary, TypedGraph } from '../graphs/molecule';
import { Rng } from '../graphs/random';
import { valenceRule } from '../graphs/valence';
import { initBackend } from '../model/backend';
import type { ModelConfig, ParamLayout } from '../model/params';
import { paramTensors, referenceLogLikelihood } from '../model/reference';
import { sampleGraphs } from '../model/sample';
import { logLikelihoods } from '../model/teacher';

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
      return tf.neg(tf.addN(lls)) as tf.Scalar;
    };
    const g = tf.grads(f)(names.map((n) => params[n]));
    const flatGrad = new Float32Array(layout.total);
    g.forEach((x, i) => flatGrad.set(x.dataSync() as Float32Array, layout.offsets[i]));
    return flatGrad;
  });
  return { refLL, refGrad };
}

/**
 * A sampler's draws against the teacher: `N` graphs of up to `vMax` nodes sampled from streams
 * Rng.derive(seed, i), counted against the probabilities exp(log p) teacher forcing gives every
 * possible generation (its graph and its sequence), which must sum to 1 and each expect 5 draws;
 * a sample that is no generation, `what` says why it cannot be. The add-node head must read its
 * bias alone, P(stop) = `stopAtVMax`: the sampler does not draw the stop at v_max, so it is
 * divided out. Passes when chi-square is below `critical`, its p = 0.001 point for
 * (generations - 1) degrees of freedom.
 */
export function checkSamplerChiSquare(
  t: { ok(value: unknown, message: string): unknown; same(found: unknown, wanted: unknown, message: string): unknown },
  run: { cfg: ModelConfig; layout: ParamLayout; flat: Float32Array; vMax: number; stopAtVMax: number; seed: number },
  outcomes: ReadonlyArray<{ graph: Graph; seq: Decisions }>,
  what: string,
  critical: number,
  N = 50_000,
): void {
  const { cfg, layout, flat, vMax } = run;
  const ll = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
  const expected = outcomes.map((o, i) => Math.exp(ll[i] - (o.graph.numNodes === vMax ? Math.log(run.stopAtVMax) : 0)));
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
