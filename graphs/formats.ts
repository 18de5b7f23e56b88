import { Graph, GraphFormatError, assertSimpleGraph } from './graph';

/** A record nests three deep: the object, "edges", an edge pair. */
const MAX_JSONL_DEPTH = 3;

/**
 * The offset (1-based) where JSON `text` opens a bracket deeper than `maxDepth`, or 0; strings are
 * skipped. Checked before a parsed value is described or compared: JSON.stringify recurses, and
 * thousands of levels overflow the stack.
 */
export function jsonTooDeepAt(text: string, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return i + 1;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return 0;
}

/** `x` as JSON for a message: one short line, whatever its size (nesting checked by jsonTooDeepAt first). */
export function briefJson(x: unknown): string {
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The names of a model's node and edge types (a run config's model.nodeTypes / edgeTypes): a typed
 * graph's type k is the k-th name. Empty lists: untyped.
 */
export interface TypeNames {
  readonly nodeTypes: readonly string[];
  readonly edgeTypes: readonly string[];
}

export const NO_TYPE_NAMES: TypeNames = { nodeTypes: [], edgeTypes: [] };

const JSONL_KEYS = ['num_nodes', 'edges', 'node_types', 'edge_types'];

/**
 * A record's "node_types" or "edge_types" as type indexes: each entry an integer >= 0, or one of
 * `names` (an integer must then be below their count).
 */
function parseTypes(value: unknown, key: string, names: readonly string[], kind: 'node' | 'edge', where: string): number[] {
  if (!Array.isArray(value)) throw new GraphFormatError(where, `"${key}" must be an array, got ${briefJson(value)}`);
  const known = (): string => (names.length ? `the config's ${kind} types ${names.join(', ')}` : `no ${kind} type names (model.${kind}Types is empty in the config)`);
  return value.map((x: unknown, i: number): number => {
    if (typeof x === 'string') {
      const k = names.indexOf(x);
      if (k < 0) throw new GraphFormatError(where, `${key}[${i}] is ${briefJson(x)}, not one of ${known()}`);
      return k;
    }
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw new GraphFormatError(where, `${key}[${i}] must be a type name or an integer >= 0, got ${briefJson(x)}`);
    if (names.length && x >= names.length) throw new GraphFormatError(where, `${key}[${i}] is ${x}, outside ${known()} (0..${names.length - 1})`);
    return x;
  });
}

/**
 * One JSONL record, `{"num_nodes": 12, "edges": [[0, 1], [1, 2]]}` (docs/design.md, 'Files'), typed with
 * "node_types" and "edge_types" (integers, or `names`' names).
 */
export function parseJsonlLine(line: string, where: string, names: TypeNames = NO_TYPE_NAMES): Graph {
  const deep = jsonTooDeepAt(line, MAX_JSONL_DEPTH);
  if (deep) throw new GraphFormatError(where, `nested more than ${MAX_JSONL_DEPTH} deep at column ${deep}; a record is {"num_nodes": n, "edges": [[u, v], ...]}`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new GraphFormatError(where, `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GraphFormatError(where, 'expected an object {"num_nodes": ..., "edges": [...]}');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!JSONL_KEYS.includes(key)) throw new GraphFormatError(where, `unexpected key "${key}" (only ${JSONL_KEYS.map((k) => `"${k}"`).join(', ')} are allowed)`);
  }
  if (!('num_nodes' in record)) throw new GraphFormatError(where, 'missing key "num_nodes"');
  if (!('edges' in record)) throw new GraphFormatError(where, 'missing key "edges"');
  const numNodes = record.num_nodes;
  if (typeof numNodes !== 'number' || !Number.isInteger(numNodes) || numNodes < 0) {
    throw new GraphFormatError(where, `"num_nodes" must be a non-negative integer, got ${briefJson(numNodes)}`);
  }
  if (!Array.isArray(record.edges)) throw new GraphFormatError(where, `"edges" must be an array, got ${briefJson(record.edges)}`);
  const edges = record.edges.map((e: unknown, k: number): readonly [number, number] => {
    if (!Array.isArray(e) || e.length !== 2 || !e.every((x: unknown) => typeof x === 'number' && Number.isInteger(x))) {
      throw new GraphFormatError(where, `edge ${k} must be a pair of integer node ids, got ${briefJson(e)}`);
    }
    return [e[0] as number, e[1] as number];
  });
  const g: Graph = {
    numNodes,
    edges,
    ...('node_types' in record ? { nodeTypes: parseTypes(record.node_types, 'node_types', names.nodeTypes, 'node', where) } : {}),
    ...('edge_types' in record ? { edgeTypes: parseTypes(record.edge_types, 'edge_types', names.edgeTypes, 'edge', where) } : {}),
  };
  assertSimpleGraph(g, where);
  return g;
}

/**
 * The JSONL record of `g`, spaced as Python's json.dumps writes it; a typed graph's types as
 * `names`' names where there are names, else as integers.
 */
export function formatJsonlLine(g: Graph, names: TypeNames = NO_TYPE_NAMES): string {
  const types = (key: string, list: readonly number[] | undefined, known: readonly string[]): string =>
    list ? `, "${key}": [${list.map((k) => (known.length ? JSON.stringify(known[k]) : String(k))).join(', ')}]` : '';
  return `{"num_nodes": ${g.numNodes}, "edges": [${g.edges.map(([u, v]) => `[${u}, ${v}]`).join(', ')}]${types('node_types', g.nodeTypes, names.nodeTypes)}${types('edge_types', g.edgeTypes, names.edgeTypes)}}`;
}

/** A graph of a file and where it is (`file:line`), so that a later check can name its line. */
export interface LocatedGraph {
  readonly graph: Graph;
  readonly where: string;
}

/** Every graph of a JSONL text, with its line; blank lines are skipped and errors name `file:line`. */
function locateJsonl(text: string, file: string, names: TypeNames = NO_TYPE_NAMES): LocatedGraph[] {
  return parseLines(text, file, (line, where) => parseJsonlLine(line, where, names));
}

/** Every graph of a JSONL text; blank lines are skipped and errors name `file:line`. */
export function parseJsonl(text: string, file: string, names: TypeNames = NO_TYPE_NAMES): Graph[] {
  return locateJsonl(text, file, names).map((g) => g.graph);
}

function parseLines(text: string, file: string, parse: (line: string, where: string) => Graph): LocatedGraph[] {
  const graphs: LocatedGraph[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (line.trim() !== '') graphs.push({ graph: parse(line, where), where });
  });
  return graphs;
}

const GRAPH6_HEADER = '>>graph6<<';
const BIAS = 63;
// graph6 spends 3 size bytes up to this n; beyond it the 6-byte form would need n(n-1)/2 bits of text.
const MAX_GRAPH6_NODES = 258047;

/**
 * A graph6 line as nauty and networkx write it: size bytes, then the upper triangle column by
 * column (x(0,1), x(0,2), x(1,2), x(0,3), ...) six bits a character. Edges come out as [i, j],
 * i < j, in that column order.
 */
export function parseGraph6(line: string, where: string): Graph {
  const body = line.startsWith(GRAPH6_HEADER) ? line.slice(GRAPH6_HEADER.length) : line;
  if (body.startsWith(':') || body.startsWith(';')) throw new GraphFormatError(where, 'sparse6 is not supported, only graph6');
  if (body.startsWith('&')) throw new GraphFormatError(where, 'digraph6 is not supported, only graph6');
  for (let k = 0; k < body.length; k++) {
    const c = body.charCodeAt(k);
    if (c < BIAS || c > BIAS + 63) throw new GraphFormatError(where, `character ${JSON.stringify(body[k])} at offset ${k} is not a graph6 character (? to ~)`);
  }
  if (body.length === 0) throw new GraphFormatError(where, 'empty graph6 line');
  const sixBits = (k: number): number => body.charCodeAt(k) - BIAS;
  let n: number;
  let start: number;
  if (sixBits(0) < 63) {
    n = sixBits(0);
    start = 1;
  } else {
    if (body.length < 4) throw new GraphFormatError(where, 'graph6 size field is cut short');
    if (sixBits(1) === 63) throw new GraphFormatError(where, `graphs with more than ${MAX_GRAPH6_NODES} nodes are not supported`);
    n = (sixBits(1) << 12) | (sixBits(2) << 6) | sixBits(3);
    start = 4;
  }
  const numBits = (n * (n - 1)) / 2;
  const expected = start + Math.ceil(numBits / 6);
  if (body.length !== expected) throw new GraphFormatError(where, `graph6 line for ${n} nodes must have ${expected} characters, got ${body.length}`);

  const edges: Array<readonly [number, number]> = [];
  let bit = 0;
  for (let j = 1; j < n; j++) {
    for (let i = 0; i < j; i++, bit++) {
      if ((sixBits(start + Math.floor(bit / 6)) >> (5 - (bit % 6))) & 1) edges.push([i, j]);
    }
  }
  if (numBits % 6 !== 0 && (sixBits(body.length - 1) & ((1 << (6 - (numBits % 6))) - 1)) !== 0) {
    throw new GraphFormatError(where, 'padding bits after the last edge bit must be zero');
  }
  return { numNodes: n, edges };
}

/** The graph6 line of `g`, without header or newline. */
export function formatGraph6(g: Graph): string {
  assertSimpleGraph(g, 'formatGraph6');
  const n = g.numNodes;
  if (n > MAX_GRAPH6_NODES) throw new Error(`formatGraph6: graphs with more than ${MAX_GRAPH6_NODES} nodes are not supported, got ${n}`);
  const size = n < 63 ? [n] : [63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
  const bits = new Uint8Array(Math.ceil((n * (n - 1)) / 2 / 6) * 6);
  const chars = new Uint8Array(size.length + bits.length / 6);
  chars.set(size.map((c) => c + BIAS));
  for (const [u, v] of g.edges) {
    const i = Math.min(u, v);
    const j = Math.max(u, v);
    bits[(j * (j - 1)) / 2 + i] = 1;
  }
  for (let k = 0; k < bits.length; k += 6) {
    let c = 0;
    for (let b = 0; b < 6; b++) c = (c << 1) | bits[k + b];
    chars[size.length + k / 6] = c + BIAS;
  }
  return new TextDecoder().decode(chars); // graph6 characters are ASCII (? to ~)
}

/** Every graph of a graph6 text, one a line; blank lines are skipped and errors name `file:line`. */
export function parseGraph6File(text: string, file: string): Graph[] {
  return locateGraph6(text, file).map((g) => g.graph);
}

function locateGraph6(text: string, file: string): LocatedGraph[] {
  return parseLines(text, file, parseGraph6);
}

/** How a graph file is read and written; `names` name a typed graph's types (graph6 has no types and ignores them). */
export interface GraphFileFormat {
  readonly name: 'JSONL' | 'graph6';
  /** Every graph of a file's text; errors name `file:line`. */
  parse(text: string, file: string, names?: TypeNames): Graph[];
  /** parse, each graph with its `file:line`. */
  locate(text: string, file: string, names?: TypeNames): LocatedGraph[];
  /** One graph as a line, without the newline. */
  line(g: Graph, names?: TypeNames): string;
}

const JSONL: GraphFileFormat = { name: 'JSONL', parse: parseJsonl, locate: locateJsonl, line: formatJsonlLine };
const GRAPH6: GraphFileFormat = { name: 'graph6', parse: parseGraph6File, locate: locateGraph6, line: formatGraph6 };
const BY_EXTENSION: ReadonlyMap<string, GraphFileFormat> = new Map([['.jsonl', JSONL], ['.json', JSONL], ['.g6', GRAPH6], ['.graph6', GRAPH6]]);

/** The format of a graph file, by its extension (any case): .jsonl or .json, .g6 or .graph6; any other is refused. */
export function graphFileFormat(file: string): GraphFileFormat {
  const m = /\.[^./\\]*$/.exec(file);
  const ext = m ? m[0].toLowerCase() : '';
  const format = BY_EXTENSION.get(ext);
  if (!format) throw new GraphFormatError(file, `unknown graph file type ${JSON.stringify(ext)}: use .jsonl (JSON lines) or .g6 (graph6)`);
  return format;
}
