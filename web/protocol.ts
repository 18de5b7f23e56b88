/** What passes between the page and its training workers (Web Workers): typed arrays, transferred. */
import type { Decisions } from '../graphs/graph';
import type { ModelConfig } from '../model/params';

/** First message to a worker: the model it computes for and the kernels' bytes (a worker cannot read files). */
export interface WorkerInit {
  readonly kind: 'init';
  readonly model: ModelConfig;
  readonly kernels: Uint8Array;
}

/** One shard of one step, with this task's own copy of the step's parameters. */
export interface ShardTask {
  readonly kind: 'shard';
  readonly id: number;
  readonly params: Float32Array;
  readonly shard: readonly Decisions[];
}

export type WorkerMessage = WorkerInit | ShardTask;

export type WorkerReply = { readonly id: number; readonly logLik: Float32Array; readonly gradSum: Float32Array; readonly gradExponent: number } | { readonly id: number; readonly error: string };
