/**
 * A worker host (`dgmg-pipe worker --redis URL`): pulls train and sample tasks of any run from the
 * shared BullMQ queue and computes them on its own Piscina threads (TrainPool, SamplePool), so
 * this process's event loop stays free to renew the BullMQ locks of the tasks in hand. A host
 * that dies stops renewing: when the lock (the lease, `--lease`) runs out, the stalled-job check
 * of any live host puts the task back in the queue and someone else computes it.
 */
import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { paramLayout, type ModelConfig } from '../model/params';
import { configFromJson } from '../pipeline/config';
import { SamplePool, TrainPool, type PoolOptions } from './pool';
import {
  decodeParamsBlob,
  decodeShardBlob,
  describeTask,
  encodeGradientsBlob,
  encodeGraphsBlob,
  keys,
  parseTask,
  QUEUE_NAME,
  redisOptions,
  redisWhere,
  resultKey,
  TaskRefused,
  type RedisTarget,
  type SampleChunkTask,
  type TrainShardTask,
} from './cluster-protocol';

export interface WorkerHostOptions extends RedisTarget {
  /** Tasks computed at once, each on its own thread. */
  readonly threads: number;
  /** Tests only: the training worker file the host's threads run (default: the real one). */
  readonly trainWorker?: PoolOptions['worker'];
  /** BullMQ lock duration: a task whose host stops renewing for this long is computed again elsewhere. */
  readonly leaseMs: number;
  /** How long results stay in Redis if nobody collects them. */
  readonly ttlSeconds: number;
  readonly log: (line: string) => void;
}

/** Pools keyed by what they hold, closed once idle and superseded (memory stays flat over many runs). */
class PoolCache<P extends { close(): Promise<void> }> {
  private readonly pools = new Map<string, { pool: P; users: number }>();
  private latest = '';

  async use<R>(key: string, make: () => P, work: (pool: P) => Promise<R>): Promise<R> {
    let e = this.pools.get(key);
    if (!e) this.pools.set(key, (e = { pool: make(), users: 0 }));
    this.latest = key;
    e.users++;
    try {
      return await work(e.pool);
    } finally {
      e.users--;
      await this.prune();
    }
  }

  private async prune(): Promise<void> {
    for (const [k, e] of this.pools) {
      if (k !== this.latest && e.users === 0) {
        this.pools.delete(k);
        await e.pool.close();
      }
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.close()));
  }
}

/** Runs until SIGINT or SIGTERM; then finishes the tasks in hand and resolves. A second signal exits at once. */
export async function runWorkerHost(o: WorkerHostOptions): Promise<void> {
  const where = redisWhere(o.url);
  const opts = redisOptions(o);
  const blobs = new Redis(opts);
  const train = new PoolCache<TrainPool>();
  const sample = new PoolCache<SamplePool>();
  let redisDown = false;
  blobs.on('error', (e: Error) => {
    if (!redisDown) o.log(`lost Redis at ${where} (${e.message}); reconnecting`);
    redisDown = true;
  });
  blobs.on('ready', () => {
    if (redisDown) o.log(`Redis at ${where} is back`);
    redisDown = false;
  });

  const computeTrain = async (t: TrainShardTask): Promise<Buffer> => {
    const total = paramLayout(t.model).total;
    const [p, s] = await blobs.mgetBuffer(keys.params(t.run, t.version), keys.shard(t.run, t.version, t.shard));
    if (!p || !s) throw new Error(`the inputs of ${describeTask(t)} are gone from Redis (expired, or Redis lost its data)`);
    const params = decodeParamsBlob(p, t.version, total, 'task parameters');
    const seqs = decodeShardBlob(s, t, 'task shard');
    const [g] = await train.use(
      JSON.stringify(t.model),
      () => new TrainPool(modelRunConfig(t.model), o.threads, { log: o.log, worker: o.trainWorker }),
      (pool) => pool.run(t.version, params, [seqs]),
    );
    return encodeGradientsBlob(t.version, t.shard, g);
  };

  const computeSample = async (t: SampleChunkTask): Promise<Buffer> => {
    const p = await blobs.getBuffer(keys.params(t.run, 0));
    if (!p) throw new Error(`the parameters of ${describeTask(t)} are gone from Redis (expired, or Redis lost its data)`);
    const params = decodeParamsBlob(p, 0, paramLayout(t.model).total, 'task parameters');
    const graphs = await sample.use(t.run, () => new SamplePool(modelRunConfig(t.model), params, o.threads, { log: o.log }), (pool) => pool.chunk(t.seed, t.from, t.count, t.vMax));
    return encodeGraphsBlob(t.from, graphs);
  };

  const processTask = async (job: Job): Promise<string> => {
    let t;
    try {
      t = parseTask(job.data);
    } catch (e) {
      o.log(`refused task ${job.id}: ${(e as Error).message}`);
      throw e;
    }
    // A task of a run whose coordinator is gone is dropped, not computed: nobody would read the answer.
    if (!(await blobs.exists(keys.alive(t.run)))) {
      o.log(`${describeTask(t)}: dropped, the run has ended`);
      return 'dropped';
    }
    const started = Date.now();
    try {
      const answer = t.kind === 'train' ? await computeTrain(t) : await computeSample(t);
      // NX: the first answer stays; a second computation of the same task gives the same bytes anyway.
      await blobs.set(resultKey(t), answer, 'EX', o.ttlSeconds, 'NX');
    } catch (e) {
      o.log(`${describeTask(t)}: ${e instanceof TaskRefused ? 'refused' : 'failed'}: ${(e as Error).message}`);
      throw e;
    }
    o.log(`${describeTask(t)}: done in ${Date.now() - started} ms`);
    return 'done';
  };

  const worker = new Worker(QUEUE_NAME, processTask, {
    connection: opts,
    concurrency: o.threads,
    lockDuration: o.leaseMs,
    stalledInterval: o.leaseMs,
    // A task that keeps killing its hosts still ends (failed) and the coordinator hears of it.
    maxStalledCount: 3,
    name: `${hostname()}:${process.pid}`,
  });
  worker.on('error', (e: Error) => {
    if (!redisDown) o.log(`queue error: ${e.message}`);
  });
  await worker.waitUntilReady();
  o.log(`connected to ${where}; computing tasks on ${o.threads} thread${o.threads === 1 ? '' : 's'} (Ctrl-C finishes the tasks in hand and exits)`);

  await new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) process.exit(130);
      stopping = true;
      o.log(`${sig}: finishing the tasks in hand (again to abort)`);
      resolve();
    };
    let stopping = false;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  // With Redis away the tasks in hand cannot be handed back (their leases run out and others take
  // them): BullMQ's graceful close would wait for Redis, so it is forced.
  await (redisDown ? worker.close(true).catch(() => undefined) : worker.close());
  await Promise.all([train.close(), sample.close()]);
  blobs.disconnect();
  o.log('stopped');
}

/** A TrainPool needs a run config; only its model part matters to the pool. */
function modelRunConfig(model: ModelConfig): ReturnType<typeof configFromJson> {
  return configFromJson({ model }, 'task model');
}
