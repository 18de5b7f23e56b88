import * as tf from '@tensorflow/tfjs';
import { Rng } from '../graphs/random';

/** Sizes of a DGMG (SPEC §3). */
export interface ModelConfig {
  /** n, the node state size; the graph embedding has 2n. */
  readonly nodeSize: number;
  /** T, propagation rounds, each with its own parameters. */
  readonly propRounds: number;
}

export const DEFAULT_MODEL: ModelConfig = { nodeSize: 16, propRounds: 2 };

type Init =
  | { kind: 'xavier'; fanIn: number; fanOut: number }
  | { kind: 'orthogonal' }
  | { kind: 'normal'; std: number };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

/**
 * Every parameter, in the order of the flat vector. Weights are stored [in, out] so that a layer is
 * x·W + b without transposes. Initialisation follows the public DGL example: Xavier-normal linear
 * weights with N(0,1) biases, orthogonal GRU matrices with N(0,1) biases, message functions N(0, 0.1²).
 */
export function paramSpecs(cfg: ModelConfig): ParamSpec[] {
  const n = cfg.nodeSize;
  const linear = (name: string, fanIn: number, fanOut: number): ParamSpec[] => [
    { name: `${name}.w`, shape: [fanIn, fanOut], init: { kind: 'xavier', fanIn, fanOut } },
    { name: `${name}.b`, shape: [fanOut], init: { kind: 'normal', std: 1 } },
  ];
  const specs: ParamSpec[] = [...linear('embed.gate', n, 1), ...linear('embed.proj', n, 2 * n)];
  for (let t = 0; t < cfg.propRounds; t++) {
    specs.push(
      { name: `prop.${t}.msg.w`, shape: [2 * n + 1, 2 * n], init: { kind: 'normal', std: 0.1 } },
      { name: `prop.${t}.msg.b`, shape: [2 * n], init: { kind: 'normal', std: 0.1 } },
      { name: `prop.${t}.gru.wi`, shape: [2 * n, 3 * n], init: { kind: 'orthogonal' } },
      { name: `prop.${t}.gru.wh`, shape: [n, 3 * n], init: { kind: 'orthogonal' } },
      { name: `prop.${t}.gru.bi`, shape: [3 * n], init: { kind: 'normal', std: 1 } },
      { name: `prop.${t}.gru.bh`, shape: [3 * n], init: { kind: 'normal', std: 1 } },
    );
  }
  specs.push(
    ...linear('addNode.stop', 2 * n, 1),
    { name: 'addNode.typeEmbed', shape: [1, n], init: { kind: 'normal', std: 1 } },
    ...linear('addNode.init', 3 * n, n),
    ...linear('addEdge.stop', 3 * n, 1),
    ...linear('chooseDest.score', 2 * n, 1),
  );
  return specs;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Where each parameter lives in the flat vector. */
export interface ParamLayout {
  readonly specs: readonly ParamSpec[];
  readonly offsets: readonly number[];
  readonly total: number;
}

export function paramLayout(cfg: ModelConfig): ParamLayout {
  const specs = paramSpecs(cfg);
  const offsets: number[] = [];
  let total = 0;
  for (const s of specs) {
    offsets.push(total);
    total += size(s.shape);
  }
  return { specs, offsets, total };
}

/**
 * A (rows x cols) matrix with orthonormal columns or rows, whichever are fewer, as torch's
 * orthogonal_ gives: Gram-Schmidt on a Gaussian matrix, applied along the longer side.
 */
function orthogonal(rows: number, cols: number, rng: Rng): Float64Array {
  const k = Math.min(rows, cols);
  const len = Math.max(rows, cols);
  const vecs: Float64Array[] = [];
  while (vecs.length < k) {
    const v = new Float64Array(len).map(() => rng.normal());
    for (const u of vecs) {
      let d = 0;
      for (let i = 0; i < len; i++) d += u[i] * v[i];
      for (let i = 0; i < len; i++) v[i] -= d * u[i];
    }
    const norm = Math.hypot(...v);
    if (norm < 1e-6) continue;
    vecs.push(v.map((x) => x / norm));
  }
  const out = new Float64Array(rows * cols);
  for (let a = 0; a < k; a++) {
    for (let i = 0; i < len; i++) {
      if (rows <= cols) out[a * cols + i] = vecs[a][i];
      else out[i * cols + a] = vecs[a][i];
    }
  }
  return out;
}

/** Probabilities of the two stop decisions, to start their biases at (see initParams). */
export interface StopRates {
  /** P(add-node decision = 1, stop). */
  readonly addNode: number;
  /** P(add-edge decision = 1, no more edges). */
  readonly addEdge: number;
}

/**
 * Fresh parameters as one flat vector, drawn from `seed`. With `stopRates`, the biases of the two
 * stop logits start at the logits of those rates instead of N(0, 1) draws (the draws are made all
 * the same, so every other parameter is unchanged). Why: the first add-node decision of every
 * graph reads h_G = 0, so its logit is the bias alone; Adam moves a parameter by at most about lr
 * a step, and from an unlucky draw (seed 0 gives +0.92: 72% empty graphs) it takes thousands of
 * steps to stop sampling empty graphs.
 */
export function initParams(layout: ParamLayout, seed: number, stopRates?: StopRates): Float32Array {
  const rng = new Rng(seed);
  const flat = new Float32Array(layout.total);
  layout.specs.forEach((s, i) => {
    const off = layout.offsets[i];
    const count = size(s.shape);
    if (s.init.kind === 'orthogonal') {
      flat.set(orthogonal(s.shape[0], s.shape[1], rng), off);
      return;
    }
    const std = s.init.kind === 'xavier' ? Math.sqrt(2 / (s.init.fanIn + s.init.fanOut)) : s.init.std;
    for (let j = 0; j < count; j++) flat[off + j] = std * rng.normal();
  });
  if (stopRates) {
    const logit = (p: number): number => Math.log(p / (1 - p));
    const at = (name: string): number => layout.offsets[layout.specs.findIndex((s) => s.name === name)];
    flat[at('addNode.stop.b')] = logit(stopRates.addNode);
    flat[at('addEdge.stop.b')] = logit(stopRates.addEdge);
  }
  return flat;
}

/** The model's parameters as named tensors. */
export type Params = Readonly<Record<string, tf.Tensor>>;

/** Tensors viewing `flat` (copied into the backend), keyed by parameter name. */
export function paramTensors(layout: ParamLayout, flat: Float32Array): Params {
  if (flat.length !== layout.total) throw new Error(`parameter vector has ${flat.length} floats, the model needs ${layout.total}`);
  const out: Record<string, tf.Tensor> = {};
  layout.specs.forEach((s, i) => {
    out[s.name] = tf.tensor(flat.subarray(layout.offsets[i], layout.offsets[i] + size(s.shape)), [...s.shape], 'float32');
  });
  return out;
}

const indexByName = new WeakMap<ParamLayout, Map<string, number>>();

/** Parameter `name`'s floats in `flat` (a view, not a copy), found through the layout. */
export function paramView(layout: ParamLayout, flat: Float32Array, name: string): Float32Array {
  let byName = indexByName.get(layout);
  if (!byName) {
    byName = new Map(layout.specs.map((s, i) => [s.name, i]));
    indexByName.set(layout, byName);
  }
  const i = byName.get(name);
  if (i === undefined) throw new Error(`the model has no parameter ${name}`);
  return flat.subarray(layout.offsets[i], layout.offsets[i] + size(layout.specs[i].shape));
}
