import { Decisions, Graph, GraphFormatError, assertSimpleGraph } from './graph';

/** A malformed decision sequence; `position` is the index of the offending token (or the length, when it ends early). */
export class SequenceError extends GraphFormatError {
  constructor(readonly position: number, reason: string) {
    super(`position ${position}`, reason);
    this.name = 'SequenceError';
  }
}

/**
 * The SPEC §2 decision sequence of `g` with node `order[i]` placed at position i. Each node's
 * earlier neighbours come newest first (descending position), as the DGL example's cycles do, so
 * the sequence depends on the graph and the order only, never on how `g.edges` lists or orients
 * its pairs: a file's edge order would otherwise change what the model is taught (networkx
 * ladders encoded in ascending order trained to 32% valid, newest first to 98.6%).
 */
export function encodeGraph(g: Graph, order?: readonly number[]): number[] {
  assertSimpleGraph(g, 'encodeGraph');
  const position = positionsOf(order ?? Array.from({ length: g.numNodes }, (_, i) => i), g.numNodes);
  const earlier: number[][] = Array.from({ length: g.numNodes }, () => []);
  for (const [u, v] of g.edges) {
    const pu = position[u];
    const pv = position[v];
    earlier[Math.max(pu, pv)].push(Math.min(pu, pv));
  }
  const out: number[] = [];
  for (const destinations of earlier) {
    destinations.sort((a, b) => b - a);
    out.push(0);
    for (const d of destinations) out.push(0, d);
    out.push(1);
  }
  out.push(1);
  return out;
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
 * The graph a decision sequence builds: node i is the i-th added node and edges are [i, d] in
 * sequence order. encodeGraph(decodeDecisions(s)) reproduces s exactly when each node's
 * destinations descend, as in every sequence encodeGraph writes; a sequence that adds them in
 * another order (a sampler may) is still valid, builds the same graph, and re-encodes newest first.
 */
export function decodeDecisions(s: Decisions): Graph {
  const edges: Array<readonly [number, number]> = [];
  let p = 0;
  const take = (what: string): number => {
    if (p >= s.length) throw new SequenceError(p, `sequence ends where ${what} is due (missing final stop)`);
    const token = s[p];
    if (!Number.isInteger(token)) throw new SequenceError(p, `${what} must be an integer, got ${token}`);
    return token;
  };
  const decision = (what: string): number => {
    const token = take(what);
    if (token !== 0 && token !== 1) throw new SequenceError(p, `${what} must be 0 or 1, got ${token}`);
    p++;
    return token;
  };

  let numNodes = 0;
  while (decision('add-node decision') === 0) {
    const i = numNodes++;
    const destinations = new Set<number>();
    while (decision(`add-edge decision for node ${i}`) === 0) {
      const d = take(`destination for node ${i}`);
      if (d === i) throw new SequenceError(p, `destination ${d} is node ${i} itself (self loop)`);
      if (d < 0 || d >= i) {
        throw new SequenceError(p, i === 0 ? `destination ${d} out of range: node 0 has no earlier node` : `destination ${d} out of range 0..${i - 1}`);
      }
      if (destinations.has(d)) throw new SequenceError(p, `edge ${i}-${d} repeated`);
      destinations.add(d);
      edges.push([i, d]);
      p++;
    }
  }
  if (p < s.length) throw new SequenceError(p, `${s.length - p} trailing token(s) after the final stop`);
  return { numNodes, edges };
}
