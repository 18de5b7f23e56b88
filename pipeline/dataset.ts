import { makeFamily, type Family } from '../graphs/families';
import { NO_TYPE_NAMES, graphFileFormat, type LocatedGraph, type TypeNames } from '../graphs/formats';
import type { Decisions, Graph, TypeCounts } from '../graphs/graph';
import { GraphFormatError } from '../graphs/graph';
import { drawnPerVisit, fixedOrder, nodeOrder, type OrderKind } from '../graphs/order';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import type { RunConfig } from './config';
import { typeCounts, type StopRates } from '../model/params';
import { readTextFile } from './text';
import { valenceRuleOf } from '../model/valence';
import { constraintBreach } from '../model/constraints';
import { assertWithinValence } from '../graphs/valence';
import { assertFitsEngine, graphCostBound, sequenceCost, trainingBytes } from '../model/teacher';
import { EngineMemoryError, engineRoom } from '../model/wasm';
import { isMoleculeFile, loadMolecules, loadRDKit, type MoleculeCounts, type MoleculeFilter } from './molecules';

/** Training and held-out graphs, and the family they come from (null for a user's file). */
export interface Dataset {
  readonly train: readonly Graph[];
  readonly test: readonly Graph[];
  readonly family: Family | null;
  /** What the graphs are, for messages and summaries. */
  readonly source: string;
  /** A molecule file's counts of kept and skipped molecules; null for other data. */
  readonly molecules: MoleculeCounts | null;
}

// Independent random streams of one seed.
const STREAM = { train: 1, test: 2, split: 3, epoch: 4, order: 5 } as const;

/** Reads a .jsonl or .g6 graph file, typed graphs' type names from `names`; errors name the file and line. */
export function readGraphFile(file: string, names: TypeNames = NO_TYPE_NAMES): Graph[] {
  return locateGraphFile(file, names).map((g) => g.graph);
}

/** readGraphFile, each graph with its `file:line`. */
function locateGraphFile(file: string, names: TypeNames): LocatedGraph[] {
  return graphFileFormat(file).locate(readTextFile(file, GraphFormatError), file, names);
}

/** What reading a config's molecules skips: with data.skipInvalid, what the model cannot teach. */
export function moleculeFilterOf(c: RunConfig): MoleculeFilter {
  const skip = c.data.skipInvalid;
  return { maxAtoms: c.data.maxAtoms || null, skipOutsideTypes: skip, skipUnparsable: skip, skipFragmented: skip && c.model.constraints.includes('connected') };
}

/**
 * The dataset a config names: a file split into train and test by the seed, or a generated
 * family. A molecule file is read through RDKit, loaded here in this thread if it is not yet.
 */
export async function loadDataset(c: RunConfig, seed: number): Promise<Dataset> {
  const d = c.data;
  if (d.file) {
    const molecules = isMoleculeFile(d.file) ? loadMolecules(await loadRDKit(), d.file, c.model, moleculeFilterOf(c)) : null;
    const located = molecules ? molecules.graphs.map((graph, i) => ({ graph, where: molecules.where[i] })) : locateGraphFile(d.file, c.model);
    return splitDataset(
      located.map((g) => g.graph),
      c,
      seed,
      d.file,
      molecules?.counts ?? null,
      (i) => located[i].where,
    );
  }
  const family = makeFamily(d.family, d.familyParams);
  const draw = (stream: number, count: number, part: string): Graph[] => {
    const rng = Rng.derive(seed, stream);
    const graphs = Array.from({ length: count }, () => family.sample(rng));
    graphs.forEach((g, i) => assertModelCanTeach(g, c, `family ${d.family}: ${part} graph ${i + 1}`));
    return graphs;
  };
  return { train: draw(STREAM.train, d.trainSize, 'training'), test: draw(STREAM.test, d.testSize, 'held-out'), family, source: `family ${d.family}`, molecules: null };
}

/**
 * Refuses, naming `where`, a graph the model cannot teach: one with more nodes than its planned
 * size can draw, or one that model.constraints forbid under data.order (config validation keeps
 * connected away from the random order, so the order here is the one trained on).
 */
function assertModelCanTeach(g: Graph, c: RunConfig, where: string): void {
  const N = c.model.plannedSize;
  if (N > 0 && g.numNodes > N) throw new GraphFormatError(where, `has ${g.numNodes} nodes, more than model.plannedSize = ${N} can draw; raise model.plannedSize in the config`);
  if (!c.model.constraints.length) return;
  // under the random order only planar can be on, which reads no order; every DFS keeps connected
  const breach = constraintBreach(g, nodeOrder(g, fixedOrder(c.data.order)), c.model.constraints);
  if (breach) throw new GraphFormatError(where, breach);
}

/**
 * Why training cannot hold `g` in the engine's memory (the bytes it needs and the limit), or
 * null: under the config's node order, or under the worst order where each epoch draws one.
 * The cheap order-free bound is tried first; most graphs need no sequence.
 */
function engineMemoryProblem(c: RunConfig, g: Graph): string | null {
  const what = `a graph of ${g.numNodes} nodes and ${g.edges.length} edges`;
  const bound = graphCostBound(g.numNodes, g.edges.length);
  if (trainingBytes(c.model, bound) <= engineRoom()) return null;
  const cost = drawnPerVisit(c.data.order) ? bound : sequenceCost(c.model, graphSequence(g, c.data.order, typeCounts(c.model)));
  try {
    assertFitsEngine(c.model, cost, what);
    return null;
  } catch (e) {
    if (e instanceof EngineMemoryError) return e.message;
    throw e;
  }
}

/**
 * The graphs of a file or a caller (`source` names them; `where(i)` names graph i in messages) as
 * a dataset: split into train and test by the seed, at most data.testSize (and a fifth of them)
 * held out. Refuses a graph larger than sample.vMax, one the engine cannot hold, for a model
 * with the valence constraint a typed graph beyond the valences (a molecule kept from SMILES is
 * one RDKit sanitized from its graph, so within them: a test holds the table to RDKit), and one
 * that breaks the model's structural constraints or outgrows its planned size.
 */
export function splitDataset(
  graphs: readonly Graph[],
  c: RunConfig,
  seed: number,
  source: string,
  molecules: MoleculeCounts | null,
  where: (i: number) => string = (i) => `${source}: graph ${i + 1}`,
): Dataset {
  const rule = molecules ? null : valenceRuleOf(c.model);
  graphs.forEach((graph, i) => {
    if (rule) assertWithinValence(graph, rule, c.model, where(i));
    assertModelCanTeach(graph, c, where(i));
    if (graph.numNodes > c.sample.vMax) throw new GraphFormatError(where(i), `has ${graph.numNodes} nodes, more than sample.vMax = ${c.sample.vMax}; raise sample.vMax in the config`);
    const problem = engineMemoryProblem(c, graph);
    if (problem) throw new GraphFormatError(where(i), problem);
  });
  if (graphs.length < 2) throw new GraphFormatError(source, `needs at least 2 graphs to split into train and test, has ${graphs.length}`);
  const perm = Rng.derive(seed, STREAM.split).permutation(graphs.length);
  const testSize = Math.min(c.data.testSize, Math.floor(graphs.length / 5));
  return {
    test: perm.slice(0, testSize).map((i) => graphs[i]),
    train: perm.slice(testSize).map((i) => graphs[i]),
    family: null,
    source,
    molecules,
  };
}

/** The decision sequence of `g` for a model of `types` under an order of the given kind (random needs `rng`). */
export function graphSequence(g: Graph, order: OrderKind, types: TypeCounts, rng?: Rng): number[] {
  return encodeGraph(g, nodeOrder(g, order, rng), types);
}

/** One training batch: the decision sequences of step `step` (0-based, counted over the whole run). */
export interface Batch {
  readonly step: number;
  readonly epoch: number;
  readonly sequences: readonly Decisions[];
}

/**
 * The training data as decision sequences, epoch by epoch, in batches. Batch `step` is a pure
 * function of (seed, step), so a resumed run sees exactly the batches the uninterrupted run would
 * have. Each epoch visits the training graphs in a fresh permutation (the last batch of an epoch
 * may be short); with an order drawn per visit (`random`, `random-dfs`, `random-ring-dfs`), each visit draws a fresh one.
 */
export class BatchSource {
  readonly batchesPerEpoch: number;
  /** The sequences of a fixed order, encoded once; null for an order drawn per visit. */
  private readonly fixed: Decisions[] | null;

  constructor(
    private readonly train: readonly Graph[],
    private readonly order: OrderKind,
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly types: TypeCounts,
  ) {
    this.batchesPerEpoch = Math.ceil(train.length / batchSize);
    this.fixed = drawnPerVisit(order) ? null : train.map((g) => graphSequence(g, order, types));
  }

  /**
   * Batches `from` .. `to` - 1, each made only when the generator is pulled for it: the visiting
   * order is drawn once per epoch, the sequences once per batch.
   */
  *batches(from: number, to: number): Generator<Batch, void, undefined> {
    for (let epoch = Math.floor(from / this.batchesPerEpoch); epoch * this.batchesPerEpoch < to; epoch++) {
      const perm = Rng.derive(this.seed, STREAM.epoch * 1_000_003 + epoch).permutation(this.train.length);
      const first = Math.max(from, epoch * this.batchesPerEpoch);
      const last = Math.min(to, (epoch + 1) * this.batchesPerEpoch);
      for (let step = first; step < last; step++) {
        const at = (step - epoch * this.batchesPerEpoch) * this.batchSize;
        yield { step, epoch, sequences: perm.slice(at, at + this.batchSize).map((i) => this.sequence(epoch, i)) };
      }
    }
  }

  /** Training graph i's sequence in `epoch`. */
  private sequence(epoch: number, i: number): Decisions {
    if (this.fixed) return this.fixed[i];
    return graphSequence(this.train[i], this.order, this.types, Rng.derive(this.seed, STREAM.order * 1_000_003 + epoch * this.train.length + i));
  }
}

/**
 * The share of stop decisions among all add-node decisions, and of "no more edges" among all
 * add-edge decisions, in the decision sequences of `graphs` (the same under every node order: a
 * graph of n nodes and m edges makes n + 1 add-node decisions, one a stop, and n + m add-edge
 * decisions, n of them "no more"); the share of graphs with no nodes; and the share of each node
 * and edge type (untyped: all type 0).
 */
export function stopRates(graphs: readonly Graph[]): StopRates {
  let nodes = 0;
  let edges = 0;
  const nodeTypes: number[] = [0];
  const edgeTypes: number[] = [0];
  const tally = (counts: number[], types: readonly number[] | undefined, total: number): void => {
    if (!types) counts[0] += total;
    else for (const k of types) counts[k] = (counts[k] ?? 0) + 1;
  };
  for (const g of graphs) {
    nodes += g.numNodes;
    edges += g.edges.length;
    tally(nodeTypes, g.nodeTypes, g.numNodes);
    tally(edgeTypes, g.edgeTypes, g.edges.length);
  }
  const clamp = (p: number): number => Math.min(Math.max(p, 1e-4), 1 - 1e-4);
  const empty = graphs.filter((g) => g.numNodes === 0).length / Math.max(graphs.length, 1);
  const shares = (counts: number[], total: number): number[] => Array.from(counts, (c) => (c ?? 0) / Math.max(total, 1));
  return {
    addNode: clamp(graphs.length / (nodes + graphs.length)),
    addEdge: clamp(nodes / Math.max(nodes + edges, 1)),
    empty: clamp(empty),
    nodeTypes: shares(nodeTypes, nodes),
    edgeTypes: shares(edgeTypes, edges),
  };
}
