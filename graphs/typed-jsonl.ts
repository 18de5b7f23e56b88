import { briefJson, jsonTooDeepAt } from './formats';
import { GraphFormatError, assertSimpleGraph } from './graph';
import type { TypedGraph } from './molecule';

/**
 * Typed JSONL (SPEC §6): {"num_nodes": 3, "edges": [[0, 1], [1, 2]], "node_types": ["C", "C",
 * "O"], "edge_types": ["single", "double"]}, a type given by its name or its index among the
 * config's type names. Branch `typed` reads and writes the same records in graphs/formats.ts
 * (parseJsonl / formatJsonlLine with type names); once both are merged, this file goes and its
 * callers use those.
 */

/** The names of a model's node and edge types (the config's model.nodeTypes and model.edgeTypes). */
export interface TypeNames {
  readonly nodeTypes: readonly string[];
  readonly edgeTypes: readonly string[];
}

/** A typed graph as a JSONL line with type names, spaced as Python's json.dumps writes it. */
export function formatTypedJsonlLine(g: TypedGraph, names: TypeNames): string {
  const list = (xs: readonly number[], of: readonly string[]): string => xs.map((t) => JSON.stringify(of[t])).join(', ');
  return `{"num_nodes": ${g.numNodes}, "edges": [${g.edges.map(([u, v]) => `[${u}, ${v}]`).join(', ')}], "node_types": [${list(g.nodeTypes, names.nodeTypes)}], "edge_types": [${list(g.edgeTypes, names.edgeTypes)}]}`;
}

const KEYS = ['num_nodes', 'edges', 'node_types', 'edge_types'];

/** One typed JSONL record; a type is one of `names` or an index into them. */
export function parseTypedJsonlLine(line: string, where: string, names: TypeNames): TypedGraph {
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
  const types = (key: string, count: number, of: readonly string[]): number[] => {
    const xs = r[key];
    if (!Array.isArray(xs) || xs.length !== count) throw new GraphFormatError(where, `"${key}" must be an array of ${count} types, got ${briefJson(xs)}`);
    return xs.map((x: unknown, k: number) => {
      if (typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < of.length) return x;
      if (typeof x === 'string' && of.includes(x)) return of.indexOf(x);
      throw new GraphFormatError(where, `${key}[${k}] = ${briefJson(x)} is not one of the types [${of.join(', ')}] or an index into them`);
    });
  };
  const g: TypedGraph = { numNodes, edges, nodeTypes: types('node_types', numNodes, names.nodeTypes), edgeTypes: types('edge_types', edges.length, names.edgeTypes) };
  assertSimpleGraph(g, where);
  return g;
}

/** Every record of a typed JSONL text; blank lines are skipped and errors name `file:line`. */
export function parseTypedJsonl(text: string, file: string, names: TypeNames): TypedGraph[] {
  const out: TypedGraph[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() !== '') out.push(parseTypedJsonlLine(line, `${file}:${i + 1}`, names));
  });
  return out;
}
