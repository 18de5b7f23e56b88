import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AdamState } from '../model/adam';
import { paramLayout, type ParamLayout } from '../model/params';
import { configFromJson, type RunConfig } from './config';

/**
 * A training checkpoint (SPEC §6): config, every parameter's name, shape and float32 data, the
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

export class CheckpointError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'CheckpointError';
  }
}

const b64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function floats(s: unknown, count: number, file: string, what: string): Float32Array {
  if (typeof s !== 'string') throw new CheckpointError(file, `${what} is missing`);
  const buf = Buffer.from(s, 'base64');
  if (buf.byteLength !== count * 4) throw new CheckpointError(file, `${what} has ${buf.byteLength / 4} floats, expected ${count}`);
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Writes `data` to `file` atomically: a temporary file beside it, flushed, then renamed over it. */
export function writeFileAtomic(file: string, data: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function saveCheckpoint(file: string, c: Checkpoint): void {
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
  writeFileAtomic(file, JSON.stringify(json));
}

interface ParamJson {
  name: string;
  shape: number[];
  data: string;
}

/** Reads a checkpoint, checking every parameter against the model its own config describes. */
export function loadCheckpoint(file: string): Checkpoint {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(file, `not a readable checkpoint: ${(e as Error).message}`);
  }
  if (json.format !== FORMAT) throw new CheckpointError(file, `not a dgmg-pipe checkpoint (format ${JSON.stringify(json.format)}, expected ${FORMAT})`);
  const config = configFromJson(json.config, `${file} (config)`);
  const layout = paramLayout(config.model);
  const ps = json.params as ParamJson[];
  if (!Array.isArray(ps) || ps.length !== layout.specs.length) throw new CheckpointError(file, `has ${Array.isArray(ps) ? ps.length : 0} parameters, its config's model has ${layout.specs.length}`);
  const params = new Float32Array(layout.total);
  layout.specs.forEach((s, i) => {
    const p = ps[i];
    if (p.name !== s.name || JSON.stringify(p.shape) !== JSON.stringify(s.shape)) {
      throw new CheckpointError(file, `parameter ${i} is ${p.name} ${JSON.stringify(p.shape)}, the model expects ${s.name} ${JSON.stringify(s.shape)}`);
    }
    params.set(floats(p.data, s.shape.reduce((a, b) => a * b, 1), file, `parameter ${s.name}`), layout.offsets[i]);
  });
  const adam = json.adam as { t: number; m: string; v: string };
  return {
    config,
    params,
    adam: { t: adam.t, m: floats(adam.m, layout.total, file, 'adam.m'), v: floats(adam.v, layout.total, file, 'adam.v') },
    step: Number(json.step),
    graphsSeen: Number(json.graphsSeen),
  };
}

/** Refuses a checkpoint whose model differs from the one `config` describes. */
export function assertCheckpointMatches(file: string, ckpt: Checkpoint, config: RunConfig, configSource: string): ParamLayout {
  const a = JSON.stringify(ckpt.config.model);
  const b = JSON.stringify(config.model);
  if (a !== b) throw new CheckpointError(file, `was trained with model ${a}, but ${configSource} asks for model ${b}`);
  return paramLayout(config.model);
}
