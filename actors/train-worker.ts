/**
 * A training actor (Piscina worker thread). It loads the model once (from workerData);
 * each task brings the parameter version, its own transferred copy of those parameters and one
 * shard of decision sequences, so a worker never computes on stale parameters: the parameters it
 * computes with are, by construction, the ones the task names. The gradient sums and
 * log-likelihoods go back by transfer (Piscina.move), not by copy.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { paramLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { decodeSequences, type TrainTask, type TrainTaskResult, type TrainWorkerData } from './protocol';

const data = workerData as TrainWorkerData;
const layout = paramLayout(data.model);

export default function trainShard(task: TrainTask): unknown {
  if (task.params.length !== layout.total) throw new Error(`step ${task.version}: got ${task.params.length} parameters, the model has ${layout.total}`);
  const seqs = decodeSequences(task.shardSeqs);
  const { logLik, gradSum, gradExponent } = shardGradients(data.model, layout, task.params, seqs);
  const result: TrainTaskResult = { version: task.version, shard: task.shard, graphs: seqs.length, logLik, gradSum, gradExponent };
  return move({
    get [transferableSymbol]() {
      return [logLik.buffer, gradSum.buffer];
    },
    get [valueSymbol]() {
      return result;
    },
  });
}
