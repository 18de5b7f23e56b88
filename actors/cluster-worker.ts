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
  accessDenied,
  accessDeniedMessage,
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
  type ClusterTask,
  type RedisTarget,
  type SampleChunkTask,
  type TrainShardTask,
} from './cluster-protocol';

/** What a worker host prints: faults only, one line per run and per minute, or one per task too. */
export type WorkerLogLevel = 'quiet' | 'normal' | 'verbose';

export interface WorkerHostOptions extends RedisTarget {
  /** Tasks computed at once, each on its own thread. */
  readonly threads: number;
  /** Tests only: the training worker file the host's threads run (default: the real one). */
  readonly trainWorker?: PoolOptions['worker'];
  /** BullMQ lock duration: a task whose host stops renewing for this long is computed again elsewhere. */
  readonly leaseMs: number;
  /** How long results stay in Redis if nobody collects them. */
  readonly ttlSeconds: number;
  readonly logLevel: WorkerLogLevel;
  readonly log: (line: string) => void;
}

/** Pools kept at once per kind (train: one per model shape; sample: one per run). */
export const MAX_POOLS = 4;
/** A pool unused this long is closed, so memory falls back once its runs have ended. */
const POOL_IDLE_MS = 5 * 60_000;
/** How often the host reports what it did (and closes idle pools). */
const REPORT_MS = 60_000;

/**
 * Pools keyed by what they hold (a model shape, a run), so runs served side by side each keep
 * theirs: at most MAX_POOLS, the least recently used idle one closed to make room, and any pool
 * idle for POOL_IDLE_MS closed (memory stays flat over many runs).
 */
export class PoolCache<P extends { close(): Promise<void> }> {
  private readonly pools = new Map<string, { pool: P; users: number; usedAt: number }>();

  async use<R>(key: string, make: () => P, work: (pool: P) => Promise<R>): Promise<R> {
    const known = this.pools.get(key);
    const e = known ?? { pool: make(), users: 0, usedAt: Date.now() };
    // Map order is use order: the least recently used pool comes first.
    this.pools.delete(key);
    this.pools.set(key, e);
    e.users++;
    try {
      if (!known) await this.makeRoom();
      return await work(e.pool);
    } finally {
      e.users--;
      e.usedAt = Date.now();
    }
  }

  get size(): number {
    return this.pools.size;
  }

  /** Closes the least recently used idle pools until at most MAX_POOLS are open (busy ones stay: they hold tasks). */
  private makeRoom(): Promise<void> {
    const excess = this.pools.size - MAX_POOLS;
    return this.closeAll([...this.pools].filter(([, e]) => e.users === 0).slice(0, Math.max(0, excess)));
  }

  /** Closes the pools idle for POOL_IDLE_MS. */
  closeIdle(now: number): Promise<void> {
    return this.closeAll([...this.pools].filter(([, e]) => e.users === 0 && now - e.usedAt >= POOL_IDLE_MS));
  }

  close(): Promise<void> {
    return this.closeAll([...this.pools]);
  }

  private async closeAll(gone: ReadonlyArray<readonly [string, { pool: P }]>): Promise<void> {
    for (const [k] of gone) this.pools.delete(k);
    await Promise.all(gone.map(([, e]) => e.pool.close()));
  }
}

/** A model shape in words, for log lines. */
const shape = (m: ModelConfig): string => `nodeSize ${m.nodeSize}, ${m.propRounds} rounds${m.nodeTypes?.length ? `, ${m.nodeTypes.length} node types` : ''}`;

/**
 * What the host did, reported once a minute: tasks done and failed, and the runs they were for.
 * A run is announced the first time one of its tasks arrives (runs not seen for an hour are
 * forgotten, so the memory stays flat).
 */
class Activity {
  private readonly runs = new Map<string, number>();
  private done = 0;
  private failed = 0;
  private busyMs = 0;
  private readonly runsNow = new Set<string>();

  constructor(private readonly level: WorkerLogLevel, private readonly log: (line: string) => void) {}

  task(t: ClusterTask): void {
    if (!this.runs.has(t.run) && this.level !== 'quiet') this.log(`run ${t.run}: ${t.kind === 'train' ? 'training' : 'sampling'} tasks (model ${shape(t.model)})`);
    this.runs.set(t.run, Date.now());
    this.runsNow.add(t.run);
  }

  /** A task computed in `ms` (its own line with --verbose), or failed (its line is printed where it fails). */
  finished(t: ClusterTask, ms: number, ok: boolean): void {
    if (!ok) {
      this.failed++;
      return;
    }
    this.done++;
    this.busyMs += ms;
    if (this.level === 'verbose') this.log(`${describeTask(t)}: done in ${ms} ms`);
  }

  /** The line of the `span` just ended ("last minute", or the rest at a stop); none if nothing happened. */
  report(now: number, pools: number, span: string): void {
    for (const [run, at] of this.runs) if (now - at > 3_600_000) this.runs.delete(run);
    if (this.level !== 'quiet' && this.done + this.failed > 0) {
      const runs = this.runsNow.size;
      const mean = this.done ? `, ${Math.round(this.busyMs / this.done)} ms each` : '';
      this.log(`${span}: ${this.done} task${this.done === 1 ? '' : 's'} done${mean}, ${this.failed} failed, for ${runs} run${runs === 1 ? '' : 's'}; ${pools} pool${pools === 1 ? '' : 's'} open`);
    }
    this.done = this.failed = this.busyMs = 0;
    this.runsNow.clear();
  }
}

/**
 * Runs until SIGINT or SIGTERM; then finishes the tasks in hand and resolves. A second signal
 * exits at once. Rejects at once, with one line, when Redis refuses the credentials or a command
 * (see accessDenied): waiting would not help.
 */
export async function runWorkerHost(o: WorkerHostOptions): Promise<void> {
  const where = redisWhere(o.url);
  const opts = redisOptions(o);
  const blobs = new Redis(opts);
  const activity = new Activity(o.logLevel, o.log);
  /** `make()`, announced with --verbose. */
  const opened = <P>(what: string, make: () => P) => (): P => {
    if (o.logLevel === 'verbose') o.log(`opened a pool of ${o.threads} thread${o.threads === 1 ? '' : 's'} for ${what}`);
    return make();
  };
  const train = new PoolCache<TrainPool>();
  const sample = new PoolCache<SamplePool>();
  let redisDown = false;
  let denied: Error | null = null;
  let onDenied = (): void => undefined;
  const refused = new Promise<void>((resolve) => (onDenied = resolve));
  /** An error of Redis or BullMQ: true if it ends the host (it is then remembered, and the host stops). */
  const fatal = (e: Error): boolean => {
    if (!accessDenied(e)) return false;
    denied ??= new Error(accessDeniedMessage(o.url, e));
    onDenied();
    return true;
  };
  blobs.on('error', (e: Error) => {
    if (fatal(e)) return;
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
      opened(`training, model ${shape(t.model)}`, () => new TrainPool(modelRunConfig(t.model), o.threads, { log: o.log, worker: o.trainWorker })),
      (pool) => pool.run(t.version, params, [seqs]),
    );
    return encodeGradientsBlob(t.version, t.shard, g);
  };

  const computeSample = async (t: SampleChunkTask): Promise<Buffer> => {
    const p = await blobs.getBuffer(keys.params(t.run, 0));
    if (!p) throw new Error(`the parameters of ${describeTask(t)} are gone from Redis (expired, or Redis lost its data)`);
    const params = decodeParamsBlob(p, 0, paramLayout(t.model).total, 'task parameters');
    const make = opened(`sampling, run ${t.run}`, () => new SamplePool(modelRunConfig(t.model), params, o.threads, { log: o.log }));
    const graphs = await sample.use(t.run, make, (pool) => pool.chunk(t.seed, t.from, t.count, t.vMax));
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
    activity.task(t);
    const started = Date.now();
    try {
      // A task of a run whose coordinator is gone is dropped, not computed: nobody would read the answer.
      if (!(await blobs.exists(keys.alive(t.run)))) {
        if (o.logLevel !== 'quiet') o.log(`${describeTask(t)}: dropped, the run has ended`);
        return 'dropped';
      }
      const answer = t.kind === 'train' ? await computeTrain(t) : await computeSample(t);
      // NX: the first answer stays; a second computation of the same task gives the same bytes anyway.
      await blobs.set(resultKey(t), answer, 'EX', o.ttlSeconds, 'NX');
    } catch (e) {
      if (!fatal(e as Error)) o.log(`${describeTask(t)}: ${e instanceof TaskRefused ? 'refused' : 'failed'}: ${(e as Error).message}`);
      activity.finished(t, Date.now() - started, false);
      throw e;
    }
    activity.finished(t, Date.now() - started, true);
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
    if (!fatal(e) && !redisDown) o.log(`queue error: ${e.message}`);
  });
  const report = setInterval(() => {
    const now = Date.now();
    activity.report(now, train.size + sample.size, 'last minute');
    void Promise.all([train.closeIdle(now), sample.closeIdle(now)]);
  }, REPORT_MS);
  try {
    await Promise.race([worker.waitUntilReady(), refused]);
    if (!denied) {
      o.log(`connected to ${where}; computing tasks on ${o.threads} thread${o.threads === 1 ? '' : 's'} (Ctrl-C finishes the tasks in hand and exits)`);
      await Promise.race([stopSignal(o.log), refused]);
    }
  } finally {
    clearInterval(report);
  }
  if (denied) {
    // Nothing can be handed back to a Redis that refuses us: everything is dropped at once.
    void worker.close(true).catch(() => undefined);
    blobs.disconnect();
    void Promise.all([train.close(), sample.close()]);
    throw denied;
  }
  // With Redis away the tasks in hand cannot be handed back (their leases run out and others take
  // them): BullMQ's graceful close would wait for Redis, so it is forced.
  await (redisDown ? worker.close(true).catch(() => undefined) : worker.close());
  await Promise.all([train.close(), sample.close()]);
  activity.report(Date.now(), 0, 'since the last report');
  blobs.disconnect();
  o.log('stopped');
}

/** Resolves at the first SIGINT or SIGTERM; a second one exits at once. */
function stopSignal(log: (line: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) process.exit(130);
      stopping = true;
      log(`${sig}: finishing the tasks in hand (again to abort)`);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** A TrainPool needs a run config; only its model part matters to the pool. */
function modelRunConfig(model: ModelConfig): ReturnType<typeof configFromJson> {
  return configFromJson({ model }, 'task model');
}
