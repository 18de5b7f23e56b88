import * as tf from '@tensorflow/tfjs';
import { cycleGraph } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { initBackend } from '../model/backend';
import { adamState, adamStep } from '../model/adam';
import { DEFAULT_MODEL, initParams, paramLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { sampleChunk } from '../pipeline/sampling';
import { loadModel } from '../pipeline/commands';
import { DEFAULT_CONFIG } from '../pipeline/config';

/**
 * Single-thread throughput on cycles of 10..20 nodes with the default model: teacher-forced
 * training (forward + backward + Adam) at several batch sizes per backend, and sampling.
 */
export function cycles(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => encodeGraph(cycleGraph(rng.int(10, 20))));
}

function timeLoop(seconds: number, fn: () => number): { perSecond: number; iterations: number } {
  fn(); // warm-up
  let units = 0;
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    units += fn();
    iterations++;
  }
  return { perSecond: units / ((performance.now() - start) / 1000), iterations };
}

export interface Row {
  backend: string;
  what: string;
  batch: number;
  workers: number;
  graphsPerSecond: number;
  heapMB: number;
  tensors: number;
}

export async function singleThread(seconds: number): Promise<Row[]> {
  const layout = paramLayout(DEFAULT_MODEL);
  const rows: Row[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const params = initParams(layout, 0);
    const adam = adamState(layout.total);
    for (const B of [1, 16, 64, 256]) {
      // cpu is ~10x slower than wasm here; its large batches would take most of the budget
      if (backend === 'cpu' && B > 64) continue;
      const seqs = cycles(B, B);
      const { perSecond } = timeLoop(seconds, () => {
        const r = shardGradients(DEFAULT_MODEL, layout, params, seqs);
        const g = r.gradSum.map((x) => x / B);
        adamStep({ ...DEFAULT_CONFIG.train }, adam, params, g);
        return B;
      });
      rows.push({ backend, what: 'train', batch: B, workers: 1, graphsPerSecond: Math.round(perSecond), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20), tensors: tf.memory().numTensors });
    }
    // sampling from the shipped model: it makes cycles of 10-20 nodes, as a trained model does
    const shipped = loadModel(null).ckpt;
    // a lockstep chunk of 100, and one graph at a time through the same 100 graphs
    for (const count of [100, 1]) {
      let from = 0;
      const sample = timeLoop(seconds, () => {
        const n = sampleChunk(shipped.config.model, shipped.params, 1, from, count, shipped.config.sample.vMax).length;
        from = (from + count) % 100;
        return n;
      });
      rows.push({ backend, what: 'sample', batch: count, workers: 1, graphsPerSecond: Math.round(sample.perSecond), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20), tensors: tf.memory().numTensors });
    }
  }
  return rows;
}
