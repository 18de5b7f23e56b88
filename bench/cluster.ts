import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisShardRunner } from '../actors/cluster-runner';
import { KEY_TTL_SECONDS } from '../actors/cluster-protocol';
import { TrainPool } from '../actors/pool';
import { paramLayout } from '../model/params';
import { configFromJson, type RunConfig } from '../pipeline/config';
import { loadDataset } from '../pipeline/dataset';
import { trainSteps } from '../pipeline/train';
import type { ShardRunner } from '../pipeline/runner';
import { runCli, startRedis, startWorkers, stopWorkers } from './redis-server';

/**
 * `npm run bench:cluster` (with no other benchmark running): training graphs/s at batch 256
 * with 2 shards a step on this machine's 2 cores, the in-process pool (2 threads) against the
 * cluster with 1 worker host of 2 threads and with 2 hosts of 1 thread, all through a local
 * redis-server; and the transport cost of a step (cluster minus pool, on a batch of 2 one-graph
 * shards, so compute is small) for today's model and a ~1M-parameter one (nodeSize 170).
 *
 * `--two-runs` measures instead two coordinators (`train --redis` processes) of two model shapes
 * served by one worker host of 2 threads: each run's wall time alone and side by side.
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

const resultsDir = join(__dirname, '..', '..', 'bench', 'results');

/** Seconds of a `train` process from start to exit (it must succeed). */
async function trainSeconds(args: string[]): Promise<number> {
  const t0 = performance.now();
  const p = runCli(['train', ...args]);
  const { code } = await p.exit;
  if (code !== 0) throw new Error(`train ${args.join(' ')} exited ${code}:\n${p.stderr()}`);
  return (performance.now() - t0) / 1000;
}

async function twoRuns(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dgmg-bench-two-runs-'));
  const redis = await startRedis();
  const [host] = await startWorkers(1, redis.url, ['--threads', '2']);
  try {
    // 1200 cycles, batches of 10, 2 epochs: 240 steps of 2 shards each, for two model shapes.
    const runs = [
      { name: 'nodeSize 16, 2 rounds', model: { nodeSize: 16, propRounds: 2 } },
      { name: 'nodeSize 24, 3 rounds', model: { nodeSize: 24, propRounds: 3 } },
    ].map((r, i) => {
      const config = join(dir, `config-${i}.json`);
      writeFileSync(config, JSON.stringify({ model: r.model, data: { family: 'cycles', familyParams: { minNodes: 5, maxNodes: 12 }, trainSize: 1200, testSize: 10 }, train: { epochs: 2, batchSize: 10, seed: 1, checkpointEvery: 1000 } }));
      return { ...r, args: (out: string) => ['--config', config, '--out', join(dir, out), '--workers', '2', '--quiet', '--redis', redis.url] };
    });
    const alone: number[] = [];
    for (const [i, r] of runs.entries()) alone.push(await trainSeconds(r.args(`alone-${i}`)));
    const together = await Promise.all(runs.map((r, i) => trainSeconds(r.args(`together-${i}`))));
    const rows = runs.map((r, i) => ({ model: r.name, aloneSeconds: +alone[i].toFixed(2), togetherSeconds: +together[i].toFixed(2), ratio: +(together[i] / alone[i]).toFixed(2) }));
    process.stdout.write('two runs on one worker host of 2 threads     alone s  together s  ratio\n');
    for (const x of rows) process.stdout.write(`${x.model.padEnd(42)} ${String(x.aloneSeconds).padStart(8)} ${String(x.togetherSeconds).padStart(11)} ${String(x.ratio).padStart(6)}\n`);
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'cluster-two-runs.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2)}\n`);
  } finally {
    await stopWorkers([host]);
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--two-runs')) return twoRuns();
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
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, quick ? 'cluster-quick.json' : 'cluster.json'), `${JSON.stringify({ date: new Date().toISOString(), quick, node: process.version, rows, transport }, null, 2)}\n`);
}

void main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
