import { TrainPool } from '../actors/pool';
import { gridGraph } from '../graphs/families';
import type { Graph } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { encodeGraph } from '../graphs/sequence';
import { DEFAULT_MODEL, initParams, paramLayout, paramView } from '../model/params';
import { sampleGraphs } from '../model/sample';
import { shardGradients } from '../model/teacher';
import { arena } from '../model/wasm';
import { renderCurveSvg } from '../draw/svg';
import { configFromJson } from '../pipeline/config';
import { median } from './throughput';

/**
 * How the engine's cost grows with graph size (docs/speed.md, 'Cost growth'), one thread, the
 * default model: training (teacher-forced forward and backward, one graph a pass, so the figure
 * is the engine's cost per graph at that size) and sampling graphs of the same size, in graphs
 * per second and the engine memory the pass lays out. Two kinds of graph: grids (2 back edges a
 * node) and random block-model graphs in the style of SPECTRE's SBM (blocks of 30-45 nodes, edge
 * probability 0.3 inside a block and 0.05 between: ~10 back edges a node at 180 nodes).
 */

export interface GrowthRow {
  readonly kind: 'grid' | 'sbm';
  readonly what: 'train' | 'sample';
  readonly nodes: number;
  readonly edges: number;
  readonly graphsPerSecond: number;
  /** The engine memory (arena) the pass laid out, MB. */
  readonly engineMB: number;
}

/** Node counts of the table: Planar's 64, SBM's ~180, the largest grid (19 x 19). */
export const GROWTH_SIZES = [64, 180, 361] as const;

/** A block-model graph of `nodes` nodes: blocks of 30-45 nodes, p = 0.3 inside, 0.05 between. */
export function blockModelGraph(nodes: number, rng: Rng): Graph {
  const blocks = Math.max(1, Math.round(nodes / 40));
  const block = Array.from({ length: nodes }, (_, v) => Math.floor((v * blocks) / nodes));
  const edges: Array<[number, number]> = [];
  for (let v = 1; v < nodes; v++) for (let u = 0; u < v; u++) if (rng.uniform() < (block[u] === block[v] ? 0.3 : 0.05)) edges.push([v, u]);
  return { numNodes: nodes, edges };
}

/** The grid of about `nodes` nodes: 8 x 8, 12 x 15, 19 x 19. */
function gridOf(nodes: number): Graph {
  const rows = Math.round(Math.sqrt(nodes));
  return gridGraph(rows, Math.round(nodes / rows));
}

/** Runs `fn` (returning graphs done) for `seconds`, at least twice; graphs per second of the median pass. */
function rate(seconds: number, fn: () => number): number {
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 2 || performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    const graphs = fn();
    times.push((performance.now() - t0) / 1000 / graphs);
  }
  return 1 / median(times);
}

/** The engine memory the last pass laid out, MB. */
function engineMB(base: number): number {
  return Math.round((arena().mark() - base) / 1e6);
}

/**
 * Parameters whose sampler makes graphs of exactly v_max nodes and about `backEdges` edges to
 * earlier nodes per node: the add heads read their biases only (weights 0), add-node never
 * stops, add-edge stops with probability 1 / (backEdges + 1).
 */
function sizedSampler(backEdges: number): Float32Array {
  const layout = paramLayout(DEFAULT_MODEL);
  const flat = initParams(layout, 0);
  paramView(layout, flat, 'addNode.stop.w').fill(0);
  paramView(layout, flat, 'addEdge.stop.w').fill(0);
  paramView(layout, flat, 'addNode.stop.b')[0] = -40;
  paramView(layout, flat, 'addEdge.stop.b')[0] = -Math.log(backEdges);
  return flat;
}

export function growthRows(seconds: number): GrowthRow[] {
  const cfg = DEFAULT_MODEL;
  const layout = paramLayout(cfg);
  const params = initParams(layout, 0);
  const a = arena();
  a.reset();
  const base = a.mark();
  const rows: GrowthRow[] = [];
  for (const kind of ['grid', 'sbm'] as const) {
    for (const nodes of GROWTH_SIZES) {
      const g = kind === 'grid' ? gridOf(nodes) : blockModelGraph(nodes, new Rng(nodes));
      const seq = encodeGraph(g);
      const train = rate(seconds, () => shardGradients(cfg, layout, params, [seq]).logLik.length);
      rows.push({ kind, what: 'train', nodes: g.numNodes, edges: g.edges.length, graphsPerSecond: train, engineMB: engineMB(base) });
      const flat = sizedSampler(g.edges.length / g.numNodes);
      let seed = 0;
      let edges = 0;
      const sample = rate(seconds, () => {
        const [s] = sampleGraphs(cfg, layout, flat, [new Rng(seed++)], g.numNodes);
        edges = s.edges.length;
        return 1;
      });
      rows.push({ kind, what: 'sample', nodes: g.numNodes, edges, graphsPerSecond: sample, engineMB: engineMB(base) });
    }
  }
  return rows;
}

/**
 * Two workers against one on shards of large graphs: a batch of `graphs` grids of about `nodes`
 * nodes as one shard on a 1-worker pool, and as two half shards on a 2-worker pool, alternated
 * `pairs` times; the median of the pairs' time ratios (1 worker / 2 workers).
 */
export async function twoWorkerRatio(nodes: number, graphs: number, pairs: number): Promise<number> {
  const config = configFromJson({}, 'cost growth');
  const params = initParams(paramLayout(config.model), 0);
  const batch = Array.from({ length: graphs }, () => encodeGraph(gridOf(nodes)));
  const pools = [new TrainPool(config, 1), new TrainPool(config, 2)];
  const shards = [[batch], [batch.slice(0, graphs / 2), batch.slice(graphs / 2)]];
  const seconds = async (i: number): Promise<number> => {
    const t0 = performance.now();
    await pools[i].run(0, params, shards[i]);
    return performance.now() - t0;
  };
  try {
    await seconds(0);
    await seconds(1);
    const ratios: number[] = [];
    for (let p = 0; p < pairs; p++) ratios.push((await seconds(0)) / (await seconds(1)));
    return median(ratios);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/** The table as aligned text. */
export function growthTable(rows: readonly GrowthRow[]): string {
  const head = 'graphs  what    nodes  edges  graphs/s  engine MB';
  const lines = rows.map((r) => `${r.kind.padEnd(6)}  ${r.what.padEnd(6)}  ${String(r.nodes).padStart(5)}  ${String(r.edges).padStart(5)}  ${r.graphsPerSecond.toPrecision(3).padStart(8)}  ${String(r.engineMB).padStart(9)}`);
  return [head, ...lines].join('\n');
}

/** One figure of the rows against nodes, a line per kind of graph and pass: log10 graphs/s, or engine MB. */
export function renderGrowthSvg(rows: readonly GrowthRow[], figure: 'speed' | 'memory', title: string): string {
  const y = (r: GrowthRow): number => (figure === 'speed' ? Math.log10(r.graphsPerSecond) : r.engineMB);
  const series = (['grid', 'sbm'] as const).flatMap((kind) =>
    (['train', 'sample'] as const).map((what) => ({
      name: `${kind} ${what}`,
      points: rows.filter((r) => r.kind === kind && r.what === what).map((r) => [r.nodes, y(r)] as [number, number]),
    })),
  );
  const yLabel = figure === 'speed' ? 'log10 graphs per second, one thread' : 'engine memory of one graph, MB';
  return renderCurveSvg(series, { title, xLabel: 'nodes per graph', yLabel });
}
