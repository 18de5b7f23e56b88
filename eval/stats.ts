import { Graph, adjacency, assertSimpleGraph } from '../graphs/graph';
import { symmetricEigen } from '../graphs/eigen';

/**
 * Per-graph statistics as GraphRNN (You et al. 2018, eval/stats.py) computes them before its MMD:
 * the degree histogram (networkx.degree_histogram), the histogram of clustering coefficients
 * (networkx.clustering, numpy.histogram over [0, 1] with 100 bins) and the mean 4-node orbit
 * count vector (ORCA's `node 4` counts summed over nodes and divided by the node count); and, as
 * GRAN (Liao et al. 2019, utils/eval_helper.py) adds, the histogram of the normalised Laplacian's
 * eigenvalues.
 */
export interface GraphStatistics {
  /** Entry d: the number of nodes of degree d, up to the largest degree. */
  readonly degreeHistogram: number[];
  /** CLUSTERING_BINS counts of nodes by clustering coefficient. */
  readonly clusteringHistogram: number[];
  /** ORBITS entries: orbit k's count summed over nodes, divided by the number of nodes. */
  readonly orbitMeans: number[];
  /** SPECTRUM_BINS counts of the normalised Laplacian's eigenvalues over SPECTRUM_RANGE. */
  readonly spectrumHistogram: number[];
}

/** GraphRNN's clustering histogram resolution; its MMD scales the EMD ground distance by the same number. */
export const CLUSTERING_BINS = 100;

/** GRAN's spectral_worker: numpy.histogram(eigenvalues, bins=200, range=(-1e-5, 2)). */
export const SPECTRUM_BINS = 200;
export const SPECTRUM_RANGE: readonly [number, number] = [-1e-5, 2];

/** The graphlet orbits on 2 to 4 nodes, numbered as Pržulj (2007) and ORCA number them: 0..14. */
export const ORBITS = 15;

/** All three statistics from one orbit count (degrees and triangles are orbits 0 and 3). */
export function graphStatistics(g: Graph): GraphStatistics {
  const counts = orbitCounts(g);
  return {
    degreeHistogram: degreeHistogram(g),
    clusteringHistogram: histogram(clusteringFromOrbits(counts), CLUSTERING_BINS, [0, 1]),
    orbitMeans: meanOrbitCounts(counts),
    spectrumHistogram: histogram(normalizedLaplacianSpectrum(g), SPECTRUM_BINS, SPECTRUM_RANGE),
  };
}

/** networkx.degree_histogram: entry d counts the nodes of degree d; [] for the graph with no nodes. */
export function degreeHistogram(g: Graph): number[] {
  const degrees = adjacency(g).map((ns) => ns.length);
  const hist = new Array<number>(degrees.length === 0 ? 0 : degrees.reduce((m, d) => Math.max(m, d), 0) + 1).fill(0);
  for (const d of degrees) hist[d]++;
  return hist;
}

/** networkx.clustering per node: 2T / (d (d - 1)) with T the triangles at the node, 0 below degree 2. */
export function clusteringCoefficients(g: Graph): number[] {
  return clusteringFromOrbits(orbitCounts(g));
}

// Orbit 0 is the degree and orbit 3 the number of triangles, so the coefficient needs no second
// pass; the division is the same one networkx does, so the float (and its histogram bin) is equal.
function clusteringFromOrbits(counts: readonly (readonly number[])[]): number[] {
  return counts.map((c) => (c[3] === 0 ? 0 : (2 * c[3]) / (c[0] * (c[0] - 1))));
}

/**
 * numpy.histogram(values, bins, range=(lo, hi)): bin i holds [edge(i), edge(i+1)) with edge(k) =
 * lo + k (hi - lo) / bins as numpy.linspace makes them, the last bin also holds hi, values
 * outside [lo, hi] are dropped. Bins are found as numpy finds them (scale, floor, then a
 * correction against the edges), so values on an edge land where numpy puts them.
 */
export function histogram(values: ArrayLike<number>, bins: number, [lo, hi]: readonly [number, number]): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be an integer >= 1, got ${bins}`);
  if (!(lo < hi)) throw new Error(`histogram: the range needs lo < hi, got [${lo}, ${hi}]`);
  const step = (hi - lo) / bins;
  const norm = bins / (hi - lo);
  const edge = (k: number): number => (k === bins ? hi : lo + k * step);
  const hist = new Array<number>(bins).fill(0);
  for (let j = 0; j < values.length; j++) {
    const x = values[j];
    if (!(x >= lo && x <= hi)) continue;
    let i = Math.min(Math.floor((x - lo) * norm), bins - 1);
    if (x < edge(i)) i--;
    else if (x >= edge(i + 1) && i !== bins - 1) i++;
    hist[i]++;
  }
  return hist;
}

/**
 * Eigenvalues of networkx's normalized_laplacian_matrix: I - D^-1/2 A D^-1/2 on nodes with edges,
 * 0 on the diagonal of an isolated node (networkx sets its D^-1/2 entry to 0).
 */
export function normalizedLaplacianSpectrum(g: Graph): Float64Array {
  const n = g.numNodes;
  const degree = adjacency(g).map((ns) => ns.length);
  const L = new Float64Array(n * n);
  for (let v = 0; v < n; v++) L[v * n + v] = degree[v] > 0 ? 1 : 0;
  for (const [u, v] of g.edges) L[u * n + v] = L[v * n + u] = -1 / Math.sqrt(degree[u] * degree[v]);
  return symmetricEigen(L, n).values;
}

/** GraphRNN's per-graph orbit feature: np.sum(orbit_counts, axis=0) / n. */
export function meanOrbitCounts(counts: readonly (readonly number[])[]): number[] {
  const mean = new Array<number>(ORBITS).fill(0);
  for (const c of counts) c.forEach((x, k) => (mean[k] += x));
  return mean.map((s) => s / counts.length);
}

/**
 * For each node, how often it sits in each orbit of the connected induced subgraphs on 2, 3 and
 * 4 nodes: the numbers ORCA prints for `orca node 4` (orbit 0: degree; 1, 2: end and middle of a
 * 3-path; 3: triangle; 4, 5: end and inner node of a 4-path; 6, 7: leaf and centre of a 3-star;
 * 8: 4-cycle; 9, 10, 11: the paw's pendant, its degree-2 and its degree-3 triangle nodes; 12, 13:
 * the diamond's degree-2 and degree-3 nodes; 14: K4).
 *
 * Every connected node set of size 3 and 4 is visited exactly once by ESU (Wernicke 2006) and its
 * induced subgraph classified from its edge count and internal degrees. The work grows with the
 * number of such sets, which is small for the sparse graphs generators are judged on; the
 * adjacency matrix costs n^2 bytes.
 */
export function orbitCounts(g: Graph): number[][] {
  assertSimpleGraph(g, 'orbitCounts');
  const n = g.numNodes;
  const adj = adjacency(g);
  const linked = new Uint8Array(n * n);
  for (const [u, v] of g.edges) linked[u * n + v] = linked[v * n + u] = 1;
  const counts = Array.from({ length: n }, (_, v) => {
    const c = new Array<number>(ORBITS).fill(0);
    c[0] = adj[v].length;
    return c;
  });
  const sub = [0, 0, 0, 0];

  const record = (size: number): void => {
    let edges = 0;
    let maxDegree = 0;
    const degree = [0, 0, 0, 0];
    for (let a = 0; a < size; a++) {
      for (let b = a + 1; b < size; b++) {
        if (linked[sub[a] * n + sub[b]]) {
          degree[a]++;
          degree[b]++;
          edges++;
        }
      }
    }
    for (let a = 0; a < size; a++) maxDegree = Math.max(maxDegree, degree[a]);
    for (let a = 0; a < size; a++) counts[sub[a]][size === 3 ? orbit3(edges, degree[a]) : orbit4(edges, maxDegree, degree[a])]++;
  };

  // ESU: extends the connected set sub[0..size) whose least node is root by one node of `extension`
  // at a time; a node joins the extension only through the first member it is adjacent to, which
  // is what makes every set appear once.
  const extend = (size: number, extension: readonly number[], root: number): void => {
    if (size >= 3) record(size);
    if (size === 4) return;
    for (let i = 0; i < extension.length; i++) {
      const w = extension[i];
      const next = extension.slice(i + 1);
      for (const u of adj[w]) {
        if (u > root && !touches(u, size)) next.push(u);
      }
      sub[size] = w;
      extend(size + 1, next, root);
    }
  };
  const touches = (u: number, size: number): boolean => {
    for (let a = 0; a < size; a++) if (sub[a] === u || linked[sub[a] * n + u]) return true;
    return false;
  };

  for (let v = 0; v < n; v++) {
    sub[0] = v;
    extend(1, adj[v].filter((u) => u > v), v);
  }
  return counts;
}

function orbit3(edges: number, degree: number): number {
  if (edges === 3) return 3;
  return degree === 2 ? 2 : 1;
}

function orbit4(edges: number, maxDegree: number, degree: number): number {
  switch (edges) {
    case 3:
      if (maxDegree === 3) return degree === 3 ? 7 : 6;
      return degree === 1 ? 4 : 5;
    case 4:
      // The paw's degrees 1, 2, 3 are orbits 9, 10, 11.
      return maxDegree === 3 ? 8 + degree : 8;
    case 5:
      return degree === 2 ? 12 : 13;
    default:
      return 14;
  }
}
