/**
 * Adam (PyTorch's formulation) with global-norm gradient clipping over one flat parameter vector.
 * The parameters live as one Float32Array that the actors move between threads; an update of
 * ~8k floats in plain JS costs microseconds, where tfjs's optimizer would launch ~10 kernels per
 * parameter tensor and keep its state under variable names a checkpoint would have to match.
 */

export interface AdamConfig {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Global-norm clip; 0 disables clipping. */
  readonly clipNorm: number;
}

export interface AdamState {
  /** Steps taken. */
  t: number;
  readonly m: Float32Array;
  readonly v: Float32Array;
}

export function adamState(size: number): AdamState {
  return { t: 0, m: new Float32Array(size), v: new Float32Array(size) };
}

/** The Euclidean norm of `g`. */
function globalNorm(g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * Scales the gradient grad · 2^exponent in place to norm <= clipNorm (as torch's clip_grad_norm_),
 * takes one Adam step on `params` in place, and returns the gradient's norm before clipping.
 * The exponent (see model/teacher.ts, run) lets a gradient beyond float32's range be clipped
 * exactly: 2^exponent is never formed where it could overflow.
 */
export function adamStep(cfg: AdamConfig, state: AdamState, params: Float32Array, grad: Float32Array, exponent = 0): number {
  const stored = globalNorm(grad);
  const norm = stored * 2 ** exponent;
  const scale = cfg.clipNorm > 0 && norm > cfg.clipNorm ? cfg.clipNorm / (stored + 1e-6 * 2 ** -exponent) : 2 ** exponent;
  state.t++;
  const c1 = 1 - Math.pow(cfg.beta1, state.t);
  const c2 = 1 - Math.pow(cfg.beta2, state.t);
  const { m, v } = state;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i] * scale;
    grad[i] = g;
    m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * g;
    v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * g * g;
    params[i] -= (cfg.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + cfg.eps);
  }
  return norm;
}
