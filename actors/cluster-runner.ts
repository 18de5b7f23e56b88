/**
 * The coordinator's side of the cluster (docs/design.md, 'Several machines'): a ShardRunner and a
 * ChunkSampler whose tasks are computed by worker hosts anywhere, through Redis and BullMQ.
 *
 * A training step writes the version's parameters once and each shard's sequences once (binary,
 * keys with the run id and a TTL), enqueues one task per shard and collects the answers from
 * their result keys in shard order, so the aggregator sums exactly what the in-process pool
 * would: the update does not depend on who computed what. A task that is computed twice writes
 * the same bytes, and only the first copy is kept (SET NX) and read. Answers are checked against
 * the version and shard they claim before use.
 *
 * What this side relies on: BullMQ's lease (the workers' lock, renewed while a task is in hand)
 * and stalled-job check put a task whose host died back in the queue; a task not answered within
 * the task timeout (a host that hangs but still renews its lock) gets another copy; a task that
 * fails is retried up to MAX_ATTEMPTS times. QueueEvents is only the fast path for noticing
 * answers: the result keys are also polled, so an event lost to a Redis restart costs a second.
 */
import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Decisions, Graph } from '../graphs/graph';
import { paramLayout, typeCounts, type ModelConfig } from '../model/params';
import type { ShardGradients } from '../model/teacher';
import type { RunConfig } from '../pipeline/config';
import { TrainingError, type ChunkSampler, type ShardRunner } from '../pipeline/runner';
import { MAX_ATTEMPTS } from './pool';
import {
  CLUSTER_FORMAT,
  decodeGradientsBlob,
  decodeGraphsBlob,
  describeTask,
  encodeParamsBlob,
  encodeShardBlob,
  jobId,
  keys,
  QUEUE_NAME,
  redisOptions,
  redisWhere,
  resultKey,
  type ClusterTask,
  type RedisTarget,
} from './cluster-protocol';

export interface CoordinatorOptions extends RedisTarget {
  /** How long to wait for a Redis that went away before the run stops. */
  readonly redisTimeoutMs: number;
  /** A task not answered in this time gets another copy in the queue. */
  readonly taskTimeoutMs: number;
  /** TTL of every key this run writes. */
  readonly ttlSeconds: number;
  readonly log: (line: string) => void;
}

/** Redis was away longer than --redis-timeout. */
export class RedisLostError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RedisLostError';
  }
}

/** A task in flight: its inputs (re-sent with every copy), its attempts, and who waits for it. */
interface Pending<R> {
  readonly task: ClusterTask;
  readonly inputs: ReadonlyArray<readonly [string, Buffer]>;
  readonly accept: (answer: Buffer) => R;
  copies: number;
  failures: number;
  sentAt: number;
  checkedAt: number;
  resolve(r: R): void;
}

const POLL_MS = 1000;
/** The run's heartbeat key lives this long unless refreshed: tasks of a dead coordinator are dropped after it. */
const ALIVE_MS = 30_000;
const HEARTBEAT_MS = 5_000;
const TICK_MS = 200;
/** How long without any answer before the coordinator checks whether any worker is connected. */
const IDLE_BEFORE_WORKER_CHECK_MS = 2000;

/**
 * One run's connection to the cluster: a fresh run id, a heartbeat key that tells workers the
 * run is alive, and `submit`, which enqueues tasks and resolves with their checked answers.
 */
export class Coordinator {
  readonly run = randomBytes(8).toString('hex');
  private readonly where: string;
  private readonly blobs: Redis;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly ready: Promise<void>;
  private readonly pending = new Map<string, Pending<unknown>>();
  private readonly byJob = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;
  private downSince: number | null = null;
  private failure: Error | null = null;
  private failWaiters = new Set<(e: Error) => void>();
  private lastAnswer = Date.now();
  private lastWorkerCheck = 0;
  private lastHeartbeat = 0;
  private announcedWaiting = false;
  private ticking = false;
  private closed = false;

  constructor(private readonly o: CoordinatorOptions) {
    this.where = redisWhere(o.url);
    const opts = redisOptions(o);
    this.blobs = new Redis(opts);
    this.queue = new Queue(QUEUE_NAME, { connection: opts });
    this.events = new QueueEvents(QUEUE_NAME, { connection: opts });
    this.blobs.on('error', (e: Error) => this.lost(e.message));
    this.blobs.on('close', () => this.lost('connection closed'));
    this.blobs.on('ready', () => this.back());
    this.queue.on('error', () => undefined); // reported through `blobs`, which shares the server
    this.events.on('error', () => undefined);
    // A handler that meets a lost Redis reports it; the tasks go again when Redis is back.
    this.events.on('completed', ({ jobId: id }) => void this.answered(id).catch((e: Error) => this.lost(e.message)));
    this.events.on('failed', ({ jobId: id, failedReason }) => void this.failed(id, failedReason).catch((e: Error) => this.lost(e.message)));
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    const { queue, events } = this;
    this.ready = (async () => {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      await this.heartbeat();
    })();
    this.ready.catch(() => undefined);
  }

  /** Enqueues the tasks; resolves with their accepted answers, in the order given. */
  async submit<R>(tasks: ReadonlyArray<{ task: ClusterTask; inputs: ReadonlyArray<readonly [string, Buffer]>; accept: (answer: Buffer) => R }>): Promise<R[]> {
    const started = this.raceFailure(this.ready);
    await started;
    const answers = tasks.map(
      (t) =>
        new Promise<R>((resolve) => {
          const p: Pending<R> = { ...t, copies: 0, failures: 0, sentAt: Date.now(), checkedAt: Date.now(), resolve };
          this.pending.set(resultKey(t.task), p as Pending<unknown>);
        }),
    );
    await this.raceFailure(this.send(tasks.map((t) => this.pending.get(resultKey(t.task)) as Pending<unknown>)));
    return this.raceFailure(Promise.all(answers));
  }

  /** Another copy of each task: inputs (re)written, then a job with a fresh id. */
  private async send(ps: ReadonlyArray<Pending<unknown>>): Promise<void> {
    const inputs = new Map<string, Buffer>();
    for (const p of ps) for (const [k, b] of p.inputs) inputs.set(k, b);
    const multi = this.blobs.multi();
    for (const [k, b] of inputs) multi.set(k, b, 'EX', this.o.ttlSeconds);
    await multi.exec();
    const now = Date.now();
    const jobs = ps.map((p) => {
      const id = jobId(p.task, p.copies++);
      this.byJob.set(id, resultKey(p.task));
      p.sentAt = now;
      return { name: p.task.kind, data: p.task, opts: { jobId: id, attempts: 1, removeOnComplete: true, removeOnFail: { age: this.o.ttlSeconds } } };
    });
    await this.queue.addBulk(jobs);
  }

  /** A job finished: read its task's answer (it may be a copy of a task already answered). */
  private async answered(id: string): Promise<void> {
    const key = this.byJob.get(id);
    this.byJob.delete(id);
    const p = key === undefined ? undefined : this.pending.get(key);
    if (p) await this.collect(p, true);
  }

  /** Reads and checks a task's answer; `expected`: the task said it answered, so a missing answer is a fault. */
  private async collect(p: Pending<unknown>, expected: boolean): Promise<void> {
    const key = resultKey(p.task);
    const buf = await this.blobs.getBuffer(key);
    if (this.pending.get(key) !== p) return; // answered meanwhile
    if (!buf) {
      if (expected) await this.retry(p, 'finished without an answer (the worker found the run ended or its inputs gone)');
      return;
    }
    let value: unknown;
    try {
      value = p.accept(buf);
    } catch (e) {
      await this.blobs.del(key); // a malformed answer must not stand in the way of a good one
      await this.retry(p, `sent a malformed answer: ${(e as Error).message}`);
      return;
    }
    this.pending.delete(key);
    for (const [id, k] of this.byJob) if (k === key) this.byJob.delete(id); // copies whose events may never come
    this.lastAnswer = Date.now();
    this.announcedWaiting = false;
    p.resolve(value);
  }

  private async failed(id: string, reason: string): Promise<void> {
    const key = this.byJob.get(id);
    this.byJob.delete(id);
    const p = key === undefined ? undefined : this.pending.get(key);
    if (p) await this.retry(p, `failed on a worker: ${reason}`);
  }

  /** One more copy of a task that failed, or the end of the run after MAX_ATTEMPTS failures. */
  private async retry(p: Pending<unknown>, why: string): Promise<void> {
    p.failures++;
    const what = describeTask(p.task);
    if (p.failures >= MAX_ATTEMPTS) {
      this.fail(new TrainingError(`${what} failed ${p.failures} times; last: ${why}`));
      return;
    }
    this.o.log(`${what} ${why}; sending it again (attempt ${p.failures + 1} of ${MAX_ATTEMPTS})`);
    await this.send([p]);
  }

  private lost(reason: string): void {
    if (this.closed || this.downSince !== null) return;
    this.downSince = Date.now();
    this.o.log(`lost Redis at ${this.where} (${reason}); waiting up to ${this.o.redisTimeoutMs / 1000} s for it (--redis-timeout)`);
  }

  /** Redis is back: it may have lost everything, so the inputs and tasks in flight go again. */
  private back(): void {
    if (this.downSince === null) return;
    this.o.log(`Redis at ${this.where} is back after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s; sending the tasks in flight again`);
    this.downSince = null;
    void this.heartbeat()
      .then(() => this.send([...this.pending.values()]))
      .catch((e: Error) => this.lost(e.message));
  }

  private async heartbeat(): Promise<void> {
    this.lastHeartbeat = Date.now();
    await this.blobs.set(keys.alive(this.run), String(process.pid), 'PX', ALIVE_MS);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    if (this.downSince !== null) {
      if (now - this.downSince > this.o.redisTimeoutMs) this.fail(new RedisLostError(`Redis at ${this.where} has been unreachable for ${Math.round((now - this.downSince) / 1000)} s (--redis-timeout ${this.o.redisTimeoutMs / 1000}); stopping`));
      return;
    }
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      if (now - this.lastHeartbeat >= HEARTBEAT_MS) await this.heartbeat();
      for (const p of [...this.pending.values()]) {
        if (now - p.checkedAt >= POLL_MS) {
          p.checkedAt = now;
          await this.collect(p, false);
        }
        if (this.pending.has(resultKey(p.task)) && now - p.sentAt >= this.o.taskTimeoutMs) {
          this.o.log(`${describeTask(p.task)} not answered in ${this.o.taskTimeoutMs / 1000} s (--task-timeout); sending another copy`);
          await this.send([p]);
        }
      }
      await this.checkWorkers(now);
    } catch (e) {
      this.lost((e as Error).message);
    } finally {
      this.ticking = false;
    }
  }

  /** Says so when tasks wait and no worker host is connected. */
  private async checkWorkers(now: number): Promise<void> {
    if (!this.pending.size || this.announcedWaiting || now - this.lastAnswer < IDLE_BEFORE_WORKER_CHECK_MS || now - this.lastWorkerCheck < IDLE_BEFORE_WORKER_CHECK_MS) return;
    this.lastWorkerCheck = now;
    const workers = await this.queue.getWorkersCount().catch(() => -1); // -1: CLIENT LIST not allowed to this user
    if (workers === 0) {
      this.announcedWaiting = true;
      this.o.log(`waiting for workers: ${this.pending.size} task${this.pending.size === 1 ? '' : 's'} queued, no worker connected to ${this.where} (start one with: dgmg-pipe worker --redis URL)`);
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.failWaiters) w(e);
  }

  /** `p`, or the run's failure if that comes first. */
  private raceFailure<T>(p: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    let off = (): void => undefined;
    const failed = new Promise<never>((_, reject) => {
      this.failWaiters.add(reject);
      off = () => this.failWaiters.delete(reject);
    });
    return Promise.race([p, failed]).finally(off);
  }

  /** Deletes keys of finished work early (they expire anyway). */
  async forget(keysToDelete: readonly string[]): Promise<void> {
    if (keysToDelete.length) await this.raceFailure(this.blobs.del(...keysToDelete));
  }

  /**
   * Ends the run: its keys go (the heartbeat first, so workers drop its remaining tasks); with
   * Redis lost, nothing is waited for and the keys expire on their own.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.downSince === null && !(this.failure instanceof RedisLostError)) {
      await this.blobs.del(keys.alive(this.run));
      for await (const found of this.blobs.scanStream({ match: keys.all(this.run), count: 1000 }) as AsyncIterable<string[]>) if (found.length) await this.blobs.del(...found);
      await Promise.all([this.queue.close(), this.events.close()]);
      await this.blobs.quit();
    } else {
      // BullMQ's disconnect waits for a connection that may never come back: not awaited.
      for (const c of [this.queue, this.events]) c.disconnect().catch(() => undefined);
      this.blobs.disconnect();
    }
  }
}

/** The coordinator's ShardRunner: `train --redis URL --workers N`. */
export class RedisShardRunner implements ShardRunner {
  private readonly cluster: Coordinator;
  private readonly model: ModelConfig;
  private readonly total: number;
  private lastVersion = -1;

  constructor(config: RunConfig, opts: CoordinatorOptions) {
    this.cluster = new Coordinator(opts);
    this.model = config.model;
    this.total = paramLayout(config.model).total;
  }

  async run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]> {
    // One optimizer step per version: a version is computed once, and only after the previous one.
    if (version <= this.lastVersion) throw new TrainingError(`step ${version} asked for again after step ${this.lastVersion}`);
    this.lastVersion = version;
    const run = this.cluster.run;
    const paramsInput = [keys.params(run, version), encodeParamsBlob(version, params)] as const;
    const tasks = shards.map((s, shard) => ({
      task: { format: CLUSTER_FORMAT, kind: 'train', run, model: this.model, version, shard, shards: shards.length, graphs: s.length } as const,
      inputs: [paramsInput, [keys.shard(run, version, shard), encodeShardBlob(version, shard, s)]] as const,
      accept: (answer: Buffer) => decodeGradientsBlob(answer, version, shard, s.length, this.total, `answer to step ${version} shard ${shard}`),
    }));
    const results = await this.cluster.submit(tasks);
    await this.cluster.forget([paramsInput[0], ...shards.flatMap((_, i) => [keys.shard(run, version, i), keys.grad(run, version, i)])]);
    return results;
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}

/** The coordinator's ChunkSampler: `sample --redis URL --workers N`, N chunks in flight. */
export class RedisChunkSampler implements ChunkSampler {
  private readonly cluster: Coordinator;
  private readonly paramsBlob: Buffer;

  constructor(private readonly model: ModelConfig, params: Float32Array, readonly parallel: number, opts: CoordinatorOptions) {
    this.cluster = new Coordinator(opts);
    this.paramsBlob = encodeParamsBlob(0, params);
  }

  async chunk(seed: number, from: number, count: number, vMax: number): Promise<Graph[]> {
    const run = this.cluster.run;
    const task = { format: CLUSTER_FORMAT, kind: 'sample', run, model: this.model, seed, from, count, vMax } as const;
    const [graphs] = await this.cluster.submit([{ task, inputs: [[keys.params(run, 0), this.paramsBlob]], accept: (answer) => decodeGraphsBlob(answer, from, count, vMax, typeCounts(this.model), `answer to graphs ${from}..${from + count - 1}`) }]);
    await this.cluster.forget([resultKey(task)]);
    return graphs;
  }

  close(): Promise<void> {
    return this.cluster.close();
  }
}
