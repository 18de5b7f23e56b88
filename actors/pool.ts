/**
 * The actor pools (docs/design.md, 'Actors'): Piscina thread pools whose workers each hold the model (and their
 * own engine arena). TrainPool is the ShardRunner of `train --workers N`; SamplePool is the ChunkSampler of
 * `sample --workers N`.
 */
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Decisions, Graph } from '../graphs/graph';
import { paramLayout } from '../model/params';
import type { ShardGradients } from '../model/teacher';
import type { RunConfig } from '../pipeline/config';
import { TrainingError, type ChunkSampler, type ShardRunner } from '../pipeline/runner';
import { decodeGraphs, encodeSequences, type EncodedGraphs, type EncodedSequences, type SampleTask, type SampleWorkerData, type TrainTask, type TrainTaskResult, type TrainWorkerData } from './protocol';

/** Attempts per shard (or chunk) before the run stops. */
export const MAX_ATTEMPTS = 3;

export interface PoolOptions {
  readonly attempts?: number;
  /** Where retries are reported (default: stderr). */
  readonly log?: (line: string) => void;
  /**
   * The worker module and extra fields for its workerData (default: this folder's worker). Tests
   * pass a wrapper around the real worker that injects faults.
   */
  readonly worker?: { readonly filename: string; readonly data?: Readonly<Record<string, unknown>> };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const stderrLog = (line: string): void => void process.stderr.write(`dgmg-pipe: ${line}\n`);

/**
 * Runs `attempt()` until it succeeds; after `attempts` failures throws a TrainingError naming
 * `what` and the last cause. A worker that died or was terminated has already been replaced by
 * Piscina by the time its task's promise rejects, so a retry lands on a live worker.
 */
async function withRetries<R>(what: string, attempts: number, log: (line: string) => void, stopped: () => boolean, attempt: () => Promise<R>): Promise<R> {
  let last: unknown = null;
  let tries = 0;
  for (let n = 0; n < attempts; n++) {
    try {
      tries++;
      return await attempt();
    } catch (e) {
      last = e;
      if (stopped()) break; // the pool is shutting down (another shard failed, or the run ended)
      if (n + 1 < attempts) log(`${what} failed (${message(e)}); retrying, attempt ${n + 2} of ${attempts}`);
    }
  }
  throw new TrainingError(`${what} failed ${tries} time${tries === 1 ? '' : 's'}; last error: ${message(last)}`);
}

/**
 * A Piscina pool of `threads` workers whose tasks are abandoned when unanswered after
 * `timeoutSeconds`: aborting a running task makes Piscina terminate its worker (a hung thread
 * cannot be asked to stop) and start a fresh one.
 */
class TimedPool {
  private readonly pool: Piscina;
  closed = false;

  constructor(filename: string, threads: number, workerData: unknown, private readonly timeoutSeconds: number) {
    this.pool = new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: 1, workerData });
  }

  async run(task: unknown, transferList: ArrayBuffer[] = []): Promise<unknown> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutSeconds * 1000);
    try {
      return await this.pool.run(task, { transferList, signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) throw new Error(`no answer within ${this.timeoutSeconds} s; its worker was terminated`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}

/**
 * The shard runner over N worker threads. Every task carries the step number (the parameter
 * version) and its own copy of that version's parameters, transferred with the shard, so the
 * optimizer's Adam step between two batches is always seen by the next batch's workers; results
 * come back in shard order and are checked against the version and shard they answer.
 */
export class TrainPool implements ShardRunner {
  private readonly pool: TimedPool;
  private readonly total: number;
  private readonly attempts: number;
  private readonly log: (line: string) => void;

  constructor(config: RunConfig, readonly threads: number, opts: PoolOptions = {}) {
    this.total = paramLayout(config.model).total;
    this.attempts = opts.attempts ?? MAX_ATTEMPTS;
    this.log = opts.log ?? stderrLog;
    const data: TrainWorkerData = { model: config.model };
    this.pool = new TimedPool(opts.worker?.filename ?? join(__dirname, 'train-worker.js'), threads, { ...opts.worker?.data, ...data }, config.train.taskTimeoutSeconds);
  }

  run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]> {
    return Promise.all(
      shards.map((s, i) => {
        const seqs = encodeSequences(s);
        return withRetries(`step ${version}: shard ${i} of ${shards.length} (${s.length} graphs)`, this.attempts, this.log, () => this.pool.closed, () =>
          this.runShard(version, i, params, seqs, s.length),
        );
      }),
    );
  }

  private async runShard(version: number, shard: number, params: Float32Array, seqs: EncodedSequences, graphs: number): Promise<ShardGradients> {
    // Every attempt gets fresh copies: a transferred buffer is gone from this thread.
    const task: TrainTask = { version, shard, params: params.slice(), shardSeqs: { tokens: seqs.tokens.slice(), offsets: seqs.offsets.slice() } };
    const r = (await this.pool.run(task, [task.params.buffer as ArrayBuffer, task.shardSeqs.tokens.buffer as ArrayBuffer, task.shardSeqs.offsets.buffer as ArrayBuffer])) as TrainTaskResult;
    if (r.version !== version || r.shard !== shard) throw new Error(`answer for step ${r.version} shard ${r.shard}, expected step ${version} shard ${shard}`);
    if (r.graphs !== graphs || r.logLik.length !== graphs || r.gradSum.length !== this.total || !Number.isSafeInteger(r.gradExponent) || r.gradExponent < 0) {
      throw new Error(`malformed answer: ${r.graphs} graphs, ${r.logLik.length} log-likelihoods, ${r.gradSum.length} gradient entries, exponent ${r.gradExponent}; expected ${graphs}, ${graphs}, ${this.total}, an integer >= 0`);
    }
    return { logLik: r.logLik, gradSum: r.gradSum, gradExponent: r.gradExponent };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Seeded sampling chunks over N worker threads; the parameters go to each worker once, at start. */
export class SamplePool implements ChunkSampler {
  private readonly pool: TimedPool;
  private readonly attempts: number;
  private readonly log: (line: string) => void;

  /** Two chunks per thread, so a thread never waits for the main thread to hand it the next. */
  readonly parallel: number;

  constructor(config: RunConfig, params: Float32Array, readonly threads: number, opts: PoolOptions = {}) {
    this.parallel = 2 * threads;
    this.attempts = opts.attempts ?? MAX_ATTEMPTS;
    this.log = opts.log ?? stderrLog;
    const data: SampleWorkerData = { model: config.model, params };
    this.pool = new TimedPool(opts.worker?.filename ?? join(__dirname, 'sample-worker.js'), threads, { ...opts.worker?.data, ...data }, config.train.taskTimeoutSeconds);
  }

  chunk(seed: number, from: number, count: number, vMax: number): Promise<Graph[]> {
    const task: SampleTask = { seed, from, count, vMax };
    return withRetries(`sampling graphs ${from}..${from + count - 1}`, this.attempts, this.log, () => this.pool.closed, async () => decodeGraphs((await this.pool.run(task)) as EncodedGraphs));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
