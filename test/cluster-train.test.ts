/**
 * The cluster against a real redis-server and worker host processes: the checkpoint is
 * bit-identical to the in-process run with the same shard count, whoever computed what, with
 * duplicated tasks and with a worker SIGKILLed mid-shard (announced when its lease runs out);
 * sampled files are byte-identical; a coordinator without workers says it waits, and its first
 * Ctrl-C returns leaving nothing behind; a host serving two runs of two model shapes keeps a pool
 * for each; hosts log a line per run by default; foreign tasks are refused.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CLUSTER_FORMAT, encodeParamsBlob, encodeShardBlob, keys, QUEUE_NAME } from '../actors/cluster-protocol';
import { encodeGraph } from '../graphs/sequence';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { haveRedis, leftovers, runCli, startRedis, startWorkers, stopWorkers, type Proc, type RedisServer } from '../bench/redis-server';

/** A worker host with a fault armed by --fault (test/fixtures/faulty-worker-host.ts). */
const FAULTY_HOST = join(__dirname, 'fixtures', 'faulty-worker-host.js');

if (!haveRedis()) {
  t.plan(0, 'redis-server is not installed (apt-get install redis-server; .ci/run does it)');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-cluster-train-'));
  let redis: RedisServer;
  t.before(async () => {
    redis = await startRedis();
  });
  t.teardown(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // 40 small cycles, batches of 10, 2 epochs: 8 steps of 3 shards.
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 40, testSize: 10 },
      train: { epochs: 2, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 1, checkpointEvery: 4 },
    }),
  );
  const trainArgs = (out: string, extra: string[] = []): string[] => ['train', '--config', configFile, '--out', join(dir, out), '--workers', '3', '--json', '--quiet', ...extra];
  const finished = async (p: Proc): Promise<void> => {
    const { code } = await p.exit;
    if (code !== 0) throw new Error(`exit ${code}:\n${p.stderr()}`);
  };

  /** Parameters and Adam state of two checkpoints, equal bit for bit. */
  const sameCheckpoint = (t: Test, a: string, b: string): void => {
    const x = loadCheckpoint(join(dir, a, 'checkpoint.json'));
    const y = loadCheckpoint(join(dir, b, 'checkpoint.json'));
    t.equal(x.step, y.step, 'same step');
    t.equal(x.graphsSeen, y.graphsSeen);
    t.ok(Buffer.from(x.params.buffer).equals(Buffer.from(y.params.buffer)), `${a} and ${b}: parameters equal bit for bit`);
    t.ok(Buffer.from(x.adam.m.buffer).equals(Buffer.from(y.adam.m.buffer)) && Buffer.from(x.adam.v.buffer).equals(Buffer.from(y.adam.v.buffer)), 'Adam state equal bit for bit');
    t.equal(x.adam.t, y.adam.t);
  };

  t.before(async () => {
    await finished(runCli(trainArgs('local')));
  });

  t.test('2 worker hosts, 3 shards a step: the checkpoint equals the in-process --workers 3 run; the run leaves no keys', async (t) => {
    const ws = await startWorkers(2, redis.url, ['--verbose']);
    try {
      const run = runCli(trainArgs('cluster', ['--redis', redis.url]));
      await finished(run);
      t.match(JSON.parse(run.stdout()), { completed: true, steps: 8, workers: 3 });
    } finally {
      await stopWorkers(ws);
    }
    sameCheckpoint(t, 'local', 'cluster');
    const logs = ws.map((w) => w.stderr());
    t.equal(logs.join('').match(/step \d+ shard \d of 3 \(\d+ graphs\): done/g)?.length, 24, '24 shards computed, one log line each');
    t.ok(logs.every((l) => /done in/.test(l)), 'both hosts computed shards');
    const db = new Redis(redis.port, redis.host);
    t.same(await db.keys('dgmg:*'), [], 'no dgmg:* keys left');
    t.same(await leftovers(db).finally(() => db.disconnect()), [], 'no job left in the queue, no key without a TTL but the queue\'s own');
    for (const w of ws) t.match(await w.exit, { code: 0 }, 'a worker exits 0 on SIGTERM');
  });

  t.test('worker hosts log a line per run by default, a line per task with --verbose, only faults with --quiet', async (t) => {
    const [normal, quiet] = [...(await startWorkers(1, redis.url)), ...(await startWorkers(1, redis.url, ['--quiet']))];
    try {
      await finished(runCli(trainArgs('logs', ['--redis', redis.url])));
    } finally {
      await stopWorkers([normal, quiet]);
    }
    const lines = (w: Proc): string[] => w.stderr().trim().split('\n');
    t.match(normal.stderr(), /run [0-9a-f]{16}: training tasks \(model nodeSize 16, 2 rounds\)/, 'the run is announced');
    t.match(normal.stderr(), /since the last report: \d+ tasks? done, \d+ ms each, 0 failed, for 1 run; 0 pools open/, 'a summary at the end');
    t.notMatch(normal.stderr(), /done in/, 'no line per task');
    t.equal(lines(normal).length, 5, `connected, the run, SIGTERM, the summary, stopped:\n${normal.stderr()}`);
    t.same(lines(quiet).map((l) => l.replace(/ .*/, '')), ['dgmg-pipe', 'dgmg-pipe', 'dgmg-pipe'], `connected, SIGTERM, stopped:\n${quiet.stderr()}`);
    t.notMatch(quiet.stderr(), /run [0-9a-f]{16}|done|report/);
  });

  t.test('tasks computed several times (--task-timeout 0.1): one copy used, one step per version, same checkpoint', async (t) => {
    // the three shards of step 3 each take 0.5 s, so every one of them is sent again and copies are computed
    const ws = await startWorkers(2, redis.url, ['--lease', '30', '--fault', 'slow:3:3'], { script: FAULTY_HOST });
    let run: Proc;
    try {
      run = runCli(trainArgs('dup', ['--redis', redis.url, '--task-timeout', '0.1']));
      await finished(run);
    } finally {
      await stopWorkers(ws);
    }
    t.match(run.stderr(), /not answered in 0.1 s \(--task-timeout\); sending another copy/);
    t.match(run.stderr(), /step 3 shard \d of 3 \(\d+ graphs\) not answered in 0.1 s/);
    const computed = ws.map((w) => w.stderr()).join('').match(/: done in/g)?.length ?? 0;
    t.ok(computed > 24, `${computed} computations of 24 tasks`);
    t.match(JSON.parse(run.stdout()), { steps: 8 });
    sameCheckpoint(t, 'local', 'dup');
  });

  t.test('a worker host SIGKILLed mid-shard: the shard is computed again by another host, the checkpoint is unchanged', async (t) => {
    // The doomed host is alone at first, so it is the one that takes step 2's first shard, and dies holding it.
    const [doomed] = await startWorkers(1, redis.url, ['--lease', '1', '--fault', 'killProcess:2:1'], { script: FAULTY_HOST });
    const run = runCli(trainArgs('killed', ['--redis', redis.url]));
    t.match(await doomed.exit, { signal: 'SIGKILL' }, 'the host died of SIGKILL');
    t.match(doomed.stderr(), /step 1 shard 3 of 3/);
    t.notMatch(doomed.stderr(), /step 2 shard \d of 3 \(\d+ graphs\): done/);
    const rescuers = await startWorkers(2, redis.url, ['--lease', '1', '--verbose']);
    try {
      await finished(run);
    } finally {
      await stopWorkers(rescuers);
    }
    t.match(rescuers.map((w) => w.stderr()).join(''), /step 2 shard 1 of 3 \(\d+ graphs\): done/, 'another host computed the shard');
    t.match(run.stderr(), /step 2 shard 1 of 3 \(\d+ graphs\) lost its worker host \(the lease ran out: the host died or froze\); sending it again \(attempt 2 of 3\)/, 'the coordinator announced the lost task');
    sameCheckpoint(t, 'local', 'killed');
  });

  t.test('no worker connected: the coordinator says it waits; a worker that comes later finishes the run', async (t) => {
    const run = runCli(trainArgs('late', ['--redis', redis.url]));
    await run.waitFor(/waiting for workers: 3 tasks queued, no worker connected to redis:\/\/127\.0\.0\.1:\d+ \(start one with: dgmg-pipe worker --redis URL\)/);
    const ws = await startWorkers(1, redis.url);
    try {
      await finished(run);
    } finally {
      await stopWorkers(ws);
    }
    sameCheckpoint(t, 'local', 'late');
  });

  t.test('Ctrl-C with no worker connected: the first one returns, the run stops after its last step, nothing is left in Redis', { timeout: 60_000 }, async (t) => {
    const own = await startRedis();
    const db = new Redis(own.port, own.host);
    try {
      const run = runCli(trainArgs('interrupted', ['--redis', own.url]));
      await run.waitFor(/waiting for workers: 3 tasks queued/);
      run.child.kill('SIGINT');
      t.match(await run.exit, { code: 130 }, 'exit status 130');
      t.match(run.stderr(), /no worker host connected to redis:\/\/127\.0\.0\.1:\d+: the 3 tasks in flight are given up/);
      t.match(run.stderr(), /stopped early at step 0; continue with: dgmg-pipe train --resume /);
      t.same(await leftovers(db), [], 'no job left in the queue, no key without a TTL but the queue\'s own');
      t.same(await db.keys('dgmg:*'), [], 'no dgmg:* keys left');
    } finally {
      db.disconnect();
      await own.stop();
    }
  });

  t.test('two runs of two model shapes at once on one host: a pool for each, opened once; both finish', async (t) => {
    const own = await startRedis();
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), model: { nodeSize: 8, propRounds: 1 } }));
    const [w] = await startWorkers(1, own.url, ['--threads', '2', '--verbose']);
    try {
      const runs = [runCli(trainArgs('shapeA', ['--redis', own.url])), runCli(['train', '--config', small, '--out', join(dir, 'shapeB'), '--workers', '3', '--json', '--quiet', '--redis', own.url])];
      await Promise.all(runs.map(finished));
    } finally {
      await stopWorkers([w]);
      await own.stop();
    }
    t.equal(w.stderr().match(/opened a pool of 2 threads for training, model nodeSize 16, 2 rounds/g)?.length, 1, 'one pool for nodeSize 16');
    t.equal(w.stderr().match(/opened a pool of 2 threads for training, model nodeSize 8, 1 rounds/g)?.length, 1, 'one pool for nodeSize 8');
    t.equal(w.stderr().match(/: done in/g)?.length, 48, 'all 48 shards computed');
    sameCheckpoint(t, 'local', 'shapeA');
  });

  t.test('sampling through the cluster writes the same file as in process', async (t) => {
    const model = join(dir, 'local', 'checkpoint.json');
    const sample = async (out: string, extra: string[]): Promise<string> => {
      const p = runCli(['sample', '--model', model, '--n', '250', '--seed', '4', '--out', join(dir, out), '--quiet', ...extra]);
      await finished(p);
      t.notMatch(p.stderr(), /warning/, `no warning from ${extra.join(' ')}`);
      return readFileSync(join(dir, out), 'utf8');
    };
    const local = await sample('local.jsonl', ['--workers', '1']);
    const ws = await startWorkers(2, redis.url);
    try {
      // more chunks in flight than this machine has cores: they are computed on the hosts, so no warning
      const remote = await sample('cluster.jsonl', ['--workers', String(availableParallelism() + 1), '--redis', redis.url]);
      t.equal(remote.split('\n').length, 251);
      t.ok(remote === local, 'byte-identical files');
    } finally {
      await stopWorkers(ws);
    }
  });

  t.test('a task of another format, model shape or dead run is refused or dropped with a clear message', async (t) => {
    const ws = await startWorkers(1, redis.url);
    const queue = new Queue(QUEUE_NAME, { connection: { host: redis.host, port: redis.port } });
    const db = new Redis(redis.port, redis.host);
    try {
      const run = 'feedfacefeedface';
      const model = { nodeSize: 16, propRounds: 2 };
      const task = { format: CLUSTER_FORMAT, kind: 'train', run, model, version: 0, shard: 0, shards: 1, graphs: 1 };
      await db.set(keys.alive(run), '1', 'EX', 60);
      await db.set(keys.params(run, 0), encodeParamsBlob(0, new Float32Array(100)), 'EX', 60);
      await db.set(keys.shard(run, 0, 0), encodeShardBlob(0, 0, [encodeGraph({ numNodes: 3, edges: [[0, 1]] })]), 'EX', 60);
      await queue.add('train', { ...task, format: CLUSTER_FORMAT + 1 }, { jobId: 'foreign-format', removeOnFail: true });
      await ws[0].waitFor(new RegExp(`refused task foreign-format: task format ${CLUSTER_FORMAT + 1}, this worker speaks format ${CLUSTER_FORMAT}`));
      await queue.add('train', { ...task, model: { ...model, hook: 'x' } }, { jobId: 'foreign-model', removeOnFail: true });
      await ws[0].waitFor(/refused task foreign-model: task model has unknown fields hook/);
      await queue.add('train', task, { jobId: 'other-shape', removeOnFail: true });
      await ws[0].waitFor(/run feedfacefeedface step 0 shard 1 of 1 \(1 graphs\): refused: task parameters: 100 parameters, the task's model has \d+ \(another model shape\?\)/);
      await queue.add('train', { ...task, run: 'deaddeaddeaddead' }, { jobId: 'dead-run', removeOnComplete: true });
      await ws[0].waitFor(/run deaddeaddeaddead step 0 shard 1 of 1 \(1 graphs\): dropped, the run has ended/);
      t.equal(await db.exists(keys.grad(run, 0, 0)), 0, 'no answer written for a refused task');
    } finally {
      await queue.close();
      db.disconnect();
      await stopWorkers(ws);
    }
    t.match(await ws[0].exit, { code: 0 }, 'the worker lives on after refusals and exits 0');
  });
}
