import { defer, lastValueFrom, expand, takeWhile, tap, map, scan, EMPTY, type Observable } from 'rxjs';
import type { Decisions } from '../graphs/graph';
import { aggregate } from '../actors/aggregator';
import { adamState } from '../model/adam';
import { initParams, paramLayout } from '../model/params';
import { shardGradients, type ShardGradients } from '../model/teacher';
import { saveCheckpoint, type Checkpoint } from './checkpoint';
import type { RunConfig } from './config';
import { BatchSource, stopRates, type Dataset } from './dataset';

/** Computes the gradients of the shards of one batch, all with parameters of one version. */
export interface ShardRunner {
  run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]>;
  close(): Promise<void>;
}

/** Shards computed one after another in this thread (`--workers 1`). */
export function inProcessRunner(config: RunConfig): ShardRunner {
  const layout = paramLayout(config.model);
  return {
    run: async (_version, params, shards) => shards.map((s) => shardGradients(config.model, layout, params, s)),
    close: async () => undefined,
  };
}

/** Splits a batch into `n` contiguous shards of sizes differing by at most one (none empty). */
export function splitShards<T>(batch: readonly T[], n: number): T[][] {
  const k = Math.min(n, batch.length);
  const out: T[][] = [];
  for (let i = 0, start = 0; i < k; i++) {
    const size = Math.floor(batch.length / k) + (i < batch.length % k ? 1 : 0);
    out.push(batch.slice(start, start + size));
    start += size;
  }
  return out;
}

/** What one optimizer step did. */
export interface StepReport {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly graphs: number;
  /** Mean negative log-likelihood per graph of the batch. */
  readonly loss: number;
  readonly gradNorm: number;
  readonly graphsSeen: number;
}

export interface TrainRun {
  readonly config: RunConfig;
  readonly data: Dataset;
  /** Where checkpoints go; null writes none. */
  readonly checkpointFile: string | null;
  /** Continue from this checkpoint instead of fresh parameters. */
  readonly resume: Checkpoint | null;
  readonly runner: ShardRunner;
  /** Shards per batch (the number of workers). */
  readonly shards: number;
  /** Stop after this step (exclusive) even if epochs remain; null runs them all. */
  readonly stopAtStep: number | null;
  /** Checked before each step: true finishes the step in flight and stops. */
  readonly stopRequested: () => boolean;
}

export interface TrainResult {
  readonly checkpoint: Checkpoint;
  /** False when stopRequested cut the run short. */
  readonly completed: boolean;
}

/**
 * The training stream: steps, each pulled only when the previous step is done (so the batch
 * source never runs ahead and memory stays flat), each a batch, its shards' gradients and one
 * optimizer step; `onStep` sees every step and the parameters after it; checkpoints land every
 * `checkpointEvery` steps.
 */
export function trainSteps(run: TrainRun, onStep: (r: StepReport, params: Readonly<Float32Array>) => void): Promise<TrainResult> {
  const { config } = run;
  const layout = paramLayout(config.model);
  const params = run.resume
    ? Float32Array.from(run.resume.params)
    : initParams(layout, config.train.seed, config.train.biasInit === 'baseRate' ? stopRates(run.data.train) : undefined);
  const adam = run.resume ? { t: run.resume.adam.t, m: Float32Array.from(run.resume.adam.m), v: Float32Array.from(run.resume.adam.v) } : adamState(layout.total);
  const source = new BatchSource(run.data.train, config.data.order, config.train.batchSize, config.train.seed);
  const totalSteps = config.train.epochs * source.batchesPerEpoch;
  const endStep = Math.min(totalSteps, run.stopAtStep ?? totalSteps);
  const start = run.resume?.step ?? 0;
  let graphsSeen = run.resume?.graphsSeen ?? 0;
  let step = start;
  const snapshot = (): Checkpoint => ({ config, params: Float32Array.from(params), adam: { t: adam.t, m: Float32Array.from(adam.m), v: Float32Array.from(adam.v) }, step, graphsSeen });
  const save = (): void => {
    if (run.checkpointFile) saveCheckpoint(run.checkpointFile, snapshot());
  };

  // One step, pulled only when the previous one has been reported (expand, concurrency 1), so the
  // batch source never runs ahead. Each step first yields to the event loop, so that a signal
  // handler runs even when the runner computes in this thread, then checks for a stop request:
  // null ends the stream after the step in flight.
  const stepAt = (k: number): Observable<{ k: number; loss: number; gradNorm: number; graphs: number } | null> =>
    defer(async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (run.stopRequested()) return null;
      const shards = splitShards(source.batch(k), run.shards);
      const results = await run.runner.run(k, params, shards);
      return { k, ...aggregate(config, params, adam, k, totalSteps, results) };
    });
  const steps$: Observable<StepReport> = (endStep > start ? stepAt(start).pipe(expand((r) => (r && r.k + 1 < endStep ? stepAt(r.k + 1) : EMPTY), 1)) : EMPTY).pipe(
    takeWhile((r): r is NonNullable<typeof r> => r !== null),
    map(({ k, loss, gradNorm, graphs }) => {
      step = k + 1;
      graphsSeen += graphs;
      return { step, totalSteps, epoch: Math.floor(k / source.batchesPerEpoch), graphs, loss, gradNorm, graphsSeen };
    }),
    tap((r) => {
      if (r.step % config.train.checkpointEvery === 0) save();
      onStep(r, params);
    }),
  );
  return lastValueFrom(steps$.pipe(scan((n) => n + 1, 0)), { defaultValue: 0 }).then(() => {
    save();
    return { checkpoint: snapshot(), completed: step >= endStep };
  });
}
