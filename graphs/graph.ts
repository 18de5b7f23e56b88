/**
 * An undirected simple graph: nodes are 0..numNodes-1, each edge listed once. A typed graph
 * (docs/design.md, 'Decision encoding') also gives every node a type 0..K-1 and every edge, in
 * `edges` order, a type 0..B-1 (indexes into a config's type names); an absent list means every
 * type is 0.
 */
export interface Graph {
  readonly numNodes: number;
  readonly edges: ReadonlyArray<readonly [number, number]>;
  readonly nodeTypes?: readonly number[];
  readonly edgeTypes?: readonly number[];
}

/** A DGMG decision sequence (docs/design.md, 'Decision encoding'). */
export type Decisions = readonly number[];

/** K node types and B edge types (docs/design.md, 'Decision encoding'): the tokens 0..K-1 and 0..B-1 add, K and B stop. */
export interface TypeCounts {
  readonly nodeTypes: number;
  readonly edgeTypes: number;
}

/** Untyped graphs: 0 = add, 1 = stop, the public DGL example's encoding. */
export const UNTYPED: TypeCounts = { nodeTypes: 1, edgeTypes: 1 };

/** Thrown for any input that does not hold a well-formed graph; `where` says which item or position. */
export class GraphFormatError extends Error {
  constructor(readonly where: string, readonly reason: string) {
    super(`${where}: ${reason}`);
    this.name = 'GraphFormatError';
  }
}

/** Checks that `g` is simple and undirected with in-range ids; throws GraphFormatError naming `where`. */
export function assertSimpleGraph(g: Graph, where: string): void {
  if (!Number.isInteger(g.numNodes) || g.numNodes < 0) throw new GraphFormatError(where, `num_nodes must be a non-negative integer, got ${g.numNodes}`);
  const seen = new Set<number>();
  for (const [u, v] of g.edges) {
    if (!Number.isInteger(u) || !Number.isInteger(v) || u < 0 || v < 0 || u >= g.numNodes || v >= g.numNodes) {
      throw new GraphFormatError(where, `edge [${u}, ${v}] has a node id outside 0..${g.numNodes - 1}`);
    }
    if (u === v) throw new GraphFormatError(where, `edge [${u}, ${v}] is a self loop`);
    const key = Math.min(u, v) * g.numNodes + Math.max(u, v);
    if (seen.has(key)) throw new GraphFormatError(where, `edge [${u}, ${v}] is listed twice`);
    seen.add(key);
  }
  const types = (list: readonly number[] | undefined, what: string, count: number, of: string): void => {
    if (list === undefined) return;
    if (list.length !== count) throw new GraphFormatError(where, `${what} has ${list.length} entries, the graph has ${count} ${of}`);
    const bad = list.findIndex((k) => !Number.isInteger(k) || k < 0);
    if (bad >= 0) throw new GraphFormatError(where, `${what}[${bad}] must be a type index (an integer >= 0), got ${list[bad]}`);
  };
  types(g.nodeTypes, 'node_types', g.numNodes, 'nodes');
  types(g.edgeTypes, 'edge_types', g.edges.length, 'edges');
}

/** Neighbour lists in edge-list order. */
export function adjacency(g: Graph): number[][] {
  const adj: number[][] = Array.from({ length: g.numNodes }, () => []);
  for (const [u, v] of g.edges) {
    adj[u].push(v);
    adj[v].push(u);
  }
  return adj;
}
