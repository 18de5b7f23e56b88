/**
 * dgmg-pipe as a library: load or train a DGMG, sample graphs, score graphs, save checkpoints.
 * The commands of bin/ are argument parsing over the same pipeline; a sample drawn here with a
 * seed is, graph for graph, the one `dgmg-pipe sample --seed` writes.
 *
 *     import { loadModel } from 'dgmg-pipe';
 *     const model = loadModel();                       // the shipped cycles model
 *     const graphs = await model.sample({ n: 10, seed: 1 });
 */
import { defer, finalize, from, map, switchMap, type Observable } from 'rxjs';
import type { Graph } from '../graphs/graph';
import { isMoleculeVocabulary } from '../graphs/molecule';
import { SamplePool, TrainPool } from '../actors/pool';
import { checkpointJson, loadCheckpoint, parseCheckpoint, saveCheckpoint, type Checkpoint } from '../pipeline/checkpoint';
import { configFromJson, loadConfig, type RunConfig } from '../pipeline/config';
import { loadDataset, moleculeFilterOf, splitDataset, type Dataset } from '../pipeline/dataset';
import { graphRecord, logLikelihoodsOf, recordGraph, sampleWith, type GraphRecord } from '../pipeline/model';
import { graphToSmiles, loadRDKit, smiLines, typedMolecules } from '../pipeline/molecules';
import { inProcessRunner, inThreadSampler, type ChunkSampler, type ShardRunner } from '../pipeline/runner';
import { shardsOf, trainEvents, type EarlyStop, type StepReport } from '../pipeline/train';
import { moleculeConfig } from '../pipeline/commands/molecules';
import { DEFAULT_MODEL_FILE, resolveShipped } from '../pipeline/commands/shared';

export type { GraphRecord } from '../pipeline/model';
export type { Checkpoint } from '../pipeline/checkpoint';
export type { RunConfig } from '../pipeline/config';
export type { EarlyStop, StepReport } from '../pipeline/train';
export { CheckpointError } from '../pipeline/checkpoint';
export { ConfigError, DEFAULT_CONFIG } from '../pipeline/config';
export { GraphFormatError } from '../graphs/graph';
export { servePage, type PageServer } from './serve';

export interface SampleOptions {
  /** How many graphs. */
  readonly n: number;
  /** The sampling seed (default 0): graph i draws from its own stream of this seed, so a seed gives the same graphs whatever `workers` is. */
  readonly seed?: number;
  /** Most nodes a graph may have (default: the config's sample.vMax). */
  readonly vMax?: number;
  /** Worker threads sampling chunks of 100 graphs in parallel (default 1: this thread). */
  readonly workers?: number;
}

/** A positive integer option, or an error naming it. */
function positive(name: string, x: number): number {
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`${name} must be a positive integer, got ${x}`);
  return x;
}

/** A trained DGMG: its checkpoint, and what can be done with it. */
export class Model {
  /** @param checkpoint the parameters, config and optimizer state; `source` names where it came from, in messages. */
  constructor(
    readonly checkpoint: Checkpoint,
    readonly source: string,
  ) {}

  /** The run config the model was trained with (model shape, type names, data, sample.vMax). */
  get config(): RunConfig {
    return this.checkpoint.config;
  }

  /** Whether the model's types are atoms and bonds, so that its graphs can be molecules. */
  get isMolecular(): boolean {
    return isMoleculeVocabulary(this.config.model);
  }

  /** `n` graphs sampled with `seed`, as the records `dgmg-pipe sample --seed` writes to JSONL. */
  async sample(o: SampleOptions): Promise<GraphRecord[]> {
    const graphs = await this.sampleGraphs(o);
    return graphs.map((g) => graphRecord(g, this.config.model));
  }

  /** The log-likelihood log p(graph) of each graph (natural log), under the node order the model was trained with. */
  logLikelihood(graphs: readonly GraphRecord[]): number[] {
    return logLikelihoodsOf(this.checkpoint, this.graphsOf(graphs));
  }

  /**
   * The canonical SMILES of each graph (e.g. samples of this model), or null for a graph RDKit
   * does not sanitize. For models whose types are atoms and bonds only.
   */
  async smiles(graphs: readonly GraphRecord[]): Promise<Array<string | null>> {
    if (!this.isMolecular) throw new Error(`${this.source}: SMILES need a model of molecules (atom types and single/double/triple bonds), not node types [${this.config.model.nodeTypes.join(', ')}]`);
    const rd = await loadRDKit();
    return this.graphsOf(graphs).map((g) => graphToSmiles(rd, g, this.config.model));
  }

  /** The checkpoint as the text of a checkpoint file (what `save` writes and `parseModel` reads). */
  toCheckpointText(): string {
    return checkpointJson(this.checkpoint);
  }

  /** Writes the checkpoint to `file` atomically; `dgmg-pipe sample --model file` and `loadModel(file)` read it. */
  save(file: string): void {
    saveCheckpoint(file, this.checkpoint);
  }

  private async sampleGraphs(o: SampleOptions): Promise<Graph[]> {
    const n = positive('n', o.n);
    const vMax = o.vMax === undefined ? this.config.sample.vMax : positive('vMax', o.vMax);
    const workers = positive('workers', o.workers ?? 1);
    const sampler: ChunkSampler = workers > 1 ? new SamplePool(this.config, this.checkpoint.params, workers) : inThreadSampler(this.checkpoint);
    try {
      return await sampleWith(sampler, n, o.seed ?? 0, vMax);
    } finally {
      await sampler.close();
    }
  }

  private graphsOf(graphs: readonly GraphRecord[]): Graph[] {
    return graphs.map((r, i) => recordGraph(r, this.config.model, `graph ${i + 1}`));
  }
}

/**
 * A model: a checkpoint file (a path; the shipped `models/cycles.json` and
 * `models/molecules-nci.json` are found by those names from anywhere), a checkpoint in memory,
 * or, with no argument, the shipped cycles model.
 */
export function loadModel(source?: string | Checkpoint): Model {
  if (source === undefined) return new Model(loadCheckpoint(DEFAULT_MODEL_FILE), DEFAULT_MODEL_FILE);
  if (typeof source !== 'string') return new Model(source, 'checkpoint');
  const file = resolveShipped(source);
  return new Model(loadCheckpoint(file), file);
}

/** A model from the text of a checkpoint file (e.g. one downloaded from the web page); `name` is used in messages. */
export function parseModel(text: string, name = 'checkpoint'): Model {
  return new Model(parseCheckpoint(text, name), name);
}

/** What a training stream emits: a report after every step, then the trained model. */
export type TrainUpdate =
  | { readonly kind: 'step'; readonly report: StepReport }
  | { readonly kind: 'done'; readonly model: Model; readonly completed: boolean; readonly stopped: EarlyStop | null };

export interface TrainOptions {
  /**
   * Training graphs instead of the config's family or file: a file (.jsonl, .g6, .smi, .csv), the
   * records of graphs, or SMILES strings ({ smiles }). A molecule file or SMILES with no
   * model.nodeTypes in the config train on the atom and bond types they have.
   */
  readonly data?: string | readonly GraphRecord[] | { readonly smiles: readonly string[] };
  /** Worker threads, each computing one shard of every batch (default 1: this thread); any number gives the same update. */
  readonly workers?: number;
  /** Aborting it finishes the step in flight and ends the stream with the model so far (completed false, stopped 'signal'). */
  readonly signal?: AbortSignal;
  /** Stop after this many steps in all (default: the config's train.epochs). */
  readonly maxSteps?: number;
  /** Also write the checkpoint here as training goes (train.checkpointEvery, train.checkpointSeconds) and at the end. */
  readonly checkpointFile?: string;
  /** Continue from this model's parameters, optimizer state and step (its config is the one used). */
  readonly resume?: Model;
}

/** A config: a file (configs/cycles.json is found by that name from anywhere), or keys over the defaults. */
function configOf(config: string | object): RunConfig {
  return typeof config === 'string' ? loadConfig(resolveShipped(config)) : configFromJson(config, 'config');
}

/** The config (types inferred for molecules) and dataset of a run with `data`. */
async function prepare(config: RunConfig, data: TrainOptions['data']): Promise<{ config: RunConfig; dataset: Dataset }> {
  if (typeof data === 'string') config = { ...config, data: { ...config.data, file: data } };
  if (data === undefined || typeof data === 'string') {
    const c = await moleculeConfig(config);
    return { config: c, dataset: await loadDataset(c, c.train.seed) };
  }
  const seed = config.train.seed;
  if ('smiles' in data) {
    const set = typedMolecules(await loadRDKit(), smiLines(data.smiles.join('\n'), 'smiles'), config.model, moleculeFilterOf(config));
    const c = configFromJson({ ...config, model: { ...config.model, ...set.vocab } }, 'the types of the SMILES');
    return { config: c, dataset: splitDataset(set.graphs, c, seed, 'smiles', set.counts) };
  }
  return { config, dataset: splitDataset(data.map((r, i) => recordGraph(r, config.model, `graph ${i + 1}`)), config, seed, 'graphs', null) };
}

/**
 * Trains a DGMG: subscribing starts the run (the same pipeline as `dgmg-pipe train`), which emits
 * a report after every step and ends with the trained model. `config` is a config file or keys
 * over the defaults (DEFAULT_CONFIG). Unsubscribing stops after the step in flight.
 */
export function train(config: string | object, o: TrainOptions = {}): Observable<TrainUpdate> {
  return defer(() => {
    const workers = positive('workers', o.workers ?? 1);
    return from(prepare(o.resume ? o.resume.config : configOf(config), o.data)).pipe(
      switchMap(({ config: c, dataset }) => {
        const shards = shardsOf(c, workers);
        const runner: ShardRunner = workers > 1 ? new TrainPool(c, Math.min(workers, shards)) : inProcessRunner(c);
        const run = { config: c, data: dataset, checkpointFile: o.checkpointFile ?? null, resume: o.resume?.checkpoint ?? null, runner, shards, stopAtStep: o.maxSteps ?? null };
        return trainEvents(run, o.signal).pipe(
          map((e): TrainUpdate => (e.kind === 'step' ? { kind: 'step', report: e.report } : { kind: 'done', model: new Model(e.checkpoint, o.checkpointFile ?? 'trained model'), completed: e.completed, stopped: e.stopped })),
          finalize(() => void runner.close()),
        );
      }),
    );
  });
}
