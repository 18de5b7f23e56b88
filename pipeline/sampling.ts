import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatJsonlLine } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { paramLayout, type ModelConfig } from '../model/params';
import { sampleGraphs } from '../model/sample';

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

/** A JSONL file written graph by graph and renamed into place only when complete. */
export class JsonlSink {
  private readonly tmp: string;
  private readonly out: ReturnType<typeof createWriteStream>;

  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.tmp = `${file}.tmp-${process.pid}`;
    this.out = createWriteStream(this.tmp);
  }

  async write(graphs: readonly Graph[]): Promise<void> {
    if (!this.out.write(graphs.map((g) => `${formatJsonlLine(g)}\n`).join(''))) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
    renameSync(this.tmp, this.file);
  }
}
