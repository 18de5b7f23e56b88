import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainPool } from '../actors/pool';
import { initParams, paramLayout, typeCounts, type ParamLayout } from '../model/params';
import { sequenceWork } from '../model/teacher';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { configFromJson, type RunConfig } from '../pipeline/config';
import { BatchSource, loadDataset, type Dataset } from '../pipeline/dataset';
import { inProcessRunner, splitShards, type ShardRunner } from '../pipeline/runner';
import { trainSteps } from '../pipeline/train';
import { faultMemory, setFault, type Fault } from './fixtures/faults';
import { relNormDiff } from './helpers';


// 40 cycles, batches of 10: 3 workers get three shards of nearly equal work (splitShards).
const config: RunConfig = configFromJson(
  {
    data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 40, testSize: 0 },
    train: { epochs: 2, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 3, checkpointEvery: 2 },
  },
  'actors test config',
);
let data: Dataset;
const STEPS = 4;

// Warm pools of the test-only worker (the real one with faults injected) serve most tests (a
// pool's threads load the engine and warm up once); each test arms the fault and starts the log its
// retries go to.
const faults = faultMemory();
let pool2: TrainPool;
let pool3: TrainPool;
let retryLog: string[] = [];
const faultyPool = (threads: number, taskTimeoutSeconds = config.train.taskTimeoutSeconds): TrainPool =>
  new TrainPool({ ...config, train: { ...config.train, taskTimeoutSeconds } }, threads, {
    log: (l) => retryLog.push(l),
    worker: { filename: join(__dirname, 'fixtures', 'faulty-train-worker.js'), data: { faults } },
  });

interface Run {
  params: Float32Array;
  losses: number[];
}

async function train(runner: ShardRunner, shards: number, opts: { steps?: number; checkpointFile?: string; onStep?: (step: number) => void } = {}): Promise<Run> {
  const losses: number[] = [];
  try {
    const r = await trainSteps(
      { config, data, checkpointFile: opts.checkpointFile ?? null, resume: null, runner, shards, stopAtStep: opts.steps ?? STEPS, stopRequested: () => false },
      (s) => {
        losses.push(s.loss);
        opts.onStep?.(s.step);
      },
    );
    return { params: r.checkpoint.params, losses };
  } finally {
    if (runner !== pool2 && runner !== pool3) await runner.close();
  }
}

/** The graphs in shard `shard` of `n` at `step`, as trainSteps cuts that batch (by work, not count). */
function shardGraphs(step: number, shard: number, n: number): number {
  const [batch] = new BatchSource(data.train, config.data.order, config.train.batchSize, config.train.seed, typeCounts(config.model)).batches(step, step + 1);
  return splitShards(batch.sequences, n, (s) => sequenceWork(config.model, s))[shard].length;
}

/** `p` with `fault` armed (null: none), retries logged afresh into retryLog. */
function pool(p: TrainPool, fault: Fault | null = null): TrainPool {
  setFault(faults, fault);
  retryLog = [];
  return p;
}

/**
 * The coordinates the loss depends on. ChooseDest scores [h_u ; h_v]·w + b with v the new node, so
 * h_v·w_v + b is the same for every candidate u: those 17 parameters cancel in the softmax, their
 * gradient is 0 up to rounding, and Adam (which divides by the gradient's own size) turns that
 * rounding into a random walk that differs with any change of summation order. They are left
 * out of the parameter comparison across shardings (the losses, which they cannot move, are compared too).
 */
function lossRelevant(layout: ParamLayout, a: Float32Array): Float32Array {
  const out = Float32Array.from(a);
  const i = layout.specs.findIndex((s) => s.name === 'chooseDest.score.w');
  const n = config.model.nodeSize;
  out.fill(0, layout.offsets[i] + n, layout.offsets[i] + 2 * n);
  const b = layout.specs.findIndex((s) => s.name === 'chooseDest.score.b');
  out.fill(0, layout.offsets[b], layout.offsets[b] + 1);
  return out;
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

const runs: Record<string, Run> = {};

t.before(async () => {
  data = await loadDataset(config, config.train.seed);
  pool2 = faultyPool(2);
  pool3 = faultyPool(3);
});

t.teardown(async () => {
  await pool2.close();
  await pool3.close();
});

t.test('1, 2 and 3 workers on the same batches give the same parameters', async (t) => {
  const layout = paramLayout(config.model);
  runs.one = await train(inProcessRunner(config), 1);
  runs.inProcess3 = await train(inProcessRunner(config), 3);
  runs.pool2 = await train(pool(pool2), 2);
  runs.pool3 = await train(pool(pool3), 3);
  const real = await train(new TrainPool(config, 3), 3);

  // The pool computes exactly what this thread computes for the same shards: same bits.
  t.same(Array.from(real.params), Array.from(runs.inProcess3.params), '3 workers of the real worker = 3 shards in process, bit for bit');

  t.same(Array.from(runs.pool3.params), Array.from(runs.inProcess3.params), 'the test-only worker without a fault too');
  t.same(runs.pool3.losses, runs.inProcess3.losses);

  // Other shardings differ only by float summation order.
  const init = initParams(layout, config.train.seed);
  const moved = relNormDiff(lossRelevant(layout, runs.one.params), lossRelevant(layout, init));
  t.ok(moved > 1e-2, `training moved the parameters (${moved.toExponential(2)}), so the comparison means something`);
  for (const [name, run] of [['2 workers', runs.pool2], ['3 workers', runs.pool3]] as const) {
    const d = relNormDiff(lossRelevant(layout, run.params), lossRelevant(layout, runs.one.params));
    t.ok(d <= 1e-5, `${name} vs 1: parameters within 1e-5 relative (${d.toExponential(2)})`);
    t.equal(run.losses.length, STEPS);
    run.losses.forEach((l, i) => t.ok(relDiff(l, runs.one.losses[i]) <= 1e-5, `${name} vs 1: step ${i} loss ${l} vs ${runs.one.losses[i]}`));
  }
});

t.test('a worker killed mid-run is replaced, its shard re-run, and the result is the fault-free one', async (t) => {
  // Shard 1 of step 1 kills its worker thread on the first two attempts; the third succeeds.
  const faulty = await train(pool(pool3, { kind: 'crash', step: 1, shard: 1, times: 2 }), 3);
  const log = retryLog;
  t.same(Array.from(faulty.params), Array.from(runs.pool3.params), 'same parameters as without the fault');
  t.same(faulty.losses, runs.pool3.losses);
  t.equal(log.length, 2, 'two retries reported');
  t.match(log[0], new RegExp(`step 1: shard 1 of 3 \\(${shardGraphs(1, 1, 3)} graphs\\) failed \\(worker exited with code: 70\\); retrying, attempt 2 of 3`));
  t.match(log[1], /attempt 3 of 3/);
});

t.test('a task that throws once is retried', async (t) => {
  const faulty = await train(pool(pool2, { kind: 'throw', step: 0, shard: 0, times: 1 }), 2);
  const log = retryLog;
  t.same(Array.from(faulty.params), Array.from(runs.pool2.params));
  t.equal(log.length, 1);
  t.match(log[0], new RegExp(`step 0: shard 0 of 2 \\(${shardGraphs(0, 0, 2)} graphs\\) failed \\(injected fault`));
});

t.test('a shard that keeps failing stops the run with a clear error; the last checkpoint stays intact', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-actors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'checkpoint.json');
  let saved: string | null = null;
  await t.rejects(
    train(pool(pool3, { kind: 'throw', step: 2, shard: 2, times: Infinity }), 3, { checkpointFile: file, onStep: (s) => s === 2 && (saved = readFileSync(file, 'utf8')) }),
    { name: 'TrainingError', message: new RegExp(`^step 2: shard 2 of 3 \\(${shardGraphs(2, 2, 3)} graphs\\) failed 3 times; last error: injected fault at step 2, shard 2, hit 3$`) },
  );
  t.equal(retryLog.length, 2, 'two retries before giving up');
  t.ok(saved, 'a checkpoint was written after step 2');
  t.equal(readFileSync(file, 'utf8'), saved, 'the checkpoint file is unchanged');
  const ckpt = loadCheckpoint(file);
  t.equal(ckpt.step, 2);
  const twoSteps = await train(pool(pool3), 3, { steps: 2 });
  t.same(Array.from(ckpt.params), Array.from(twoSteps.params), 'it holds the parameters after step 2');
});

t.test('a NaN loss stops the run with its step number; the good steps before it are saved', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-actors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'checkpoint.json');
  let saved: string | null = null;
  await t.rejects(train(pool(pool2, { kind: 'nan', step: 3, shard: 1, times: Infinity }), 2, { checkpointFile: file, onStep: (s) => s === 2 && (saved = readFileSync(file, 'utf8')) }), {
    name: 'TrainingError',
    message: /^step 3: the loss is NaN; parameters were not updated$/,
  });
  t.ok(saved, 'a checkpoint was written after step 2');
  const ckpt = loadCheckpoint(file);
  t.equal(ckpt.step, 3, 'step 3, the last good one, was saved when the run failed');
  const threeSteps = await train(pool(pool2), 2, { steps: 3 });
  t.same(Array.from(ckpt.params), Array.from(threeSteps.params), 'it holds the parameters after step 3');
});

t.test('a hung worker is terminated after train.taskTimeoutSeconds and its shard re-run; the result is the fault-free one', async (t) => {
  // a pool that gives up on a task after 10 s instead of 120
  const faulty = await train(pool(faultyPool(2, 10), { kind: 'hang', step: 1, shard: 1, times: 1 }), 2);
  const log = retryLog;
  t.same(Array.from(faulty.params), Array.from(runs.pool2.params), 'same parameters as without the fault');
  t.same(faulty.losses, runs.pool2.losses);
  t.equal(log.length, 1, 'one retry reported');
  t.match(log[0], new RegExp(`^step 1: shard 1 of 2 \\(${shardGraphs(1, 1, 2)} graphs\\) failed \\(no answer within 10 s; its worker was terminated\\); retrying, attempt 2 of 3$`));
});
