/**
 * What travels between the pool (main thread) and its worker threads (SPEC §5): decision
 * sequences, parameters, gradients and sampled graphs as flat typed arrays whose buffers are
 * transferred, never JSON; and the test-only fault injection the workers obey.
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
  /** The shard's index in its batch (0-based) and the attempt (0-based), for messages and faults. */
  readonly shard: number;
  readonly attempt: number;
  readonly params: Float32Array;
  readonly shardSeqs: EncodedSequences;
  /** Test-only fault injection (DGMG_FAULT, read by the pool); null in real runs. */
  readonly fault: Fault | null;
}

export interface TrainTaskResult {
  readonly version: number;
  readonly shard: number;
  readonly graphs: number;
  /** log p of each graph of the shard, in order. */
  readonly logLik: Float32Array;
  /** Gradient of the shard's summed negative log-likelihood, flat in layout order. */
  readonly gradSum: Float32Array;
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

/** Graphs back to back: graph i has numNodes[i] nodes and edges edges[2j], edges[2j+1] for j in edgeOffsets[i] .. edgeOffsets[i+1]). */
export interface EncodedGraphs {
  readonly numNodes: Int32Array;
  readonly edgeOffsets: Int32Array;
  readonly edges: Int32Array;
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
  return { numNodes, edgeOffsets, edges };
}

export function decodeGraphs(e: EncodedGraphs): Graph[] {
  return Array.from(e.numNodes, (numNodes, i) => {
    const edges: Array<[number, number]> = [];
    for (let j = e.edgeOffsets[i]; j < e.edgeOffsets[i + 1]; j++) edges.push([e.edges[2 * j], e.edges[2 * j + 1]]);
    return { numNodes, edges };
  });
}

/**
 * Test-only fault injection, read from DGMG_FAULT by the training pool and carried by each task to
 * the worker, which obeys it:
 * `crash:step=3:shard=1:times=1` (the worker thread exits while on that shard, on its first
 * `times` attempts), `throw:...` (the task throws instead), `nan:step=5[:shard=0]` (the shard's
 * log-likelihoods come back NaN). `step` is the 0-based step (= parameter version); `shard`
 * (0-based) defaults to every shard; `times` is a count or `always` (default 1).
 */
export interface Fault {
  readonly kind: 'crash' | 'throw' | 'nan';
  readonly step: number;
  readonly shard: number | null;
  readonly times: number;
}

export const FAULT_ENV = 'DGMG_FAULT';

export function parseFault(spec: string | undefined): Fault | null {
  if (!spec) return null;
  const [kind, ...fields] = spec.split(':');
  const bad = (why: string): never => {
    throw new Error(`${FAULT_ENV}=${JSON.stringify(spec)}: ${why} (expected e.g. crash:step=3:shard=1:times=1, throw:..., nan:step=5)`);
  };
  if (kind !== 'crash' && kind !== 'throw' && kind !== 'nan') bad(`unknown fault kind ${JSON.stringify(kind)}`);
  let step: number | null = null;
  let shard: number | null = null;
  let times = 1;
  for (const f of fields) {
    const [k, v] = f.split('=');
    const n = Number(v);
    if (k === 'times' && v === 'always') times = Infinity;
    else if (!Number.isInteger(n) || n < 0) bad(`${k} must be an integer >= 0`);
    else if (k === 'step') step = n;
    else if (k === 'shard') shard = n;
    else if (k === 'times') times = n;
    else bad(`unknown field ${JSON.stringify(k)}`);
  }
  if (step === null) bad('step= is required');
  return { kind: kind as Fault['kind'], step: step as number, shard, times };
}

/** Whether `fault` applies to this attempt of this shard of this step. */
export function faultHits(fault: Fault | null, version: number, shard: number, attempt: number): boolean {
  return fault !== null && fault.step === version && (fault.shard === null || fault.shard === shard) && (fault.kind === 'nan' || attempt < fault.times);
}
