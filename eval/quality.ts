import { Graph } from '../graphs/graph';
import { canonicalForm } from '../graphs/canonical';
import { Family } from '../graphs/families';
import { CLUSTERING_MMD, DEGREE_MMD, MmdSettings, ORBIT_MMD, mmdSquared } from './mmd';
import { GraphStatistics, graphStatistics } from './stats';

/** SPEC §7's measures of a set of generated graphs. */
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
  /** GraphRNN's MMD^2 against the test graphs; null when either side has no non-empty graph. */
  readonly mmd: {
    readonly degree: number | null;
    readonly clustering: number | null;
    readonly orbit: number | null;
  };
}

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
