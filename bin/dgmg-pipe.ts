#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ORDER_KINDS, type OrderKind } from '../graphs/order';
import { runAnimate } from '../pipeline/commands/animate';
import { runDraw } from '../pipeline/commands/draw';
import { evalView, runEval } from '../pipeline/commands/eval';
import { alignedTable, moleculeRows, runMoleculeCompare, runMoleculeEvalJsonl, runMoleculeExport, runMoleculeSurvey, surveyView } from '../pipeline/commands/molecules';
import type { MoleculeReport } from '../eval/molecules';
import { runSample } from '../pipeline/commands/sample';
import { DEFAULT_MODEL_FILE } from '../pipeline/commands/shared';
import { runTrain, trainView } from '../pipeline/commands/train';
import type { Checkpoint } from '../pipeline/checkpoint';
import type { RunConfig } from '../pipeline/config';
import { inThreadSampler, type ChunkSampler } from '../pipeline/runner';
import { SAMPLE_CHUNK, sampleChunks } from '../pipeline/sampling';
import { MAX_BATCH_SIZE, MAX_SEED, MAX_V_MAX } from '../pipeline/config';
import { formatReport } from '../pipeline/table';
import { SamplePool, TrainPool } from '../actors/pool';
import { RedisChunkSampler, RedisShardRunner, type CoordinatorOptions } from '../actors/cluster-runner';
import { runWorkerHost } from '../actors/cluster-worker';
import { servePage } from '../api/serve';
import { KEY_TTL_SECONDS } from '../actors/cluster-protocol';
import { availableParallelism, constants } from 'node:os';

/**
 * Control characters (C0, DEL, C1) and the bidirectional overrides, which a terminal would obey
 * rather than show: a line of an input file echoed in a message (a SMILES, a file name) could
 * otherwise move the cursor, retitle the window or reorder what is shown.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with its unprintable characters written as \u escapes (as JSON writes them, so JSON stays JSON). */
const printable = (text: string): string => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Writes one line to the terminal, escaped by `printable`. */
const writeLine = (stream: NodeJS.WriteStream, line: string): void => void stream.write(`${printable(line)}\n`);

/** Prints a result on stdout: the whole object as JSON with --json, else `view` of it as aligned text (pipeline/table.ts). */
function report<R extends object>(json: boolean, result: R, view: (r: R) => object = (r) => r): void {
  const text = json ? JSON.stringify(result) : formatReport(view(result)).replace(/\n$/, '');
  for (const line of text.split('\n')) writeLine(process.stdout, line);
}

/**
 * A molecule report: with --json one object, its context and measures side by side; for a person
 * the context as `key: value` lines, then the measures as a table.
 */
function reportMolecules(json: boolean, context: object, measures: MoleculeReport): void {
  if (json) return report(true, { ...context, ...measures });
  report(false, context);
  process.stdout.write(alignedTable(moleculeRows(measures)));
}

/** `--<flag>` as given (a positive integer), else the number of cores. */
const workersAsked = (flag: string, given: string | undefined): number => (given === undefined ? availableParallelism() : positiveInt(flag, given));

/**
 * The threads of an in-process pool for `asked` workers and `tasks` tasks at a time: never more
 * than the tasks, nor than the cores. A thread beyond the cores takes its memory (its own
 * WebAssembly engine) and saves no time; what is computed does not depend on the threads.
 */
function localThreads(flag: string, asked: number, tasks: number): number {
  const cores = availableParallelism();
  const n = Math.min(asked, tasks);
  if (n <= cores) return n;
  writeLine(process.stderr, `dgmg-pipe: --${flag} ${asked} is more than the ${cores} cores here; using ${cores} threads (more would only take memory)`);
  return cores;
}

/** Errors of the user's input end the process with their message alone, not a stack. */
function fail(e: unknown): never {
  writeLine(process.stderr, `dgmg-pipe: ${e instanceof Error ? e.message : String(e)}`);
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

// A reader that stops early (`| head`) closes stdout: end quietly with the status of a process that
// SIGPIPE ended, as Unix tools do, rather than with a stack trace
process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? process.exit(signalStatus('SIGPIPE')) : fail(e)));

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

const quietOption = { type: 'boolean', default: false, describe: 'no progress output' } as const;

/**
 * An integer option, kept as text (untyped, so that yargs leaves `abc` as typed rather than NaN)
 * for integerFlag to check and a refusal to quote: a seed of 0.5 or 2^32 would otherwise
 * silently become seed 0.
 */
function integerOption(describe: string): { describe: string; requiresArg: true; coerce: (x: unknown) => string };
function integerOption(describe: string, fallback: number): { describe: string; requiresArg: true; coerce: (x: unknown) => string; default: number };
function integerOption(describe: string, fallback?: number): { describe: string; requiresArg: true; coerce: (x: unknown) => string; default?: number } {
  return { describe, requiresArg: true, coerce: (x) => String(x), ...(fallback !== undefined && { default: fallback }) };
}

/** The integer `--<flag>` gave, if it is one from `min` to `max`, else an error naming the flag and the range. */
function integerFlag(flag: string, given: string, min: number, max: number): number {
  const value = /^[+-]?\d+$/.test(given.trim()) ? Number(given) : NaN;
  if (!(value >= min && value <= max)) {
    const range = max !== Number.MAX_SAFE_INTEGER ? `an integer from ${min} to ${max}` : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new Error(`--${flag} must be ${range}, got ${JSON.stringify(given)}`);
  }
  return value;
}

/** `--<flag>` as a positive integer. */
const positiveInt = (flag: string, given: string): number => integerFlag(flag, given, 1, Number.MAX_SAFE_INTEGER);

/** `--shards` as a shard count: 0 (one per worker) up to the largest batch. */
const shardsFlag = (flag: string, given: string): number => integerFlag(flag, given, 0, MAX_BATCH_SIZE);

/** `--seed` as a seed: the random streams take 32 bits, so larger seeds would fold onto smaller ones. */
const seedFlag = (flag: string, given: string): number => integerFlag(flag, given, 0, MAX_SEED);

/** An optional flag read by `read`; undefined when it is not given. */
const optional = <T>(flag: string, given: string | undefined, read: (flag: string, given: string) => T): T | undefined => (given === undefined ? undefined : read(flag, given));

/** The coordinator's options (train, sample, eval); with --redis the shards go to `dgmg-pipe worker` hosts. */
const clusterOptions = {
  redis: { type: 'string', describe: 'compute on worker hosts (dgmg-pipe worker) through this Redis: redis://[user:password@]host:port, rediss:// for TLS' },
  'redis-ca': { type: 'string', describe: 'CA certificate (PEM) of a rediss:// server' },
  'redis-timeout': { type: 'number', default: 60, describe: 'with --redis: seconds to wait for a lost Redis before stopping' },
  'task-timeout': { type: 'number', describe: 'with --redis: seconds before an unanswered task is sent again (default: the config\'s train.taskTimeoutSeconds)' },
} as const;

const stderrLine = (prefix: string) => (line: string): void => writeLine(process.stderr, `${prefix}: ${line}`);

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
  workers: integerOption(`worker threads sampling chunks in parallel, at most the cores and one per ${SAMPLE_CHUNK} graphs (with --redis: chunks in flight); the result is the same for any number (default: the number of cores, ${availableParallelism()}; 1 = in this thread)`),
  ...clusterOptions,
} as const;

/**
 * Where `sample` and `eval` compute their chunks: on `dgmg-pipe worker` hosts with --redis
 * (`workers` chunks in flight), else in this thread for 1 worker and on a pool of threads for more;
 * never more workers than the `n` graphs make chunks.
 */
function chunkSampler(a: { workers?: string; redis?: string; 'redis-ca'?: string; 'redis-timeout': number; 'task-timeout'?: number }, n: number): { workers: number; makeSampler: (ckpt: Checkpoint) => ChunkSampler } {
  const cluster = coordinator(a);
  // never more workers than chunks; in-process, never more threads than cores (samples are the same for any number)
  const asked = workersAsked('workers', a.workers);
  const chunks = sampleChunks(n).length;
  const workers = cluster ? Math.min(asked, chunks) : localThreads('workers', asked, chunks);
  const makeSampler = (ckpt: Checkpoint): ChunkSampler =>
    cluster ? new RedisChunkSampler(ckpt.config.model, ckpt.params, workers, cluster(ckpt.config)) : workers > 1 ? new SamplePool(ckpt.config, ckpt.params, workers) : inThreadSampler(ckpt);
  return { workers, makeSampler };
}

void yargs(hideBin(process.argv))
  .scriptName('dgmg-pipe')
  // a flag given twice takes its last value, as a shell user expects, not an array of both
  .parserConfiguration({ 'duplicate-arguments-array': false })
  .strict()
  .demandCommand(1, 'name a command: train, sample, eval, draw, animate, web, worker, molecules')
  .command(
    'train',
    'Train a DGMG with batched teacher forcing; writes <out>/checkpoint.json',
    (y) =>
      y
        .option('config', { type: 'string', describe: 'run config (data, model, train, sample) [default: configs/cycles.json; with --resume: the checkpoint\'s]' })
        .option('out', { type: 'string', default: 'run', describe: 'folder for the checkpoint' })
        .option('resume', { type: 'string', describe: 'continue the run in this folder from its checkpoint' })
        .option('force', { type: 'boolean', default: false, describe: 'replace the run in --out if it holds one (else refused)' })
        .option('epochs', integerOption('override train.epochs'))
        .option('batch-size', integerOption('override train.batchSize'))
        .option('init-from', { type: 'string', describe: 'fine-tune: start from this checkpoint\'s parameters, model and atom types, with a fresh optimizer (default config: the checkpoint\'s)' })
        .option('skip-invalid', { type: 'boolean', describe: 'override data.skipInvalid: skip and count molecules that do not parse or have atoms outside the model\'s types (--no-skip-invalid: stop at the first)' })
        .option('lr', { type: 'number', describe: 'override train.lr' })
        .option('seed', integerOption(`override train.seed (0 to ${MAX_SEED})`))
        .option('data', { type: 'string', describe: 'train on this graph file (.jsonl or .g6) or molecule file (.smi, .csv with a SMILES column) instead of the config\'s family' })
        .option('order', { choices: ORDER_KINDS, describe: 'node order of the decision sequences' })
        .option('valence-mask', { type: 'boolean', describe: 'molecule models: never add a bond beyond RDKit\'s default valences (model.valenceMask, on by default); --no-valence-mask for the ablation' })
        .option('workers', integerOption(`worker threads, at most one per core and one per shard; without train.shards also the shards of every batch (default: the number of cores, ${availableParallelism()}; 1 = in this thread)`))
        .option('shards', integerOption('override train.shards: cut every batch into this many shards, so that any --workers trains the same model (0: one per worker)'))
        .option('max-steps', integerOption('stop after this many steps in total (the summary then says stopped: "max-steps")'))
        .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
        .option('quiet', quietOption)
        .options(clusterOptions),
    guarded(async (a) => {
      const cluster = coordinator(a);
      // without train.shards, also the shards per batch, the same here and on worker hosts (the parameters depend on them, never on the threads)
      const workers = workersAsked('workers', a.workers);
      const maxSteps = optional('max-steps', a['max-steps'], positiveInt);
      if (cluster && workers < 2) throw new Error('--redis splits every batch into --workers shards: give --workers 2 or more');
      const stop = stopSignal('finishing the step in flight and writing a checkpoint (again to abort)');
      const summary = await runTrain(
        {
          configFile: a.config ?? null,
          outDir: a.resume ?? a.out,
          resumeDir: a.resume ?? null,
          initFrom: a['init-from'] ?? null,
          overrides: {
            epochs: optional('epochs', a.epochs, positiveInt),
            batchSize: optional('batch-size', a['batch-size'], positiveInt),
            shards: optional('shards', a.shards, shardsFlag),
            lr: a.lr,
            seed: optional('seed', a.seed, seedFlag),
            dataFile: a.data,
            order: a.order as OrderKind | undefined,
            valenceMask: a['valence-mask'],
            skipInvalid: a['skip-invalid'],
          },
          workers,
          // a batch splits into at most batchSize shards: more threads would have nothing to do
          makeRunner: (config, n) => (cluster ? new RedisShardRunner(config, { ...cluster(config), stop }) : new TrainPool(config, localThreads('workers', n, config.train.batchSize))),
          stopAtStep: maxSteps ?? null,
          quiet: a.quiet,
          force: a.force,
        },
        () => stop.aborted,
      );
      report(a.json, summary, trainView);
      if (summary.stopped === 'signal') {
        writeLine(process.stderr, `dgmg-pipe: stopped early at step ${summary.steps}; continue with: dgmg-pipe train --resume ${a.resume ?? a.out}`);
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
        .option('n', integerOption('number of graphs', 1000))
        .option('out', { type: 'string', default: 'run/graphs.jsonl', describe: 'output file: .jsonl (JSON lines), .g6 (graph6) or, for a model of molecules, .smi (SMILES)' })
        .option('seed', integerOption(`sampling seed (0 to ${MAX_SEED}); same seed, same graphs`, 0))
        .option('v-max', integerOption(`most nodes a graph may have, at most ${MAX_V_MAX} (default: the config's sample.vMax)`))
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' })
        .option('quiet', quietOption)
        .options(samplingOptions),
    guarded(async (a) => {
      const n = positiveInt('n', a.n);
      const seed = seedFlag('seed', a.seed);
      const vMax = optional('v-max', a['v-max'], (flag, given) => integerFlag(flag, given, 1, MAX_V_MAX)) ?? null;
      const { workers, makeSampler } = chunkSampler(a, n);
      const result = await runSample(a.model ?? null, n, a.out, seed, vMax, a.quiet, makeSampler, stopSignal(null));
      report(a.json, { ...result, workers });
    }),
  )
  .command(
    'eval',
    'Measure a model: validity, uniqueness, novelty, MMD against the test graphs (a model of molecules: the molecule measures), held-out NLL',
    (y) =>
      y
        .option('model', modelOption)
        .option('n', integerOption('number of graphs to sample', 1000))
        .option('seed', integerOption(`sampling seed (0 to ${MAX_SEED})`, 0))
        .option('json', { type: 'boolean', default: false, describe: 'print the whole report as JSON' })
        .option('quiet', quietOption)
        .options(samplingOptions),
    guarded(async (a) => {
      const n = positiveInt('n', a.n);
      const seed = seedFlag('seed', a.seed);
      const { workers, makeSampler } = chunkSampler(a, n);
      const r = await runEval(a.model ?? null, n, seed, a.quiet, makeSampler, stopSignal(null));
      if (r.measures === 'molecules') {
        const { model, heldOutNll, testGraphs, seconds, measures, ...molecules } = r;
        reportMolecules(a.json, { model, measures, heldOutNll, testGraphs, seconds, workers }, molecules);
      } else report(a.json, { ...r, workers }, evalView);
    }),
  )
  .command(
    'draw',
    'Draw sampled graphs as an SVG grid, valid ones marked',
    (y) =>
      y
        .option('model', modelOption)
        .option('n', integerOption('number of graphs, at most 400', 16))
        .option('out', { type: 'string', default: 'run/samples.svg', describe: 'output SVG file' })
        .option('seed', integerOption(`sampling seed (0 to ${MAX_SEED})`, 0))
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' }),
    guarded(async (a) => {
      report(a.json, await runDraw(a.model ?? null, integerFlag('n', a.n, 1, 400), a.out, seedFlag('seed', a.seed), stopSignal(null)));
    }),
  )
  .command(
    'animate',
    'Animate one sampled graph being built decision by decision (self-contained HTML)',
    (y) =>
      y
        .option('model', modelOption)
        .option('out', { type: 'string', default: 'run/generation.html', describe: 'output HTML file' })
        .option('seed', integerOption(`sampling seed (0 to ${MAX_SEED})`, 0))
        .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' }),
    guarded(async (a) => {
      report(a.json, runAnimate(a.model ?? null, a.out, seedFlag('seed', a.seed)));
    }),
  )
  .command(
    'web',
    'Serve the web page (sample, animate and train in the browser) on this machine, until Ctrl-C',
    (y) =>
      y
        .option('port', { type: 'number', default: 8080, describe: 'TCP port (0: any free one)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (the default, loopback, is this machine only)' }),
    guarded(async (a) => {
      if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${a.port}`);
      const page = await servePage({ port: a.port, host: a.host });
      process.stderr.write(`dgmg-pipe: serving the web page at ${page.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => stopSignal(null).addEventListener('abort', () => void page.close().then(done)));
    }),
  )
  .command(
    'worker',
    'Compute the train and sample tasks of coordinators (train/sample/eval --redis) on this host, until Ctrl-C',
    (y) =>
      y
        .option('redis', { type: 'string', demandOption: true, describe: 'the coordinators\' Redis: redis://[user:password@]host:port, rediss:// for TLS' })
        .option('redis-ca', clusterOptions['redis-ca'])
        .option('threads', integerOption(`tasks computed at once, each on its own thread, at most the cores (default: the number of cores, ${availableParallelism()})`))
        .option('lease', { type: 'number', default: 30, describe: 'seconds after which a task of a host that stopped answering is computed elsewhere' })
        .option('verbose', { type: 'boolean', describe: 'a line per task too (default: a line per run and a summary per minute)' })
        .option('quiet', { type: 'boolean', describe: 'only faults: no line per run or per minute' })
        .conflicts('verbose', 'quiet'),
    guarded(async (a) => {
      await runWorkerHost({
        url: a.redis,
        caFile: a['redis-ca'] ?? null,
        threads: localThreads('threads', workersAsked('threads', a.threads), Infinity),
        leaseMs: positiveSeconds('lease', a.lease),
        ttlSeconds: KEY_TTL_SECONDS,
        logLevel: a.verbose ? 'verbose' : a.quiet ? 'quiet' : 'normal',
        log: stderrLine('dgmg-pipe worker'),
      });
    }),
  )
  .command(
    'molecules',
    'Molecule files (.smi, .csv): survey their types and sizes, export them as typed JSONL, measure samples against data',
    (y) =>
      y
        .command(
          'survey <file>',
          'Atom and bond types of a .smi or .csv file, and how many molecules each size and type filter keeps',
          (y) =>
            y
              .positional('file', { type: 'string', demandOption: true, describe: '.smi or .csv' })
              .option('max-types', integerOption('atom types to add one by one', 12))
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
              .option('max-atoms', integerOption('most heavy atoms a molecule may have', 23))
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
          'The molecule measures of typed JSONL samples against typed JSONL training molecules',
          (y) =>
            y
              .positional('samples', { type: 'string', demandOption: true, describe: 'typed JSONL of sampled molecules' })
              .positional('train', { type: 'string', demandOption: true, describe: 'typed JSONL of the training molecules' })
              .option('config', { type: 'string', demandOption: true, describe: 'config whose model.nodeTypes and model.edgeTypes name the types (e.g. the one export wrote)' })
              .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
          guarded(async (a) => {
            const { context, report: measures } = await runMoleculeEvalJsonl(a.samples, a.train, a.config);
            reportMolecules(a.json, context, measures);
          }),
        )
        .command(
          'compare <samples> <data>',
          'The molecule measures of one .smi or .csv file against another (e.g. half a data set against the other half)',
          (y) =>
            y
              .positional('samples', { type: 'string', demandOption: true, describe: '.smi or .csv' })
              .positional('data', { type: 'string', demandOption: true, describe: '.smi or .csv' })
              .option('json', { type: 'boolean', default: false, describe: 'print the report as JSON' }),
          guarded(async (a) => {
            const { context, report: measures } = await runMoleculeCompare(a.samples, a.data);
            reportMolecules(a.json, context, measures);
          }),
        )
        .demandCommand(1, 'name a molecules command: survey, export, eval-jsonl, compare'),
    () => undefined,
  )
  .help()
  .parseAsync();
