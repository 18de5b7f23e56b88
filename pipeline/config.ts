import { ORDER_KINDS, type OrderKind } from '../graphs/order';
import { makeFamily } from '../graphs/families';
import { jsonTooDeepAt } from '../graphs/formats';
import { modelSizeProblem } from '../model/params';
import { constraintsProblem } from '../model/constraints';
import { MAX_V_MAX } from '../model/sample';
import { isMoleculeVocabulary } from '../graphs/molecule';
import { valenceRule } from '../graphs/valence';
import { readTextFile } from './text';

/** Everything a run is made of (configs/*.json). Every key has a default; unknown keys are refused. */
export interface RunConfig {
  readonly data: {
    /** A generated family (graphs/families.ts), used when `file` is empty. */
    readonly family: string;
    readonly familyParams: Readonly<Record<string, number>>;
    /** A graph file (.jsonl or .g6) instead of a family; relative paths are from the working directory. */
    readonly file: string;
    readonly trainSize: number;
    readonly testSize: number;
    readonly order: OrderKind;
    /** Molecule files (.smi, .csv): leave out molecules with more heavy atoms than this (0: keep every size). */
    readonly maxAtoms: number;
    /** Molecule files: skip (and count) molecules RDKit cannot parse or whose types are outside model.nodeTypes, instead of stopping. */
    readonly skipInvalid: boolean;
  };
  readonly model: {
    readonly nodeSize: number;
    readonly propRounds: number;
    /**
     * Names of the node types and edge types (docs/design.md, 'Decision encoding'), e.g. ["C", "N", "O"] and ["single",
     * "double", "triple"]; a graph's type indexes point into them. Empty: untyped (one type).
     */
    readonly nodeTypes: readonly string[];
    readonly edgeTypes: readonly string[];
    /**
     * A model of molecules (atom types, bond types) never takes an action that gives an atom more
     * bonds than RDKit's default valences allow (docs/design.md, 'Valence constraint'). Other
     * models have no valences and ignore it. A checkpoint written before the key existed has it
     * off (loadCheckpoint).
     */
    readonly valenceMask: boolean;
    /**
     * D: the choose-destination score adds a learned term of the candidate's graph distance to
     * the new node, told apart up to D (docs/design.md, 'Destination distance'); 0: plain DGMG.
     */
    readonly destinationDistance: number;
    /**
     * N: the add-node decision also reads the node count so far, up to N (docs/design.md,
     * 'Node-count input'); 0: plain DGMG, as before the key.
     */
    readonly nodeCountInput: number;
    /**
     * N: the model draws each graph's size first, up to N, and builds the graph to it
     * (docs/design.md, 'Planned size'); 0: DGMG's own stop decision, as before the key.
     */
    readonly plannedSize: number;
    /**
     * Structural constraints (docs/design.md, 'Structural constraints'):
     * "connected", "planar"; empty: none, the model as before the key existed.
     */
    readonly constraints: readonly string[];
    /**
     * The add-edge decision reads the scores of the destinations each edge type could choose
     * (docs/design.md, 'Joint edge choice'); false: DGMG's add-edge, as before the key.
     */
    readonly jointEdgeChoice: boolean;
    /**
     * Under a destination-distance term, the destination score has its own weights for each
     * distance bucket (docs/design.md, 'Weights by distance'); false: one set, as before the key.
     */
    readonly distanceWeights: boolean;
  };
  readonly train: {
    readonly epochs: number;
    readonly batchSize: number;
    /**
     * Shards every batch is cut into, computed in parallel (docs/design.md, 'Training dataflow').
     * The parameters depend on the shards, never on the threads that compute them, so a config
     * that fixes them trains the same model on any number of workers; 0: one shard per worker,
     * resolved when the run starts and kept in its checkpoint.
     */
    readonly shards: number;
    readonly lr: number;
    /** The learning rate falls along a cosine from lr to lr * lrFinalFraction over the run (1: constant). */
    readonly lrFinalFraction: number;
    readonly beta1: number;
    readonly beta2: number;
    readonly eps: number;
    readonly clipNorm: number;
    readonly seed: number;
    /**
     * 'baseRate': the two stop biases start at the logits of the training data's stop rates;
     * 'normal': N(0, 1) like every other bias (the DGL example).
     */
    readonly biasInit: string;
    /** Write a checkpoint every this many steps (and at the end). */
    readonly checkpointEvery: number;
    /** Also write one when this many seconds have passed since the last (so kill -9 loses at most about this much). */
    readonly checkpointSeconds: number;
    /** A worker task (a shard, a sampling chunk) unanswered this long is abandoned, its worker replaced and the task run again. */
    readonly taskTimeoutSeconds: number;
  };
  readonly sample: {
    /** Most nodes a sampled graph may have, at most MAX_V_MAX. */
    readonly vMax: number;
  };
}

export { MAX_V_MAX };

/**
 * The largest train.batchSize: a step's graphs are computed in micro-batches of bounded memory
 * (model/teacher.ts), so this bounds only the step's decision sequences and their schedule's
 * index arrays in the main thread; 65,536 graphs is beyond any batch DGMG is trained with.
 */
export const MAX_BATCH_SIZE = 65_536;

/** The largest seed: the random streams (graphs/random.ts) take a seed's low 32 bits, so 2^32 would be seed 0 again. */
export const MAX_SEED = 0xffffffff;

export const BIAS_INITS: readonly string[] = ['normal', 'baseRate'];

export const DEFAULT_CONFIG: RunConfig = {
  data: { family: 'cycles', familyParams: {}, file: '', trainSize: 4000, testSize: 500, order: 'natural', maxAtoms: 0, skipInvalid: false },
  model: { nodeSize: 16, propRounds: 2, nodeTypes: [], edgeTypes: [], valenceMask: true, destinationDistance: 0, nodeCountInput: 0, plannedSize: 0, constraints: [], jointEdgeChoice: false, distanceWeights: false },
  train: { epochs: 25, batchSize: 10, shards: 0, lr: 5e-4, lrFinalFraction: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 0.25, seed: 0, biasInit: 'normal', checkpointEvery: 500, checkpointSeconds: 30, taskTimeoutSeconds: 120 },
  sample: { vMax: 25 },
};

export class ConfigError extends Error {
  constructor(source: string, reason: string) {
    super(`${source}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (x: unknown): x is Record<string, Json> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Overlays `over` on `base`, key by key, refusing keys and types that `base` does not have. */
function overlay(base: Json, over: Json, path: string, source: string): Json {
  if (isObject(base)) {
    if (!isObject(over)) throw new ConfigError(source, `${path || 'the config'} must be an object`);
    const out: Record<string, Json> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const at = path ? `${path}.${k}` : k;
      if (path === 'data.familyParams') {
        if (typeof v !== 'number') throw new ConfigError(source, `${at} must be a number`);
        out[k] = v;
      } else if (!(k in base)) {
        throw new ConfigError(source, `unknown key ${at} (known: ${Object.keys(base).map((x) => (path ? `${path}.${x}` : x)).join(', ')})`);
      } else out[k] = overlay(base[k], v, at, source);
    }
    return out;
  }
  if (typeof over !== typeof base) throw new ConfigError(source, `${path} must be a ${typeof base}, got ${JSON.stringify(over)}`);
  return over;
}

function check(ok: boolean, source: string, what: string): void {
  if (!ok) throw new ConfigError(source, what);
}

const posInt = (x: number): boolean => Number.isInteger(x) && x > 0;

/** A list of type names: distinct non-empty strings. */
function checkTypeNames(names: unknown, what: string, source: string): void {
  check(Array.isArray(names), source, `${what} must be an array of type names, got ${JSON.stringify(names)}`);
  const list = names as unknown[];
  list.forEach((x, i) => check(typeof x === 'string' && x !== '', source, `${what}[${i}] must be a non-empty string, got ${JSON.stringify(x)}`));
  const seen = new Set<unknown>();
  const twice = list.find((x) => seen.size === seen.add(x).size);
  check(twice === undefined, source, `${what} lists ${JSON.stringify(twice)} twice`);
}

/** Checks the values that types alone do not rule out. */
export function validateConfig(c: RunConfig, source: string): RunConfig {
  check(ORDER_KINDS.includes(c.data.order), source, `data.order must be one of ${ORDER_KINDS.join(', ')}, got ${c.data.order}`);
  if (!c.data.file) {
    try {
      makeFamily(c.data.family, c.data.familyParams);
    } catch (e) {
      throw new ConfigError(source, `data: ${(e as Error).message}`);
    }
  }
  check(posInt(c.data.trainSize), source, `data.trainSize must be a positive integer, got ${c.data.trainSize}`);
  check(Number.isInteger(c.data.testSize) && c.data.testSize >= 0, source, `data.testSize must be an integer >= 0, got ${c.data.testSize}`);
  check(Number.isInteger(c.data.maxAtoms) && c.data.maxAtoms >= 0, source, `data.maxAtoms must be an integer >= 0 (0: any size), got ${c.data.maxAtoms}`);
  checkTypeNames(c.model.nodeTypes, 'model.nodeTypes', source);
  checkTypeNames(c.model.edgeTypes, 'model.edgeTypes', source);
  const model = modelSizeProblem(c.model);
  check(model === null, source, model ?? '');
  if (c.model.valenceMask && isMoleculeVocabulary(c.model)) {
    try {
      valenceRule(c.model);
    } catch (e) {
      throw new ConfigError(source, `model.nodeTypes: ${(e as Error).message}`);
    }
  }
  const constraints = constraintsProblem(c.model);
  check(constraints === null, source, constraints ?? '');
  // a random order places a node before all its neighbours in any graph but a complete one
  check(!(c.model.constraints.includes('connected') && c.data.order === 'random'), source, 'model.constraints: connected needs every node after the first to have an earlier neighbour, which data.order random cannot give; use bfs, dfs or path');
  check(posInt(c.train.epochs), source, `train.epochs must be a positive integer, got ${c.train.epochs}`);
  check(posInt(c.train.batchSize) && c.train.batchSize <= MAX_BATCH_SIZE, source, `train.batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${c.train.batchSize}`);
  check(Number.isInteger(c.train.shards) && c.train.shards >= 0 && c.train.shards <= MAX_BATCH_SIZE, source, `train.shards must be an integer from 0 to ${MAX_BATCH_SIZE} (0: one per worker), got ${c.train.shards}`);
  check(c.train.lr > 0, source, `train.lr must be > 0, got ${c.train.lr}`);
  check(c.train.lrFinalFraction > 0 && c.train.lrFinalFraction <= 1, source, `train.lrFinalFraction must be in (0, 1], got ${c.train.lrFinalFraction}`);
  check(c.train.beta1 >= 0 && c.train.beta1 < 1 && c.train.beta2 >= 0 && c.train.beta2 < 1, source, 'train.beta1 and train.beta2 must be in [0, 1)');
  check(c.train.eps > 0, source, `train.eps must be > 0, got ${c.train.eps}`);
  check(c.train.clipNorm >= 0, source, `train.clipNorm must be >= 0 (0: no clipping), got ${c.train.clipNorm}`);
  check(Number.isInteger(c.train.seed) && c.train.seed >= 0 && c.train.seed <= MAX_SEED, source, `train.seed must be an integer from 0 to ${MAX_SEED}, got ${c.train.seed}`);
  check(BIAS_INITS.includes(c.train.biasInit), source, `train.biasInit must be one of ${BIAS_INITS.join(', ')}, got ${c.train.biasInit}`);
  check(posInt(c.train.checkpointEvery), source, `train.checkpointEvery must be a positive integer, got ${c.train.checkpointEvery}`);
  check(c.train.checkpointSeconds > 0, source, `train.checkpointSeconds must be > 0, got ${c.train.checkpointSeconds}`);
  // setTimeout fires at once for delays beyond 2^31 ms (~24.8 days)
  check(c.train.taskTimeoutSeconds > 0 && c.train.taskTimeoutSeconds <= 86_400, source, `train.taskTimeoutSeconds must be in (0, 86400], got ${c.train.taskTimeoutSeconds}`);
  check(posInt(c.sample.vMax) && c.sample.vMax <= MAX_V_MAX, source, `sample.vMax must be an integer from 1 to ${MAX_V_MAX}, got ${c.sample.vMax}`);
  return c;
}

/** The defaults overlaid with `json` (from `source`, for messages), validated. */
export function configFromJson(json: unknown, source: string): RunConfig {
  return validateConfig(overlay(DEFAULT_CONFIG as unknown as Json, json as Json, '', source) as unknown as RunConfig, source);
}

/** Reads and validates a config file; every problem names the file. */
export function loadConfig(file: string): RunConfig {
  const text = readTextFile(file, ConfigError);
  // Deeper than data.familyParams is no config; its messages would recurse through the value.
  const deep = jsonTooDeepAt(text, 3);
  if (deep) throw new ConfigError(file, `not a run config: nested more than 3 deep at offset ${deep}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return configFromJson(json, file);
}

/** `c` with some values replaced (command-line flags), validated again. */
export function withOverrides(c: RunConfig, over: { train?: Partial<RunConfig['train']>; data?: Partial<RunConfig['data']>; model?: Partial<Pick<RunConfig['model'], 'valenceMask'>> }, source: string): RunConfig {
  return validateConfig({ ...c, train: { ...c.train, ...over.train }, data: { ...c.data, ...over.data }, model: { ...c.model, ...over.model } }, source);
}
