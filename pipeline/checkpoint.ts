import { readFileSync } from 'node:fs';
import { briefJson, jsonTooDeepAt } from '../graphs/formats';
import { isMoleculeVocabulary } from '../graphs/molecule';
import type { AdamState } from '../model/adam';
import { paramLayout, type ParamLayout } from '../model/params';
import { writeFileAtomic } from './atomic';
import { configFromJson, type RunConfig } from './config';

export { writeFileAtomic };

/**
 * A training checkpoint (docs/design.md, 'Files'): config, every parameter's name, shape and float32 data, the
 * Adam state, the step count and the random state. Every random draw of training is a function of
 * (seed, step) (see BatchSource), so the seed and step are the whole random state.
 */
export interface Checkpoint {
  readonly config: RunConfig;
  readonly params: Float32Array;
  readonly adam: AdamState;
  readonly step: number;
  /** Graphs trained on so far. */
  readonly graphsSeen: number;
}

const FORMAT = 'dgmg-pipe/checkpoint@1';
/** The checkpoint, its config, a section of it (data), data.familyParams. */
const MAX_DEPTH = 4;

export class CheckpointError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CheckpointError';
  }
}

/** Base64 of the bytes of `a`, through btoa (Node and browsers alike), in slices that fit in one call's arguments. */
function b64(a: Float32Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** `count` float32s from base64 text; atob forgives some malformed text, so that is refused first. */
function floats(s: unknown, count: number, file: string, what: string): Float32Array {
  if (typeof s !== 'string') throw new CheckpointError(file, `${what} must be base64 float32 data, got ${briefJson(s)}`);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) throw new CheckpointError(file, `${what} is not base64 text`);
  const text = atob(s);
  if (text.length !== count * 4) throw new CheckpointError(file, `${what} has ${text.length / 4} floats, expected ${count}`);
  const out = new Float32Array(count);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = text.charCodeAt(i);
  const bad = out.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new CheckpointError(file, `${what} has a non-finite value (${out[bad]}) at index ${bad}`);
  return out;
}

/** A checkpoint as the text of its file (JSON), the same in Node and in a web page. */
export function checkpointJson(c: Checkpoint): string {
  const layout = paramLayout(c.config.model);
  const json = {
    format: FORMAT,
    config: c.config,
    step: c.step,
    graphsSeen: c.graphsSeen,
    random: { seed: c.config.train.seed, step: c.step },
    params: layout.specs.map((s, i) => ({
      name: s.name,
      shape: s.shape,
      data: b64(c.params.subarray(layout.offsets[i], layout.offsets[i] + s.shape.reduce((a, b) => a * b, 1))),
    })),
    adam: { t: c.adam.t, m: b64(c.adam.m), v: b64(c.adam.v) },
  };
  return JSON.stringify(json);
}

export function saveCheckpoint(file: string, c: Checkpoint): void {
  writeFileAtomic(file, checkpointJson(c), 'checkpoint');
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** `x` if it is an integer >= 0 (a count), else an error naming the field. */
function count(x: unknown, file: string, field: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new CheckpointError(file, `${field} must be an integer >= 0, got ${briefJson(x)}`);
  return x;
}

/**
 * A checkpoint's config with model.valenceMask false when it has none and is a model of
 * molecules: it was trained before the valence constraint existed, and loads to sample exactly as
 * it was trained. (Other models ignore the key, so theirs keep the default and still match their
 * config files.)
 */
function withoutValenceMask(config: unknown): unknown {
  if (!isRecord(config) || !isRecord(config.model) || 'valenceMask' in config.model) return config;
  const { nodeTypes, edgeTypes } = config.model;
  const names = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (!names(nodeTypes) || !names(edgeTypes) || !isMoleculeVocabulary({ nodeTypes, edgeTypes })) return config;
  return { ...config, model: { ...config.model, valenceMask: false } };
}

/** Reads a checkpoint file (parseCheckpoint). */
export function loadCheckpoint(file: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CheckpointError(file, `not a readable checkpoint: ${(e as Error).message}`);
  }
  return parseCheckpoint(text, file);
}

/**
 * A checkpoint from the text of its file (`file` names it in messages), checking every field,
 * and every parameter against the model its own config describes.
 */
export function parseCheckpoint(text: string, file: string): Checkpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(file, `not a readable checkpoint: ${(e as Error).message}`);
  }
  const deep = jsonTooDeepAt(text, MAX_DEPTH);
  if (deep) throw new CheckpointError(file, `not a dgmg-pipe checkpoint (nested more than ${MAX_DEPTH} deep at offset ${deep})`);
  if (!isRecord(json)) throw new CheckpointError(file, `not a dgmg-pipe checkpoint (a JSON ${json === null ? 'null' : Array.isArray(json) ? 'array' : typeof json}, expected an object)`);
  if (json.format !== FORMAT) throw new CheckpointError(file, `not a dgmg-pipe checkpoint (format ${briefJson(json.format)}, expected ${FORMAT})`);
  const config = configFromJson(withoutValenceMask(json.config), `${file} (config)`);
  const layout = paramLayout(config.model);
  const ps = json.params;
  if (!Array.isArray(ps)) throw new CheckpointError(file, `params must be an array of the model's ${layout.specs.length} parameters, got ${briefJson(ps)}`);
  if (ps.length !== layout.specs.length) throw new CheckpointError(file, `has ${ps.length} parameters, its config's model has ${layout.specs.length}`);
  const params = new Float32Array(layout.total);
  layout.specs.forEach((s, i) => {
    const p: unknown = ps[i];
    if (!isRecord(p) || p.name !== s.name || JSON.stringify(p.shape) !== JSON.stringify(s.shape)) {
      const found = isRecord(p) ? `${typeof p.name === 'string' ? p.name : briefJson(p.name)} ${briefJson(p.shape)}` : briefJson(p);
      throw new CheckpointError(file, `parameter ${i} is ${found}, the model expects ${s.name} ${JSON.stringify(s.shape)}`);
    }
    params.set(floats(p.data, s.shape.reduce((a, b) => a * b, 1), file, `parameter ${s.name}`), layout.offsets[i]);
  });
  const adam = json.adam;
  if (!isRecord(adam)) throw new CheckpointError(file, `adam must be an object {"t", "m", "v"}, got ${briefJson(adam)}`);
  const step = count(json.step, file, 'step');
  const random = json.random;
  if (!isRecord(random) || random.seed !== config.train.seed || random.step !== step) {
    throw new CheckpointError(file, `random must be {"seed": ${config.train.seed}, "step": ${step}} (the config's seed and the step), got ${briefJson(random)}`);
  }
  return {
    config,
    params,
    adam: { t: count(adam.t, file, 'adam.t'), m: floats(adam.m, layout.total, file, 'adam.m'), v: floats(adam.v, layout.total, file, 'adam.v') },
    step,
    graphsSeen: count(json.graphsSeen, file, 'graphsSeen'),
  };
}

/** Refuses a checkpoint whose model differs from the one `config` describes. */
export function assertCheckpointMatches(file: string, ckpt: Checkpoint, config: RunConfig, configSource: string): ParamLayout {
  const a = JSON.stringify(ckpt.config.model);
  const b = JSON.stringify(config.model);
  if (a !== b) throw new CheckpointError(file, `was trained with model ${a}, but ${configSource} asks for model ${b}`);
  return paramLayout(config.model);
}
