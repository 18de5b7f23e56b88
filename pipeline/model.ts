/**
 * A trained model in memory, as the library (api/) and the web page (web/) hold it: its samples as
 * the records `dgmg-pipe sample` writes, the log-likelihood of given graphs, and its checkpoint
 * as the text of a checkpoint file. Nothing here touches files or threads.
 */
import { renderGenerationHtml, typedAnimationOptions } from '../draw/animate';
import { formatJsonlLine, parseJsonlLine, type TypeNames } from '../graphs/formats';
import type { Graph } from '../graphs/graph';
import { fixedOrder } from '../graphs/order';
import { paramLayout, typeCounts } from '../model/params';
import { logLikelihoods } from '../model/teacher';
import { lastValueFrom } from 'rxjs';
import type { Checkpoint } from './checkpoint';
import type { RunConfig } from './config';
import { graphSequence, loadDataset } from './dataset';
import { inProcessRunner, inThreadSampler, type ChunkSampler } from './runner';
import { trainEvents } from './train';
import { encodeGraph } from '../graphs/sequence';
import { sampleChunk, sampleChunks } from './sampling';

/**
 * A graph as one line of a JSONL graph file: `{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}`, typed
 * graphs with "node_types" and "edge_types" (the model's type names where it has them).
 */
export interface GraphRecord {
  readonly num_nodes: number;
  readonly edges: ReadonlyArray<readonly [number, number]>;
  readonly node_types?: ReadonlyArray<string | number>;
  readonly edge_types?: ReadonlyArray<string | number>;
}

/** The record of `g` exactly as the JSONL writer writes its line. */
export function graphRecord(g: Graph, names: TypeNames): GraphRecord {
  return JSON.parse(formatJsonlLine(g, names)) as GraphRecord;
}

/** A record checked as the JSONL reader checks a line (`where` names it in messages). */
export function recordGraph(r: GraphRecord, names: TypeNames, where: string): Graph {
  return parseJsonlLine(JSON.stringify(r), where, names);
}

/**
 * Graphs 0 .. n-1 of the sample with `seed`, chunk by chunk through `sampler` (in this thread or
 * on workers: the graphs are the same), with up to `sampler.parallel` chunks in flight; `onChunk`
 * sees each chunk in order as it is done.
 */
export async function sampleWith(sampler: ChunkSampler, n: number, seed: number, vMax: number, onChunk: (graphs: readonly Graph[], done: number) => void = () => undefined): Promise<Graph[]> {
  const chunks = sampleChunks(n);
  const out: Graph[] = [];
  const inFlight: Array<Promise<Graph[]>> = [];
  let next = 0;
  try {
    while (out.length < n) {
      while (inFlight.length < Math.max(1, sampler.parallel) && next < chunks.length) inFlight.push(sampler.chunk(seed, chunks[next][0], chunks[next++][1], vMax));
      const graphs = await (inFlight.shift() as Promise<Graph[]>);
      out.push(...graphs);
      onChunk(graphs, out.length);
    }
  } catch (e) {
    for (const p of inFlight) p.catch(() => undefined);
    throw e;
  }
  return out;
}

/**
 * log p(graph) of each graph under the node order the model was trained with (a model trained on
 * orders drawn per visit is measured under fixedOrder's stand-in), in batches of 256.
 */
export function logLikelihoodsOf(ckpt: Checkpoint, graphs: readonly Graph[]): number[] {
  const order = fixedOrder(ckpt.config.data.order);
  const layout = paramLayout(ckpt.config.model);
  const types = typeCounts(ckpt.config.model);
  const out: number[] = [];
  for (let i = 0; i < graphs.length; i += 256) {
    const seqs = graphs.slice(i, i + 256).map((g) => graphSequence(g, order, types));
    out.push(...logLikelihoods(ckpt.config.model, layout, ckpt.params, seqs));
  }
  return out;
}

/**
 * A self-contained HTML page of graph 0 of the sample with `seed` being built decision by
 * decision (`dgmg-pipe animate`, and the web page's animation). A sampled graph keeps its nodes in
 * the order they were added and its edges in the order they were chosen, so its natural-order
 * encoding is the decisions that built it (repeated-edge attempts, which change nothing, left out).
 */
export function generationPage(ckpt: Checkpoint, seed: number, title: string): { html: string; graph: Graph; decisions: number } {
  const [g] = sampleChunk(ckpt.config.model, ckpt.params, seed, 0, 1, ckpt.config.sample.vMax);
  const seq = encodeGraph(g);
  const types = ckpt.config.model.nodeTypes.length > 0 ? typedAnimationOptions(g, ckpt.config.model) : {};
  return { html: renderGenerationHtml(seq, { title, ...types }), graph: g, decisions: seq.length };
}

/** Graphs per second of the engine in this thread, as the browser benchmark compares them. */
export interface EngineSpeed {
  readonly sampleGraphsPerSecond: number;
  readonly trainGraphsPerSecond: number;
}

/**
 * The engine's speed in this thread (the same code in Node and in a page): sampling `n` graphs of
 * `ckpt` with seed 0, and `steps` training steps of `config` from fresh parameters, one shard per
 * batch; each timed `rounds` times, the best kept (the first round also warms the JIT up).
 */
export async function engineSpeed(ckpt: Checkpoint, config: RunConfig, n: number, steps: number, rounds: number): Promise<EngineSpeed> {
  const data = await loadDataset(config, config.train.seed);
  let sample = 0;
  let train = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    await sampleWith(inThreadSampler(ckpt), n, 0, ckpt.config.sample.vMax);
    sample = Math.max(sample, n / ((performance.now() - t) / 1000));
    t = performance.now();
    const oneShard = { ...config, train: { ...config.train, shards: 1 } };
    const done = await lastValueFrom(trainEvents({ config: oneShard, data, checkpointFile: null, resume: null, runner: inProcessRunner(config), shards: 1, stopAtStep: steps }));
    if (done.kind === 'done') train = Math.max(train, done.checkpoint.graphsSeen / ((performance.now() - t) / 1000));
  }
  return { sampleGraphsPerSecond: sample, trainGraphsPerSecond: train };
}
