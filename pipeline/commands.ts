import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Graph } from '../graphs/graph';
import { paramLayout } from '../model/params';
import { logLikelihoods } from '../model/teacher';
import { assertCheckpointMatches, loadCheckpoint, type Checkpoint } from './checkpoint';
import { loadConfig, withOverrides, type RunConfig } from './config';
import { graphSequence, loadDataset, type Dataset } from './dataset';
import { progress } from './progress';
import { JsonlSink, sampleChunk, sampleChunks } from './sampling';
import { inProcessRunner, trainSteps, type ShardRunner, type StepReport } from './train';

/** The folder the package is installed in (configs/ and models/ live there). */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** The checkpoint that ships with the package, used when no --model is given. */
export const DEFAULT_MODEL_FILE = join(PACKAGE_ROOT, 'models', 'cycles.json');

/** A path as given, or else relative to the package (so `configs/cycles.json` works from anywhere). */
export function resolveShipped(file: string): string {
  return existsSync(file) ? file : existsSync(join(PACKAGE_ROOT, file)) ? join(PACKAGE_ROOT, file) : file;
}

export interface TrainOptions {
  readonly configFile: string;
  readonly outDir: string;
  readonly resumeDir: string | null;
  readonly overrides: { epochs?: number; batchSize?: number; lr?: number; seed?: number; dataFile?: string; order?: RunConfig['data']['order'] };
  readonly workers: number;
  /** Builds the shard runner for `workers` > 1 (the actor pool); in process otherwise. */
  readonly makeRunner: (config: RunConfig, workers: number) => ShardRunner;
  readonly stopAtStep: number | null;
  readonly quiet: boolean;
}

export interface TrainSummary {
  readonly completed: boolean;
  readonly steps: number;
  readonly graphsTrained: number;
  readonly seconds: number;
  readonly graphsPerSecond: number;
  readonly finalLoss: number | null;
  readonly checkpoint: string;
  readonly workers: number;
}

/** `dgmg-pipe train`: config (or checkpoint) in, checkpoint out, progress on stderr. */
export async function runTrain(o: TrainOptions, stopRequested: () => boolean): Promise<TrainSummary> {
  const checkpointFile = join(o.outDir, 'checkpoint.json');
  let resume: Checkpoint | null = null;
  let config: RunConfig;
  const t = o.overrides;
  const over = { train: { ...(t.epochs && { epochs: t.epochs }), ...(t.batchSize && { batchSize: t.batchSize }), ...(t.lr && { lr: t.lr }), ...(t.seed !== undefined && { seed: t.seed }) }, data: { ...(t.dataFile && { file: t.dataFile }), ...(t.order && { order: t.order }) } };
  if (o.resumeDir) {
    const file = join(o.resumeDir, 'checkpoint.json');
    resume = loadCheckpoint(file);
    config = withOverrides(resume.config, { train: over.train.epochs ? { epochs: over.train.epochs } : {} }, 'command line');
    if (o.configFile) assertCheckpointMatches(file, resume, loadConfig(resolveShipped(o.configFile)), o.configFile);
  } else {
    config = withOverrides(loadConfig(resolveShipped(o.configFile)), over, 'command line');
  }
  const data = loadDataset(config, config.train.seed);
  const runner = o.workers > 1 ? o.makeRunner(config, o.workers) : inProcessRunner(config);
  const bar = progress('train', { quiet: o.quiet });
  const started = Date.now();
  const startGraphs = resume?.graphsSeen ?? 0;
  let last: StepReport | null = null;
  try {
    const result = await trainSteps(
      { config, data, checkpointFile, resume, runner, shards: o.workers, stopAtStep: o.stopAtStep, stopRequested },
      (r) => {
        last = r;
        const secs = (Date.now() - started) / 1000;
        bar.update(r.step, r.totalSteps, { epoch: r.epoch + 1, loss: r.loss.toFixed(3), 'graphs/s': Math.round((r.graphsSeen - startGraphs) / secs) });
      },
    );
    bar.finish();
    const seconds = (Date.now() - started) / 1000;
    const trained = result.checkpoint.graphsSeen - startGraphs;
    const lastReport = last as StepReport | null;
    return {
      completed: result.completed,
      steps: result.checkpoint.step,
      graphsTrained: trained,
      seconds: +seconds.toFixed(2),
      graphsPerSecond: Math.round(trained / Math.max(seconds, 1e-9)),
      finalLoss: lastReport ? +lastReport.loss.toFixed(4) : null,
      checkpoint: checkpointFile,
      workers: o.workers,
    };
  } finally {
    bar.finish();
    await runner.close();
  }
}

/** A model to sample or evaluate: the checkpoint given, or the one that ships. */
export function loadModel(file: string | null): { file: string; ckpt: Checkpoint } {
  const f = file ?? DEFAULT_MODEL_FILE;
  return { file: f, ckpt: loadCheckpoint(f) };
}

/** Samples `n` graphs chunk by chunk; `computeChunk` may run chunks elsewhere, results stay in order. */
export async function sampleToSink(
  n: number,
  compute: (from: number, count: number) => Promise<Graph[]>,
  onChunk: (graphs: Graph[]) => Promise<void>,
  quiet: boolean,
  parallel: number,
): Promise<void> {
  const bar = progress('sample', { quiet });
  const chunks = sampleChunks(n);
  let done = 0;
  // Keep up to `parallel` chunks in flight, write them strictly in order.
  const inFlight: Array<Promise<Graph[]>> = [];
  let next = 0;
  const launch = (): void => {
    while (inFlight.length < parallel && next < chunks.length) {
      const [from, count] = chunks[next++];
      inFlight.push(compute(from, count));
    }
  };
  launch();
  while (inFlight.length) {
    const graphs = await (inFlight.shift() as Promise<Graph[]>);
    launch();
    await onChunk(graphs);
    done += graphs.length;
    bar.update(done, n, {});
  }
  bar.finish();
}

/** `dgmg-pipe sample` in this thread. */
export async function runSample(modelFile: string | null, n: number, out: string, seed: number, vMax: number | null, quiet: boolean): Promise<{ file: string; graphs: number; seconds: number }> {
  const { ckpt } = loadModel(modelFile);
  const started = Date.now();
  const sink = new JsonlSink(out);
  const vm = vMax ?? ckpt.config.sample.vMax;
  await sampleToSink(n, async (from, count) => sampleChunk(ckpt.config.model, ckpt.params, seed, from, count, vm), (g) => sink.write(g), quiet, 1);
  await sink.close();
  return { file: out, graphs: n, seconds: +((Date.now() - started) / 1000).toFixed(2) };
}

/** Mean negative log-likelihood per graph of `graphs` under the order the model was trained with. */
export function heldOutNll(ckpt: Checkpoint, graphs: readonly Graph[]): number {
  if (!graphs.length) return NaN;
  const order = ckpt.config.data.order === 'random' ? 'natural' : ckpt.config.data.order;
  const layout = paramLayout(ckpt.config.model);
  let total = 0;
  for (let i = 0; i < graphs.length; i += 256) {
    const seqs = graphs.slice(i, i + 256).map((g) => graphSequence(g, order));
    for (const l of logLikelihoods(ckpt.config.model, layout, ckpt.params, seqs)) total -= l;
  }
  return total / graphs.length;
}

/** The dataset a checkpoint was trained on (regenerated from its config and seed). */
export function datasetOf(ckpt: Checkpoint): Dataset {
  return loadDataset(ckpt.config, ckpt.config.train.seed);
}
