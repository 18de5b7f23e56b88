import { availableParallelism } from 'node:os';
import { TrainPool, SamplePool } from '../actors/pool';
import { configFromJson, type RunConfig } from '../pipeline/config';
import { loadDataset, type Dataset } from '../pipeline/dataset';
import { trainSteps } from '../pipeline/train';
import { sampleChunks } from '../pipeline/sampling';
import { loadModel } from '../pipeline/commands/shared';
import { median, type Row } from './throughput';

/**
 * Throughput of the actor pipeline on cycles (default model): training with 1 and 2 worker
 * threads at several batch sizes, sampling with 1 and 2 workers, and the process's memory over a
 * long training run (it must stay flat).
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

/**
 * Median graphs/s of training at `batchSize` on 1 and on 2 workers. The two pools take turns
 * (1 2, 2 1, 1 2, ...), `repeats` short runs of `steps` steps each, so that a slow spell on the
 * shared machine lands on both and their ratio holds.
 */
export async function trainRates(batchSize: number, steps: number, repeats: number): Promise<[number, number]> {
  const config = configFromJson({ train: { batchSize, epochs: 1000, checkpointEvery: 1_000_000 }, data: { trainSize: 2000, testSize: 0 } }, 'bench');
  const data = await loadDataset(config, 0);
  const pools = [new TrainPool(config, 1), new TrainPool(config, 2)];
  try {
    for (const pool of pools) await trainRate(pool, config, data, 2); // warm-up: the workers start and load the engine
    const rates: [number[], number[]] = [[], []];
    for (let r = 0; r < repeats; r++) {
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) rates[i].push(await trainRate(pools[i], config, data, steps));
    }
    return [median(rates[0]), median(rates[1])];
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

export async function workerRows(quick: boolean): Promise<Row[]> {
  const rows: Row[] = [];
  const heap = (): number => Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  for (const batch of [64, 128, 256]) {
    const rates = await trainRates(batch, Math.max(2, Math.round((quick ? 1024 : 4096) / batch)), quick ? 5 : 4);
    rates.forEach((rate, i) => rows.push({ backend: 'engine', what: 'pool-train', batch, workers: i + 1, graphsPerSecond: Math.round(rate), heapMB: heap() }));
  }
  for (const workers of [1, 2]) {
    rows.push({ backend: 'engine', what: 'pool-sample', batch: 100, workers, graphsPerSecond: Math.round(await sampleRate(workers, quick ? 800 : 4000)), heapMB: heap() });
  }
  return rows;
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
