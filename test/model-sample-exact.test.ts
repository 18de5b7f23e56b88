import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { initParams, paramLayout, type ModelConfig, type ParamLayout } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { logLikelihoods } from '../model/teacher';
import { testBackend } from './helpers';

t.before(testBackend);

/** Sets parameter `name` of `flat` to `values` (row-major, [in, out] for weights). */
function setParam(layout: ParamLayout, flat: Float32Array, name: string, values: readonly number[]): void {
  const i = layout.specs.findIndex((s) => s.name === name);
  if (i < 0) throw new Error(`no parameter ${name}`);
  const size = layout.specs[i].shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`${name} has ${size} entries, got ${values.length}`);
  flat.set(values, layout.offsets[i]);
}

const zeros = (layout: ParamLayout, flat: Float32Array, name: string): void => {
  const s = layout.specs.find((x) => x.name === name);
  setParam(layout, flat, name, new Array<number>(s ? s.shape.reduce((a, b) => a * b, 1) : 0).fill(0));
};

const logSigmoid = (x: number): number => -Math.log1p(Math.exp(-x));
const logSoftmaxAt = (scores: readonly number[], k: number): number => {
  const max = Math.max(...scores);
  return scores[k] - max - Math.log(scores.reduce((s, x) => s + Math.exp(x - max), 0));
};

t.test('choose-destination log-probabilities computed by hand on a 3-node graph', async (t) => {
  // n = 1, one round, and parameters chosen so every state is known by hand:
  // - GraphEmbed: gate sigmoid(0) = 1/2, projection [2, 0], so h_G = [number of nodes, 0].
  // - AddNode init: h_v = h_G[0], the number of nodes before v: h_0 = 0, h_1 = 1, h_2 = 2.
  // - Propagation: messages and GRU weights all 0, so n = tanh(0) = 0 and z = sigmoid(0) = 1/2:
  //   every propagation halves every node state of the graph.
  // - Stop logits are their biases alone; ChooseDest score s_u = 2 h_u + 0.7 h_v - 0.2.
  const cfg: ModelConfig = { nodeSize: 1, propRounds: 1 };
  const layout = paramLayout(cfg);
  const flat = new Float32Array(layout.total);
  setParam(layout, flat, 'embed.proj.b', [2, 0]);
  setParam(layout, flat, 'addNode.init.w', [0, 1, 0]);
  const aNode = 0.25;
  const aEdge = -0.5;
  setParam(layout, flat, 'addNode.stop.b', [aNode]);
  setParam(layout, flat, 'addEdge.stop.b', [aEdge]);
  setParam(layout, flat, 'chooseDest.score.w', [2, 0.7]);
  setParam(layout, flat, 'chooseDest.score.b', [-0.2]);
  const score = (hu: number, hv: number): number => 2 * hu + 0.7 * hv - 0.2;

  // A triangle in natural order; node 2 picks node 1, then node 0 (newest first).
  const triangle: Decisions = [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1];
  // The same triangle with node 2 picking node 0 first.
  const swapped: Decisions = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1];
  // States: h = [0], then [0, 1]; edge 1-0 (one candidate: no term) halves them to [0, 0.5];
  // node 2 enters with h_2 = 2; after node 2's first edge they halve to [0, 0.25, 1].
  const stops = 3 * logSigmoid(-aNode) + logSigmoid(aNode) + 3 * logSigmoid(-aEdge) + 3 * logSigmoid(aEdge);
  const first = (dest: number): number => logSoftmaxAt([score(0, 2), score(0.5, 2)], dest);
  const second = (dest: number): number => logSoftmaxAt([score(0, 1), score(0.25, 1)], dest);
  const byHand = [stops + first(1) + second(0), stops + first(0) + second(1)];
  const ll = logLikelihoods(cfg, layout, flat, [triangle, swapped]);
  for (let i = 0; i < 2; i++) t.ok(Math.abs(ll[i] - byHand[i]) < 1e-5, `sequence ${i}: logLikelihoods ${ll[i]}, by hand ${byHand[i]}`);
  // Picking 0 first gives up 1 in the first softmax and gains 0.5 in the second: exactly -0.5.
  t.ok(Math.abs(ll[1] - ll[0] + 0.5) < 1e-5, `the difference is ${ll[1] - ll[0]}, by hand -0.5`);
});

/**
 * Counts its draws and returns `value` for every one, so that the sampler's decisions are fixed:
 * a tiny value takes every Bernoulli outcome of probability > value and the first destination.
 * Past `limit` draws it throws, so a missing cap fails instead of looping forever.
 */
class ScriptedRng extends Rng {
  draws = 0;

  constructor(
    private readonly value: number,
    private readonly limit: number,
  ) {
    super(0);
  }

  override uniform(): number {
    if (++this.draws > this.limit) throw new Error(`the sampler drew more than ${this.limit} numbers for one graph: no cap on a node's edge attempts`);
    return this.value;
  }
}

t.test('a node tries at most (nodes - 1) edges: the cap itself', async (t) => {
  // Stop probabilities sigmoid(-50) ~ 2e-22 (never stop on their own) and equal destination
  // scores: with every draw 1e-9, each node adds edges until the cap and always picks node 0, so
  // every attempt after the first repeats the edge to node 0 and changes nothing.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 1 };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 1);
  for (const name of ['addNode.stop.w', 'addEdge.stop.w', 'chooseDest.score.w']) zeros(layout, flat, name);
  setParam(layout, flat, 'addNode.stop.b', [-50]);
  setParam(layout, flat, 'addEdge.stop.b', [-50]);
  setParam(layout, flat, 'chooseDest.score.b', [0]);
  const V = 6;
  const rng = new ScriptedRng(1e-9, 1000);
  const [g] = sampleGraphs(cfg, layout, flat, [rng], V);
  t.same(g, { numNodes: V, edges: [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0]] }, 'a star: every node reaches node 0 first, then repeats it');
  // Draws: one add-node decision per node (the one at v_max is forced: no draw); node 1 tries once
  // (one stop draw; a single candidate needs no destination draw); node v >= 2 tries exactly v
  // times, a stop draw and a destination draw each; node 0 has no candidate and draws nothing.
  let expected = V + 1;
  for (let v = 2; v < V; v++) expected += 2 * v;
  t.equal(rng.draws, expected, `${expected} draws: node v tries exactly v edges, not one more`);
});

// D = 2: a destination-distance term (docs/design.md, 'Destination distance') with its three
// buckets weighted apart. Node 2's second destination sees node 0 or 1 as a neighbour (a repeat),
// the other at distance 2 or in another component, so the term shapes the draws and the
// correction for repeats below.
for (const D of [0, 2]) {
  t.test(`the sampler draws each graph with probability exp(log-likelihood): chi-square on a tiny model${D ? `, with a destination-distance term (D = ${D})` : ''}`, async (t) => {
    // v_max = 3 keeps the outcomes finite (14 generations) and every correction exact. The two stop
    // decisions read only their biases (weights 0), so the probability of a decision the sampler
    // does not draw is a known constant; destinations keep random weights, so their probabilities
    // depend on the state (embedding, initialisation, propagation) as in any model.
    const cfg: ModelConfig = D ? { nodeSize: 4, propRounds: 2, destinationDistance: D } : { nodeSize: 4, propRounds: 2 };
    const layout = paramLayout(cfg);
    const flat = initParams(layout, 11);
    if (D) setParam(layout, flat, 'chooseDest.distance', [-1.5, 1.5, 0]);
    zeros(layout, flat, 'addNode.stop.w');
    zeros(layout, flat, 'addEdge.stop.w');
    setParam(layout, flat, 'addNode.stop.b', [-1]);
    setParam(layout, flat, 'addEdge.stop.b', [-0.5]);
    // Sharper destination scores, so that a wrong softmax moves the counts far.
    const w = layout.offsets[layout.specs.findIndex((s) => s.name === 'chooseDest.score.w')];
    for (let i = 0; i < 2 * cfg.nodeSize; i++) flat[w + i] *= 8;
    const sn = 1 / (1 + Math.exp(1)); // P(stop adding nodes)
    const se = 1 / (1 + Math.exp(0.5)); // P(no more edges)

    // Every generation, labelled in generation order, with its natural-order decision sequence.
    interface Outcome {
      readonly graph: Graph;
      readonly seq: number[];
    }
    const outcomes: Outcome[] = [
      { graph: { numNodes: 0, edges: [] }, seq: [1] },
      { graph: { numNodes: 1, edges: [] }, seq: [0, 1, 1] },
    ];
    for (const e1 of [false, true]) {
      const node1 = e1 ? [0, 0, 0, 1] : [0, 1];
      const edges1: Array<[number, number]> = e1 ? [[1, 0]] : [];
      outcomes.push({ graph: { numNodes: 2, edges: edges1 }, seq: [0, 1, ...node1, 1] });
      for (const dests of [[], [0], [1], [0, 1], [1, 0]]) {
        outcomes.push({
          graph: { numNodes: 3, edges: [...edges1, ...dests.map((d): [number, number] => [2, d])] },
          seq: [0, 1, ...node1, 0, ...dests.flatMap((d) => [0, d]), 1, 1],
        });
      }
    }
    const ll = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
    const llOf = (graph: Graph): number => ll[outcomes.findIndex((o) => JSON.stringify(o.graph) === JSON.stringify(graph))];

    // Teacher forcing scores decisions the sampler never draws; take them out:
    // node 0's "no more edges" (it has no candidate), a node's "no more edges" once it has tried
    // as many edges as earlier nodes, and the final stop at v_max. And a node 2 that added one edge
    // to d may have tried again, drawn d again (a repeat, which changes nothing) and hit the cap:
    // P(only d) = P(d) * (P(stop) + P(try) * p(d | state after d)) where the teacher-forced
    // sequence has P(d) * P(stop); p(d | state after d) = 1 - p(other | state after d), and the
    // latter is the ratio of the two-edge and one-edge sequences' likelihoods over P(try).
    const expected = outcomes.map(({ graph }) => {
      const n = graph.numNodes;
      const node2 = graph.edges.filter(([v]) => v === 2).map(([, d]) => d);
      let logP = llOf(graph);
      if (n >= 1) logP -= Math.log(se);
      if (graph.edges.some(([v]) => v === 1)) logP -= Math.log(se);
      if (n === 3) logP -= Math.log(sn);
      if (node2.length === 2) logP -= Math.log(se);
      let p = Math.exp(logP);
      if (node2.length === 1) {
        const d = node2[0];
        const both = { numNodes: 3, edges: [...graph.edges, [2, 1 - d] as [number, number]] };
        const pOther = Math.exp(llOf(both) - llOf(graph)) / (1 - se);
        p *= (se + (1 - se) * (1 - pOther)) / se;
      }
      return p;
    });
    const total = expected.reduce((a, b) => a + b, 0);
    t.ok(Math.abs(total - 1) < 1e-5, `the 14 generations' probabilities sum to 1: ${total}`);

    const N = 50_000;
    const counts = new Map<string, number>();
    for (let from = 0; from < N; from += 5000) {
      const rngs = Array.from({ length: 5000 }, (_, i) => Rng.derive(2024, from + i));
      for (const g of sampleGraphs(cfg, layout, flat, rngs, 3)) {
        const key = JSON.stringify(g);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const keys = outcomes.map((o) => JSON.stringify(o.graph));
    const strays = [...counts.keys()].filter((k) => !keys.includes(k));
    t.same(strays, [], 'every sample is one of the 14 generations');
    let chi2 = 0;
    outcomes.forEach((_, i) => {
      const e = N * expected[i];
      if (e < 5) t.fail(`expected count ${e} of ${keys[i]} is too small for a chi-square test`);
      chi2 += ((counts.get(keys[i]) ?? 0) - e) ** 2 / e;
    });
    // 13 degrees of freedom: P(chi2 > 34.53) = 0.001 when the sampler is exact.
    t.ok(chi2 < 34.53, `chi-square ${chi2.toFixed(2)} < 34.53 (13 degrees of freedom, p = 0.001)`);
    t.comment(`chi-square ${chi2.toFixed(2)}; expected ${expected.map((p) => p.toFixed(4)).join(' ')}`);
  });
}

t.test('typed sampling (K = 2, B = 2) draws each graph with probability exp(log-likelihood): chi-square', async (t) => {
  // v_max = 2 keeps the outcomes finite (15 typed generations). The add heads read only their
  // biases (weights 0), so a decision the sampler does not draw has a known probability.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, nodeTypes: ['a', 'b'], edgeTypes: ['x', 'y'] };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 12);
  zeros(layout, flat, 'addNode.stop.w');
  zeros(layout, flat, 'addEdge.stop.w');
  setParam(layout, flat, 'addNode.stop.b', [0.3, -0.2, -0.8]);
  setParam(layout, flat, 'addEdge.stop.b', [0.1, -0.4, 0.2]);
  const softmax = (z: number[]): number[] => z.map((x) => Math.exp(x) / z.reduce((s, y) => s + Math.exp(y), 0));
  const pn = softmax([0.3, -0.2, -0.8]); // node type 0, 1, stop
  const pe = softmax([0.1, -0.4, 0.2]); // edge type 0, 1, no more

  interface Outcome {
    readonly graph: Graph;
    readonly seq: number[];
    /** Log-probability of the decisions teacher forcing scores that the sampler does not draw. */
    readonly undrawn: number;
    /** The probability written out from the heads' softmaxes. */
    readonly direct: number;
  }
  const outcomes: Outcome[] = [{ graph: { numNodes: 0, edges: [], nodeTypes: [], edgeTypes: [] }, seq: [2], undrawn: 0, direct: pn[2] }];
  for (const k0 of [0, 1]) {
    // node 0 has no candidate: its "no more edges" is not drawn
    outcomes.push({ graph: { numNodes: 1, edges: [], nodeTypes: [k0], edgeTypes: [] }, seq: [k0, 2, 2], undrawn: Math.log(pe[2]), direct: pn[k0] * pn[2] });
    for (const k1 of [0, 1]) {
      // at v_max the stop is forced
      outcomes.push({ graph: { numNodes: 2, edges: [], nodeTypes: [k0, k1], edgeTypes: [] }, seq: [k0, 2, k1, 2, 2], undrawn: Math.log(pe[2] * pn[2]), direct: pn[k0] * pn[k1] * pe[2] });
      for (const b of [0, 1]) {
        // node 1's edge to the single candidate 0, then its cap: "no more" is not drawn either
        outcomes.push({
          graph: { numNodes: 2, edges: [[1, 0]], nodeTypes: [k0, k1], edgeTypes: [b] },
          seq: [k0, 2, k1, b, 0, 2, 2],
          undrawn: Math.log(pe[2] * pe[2] * pn[2]),
          direct: pn[k0] * pn[k1] * pe[b],
        });
      }
    }
  }
  const ll = logLikelihoods(cfg, layout, flat, outcomes.map((o) => o.seq));
  const expected = outcomes.map((o, i) => Math.exp(ll[i] - o.undrawn));
  outcomes.forEach((o, i) => t.ok(Math.abs(expected[i] - o.direct) < 1e-5, `${JSON.stringify(o.seq)}: teacher forcing ${expected[i].toFixed(6)} = softmax products ${o.direct.toFixed(6)}`));
  t.ok(Math.abs(expected.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the 15 generations\' probabilities sum to 1');

  const N = 30_000;
  const counts = new Map<string, number>();
  for (let from = 0; from < N; from += 5000) {
    const rngs = Array.from({ length: 5000 }, (_, i) => Rng.derive(77, from + i));
    for (const g of sampleGraphs(cfg, layout, flat, rngs, 2)) {
      const key = JSON.stringify(g);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  const keys = outcomes.map((o) => JSON.stringify(o.graph));
  t.same([...counts.keys()].filter((k) => !keys.includes(k)), [], 'every sample is one of the 15 typed generations');
  let chi2 = 0;
  outcomes.forEach((_, i) => (chi2 += ((counts.get(keys[i]) ?? 0) - N * expected[i]) ** 2 / (N * expected[i])));
  // 14 degrees of freedom: P(chi2 > 36.12) = 0.001 when the sampler is exact.
  t.ok(chi2 < 36.12, `chi-square ${chi2.toFixed(2)} < 36.12 (14 degrees of freedom, p = 0.001)`);
});

t.test('typed sampling (B = 2): a destination is drawn from the score column of the edge type just drawn', async (t) => {
  // v_max = 3, one node type. The add heads read only their biases (weights 0), so in teacher
  // forcing the sequences that differ only in node 2's first destination d differ only in that
  // decision's term: p(d | state, type b) = softmax over d of their log-likelihoods. The columns
  // are opposite (w_1 = -w_0, sharpened), so the two types prefer different destinations and a
  // sampler that ignored the type would miss by thousands of samples.
  const cfg: ModelConfig = { nodeSize: 4, propRounds: 2, edgeTypes: ['x', 'y'] };
  const layout = paramLayout(cfg);
  const flat = initParams(layout, 13);
  zeros(layout, flat, 'addNode.stop.w');
  zeros(layout, flat, 'addEdge.stop.w');
  setParam(layout, flat, 'addNode.stop.b', [-1.5]);
  setParam(layout, flat, 'addEdge.stop.b', [0.2, 0.1, -0.3]);
  const w = layout.offsets[layout.specs.findIndex((s) => s.name === 'chooseDest.score.w')];
  for (let r = 0; r < 2 * cfg.nodeSize; r++) {
    flat[w + 2 * r] *= 40;
    flat[w + 2 * r + 1] = -flat[w + 2 * r];
  }
  // cells: node 1's edge to 0 (none, type 0, type 1) x the type b of node 2's first edge
  const node1s = [[2], [0, 0, 2], [1, 0, 2]];
  const cells = node1s.flatMap((node1, e1) => [0, 1].map((b) => ({ e1, b, seq: (d: number) => [0, 2, 0, ...node1, 0, b, d, 2, 1] })));
  const ll = logLikelihoods(cfg, layout, flat, cells.flatMap((c) => [c.seq(0), c.seq(1)]));
  // P(d = 0) in each cell; after node 1's edge the propagated states of nodes 0 and 1 are close,
  // so the types' preferences differ most where node 1 has no edge
  const p0 = cells.map((_, i) => 1 / (1 + Math.exp(ll[2 * i + 1] - ll[2 * i])));
  for (let e1 = 0; e1 < 3; e1++) {
    t.ok(Math.abs(p0[2 * e1] - p0[2 * e1 + 1]) > (e1 === 0 ? 0.9 : 0.1), `node 1's edge ${['none', 'x', 'y'][e1]}: P(node 0) is ${p0[2 * e1].toFixed(3)} after type x, ${p0[2 * e1 + 1].toFixed(3)} after type y`);
  }

  const N = 30_000;
  const count = cells.map(() => [0, 0]);
  for (let from = 0; from < N; from += 5000) {
    const rngs = Array.from({ length: 5000 }, (_, i) => Rng.derive(99, from + i));
    for (const g of sampleGraphs(cfg, layout, flat, rngs, 3)) {
      // node 2's first attempt is its first edge: nothing to repeat yet
      const first = g.edges.findIndex(([v]) => v === 2);
      if (first < 0) continue;
      const e1 = g.edges.findIndex(([v]) => v === 1);
      const types = g.edgeTypes ?? [];
      count[2 * (e1 < 0 ? 0 : 1 + types[e1]) + types[first]][g.edges[first][1]]++;
    }
  }
  let chi2 = 0;
  cells.forEach((c, i) => {
    const m = count[i][0] + count[i][1];
    const e = [m * p0[i], m * (1 - p0[i])];
    if (Math.min(...e) < 5) t.fail(`cell ${i}: expected counts ${e} too small for a chi-square test`);
    chi2 += (count[i][0] - e[0]) ** 2 / e[0] + (count[i][1] - e[1]) ** 2 / e[1];
    t.comment(`node 1 ${['none', 'x', 'y'][c.e1]}, type ${c.b}: ${count[i][0]} / ${m} to node 0, expected ${p0[i].toFixed(4)}`);
  });
  // 6 cells of one degree of freedom each: P(chi2 > 22.46) = 0.001 when the sampler is exact.
  t.ok(chi2 < 22.46, `chi-square ${chi2.toFixed(2)} < 22.46 (6 degrees of freedom, p = 0.001)`);
});
