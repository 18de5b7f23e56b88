import { cycleGraph } from '../graphs/families';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { adamState, adamStep } from '../model/adam';
import { DEFAULT_MODEL, initParams, paramLayout } from '../model/params';
import { shardGradients } from '../model/teacher';
import { sampleChunk } from '../pipeline/sampling';
import { loadModel } from '../pipeline/commands/shared';
import { DEFAULT_CONFIG } from '../pipeline/config';

/**
 * Single-thread throughput on cycles of 10..20 nodes with the default model: teacher-forced
 * training (forward + backward + Adam) at several batch sizes, and sampling.
 */
export function cycles(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => encodeGraph(cycleGraph(rng.int(10, 20))));
}

/**
 * Units per second of `fn`, by the wall clock and per CPU-second of this process: on a machine
 * shared with other work the second stays comparable between runs where the first does not.
 */
function timeLoop(seconds: number, fn: () => number): { perSecond: number; perCpuSecond: number } {
  fn(); // warm-up
  let units = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) units += fn();
  const used = process.cpuUsage(cpu);
  return { perSecond: units / ((performance.now() - start) / 1000), perCpuSecond: units / ((used.user + used.system) / 1e6) };
}

export interface Row {
  /** What computed the row: 'engine' (model/engine.ts) for every row today. */
  backend: string;
  what: string;
  batch: number;
  workers: number;
  graphsPerSecond: number;
  /** One-thread rows: graphs per CPU-second of the process. */
  graphsPerCpuSecond?: number;
  heapMB: number;
}

const heapMB = (): number => Math.round(process.memoryUsage().heapUsed / 2 ** 20);

/** One thread, no workers: training steps at batch 1, 16, 64, 256, and sampling chunks of 100. */
export function singleThread(seconds: number): Row[] {
  const layout = paramLayout(DEFAULT_MODEL);
  const rows: Row[] = [];
  const params = initParams(layout, 0);
  const adam = adamState(layout.total);
  for (const B of [1, 16, 64, 256]) {
    const seqs = cycles(B, B);
    const { perSecond, perCpuSecond } = timeLoop(seconds, () => {
      const r = shardGradients(DEFAULT_MODEL, layout, params, seqs);
      const g = r.gradSum.map((x) => x / B);
      adamStep({ ...DEFAULT_CONFIG.train }, adam, params, g);
      return B;
    });
    rows.push({ backend: 'engine', what: 'train', batch: B, workers: 1, graphsPerSecond: Math.round(perSecond), graphsPerCpuSecond: Math.round(perCpuSecond), heapMB: heapMB() });
  }
  // sampling from the shipped model: it makes cycles of 10-20 nodes, as a trained model does
  const shipped = loadModel(null).ckpt;
  let from = 0;
  const sample = timeLoop(seconds, () => {
    const n = sampleChunk(shipped.config.model, shipped.params, 1, from, 100, shipped.config.sample.vMax).length;
    from += n;
    return n;
  });
  rows.push({ backend: 'engine', what: 'sample', batch: 100, workers: 1, graphsPerSecond: Math.round(sample.perSecond), graphsPerCpuSecond: Math.round(sample.perCpuSecond), heapMB: heapMB() });
  return rows;
}
