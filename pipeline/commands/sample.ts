import type { TypeNames } from '../../graphs/formats';
import type { Graph } from '../../graphs/graph';
import type { Checkpoint } from '../checkpoint';
import { isMoleculeFile, loadRDKit, writeSmilesFile } from '../molecules';
import { progress } from '../progress';
import type { ChunkSampler } from '../runner';
import { sampleChunks, writeGraphFile } from '../sampling';
import { loadModel } from './shared';

/** `p`, or a rejection with `stop`'s reason as soon as `stop` is aborted, whichever comes first. */
function untilStopped<T>(p: Promise<T>, stop: AbortSignal): Promise<T> {
  return new Promise<T>((done, fail) => {
    const onStop = (): void => fail(stop.reason);
    if (stop.aborted) onStop();
    stop.addEventListener('abort', onStop, { once: true });
    p.then(done, fail).finally(() => stop.removeEventListener('abort', onStop));
  });
}

/**
 * Samples `n` graphs chunk by chunk, up to `parallel` chunks in flight; `onChunk` gets them in
 * order. When `stop` is aborted it rejects with its reason at once, leaving the chunks in flight.
 */
async function sampleToSink(
  n: number,
  compute: (from: number, count: number) => Promise<Graph[]>,
  onChunk: (graphs: Graph[]) => Promise<void>,
  quiet: boolean,
  parallel: number,
  stop: AbortSignal,
): Promise<void> {
  const bar = progress('sample', { quiet });
  const chunks = sampleChunks(n);
  let done = 0;
  // Keep up to `parallel` chunks in flight, write them strictly in order.
  const inFlight: Array<Promise<Graph[]>> = [];
  let next = 0;
  const launch = (): void => {
    while (inFlight.length < parallel && next < chunks.length) {
      const [from, count] = chunks[next++];
      inFlight.push(compute(from, count));
    }
  };
  try {
    launch();
    while (inFlight.length) {
      const graphs = await untilStopped(inFlight.shift() as Promise<Graph[]>, stop);
      launch();
      await onChunk(graphs);
      done += graphs.length;
      bar.update(done, n, {});
      // A chunk sampled in this thread never yields; a turn of the event loop lets a signal in.
      await new Promise(setImmediate);
    }
  } catch (e) {
    // Closing the sampler makes the dropped chunks fail; nobody waits for them any more.
    for (const p of inFlight) p.catch(() => undefined);
    throw e;
  }
  bar.finish();
}

/**
 * Samples n graphs of a model with `makeSampler`'s sampler, handing each chunk, in order, to
 * `onChunk` (with the model); rejects with `stop`'s reason when it is aborted first.
 */
export async function sampleModel(
  modelFile: string | null,
  n: number,
  seed: number,
  vMax: number | null,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  stop: AbortSignal,
  onChunk: (graphs: Graph[], ckpt: Checkpoint) => Promise<void>,
): Promise<{ file: string; ckpt: Checkpoint }> {
  const { file, ckpt } = loadModel(modelFile);
  const vm = vMax ?? ckpt.config.sample.vMax;
  const sampler = makeSampler(ckpt);
  try {
    await sampleToSink(n, (from, count) => sampler.chunk(seed, from, count, vm), (graphs) => onChunk(graphs, ckpt), quiet, sampler.parallel, stop);
  } finally {
    await sampler.close();
  }
  return { file, ckpt };
}

/** n graphs of a model, all in memory (eval, draw), and the model; rejects with `stop`'s reason when it is aborted first. */
export async function sampleInMemory(
  modelFile: string | null,
  n: number,
  seed: number,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  stop: AbortSignal,
): Promise<{ file: string; ckpt: Checkpoint; graphs: Graph[] }> {
  const graphs: Graph[] = [];
  const { file, ckpt } = await sampleModel(modelFile, n, seed, null, quiet, makeSampler, stop, async (g) => void graphs.push(...g));
  return { file, ckpt, graphs };
}

/**
 * `dgmg-pipe sample`: n graphs written to a JSONL or graph6 file (by its extension) as they are
 * made, in order; a typed model's graphs with their types by the config's names. To a .smi file,
 * a model of molecules' samples as SMILES, those RDKit does not sanitize as comment lines, counted.
 * Stopped by `stop`, it leaves no file (and a file that was there as it was).
 */
export async function runSample(
  modelFile: string | null,
  n: number,
  out: string,
  seed: number,
  vMax: number | null,
  quiet: boolean,
  makeSampler: (ckpt: Checkpoint) => ChunkSampler,
  stop: AbortSignal,
): Promise<{ file: string; graphs: number; seconds: number; graphsPerSecond: number; notMolecules?: number }> {
  const started = Date.now();
  const fill = (write: (graphs: readonly Graph[], names: TypeNames) => void) => sampleModel(modelFile, n, seed, vMax, quiet, makeSampler, stop, async (g, ckpt) => write(g, ckpt.config.model));
  const notMolecules = isMoleculeFile(out) ? (await writeSmilesFile(out, await loadRDKit(), fill)).invalid : (await writeGraphFile(out, fill), null);
  const seconds = (Date.now() - started) / 1000;
  return { file: out, graphs: n, seconds: +seconds.toFixed(2), graphsPerSecond: Math.round(n / Math.max(seconds, 1e-9)), ...(notMolecules !== null && { notMolecules }) };
}
