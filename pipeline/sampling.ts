import { NO_TYPE_NAMES, graphFileFormat, type TypeNames } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { paramLayout, type ModelConfig } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { AtomicFile } from './atomic';

/** Graphs per lockstep batch when sampling: chunk c holds graphs c*CHUNK .. c*CHUNK+CHUNK-1. */
export const SAMPLE_CHUNK = 100;

/** One chunk of a seeded sample: graph i draws from Rng.derive(seed, i) alone. */
export function sampleChunk(model: ModelConfig, params: Float32Array, seed: number, from: number, count: number, vMax: number): Graph[] {
  const rngs = Array.from({ length: count }, (_, i) => Rng.derive(seed, from + i));
  return sampleGraphs(model, paramLayout(model), params, rngs, vMax);
}

/** The chunks of an n-graph sample, as [first index, count]. */
export function sampleChunks(n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let from = 0; from < n; from += SAMPLE_CHUNK) out.push([from, Math.min(SAMPLE_CHUNK, n - from)]);
  return out;
}

/**
 * Fills a graph file, JSONL or graph6 by its extension, with the graphs `fill` hands to `write`
 * (typed graphs' types named by `names`, the model's type names), and puts it in place only when
 * `fill` has finished: an error of either (a full disk, a failed chunk) leaves no file, not a part
 * of one. The file is opened before `fill` starts, so an unwritable place or an unknown extension
 * fails before any work is done.
 */
export async function writeGraphFile<T>(file: string, fill: (write: (graphs: readonly Graph[], names?: TypeNames) => void) => Promise<T>): Promise<T> {
  const format = graphFileFormat(file);
  const out = new AtomicFile(file, `${format.name} graphs`);
  try {
    const result = await fill((graphs, names = NO_TYPE_NAMES) => out.append(graphs.map((g) => `${format.line(g, names)}\n`).join('')));
    out.commit();
    return result;
  } catch (e) {
    out.abort();
    throw e;
  }
}
