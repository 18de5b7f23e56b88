import { briefJson, jsonTooDeepAt } from './formats';
import { GraphFormatError, assertSimpleGraph } from './graph';
import type { TypedGraph } from './molecule';

/**
 * Typed JSONL (SPEC §6): {"num_nodes": 3, "edges": [[0, 1], [1, 2]], "node_types": ["C", "C",
 * "O"], "edge_types": ["single", "double"]}, a type given by its name or its index in the
 * vocabulary.
 */

/** Type names, growable while reading a file whose types are not known beforehand. */
export interface TypeNames {
  readonly nodeTypes: string[];
  readonly edgeTypes: string[];
}

/** A typed graph as a JSONL line with type names, spaced as Python's json.dumps writes it. */
export function formatTypedJsonlLine(g: TypedGraph, names: { readonly nodeTypes: readonly string[]; readonly edgeTypes: readonly string[] }): string {
  const list = (xs: readonly number[], of: readonly string[]): string => xs.map((t) => JSON.stringify(of[t])).join(', ');
  return `{"num_nodes": ${g.numNodes}, "edges": [${g.edges.map(([u, v]) => `[${u}, ${v}]`).join(', ')}], "node_types": [${list(g.nodeTypes, names.nodeTypes)}], "edge_types": [${list(g.edgeTypes, names.edgeTypes)}]}`;
}

const KEYS = ['num_nodes', 'edges', 'node_types', 'edge_types'];

/**
 * One typed JSONL record. A type name not in `names` is an error, or is appended when `grow`; an
 * index must be in range, and is refused when `grow` (the list is being made from the names).
 */
export function parseTypedJsonlLine(line: string, where: string, names: TypeNames, grow: boolean): TypedGraph {
  const deep = jsonTooDeepAt(line, 3);
  if (deep) throw new GraphFormatError(where, `nested more than 3 deep at column ${deep}`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new GraphFormatError(where, `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new GraphFormatError(where, 'expected an object {"num_nodes": ..., "edges": [...], "node_types": [...], "edge_types": [...]}');
  const r = value as Record<string, unknown>;
  for (const key of Object.keys(r)) if (!KEYS.includes(key)) throw new GraphFormatError(where, `unexpected key "${key}" (allowed: ${KEYS.join(', ')})`);
  for (const key of KEYS) if (!(key in r)) throw new GraphFormatError(where, `missing key "${key}"`);
  const numNodes = r.num_nodes;
  if (typeof numNodes !== 'number' || !Number.isInteger(numNodes) || numNodes < 0) throw new GraphFormatError(where, `"num_nodes" must be a non-negative integer, got ${briefJson(numNodes)}`);
  if (!Array.isArray(r.edges)) throw new GraphFormatError(where, `"edges" must be an array, got ${briefJson(r.edges)}`);
  const edges = r.edges.map((e: unknown, k: number): readonly [number, number] => {
    if (!Array.isArray(e) || e.length !== 2 || !e.every((x: unknown) => typeof x === 'number' && Number.isInteger(x))) throw new GraphFormatError(where, `edge ${k} must be a pair of integer node ids, got ${briefJson(e)}`);
    return [e[0] as number, e[1] as number];
  });
  const types = (key: string, count: number, of: string[]): number[] => {
    const xs = r[key];
    if (!Array.isArray(xs) || xs.length !== count) throw new GraphFormatError(where, `"${key}" must be an array of ${count} types, got ${briefJson(xs)}`);
    return xs.map((x: unknown, k: number) => {
      if (grow && typeof x === 'number') throw new GraphFormatError(where, `${key}[${k}] = ${x} is a type index, but no list of types was given to read it against`);
      if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < of.length) return x;
      if (typeof x === 'string') {
        const i = of.indexOf(x);
        if (i >= 0) return i;
        if (grow) return of.push(x) - 1;
      }
      throw new GraphFormatError(where, `${key}[${k}] = ${briefJson(x)} is not one of the types [${of.join(', ')}] or an index into them`);
    });
  };
  const g: TypedGraph = { numNodes, edges, nodeTypes: types('node_types', numNodes, names.nodeTypes), edgeTypes: types('edge_types', edges.length, names.edgeTypes) };
  assertSimpleGraph(g, where);
  return g;
}

/** Every record of a typed JSONL text; blank lines are skipped and errors name `file:line`. */
export function parseTypedJsonl(text: string, file: string, names: TypeNames, grow: boolean): TypedGraph[] {
  const out: TypedGraph[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() !== '') out.push(parseTypedJsonlLine(line, `${file}:${i + 1}`, names, grow));
  });
  return out;
}
