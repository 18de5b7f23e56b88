/**
 * The page's ShardRunner (pipeline/runner.ts): the shards of every batch computed on Web Workers,
 * one shard per worker, as actors/pool.ts does on Node's worker threads. The optimizer step, the
 * data and the schedule are the pipeline's own (pipeline/train.ts).
 */
import type { Decisions } from '../graphs/graph';
import type { ModelConfig } from '../model/params';
import type { ShardGradients } from '../model/teacher';
import { TrainingError, type ShardRunner } from '../pipeline/runner';
import type { ShardTask, WorkerInit, WorkerReply } from './protocol';

export class WebWorkerRunner implements ShardRunner {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { done: (r: ShardGradients) => void; fail: (e: Error) => void }>();
  private nextId = 0;

  constructor(model: ModelConfig, kernels: Uint8Array, count: number) {
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker('worker.js');
      w.onmessage = (e: MessageEvent<WorkerReply>) => this.answer(e.data);
      w.onerror = (e) => this.failAll(new TrainingError(`a training worker failed: ${e.message}`));
      const init: WorkerInit = { kind: 'init', model, kernels };
      w.postMessage(init);
      return w;
    });
  }

  run(version: number, params: Float32Array, shards: readonly Decisions[][]): Promise<ShardGradients[]> {
    return Promise.all(
      shards.map(
        (shard, i) =>
          new Promise<ShardGradients>((done, fail) => {
            const id = this.nextId++;
            this.waiting.set(id, { done, fail: (e) => fail(new TrainingError(`step ${version}, shard ${i}: ${e.message}`)) });
            const task: ShardTask = { kind: 'shard', id, params: Float32Array.from(params), shard };
            this.workers[i % this.workers.length].postMessage(task, [task.params.buffer]);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.terminate();
    this.failAll(new TrainingError('the training workers were stopped'));
  }

  private answer(r: WorkerReply): void {
    const w = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    if (!w) return;
    if ('error' in r) w.fail(new Error(r.error));
    else w.done({ logLik: r.logLik, gradSum: r.gradSum, gradExponent: r.gradExponent });
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.fail(e);
    this.waiting.clear();
  }
}
