/**
 * Where the heavy work of a command runs: the two contracts the pipeline computes through, and
 * their implementations in this thread. Worker threads (actors/pool.ts) and other machines
 * implement the same contracts; bin/ chooses one and hands it to the command.
 */
import type { Decisions, Graph } from '../graphs/graph';
import { paramLayout } from '../model/params';
import { shardGradients, type ShardGradients } from '../model/teacher';
import type { Checkpoint } from './checkpoint';
import type { RunConfig } from './config';
import { sampleChunk } from './sampling';

/**
 * Computes the gradients of the shards of one batch, all with the parameters of one version (the
 * step number). Results come back in shard order, one per shard. `params` stays unchanged until
 * the promise settles. A shard that cannot be computed (after any retries the runner makes)
 * rejects the promise with a TrainingError naming the step and the shard.
 */
export interface ShardRunner {
  run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]>;
  close(): Promise<void>;
}

/** Computes chunks of a seeded sample: in this thread, or on worker threads (actors/pool.ts). */
export interface ChunkSampler {
  /** Graphs from .. from+count-1 of the sample with this seed: graph i draws from Rng.derive(seed, i) alone. */
  chunk(seed: number, from: number, count: number, vMax: number): Promise<Graph[]>;
  /** Chunks worth keeping in flight. */
  readonly parallel: number;
  close(): Promise<void>;
}

/** A training run that cannot go on (a NaN loss, a shard that keeps failing); names the step. */
export class TrainingError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TrainingError';
  }
}

/**
 * The runner gave up the step in flight because the user asked to stop and nobody could finish
 * it (no worker host connected): the run ends after the last complete step, as if stopped there.
 */
export class StepAbandoned extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StepAbandoned';
  }
}

/** Shards computed one after another in this thread (`--workers 1`). */
export function inProcessRunner(config: RunConfig): ShardRunner {
  const layout = paramLayout(config.model);
  return {
    run: async (_version, params, shards) => shards.map((s) => shardGradients(config.model, layout, params, s)),
    close: async () => undefined,
  };
}

/** Chunks sampled one after another in this thread. */
export function inThreadSampler(ckpt: Checkpoint): ChunkSampler {
  return {
    chunk: async (seed, from, count, vMax) => sampleChunk(ckpt.config.model, ckpt.params, seed, from, count, vMax),
    parallel: 1,
    close: async () => undefined,
  };
}

/**
 * Splits a batch into `n` contiguous shards (none empty) of nearly equal `work`: each cut falls
 * where the work done so far is closest to its share, so shards differ by at most about one
 * item's work. With work 1 per item the sizes differ by at most one. The cut depends on the batch
 * alone, never on timing, so a run's shards and its gradient sums are the same every time.
 */
export function splitShards<T>(batch: readonly T[], n: number, work: (item: T) => number): T[][] {
  const k = Math.min(n, batch.length);
  const prefix = [0];
  for (const x of batch) prefix.push(prefix[prefix.length - 1] + work(x));
  const total = prefix[batch.length];
  const out: T[][] = [];
  let start = 0;
  for (let i = 1; i <= k; i++) {
    let end = batch.length;
    if (i < k) {
      // the cut nearest the share i / k of the work, leaving at least one item per shard on both sides
      const target = (total * i) / k;
      end = start + 1;
      while (end < batch.length - (k - i) && Math.abs(prefix[end + 1] - target) < Math.abs(prefix[end] - target)) end++;
    }
    out.push(batch.slice(start, end));
    start = end;
  }
  return out;
}
