import type { BackendChoice } from '../model/backend';
import { loadModel, runSample, sampleToSink } from '../pipeline/commands';
import { JsonlSink } from '../pipeline/sampling';
import { SamplePool } from './pool';

/**
 * `dgmg-pipe sample --workers N`: the same seeded chunks as `runSample`, computed by N worker
 * threads with 2N chunks in flight and written in order, so the file is the same for any N.
 * N = 1 samples in this thread.
 */
export async function sampleWithWorkers(
  modelFile: string | null,
  n: number,
  out: string,
  seed: number,
  vMax: number | null,
  quiet: boolean,
  workers: number,
  backend: BackendChoice = 'auto',
): Promise<{ file: string; graphs: number; seconds: number; graphsPerSecond: number; workers: number }> {
  const started = Date.now();
  const done = (r: { file: string; graphs: number }): { file: string; graphs: number; seconds: number; graphsPerSecond: number; workers: number } => {
    const seconds = (Date.now() - started) / 1000;
    return { file: r.file, graphs: r.graphs, seconds: +seconds.toFixed(2), graphsPerSecond: Math.round(r.graphs / Math.max(seconds, 1e-9)), workers };
  };
  if (workers <= 1) return done(await runSample(modelFile, n, out, seed, vMax, quiet));
  const { ckpt } = loadModel(modelFile);
  const vm = vMax ?? ckpt.config.sample.vMax;
  const pool = new SamplePool(ckpt.config.model, ckpt.params, workers, { backend });
  const sink = new JsonlSink(out);
  try {
    await sampleToSink(n, (from, count) => pool.chunk(seed, from, count, vm), (g) => sink.write(g), quiet, 2 * workers);
    await sink.close();
  } finally {
    await pool.close();
  }
  return done({ file: out, graphs: n });
}
