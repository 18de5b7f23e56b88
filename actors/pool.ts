/**
 * The actor pools (SPEC §5): Piscina thread pools whose workers each hold the model (and their
 * own engine arena). TrainPool is the ShardRunner of `train --workers N`; SamplePool computes seeded sampling
 * chunks for `sample --workers N`.
 */
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { Decisions, Graph } from '../graphs/graph';
import { paramLayout, type ModelConfig } from '../model/params';
import type { ShardGradients } from '../model/teacher';
import type { RunConfig } from '../pipeline/config';
import type { ShardRunner } from '../pipeline/train';
import type { ChunkSampler } from '../pipeline/commands';
import { TrainingError } from './aggregator';
import { decodeGraphs, encodeSequences, FAULT_ENV, parseFault, type EncodedGraphs, type Fault, type SampleTask, type SampleWorkerData, type TrainTask, type TrainTaskResult, type TrainWorkerData } from './protocol';

/** Attempts per shard (or chunk) before the run stops. */
export const MAX_ATTEMPTS = 3;

export interface PoolOptions {
  readonly attempts?: number;
  /** Where retries are reported (default: stderr). */
  readonly log?: (line: string) => void;
  /** Test-only fault injection (see protocol.ts); default: the DGMG_FAULT environment variable. */
  readonly fault?: string | null;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const stderrLog = (line: string): void => void process.stderr.write(`dgmg-pipe: ${line}\n`);

/**
 * Runs `attempt(0)`, `attempt(1)`, ... until one succeeds; after `attempts` failures throws a
 * TrainingError naming `what` and the last cause. A worker that died has already been replaced by
 * Piscina by the time its task's promise rejects, so a retry lands on a live worker.
 */
async function withRetries<R>(what: string, attempts: number, log: (line: string) => void, stopped: () => boolean, attempt: (n: number) => Promise<R>): Promise<R> {
  let last: unknown = null;
  let tries = 0;
  for (let n = 0; n < attempts; n++) {
    try {
      tries++;
      return await attempt(n);
    } catch (e) {
      last = e;
      if (stopped()) break; // the pool is shutting down (another shard failed, or the run ended)
      if (n + 1 < attempts) log(`${what} failed (${message(e)}); retrying, attempt ${n + 2} of ${attempts}`);
    }
  }
  throw new TrainingError(`${what} failed ${tries} time${tries === 1 ? '' : 's'}; last error: ${message(last)}`);
}

/**
 * The shard runner over N worker threads. Every task carries the step number (the parameter
 * version) and its own copy of that version's parameters, transferred with the shard, so the
 * aggregator's Adam step between two batches is always seen by the next batch's workers; results
 * come back in shard order and are checked against the version and shard they answer.
 */
export class TrainPool implements ShardRunner {
  private readonly pool: Piscina;
  private readonly total: number;
  private readonly attempts: number;
  private readonly log: (line: string) => void;
  private closed = false;
  private fault: Fault | null = null;

  constructor(config: RunConfig, readonly threads: number, opts: PoolOptions = {}) {
    this.injectFault(opts.fault !== undefined ? opts.fault : process.env[FAULT_ENV] ?? null);
    this.total = paramLayout(config.model).total;
    this.attempts = opts.attempts ?? MAX_ATTEMPTS;
    this.log = opts.log ?? stderrLog;
    const data: TrainWorkerData = { model: config.model };
    this.pool = new Piscina({
      filename: join(__dirname, 'train-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      workerData: data,
    });
  }

  /** Tests only: the fault the next tasks carry (null: none). A malformed spec throws here. */
  injectFault(spec: string | null): void {
    this.fault = parseFault(spec ?? undefined);
  }

  run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]> {
    const encoded = shards.map((s) => encodeSequences(s));
    return Promise.all(
      shards.map((s, i) =>
        withRetries(`step ${version}: shard ${i} of ${shards.length} (${s.length} graphs)`, this.attempts, this.log, () => this.closed, (attempt) =>
          this.runShard(version, i, attempt, params, encoded[i], s.length),
        ),
      ),
    );
  }

  private async runShard(version: number, shard: number, attempt: number, params: Float32Array, seqs: ReturnType<typeof encodeSequences>, graphs: number): Promise<ShardGradients> {
    // Every attempt gets fresh copies: a transferred buffer is gone from this thread.
    const task: TrainTask = { version, shard, attempt, params: params.slice(), shardSeqs: { tokens: seqs.tokens.slice(), offsets: seqs.offsets.slice() }, fault: this.fault };
    const r = (await this.pool.run(task, { transferList: [task.params.buffer as ArrayBuffer, task.shardSeqs.tokens.buffer as ArrayBuffer, task.shardSeqs.offsets.buffer as ArrayBuffer] })) as TrainTaskResult;
    if (r.version !== version || r.shard !== shard) throw new Error(`answer for step ${r.version} shard ${r.shard}, expected step ${version} shard ${shard}`);
    if (r.graphs !== graphs || r.logLik.length !== graphs || r.gradSum.length !== this.total) {
      throw new Error(`malformed answer: ${r.graphs} graphs, ${r.logLik.length} log-likelihoods, ${r.gradSum.length} gradient entries; expected ${graphs}, ${graphs}, ${this.total}`);
    }
    return { logLik: r.logLik, gradSum: r.gradSum };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}

/** Seeded sampling chunks over N worker threads; the parameters go to each worker once, at start. */
export class SamplePool implements ChunkSampler {
  private readonly pool: Piscina;
  private readonly attempts: number;
  private readonly log: (line: string) => void;
  private closed = false;

  /** Two chunks per thread, so a thread never waits for the main thread to hand it the next. */
  readonly parallel: number;

  constructor(model: ModelConfig, params: Float32Array, readonly threads: number, opts: PoolOptions = {}) {
    this.parallel = 2 * threads;
    this.attempts = opts.attempts ?? MAX_ATTEMPTS;
    this.log = opts.log ?? stderrLog;
    const data: SampleWorkerData = { model, params };
    this.pool = new Piscina({
      filename: join(__dirname, 'sample-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      workerData: data,
    });
  }

  /** Graphs from .. from+count-1 of the sample with this seed: graph i draws from Rng.derive(seed, i) alone. */
  chunk(seed: number, from: number, count: number, vMax: number): Promise<Graph[]> {
    const task: SampleTask = { seed, from, count, vMax };
    return withRetries(`sampling graphs ${from}..${from + count - 1}`, this.attempts, this.log, () => this.closed, async () => decodeGraphs((await this.pool.run(task)) as EncodedGraphs));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
