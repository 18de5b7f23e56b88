/**
 * A sampling actor (Piscina worker thread). The model and its parameters arrive once, in
 * workerData (they never change during a sample); each task is one seeded chunk, and the graphs
 * go back as flat Int32Arrays, transferred.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { sampleChunk } from '../pipeline/sampling';
import { encodeGraphs, type SampleTask, type SampleWorkerData } from './protocol';

const data = workerData as SampleWorkerData;

export default function sampleOneChunk(task: SampleTask): unknown {
  const e = encodeGraphs(sampleChunk(data.model, data.params, task.seed, task.from, task.count, task.vMax));
  return move({
    get [transferableSymbol]() {
      return [e.numNodes.buffer, e.edgeOffsets.buffer, e.edges.buffer, ...[e.nodeTypes, e.edgeTypes].flatMap((x) => (x ? [x.buffer] : []))];
    },
    get [valueSymbol]() {
      return e;
    },
  });
}
