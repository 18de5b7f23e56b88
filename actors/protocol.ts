/**
 * What travels between the pool (main thread) and its worker threads (docs/design.md, 'Actors'): decision
 * sequences, parameters, gradients and sampled graphs as flat typed arrays whose buffers are
 * transferred, never JSON.
 */
import type { Decisions, Graph } from '../graphs/graph';
import type { ModelConfig } from '../model/params';

/** Given to every training worker once, at start: the model it computes for. */
export interface TrainWorkerData {
  readonly model: ModelConfig;
}

/** One shard of one step. `params` is this task's own copy of the version's parameters. */
export interface TrainTask {
  /** The parameter version: the step number, 0-based. */
  readonly version: number;
  /** The shard's index in its batch (0-based), echoed in the answer. */
  readonly shard: number;
  readonly params: Float32Array;
  readonly shardSeqs: EncodedSequences;
}

export interface TrainTaskResult {
  readonly version: number;
  readonly shard: number;
  readonly graphs: number;
  /** log p of each graph of the shard, in order. */
  readonly logLik: Float32Array;
  /** Gradient of the shard's summed negative log-likelihood, flat in layout order, scaled by 2^-gradExponent. */
  readonly gradSum: Float32Array;
  readonly gradExponent: number;
}

/** Given to every sampling worker once: the model and its (fixed) parameters. */
export interface SampleWorkerData {
  readonly model: ModelConfig;
  readonly params: Float32Array;
}

export interface SampleTask {
  readonly seed: number;
  readonly from: number;
  readonly count: number;
  readonly vMax: number;
}

/** Decision sequences back to back: sequence i is tokens[offsets[i] .. offsets[i+1]). */
export interface EncodedSequences {
  readonly tokens: Int32Array;
  readonly offsets: Int32Array;
}

export function encodeSequences(seqs: readonly Decisions[]): EncodedSequences {
  const offsets = new Int32Array(seqs.length + 1);
  seqs.forEach((s, i) => (offsets[i + 1] = offsets[i] + s.length));
  const tokens = new Int32Array(offsets[seqs.length]);
  seqs.forEach((s, i) => tokens.set(s, offsets[i]));
  return { tokens, offsets };
}

export function decodeSequences(e: EncodedSequences): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < e.offsets.length; i++) out.push(Array.from(e.tokens.subarray(e.offsets[i], e.offsets[i + 1])));
  return out;
}

/**
 * Graphs back to back: graph i has numNodes[i] nodes and edges edges[2j], edges[2j+1] for j in
 * edgeOffsets[i] .. edgeOffsets[i+1]); typed graphs' node types node after node and edge types
 * edge after edge (null: the graphs carry none).
 */
export interface EncodedGraphs {
  readonly numNodes: Int32Array;
  readonly edgeOffsets: Int32Array;
  readonly edges: Int32Array;
  readonly nodeTypes: Int32Array | null;
  readonly edgeTypes: Int32Array | null;
}

export function encodeGraphs(graphs: readonly Graph[]): EncodedGraphs {
  const numNodes = Int32Array.from(graphs, (g) => g.numNodes);
  const edgeOffsets = new Int32Array(graphs.length + 1);
  graphs.forEach((g, i) => (edgeOffsets[i + 1] = edgeOffsets[i] + g.edges.length));
  const edges = new Int32Array(2 * edgeOffsets[graphs.length]);
  let at = 0;
  for (const g of graphs) {
    for (const [u, v] of g.edges) {
      edges[at++] = u;
      edges[at++] = v;
    }
  }
  // a graph without a type list has all types 0
  const types = (typed: boolean, list: (g: Graph) => readonly number[] | undefined, count: (g: Graph) => number): Int32Array | null =>
    typed ? Int32Array.from(graphs.flatMap((g) => list(g) ?? new Array<number>(count(g)).fill(0))) : null;
  return {
    numNodes,
    edgeOffsets,
    edges,
    nodeTypes: types(graphs.some((g) => g.nodeTypes), (g) => g.nodeTypes, (g) => g.numNodes),
    edgeTypes: types(graphs.some((g) => g.edgeTypes), (g) => g.edgeTypes, (g) => g.edges.length),
  };
}

export function decodeGraphs(e: EncodedGraphs): Graph[] {
  let node = 0;
  return Array.from(e.numNodes, (numNodes, i) => {
    const edges: Array<[number, number]> = [];
    for (let j = e.edgeOffsets[i]; j < e.edgeOffsets[i + 1]; j++) edges.push([e.edges[2 * j], e.edges[2 * j + 1]]);
    const g: Graph = {
      numNodes,
      edges,
      ...(e.nodeTypes ? { nodeTypes: Array.from(e.nodeTypes.subarray(node, node + numNodes)) } : {}),
      ...(e.edgeTypes ? { edgeTypes: Array.from(e.edgeTypes.subarray(e.edgeOffsets[i], e.edgeOffsets[i + 1])) } : {}),
    };
    node += numNodes;
    return g;
  });
}
