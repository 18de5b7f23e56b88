import { Decisions, Graph, GraphFormatError, UNTYPED, assertSimpleGraph, type TypeCounts } from './graph';

/** A malformed decision sequence; `position` is the index of the offending token (or the length, when it ends early). */
export class SequenceError extends GraphFormatError {
  constructor(readonly position: number, reason: string) {
    super(`position ${position}`, reason);
    this.name = 'SequenceError';
  }
}

/**
 * The decision sequence (docs/design.md, 'Decision encoding') of `g` with node `order[i]` placed at position i, for a model of
 * `types` node and edge types (untyped: g's types are ignored and every add is token 0). Each
 * node's earlier neighbours come newest first (descending position), as the DGL example's cycles
 * do, so the sequence depends on the graph, its types and the order only, never on how `g.edges`
 * lists or orients its pairs: a file's edge order would otherwise change what the model is taught
 * (networkx ladders encoded in ascending order trained to 32% valid, newest first to 98.6%).
 */
export function encodeGraph(g: Graph, order?: readonly number[], types: TypeCounts = UNTYPED): number[] {
  assertSimpleGraph(g, 'encodeGraph');
  const nodeType = typeReader(g.nodeTypes, types.nodeTypes, 'node');
  const edgeType = typeReader(g.edgeTypes, types.edgeTypes, 'edge');
  const position = positionsOf(order ?? Array.from({ length: g.numNodes }, (_, i) => i), g.numNodes);
  const node = new Int32Array(g.numNodes);
  position.forEach((p, v) => (node[p] = nodeType(v)));
  // earlier[p]: [destination position, edge type] of node p's earlier neighbours
  const earlier: Array<Array<[number, number]>> = Array.from({ length: g.numNodes }, () => []);
  g.edges.forEach(([u, v], e) => {
    const pu = position[u];
    const pv = position[v];
    earlier[Math.max(pu, pv)].push([Math.min(pu, pv), edgeType(e)]);
  });
  const out: number[] = [];
  earlier.forEach((destinations, p) => {
    destinations.sort((a, b) => b[0] - a[0]);
    out.push(node[p]);
    for (const [d, b] of destinations) out.push(b, d);
    out.push(types.edgeTypes);
  });
  out.push(types.nodeTypes);
  return out;
}

/** Type of item i from `list` (absent: 0), refused when the model has fewer than `count` types of that kind. */
function typeReader(list: readonly number[] | undefined, count: number, kind: 'node' | 'edge'): (i: number) => number {
  if (!Number.isInteger(count) || count < 1) throw new Error(`encodeGraph: the number of ${kind} types must be a positive integer, got ${count}`);
  if (!list || count === 1) return () => 0;
  return (i) => {
    if (list[i] >= count) throw new GraphFormatError('encodeGraph', `${kind} ${i} has type ${list[i]}, the model has ${kind} types 0..${count - 1}`);
    return list[i];
  };
}

function positionsOf(order: readonly number[], n: number): Int32Array {
  if (order.length !== n) throw new Error(`node order has ${order.length} entries, the graph has ${n} nodes`);
  const position = new Int32Array(n).fill(-1);
  order.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`node order entry ${i} is ${v}, not a node id in 0..${n - 1}`);
    if (position[v] !== -1) throw new Error(`node order lists node ${v} twice (entries ${position[v]} and ${i})`);
    position[v] = i;
  });
  return position;
}

/**
 * The graph a decision sequence for `types` node and edge types builds: node i is the i-th added
 * node and edges are [i, d] in sequence order; with more than one node (edge) type the graph
 * carries nodeTypes (edgeTypes). encodeGraph(decodeDecisions(s)) reproduces s exactly when each
 * node's destinations descend, as in every sequence encodeGraph writes; a sequence that adds them
 * in another order (a sampler may) is still valid, builds the same graph, and re-encodes newest first.
 */
export function decodeDecisions(s: Decisions, types: TypeCounts = UNTYPED): Graph {
  const K = types.nodeTypes;
  const B = types.edgeTypes;
  const edges: Array<readonly [number, number]> = [];
  const nodeTypes: number[] = [];
  const edgeTypes: number[] = [];
  let p = 0;
  const take = (what: string): number => {
    if (p >= s.length) throw new SequenceError(p, `sequence ends where ${what} is due (missing final stop)`);
    const token = s[p];
    if (!Number.isInteger(token)) throw new SequenceError(p, `${what} must be an integer, got ${token}`);
    return token;
  };
  // a type 0..count-1, or count = stop
  const decision = (what: string, count: number, kind: string, stop: string): number => {
    const token = take(what);
    if (token < 0 || token > count) {
      throw new SequenceError(p, `${what} must be ${count === 1 ? '0 or 1' : `0..${count} (a ${kind} type 0..${count - 1}, or ${count} = ${stop})`}, got ${token}`);
    }
    p++;
    return token;
  };

  let numNodes = 0;
  for (let k = decision('add-node decision', K, 'node', 'stop'); k < K; k = decision('add-node decision', K, 'node', 'stop')) {
    const i = numNodes++;
    nodeTypes.push(k);
    const destinations = new Set<number>();
    for (let b = decision(`add-edge decision for node ${i}`, B, 'edge', 'no more edges'); b < B; b = decision(`add-edge decision for node ${i}`, B, 'edge', 'no more edges')) {
      const d = take(`destination for node ${i}`);
      if (d === i) throw new SequenceError(p, `destination ${d} is node ${i} itself (self loop)`);
      if (d < 0 || d >= i) {
        throw new SequenceError(p, i === 0 ? `destination ${d} out of range: node 0 has no earlier node` : `destination ${d} out of range 0..${i - 1}`);
      }
      if (destinations.has(d)) throw new SequenceError(p, `edge ${i}-${d} repeated`);
      destinations.add(d);
      edges.push([i, d]);
      edgeTypes.push(b);
      p++;
    }
  }
  if (p < s.length) throw new SequenceError(p, `${s.length - p} trailing token(s) after the final stop`);
  return { numNodes, edges, ...(K > 1 ? { nodeTypes } : {}), ...(B > 1 ? { edgeTypes } : {}) };
}
