/**
 * A training worker of the page: the browser's counterpart of actors/train-worker.ts. It holds
 * the model shape and its own instance of the kernels, and computes the gradients of the shards
 * it is sent, with the parameters sent along.
 */
import { paramLayout, type ModelConfig, type ParamLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { useKernelBytes } from '../model/wasm';
import type { WorkerMessage, WorkerReply } from './protocol';

interface WorkerScope {
  onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null;
  postMessage(message: WorkerReply, transfer: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

let model: { cfg: ModelConfig; layout: ParamLayout } | null = null;

scope.onmessage = (e) => {
  const m = e.data;
  if (m.kind === 'init') {
    useKernelBytes(m.kernels);
    model = { cfg: m.model, layout: paramLayout(m.model) };
    return;
  }
  try {
    if (!model) throw new Error('a shard came before the model');
    const { logLik, gradSum, gradExponent } = shardGradients(model.cfg, model.layout, m.params, m.shard);
    scope.postMessage({ id: m.id, logLik, gradSum, gradExponent }, [logLik.buffer, gradSum.buffer]);
  } catch (err) {
    scope.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }, []);
  }
};
