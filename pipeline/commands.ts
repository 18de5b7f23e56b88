import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Graph } from '../graphs/graph';
import { evaluateSamples, type QualityReport } from '../eval/quality';
import { paramLayout } from '../model/params';
import { logLikelihoods } from '../model/teacher';
import { assertCheckpointMatches, loadCheckpoint, writeFileAtomic, type Checkpoint } from './checkpoint';
import { renderGraphGridSvg } from '../draw/svg';
import { renderGenerationHtml } from '../draw/animate';
import { encodeGraph } from '../graphs/sequence';
import { loadConfig, withOverrides, type RunConfig } from './config';
import { graphSequence, loadDataset, type Dataset } from './dataset';
import { progress } from './progress';
import { TrainingCurve } from './curve';
import { sampleChunk, sampleChunks, writeGraphFile } from './sampling';
import { inProcessRunner, trainSteps, type ShardRunner, type StepReport } from './train';

/** The folder the package is installed in (configs/ and models/ live there). */
export const PACKAGE_ROOT = resolve(__dirname, '..', '..');

/** The config `train` uses when none is given. */
export const DEFAULT_CONFIG_FILE = 'configs/cycles.json';

/** The checkpoint that ships with the package, used when no --model is given. */
export const DEFAULT_MODEL_FILE = join(PACKAGE_ROOT, 'models', 'cycles.json');

/** A path as given, or else relative to the package (so `configs/cycles.json` works from anywhere). */
export function resolveShipped(file: string): string {
  return existsSync(file) ? file : existsSync(join(PACKAGE_ROOT, file)) ? join(PACKAGE_ROOT, file) : file;
}

export interface TrainOptions {
  /** The run config; null: the checkpoint's when resuming, else configs/cycles.json. */
  readonly configFile: string | null;
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
  /** Validity of VALIDITY_SAMPLES samples at the end (null without a family). */
  readonly validity: number | null;
  readonly checkpoint: string;
  /** Loss and validity against time, drawn at the end. */
  readonly curve: string;
  readonly workers: number;
}

/** `o` without its undefined entries (flags the user did not give). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `dgmg-pipe train`: config (or checkpoint) in, checkpoint out, progress on stderr. */
export async function runTrain(o: TrainOptions, stopRequested: () => boolean): Promise<TrainSummary> {
  const checkpointFile = join(o.outDir, 'checkpoint.json');
  let resume: Checkpoint | null = null;
  let config: RunConfig;
  const t = o.overrides;
  const trainOver = defined({ epochs: t.epochs, batchSize: t.batchSize, lr: t.lr, seed: t.seed });
  const dataOver = defined({ file: t.dataFile, order: t.order });
  if (o.resumeDir) {
    const file = join(o.resumeDir, 'checkpoint.json');
    resume = loadCheckpoint(file);
    const changed = [...Object.keys(trainOver).filter((k) => k !== 'epochs'), ...Object.keys(dataOver)];
    if (changed.length) throw new Error(`--resume continues ${file} exactly; only --epochs may change, not ${changed.join(', ')}`);
    config = withOverrides(resume.config, { train: trainOver }, 'command line');
    if (o.configFile) assertCheckpointMatches(file, resume, loadConfig(resolveShipped(o.configFile)), o.configFile);
  } else {
    config = withOverrides(loadConfig(resolveShipped(o.configFile ?? DEFAULT_CONFIG_FILE)), { train: trainOver, data: dataOver }, 'command line');
  }
  const data = loadDataset(config, config.train.seed);
  const runner = o.workers > 1 ? o.makeRunner(config, o.workers) : inProcessRunner(config);
  const bar = progress('train', { quiet: o.quiet });
  const curve = new TrainingCurve(join(o.outDir, 'metrics.jsonl'), data.family, config.model, config.sample.vMax, resume !== null);
  const started = Date.now();
  const startGraphs = resume?.graphsSeen ?? 0;
  let last: StepReport | null = null;
  try {
    const result = await trainSteps(
      { config, data, checkpointFile, resume, runner, shards: o.workers, stopAtStep: o.stopAtStep, stopRequested },
      (r, params) => {
        last = r;
        const secs = (Date.now() - started) / 1000;
        // loss points ten times per checkpoint interval; validity (200 samples) at checkpoints and at the end
        const final = r.step === r.totalSteps || r.step === o.stopAtStep;
        const atCheckpoint = r.step % config.train.checkpointEvery === 0 || final;
        const point = atCheckpoint || r.step % Math.max(1, Math.floor(config.train.checkpointEvery / 10)) === 0;
        curve.step(r.loss, r.step, r.graphsSeen, secs, params, point, atCheckpoint);
        const validity = curve.lastValidity();
        bar.update(r.step, r.totalSteps, {
          epoch: r.epoch + 1,
          loss: r.loss.toFixed(3),
          ...(validity !== null && { valid: validity.toFixed(2) }),
          'graphs/s': Math.round((r.graphsSeen - startGraphs) / secs),
        });
      },
    );
    bar.finish();
    curve.writeSvg(join(o.outDir, 'training-curve.svg'));
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
      validity: curve.lastValidity(),
      checkpoint: checkpointFile,
      curve: join(o.outDir, 'training-curve.svg'),
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

/** Samples `n` graphs chunk by chunk, up to `parallel` chunks in flight; `onChunk` gets them in order. */
async function sampleToSink(
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

/** Computes chunks of a seeded sample: in this thread, or on worker threads (actors/pool.ts). */
export interface ChunkSampler {
  /** Graphs from .. from+count-1 of the sample with this seed. */
  chunk(seed: number, from: number, count: number, vMax: number): Promise<Graph[]>;
  /** Chunks worth keeping in flight. */
  readonly parallel: number;
  close(): Promise<void>;
}

/** Chunks sampled one after another in this thread. */
export function inThreadSampler(ckpt: Checkpoint): ChunkSampler {
  return {
    chunk: async (seed, from, count, vMax) => sampleChunk(ckpt.config.model, ckpt.params, seed, from, count, vMax),
    parallel: 1,
    close: async () => undefined,
  };
}

/** Samples n graphs of a model with `makeSampler`'s sampler, handing each chunk, in order, to `onChunk`. */
async function sampleModel(
  modelFile: string | null,
  n: number,
  seed: number,
  vMax: number | null,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  onChunk: (graphs: Graph[]) => Promise<void>,
): Promise<{ file: string; ckpt: Checkpoint }> {
  const { file, ckpt } = loadModel(modelFile);
  const vm = vMax ?? ckpt.config.sample.vMax;
  const sampler = makeSampler(ckpt);
  try {
    await sampleToSink(n, (from, count) => sampler.chunk(seed, from, count, vm), onChunk, quiet, sampler.parallel);
  } finally {
    await sampler.close();
  }
  return { file, ckpt };
}

/** `dgmg-pipe sample`: n graphs written to a JSONL or graph6 file (by its extension) as they are made, in order. */
export async function runSample(
  modelFile: string | null,
  n: number,
  out: string,
  seed: number,
  vMax: number | null,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
): Promise<{ file: string; graphs: number; seconds: number; graphsPerSecond: number }> {
  const started = Date.now();
  await writeGraphFile(out, (write) => sampleModel(modelFile, n, seed, vMax, quiet, makeSampler, async (g) => write(g)));
  const seconds = (Date.now() - started) / 1000;
  return { file: out, graphs: n, seconds: +seconds.toFixed(2), graphsPerSecond: Math.round(n / Math.max(seconds, 1e-9)) };
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

/** `dgmg-pipe eval`: SPEC §7's measures of n samples, and the held-out NLL of the test graphs. */
export async function runEval(
  modelFile: string | null,
  n: number,
  seed: number,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
): Promise<QualityReport & { model: string; heldOutNll: number; testGraphs: number; seconds: number }> {
  const started = Date.now();
  const samples: Graph[] = [];
  const { file, ckpt } = await sampleModel(modelFile, n, seed, null, quiet, makeSampler, async (g) => void samples.push(...g));
  const data = datasetOf(ckpt);
  const report = evaluateSamples(samples, data.train, data.test, data.family);
  return { model: file, ...report, heldOutNll: +heldOutNll(ckpt, data.test).toFixed(4), testGraphs: data.test.length, seconds: +((Date.now() - started) / 1000).toFixed(2) };
}

/** `dgmg-pipe draw`: a grid of n sampled graphs, the family's valid ones marked, as one SVG file. */
export function runDraw(modelFile: string | null, n: number, out: string, seed: number): { file: string; graphs: number; valid: number | null } {
  const { file, ckpt } = loadModel(modelFile);
  const graphs = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, n, ckpt.config.sample.vMax);
  const family = datasetOf(ckpt).family;
  const valid = family ? graphs.map((g) => family.isValid(g)) : undefined;
  const title = `${n} samples of ${file}${valid ? `: ${valid.filter(Boolean).length} valid ${family?.name}` : ''}`;
  writeFileAtomic(out, renderGraphGridSvg(graphs, { valid, title }));
  return { file: out, graphs: n, valid: valid ? valid.filter(Boolean).length : null };
}

/**
 * `dgmg-pipe animate`: one sampled graph built decision by decision, as a self-contained HTML page.
 * A sampled graph keeps its nodes in the order they were added and its edges in the order they
 * were chosen, so its natural-order encoding is the decisions that built it (repeated-edge
 * attempts, which change nothing, left out).
 */
export function runAnimate(modelFile: string | null, out: string, seed: number): { file: string; nodes: number; edges: number; decisions: number } {
  const { file, ckpt } = loadModel(modelFile);
  const [g] = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, 1, ckpt.config.sample.vMax);
  const seq = encodeGraph(g);
  writeFileAtomic(out, renderGenerationHtml(seq, { title: `A graph sampled from ${file} (seed ${seed})` }));
  return { file: out, nodes: g.numNodes, edges: g.edges.length, decisions: seq.length };
}
