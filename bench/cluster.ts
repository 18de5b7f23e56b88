import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisShardRunner } from '../actors/cluster-runner';
import { KEY_TTL_SECONDS } from '../actors/cluster-protocol';
import { TrainPool } from '../actors/pool';
import { paramLayout } from '../model/params';
import { configFromJson, type RunConfig } from '../pipeline/config';
import { loadDataset } from '../pipeline/dataset';
import { trainSteps } from '../pipeline/train';
import type { ShardRunner } from '../pipeline/runner';
import { startRedis, startWorkers, stopWorkers } from './redis-server';

/**
 * `npm run bench:cluster` (under `flock -x /tmp/dgmg-cpu.lock`): training graphs/s at batch 256
 * with 2 shards a step on this machine's 2 cores, the in-process pool (2 threads) against the
 * cluster with 1 worker host of 2 threads and with 2 hosts of 1 thread, all through a local
 * redis-server; and the transport cost of a step (cluster minus pool, on a batch of 2 one-graph
 * shards, so compute is small) for today's model and a ~1M-parameter one (nodeSize 170).
 */

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

/** Seconds per step over `steps` steps after `warm` warm-up steps. */
async function secondsPerStep(config: RunConfig, runner: ShardRunner, shards: number, warm: number, steps: number): Promise<number> {
  const data = await loadDataset(config, 0);
  let t0 = 0;
  await trainSteps({ config, data, checkpointFile: null, resume: null, runner, shards, stopAtStep: warm + steps, stopRequested: () => false }, (r) => {
    if (r.step === warm) t0 = performance.now();
  });
  return (performance.now() - t0) / 1000 / steps;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const redis = await startRedis();
  const cluster = { url: redis.url, caFile: null, redisTimeoutMs: 30_000, taskTimeoutMs: 600_000, ttlSeconds: KEY_TTL_SECONDS, log };
  const rows: Array<{ what: string; graphsPerSecond: number }> = [];
  const transport: Array<{ model: string; params: number; poolMsPerStep: number; clusterMsPerStep: number; transportMs: number }> = [];
  try {
    const batch = 256;
    const steps = quick ? 4 : 16;
    const config = configFromJson({ train: { batchSize: batch, epochs: 1000, checkpointEvery: 1_000_000 }, data: { trainSize: 2000, testSize: 0 } }, 'bench');
    const pool = new TrainPool(config, 2);
    rows.push({ what: 'pool, 2 threads', graphsPerSecond: batch / (await secondsPerStep(config, pool, 2, 3, steps).finally(() => pool.close())) });
    for (const [hosts, threads] of [[1, 2], [2, 1]]) {
      const ws = await startWorkers(hosts, redis.url, ['--threads', String(threads)]);
      try {
        const runner = new RedisShardRunner(config, cluster);
        const s = await secondsPerStep(config, runner, 2, 3, steps).finally(() => runner.close());
        rows.push({ what: `cluster, ${hosts} host${hosts > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}`, graphsPerSecond: batch / s });
      } finally {
        await stopWorkers(ws);
      }
    }
    const ws = await startWorkers(1, redis.url, ['--threads', '2']);
    try {
      for (const nodeSize of [16, 170]) {
        const small = configFromJson({ model: { nodeSize, propRounds: 2 }, train: { batchSize: 2, epochs: 1000, checkpointEvery: 1_000_000 }, data: { trainSize: 200, testSize: 0 } }, 'bench');
        const n = quick ? 10 : 40;
        const p = new TrainPool(small, 2);
        const poolS = await secondsPerStep(small, p, 2, 3, n).finally(() => p.close());
        const runner = new RedisShardRunner(small, cluster);
        const clusterS = await secondsPerStep(small, runner, 2, 3, n).finally(() => runner.close());
        transport.push({ model: `nodeSize ${nodeSize}`, params: paramLayout(small.model).total, poolMsPerStep: +(poolS * 1000).toFixed(1), clusterMsPerStep: +(clusterS * 1000).toFixed(1), transportMs: +((clusterS - poolS) * 1000).toFixed(1) });
      }
    } finally {
      await stopWorkers(ws);
    }
  } finally {
    await redis.stop();
  }
  const pool = rows[0].graphsPerSecond;
  process.stdout.write('training at batch 256, 2 shards a step      graphs/s  of pool\n');
  for (const r of rows) process.stdout.write(`${r.what.padEnd(42)} ${String(Math.round(r.graphsPerSecond)).padStart(8)}  ${((100 * r.graphsPerSecond) / pool).toFixed(0).padStart(5)}%\n`);
  process.stdout.write('transport per step (2 one-graph shards)     params  pool ms  cluster ms  transport ms\n');
  for (const x of transport) process.stdout.write(`${x.model.padEnd(42)} ${String(x.params).padStart(7)} ${String(x.poolMsPerStep).padStart(8)} ${String(x.clusterMsPerStep).padStart(11)} ${String(x.transportMs).padStart(13)}\n`);
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, quick ? 'cluster-quick.json' : 'cluster.json'), `${JSON.stringify({ date: new Date().toISOString(), quick, node: process.version, rows, transport }, null, 2)}\n`);
}

void main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
