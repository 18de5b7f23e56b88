#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ORDER_KINDS, type OrderKind } from '../graphs/order';
import { runAnimate } from '../pipeline/commands/animate';
import { runDraw } from '../pipeline/commands/draw';
import { evalView, runEval } from '../pipeline/commands/eval';
import { runMoleculeEvalJsonl, runMoleculeExport, runMoleculeSurvey, surveyView } from '../pipeline/commands/molecules';
import { runSample } from '../pipeline/commands/sample';
import { DEFAULT_MODEL_FILE } from '../pipeline/commands/shared';
import { runTrain, trainView } from '../pipeline/commands/train';
import type { Checkpoint } from '../pipeline/checkpoint';
import type { RunConfig } from '../pipeline/config';
import { inThreadSampler, type ChunkSampler } from '../pipeline/runner';
import { MAX_V_MAX } from '../pipeline/config';
import { formatReport } from '../pipeline/table';
import { SamplePool, TrainPool } from '../actors/pool';
import { RedisChunkSampler, RedisShardRunner, type CoordinatorOptions } from '../actors/cluster-runner';
import { runWorkerHost } from '../actors/cluster-worker';
import { KEY_TTL_SECONDS } from '../actors/cluster-protocol';
import { availableParallelism, constants } from 'node:os';

/** Prints a result on stdout: the whole object as JSON with --json, else `view` of it as aligned text. */
function report<R extends object>(json: boolean, result: R, view: (r: R) => object = (r) => r): void {
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : formatReport(view(result)));
}

/**
 * --workers as given (a positive integer), else the number of cores. More threads than cores is
 * allowed but slower; with --redis the workers are shards on other hosts, so this host's cores do
 * not bound them.
 */
function workerCount(given: number | undefined, redis: string | undefined): number {
  const cores = availableParallelism();
  if (given === undefined) return cores;
  const n = positiveInt('workers', given);
  if (n > cores && redis === undefined) process.stderr.write(`dgmg-pipe: warning: --workers ${n} is more than the ${cores} cores here; extra workers make it slower and use more memory, not faster\n`);
  return n;
}

/** Errors of the user's input end the process with their message alone, not a stack. */
function fail(e: unknown): never {
  process.stderr.write(`dgmg-pipe: ${e instanceof Error ? e.message : String(e)}\n`);
  if (process.env.DGMG_DEBUG) console.error(e);
  process.exit(1);
}

/** A command stopped by SIGINT or SIGTERM before its end, having written nothing. */
class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal}: stopped before the end; nothing written`);
    this.name = 'Interrupted';
  }
}

/** The exit status of a process ended by `sig`, as a shell reports it: 128 + its number (130 for SIGINT). */
const signalStatus = (sig: NodeJS.Signals): number => 128 + constants.signals[sig];

/** A command handler whose errors end the process through `fail`; an Interrupted one with one line and the signal's status. */
function guarded<A>(handler: (a: A) => Promise<void>): (a: A) => Promise<void> {
  return async (a) => {
    try {
      await handler(a);
    } catch (e) {
      if (!(e instanceof Interrupted)) fail(e);
      process.stderr.write(`dgmg-pipe: ${e.message}\n`);
      process.exit(signalStatus(e.signal));
    }
  };
}

/**
 * Aborted, with an Interrupted as its reason, by the first SIGINT or SIGTERM (`announce`, if
 * given, is printed then); a second one exits at once (pipeline/atomic.ts removes temporary files
 * on the way out).
 */
function stopSignal(announce: string | null): AbortSignal {
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stop.signal.aborted) process.exit(signalStatus(sig));
    if (announce !== null) process.stderr.write(`\ndgmg-pipe: ${sig}: ${announce}\n`);
    stop.abort(new Interrupted(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stop.signal;
}

const modelOption = { type: 'string', describe: `checkpoint (default: the shipped ${DEFAULT_MODEL_FILE})` } as const;

/** Graph i of a sampling command draws from (seed, i) alone: the same seed gives the same graphs, whatever computes them. */
const seedOption = { type: 'number', default: 0, describe: 'sampling seed; the same seed gives the same graphs' } as const;

const quietOption = { type: 'boolean', default: false, describe: 'no progress output' } as const;

/** `value` if it is an integer >= 1, else an error naming the flag. */
function positiveInt(flag: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive integer, got ${value}`);
  return value;
}

/** The coordinator's options (train, sample, eval); with --redis the shards go to `dgmg-pipe worker` hosts. */
const clusterOptions = {
  redis: { type: 'string', describe: 'compute on worker hosts (dgmg-pipe worker) through this Redis: redis://[user:password@]host:port, rediss:// for TLS' },
  'redis-ca': { type: 'string', describe: 'CA certificate (PEM) of a rediss:// server' },
  'redis-timeout': { type: 'number', default: 60, describe: 'with --redis: seconds to wait for a lost Redis before stopping' },
  'task-timeout': { type: 'number', describe: 'with --redis: seconds before an unanswered task is sent again (default: the config\'s train.taskTimeoutSeconds)' },
} as const;

const stderrLine = (prefix: string) => (line: string): void => void process.stderr.write(`${prefix}: ${line}\n`);

/** `value` if it is a number > 0, else an error naming the flag. */
function positiveSeconds(flag: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${flag} must be a number of seconds > 0, got ${value}`);
  return value * 1000;
}

/**
 * The coordinator's settings from the flags, for a run whose config is `config` (--task-timeout
 * overrides its train.taskTimeoutSeconds, the in-process pools' timeout); null without --redis.
 */
function coordinator(
  a: { redis?: string; 'redis-ca'?: string; 'redis-timeout': number; 'task-timeout'?: number },
): ((config: RunConfig) => CoordinatorOptions) | null {
  if (a.redis === undefined) return null;
  const url = a.redis;
  const redisTimeoutMs = positiveSeconds('redis-timeout', a['redis-timeout']);
  const taskTimeout = a['task-timeout'] === undefined ? null : positiveSeconds('task-timeout', a['task-timeout']);
  return (config) => ({
    url,
    caFile: a['redis-ca'] ?? null,
    redisTimeoutMs,
    taskTimeoutMs: taskTimeout ?? config.train.taskTimeoutSeconds * 1000,
    ttlSeconds: KEY_TTL_SECONDS,
    log: stderrLine('dgmg-pipe'),
  });
}

/** The flags of the commands that sample (sample, eval): threads here, or worker hosts through --redis. */
const samplingOptions = {
  workers: { type: 'number', describe: `worker threads sampling chunks in parallel (with --redis: chunks in flight); the result is the same for any number (default: the number of cores, ${availableParallelism()}; 1 = in this thread)` },
  ...clusterOptions,
} as const;

/**
 * Where `sample` and `eval` compute their chunks: on `dgmg-pipe worker` hosts with --redis
 * (`workers` chunks in flight), else in this thread for 1 worker and on a pool of threads for more.
 */
function chunkSampler(a: { workers?: number; redis?: string; 'redis-ca'?: string; 'redis-timeout': number; 'task-timeout'?: number }): { workers: number; makeSampler: (ckpt: Checkpoint) => ChunkSampler } {
  const workers = workerCount(a.workers, a.redis);
  const cluster = coordinator(a);
  const makeSampler = (ckpt: Checkpoint): ChunkSampler =>
    cluster ? new RedisChunkSampler(ckpt.config.model, ckpt.params, workers, cluster(ckpt.config)) : workers > 1 ? new SamplePool(ckpt.config, ckpt.params, workers) : inThreadSampler(ckpt);
  return { workers, makeSampler };
}

void yargs(hideBin(process.argv))
  .scriptName('dgmg-pipe')
  .strict()
  .demandCommand(1, 'name a command: train, sample, eval, draw, animate, worker, molecules')
  .command(
    'train',
    'Train a DGMG with batched teacher forcing; writes <out>/checkpoint.json',
    (y) =>
      y
        .option('config', { type: 'string', describe: 'run config (data, model, train, sample) [default: configs/cycles.json; with --resume: the checkpoint\'s]' })
        .option('out', { type: 'string', default: 'run', describe: 'folder for the checkpoint' })
        .option('resume', { type: 'string', describe: 'continue the run in this folder from its checkpoint' })
        .option('epochs', { type: 'number', describe: 'override train.epochs' })
        .option('batch-size', { type: 'number', describe: 'override train.batchSize' })
        .option('lr', { type: 'number', describe: 'override train.lr' })
        .option('seed', { type: 'number', describe: 'override train.seed, the seed of the data, the first parameters and the batches' })
        .option('data', { type: 'string', describe: 'train on this graph file (.jsonl or .g6) or molecule file (.smi, .csv with a SMILES column) instead of the config\'s family' })
        .option('order', { choices: ORDER_KINDS, describe: 'node order of the decision sequences' })
        .option('workers', { type: 'number', describe: `worker threads, each computing one shard of every batch (default: the number of cores, ${availableParallelism()}; 1 = in this thread)` })
        .option('max-steps', { type: 'number', describe: 'stop after this many steps in total' })
        .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
        .option('quiet', quietOption)
        .options(clusterOptions),
    guarded(async (a) => {
      const workers = workerCount(a.workers, a.redis);
      const cluster = coordinator(a);
      if (cluster && workers < 2) throw new Error('--redis splits every batch into --workers shards: give --workers 2 or more');
      const stop = stopSignal('finishing the step in flight and writing a checkpoint (again to abort)');
      const summary = await runTrain(
        {
          configFile: a.config ?? null,
          outDir: a.resume ?? a.out,
          resumeDir: a.resume ?? null,
          overrides: { epochs: a.epochs, batchSize: a['batch-size'], lr: a.lr, seed: a.seed, dataFile: a.data, order: a.order as OrderKind | undefined },
          workers,
          makeRunner: (config, n) => (cluster ? new RedisShardRunner(config, cluster(config)) : new TrainPool(config, n)),
          stopAtStep: a['max-steps'] ?? null,
          quiet: a.quiet,
        },
        () => stop.aborted,
      );
      report(a.json, summary, trainView);
      if (!summary.completed) {
        process.stderr.write(`dgmg-pipe: stopped early at step ${summary.steps}; continue with: dgmg-pipe train --resume ${a.resume ?? a.out}\n`);
        process.exit(130);
      }
    }),
  )
  .command(
    'sample',
    'Sample graphs from a trained model into a JSONL (.jsonl), graph6 (.g6) or, for a model of molecules, SMILES (.smi) file',
    (y) =>
      y
        .option('model', modelOption)
        .option('n', { type: 'number', default: 1000, describe: 'number of graphs' })
        .option('out', { type: 'string', default: 'run/graphs.jsonl', describe: 'output file: .jsonl (JSON lines), .g6 (graph6) or, for a model of molecules, .smi (SMILES)' })
        .option('seed', seedOption)
        .option('v-max', { type: 'number', describe: 'most nodes a graph may have (default: the config\'s sample.vMax)' })
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' })
        .option('quiet', quietOption)
        .options(samplingOptions),
    guarded(async (a) => {
      positiveInt('n', a.n);
      const vMax = a['v-max'] === undefined ? null : positiveInt('v-max', a['v-max']);
      if (vMax !== null && vMax > MAX_V_MAX) throw new Error(`--v-max must be at most ${MAX_V_MAX}, got ${vMax}`);
      const { workers, makeSampler } = chunkSampler(a);
      const result = await runSample(a.model ?? null, a.n, a.out, a.seed, vMax, a.quiet, makeSampler, stopSignal(null));
      report(a.json, { ...result, workers });
    }),
  )
  .command(
    'eval',
    'Measure a model: validity, uniqueness, novelty, MMD against the test graphs, held-out NLL',
    (y) =>
      y
        .option('model', modelOption)
        .option('n', { type: 'number', default: 1000, describe: 'number of graphs to sample' })
        .option('seed', seedOption)
        .option('json', { type: 'boolean', default: false, describe: 'print the whole report as JSON' })
        .option('quiet', quietOption)
        .options(samplingOptions),
    guarded(async (a) => {
      positiveInt('n', a.n);
      const { workers, makeSampler } = chunkSampler(a);
      report(a.json, { ...(await runEval(a.model ?? null, a.n, a.seed, a.quiet, makeSampler, stopSignal(null))), workers }, evalView);
    }),
  )
  .command(
    'draw',
    'Draw sampled graphs as an SVG grid, valid ones marked',
    (y) =>
      y
        .option('model', modelOption)
        .option('n', { type: 'number', default: 16, describe: 'number of graphs' })
        .option('out', { type: 'string', default: 'run/samples.svg', describe: 'output SVG file' })
        .option('seed', seedOption)
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' }),
    guarded(async (a) => {
      if (!Number.isInteger(a.n) || a.n < 1 || a.n > 400) throw new Error(`--n must be an integer from 1 to 400, got ${a.n}`);
      report(a.json, await runDraw(a.model ?? null, a.n, a.out, a.seed, stopSignal(null)));
    }),
  )
  .command(
    'animate',
    'Animate one sampled graph being built decision by decision (self-contained HTML)',
    (y) =>
      y
        .option('model', modelOption)
        .option('out', { type: 'string', default: 'run/generation.html', describe: 'output HTML file' })
        .option('seed', seedOption)
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' }),
    guarded(async (a) => {
      report(a.json, runAnimate(a.model ?? null, a.out, a.seed));
    }),
  )
  .command(
    'worker',
    'Compute the train and sample tasks of coordinators (train/sample/eval --redis) on this host, until Ctrl-C',
    (y) =>
      y
        .option('redis', { type: 'string', demandOption: true, describe: 'the coordinators\' Redis: redis://[user:password@]host:port, rediss:// for TLS' })
        .option('redis-ca', clusterOptions['redis-ca'])
        .option('threads', { type: 'number', describe: `tasks computed at once, each on its own thread (default: the number of cores, ${availableParallelism()})` })
        .option('lease', { type: 'number', default: 30, describe: 'seconds after which a task of a host that stopped answering is computed elsewhere' }),
    guarded(async (a) => {
      await runWorkerHost({
        url: a.redis,
        caFile: a['redis-ca'] ?? null,
        threads: a.threads === undefined ? availableParallelism() : positiveInt('threads', a.threads),
        leaseMs: positiveSeconds('lease', a.lease),
        ttlSeconds: KEY_TTL_SECONDS,
        log: stderrLine('dgmg-pipe worker'),
      });
    }),
  )
  .command(
    'molecules',
    'Molecule files (.smi, .csv): survey their types and sizes, export them as typed JSONL, measure typed JSONL samples',
    (y) =>
      y
        .command(
          'survey <file>',
          'Atom and bond types of a .smi or .csv file, and how many molecules each size and type filter keeps',
          (y) =>
            y
              .positional('file', { type: 'string', demandOption: true, describe: '.smi or .csv' })
              .option('max-types', { type: 'number', default: 12, describe: 'atom types to add one by one' })
              .option('json', { type: 'boolean', default: false, describe: 'print the survey as JSON' }),
          guarded(async (a) => {
            report(a.json, await runMoleculeSurvey(a.file, positiveInt('max-types', a['max-types'])), surveyView);
          }),
        )
        .command(
          'export <file> <out>',
          'Write the molecules a filter keeps as typed JSONL, and the matching config keys',
          (y) =>
            y
              .positional('file', { type: 'string', demandOption: true, describe: '.smi or .csv' })
              .positional('out', { type: 'string', demandOption: true, describe: 'typed JSONL file' })
              .option('types', { type: 'string', demandOption: true, describe: 'atom types, comma-separated, e.g. C,O,N,S,Cl,F,Br,N+,O-' })
              .option('max-atoms', { type: 'number', default: 23, describe: 'most heavy atoms a molecule may have' })
              .option('config-out', { type: 'string', describe: 'where the config keys go (default: <out> with .config.json)' })
              .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' }),
          guarded(async (a) => {
            const types = a.types.split(',').map((t) => t.trim()).filter((t) => t !== '');
            const configOut = a['config-out'] ?? `${a.out.replace(/\.jsonl$/i, '')}.config.json`;
            report(a.json, await runMoleculeExport(a.file, a.out, configOut, types, positiveInt('max-atoms', a['max-atoms'])));
          }),
        )
        .command(
          'eval-jsonl <samples> <train>',
          'Validity, uniqueness, novelty and type distributions of typed JSONL samples against typed JSONL training molecules',
          (y) =>
            y
              .positional('samples', { type: 'string', demandOption: true, describe: 'typed JSONL of sampled molecules' })
              .positional('train', { type: 'string', demandOption: true, describe: 'typed JSONL of the training molecules' })
              .option('config', { type: 'string', demandOption: true, describe: 'config whose model.nodeTypes and model.edgeTypes name the types (e.g. the one export wrote)' })
              .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
          guarded(async (a) => {
            report(a.json, await runMoleculeEvalJsonl(a.samples, a.train, a.config));
          }),
        )
        .demandCommand(1, 'name a molecules command: survey, export, eval-jsonl'),
    () => undefined,
  )
  .help()
  .parseAsync();
