import type { TypeCounts } from '../graphs/graph';
import { Rng } from '../graphs/random';

/** Sizes of a DGMG (docs/design.md, 'Model equations'). */
export interface ModelConfig {
  /** n, the node state size; the graph embedding has 2n. */
  readonly nodeSize: number;
  /** T, propagation rounds, each with its own parameters. */
  readonly propRounds: number;
  /**
   * Names of the K node types and B edge types (a run config's model.nodeTypes / edgeTypes, which
   * graphs' type indexes point into); absent or empty: untyped, K = 1 (B = 1). The model itself
   * only counts them (typeCounts), so the config that names them is the one thing a worker gets.
   */
  readonly nodeTypes?: readonly string[];
  readonly edgeTypes?: readonly string[];
  /**
   * A molecule model (atom and bond types) removes the actions that exceed RDKit's default
   * valences (model/valence.ts); absent or false: it does not. Other models ignore it.
   */
  readonly valenceMask?: boolean;
  /**
   * D, the largest graph distance the destination score tells apart (model/distance.ts); absent
   * or 0: plain DGMG, without the parameter chooseDest.distance.
   */
  readonly destinationDistance?: number;
  /**
   * N: the add-node logits get nu[min(|V|, N)], a learned row per node count |V| (docs/design.md,
   * 'Node-count input'); absent or 0: no such term and no such parameter.
   */
  readonly nodeCountInput?: number;
  /**
   * N: the model first draws the graph's size n in 0..N from softmax(sigma) (size.logits), then
   * builds the graph knowing it: a new node's state starts with row n - |V| of addNode.remaining,
   * and the add-node decision may stop only at |V| = n (docs/design.md, 'Planned size'); absent or
   * 0: DGMG's own stop decision, no such parameters.
   */
  readonly plannedSize?: number;
  /**
   * Structural constraints, "connected" and "planar" (model/constraints.ts), for any model;
   * absent or empty: none.
   */
  readonly constraints?: readonly string[];
  /**
   * The add-edge logit of type b also reads the destinations it could choose: it gains
   * log sum_u exp(s_ub) over the candidates u (docs/design.md, 'Joint edge choice'), so
   * p(add b, then u) is proportional to exp(l_b + s_ub); absent or false: DGMG's add-edge.
   */
  readonly jointEdgeChoice?: boolean;
  /**
   * Under a destination-distance term, the destination score's weights depend on the distance
   * bucket: s_ub = (w_b + q_kappa,b)·[h_u ; h_v] + c_b + delta[kappa, b] (docs/design.md, 'Weights
   * by distance'), with the table chooseDest.distanceWeights of q; absent or false: one w_b for
   * every distance.
   */
  readonly distanceWeights?: boolean;
}

/** K and B of a model. */
export function typeCounts(cfg: ModelConfig): TypeCounts {
  return { nodeTypes: Math.max(1, cfg.nodeTypes?.length ?? 0), edgeTypes: Math.max(1, cfg.edgeTypes?.length ?? 0) };
}

/** D of a model (model/distance.ts): 0, plain DGMG, when its config has no model.destinationDistance. */
export function destinationDistanceOf(cfg: ModelConfig): number {
  return cfg.destinationDistance ?? 0;
}

/** Whether a model's add-edge decision reads its destination scores (docs/design.md, 'Joint edge choice'). */
export function jointEdgeChoiceOf(cfg: ModelConfig): boolean {
  return cfg.jointEdgeChoice === true;
}

/**
 * How many weight groups the destination score has: D + 1 (one per distance bucket kappa) under
 * model.distanceWeights, else 1; the score of a candidate in bucket kappa reads group kappa, or
 * the one group.
 */
export function distanceGroups(cfg: ModelConfig): number {
  return cfg.distanceWeights === true ? destinationDistanceOf(cfg) + 1 : 1;
}

/**
 * The destination scorer's weights per group, [2n, G·B]: column g·B + b is w_b + q_g,b, in
 * float32 (the chooseDest.score.w view itself when there is one group). The teacher and the
 * sampler both score with these columns.
 */
export function destinationWeights(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array): Float32Array {
  const w = paramView(layout, flat, 'chooseDest.score.w');
  const G = distanceGroups(cfg);
  if (G === 1) return w;
  const B = typeCounts(cfg).edgeTypes;
  const q = paramView(layout, flat, 'chooseDest.distanceWeights');
  const sum = new Float32Array(q.length);
  for (let r = 0; r < w.length / B; r++) for (let c = 0; c < G * B; c++) sum[r * G * B + c] = w[r * B + (c % B)] + q[r * G * B + c];
  return sum;
}

/** N of a model: the largest node count with its own row of the add-node count table, 0 for none. */
export function nodeCountRows(cfg: ModelConfig): number {
  return cfg.nodeCountInput ?? 0;
}

/** N of a model's planned size (docs/design.md, 'Planned size'): the largest size it draws, 0 for none. */
export function plannedSizeOf(cfg: ModelConfig): number {
  return cfg.plannedSize ?? 0;
}

/** Rows of the engine's InitConst per node type: one per remaining count 0..N under a planned size, else one. */
export function remainingRows(cfg: ModelConfig): number {
  const N = plannedSizeOf(cfg);
  return N > 0 ? N + 1 : 1;
}

/**
 * Columns of the add-node (K types) and add-edge (B types) heads: one stop logit l when the kind
 * has a single type (P(stop) = sigmoid(l), today's and the DGL example's model), else one logit
 * per outcome, the types then stop, indexed by the decision token.
 */
export function headColumns(types: number): number {
  return types === 1 ? 1 : types + 1;
}

export const DEFAULT_MODEL: ModelConfig = { nodeSize: 16, propRounds: 2 };

/**
 * The largest sizes a model may have (docs/speed.md, 'Limits on model sizes'), checked before anything is
 * allocated. Each is far beyond what DGMG is trained with (n = 16 to 128, T = 2 or 3, a few
 * dozen atom types, four bond types) and keeps the fixed costs small: the weights stay under
 * 40 MB, their orthogonal initialisation takes seconds, and an edge-type count cannot widen every
 * propagated row (B floats each) by more than 64.
 */
export const MODEL_LIMITS = { nodeSize: 256, propRounds: 8, nodeTypes: 1024, edgeTypes: 64, destinationDistance: 32, nodeCountInput: 4096, plannedSize: 4096 } as const;

/** Why `cfg` is not a model this engine builds (the config key, its bound and the value), or null. */
export function modelSizeProblem(cfg: ModelConfig): string | null {
  const within = (x: number, hi: number): boolean => Number.isInteger(x) && x >= 1 && x <= hi;
  if (!within(cfg.nodeSize, MODEL_LIMITS.nodeSize)) return `model.nodeSize must be an integer from 1 to ${MODEL_LIMITS.nodeSize}, got ${cfg.nodeSize}`;
  if (!within(cfg.propRounds, MODEL_LIMITS.propRounds)) return `model.propRounds must be an integer from 1 to ${MODEL_LIMITS.propRounds}, got ${cfg.propRounds}`;
  const { nodeTypes, edgeTypes } = typeCounts(cfg);
  if (nodeTypes > MODEL_LIMITS.nodeTypes) return `model.nodeTypes may name at most ${MODEL_LIMITS.nodeTypes} types, got ${nodeTypes}`;
  if (edgeTypes > MODEL_LIMITS.edgeTypes) return `model.edgeTypes may name at most ${MODEL_LIMITS.edgeTypes} types, got ${edgeTypes}`;
  const D = destinationDistanceOf(cfg);
  if (!(Number.isInteger(D) && D >= 0 && D <= MODEL_LIMITS.destinationDistance)) {
    return `model.destinationDistance must be an integer from 0 to ${MODEL_LIMITS.destinationDistance}, got ${D}`;
  }
  const N = nodeCountRows(cfg);
  if (!Number.isInteger(N) || N < 0 || N > MODEL_LIMITS.nodeCountInput) return `model.nodeCountInput must be an integer from 0 to ${MODEL_LIMITS.nodeCountInput}, got ${N}`;
  const S = plannedSizeOf(cfg);
  if (!Number.isInteger(S) || S < 0 || S > MODEL_LIMITS.plannedSize) return `model.plannedSize must be an integer from 0 to ${MODEL_LIMITS.plannedSize}, got ${S}`;
  if (cfg.distanceWeights === true && D === 0) return 'model.distanceWeights needs model.destinationDistance >= 1: its weights are one set per distance bucket';
  return null;
}

type Init =
  | { kind: 'xavier'; fanIn: number; fanOut: number }
  | { kind: 'orthogonal' }
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

/**
 * Every parameter, in the order of the flat vector. Weights are stored [in, out] so that a layer is
 * x·W + b without transposes. Initialisation follows the public DGL example: Xavier-normal linear
 * weights with N(0,1) biases, orthogonal GRU matrices with N(0,1) biases, message functions N(0, 0.1²).
 * `embed.empty` is h_G of the graph with no nodes, read by the first add-node decision and the first
 * node's initialisation: with a fixed h_G = 0 the first decision's logit is the stop bias alone,
 * which every other add-node decision shares, so the model could not tell "stop before any node"
 * from "stop now" and sampled empty graphs that no training graph is. It starts at zeros and draws
 * nothing, so a fresh model is the h_G = 0 model exactly (baseRate starts it elsewhere: initParams).
 * Types (K node, B edge) only widen shapes, never add or reorder parameters: `addNode.typeEmbed`
 * has a row e_k per node type, `prop.t.msg.w` a row per edge type (x_uv's one-hot), and the heads
 * `addNode.stop` and `addEdge.stop` keep their names with headColumns(K) and headColumns(B)
 * columns, and `chooseDest.score` has one column w_b (and bias c_b) per edge type: the destination
 * decision that follows add-edge token b scores s_u = w_b . [h_u ; h_v] + c_b, so it can prefer the
 * nodes that have room for an edge of that type (measured on NCI molecules, typed, n = 32, 80
 * epochs: 297 of 299 valence violations in 1000 samples came from a destination blind to the bond
 * type). Every column draws with the untyped column's Xavier std sqrt(2 / (2n + 1)) (fanOut 1, not
 * B), so a typed model's columns start like the untyped one. So K = B = 1 is the untyped model's
 * layout and draws exactly, and its checkpoints load. With model.destinationDistance D >= 1 the
 * table `chooseDest.distance` of (D + 1) x B entries, delta[kappa, b] (model/distance.ts), comes
 * last, then under model.distanceWeights q, `chooseDest.distanceWeights` (2n x (D + 1)·B), and
 * with model.nodeCountInput N >= 1 the table `addNode.count` (N + 1 rows of the add-node head's
 * columns) follows `addNode.stop`; all start at zero and draw nothing, so every other
 * parameter draws as without them, a fresh model decides as plain DGMG does, and a checkpoint
 * without them carries over by name with the new tables at zeros (carryParams). With
 * model.plannedSize N >= 1, `size.logits` (sigma, N + 1 entries) and `addNode.remaining` (rho,
 * N + 1 rows of n) come last, at zeros too; the training run starts sigma at the data's sizes
 * (startPlannedSizes).
 */
export function paramSpecs(cfg: ModelConfig): ParamSpec[] {
  const n = cfg.nodeSize;
  const { nodeTypes: K, edgeTypes: B } = typeCounts(cfg);
  // `columns` independent affine maps of `fanOut` outputs each, side by side (1 map: a plain linear)
  const linear = (name: string, fanIn: number, fanOut: number, columns = 1): ParamSpec[] => [
    { name: `${name}.w`, shape: [fanIn, fanOut * columns], init: { kind: 'xavier', fanIn, fanOut } },
    { name: `${name}.b`, shape: [fanOut * columns], init: { kind: 'normal', std: 1 } },
  ];
  const specs: ParamSpec[] = [
    ...linear('embed.gate', n, 1),
    ...linear('embed.proj', n, 2 * n),
    { name: 'embed.empty', shape: [2 * n], init: { kind: 'zeros' } },
  ];
  for (let t = 0; t < cfg.propRounds; t++) {
    specs.push(
      { name: `prop.${t}.msg.w`, shape: [2 * n + B, 2 * n], init: { kind: 'normal', std: 0.1 } },
      { name: `prop.${t}.msg.b`, shape: [2 * n], init: { kind: 'normal', std: 0.1 } },
      { name: `prop.${t}.gru.wi`, shape: [2 * n, 3 * n], init: { kind: 'orthogonal' } },
      { name: `prop.${t}.gru.wh`, shape: [n, 3 * n], init: { kind: 'orthogonal' } },
      { name: `prop.${t}.gru.bi`, shape: [3 * n], init: { kind: 'normal', std: 1 } },
      { name: `prop.${t}.gru.bh`, shape: [3 * n], init: { kind: 'normal', std: 1 } },
    );
  }
  specs.push(
    ...linear('addNode.stop', 2 * n, headColumns(K)),
    // nu, row k added to the add-node logits at k nodes (k = N: N or more); zeros: the plain model's logits
    ...(nodeCountRows(cfg) > 0 ? [{ name: 'addNode.count', shape: [nodeCountRows(cfg) + 1, headColumns(K)], init: { kind: 'zeros' } } as const] : []),
    { name: 'addNode.typeEmbed', shape: [K, n], init: { kind: 'normal', std: 1 } },
    ...linear('addNode.init', 3 * n, n),
    ...linear('addEdge.stop', 3 * n, headColumns(B)),
    // one score column per edge type, each drawn like the single untyped column (Xavier fanOut 1)
    ...linear('chooseDest.score', 2 * n, 1, B),
  );
  const D = destinationDistanceOf(cfg);
  if (D > 0) specs.push({ name: 'chooseDest.distance', shape: [D + 1, B], init: { kind: 'zeros' } });
  // q: column kappa·B + b is added to w_b for a candidate in bucket kappa; zeros: one w_b at every distance
  const G = distanceGroups(cfg);
  if (G > 1) specs.push({ name: 'chooseDest.distanceWeights', shape: [2 * n, G * B], init: { kind: 'zeros' } });
  const S = plannedSizeOf(cfg);
  if (S > 0) specs.push({ name: 'size.logits', shape: [S + 1], init: { kind: 'zeros' } }, { name: 'addNode.remaining', shape: [S + 1, n], init: { kind: 'zeros' } });
  return specs;
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Where each parameter lives in the flat vector. */
export interface ParamLayout {
  readonly specs: readonly ParamSpec[];
  readonly offsets: readonly number[];
  readonly total: number;
}

/** The flat layout of a model's parameters; a model beyond MODEL_LIMITS is refused, naming the key. */
export function paramLayout(cfg: ModelConfig): ParamLayout {
  const problem = modelSizeProblem(cfg);
  if (problem) throw new Error(problem);
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
 * `flat` (of `from`) laid out as `to`, parameter by parameter: a fine-tune that switches on a
 * parameter that starts at zeros (model.nodeCountInput's table) computes, at its first step,
 * exactly what `from` did. Any other difference is refused.
 */
export function carryParams(from: ParamLayout, flat: Float32Array, to: ParamLayout): Float32Array {
  const out = new Float32Array(to.total);
  const fromIndex = new Map(from.specs.map((s, i) => [s.name, i]));
  to.specs.forEach((s, i) => {
    const j = fromIndex.get(s.name);
    if (j === undefined) {
      if (s.init.kind !== 'zeros') throw new Error(`the model has no parameter ${s.name}, which does not start at zeros`);
      return;
    }
    const was = from.specs[j].shape.join(' x ');
    if (was !== s.shape.join(' x ')) throw new Error(`parameter ${s.name} is ${was}, the new model's ${s.shape.join(' x ')}`);
    out.set(flat.subarray(from.offsets[j], from.offsets[j] + size(s.shape)), to.offsets[i]);
  });
  if (from.specs.some((s) => !to.specs.some((t) => t.name === s.name))) throw new Error('the new model drops parameters of the old');
  return out;
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

/** Outcome rates of the data, to start the decision heads' biases at (see initParams). */
export interface StopRates {
  /** P(add-node decision = stop). */
  readonly addNode: number;
  /** P(add-edge decision = no more edges). */
  readonly addEdge: number;
  /** P(the first add-node decision = stop): the share of graphs with no nodes. */
  readonly empty: number;
  /** Share of each node type among the added nodes, and of each edge type among the edges (index = type). */
  readonly nodeTypes: readonly number[];
  readonly edgeTypes: readonly number[];
}

/**
 * Fresh parameters as one flat vector, drawn from `seed`. With `stopRates`, the biases of the two
 * heads start at the data's outcome rates instead of N(0, 1) draws (one stop logit: the logit of
 * the stop rate; one logit per outcome: the logs of the outcome rates, so the softmax of the
 * biases is those rates), and embed.empty starts along the stop column w so that the first
 * add-node decision's stop logit w . embed.empty + b moves by the difference of the logits of the
 * data's share of empty graphs and the stop rate (with more outcomes the other logits move by
 * w_k . w / |w|^2 of that, near 0 for random columns). The draws are made all the same, so every
 * other parameter is unchanged. Why: Adam moves a parameter by at most about lr a step, so from
 * an unlucky draw (seed 0 gives +0.92: 72% empty graphs) it takes thousands of steps to stop
 * sampling empty graphs; and with embed.empty at zeros the first decision starts at the mean stop
 * rate (1 in 12 graphs of 11 nodes empty), which is learnt away slowly since only one decision a
 * graph teaches it.
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
    if (s.init.kind === 'zeros') return;
    const std = s.init.kind === 'xavier' ? Math.sqrt(2 / (s.init.fanIn + s.init.fanOut)) : s.init.std;
    for (let j = 0; j < count; j++) flat[off + j] = std * rng.normal();
  });
  if (stopRates) {
    const logit = (p: number): number => Math.log(p / (1 - p));
    const view = (name: string): Float32Array => paramView(layout, flat, name);
    const startBias = (b: Float32Array, stop: number, shares: readonly number[]): void => {
      if (b.length === 1) {
        b[0] = logit(stop);
        return;
      }
      for (let k = 0; k < b.length - 1; k++) b[k] = Math.log((1 - stop) * Math.max(shares[k] ?? 0, 1e-4));
      b[b.length - 1] = Math.log(stop);
    };
    startBias(view('addNode.stop.b'), stopRates.addNode, stopRates.nodeTypes);
    startBias(view('addEdge.stop.b'), stopRates.addEdge, stopRates.edgeTypes);
    const W = view('addNode.stop.w');
    const C = view('addNode.stop.b').length;
    const w = W.filter((_, i) => i % C === C - 1);
    const scale = (logit(stopRates.empty) - logit(stopRates.addNode)) / w.reduce((s, x) => s + x * x, 0);
    view('embed.empty').set(w.map((x) => scale * x));
  }
  return flat;
}

/**
 * Starts sigma, the planned-size logits (docs/design.md, 'Planned size'), at the data's sizes:
 * sigma_k = log(c_k + 1/2), c_k the training graphs of k nodes (the add-half estimate, so that a
 * size the training split lacks keeps some probability). Softmax(sigma) is then the smoothed
 * frequency, the maximum-likelihood answer the gradient would approach. A graph larger than N
 * cannot be drawn: refused, naming `source` (the data) and both sizes.
 */
export function startPlannedSizes(cfg: ModelConfig, layout: ParamLayout, flat: Float32Array, sizes: Iterable<number>, source: string): void {
  const N = plannedSizeOf(cfg);
  const sigma = paramView(layout, flat, 'size.logits');
  const counts = new Float64Array(N + 1);
  for (const k of sizes) {
    if (k > N) throw new Error(`${source}: a training graph has ${k} nodes, more than model.plannedSize ${N} (raise it, or leave larger graphs out)`);
    counts[k]++;
  }
  counts.forEach((c, k) => (sigma[k] = Math.log(c + 0.5)));
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
