/**
 * The coordinator's faults against a real redis-server: SIGKILLed, it resumes from its last
 * checkpoint under a new run id, and the dead run's keys all expire; with Redis stopped it says
 * so, waits --redis-timeout, saves the steps it made since its last checkpoint and exits
 * non-zero, and --resume continues from there bit-identically.
 */
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadCheckpoint } from '../pipeline/checkpoint';
import { haveRedis, runCli, startRedis, startWorkers, stopWorkers, type Proc } from '../bench/redis-server';

const dir = mkdtempSync(join(tmpdir(), 'dgmg-cluster-faults-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// 60 small cycles, batches of 10, 4 epochs: 24 steps of 2 shards, a checkpoint every 3.
const configFile = join(dir, 'config.json');
writeFileSync(
  configFile,
  JSON.stringify({
    data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 60, testSize: 10 },
    train: { epochs: 4, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 2, checkpointEvery: 3 },
  }),
);
// The same run with no checkpoint of its own before the end: only a failure makes one mid-run.
const rareFile = join(dir, 'rare.json');
writeFileSync(
  rareFile,
  JSON.stringify({
    data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 60, testSize: 10 },
    train: { epochs: 4, batchSize: 10, lr: 0.005, clipNorm: 1, seed: 2, checkpointEvery: 1000, checkpointSeconds: 3600 },
  }),
);
const ckptFile = (out: string): string => join(dir, out, 'checkpoint.json');
const trainArgs = (out: string, extra: string[] = []): string[] => ['train', '--config', configFile, '--out', join(dir, out), '--workers', '2', '--json', '--quiet', ...extra];
const finished = async (p: Proc): Promise<void> => {
  const { code } = await p.exit;
  if (code !== 0) throw new Error(`exit ${code}:\n${p.stderr()}`);
};
/** Resolves once `file` exists. */
const appears = async (file: string): Promise<void> => {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
};
const sameState = (t: Test, a: string, b: string): void => {
  const x = loadCheckpoint(a);
  const y = loadCheckpoint(b);
  t.equal(x.step, y.step, `both at step ${y.step}`);
  t.ok(Buffer.from(x.params.buffer).equals(Buffer.from(y.params.buffer)), 'parameters equal bit for bit');
  t.ok(Buffer.from(x.adam.m.buffer).equals(Buffer.from(y.adam.m.buffer)) && Buffer.from(x.adam.v.buffer).equals(Buffer.from(y.adam.v.buffer)), 'Adam state equal bit for bit');
};

t.test('setup', { skip: haveRedis() ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)' }, async (t) => {
  await finished(runCli(trainArgs('local')));

  t.test('the coordinator SIGKILLed: train --resume continues from the last checkpoint; the dead run is ignored and expires', async (t) => {
    const redis = await startRedis();
    const ws = await startWorkers(2, redis.url);
    const db = new Redis(redis.port, redis.host);
    try {
      const first = runCli(trainArgs('killed', ['--redis', redis.url]));
      await appears(ckptFile('killed'));
      first.child.kill('SIGKILL');
      t.match(await first.exit, { signal: 'SIGKILL' });
      const dead = /run ([0-9a-f]{16})/.exec(ws.map((w) => w.stderr()).join(''))?.[1] as string;
      t.ok(dead, `the dead run's id: ${dead}`);
      const left = await db.keys(`dgmg:${dead}:*`);
      const ttls = await Promise.all(left.map((k) => db.pttl(k)));
      t.ok(ttls.every((ms) => ms > 0), `every key the dead run left (${left.length}) expires: ${left.map((k, i) => `${k} ${ttls[i]} ms`).join(', ')}`);
      const stoppedAt = loadCheckpoint(ckptFile('killed')).step;
      t.ok(stoppedAt > 0 && stoppedAt < 24, `killed after step ${stoppedAt}`);

      const resumed = runCli(['train', '--resume', join(dir, 'killed'), '--workers', '2', '--json', '--quiet', '--redis', redis.url]);
      await finished(resumed);
      t.match(JSON.parse(resumed.stdout()), { completed: true, steps: 24 });
      const runs = new Set(ws.flatMap((w) => [...w.stderr().matchAll(/run ([0-9a-f]{16})/g)].map((m) => m[1])));
      t.equal(runs.size, 2, 'the resumed coordinator has a run id of its own');
      sameState(t, ckptFile('local'), ckptFile('killed'));
    } finally {
      db.disconnect();
      await stopWorkers(ws);
      await redis.stop();
    }
  });

  t.test('Redis stopped mid-run: the coordinator says so, waits --redis-timeout, saves the steps it made and exits non-zero; --resume continues bit-identically', async (t) => {
    const redis = await startRedis();
    const ws = await startWorkers(2, redis.url, ['--verbose']);
    let run: Proc;
    try {
      run = runCli(['train', '--config', rareFile, '--out', join(dir, 'lost'), '--workers', '2', '--json', '--quiet', '--redis', redis.url, '--redis-timeout', '1.5']);
      await Promise.race(ws.map((w) => w.waitFor(/step 5 shard \d of 2 \(\d+ graphs\): done/)));
      await redis.stop();
      const { code } = await run.exit;
      t.equal(code, 1, 'exit status 1');
    } finally {
      await stopWorkers(ws);
    }
    t.match(run.stderr(), /lost Redis at redis:\/\/127\.0\.0\.1:\d+ \(.*\); waiting up to 1\.5 s for it \(--redis-timeout\)/);
    const said = /Redis at redis:\/\/127\.0\.0\.1:\d+ has been unreachable for \d+ s \(--redis-timeout 1\.5\); stopping; step (\d+) is saved in (.*) \(continue with: dgmg-pipe train --resume (.*)\)\n/.exec(run.stderr());
    t.ok(said, `the last line says what is saved and how to go on:\n${run.stderr()}`);
    const kept = loadCheckpoint(ckptFile('lost'));
    t.equal(String(kept.step), said?.[1], `the checkpoint holds step ${kept.step}, the last step made`);
    t.ok(kept.step >= 5 && kept.step < 24, 'a step the config would not have saved (checkpointEvery 1000)');
    t.equal(said?.[3], join(dir, 'lost'));

    const again = await startRedis();
    const rescuers = await startWorkers(2, again.url);
    try {
      const resumed = runCli(['train', '--resume', join(dir, 'lost'), '--workers', '2', '--json', '--quiet', '--redis', again.url]);
      await finished(resumed);
      t.match(JSON.parse(resumed.stdout()), { completed: true, steps: 24 });
    } finally {
      await stopWorkers(rescuers);
      await again.stop();
    }
    sameState(t, ckptFile('local'), ckptFile('lost'));
  });
});
