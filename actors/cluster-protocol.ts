/**
 * The cluster protocol (docs/design.md, 'Several machines'): what the coordinator and the worker hosts
 * exchange through Redis. BullMQ jobs carry only a small task description (JSON, checked field by
 * field here); parameters, shards, gradients and sampled graphs travel as binary blobs under keys
 * that carry the run id and expire. Everything a worker reads from Redis is untrusted: every size,
 * shape and range is checked before use, and nothing is evaluated.
 */
import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'bullmq';
import type { Decisions, Graph, TypeCounts } from '../graphs/graph';
import { decodeDecisions } from '../graphs/sequence';
import { MODEL_LIMITS, type ModelConfig } from '../model/params';
import { CONSTRAINTS, constraintsProblem } from '../model/constraints';
import type { ShardGradients } from '../model/teacher';
import { decodeGraphs, decodeSequences, encodeGraphs, encodeSequences } from './protocol';

/** Bumped whenever a task or a blob changes meaning; a worker refuses any other. */
export const CLUSTER_FORMAT = 4;

/** TTL of every key a run writes (a second guard: a finished run deletes its keys). */
export const KEY_TTL_SECONDS = 3600;

/** The BullMQ queue every coordinator and worker host shares. */
export const QUEUE_NAME = 'dgmg-pipe';

/** Bounds on what a task may ask for (a worker allocates from these numbers). */
export const LIMITS = { nodeSize: 512, propRounds: 16, types: 1024, shardGraphs: 1 << 16, shardTokens: 1 << 26, chunkGraphs: 1 << 16, vMax: 1 << 16 } as const;

/** A run id: 16 lowercase hex digits, fresh for every coordinator start. */
const RUN_ID = /^[0-9a-f]{16}$/;

/** The Redis keys of a run, all under dgmg:<run>: and all written with a TTL. */
export const keys = {
  /** Exists while the coordinator lives (refreshed by its heartbeat); workers drop tasks of runs without it. */
  alive: (run: string): string => `dgmg:${run}:alive`,
  params: (run: string, version: number): string => `dgmg:${run}:params:${version}`,
  shard: (run: string, version: number, shard: number): string => `dgmg:${run}:shard:${version}:${shard}`,
  grad: (run: string, version: number, shard: number): string => `dgmg:${run}:grad:${version}:${shard}`,
  chunk: (run: string, seed: number, from: number): string => `dgmg:${run}:chunk:${seed}:${from}`,
  /** A SCAN pattern for every key of the run. */
  all: (run: string): string => `dgmg:${run}:*`,
};

/** One shard of one training step: parameters at keys.params, sequences at keys.shard, gradients to keys.grad. */
export interface TrainShardTask {
  readonly format: number;
  readonly kind: 'train';
  readonly run: string;
  readonly model: ModelConfig;
  readonly version: number;
  readonly shard: number;
  readonly shards: number;
  readonly graphs: number;
}

/** One seeded sampling chunk: parameters at keys.params(run, 0), graphs to keys.chunk. */
export interface SampleChunkTask {
  readonly format: number;
  readonly kind: 'sample';
  readonly run: string;
  readonly model: ModelConfig;
  readonly seed: number;
  readonly from: number;
  readonly count: number;
  readonly vMax: number;
}

export type ClusterTask = TrainShardTask | SampleChunkTask;

/** A task or blob a worker will not compute; the message says why. */
export class TaskRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TaskRefused';
  }
}

/** The BullMQ job id of a task's attempt: unique per run, so a retry is a new job and a duplicate add is a no-op. */
export function jobId(t: ClusterTask, attempt: number): string {
  return t.kind === 'train' ? `${t.run}-train-${t.version}-${t.shard}-${attempt}` : `${t.run}-sample-${t.seed}-${t.from}-${attempt}`;
}

/** Where a task's answer goes. */
export function resultKey(t: ClusterTask): string {
  return t.kind === 'train' ? keys.grad(t.run, t.version, t.shard) : keys.chunk(t.run, t.seed, t.from);
}

/** A short name of a task for log lines. */
export function describeTask(t: ClusterTask): string {
  return t.kind === 'train' ? `run ${t.run} step ${t.version} shard ${t.shard + 1} of ${t.shards} (${t.graphs} graphs)` : `run ${t.run} sample seed ${t.seed} graphs ${t.from}..${t.from + t.count - 1}`;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function intIn(o: Record<string, unknown>, k: string, lo: number, hi: number): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) throw new TaskRefused(`task field ${k} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(v)}`);
  return v;
}

/** A task model's list of type names, as a field to spread (absent: none). */
function typeNames(o: Record<string, unknown>, k: 'nodeTypes' | 'edgeTypes'): { [key: string]: string[] } {
  if (!(k in o)) return {};
  const v = o[k];
  if (!Array.isArray(v) || v.length > LIMITS.types || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 64)) {
    throw new TaskRefused(`task model field ${k} must be a list of at most ${LIMITS.types} type names, got ${JSON.stringify(v).slice(0, 80)}`);
  }
  return { [k]: v as string[] };
}

/** A task model's structural constraints, as a field to spread (absent: none); names the model/constraints.ts does not know are refused. */
function constraintNames(o: Record<string, unknown>): { constraints?: string[] } {
  if (!('constraints' in o)) return {};
  const v = o.constraints;
  const problem = Array.isArray(v) && v.length <= CONSTRAINTS.length ? constraintsProblem({ nodeSize: 1, propRounds: 1, constraints: v as string[] }) : 'not a list of constraint names';
  if (problem) throw new TaskRefused(`task model field constraints: ${problem}, got ${JSON.stringify(v).slice(0, 80)}`);
  return { constraints: v as string[] };
}

function exactKeys(o: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw new TaskRefused(`${what} has unknown fields ${extra.join(', ')}`);
}

/** Checks a job's data field by field; returns a task built only from the checked fields. */
export function parseTask(data: unknown): ClusterTask {
  if (!isRecord(data)) throw new TaskRefused('task is not an object');
  if (data.format !== CLUSTER_FORMAT) throw new TaskRefused(`task format ${JSON.stringify(data.format)}, this worker speaks format ${CLUSTER_FORMAT} (run the same dgmg-pipe version on the coordinator and the workers)`);
  if (typeof data.run !== 'string' || !RUN_ID.test(data.run)) throw new TaskRefused(`task run id must be 16 hex digits, got ${JSON.stringify(data.run)}`);
  const m = data.model;
  if (!isRecord(m)) throw new TaskRefused('task model must be an object {nodeSize, propRounds, nodeTypes, edgeTypes, valenceMask, destinationDistance, nodeCountInput, plannedSize, constraints, jointEdgeChoice, distanceWeights}');
  exactKeys(m, ['nodeSize', 'propRounds', 'nodeTypes', 'edgeTypes', 'valenceMask', 'destinationDistance', 'nodeCountInput', 'plannedSize', 'constraints', 'jointEdgeChoice', 'distanceWeights'], 'task model');
  for (const key of ['valenceMask', 'jointEdgeChoice', 'distanceWeights'] as const) {
    if (key in m && typeof m[key] !== 'boolean') throw new TaskRefused(`task model field ${key} must be true or false, got ${JSON.stringify(m[key]).slice(0, 80)}`);
  }
  const model: ModelConfig = {
    nodeSize: intIn(m, 'nodeSize', 1, LIMITS.nodeSize),
    propRounds: intIn(m, 'propRounds', 1, LIMITS.propRounds),
    ...typeNames(m, 'nodeTypes'),
    ...typeNames(m, 'edgeTypes'),
    ...(typeof m.valenceMask === 'boolean' ? { valenceMask: m.valenceMask } : {}),
    ...('destinationDistance' in m ? { destinationDistance: intIn(m, 'destinationDistance', 0, MODEL_LIMITS.destinationDistance) } : {}),
    ...('nodeCountInput' in m ? { nodeCountInput: intIn(m, 'nodeCountInput', 0, MODEL_LIMITS.nodeCountInput) } : {}),
    ...('plannedSize' in m ? { plannedSize: intIn(m, 'plannedSize', 0, MODEL_LIMITS.plannedSize) } : {}),
    ...constraintNames(m),
    ...(typeof m.jointEdgeChoice === 'boolean' ? { jointEdgeChoice: m.jointEdgeChoice } : {}),
    ...(typeof m.distanceWeights === 'boolean' ? { distanceWeights: m.distanceWeights } : {}),
  };
  const base = { format: CLUSTER_FORMAT, run: data.run, model };
  if (data.kind === 'train') {
    exactKeys(data, ['format', 'kind', 'run', 'model', 'version', 'shard', 'shards', 'graphs'], 'train task');
    const shards = intIn(data, 'shards', 1, LIMITS.shardGraphs);
    return { ...base, kind: 'train', version: intIn(data, 'version', 0, 2 ** 32 - 1), shard: intIn(data, 'shard', 0, shards - 1), shards, graphs: intIn(data, 'graphs', 1, LIMITS.shardGraphs) };
  }
  if (data.kind === 'sample') {
    exactKeys(data, ['format', 'kind', 'run', 'model', 'seed', 'from', 'count', 'vMax'], 'sample task');
    return { ...base, kind: 'sample', seed: intIn(data, 'seed', 0, 2 ** 32 - 1), from: intIn(data, 'from', 0, 2 ** 32 - 1), count: intIn(data, 'count', 1, LIMITS.chunkGraphs), vMax: intIn(data, 'vMax', 1, LIMITS.vMax) };
  }
  throw new TaskRefused(`unknown task kind ${JSON.stringify(data.kind)}`);
}

/*
 * Blobs: a 32-byte header of eight little-endian uint32 (magic 'DGMG', format, kind, then five
 * kind-specific counts), then the arrays back to back, each a multiple of 4 bytes. Decoding copies
 * every array into a fresh, aligned one: a Buffer from ioredis may sit at any byte offset.
 */
const MAGIC = 0x474d4744;
const HEADER_WORDS = 8;
const enum Kind {
  Params = 1,
  Shard = 2,
  Gradients = 3,
  Graphs = 4,
}
const KIND_NAMES = ['', 'parameters', 'shard', 'gradients', 'graphs'];

function pack(kind: Kind, counts: readonly number[], arrays: ReadonlyArray<Float32Array | Int32Array>): Buffer {
  const header = new Uint32Array(HEADER_WORDS);
  header.set([MAGIC, CLUSTER_FORMAT, kind, ...counts]);
  return Buffer.concat([header, ...arrays].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
}

/** A blob's header checked against `kind`, and a reader of its arrays (each copied, so aligned). */
class BlobReader {
  readonly counts: number[];
  private at = HEADER_WORDS * 4;

  constructor(private readonly buf: Buffer, kind: Kind, private readonly what: string) {
    if (buf.byteLength < HEADER_WORDS * 4 || buf.byteLength % 4 !== 0) throw new TaskRefused(`${what}: ${buf.byteLength} bytes is not a ${KIND_NAMES[kind]} blob`);
    const h = this.words(0, HEADER_WORDS, Uint32Array);
    if (h[0] !== MAGIC) throw new TaskRefused(`${what}: not a dgmg-pipe blob`);
    if (h[1] !== CLUSTER_FORMAT) throw new TaskRefused(`${what}: blob format ${h[1]}, this side speaks format ${CLUSTER_FORMAT}`);
    if (h[2] !== kind) throw new TaskRefused(`${what}: a ${KIND_NAMES[h[2]] ?? `kind-${h[2]}`} blob where ${KIND_NAMES[kind]} were expected`);
    this.counts = Array.from(h.subarray(3));
  }

  /** Checks that the payload is exactly `words` 4-byte words long. */
  expectWords(words: number): this {
    const have = this.buf.byteLength / 4 - HEADER_WORDS;
    if (have !== words) throw new TaskRefused(`${this.what}: ${have} payload words where the header promises ${words}`);
    return this;
  }

  next<T extends Float32Array | Int32Array>(n: number, type: { new (n: number): T }): T {
    const out = this.words(this.at, n, type);
    this.at += 4 * n;
    return out;
  }

  private words<T extends Float32Array | Int32Array | Uint32Array>(byteAt: number, n: number, type: { new (n: number): T }): T {
    const out = new type(n);
    new Uint8Array(out.buffer).set(this.buf.subarray(byteAt, byteAt + 4 * n));
    return out;
  }
}

export function encodeParamsBlob(version: number, params: Float32Array): Buffer {
  return pack(Kind.Params, [version, params.length], [params]);
}

/** The parameters of `version` for a model of `total` parameters. */
export function decodeParamsBlob(buf: Buffer, version: number, total: number, what: string): Float32Array {
  const r = new BlobReader(buf, Kind.Params, what);
  const [v, n] = r.counts;
  if (v !== version) throw new TaskRefused(`${what}: parameters of version ${v}, the task names version ${version}`);
  if (n !== total) throw new TaskRefused(`${what}: ${n} parameters, the task's model has ${total} (another model shape?)`);
  return r.expectWords(n).next(n, Float32Array);
}

export function encodeShardBlob(version: number, shard: number, seqs: readonly Decisions[]): Buffer {
  const e = encodeSequences(seqs);
  return pack(Kind.Shard, [version, shard, seqs.length, e.tokens.length], [e.offsets, e.tokens]);
}

/** A shard's decision sequences, each checked to be a well-formed sequence (docs/design.md, 'Decision encoding'). */
export function decodeShardBlob(buf: Buffer, t: TrainShardTask, what: string): number[][] {
  const r = new BlobReader(buf, Kind.Shard, what);
  const [v, shard, graphs, tokens] = r.counts;
  if (v !== t.version || shard !== t.shard || graphs !== t.graphs) throw new TaskRefused(`${what}: shard ${shard} of version ${v} with ${graphs} graphs, the task names shard ${t.shard} of version ${t.version} with ${t.graphs}`);
  if (tokens > LIMITS.shardTokens) throw new TaskRefused(`${what}: ${tokens} tokens, more than the limit ${LIMITS.shardTokens}`);
  r.expectWords(graphs + 1 + tokens);
  const offsets = r.next(graphs + 1, Int32Array);
  const toks = r.next(tokens, Int32Array);
  for (let i = 0; i < graphs; i++) if (offsets[i] > offsets[i + 1]) throw new TaskRefused(`${what}: sequence offsets are not increasing at ${i}`);
  if (offsets[0] !== 0 || offsets[graphs] !== tokens) throw new TaskRefused(`${what}: sequence offsets do not span the ${tokens} tokens`);
  const seqs = decodeSequences({ tokens: toks, offsets });
  seqs.forEach((s, i) => {
    try {
      decodeDecisions(s);
    } catch (e) {
      throw new TaskRefused(`${what}: sequence ${i} is malformed: ${(e as Error).message}`);
    }
  });
  return seqs;
}

export function encodeGradientsBlob(version: number, shard: number, g: ShardGradients): Buffer {
  return pack(Kind.Gradients, [version, shard, g.logLik.length, g.gradSum.length, g.gradExponent], [g.logLik, g.gradSum]);
}

/** A shard's answer, checked to answer exactly this version and shard of a model of `total` parameters. */
export function decodeGradientsBlob(buf: Buffer, version: number, shard: number, graphs: number, total: number, what: string): ShardGradients {
  const r = new BlobReader(buf, Kind.Gradients, what);
  const [v, s, g, n, gradExponent] = r.counts;
  if (v !== version || s !== shard) throw new TaskRefused(`${what}: answers step ${v} shard ${s}, expected step ${version} shard ${shard}`);
  if (g !== graphs || n !== total) throw new TaskRefused(`${what}: ${g} log-likelihoods and ${n} gradient entries, expected ${graphs} and ${total}`);
  r.expectWords(g + n);
  return { logLik: r.next(g, Float32Array), gradSum: r.next(n, Float32Array), gradExponent };
}

/** Header counts of a graphs blob: first index, graphs, edges, which type lists follow (NODE_TYPES | EDGE_TYPES), node type entries. */
const NODE_TYPES = 1;
const EDGE_TYPES = 2;

export function encodeGraphsBlob(from: number, graphs: readonly Graph[]): Buffer {
  const e = encodeGraphs(graphs);
  const flags = (e.nodeTypes ? NODE_TYPES : 0) | (e.edgeTypes ? EDGE_TYPES : 0);
  const typeLists = [e.nodeTypes, e.edgeTypes].flatMap((x) => (x ? [x] : []));
  return pack(Kind.Graphs, [from, graphs.length, e.edges.length / 2, flags, e.nodeTypes?.length ?? 0], [e.numNodes, e.edgeOffsets, e.edges, ...typeLists]);
}

/**
 * A sampling chunk's graphs, checked: `count` graphs of at most `vMax` nodes, edges between
 * existing distinct nodes, node and edge types (when there are) within the model's `types`.
 */
export function decodeGraphsBlob(buf: Buffer, from: number, count: number, vMax: number, types: TypeCounts, what: string): Graph[] {
  const r = new BlobReader(buf, Kind.Graphs, what);
  const [f, c, m, flags, typedNodes] = r.counts;
  if (f !== from || c !== count) throw new TaskRefused(`${what}: graphs ${f}..${f + c - 1}, expected ${from}..${from + count - 1}`);
  if (flags > (NODE_TYPES | EDGE_TYPES) || (!(flags & NODE_TYPES) && typedNodes !== 0)) throw new TaskRefused(`${what}: type flags ${flags} with ${typedNodes} node types are not a graphs header`);
  r.expectWords(c + c + 1 + 2 * m + typedNodes + (flags & EDGE_TYPES ? m : 0));
  const numNodes = r.next(c, Int32Array);
  const edgeOffsets = r.next(c + 1, Int32Array);
  const edges = r.next(2 * m, Int32Array);
  const nodeTypes = flags & NODE_TYPES ? r.next(typedNodes, Int32Array) : null;
  const edgeTypes = flags & EDGE_TYPES ? r.next(m, Int32Array) : null;
  if (edgeOffsets[0] !== 0 || edgeOffsets[c] !== m) throw new TaskRefused(`${what}: edge offsets do not span the ${m} edges`);
  let nodes = 0;
  for (let i = 0; i < c; i++) {
    const n = numNodes[i];
    if (n < 0 || n > vMax) throw new TaskRefused(`${what}: graph ${from + i} has ${n} nodes, v_max is ${vMax}`);
    nodes += n;
    if (edgeOffsets[i] > edgeOffsets[i + 1]) throw new TaskRefused(`${what}: edge offsets are not increasing at graph ${from + i}`);
    for (let j = edgeOffsets[i]; j < edgeOffsets[i + 1]; j++) {
      const [u, v] = [edges[2 * j], edges[2 * j + 1]];
      if (u < 0 || v < 0 || u >= n || v >= n || u === v) throw new TaskRefused(`${what}: graph ${from + i} has an edge [${u}, ${v}] outside its ${n} nodes`);
    }
  }
  if (nodeTypes && nodes !== typedNodes) throw new TaskRefused(`${what}: ${typedNodes} node types for ${nodes} nodes`);
  const outside = (list: Int32Array | null, count: number): number => (list ? list.findIndex((k) => k < 0 || k >= count) : -1);
  if (outside(nodeTypes, types.nodeTypes) >= 0) throw new TaskRefused(`${what}: a node type outside the model's 0..${types.nodeTypes - 1}`);
  if (outside(edgeTypes, types.edgeTypes) >= 0) throw new TaskRefused(`${what}: an edge type outside the model's 0..${types.edgeTypes - 1}`);
  return decodeGraphs({ numNodes, edgeOffsets, edges, nodeTypes, edgeTypes });
}

/** Where Redis is: a redis:// or rediss:// URL (user and password in it), and a CA file for TLS. */
export interface RedisTarget {
  readonly url: string;
  /** PEM file of the CA that signed the server's certificate (rediss:// with a private CA). */
  readonly caFile: string | null;
}

/** The URL without its password, for messages. */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return url;
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Whether Redis refused who we are or what we may do (a wrong password, no password, an ACL user
 * without the command): no reconnect can cure that, so whoever meets it stops at once.
 */
export function accessDenied(e: Error): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message);
}

/** The one line that ends a process Redis refused (see accessDenied). */
export function accessDeniedMessage(url: string, e: Error): string {
  const reason = e.message.split(/[.\n]/)[0];
  const fix = /^NOPERM/.test(reason) ? "give the URL's user the commands BullMQ needs (e.g. +@all ~* &*)" : 'check the user and password in the URL';
  return `Redis at ${redisWhere(url)} refused access (${reason}); ${fix}`;
}

/**
 * Connection options for BullMQ's own connections and ours: commands wait (rather than fail)
 * while Redis is away, as BullMQ requires, and reconnecting is retried every second at most;
 * whoever holds the connection decides how long to wait.
 */
export function redisOptions(t: RedisTarget): RedisOptions {
  let u: URL;
  try {
    u = new URL(t.url);
  } catch {
    throw new Error(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(t.url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis must be a redis:// or rediss:// URL, got ${redisWhere(t.url)}`);
  if (t.caFile && u.protocol !== 'rediss:') throw new Error('--redis-ca is for TLS: give a rediss:// URL');
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--redis: database ${JSON.stringify(u.pathname.slice(1))} is not a number`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    ...(u.protocol === 'rediss:' && { tls: { ca: t.caFile ? readFileSync(t.caFile) : undefined, servername: host } }),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}
