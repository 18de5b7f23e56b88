import t from 'tap';
import type { Decisions, Graph } from '../graphs/graph';
import { cycleGraph } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { adamState, adamStep } from '../model/adam';
import { DEFAULT_MODEL, initParams, paramLayout } from '../model/params';
import { addCosts, addScaled, logLikelihoods, microBatches, sequenceCost, shardGradients, trainingBytes } from '../model/teacher';
import { aggregate } from '../pipeline/optimizer';
import { DEFAULT_CONFIG } from '../pipeline/config';
import { arena, ENGINE_MEMORY_LIMIT } from '../model/wasm';
import { maxRelDiff, randomGraph, referenceGradients, relNormDiff, testBackend } from './helpers';

/**
 * The engine near its limits: buffers past 2^31 and at the top of the 4 GiB a wasm32 memory
 * addresses, the bound on a layout checked before any work, micro-batches, and gradients beyond
 * float32's range (graphs of hundreds of nodes and thousands of edges).
 */

const cfg = DEFAULT_MODEL;
const layout = paramLayout(cfg);
const flat = initParams(layout, 7);

function mixed(seed: number, count: number, maxNodes: number): Decisions[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const g = randomGraph(rng, rng.int(1, maxNodes), 0.4);
    return encodeGraph(g, rng.permutation(g.numNodes));
  });
}

/** Runs `f` with this thread's arena lifted `bytes` above the module's data, then lowers it again. */
function lifted<T>(bytes: number, f: () => T): T {
  arena().lift(bytes);
  try {
    return f();
  } finally {
    arena().lift(0);
  }
}

/** The lift that leaves exactly `room` bytes (to 16) between the arena's base and the limit. */
const liftLeaving = (room: number): number => ENGINE_MEMORY_LIMIT - arena().k.heapBase() - room;

t.test('a batch laid out past 2^31 computes exactly what it computes at the bottom of memory', async (t) => {
  const seqs = mixed(1, 12, 9);
  const low = shardGradients(cfg, layout, flat, seqs);
  const high = lifted(2 ** 31 + 4096, () => {
    const r = shardGradients(cfg, layout, flat, seqs);
    t.ok(arena().mark() > 2 ** 31, `the layout ends at ${arena().mark()}, past 2^31`);
    return r;
  });
  t.same(Array.from(high.logLik), Array.from(low.logLik), 'log-likelihoods bit for bit');
  t.same(Array.from(high.gradSum), Array.from(low.gradSum), 'gradients bit for bit');
});

t.test('the layout bound holds every training layout it is asked about, closely', async (t) => {
  // weights by distance widen the node-state projection: 2·(D + 1) destination columns, not 2
  const byDistance = { ...cfg, destinationDistance: 8, distanceWeights: true };
  for (const [model, seed, count, maxNodes] of [
    [cfg, 2, 1, 30],
    [cfg, 3, 10, 12],
    [cfg, 4, 40, 20],
    [byDistance, 5, 10, 12],
  ] as const) {
    const seqs = mixed(seed, count, maxNodes);
    const a = arena();
    a.reset();
    const base = a.mark();
    const modelLayout = paramLayout(model);
    shardGradients(model, modelLayout, initParams(modelLayout, 1), seqs);
    const actual = a.mark() - base;
    const bound = trainingBytes(model, seqs.map((s) => sequenceCost(model, s)).reduce(addCosts));
    t.ok(bound >= actual && bound < actual * 1.1 + 65536, `${count} graphs of up to ${maxNodes} nodes${model === cfg ? '' : ', weights by distance'}: bound ${bound} B, layout ${actual} B`);
  }
});


t.test('the largest cycle that fits below the limit is exact; one node more is refused before any work', async (t) => {
  await testBackend();
  const room = 6 * 2 ** 20;
  const bytes = (k: number): number => trainingBytes(cfg, sequenceCost(cfg, encodeGraph(cycleGraph(k))));
  let k = 3;
  while (bytes(k + 1) <= room) k++;
  const seq = encodeGraph(cycleGraph(k));
  const top = lifted(liftLeaving(room), () => {
    const r = shardGradients(cfg, layout, flat, [seq]);
    return { r, end: arena().mark() };
  });
  t.ok(ENGINE_MEMORY_LIMIT - top.end < 0.03 * room, `a cycle of ${k} nodes ends ${ENGINE_MEMORY_LIMIT - top.end} bytes below 4 GiB`);
  const ref = referenceGradients(cfg, layout, flat, [seq]);
  t.ok(maxRelDiff(top.r.logLik, ref.refLL, 1e-6) < 1e-5, `log-likelihood equals the reference (max rel ${maxRelDiff(top.r.logLik, ref.refLL, 1e-6)})`);
  t.equal(top.r.gradExponent, 0, 'no gradient scale at this size');
  t.ok(relNormDiff(top.r.gradSum, ref.refGrad) < 1e-5, `gradient equals the reference (rel norm ${relNormDiff(top.r.gradSum, ref.refGrad)})`);

  const past = encodeGraph(cycleGraph(k + 1));
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  lifted(liftLeaving(room), () => {
    t.throws(() => shardGradients(cfg, layout, flat, [past]), {
      name: 'EngineMemoryError',
      message: `a graph of ${k + 1} nodes and ${k + 1} edges needs ${mib(bytes(k + 1))} of engine memory; the limit is ${mib(room)}`,
    });
    t.throws(() => logLikelihoods(cfg, layout, flat, [past]), { name: 'EngineMemoryError' }, 'evaluation too');
  });
});

t.test('a shard is cut into micro-batches by its sequences alone, each within the budget', async (t) => {
  const seqs = mixed(5, 30, 25);
  const budget = 2 ** 20;
  const parts = microBatches(cfg, seqs, budget);
  t.ok(parts.length > 3, `${parts.length} micro-batches`);
  t.same(parts.flat(), seqs, 'in order, every sequence once');
  for (const p of parts) {
    const bytes = trainingBytes(cfg, p.map((s) => sequenceCost(cfg, s)).reduce(addCosts));
    t.ok(p.length === 1 || bytes <= budget, `${p.length} graphs, ${bytes} bytes`);
  }
  t.same(microBatches(cfg, seqs, budget), parts, 'the same cut again');
  t.same(microBatches(cfg, seqs).length, 1, 'the default budget holds these in one');
});

t.test('scaled gradients add at the larger scale and clip to the same update', async (t) => {
  const acc = Float32Array.of(1, -2, 0.5);
  const e = addScaled(acc, 3, Float32Array.of(8, 16, -4), 6);
  t.equal(e, 6);
  t.same(Array.from(acc), [1 / 8 + 8, -2 / 8 + 16, 0.5 / 8 - 4], 'the smaller scale is divided by 2^3');

  const g = Float32Array.of(3, -4, 12);
  const run = (grad: Float32Array, exponent: number): Float32Array => {
    const p = Float32Array.of(1, 1, 1);
    adamStep({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 0.25 }, adamState(3), p, grad, exponent);
    return p;
  };
  t.same(Array.from(run(g.map((x) => x * 2 ** -100), 100)), Array.from(run(g.slice(), 0)), 'g·2^-100 at exponent 100 is g');
  const norm = (() => {
    const p = Float32Array.of(1, 1, 1);
    return adamStep({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 0.25 }, adamState(3), p, g.map((x) => x * 2 ** -100), 200);
  })();
  t.equal(norm, 13 * 2 ** 100, 'the norm reported is the true one');
});

/** A stochastic block model graph: blocks of the given sizes, edge probabilities inside and between. */
function sbm(rng: Rng, blocks: readonly number[], pIn: number, pOut: number): Graph {
  const block = blocks.flatMap((size, b) => new Array<number>(size).fill(b));
  const edges: Array<[number, number]> = [];
  for (let v = 1; v < block.length; v++) for (let u = 0; u < v; u++) if (rng.uniform() < (block[u] === block[v] ? pIn : pOut)) edges.push([u, v]);
  return { numNodes: block.length, edges };
}

t.test('a graph of 400 nodes and 2,000 edges trains with a finite loss', async (t) => {
  const rng = new Rng(11);
  const g = sbm(rng, [100, 100, 100, 100], 0.095, 0.0025);
  t.ok(g.numNodes === 400 && g.edges.length >= 1900 && g.edges.length <= 2200, `${g.numNodes} nodes, ${g.edges.length} edges`);
  const seq = encodeGraph(g);
  const params = initParams(layout, 0);
  const adam = adamState(layout.total);
  const config = { ...DEFAULT_CONFIG, train: { ...DEFAULT_CONFIG.train, clipNorm: 0.25 } };
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const r = shardGradients(cfg, layout, params, [seq]);
    if (step === 0) t.ok(r.gradExponent > 0, `the exact gradient passes float32's range: scaled by 2^-${r.gradExponent}`);
    t.ok(r.gradSum.every(Number.isFinite), `step ${step}: every stored gradient entry is finite`);
    const s = aggregate(config, params, adam, step, 3, [r]);
    losses.push(s.loss);
  }
  t.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
  t.ok(params.every(Number.isFinite), 'parameters stay finite');
});
