import t from 'tap';
import { Graph, GraphFormatError } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { ORDER_KINDS, nodeOrder } from '../graphs/order';
import { SequenceError, decodeDecisions, encodeGraph } from '../graphs/sequence';
import { differs, firstWrong, forAll, trials } from './property';

function randomGraph(n: number, p: number, rng: Rng): Graph {
  const edges: Array<readonly [number, number]> = [];
  for (let v = 1; v < n; v++) {
    for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  }
  return { numNodes: n, edges: rng.permutation(edges.length).map((i) => edges[i]) };
}

const edgeSet = (g: Graph): string[] => g.edges.map(([u, v]) => `${Math.min(u, v)}-${Math.max(u, v)}`).sort();

t.test('encodeGraph writes the layout of the decision encoding', async (t) => {
  t.same(encodeGraph({ numNodes: 0, edges: [] }), [1], 'no nodes: only the stop');
  t.same(encodeGraph({ numNodes: 1, edges: [] }), [0, 1, 1]);
  t.same(encodeGraph({ numNodes: 3, edges: [[0, 1], [1, 2]] }), [0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1], 'path 0-1-2');
  // Node 3's earlier neighbours come newest first (2, 1, 0), whatever order the edge list gives.
  t.same(
    encodeGraph({ numNodes: 4, edges: [[3, 1], [3, 0], [3, 2], [1, 0]] }),
    [0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1],
  );
});

t.test('the sequence depends on the graph and the node order only, not on the edge listing', async (t) => {
  const rng = new Rng(5);
  forAll(t, 'every order and sequence the same for the graph relisted', trials(200), (trial) => {
    const g = randomGraph(rng.int(0, 20), rng.uniform(), rng);
    // the same graph listed in another order, with some pairs written the other way round
    const relisted: Graph = {
      numNodes: g.numNodes,
      edges: rng.permutation(g.edges.length).map((i) => (rng.uniform() < 0.5 ? [g.edges[i][1], g.edges[i][0]] : g.edges[i])),
    };
    return firstWrong(
      ...ORDER_KINDS.flatMap((kind) => {
        const order = (graph: Graph): number[] => nodeOrder(graph, kind, new Rng(trial));
        return [differs(order(relisted), order(g), `${kind} order of ${JSON.stringify(g)}`), differs(encodeGraph(relisted, order(relisted)), encodeGraph(g, order(g)), `${kind} sequence of ${JSON.stringify(g)}`)];
      }),
    );
  });
});

t.test('earlier neighbours are listed newest first', async (t) => {
  const rng = new Rng(6);
  forAll(t, 'newest first under a random order', trials(100), () => {
    const g = randomGraph(rng.int(1, 20), rng.uniform(), rng);
    const s = encodeGraph(g, rng.permutation(g.numNodes));
    return newestFirst(s) ? null : `not newest first: ${JSON.stringify(s)}`;
  });
  t.notOk(newestFirst([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1]), 'the check can fail');
});

t.test('encodeGraph places order[i] at position i', async (t) => {
  const g: Graph = { numNodes: 3, edges: [[0, 2], [1, 2]] };
  // Node 2 first: both others then point back to position 0.
  t.same(encodeGraph(g, [2, 0, 1]), [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1]);
  t.same(encodeGraph(g, [0, 1, 2]), [0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1], 'node 2: newest neighbour 1 first');
});

t.test('encodeGraph refuses an order that is not a permutation, and non-simple graphs', async (t) => {
  const g: Graph = { numNodes: 3, edges: [[0, 1]] };
  t.throws(() => encodeGraph(g, [0, 1]), /2 entries, the graph has 3 nodes/);
  t.throws(() => encodeGraph(g, [0, 1, 1]), /lists node 1 twice/);
  t.throws(() => encodeGraph(g, [0, 1, 3]), /entry 2 is 3, not a node id in 0\.\.2/);
  t.throws(() => encodeGraph(g, [0, 1.5, 2]), /entry 1 is 1\.5/);
  t.throws(() => encodeGraph({ numNodes: 2, edges: [[0, 1], [1, 0]] }), GraphFormatError);
  t.throws(() => encodeGraph({ numNodes: 2, edges: [[1, 1]] }), /self loop/);
});

t.test('length is 2n + 1 + 2m and decode inverts encode under any order', async (t) => {
  const rng = new Rng(7);
  forAll(t, 'length 2n + 1 + 2m; decode gives the graph in that order; encode(decode(s)) == s', trials(200), () => {
    const g = randomGraph(rng.int(0, 25), rng.uniform(), rng);
    const order = rng.permutation(g.numNodes);
    const s = encodeGraph(g, order);
    const back = decodeDecisions(s);
    const position = new Map(order.map((v, i) => [v, i]));
    return firstWrong(
      differs(s.length, 2 * g.numNodes + 1 + 2 * g.edges.length, `length of ${JSON.stringify(s)}`),
      differs(back.numNodes, g.numNodes, 'nodes'),
      differs(edgeSet(back), edgeSet({ numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [position.get(u) ?? -1, position.get(v) ?? -1] as const) }), `edges of ${JSON.stringify(g)} in order ${order}`),
      differs(encodeGraph(back), s, 'encode(decode(s))'),
    );
  });
});

t.test('decodeDecisions returns edges as [i, d] in sequence order', async (t) => {
  t.same(decodeDecisions([0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1]), { numNodes: 3, edges: [[1, 0], [2, 1], [2, 0]] });
  t.same(decodeDecisions([1]), { numNodes: 0, edges: [] });
});

t.test('decodeDecisions rejects malformed sequences with position and reason', async (t) => {
  const cases: Array<[number[], number, RegExp]> = [
    [[], 0, /ends where add-node decision is due/],
    [[0, 1], 2, /missing final stop/],
    [[0, 1, 0, 0], 4, /destination for node 1 is due/],
    [[0], 1, /add-edge decision for node 0 is due/],
    [[2], 0, /add-node decision must be 0 or 1, got 2/],
    [[0, 1.5], 1, /add-edge decision for node 0 must be an integer, got 1.5/],
    [[0, 1, NaN], 2, /must be an integer, got NaN/],
    [[0, 2], 1, /add-edge decision for node 0 must be 0 or 1, got 2/],
    [[0, 1, 0, 0, 5, 1, 1], 4, /^destination 5 out of range 0\.\.0$/],
    [[0, 1, 0, 0, -1, 1, 1], 4, /destination -1 out of range 0\.\.0/],
    [[0, 0, 1, 1, 1], 2, /destination 1 out of range: node 0 has no earlier node/],
    [[0, 0, 0, 1, 1], 2, /destination 0 is node 0 itself \(self loop\)/],
    [[0, 1, 0, 0, 1, 1, 1], 4, /self loop/],
    [[0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1], 8, /edge 2-0 repeated/],
    [[0, 1, 0, 1, 0, 0, 1, 0, 0.5, 1, 1], 8, /destination for node 2 must be an integer/],
    [[1, 0], 1, /1 trailing token\(s\) after the final stop/],
    [[0, 1, 1, 1, 1], 3, /2 trailing token/],
  ];
  for (const [s, position, reason] of cases) {
    const err = t.throws(() => decodeDecisions(s), SequenceError, JSON.stringify(s)) as SequenceError;
    t.ok(err instanceof GraphFormatError, 'is a GraphFormatError');
    t.equal(err.position, position, `position for ${JSON.stringify(s)}`);
    t.match(err.reason, reason, `reason for ${JSON.stringify(s)}`);
    t.equal(err.message, `position ${position}: ${err.reason}`);
  }
});

t.test('a valid sequence that adds a node\'s edges oldest first builds the same graph and re-encodes newest first', async (t) => {
  const s = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1];
  t.same(decodeDecisions(s), { numNodes: 3, edges: [[1, 0], [2, 0], [2, 1]] });
  t.same(encodeGraph(decodeDecisions(s)), [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1]);
});

// Whether every node's destinations descend (the sequences encodeGraph writes).
function newestFirst(s: readonly number[]): boolean {
  let i = 0;
  while (s[i++] === 0) {
    let last = Infinity;
    while (s[i++] === 0) {
      if (!(s[i] < last)) return false;
      last = s[i++];
    }
  }
  return true;
}

t.test('a corrupted sequence fails to decode, or re-encodes to itself when newest first', async (t) => {
  const rng = new Rng(11);
  let rejected = 0;
  let reordered = 0;
  forAll(t, 'a corrupted sequence is refused at a position inside it, or decodes to a graph that re-encodes', trials(2000), () => {
    const s = encodeGraph(randomGraph(rng.int(0, 8), 0.5, rng));
    const k = rng.int(0, s.length - 1);
    const kind = rng.int(0, 2);
    if (kind === 0) s[k] = rng.int(-1, 8);
    else if (kind === 1) s.splice(k, 1);
    else s.splice(k, 0, rng.int(-1, 8));
    try {
      const g = decodeDecisions(s);
      if (newestFirst(s)) return differs(encodeGraph(g), s, `re-encoding ${JSON.stringify(s)}`);
      reordered++;
      const again = decodeDecisions(encodeGraph(g));
      return firstWrong(differs(again.numNodes, g.numNodes, `nodes of ${JSON.stringify(s)} re-encoded`), differs(edgeSet(again), edgeSet(g), `edges of ${JSON.stringify(s)} re-encoded`));
    } catch (e) {
      if (!(e instanceof SequenceError)) throw e;
      rejected++;
      return e.position >= 0 && e.position <= s.length ? null : `position ${e.position} outside ${JSON.stringify(s)}`;
    }
  });
  t.ok(rejected > 500, `most corruptions are caught (${rejected})`);
  t.ok(reordered > 0 && reordered < rejected, `some are valid in another edge order (${reordered})`);
});

t.test('typed graphs: add-node token = node type, add-edge token = edge type, K and B stop', async (t) => {
  const types = { nodeTypes: 3, edgeTypes: 2 };
  // path 0-1-2, node types 2, 0, 1; edge 0-1 of type 1, edge 1-2 of type 0
  const g: Graph = { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [2, 0, 1], edgeTypes: [1, 0] };
  t.same(encodeGraph(g, undefined, types), [2, 2, 0, 1, 0, 2, 1, 0, 1, 2, 3]);
  t.same(decodeDecisions([2, 2, 0, 1, 0, 2, 1, 0, 1, 2, 3], types), { numNodes: 3, edges: [[1, 0], [2, 1]], nodeTypes: [2, 0, 1], edgeTypes: [1, 0] });
  t.same(encodeGraph(g), [0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1], 'an untyped model reads the same graph untyped');
  // newest first keeps each destination's edge type with it
  const star: Graph = { numNodes: 3, edges: [[2, 0], [1, 2]], edgeTypes: [0, 1] };
  t.same(encodeGraph(star, undefined, types), [0, 2, 0, 2, 0, 1, 1, 0, 0, 2, 3]);
  t.throws(() => encodeGraph({ ...g, nodeTypes: [2, 3, 0] }, undefined, types), /node 1 has type 3, the model has node types 0\.\.2/);
  t.throws(() => encodeGraph({ ...g, edgeTypes: [0, 2] }, undefined, types), /edge 1 has type 2, the model has edge types 0\.\.1/);
  t.throws(() => encodeGraph({ ...g, nodeTypes: [0, 1] }, undefined, types), /node_types has 2 entries, the graph has 3 nodes/);
  t.throws(() => encodeGraph({ ...g, edgeTypes: [0, 0.5] }, undefined, types), /edge_types\[1\] must be a type index/);
});

t.test('typed sequences round-trip under any order, and the length is still 2n + 1 + 2m', async (t) => {
  const rng = new Rng(23);
  for (const types of [{ nodeTypes: 3, edgeTypes: 3 }, { nodeTypes: 4, edgeTypes: 1 }, { nodeTypes: 1, edgeTypes: 2 }]) {
    forAll(t, `${JSON.stringify(types)}: length 2n + 1 + 2m, encode(decode(s)) == s, every node and edge keeps its type`, trials(60), () => {
      const base = randomGraph(rng.int(0, 15), rng.uniform(), rng);
      const g: Graph = { ...base, nodeTypes: Array.from({ length: base.numNodes }, () => rng.int(0, types.nodeTypes - 1)), edgeTypes: base.edges.map(() => rng.int(0, types.edgeTypes - 1)) };
      const order = rng.permutation(g.numNodes);
      const s = encodeGraph(g, order, types);
      const back = decodeDecisions(s, types);
      // every node keeps its type at its position (one node type: no list), every edge its type
      const position = new Map(order.map((v, i) => [v, i]));
      const typeOf = (h: Graph, map: (v: number) => number): string[] =>
        h.edges.map(([u, v], e) => `${Math.min(map(u), map(v))}-${Math.max(map(u), map(v))}:${types.edgeTypes > 1 ? (h.edgeTypes ?? [])[e] : 0}`).sort();
      return firstWrong(
        differs(s.length, 2 * g.numNodes + 1 + 2 * g.edges.length, `length of ${JSON.stringify(s)}`),
        differs(encodeGraph(back, undefined, types), s, 'encode(decode(s))'),
        differs(back.nodeTypes, types.nodeTypes > 1 ? order.map((v) => (g.nodeTypes ?? [])[v]) : undefined, `node types of ${JSON.stringify(g)}`),
        differs(typeOf(back, (v) => v), typeOf(g, (v) => position.get(v) ?? -1), `typed edges of ${JSON.stringify(g)}`),
      );
    });
  }
});

t.test('decodeDecisions rejects typed sequences with a type out of range, with position and reason', async (t) => {
  const types = { nodeTypes: 3, edgeTypes: 2 };
  const cases: Array<[number[], number, RegExp]> = [
    [[4], 0, /^add-node decision must be 0\.\.3 \(a node type 0\.\.2, or 3 = stop\), got 4$/],
    [[-1], 0, /add-node decision must be 0\.\.3/],
    [[1, 3], 1, /^add-edge decision for node 0 must be 0\.\.2 \(an? edge type 0\.\.1, or 2 = no more edges\), got 3$/],
    [[1, 2, 0, 5], 3, /add-edge decision for node 1 must be 0\.\.2/],
    [[1, 2, 0, 1, 1, 2, 3], 4, /destination 1 is node 1 itself \(self loop\)/],
    [[1, 2, 3, 0], 3, /1 trailing token/],
    [[1, 2], 2, /add-node decision is due/],
  ];
  for (const [s, position, reason] of cases) {
    const err = t.throws(() => decodeDecisions(s, types), SequenceError, JSON.stringify(s)) as SequenceError;
    t.equal(err.position, position, `position for ${JSON.stringify(s)}`);
    t.match(err.reason, reason, `reason for ${JSON.stringify(s)}`);
  }
  t.throws(() => decodeDecisions([0, 1, 1], types), /position 2: destination 1 out of range: node 0 has no earlier node/, 'an untyped sequence read as typed: its stop 1 is an edge type here');
});
