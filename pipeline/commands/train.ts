import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adamState } from '../../model/adam';
import { carryParams, paramLayout, plannedSizeOf, startPlannedSizes } from '../../model/params';
import { assertCheckpointMatches, CheckpointError, loadCheckpoint, type Checkpoint } from '../checkpoint';
import { loadConfig, validateConfig, withOverrides, type RunConfig } from '../config';
import { TrainingCurve, type ValidityTest } from '../curve';
import { loadDataset, type Dataset } from '../dataset';
import { isMoleculeVocabulary } from '../../graphs/molecule';
import { progress } from '../progress';
import { inProcessRunner, type ShardRunner } from '../runner';
import { shardsOf, trainSteps, type EarlyStop, type StepReport } from '../train';
import { graphToSmiles, loadRDKit, type MoleculeCounts } from '../molecules';
import { moleculeConfig } from './molecules';
import { DEFAULT_CONFIG_FILE, resolveShipped } from './shared';

export interface TrainOptions {
  /** The run config; null: the checkpoint's when resuming, else configs/cycles.json. */
  readonly configFile: string | null;
  readonly outDir: string;
  readonly resumeDir: string | null;
  /** Start from this checkpoint's parameters (and model), with a fresh optimizer: fine-tuning. */
  readonly initFrom: string | null;
  readonly overrides: { epochs?: number; batchSize?: number; shards?: number; lr?: number; seed?: number; dataFile?: string; order?: RunConfig['data']['order']; valenceMask?: boolean; skipInvalid?: boolean };
  readonly workers: number;
  /** Builds the shard runner for `workers` > 1 (the actor pool); in process otherwise. */
  readonly makeRunner: (config: RunConfig, workers: number) => ShardRunner;
  readonly stopAtStep: number | null;
  readonly quiet: boolean;
  /** A fresh run into a folder that holds a checkpoint replaces that run; else it is refused. */
  readonly force: boolean;
}

export interface TrainSummary {
  /** Whether the run has taken every step of its config's epochs. */
  readonly completed: boolean;
  /** Why the run ended before that, if it did. */
  readonly stopped?: EarlyStop;
  readonly steps: number;
  readonly graphsTrained: number;
  readonly seconds: number;
  readonly graphsPerSecond: number;
  readonly finalLoss: number | null;
  /** Validity of VALIDITY_SAMPLES samples at the end (null without a family or molecules). */
  readonly validity: number | null;
  readonly checkpoint: string;
  /** Loss and validity against time, drawn at the end. */
  readonly curve: string;
  readonly workers: number;
  /** Shards every batch was cut into (train.shards, or one per worker): the parameters depend on them, never on the workers. */
  readonly shards: number;
  /** A molecule file's counts of kept and skipped molecules; null for other data. */
  readonly molecules: MoleculeCounts | null;
  /** The checkpoint whose parameters the run started from (--init-from); null otherwise. */
  readonly initFrom: string | null;
}

/** `o` without its undefined entries (flags the user did not give). */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The dotted keys (e.g. `train.lr`) whose values differ between two configs. */
function configDifferences(a: RunConfig, b: RunConfig): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string): void => {
    const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
    if (isObj(x) && isObj(y)) {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], path ? `${path}.${k}` : k);
    } else if (x !== y) out.push(path);
  };
  walk(a, b, '');
  return out;
}

/**
 * The config of a resumed run: the checkpoint's, with only train.epochs taken from the command
 * line or from a config file given beside --resume; anything else that differs is refused.
 */
function resumedConfig(file: string, resume: Checkpoint, o: TrainOptions): RunConfig {
  const t = o.overrides;
  const changed = Object.keys(defined({ batchSize: t.batchSize, shards: t.shards, lr: t.lr, seed: t.seed, file: t.dataFile, order: t.order, valenceMask: t.valenceMask, skipInvalid: t.skipInvalid }));
  if (changed.length) throw new Error(`--resume continues ${file} exactly; only --epochs may change, not ${changed.join(', ')}`);
  let epochs = t.epochs ?? resume.config.train.epochs;
  if (o.configFile) {
    const written = loadConfig(resolveShipped(o.configFile));
    // a config that leaves the shards to the workers (0) is the run's: its checkpoint keeps the count its first start resolved
    const given = written.train.shards === 0 ? { ...written, train: { ...written.train, shards: resume.config.train.shards } } : written;
    assertCheckpointMatches(file, resume, given, o.configFile);
    const differ = configDifferences(resume.config, given).filter((k) => k !== 'train.epochs');
    if (differ.length) throw new Error(`${o.configFile}: differs from the config of ${file} in ${differ.join(', ')}; --resume continues a run exactly, only train.epochs may change`);
    epochs = t.epochs ?? given.train.epochs;
  }
  return withOverrides(resume.config, { train: { epochs } }, 'command line');
}

/**
 * What makes a sample valid on the training curve: the family's predicate, or for a model of
 * molecules RDKit's sanitization (graphToSmiles gives a SMILES), the test `eval` counts; null for
 * other graphs.
 */
async function validityTest(config: RunConfig, data: Dataset): Promise<ValidityTest | null> {
  const family = data.family;
  if (family) return (g) => family.isValid(g);
  if (!isMoleculeVocabulary(config.model)) return null;
  const rd = await loadRDKit();
  return (g) => graphToSmiles(rd, g, config.model) !== null;
}

/** The keys of the `model` section a config file writes itself (the rest are defaults). */
function modelKeysOf(file: string): string[] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { model?: Record<string, unknown> };
  return Object.keys(json.model ?? {});
}

/**
 * Whether a fine-tune may set model `key` to `given` on a checkpoint whose value is `had`: the
 * valence and structural constraints and the joint edge choice shape no parameter, and a
 * destination-distance, node-count or distance-weights table switched on starts at zero, so the
 * fine-tune starts as exactly the checkpoint's model (docs/design.md, 'Destination distance',
 * 'Node-count input', 'Weights by distance'); a planned size switched on keeps every parameter and
 * adds its own, drawing the size where the checkpoint decided the stop ('Planned size'); any other
 * change would not be the checkpoint's model.
 */
function mayChange(key: string, had: unknown, given: unknown): boolean {
  const switchedOn = ((key === 'destinationDistance' || key === 'nodeCountInput' || key === 'plannedSize') && (had ?? 0) === 0) || (key === 'distanceWeights' && had !== true);
  return key === 'valenceMask' || key === 'constraints' || key === 'jointEdgeChoice' || switchedOn || JSON.stringify(given) === JSON.stringify(had);
}

/**
 * The config of a run that starts from the parameters of `init` (read from `file`): `config` with
 * the checkpoint's model, its shape and its atom and bond types. A model key that `configFile`
 * sets to anything else is refused, by name, but for the changes mayChange allows; a key it
 * leaves out is the checkpoint's.
 */
function initializedConfig(file: string, init: Checkpoint, config: RunConfig, configFile: string | null): RunConfig {
  const had = init.config.model as Readonly<Record<string, unknown>>;
  const given = config.model as Readonly<Record<string, unknown>>;
  const keys = configFile === null ? [] : modelKeysOf(configFile);
  for (const key of keys) {
    if (!mayChange(key, had[key], given[key])) {
      throw new CheckpointError(file, `has model.${key} = ${JSON.stringify(had[key])}, but ${configFile} asks for ${JSON.stringify(given[key])}; --init-from keeps the checkpoint's model (leave model.${key} out of the config)`);
    }
  }
  const from = (key: 'valenceMask' | 'constraints' | 'destinationDistance' | 'nodeCountInput' | 'plannedSize' | 'jointEdgeChoice' | 'distanceWeights'): RunConfig['model'] => (keys.includes(key) ? config.model : init.config.model);
  const model = {
    ...init.config.model,
    valenceMask: from('valenceMask').valenceMask,
    constraints: from('constraints').constraints,
    destinationDistance: from('destinationDistance').destinationDistance,
    nodeCountInput: from('nodeCountInput').nodeCountInput,
    plannedSize: from('plannedSize').plannedSize,
    jointEdgeChoice: from('jointEdgeChoice').jointEdgeChoice,
    distanceWeights: from('distanceWeights').distanceWeights,
  };
  return validateConfig({ ...config, model }, `${configFile ?? file} with the model of ${file}`);
}

/**
 * Where a run starts: the checkpoint it resumes, or, with --init-from, another's parameters at
 * step 0 with a fresh optimizer. Parameters carry over by name; a table the checkpoint lacks
 * (destination distance, node count, planned size) starts at its zeros (model/params.ts,
 * carryParams), and a planned size's sigma at the new data's sizes (startPlannedSizes).
 */
function startOf(resume: Checkpoint | null, init: Checkpoint | null, config: RunConfig, data: Dataset): Checkpoint | null {
  if (resume || !init) return resume;
  const layout = paramLayout(config.model);
  const params = carryParams(paramLayout(init.config.model), init.params, layout);
  // the sizes are the new data's: sigma starts at them whether or not the checkpoint had a planned size
  if (plannedSizeOf(config.model) > 0) startPlannedSizes(config.model, layout, params, data.train.map((g) => g.numNodes), data.source);
  return { config, params, adam: adamState(params.length), step: 0, graphsSeen: 0 };
}

/** The summary as a person reads it (pipeline/table.ts): without the molecule counts of a run on other data. */
export function trainView(s: TrainSummary): object {
  const { molecules, ...rest } = s;
  return molecules === null ? rest : s;
}

/** `dgmg-pipe train`: config (or checkpoint) in, checkpoint out, progress on stderr. */
export async function runTrain(o: TrainOptions, stopRequested: () => boolean): Promise<TrainSummary> {
  const checkpointFile = join(o.outDir, 'checkpoint.json');
  let resume: Checkpoint | null = null;
  let init: Checkpoint | null = null;
  let config: RunConfig;
  if (o.resumeDir) {
    if (o.initFrom) throw new Error('--resume continues a run from its own checkpoint; --init-from starts a new one: give one of them');
    const file = join(o.resumeDir, 'checkpoint.json');
    resume = loadCheckpoint(file);
    config = resumedConfig(file, resume, o);
  } else {
    const t = o.overrides;
    const over = { train: defined({ epochs: t.epochs, batchSize: t.batchSize, shards: t.shards, lr: t.lr, seed: t.seed }), data: defined({ file: t.dataFile, order: t.order, skipInvalid: t.skipInvalid }), model: defined({ valenceMask: t.valenceMask }) };
    if (o.initFrom) {
      init = loadCheckpoint(o.initFrom);
      const configFile = o.configFile === null ? null : resolveShipped(o.configFile);
      const base = configFile === null ? init.config : loadConfig(configFile);
      config = withOverrides(initializedConfig(o.initFrom, init, base, configFile), over, 'command line');
    } else config = withOverrides(loadConfig(resolveShipped(o.configFile ?? DEFAULT_CONFIG_FILE)), over, 'command line');
    if (!o.force && existsSync(checkpointFile)) {
      throw new Error(`${o.outDir} holds a trained run (${checkpointFile}); continue it with --resume ${o.outDir}, train elsewhere with --out, or replace it with --force`);
    }
  }
  config = await moleculeConfig(config);
  const data = await loadDataset(config, config.train.seed);
  const isValid = await validityTest(config, data);
  // the curve before the runner: a damaged metrics.jsonl is refused before any worker starts
  const curve = new TrainingCurve(join(o.outDir, 'metrics.jsonl'), isValid, config.model, config.sample.vMax, resume?.step ?? null);
  const shards = shardsOf(config, o.workers);
  // never more threads than shards: a thread without a shard would wait every step
  const runner = o.workers > 1 ? o.makeRunner(config, Math.min(o.workers, shards)) : inProcessRunner(config);
  const bar = progress('train', { quiet: o.quiet });
  const started = Date.now();
  const startGraphs = resume?.graphsSeen ?? 0;
  let last: StepReport | null = null;
  try {
    const result = await trainSteps(
      { config, data, checkpointFile, resume: startOf(resume, init, config, data), runner, shards, stopAtStep: o.stopAtStep, stopRequested },
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
      ...(result.stopped && { stopped: result.stopped }),
      steps: result.checkpoint.step,
      graphsTrained: trained,
      seconds: +seconds.toFixed(2),
      graphsPerSecond: Math.round(trained / Math.max(seconds, 1e-9)),
      finalLoss: lastReport ? +lastReport.loss.toFixed(4) : null,
      validity: curve.lastValidity(),
      checkpoint: checkpointFile,
      curve: join(o.outDir, 'training-curve.svg'),
      workers: o.workers,
      shards,
      molecules: data.molecules,
      initFrom: o.initFrom,
    };
  } catch (e) {
    // trainSteps has saved every step made before the failure: say where the run can go on from.
    const saved = (last as StepReport | null)?.step ?? resume?.step ?? null;
    if (saved === null) throw e;
    throw new Error(`${e instanceof Error ? e.message : String(e)}; step ${saved} is saved in ${checkpointFile} (continue with: dgmg-pipe train --resume ${o.outDir})`, { cause: e });
  } finally {
    bar.finish();
    await runner.close();
  }
}
