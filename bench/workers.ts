import { availableParallelism } from 'node:os';
import { TrainPool, SamplePool } from '../actors/pool';
import { configFromJson, type RunConfig } from '../pipeline/config';
import type { Decisions } from '../graphs/graph';
import { initParams, paramLayout, typeCounts } from '../model/params';
import { BatchSource, loadDataset, type Dataset } from '../pipeline/dataset';
import { trainSteps } from '../pipeline/train';
import { sampleChunks } from '../pipeline/sampling';
import { loadModel } from '../pipeline/commands/shared';
import { median, type Row } from './throughput';

/**
 * Throughput of the actor pipeline on cycles (default model): training with 1 and 2 worker
 * threads at several batch sizes and the speedup of 2 over 1, sampling with 1 and 2 workers, and
 * the process's memory over a long training run (it must stay flat).
 */

/** Graphs/s of `steps` training steps on a warm `pool`, after one more step that is not timed. */
async function trainRate(pool: TrainPool, config: RunConfig, data: Dataset, steps: number): Promise<number> {
  let t0 = 0;
  await trainSteps(
    { config, data, checkpointFile: null, resume: null, runner: pool, shards: pool.threads, stopAtStep: 1 + steps, stopRequested: () => false },
    (r) => {
      if (r.step === 1) t0 = performance.now();
    },
  );
  return (steps * config.train.batchSize) / ((performance.now() - t0) / 1000);
}

/** The median of a sample and the quartiles around it: the middle half of the readings. */
export interface Spread {
  readonly median: number;
  readonly q25: number;
  readonly q75: number;
}

function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => {
    const i = q * (s.length - 1);
    return s[Math.floor(i)] + (s[Math.ceil(i)] - s[Math.floor(i)]) * (i - Math.floor(i));
  };
  return { median: median(s), q25: at(0.25), q75: at(0.75) };
}

/**
 * What two cores give our arithmetic at once, without the pipeline: a shard of half a batch on
 * the 1-worker pool against two such shards on the 2-worker pool (no gathering, no optimizer
 * step, no waiting for a slower shard), as graphs/s 2 / 1, over `reps` tasks each. What the
 * training ratio loses against this one is the pipeline's; what this one loses against 2 is the
 * host's (its slow spells) or our kernels' (what they share between cores).
 */
async function shardCeiling(pools: readonly TrainPool[], params: Float32Array, half: Decisions[], reps: number): Promise<number> {
  const seconds = async (pool: TrainPool, shards: Decisions[][]): Promise<number> => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) await pool.run(0, params, shards);
    return (performance.now() - t0) / 1000;
  };
  return (2 * (await seconds(pools[0], [half]))) / (await seconds(pools[1], [half, half]));
}

/**
 * Training at `batchSize` on 1 and on 2 workers, in `pairs` adjacent pairs of short runs of
 * `steps` steps (1 then 2, 2 then 1, ...): the median graphs/s of each pool, and the spread of
 * the pairs' ratios 2 workers / 1. This machine's speed drifts by a third over seconds, and one
 * core can slow while the other does not (a plain arithmetic loop alone shows both), and a slow
 * spell lasts longer than a pair, so the ratio of two runs a second apart holds where a ratio of
 * separately gathered medians moves with the drift. Beside each pair, our arithmetic's own 2-core
 * ratio in those seconds (shardCeiling), so a reading can be told from a slow spell of the host.
 */
export async function trainRates(batchSize: number, steps: number, pairs: number): Promise<{ rates: [number, number]; ratio: Spread; ceiling: Spread }> {
  const config = configFromJson({ train: { batchSize, epochs: 1000, checkpointEvery: 1_000_000 }, data: { trainSize: 2000, testSize: 0 } }, 'bench');
  const data = await loadDataset(config, 0);
  const [first] = new BatchSource(data.train, config.data.order, batchSize, 0, typeCounts(config.model)).batches(0, 1);
  const half = first.sequences.slice(0, batchSize / 2);
  const params = initParams(paramLayout(config.model), 0);
  const pools = [new TrainPool(config, 1), new TrainPool(config, 2)];
  try {
    for (const pool of pools) await trainRate(pool, config, data, 2); // warm-up: the workers start and load the engine
    const rates: [number[], number[]] = [[], []];
    const ceilings: number[] = [];
    for (let p = 0; p < pairs; p++) {
      for (const i of p % 2 === 0 ? [0, 1] : [1, 0]) rates[i].push(await trainRate(pools[i], config, data, steps));
      ceilings.push(await shardCeiling(pools, params, half, steps));
    }
    return { rates: [median(rates[0]), median(rates[1])], ratio: spread(rates[1].map((r, p) => r / rates[0][p])), ceiling: spread(ceilings) };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

async function sampleRate(workers: number, n: number): Promise<number> {
  const { ckpt } = loadModel(null); // the shipped model: cycles of 10-20 nodes, as a trained model makes
  const pool = new SamplePool(ckpt.config, ckpt.params, workers);
  try {
    await pool.chunk(1, 0, 100, 25); // warm-up: workers start and load the engine
    const t0 = performance.now();
    await Promise.all(sampleChunks(n).map(([from, count]) => pool.chunk(1, from, count, 25)));
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await pool.close();
  }
}

/** 2 workers against 1 at one batch size: the spread of adjacent pairs' ratios (trainRates). */
export interface Speedup {
  readonly batch: number;
  /** The median ratio, and the quartiles: the middle half of the pairs lies within q25..q75. */
  readonly speedup: number;
  readonly q25: number;
  readonly q75: number;
  readonly pairs: number;
  /** The median of our arithmetic's own 2-core ratio beside each pair (shardCeiling). */
  readonly ceiling: number;
}

export async function workerRows(quick: boolean): Promise<{ rows: Row[]; speedups: Speedup[] }> {
  const rows: Row[] = [];
  const speedups: Speedup[] = [];
  const heap = (): number => Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  const pairs = quick ? 10 : 30;
  for (const batch of [64, 128, 256]) {
    const { rates, ratio, ceiling } = await trainRates(batch, Math.max(2, Math.round(1024 / batch)), pairs);
    rates.forEach((rate, i) => rows.push({ backend: 'engine', what: 'pool-train', batch, workers: i + 1, graphsPerSecond: Math.round(rate), heapMB: heap() }));
    speedups.push({ batch, speedup: +ratio.median.toFixed(2), q25: +ratio.q25.toFixed(2), q75: +ratio.q75.toFixed(2), pairs, ceiling: +ceiling.median.toFixed(2) });
  }
  for (const workers of [1, 2]) {
    rows.push({ backend: 'engine', what: 'pool-sample', batch: 100, workers, graphsPerSecond: Math.round(await sampleRate(workers, quick ? 800 : 4000)), heapMB: heap() });
  }
  return { rows, speedups };
}

/** Resident memory (MB) sampled every few seconds while training for `seconds` on all cores. */
export async function memorySoak(seconds: number): Promise<{ seconds: number; workers: number; graphs: number; rssMB: number[] }> {
  const workers = Math.min(2, availableParallelism());
  const config = configFromJson({ train: { batchSize: 128, epochs: 100000, checkpointEvery: 1_000_000 }, data: { trainSize: 4000, testSize: 0 } }, 'bench');
  const data = await loadDataset(config, 0);
  const pool = new TrainPool(config, workers);
  const rssMB: number[] = [];
  const started = performance.now();
  let next = 0;
  let graphs = 0;
  try {
    await trainSteps(
      { config, data, checkpointFile: null, resume: null, runner: pool, shards: workers, stopAtStep: null, stopRequested: () => performance.now() - started > seconds * 1000 },
      (r) => {
        graphs = r.graphsSeen;
        const t = (performance.now() - started) / 1000;
        if (t >= next) {
          rssMB.push(Math.round(process.memoryUsage().rss / 2 ** 20));
          next += Math.max(1, seconds / 30);
        }
      },
    );
  } finally {
    await pool.close();
  }
  return { seconds, workers, graphs, rssMB };
}
