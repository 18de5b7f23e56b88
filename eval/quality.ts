import { Graph } from '../graphs/graph';
import { canonicalForm } from '../graphs/canonical';
import { Family } from '../graphs/families';
import { CLUSTERING_MMD, CLUSTERING_MMD_TV, DEGREE_MMD, DEGREE_MMD_TV, MmdSettings, ORBIT_MMD, mmdSquared } from './mmd';
import { GraphStatistics, graphStatistics } from './stats';

/** The measures (docs/design.md, 'Measures') of a set of generated graphs. */
export interface QualityReport {
  readonly samples: number;
  /** Share of samples the family accepts; null without a family (user data). */
  readonly validity: number | null;
  /** Distinct isomorphism classes among the samples, divided by the number of samples. */
  readonly uniqueness: number;
  /** Share of samples isomorphic to no training graph. */
  readonly novelty: number;
  readonly meanNodes: number;
  readonly meanEdges: number;
  /** Entry k: the number of samples with k nodes. */
  readonly sizeHistogram: number[];
  /**
   * MMD^2 against the test graphs with GraphRNN's kernels (Gaussian EMD on degree and clustering
   * histograms, Gaussian on orbit means; the kernels of GraphRNN's Table 2); null when either side
   * has no non-empty graph.
   */
  readonly mmd: MmdTriple;
  /** The same with GRAN's kernels: Gaussian total variation on degree and clustering, orbits as above. */
  readonly mmdTv: MmdTriple;
  /** Which kernels `mmd` and `mmdTv` used, so a JSON report says it itself. */
  readonly mmdKernels: { readonly mmd: string; readonly mmdTv: string };
}

export interface MmdTriple {
  readonly degree: number | null;
  readonly clustering: number | null;
  readonly orbit: number | null;
}

export const MMD_KERNELS = {
  mmd: "GraphRNN (You et al. 2018): Gaussian EMD, sigma 1 (degree), 0.1 (clustering); Gaussian L2 on orbit means, sigma 30",
  mmdTv: "GRAN (Liao et al. 2019): Gaussian total variation, sigma 1 (degree), 0.1 (clustering); Gaussian L2 on orbit means, sigma 30",
} as const;

/**
 * Validity, uniqueness, novelty and MMD of `samples`. Isomorphism is decided exactly, by canonical
 * forms. Graphs with no nodes are left out of the MMD, as GraphRNN leaves them out (their
 * histograms are empty), but they count everywhere else.
 */
export function evaluateSamples(samples: readonly Graph[], train: readonly Graph[], test: readonly Graph[], family: Family | null): QualityReport {
  if (samples.length === 0) throw new Error('evaluateSamples: no samples to evaluate');
  const n = samples.length;
  const forms = samples.map(canonicalForm);
  const trainForms = new Set(train.map(canonicalForm));
  // A loop, not Math.max(...): a spread of 200,000 samples overflows the call stack.
  const sizeHistogram = new Array<number>(samples.reduce((m, g) => Math.max(m, g.numNodes), 0) + 1).fill(0);
  for (const g of samples) sizeHistogram[g.numNodes]++;
  const sampleStats = statisticsOfNonEmpty(samples);
  const testStats = statisticsOfNonEmpty(test);
  const mmd = (pick: (s: GraphStatistics) => number[], settings: MmdSettings): number | null =>
    sampleStats.length === 0 || testStats.length === 0 ? null : mmdSquared(sampleStats.map(pick), testStats.map(pick), settings);
  return {
    samples: n,
    validity: family === null ? null : share(samples, (g) => family.isValid(g)),
    uniqueness: new Set(forms).size / n,
    novelty: share(forms, (f) => !trainForms.has(f)),
    meanNodes: mean(samples.map((g) => g.numNodes)),
    meanEdges: mean(samples.map((g) => g.edges.length)),
    sizeHistogram,
    mmd: {
      degree: mmd((s) => s.degreeHistogram, DEGREE_MMD),
      clustering: mmd((s) => s.clusteringHistogram, CLUSTERING_MMD),
      orbit: mmd((s) => s.orbitMeans, ORBIT_MMD),
    },
    mmdTv: {
      degree: mmd((s) => s.degreeHistogram, DEGREE_MMD_TV),
      clustering: mmd((s) => s.clusteringHistogram, CLUSTERING_MMD_TV),
      orbit: mmd((s) => s.orbitMeans, ORBIT_MMD),
    },
    mmdKernels: MMD_KERNELS,
  };
}

function statisticsOfNonEmpty(graphs: readonly Graph[]): GraphStatistics[] {
  return graphs.filter((g) => g.numNodes > 0).map(graphStatistics);
}

function share<T>(items: readonly T[], test: (item: T) => boolean): number {
  return items.filter(test).length / items.length;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}
