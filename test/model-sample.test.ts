import t from 'tap';
import { assertSimpleGraph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { initParams, paramLayout, type ModelConfig } from '../model/params';
import { lockstepBytesPerGraph, sampleGraphs } from '../model/sample';

const cfg: ModelConfig = { nodeSize: 8, propRounds: 2 };
const layout = paramLayout(cfg);
const bias = (flat: Float32Array, name: string, value: number): void => {
  flat[layout.offsets[layout.specs.findIndex((s) => s.name === name)]] = value;
};
// Biased so that graphs grow to v_max and try many (often repeated) edges.
const greedy = initParams(layout, 2);
bias(greedy, 'addNode.stop.b', -6);
bias(greedy, 'addEdge.stop.b', -1.5);
const plain = initParams(layout, 2);
const rngs = (seed: number, n: number): Rng[] => Array.from({ length: n }, (_, i) => Rng.derive(seed, i));

t.test('sampling is reproducible from its seed and independent of the batch', async (t) => {
  const a = sampleGraphs(cfg, layout, greedy, rngs(5, 40), 9);
  const b = sampleGraphs(cfg, layout, greedy, rngs(5, 40), 9);
  t.same(a, b, 'same seed, same graphs');
  const c = sampleGraphs(cfg, layout, greedy, rngs(6, 40), 9);
  t.notSame(a, c, 'another seed, other graphs');
  const alone = sampleGraphs(cfg, layout, greedy, [Rng.derive(5, 7)], 9)[0];
  t.same(alone, a[7], 'graph 7 is the same sampled alone as in a batch of 40');
});

// A node's edges go to distinct earlier nodes whether or not the sampler caps its attempts (a
// repeat changes nothing), so the cap itself is tested in model-sample-exact.test.ts.
t.test('samples are simple graphs within v_max, each edge from a node to an earlier one', async (t) => {
  for (const [label, flat, vMax] of [['greedy', greedy, 9], ['initial', plain, 25]] as const) {
    const gs = sampleGraphs(cfg, layout, flat, rngs(1, 60), vMax);
    t.equal(gs.length, 60);
    for (const g of gs) {
      assertSimpleGraph(g, label);
      // edges of node v go to earlier nodes only, at most v of them
      const back = new Array<number>(g.numNodes).fill(0);
      for (const [v, u] of g.edges) {
        if (!(u < v)) t.fail(`${label}: edge [${v}, ${u}] does not point to an earlier node`);
        back[v]++;
      }
      if (back.some((k, v) => k > v)) t.fail(`${label}: a node has more edges than earlier nodes`);
    }
    t.ok(gs.every((g) => g.numNodes <= vMax), `${label}: every graph has at most ${vMax} nodes`);
    if (label === 'greedy') t.ok(gs.filter((g) => g.numNodes === vMax).length > 30, 'greedy: most graphs are stopped by v_max');
  }
});

t.test('sampling reads embed.empty for the first add-node decision', async (t) => {
  const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
  const toward = (sign: number): Float32Array => {
    const flat = initParams(layout, 2);
    // embed.empty along the stop weights: the first logit moves by sign * 20 * |w|^2
    for (let k = 0; k < 2 * cfg.nodeSize; k++) flat[at('embed.empty') + k] = sign * 20 * flat[at('addNode.stop.w') + k];
    return flat;
  };
  t.ok(sampleGraphs(cfg, layout, toward(1), rngs(3, 50), 25).every((g) => g.numNodes === 0), 'pushed towards stop: every graph is empty');
  t.ok(sampleGraphs(cfg, layout, toward(-1), rngs(3, 50), 25).every((g) => g.numNodes > 0), 'pushed away: no graph is empty');
});

t.test('a batch whose v_max would not fit one lockstep layout is sampled in parts, with the same graphs', async (t) => {
  // The initial model stops long before 60 nodes, so v_max 60 and 4096 give the same graphs;
  // at 4096 a graph's rows (a few MB) let only so many graphs into a 256 MiB lockstep batch.
  const perBatch = Math.floor(2 ** 28 / lockstepBytesPerGraph(cfg, 4096));
  t.ok(perBatch < 200, `v_max 4096 takes ${perBatch} graphs per batch`);
  const count = perBatch + 5;
  const big = sampleGraphs(cfg, layout, plain, rngs(3, count), 4096);
  t.ok(big.every((g) => g.numNodes < 60), 'no graph comes near v_max');
  t.same(big, sampleGraphs(cfg, layout, plain, rngs(3, count), 60), `two batches = one batch of ${count}`);
});
