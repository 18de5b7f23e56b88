import { CLUSTERING_BINS } from './stats';

/**
 * A Gaussian kernel exp(-d^2 / (2 sigma^2)) over a distance between per-graph vectors, as
 * GraphRNN's eval/mmd.py defines its kernels:
 * - `emd`: `gaussian_emd`, d the earth mover's distance between two histograms normalised to sum
 *   1 and zero-padded to one length, with ground distance |i - j| / distanceScaling. In one
 *   dimension that is the L1 distance between the cumulative sums, divided by distanceScaling,
 *   which is what is computed here (pyemd solves the same transport problem in general form).
 * - `l2`: `gaussian`, d the Euclidean distance between the vectors as they are (is_hist=False).
 * - `tv`: GRAN's `gaussian_tv` (Liao et al. 2019, utils/dist_helper.py), d the total variation
 *   distance sum |x_i - y_i| / 2 between the normalised, zero-padded histograms. GRAN divides by
 *   sum + 1e-6 when normalising; here by the sum, a difference below 1e-6 relative.
 */
export interface MmdSettings {
  readonly distance: 'emd' | 'l2' | 'tv';
  readonly sigma: number;
  /** Divides the EMD ground distance: the bin width is 1 / distanceScaling. */
  readonly distanceScaling: number;
  /** Normalise each vector to sum 1 first (GraphRNN's compute_mmd is_hist). */
  readonly isHist: boolean;
}

/** degree_stats: gaussian_emd with its defaults sigma = 1, distance_scaling = 1. */
export const DEGREE_MMD: MmdSettings = { distance: 'emd', sigma: 1, distanceScaling: 1, isHist: true };

/** clustering_stats: gaussian_emd with sigma = 1/10 and distance_scaling = bins. */
export const CLUSTERING_MMD: MmdSettings = { distance: 'emd', sigma: 0.1, distanceScaling: CLUSTERING_BINS, isHist: true };

/** orbit_stats_all: gaussian with sigma = 30 on the mean orbit count vectors, is_hist=False. */
export const ORBIT_MMD: MmdSettings = { distance: 'l2', sigma: 30, distanceScaling: 1, isHist: false };

/** GRAN's degree_stats: gaussian_tv with sigma = 1. */
export const DEGREE_MMD_TV: MmdSettings = { distance: 'tv', sigma: 1, distanceScaling: 1, isHist: true };

/** GRAN's clustering_stats: gaussian_tv with sigma = 1/10 on the same 100-bin histograms (no bin scaling). */
export const CLUSTERING_MMD_TV: MmdSettings = { distance: 'tv', sigma: 0.1, distanceScaling: 1, isHist: true };

/** GRAN's orbit_stats_all: gaussian_tv with sigma = 30 on the mean orbit count vectors, is_hist=False. */
export const ORBIT_MMD_TV: MmdSettings = { distance: 'tv', sigma: 30, distanceScaling: 1, isHist: false };

/** GRAN's spectral_stats: gaussian_tv with sigma = 1 on the 200-bin spectrum histograms. */
export const SPECTRUM_MMD_TV: MmdSettings = { distance: 'tv', sigma: 1, distanceScaling: 1, isHist: true };

/**
 * GraphRNN's compute_mmd: disc(X, X) + disc(Y, Y) - 2 disc(X, Y), disc the mean kernel value over
 * all pairs, self-pairs included (the biased estimate of MMD^2, as published numbers use).
 * Vectors equal after preparation are grouped and weighted, which gives the same sum in far fewer
 * kernel evaluations when samples repeat (1000 cycles have one degree histogram).
 */
export function mmdSquared(x: readonly (readonly number[])[], y: readonly (readonly number[])[], settings: MmdSettings): number {
  if (x.length === 0 || y.length === 0) throw new Error(`mmdSquared: both sets need a vector, got ${x.length} and ${y.length}`);
  if (!(settings.sigma > 0) || !(settings.distanceScaling > 0)) throw new Error('mmdSquared: sigma and distanceScaling must be > 0');
  // A loop, not Math.max(...): a spread over every sample overflows the call stack for large samples.
  const length = [x, y].reduce((m, set) => set.reduce((k, v) => Math.max(k, v.length), m), 0);
  const prepare = (set: readonly (readonly number[])[]): Weighted[] => group(set.map((v) => embed(v, length, settings)));
  const px = prepare(x);
  const py = prepare(y);
  const distance = settings.distance === 'l2' ? l2 : settings.distance === 'emd' ? l1 : halfL1;
  const kernel = (a: Float64Array, b: Float64Array): number => {
    const d = distance(a, b);
    return Math.exp((-d * d) / (2 * settings.sigma * settings.sigma));
  };
  const disc = (a: readonly Weighted[], b: readonly Weighted[]): number => {
    let sum = 0;
    for (const p of a) for (const q of b) sum += p.weight * q.weight * kernel(p.vector, q.vector);
    return sum;
  };
  return disc(px, px) / (x.length * x.length) + disc(py, py) / (y.length * y.length) - (2 * disc(px, py)) / (x.length * y.length);
}

interface Weighted {
  readonly vector: Float64Array;
  readonly weight: number;
}

/** The vector the distance is taken on: padded, normalised when a histogram, cumulated for the EMD. */
function embed(v: readonly number[], length: number, settings: MmdSettings): Float64Array {
  const out = new Float64Array(length);
  out.set(v);
  if (settings.isHist) {
    const mass = out.reduce((s, c) => s + c, 0);
    if (!(mass > 0)) throw new Error(`mmdSquared: a histogram has mass ${mass}; it cannot be normalised`);
    for (let i = 0; i < length; i++) out[i] /= mass;
  }
  if (settings.distance === 'emd') {
    for (let i = 1; i < length; i++) out[i] += out[i - 1];
    for (let i = 0; i < length; i++) out[i] /= settings.distanceScaling;
  }
  return out;
}

function group(vectors: readonly Float64Array[]): Weighted[] {
  const byKey = new Map<string, { vector: Float64Array; weight: number }>();
  for (const vector of vectors) {
    const key = vector.join(',');
    const known = byKey.get(key);
    if (known) known.weight++;
    else byKey.set(key, { vector, weight: 1 });
  }
  return [...byKey.values()];
}

function l1(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s;
}

// total variation between two distributions
function halfL1(a: Float64Array, b: Float64Array): number {
  return l1(a, b) / 2;
}

function l2(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
