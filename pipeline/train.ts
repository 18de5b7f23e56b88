import { catchError, concatMap, EMPTY, from, lastValueFrom, map, Observable, startWith, Subject, takeWhile, tap, throwError, type OperatorFunction } from 'rxjs';
import type { Decisions } from '../graphs/graph';
import { adamState, type AdamState } from '../model/adam';
import { initParams, paramLayout, plannedSizeOf, startPlannedSizes, typeCounts, type ModelConfig } from '../model/params';
import { assertFitsEngine, sequenceCost, sequenceWork, type ShardGradients } from '../model/teacher';
import { saveCheckpoint, type Checkpoint } from './checkpoint';
import type { RunConfig } from './config';
import { BatchSource, stopRates, type Batch, type Dataset } from './dataset';
import { pullAhead } from './flow';
import { aggregate } from './optimizer';
import { splitShards, StepAbandoned, type ShardRunner } from './runner';

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
  /** Shards every batch is cut into: shardsOf the config and the workers. */
  readonly shards: number;
  /** Stop after this step (exclusive) even if epochs remain; null runs them all. */
  readonly stopAtStep: number | null;
  /** Checked before each step: true finishes the step in flight and stops. */
  readonly stopRequested: () => boolean;
}

/** Why a run ended before its config's last step: stopAtStep reached, or stopRequested. */
export type EarlyStop = 'max-steps' | 'signal';

export interface TrainResult {
  readonly checkpoint: Checkpoint;
  /** Whether the run has taken every step of its config's epochs. */
  readonly completed: boolean;
  /** Why it ended before that; null when it completed. */
  readonly stopped: EarlyStop | null;
}

/** The optimizer's state: the only state of the training stream, changed only by `optimize`. */
interface OptimizerState {
  readonly params: Float32Array;
  readonly adam: AdamState;
  /** Steps taken: also the version of `params`, and the step the next batch is for. */
  step: number;
  graphsSeen: number;
}

/** A batch cut into its shards, ready to compute. */
interface ShardedBatch extends Batch {
  readonly shards: readonly Decisions[][];
}

/** A batch and its shards' results, in shard order. */
interface ComputedBatch extends ShardedBatch {
  readonly results: readonly ShardGradients[];
}

function startState(run: TrainRun): OptimizerState {
  const { config, resume } = run;
  if (resume) {
    return { params: Float32Array.from(resume.params), adam: { t: resume.adam.t, m: Float32Array.from(resume.adam.m), v: Float32Array.from(resume.adam.v) }, step: resume.step, graphsSeen: resume.graphsSeen };
  }
  const layout = paramLayout(config.model);
  const params = initParams(layout, config.train.seed, config.train.biasInit === 'baseRate' ? stopRates(run.data.train) : undefined);
  if (plannedSizeOf(config.model) > 0) startPlannedSizes(config.model, layout, params, run.data.train.map((g) => g.numNodes), run.data.source);
  return { params, adam: adamState(layout.total), step: 0, graphsSeen: 0 };
}

const snapshot = (config: RunConfig, s: OptimizerState): Checkpoint => ({
  config,
  params: Float32Array.from(s.params),
  adam: { t: s.adam.t, m: Float32Array.from(s.adam.m), v: Float32Array.from(s.adam.v) },
  step: s.step,
  graphsSeen: s.graphsSeen,
});

/**
 * Each batch of `batches` cut into `n` contiguous shards of nearly equal work, as it is pulled.
 * A graph too large for the engine's memory stops the run here, before any worker computes it
 * (an EngineMemoryError is final: no retry could fit it).
 */
function* sharded(batches: Iterable<Batch>, n: number, model: ModelConfig): Generator<ShardedBatch, void, undefined> {
  for (const b of batches) {
    for (const s of b.sequences) assertFitsEngine(model, sequenceCost(model, s));
    yield { ...b, shards: splitShards(b.sequences, n, (s) => sequenceWork(model, s)) };
  }
}

/**
 * The shards of each batch computed by `runner` with the current parameters, one batch in flight
 * at a time (its shards in parallel on the runner's workers); the results gathered per step. A
 * step the runner abandons (StepAbandoned) ends the stream after the last complete step.
 */
function computeShards(runner: ShardRunner, params: Float32Array): OperatorFunction<ShardedBatch, ComputedBatch> {
  return (batches) =>
    batches.pipe(
      concatMap((b) => from(runner.run(b.step, params, b.shards)).pipe(map((results) => ({ ...b, results })))),
      catchError((e: unknown) => (e instanceof StepAbandoned ? EMPTY : throwError(() => e))),
    );
}

/**
 * The one stateful stage: each batch's results make one optimizer step (gradient sum in shard
 * order, / graphs, NaN check, clip, Adam, learning-rate schedule) on `state`.
 */
function optimize(config: RunConfig, totalSteps: number, batchesPerEpoch: number, state: OptimizerState): OperatorFunction<ComputedBatch, StepReport> {
  return map((b) => {
    const { loss, gradNorm, graphs } = aggregate(config, state.params, state.adam, b.step, totalSteps, b.results);
    state.step = b.step + 1;
    state.graphsSeen += graphs;
    return { step: state.step, totalSteps, epoch: Math.floor(b.step / batchesPerEpoch), graphs, loss, gradNorm, graphsSeen: state.graphsSeen };
  });
}

/**
 * When to write checkpoints: every `checkpointEvery` steps, whenever `checkpointSeconds` have
 * passed since the last one (so a killed run loses at most about that much), at the end, and when
 * the run fails after steps not yet saved (a failing step leaves the state as the last step made it:
 * the runner fails before the optimizer, and the optimizer checks before it updates).
 */
function checkpointer(run: TrainRun, state: OptimizerState): { afterStep: (r: StepReport) => void; atEnd: () => void; atFailure: () => void } {
  const startStep = state.step;
  const { checkpointEvery, checkpointSeconds } = run.config.train;
  let savedAt = performance.now();
  let savedStep: number | null = null;
  const save = (): void => {
    if (run.checkpointFile) saveCheckpoint(run.checkpointFile, snapshot(run.config, state));
    savedAt = performance.now();
    savedStep = state.step;
  };
  return {
    afterStep: (r) => {
      if (r.step % checkpointEvery === 0 || performance.now() - savedAt >= checkpointSeconds * 1000) save();
    },
    atEnd: () => {
      if (savedStep !== state.step) save();
    },
    atFailure: () => {
      if (state.step !== (savedStep ?? startStep)) save();
    },
  };
}

/** The shards a run of `config` on `workers` workers cuts every batch into: train.shards, or for 0 one per worker. */
export function shardsOf(config: RunConfig, workers: number): number {
  return config.train.shards > 0 ? config.train.shards : Math.max(1, workers);
}

/**
 * `config` with train.shards the `shards` its run cuts batches into: the config's own value (any
 * other is refused), or for 0 the run's, which the checkpoint then keeps, so that a resumed run
 * cuts its batches as before whatever its workers.
 */
function withShards(config: RunConfig, shards: number): RunConfig {
  if (config.train.shards !== 0 && config.train.shards !== shards) throw new Error(`train.shards is ${config.train.shards}, but the run would cut its batches into ${shards} shards`);
  return { ...config, train: { ...config.train, shards } };
}

/**
 * The training stream (docs/design.md, 'Training dataflow'), a loop closed by the parameters:
 *
 *   version k -> pull batch k (sequences, shards; batch k+1 is prepared while k computes)
 *     -> compute its shards -> optimizer step -> checkpoint, report -> version k+1
 *
 * The source is pulled once per parameter version, so it never runs ahead of the optimizer by
 * more than one batch and memory stays flat. `onStep` sees every step and the parameters after it.
 */
export function trainSteps(given: TrainRun, onStep: (r: StepReport, params: Readonly<Float32Array>) => void): Promise<TrainResult> {
  const run = { ...given, config: withShards(given.config, given.shards) };
  const { config } = run;
  const source = new BatchSource(run.data.train, config.data.order, config.train.batchSize, config.train.seed, typeCounts(config.model));
  const totalSteps = config.train.epochs * source.batchesPerEpoch;
  const endStep = Math.min(totalSteps, run.stopAtStep ?? totalSteps);
  const state = startState(run);
  const checkpoints = checkpointer(run, state);

  // The feedback edge: after each step, the new version is handed back on a fresh turn of the
  // event loop, so a signal handler (stopRequested) runs between steps even when the runner
  // computes in this thread.
  const versions$ = new Subject<number>();
  const nextVersion = (): void => void setImmediate(() => versions$.next(state.step));

  const steps$ = versions$.pipe(
    startWith(state.step),
    takeWhile((k) => k < endStep && !run.stopRequested()),
    pullAhead(sharded(source.batches(state.step, endStep), run.shards, config.model)),
    computeShards(run.runner, state.params),
    optimize(config, totalSteps, source.batchesPerEpoch, state),
    tap(checkpoints.afterStep),
    tap((r) => onStep(r, state.params)),
    tap(nextVersion),
  );
  return lastValueFrom(steps$, { defaultValue: null }).then(
    () => {
      checkpoints.atEnd();
      const completed = state.step >= totalSteps;
      return { checkpoint: snapshot(config, state), completed, stopped: completed ? null : state.step >= endStep ? 'max-steps' : 'signal' };
    },
    (e: unknown) => {
      checkpoints.atFailure();
      throw e;
    },
  );
}

/**
 * What a training stream emits: a report after every step (with the parameters after it, valid
 * until the next step), then once the trained checkpoint, with why it stopped early (TrainResult).
 */
export type TrainEvent =
  | { readonly kind: 'step'; readonly report: StepReport; readonly params: Readonly<Float32Array> }
  | ({ readonly kind: 'done' } & TrainResult);

/**
 * trainSteps as a stream, for the library and the web page: subscribing starts the run;
 * unsubscribing, or aborting `signal`, finishes the step in flight and stops (a stopped run still
 * emits its checkpoint while subscribed). The runner stays open: closing it is the caller's.
 */
export function trainEvents(run: Omit<TrainRun, 'stopRequested'>, signal?: AbortSignal): Observable<TrainEvent> {
  return new Observable<TrainEvent>((subscriber) => {
    let unsubscribed = false;
    trainSteps({ ...run, stopRequested: () => unsubscribed || (signal?.aborted ?? false) }, (report, params) => subscriber.next({ kind: 'step', report, params })).then(
      (result) => {
        subscriber.next({ kind: 'done', ...result });
        subscriber.complete();
      },
      (e: unknown) => subscriber.error(e),
    );
    return () => {
      unsubscribed = true;
    };
  });
}
