import t from 'tap';
import { Graph, GraphFormatError } from '../graphs/graph';
import { Rng } from '../graphs/random';
import { formatGraph6, formatJsonlLine, graphFileFormat, parseGraph6, parseGraph6File, parseJsonl, parseJsonlLine } from '../graphs/formats';

function randomGraph(n: number, p: number, rng: Rng): Graph {
  const edges: Array<readonly [number, number]> = [];
  for (let v = 1; v < n; v++) {
    for (let u = 0; u < v; u++) if (rng.uniform() < p) edges.push(rng.uniform() < 0.5 ? [u, v] : [v, u]);
  }
  return { numNodes: n, edges: rng.permutation(edges.length).map((i) => edges[i]) };
}

/** The graph6 column order: by larger endpoint, then smaller, each edge as [smaller, larger]. */
const columnOrder = (g: Graph): Array<[number, number]> =>
  g.edges.map(([u, v]): [number, number] => [Math.min(u, v), Math.max(u, v)]).sort((a, b) => a[1] - b[1] || a[0] - b[0]);

t.test('JSONL lines parse and format as docs/design.md shows them', async (t) => {
  const line = '{"num_nodes": 12, "edges": [[0, 1], [1, 2]]}';
  const g = parseJsonlLine(line, 'x');
  t.same(g, { numNodes: 12, edges: [[0, 1], [1, 2]] });
  t.equal(formatJsonlLine(g), line);
  t.equal(formatJsonlLine({ numNodes: 0, edges: [] }), '{"num_nodes": 0, "edges": []}');
  t.same(parseJsonlLine(' {"edges":[],"num_nodes":3} ', 'x'), { numNodes: 3, edges: [] }, 'key order and spacing are free');
});

t.test('JSONL lines round-trip', async (t) => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 50; trial++) {
    const g = randomGraph(rng.int(0, 30), rng.uniform(), rng);
    t.same(parseJsonlLine(formatJsonlLine(g), 'x'), { numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [u, v]) });
  }
});

t.test('bad JSONL lines are refused with where and reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{"num_nodes": 2, "edges": [[0, 1]]', /invalid JSON/],
    ['', /invalid JSON/],
    ['[2, [[0, 1]]]', /expected an object/],
    ['null', /expected an object/],
    ['{"edges": []}', /missing key "num_nodes"/],
    ['{"num_nodes": 2}', /missing key "edges"/],
    ['{"num_nodes": 2, "edges": [], "labels": []}', /unexpected key "labels"/],
    ['{"num_nodes": -1, "edges": []}', /"num_nodes" must be a non-negative integer, got -1/],
    ['{"num_nodes": 2.5, "edges": []}', /non-negative integer/],
    ['{"num_nodes": "2", "edges": []}', /non-negative integer, got "2"/],
    ['{"num_nodes": 2, "edges": {}}', /"edges" must be an array/],
    ['{"num_nodes": 2, "edges": [[0]]}', /edge 0 must be a pair of integer node ids, got \[0\]/],
    ['{"num_nodes": 3, "edges": [[0, 1], [0, 1, 2]]}', /edge 1 must be a pair/],
    ['{"num_nodes": 2, "edges": [["0", 1]]}', /edge 0 must be a pair/],
    ['{"num_nodes": 2, "edges": [[0.5, 1]]}', /edge 0 must be a pair/],
    ['{"num_nodes": 2, "edges": [[0, 2]]}', /outside 0\.\.1/],
    ['{"num_nodes": 2, "edges": [[-1, 1]]}', /outside 0\.\.1/],
    ['{"num_nodes": 2, "edges": [[1, 1]]}', /self loop/],
    ['{"num_nodes": 3, "edges": [[0, 1], [1, 0]]}', /listed twice/],
  ];
  for (const [line, reason] of cases) {
    const err = t.throws(() => parseJsonlLine(line, 'g.jsonl:9'), GraphFormatError, line) as GraphFormatError;
    t.equal(err.where, 'g.jsonl:9');
    t.match(err.reason, reason, line);
  }
});

t.test('parseJsonl skips blank lines and names the 1-based line of an error', async (t) => {
  const text = '{"num_nodes": 1, "edges": []}\r\n\n   \n{"num_nodes": 2, "edges": [[0, 1]]}\n';
  t.same(parseJsonl(text, 'f'), [
    { numNodes: 1, edges: [] },
    { numNodes: 2, edges: [[0, 1]] },
  ]);
  t.same(parseJsonl('', 'f'), []);
  const err = t.throws(() => parseJsonl(`${text}\n{"num_nodes": 1, "edges": [[0, 0]]}\n`, 'data/g.jsonl')) as GraphFormatError;
  t.equal(err.where, 'data/g.jsonl:6');
});

t.test('graph6 strings as nauty and networkx write them', async (t) => {
  // Bits x(0,1) x(0,2) x(1,2) x(0,3) x(1,3) x(2,3), six to a character plus 63.
  const known: Array<[string, Graph]> = [
    ['?', { numNodes: 0, edges: [] }],
    ['@', { numNodes: 1, edges: [] }],
    ['A?', { numNodes: 2, edges: [] }],
    ['A_', { numNodes: 2, edges: [[0, 1]] }], // 100000
    ['Bg', { numNodes: 3, edges: [[0, 1], [1, 2]] }], // 101000: path P3
    ['Bw', { numNodes: 3, edges: [[0, 1], [0, 2], [1, 2]] }], // 111000: K3
    ['Cl', { numNodes: 4, edges: [[0, 1], [1, 2], [0, 3], [2, 3]] }], // 101101: C4 0-1-2-3-0
    ['Cr', { numNodes: 4, edges: [[0, 1], [0, 2], [1, 3], [2, 3]] }], // 110011: C4 0-1-3-2-0
    ['C~', { numNodes: 4, edges: [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]] }], // K4
  ];
  for (const [s, g] of known) {
    t.equal(formatGraph6(g), s, `format ${s}`);
    t.same(parseGraph6(s, 'x'), g, `parse ${s}`);
  }
  // networkx.petersen_graph(), whose graph6 line is the well-known IheA@GUAo.
  const petersen: Graph = {
    numNodes: 10,
    edges: [[0, 1], [0, 4], [0, 5], [1, 2], [1, 6], [2, 3], [2, 7], [3, 4], [3, 8], [4, 9], [5, 7], [5, 8], [6, 8], [6, 9], [7, 9]],
  };
  t.equal(formatGraph6(petersen), 'IheA@GUAo');
  t.same(parseGraph6('IheA@GUAo', 'x').edges, columnOrder(petersen));
});

t.test('graph6 size field switches to four bytes at 63 nodes', async (t) => {
  const e62 = formatGraph6({ numNodes: 62, edges: [] });
  t.equal(e62[0], '}', '62 + 63 = 125');
  t.equal(e62.length, 1 + Math.ceil((62 * 61) / 2 / 6));
  const e63 = formatGraph6({ numNodes: 63, edges: [] });
  t.equal(e63, `~??~${'?'.repeat(326)}`, 'networkx writes 330 characters for 63 isolated nodes');
  const last = formatGraph6({ numNodes: 63, edges: [[61, 62]] });
  t.equal(last.slice(-1), 'G', 'bit 1952 = 6 * 325 + 2 of the edge bits: 001000 + 63');
  t.equal(formatGraph6({ numNodes: 300, edges: [] }).slice(0, 4), '~?Ck', '300 = 4 * 64 + 44: ? C k');
  t.equal(parseGraph6(`~??~${'?'.repeat(326)}`, 'x').numNodes, 63);
});

t.test('graph6 round-trips random graphs and parses edges in column order', async (t) => {
  const rng = new Rng(5);
  for (const n of [0, 1, 2, 5, 13, 62, 63, 64, 100]) {
    for (const p of [0, 0.1, 0.5, 1]) {
      const g = randomGraph(n, p, rng);
      const s = formatGraph6(g);
      const back = parseGraph6(s, 'x');
      t.equal(back.numNodes, n);
      t.same(back.edges, columnOrder(g), `n=${n} p=${p}`);
      t.equal(formatGraph6(back), s);
    }
  }
});

t.test('graph6 input: optional header, and bad lines refused with the reason', async (t) => {
  t.same(parseGraph6('>>graph6<<Bw', 'x'), parseGraph6('Bw', 'x'));
  const cases: Array<[string, RegExp]> = [
    ['', /empty graph6 line/],
    ['>>graph6<<', /empty graph6 line/],
    ['B w', /character " " at offset 1 is not a graph6 character/],
    ['Bw\u00e9', /character "é" at offset 2/],
    ['B', /for 3 nodes must have 2 characters, got 1/],
    ['Bww', /must have 2 characters, got 3/],
    ['Bh', /padding bits after the last edge bit must be zero/], // 101001
    ['A`', /padding bits/], // 100001
    ['~?', /size field is cut short/],
    ['~~??????', /more than 258047 nodes are not supported/],
    [':Bc', /sparse6 is not supported/],
    ['&B?', /digraph6 is not supported/],
  ];
  for (const [line, reason] of cases) {
    const err = t.throws(() => parseGraph6(line, 'g.g6:3'), GraphFormatError, JSON.stringify(line)) as GraphFormatError;
    t.equal(err.where, 'g.g6:3');
    t.match(err.reason, reason, JSON.stringify(line));
  }
  t.throws(() => formatGraph6({ numNodes: 3, edges: [[0, 3]] }), GraphFormatError);
  t.throws(() => formatGraph6({ numNodes: 3, edges: [[0, 1], [1, 0]] }), /listed twice/);
});

t.test('parseGraph6File reads one graph a line, headers and blank lines allowed', async (t) => {
  const graphs = parseGraph6File('>>graph6<<Bg\nCl\r\n\n>>graph6<<C~\n', 'f.g6');
  t.same(graphs.map((g) => g.edges.length), [2, 4, 6]);
  const err = t.throws(() => parseGraph6File('Bg\n\nCl\nC\n', 'f.g6')) as GraphFormatError;
  t.equal(err.where, 'f.g6:4');
});

t.test('graph6 lines equal networkx.to_graph6_bytes(G, header=False) across the size encodings', async (t) => {
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const path = (n: number): Graph => ({ numNodes: n, edges: range(n - 1).map((i) => [i, i + 1] as const) });
  const known: Array<[string, Graph, string]> = [
    // /usr/bin/python3 -c "import networkx as nx; print(nx.to_graph6_bytes(nx.complete_graph(5), header=False))", and so on
    ['complete_graph(5)', { numNodes: 5, edges: range(5).flatMap((j) => range(j).map((i) => [i, j] as const)) }, 'D~{'],
    ['ladder_graph(4)', { numNodes: 8, edges: [[0, 1], [1, 2], [2, 3], [4, 5], [5, 6], [6, 7], [0, 4], [1, 5], [2, 6], [3, 7]] }, 'Gh`HGc'],
    ['path_graph(62): the last one-byte size', path(62), '}hCGGC@?G?_@?@??_?G?@??C??G??G??C??@???G???_??@???@????_???G???@????C????G????G????C????@?????G?????_????@?????@??????_?????G?????@??????C??????G??????G??????C??????@???????G???????_??????@???????@????????_???????G???????@????????C????????G????????G????????C????????@?????????G?????????_????????@?????????@??????????_'],
    ['cycle_graph(63): the first four-byte size', { numNodes: 63, edges: [...path(63).edges, [62, 0]] }, '~??~hCGGC@?G?_@?@??_?G?@??C??G??G??C??@???G???_??@???@????_???G???@????C????G????G????C????@?????G?????_????@?????@??????_?????G?????@??????C??????G??????G??????C??????@???????G???????_??????@???????@????????_???????G???????@????????C????????G????????G????????C????????@?????????G?????????_????????@?????????@??????????o?????????G'],
    ['star_graph(63)', { numNodes: 64, edges: range(63).map((i) => [0, i + 1] as const) }, '~?@?saCCA?_C?O?_?_?O?C??_?A??C??C??A???_??C???O???_???_???O???C????_???A????C????C????A?????_????C?????O?????_?????_?????O?????C??????_?????A??????C??????C??????A???????_??????C???????O???????_???????_???????O???????C????????_???????A????????C????????C????????A?????????_????????C?????????O?????????_?????????_?????????O?????????C??????????'],
  ];
  for (const [name, g, s] of known) {
    t.equal(formatGraph6(g), s, `${name} is written as networkx writes it`);
    t.same(parseGraph6(s, 'x').edges, columnOrder(g), `${name} is read back`);
  }
  // empty_graph(4100): 4100 = 1 * 4096 + 0 * 64 + 4, so the size bytes are ~ @ ? C
  const big = formatGraph6({ numNodes: 4100, edges: [] });
  t.equal(big.slice(0, 4), '~@?C');
  t.equal(big.length, 1400496, 'networkx writes 1,400,496 characters');
  t.equal(parseGraph6(big, 'x').numNodes, 4100);
});

t.test('a JSONL line nested thousands deep is refused with its line and the reason, not a stack overflow', async (t) => {
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  const cases: Array<[string, RegExp]> = [
    [`{"num_nodes": 2, "edges": ${deep(5000)}}`, /nested more than 3 deep at column 29; a record is \{"num_nodes": n, "edges": \[\[u, v\], \.\.\.\]\}/],
    [`{"num_nodes": ${deep(5000)}, "edges": []}`, /nested more than 3 deep at column 17/],
    [`{"num_nodes": 2, "edges": [[0, {"a": 1}]]}`, /nested more than 3 deep at column 32/],
    [deep(5000), /nested more than 3 deep at column 4/],
  ];
  for (const [line, reason] of cases) {
    const err = t.throws(() => parseJsonl(`{"num_nodes": 1, "edges": []}\n${line}\n`, 'deep.jsonl'), GraphFormatError) as GraphFormatError;
    t.equal(err.where, 'deep.jsonl:2');
    t.match(err.reason, reason);
  }
  // Brackets inside strings are text, not nesting; an escaped quote does not end a string.
  t.throws(() => parseJsonlLine('{"num_nodes": 1, "edges": [], "x[[[[\\"[[": 1}', 'x'), /unexpected key "x\[\[\[\["\[\["/);
  t.same(parseJsonlLine('{"num_nodes": 3, "edges": [[0, 1], [1, 2]]}', 'x').edges, [[0, 1], [1, 2]], 'three levels are a record');
});

t.test('a bad value is shown in one short line, whatever its size', async (t) => {
  const err = t.throws(() => parseJsonlLine(`{"num_nodes": "${'x'.repeat(100_000)}", "edges": []}`, 'f:1')) as Error;
  t.match(err.message, /^f:1: "num_nodes" must be a non-negative integer, got "x{56}\.\.\.$/);
  const edges = `[${Array.from({ length: 50_000 }, () => '[0]').join(', ')}]`;
  t.ok((t.throws(() => parseJsonlLine(`{"num_nodes": 2, "edges": ${edges}}`, 'f:1')) as Error).message.length < 120);
});

t.test('a graph file\'s format comes from its extension; others are refused', async (t) => {
  for (const [file, name] of [['a.jsonl', 'JSONL'], ['dir.g6/a.JSON', 'JSONL'], ['a.g6', 'graph6'], ['A.G6', 'graph6'], ['x/a.graph6', 'graph6']]) {
    t.equal(graphFileFormat(file).name, name, file);
  }
  for (const file of ['a.txt', 'a', 'a.g6/b', 'a.jsonl.gz', 'a.']) {
    const err = t.throws(() => graphFileFormat(file), GraphFormatError) as GraphFormatError;
    t.equal(err.where, file);
    t.match(err.reason, /^unknown graph file type "[^"]*": use \.jsonl \(JSON lines\) or \.g6 \(graph6\)$/);
  }
  const g: Graph = { numNodes: 4, edges: [[0, 1], [1, 2], [2, 3]] };
  for (const file of ['a.jsonl', 'a.g6']) {
    const f = graphFileFormat(file);
    t.same(f.parse(`${f.line(g)}\n${f.line(g)}\n`, file), [g, g], `${file}: line and parse round-trip`);
  }
});

t.test('typed JSONL: node_types and edge_types as names or integers, written as the config\'s names', async (t) => {
  const names = { nodeTypes: ['C', 'N', 'O'], edgeTypes: ['single', 'double'] };
  const line = '{"num_nodes": 3, "edges": [[0, 1], [1, 2]], "node_types": ["C", "O", "N"], "edge_types": ["double", "single"]}';
  const g = parseJsonlLine(line, 'x', names);
  t.same(g, { numNodes: 3, edges: [[0, 1], [1, 2]], nodeTypes: [0, 2, 1], edgeTypes: [1, 0] });
  t.equal(formatJsonlLine(g, names), line, 'names round-trip');
  t.same(parseJsonlLine('{"num_nodes": 3, "edges": [[0, 1], [1, 2]], "node_types": [0, 2, 1], "edge_types": [1, "single"]}', 'x', names), g, 'integers are indexes into the names');
  t.equal(formatJsonlLine(g), '{"num_nodes": 3, "edges": [[0, 1], [1, 2]], "node_types": [0, 2, 1], "edge_types": [1, 0]}', 'without names: integers');
  t.same(parseJsonlLine(formatJsonlLine(g), 'x'), g, 'integers round-trip');
  t.same(parseJsonl(`${formatJsonlLine(g, names)}\n{"num_nodes": 1, "edges": [], "node_types": ["N"]}\n`, 'f', names), [g, { numNodes: 1, edges: [], nodeTypes: [1] }]);
  t.same(graphFileFormat('a.jsonl').parse(`${graphFileFormat('a.jsonl').line(g, names)}\n`, 'a.jsonl', names), [g], 'through the file format');
});

t.test('bad typed JSONL entries are refused naming the file, line and entry', async (t) => {
  const names = { nodeTypes: ['C', 'N', 'O'], edgeTypes: ['single', 'double'] };
  const base = '"num_nodes": 4, "edges": [[0, 1], [1, 2]]';
  const cases: Array<[string, typeof names, string]> = [
    [`{${base}, "node_types": ["C", "C", "N", "Xe"]}`, names, 'node_types[3] is "Xe", not one of the config\'s node types C, N, O'],
    [`{${base}, "node_types": ["C", "C", "N", 3]}`, names, 'node_types[3] is 3, outside the config\'s node types C, N, O (0..2)'],
    [`{${base}, "node_types": ["C", "C", "N", -1]}`, names, 'node_types[3] must be a type name or an integer >= 0, got -1'],
    [`{${base}, "node_types": ["C", 1.5, "N", "C"]}`, names, 'node_types[1] must be a type name or an integer >= 0, got 1.5'],
    [`{${base}, "node_types": ["C", "N"]}`, names, 'node_types has 2 entries, the graph has 4 nodes'],
    [`{${base}, "node_types": "C"}`, names, '"node_types" must be an array, got "C"'],
    [`{${base}, "edge_types": ["single", "aromatic"]}`, names, 'edge_types[1] is "aromatic", not one of the config\'s edge types single, double'],
    [`{${base}, "edge_types": ["single"]}`, names, 'edge_types has 1 entries, the graph has 2 edges'],
    [`{${base}, "node_types": ["C", "C", "N", "O"]}`, { nodeTypes: [], edgeTypes: [] }, 'node_types[0] is "C", not one of no node type names (model.nodeTypes is empty in the config)'],
  ];
  for (const [line, n, reason] of cases) {
    const err = t.throws(() => parseJsonl(`{"num_nodes": 1, "edges": []}\n${line}\n`, 'g.jsonl', n), GraphFormatError, line) as GraphFormatError;
    t.equal(err.message, `g.jsonl:2: ${reason}`);
  }
});
