import { Graph, adjacency } from './graph';
import { symmetricEigen } from './eigen';
import { canonicalLabelling } from './canonical';

/** A partition of the nodes into blocks 0..blocks-1, every block non-empty. */
export interface BlockPartition {
  readonly blocks: number;
  readonly of: Int32Array;
}

/**
 * The partition of `g` into at most `maxBlocks` blocks that best explains it as a Bernoulli
 * stochastic block model (no degree correction), chosen over the number of blocks by the
 * integrated classification likelihood (Daudin, Picard and Robin 2008). For each block count:
 * spectral start (k-means on the leading eigenvectors of D^-1/2 A D^-1/2, rows normalised,
 * farthest-point seeds), then single-node moves while one raises the likelihood. Deterministic.
 * See docs/families.md, 'SBM validity', for how this differs from graph-tool's fit.
 */
export function fitBlockModel(g: Graph, maxBlocks: number): BlockPartition {
  const n = g.numNodes;
  if (n === 0) return { blocks: 0, of: new Int32Array(0) };
  const adj = adjacency(g);
  const S = new Float64Array(n * n);
  for (const [u, v] of g.edges) S[u * n + v] = S[v * n + u] = 1 / Math.sqrt(adj[u].length * adj[v].length);
  const { vectors } = symmetricEigen(S, n, true);
  let best: BlockPartition = { blocks: 1, of: new Int32Array(n) };
  let bestScore = icl(adj, best);
  for (let B = 2; B <= Math.min(maxBlocks, n); B++) {
    const start = kMeans(vectors as Float64Array, n, B);
    const fitted = refine(adj, start, B);
    const score = icl(adj, fitted);
    if (score > bestScore) {
      best = fitted;
      bestScore = score;
    }
  }
  return best;
}

/** Edge counts between and node counts of the blocks: edges[r * B + s] (both orders), sizes[r]. */
function blockCounts(adj: readonly number[][], of: Int32Array, B: number): { edges: Float64Array; sizes: Float64Array } {
  const edges = new Float64Array(B * B);
  const sizes = new Float64Array(B);
  for (let v = 0; v < adj.length; v++) {
    sizes[of[v]]++;
    for (const w of adj[v]) if (w > v) {
      edges[of[v] * B + of[w]]++;
      if (of[v] !== of[w]) edges[of[w] * B + of[v]]++;
    }
  }
  return { edges, sizes };
}

const xlogx = (x: number): number => (x > 0 ? x * Math.log(x) : 0);

/** Maximised Bernoulli log-likelihood of e edges among N pairs: e log(e/N) + (N-e) log(1-e/N). */
const pairLogLik = (e: number, N: number): number => (N > 0 ? xlogx(e) + xlogx(N - e) - xlogx(N) : 0);

function pairs(sizes: Float64Array, r: number, s: number): number {
  return r === s ? (sizes[r] * (sizes[r] - 1)) / 2 : sizes[r] * sizes[s];
}

function logLikelihood(edges: Float64Array, sizes: Float64Array, B: number): number {
  let ll = 0;
  for (let r = 0; r < B; r++) for (let s = r; s < B; s++) ll += pairLogLik(edges[r * B + s], pairs(sizes, r, s));
  return ll;
}

/** ICL: the classification log-likelihood less BIC-style penalties for the block parameters and proportions. */
function icl(adj: readonly number[][], p: BlockPartition): number {
  const n = adj.length;
  const B = p.blocks;
  const { edges, sizes } = blockCounts(adj, p.of, B);
  let proportions = 0;
  for (let r = 0; r < B; r++) proportions += xlogx(sizes[r] / n) * n;
  return logLikelihood(edges, sizes, B) + proportions - ((B * (B + 1)) / 4) * Math.log((n * (n - 1)) / 2 || 1) - ((B - 1) / 2) * Math.log(n);
}

/** k-means (Lloyd) on the rows of the B leading eigenvectors, each row scaled to unit length. */
function kMeans(vectors: Float64Array, n: number, B: number): Int32Array {
  const X = new Float64Array(n * B);
  for (let v = 0; v < n; v++) {
    let norm = 0;
    for (let k = 0; k < B; k++) {
      const x = vectors[v * n + (n - 1 - k)];
      X[v * B + k] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < B; k++) X[v * B + k] /= norm;
  }
  const dist = (v: number, C: Float64Array, c: number): number => {
    let d = 0;
    for (let k = 0; k < B; k++) d += (X[v * B + k] - C[c * B + k]) ** 2;
    return d;
  };
  // Farthest-point seeds: the first node, then each time the node farthest from every seed.
  const C = new Float64Array(B * B);
  C.set(X.subarray(0, B), 0);
  const nearest = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < B; c++) {
    let far = 0;
    for (let v = 0; v < n; v++) {
      nearest[v] = Math.min(nearest[v], dist(v, C, c - 1));
      if (nearest[v] > nearest[far]) far = v;
    }
    C.set(X.subarray(far * B, far * B + B), c * B);
  }
  const of = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < 100; iteration++) {
    let changed = false;
    for (let v = 0; v < n; v++) {
      let best = 0;
      for (let c = 1; c < B; c++) if (dist(v, C, c) < dist(v, C, best)) best = c;
      if (of[v] !== best) {
        of[v] = best;
        changed = true;
      }
    }
    if (!changed) break;
    const count = new Float64Array(B);
    C.fill(0);
    for (let v = 0; v < n; v++) {
      count[of[v]]++;
      for (let k = 0; k < B; k++) C[of[v] * B + k] += X[v * B + k];
    }
    for (let c = 0; c < B; c++) for (let k = 0; k < B; k++) C[c * B + k] /= count[c] || 1;
  }
  return of;
}

/**
 * Moves single nodes to the block that most raises the likelihood until none does, then drops
 * empty blocks. Only the block pairs that touch the two blocks involved change, so a move is
 * scored in O(B) pair terms.
 */
function refine(adj: readonly number[][], start: Int32Array, B: number): BlockPartition {
  const n = adj.length;
  const of = Int32Array.from(start);
  const { edges, sizes } = blockCounts(adj, of, B);
  const toBlock = new Float64Array(B);
  // Pair terms touching r or s, counted once.
  const touching = (r: number, s: number): number => {
    let ll = 0;
    for (let t = 0; t < B; t++) {
      ll += pairLogLik(edges[r * B + t], pairs(sizes, r, t));
      if (t !== r) ll += pairLogLik(edges[s * B + t], pairs(sizes, s, t));
    }
    return ll;
  };
  const move = (v: number, from: number, to: number): void => {
    for (let t = 0; t < B; t++) {
      if (toBlock[t] === 0) continue;
      edges[from * B + t] -= toBlock[t];
      if (t !== from) edges[t * B + from] -= toBlock[t];
      edges[to * B + t] += toBlock[t];
      if (t !== to) edges[t * B + to] += toBlock[t];
    }
    sizes[from]--;
    sizes[to]++;
    of[v] = to;
  };
  for (let sweep = 0; sweep < 100; sweep++) {
    let moved = false;
    for (let v = 0; v < n; v++) {
      const r = of[v];
      if (sizes[r] === 1) continue;
      toBlock.fill(0);
      for (const w of adj[v]) toBlock[of[w]]++;
      let bestGain = 1e-9;
      let bestTo = -1;
      for (let s = 0; s < B; s++) {
        if (s === r) continue;
        const before = touching(r, s);
        move(v, r, s);
        const gain = touching(r, s) - before;
        move(v, s, r);
        if (gain > bestGain) {
          bestGain = gain;
          bestTo = s;
        }
      }
      if (bestTo >= 0) {
        move(v, r, bestTo);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const label = new Int32Array(B).fill(-1);
  let blocks = 0;
  for (let v = 0; v < n; v++) if (label[of[v]] < 0) label[of[v]] = blocks++;
  return { blocks, of: of.map((b) => label[b]) };
}

/** 1 - the chi-square(1) cumulative distribution at w: erfc(sqrt(w / 2)). */
function chiSquare1Survival(w: number): number {
  return erfc(Math.sqrt(w / 2));
}

/** Complementary error function, Chebyshev fit of Numerical Recipes (erfcc): relative error below 1.2e-7. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(poly);
  return x >= 0 ? r : 2 - r;
}

/** What a stochastic block model graph of SPECTRE's SBM set looks like. */
export interface SbmShape {
  readonly minBlocks: number;
  readonly maxBlocks: number;
  readonly minBlockSize: number;
  readonly maxBlockSize: number;
  readonly pIntra: number;
  readonly pInter: number;
}

/**
 * SPECTRE's is_sbm_graph (strict), on the partition of fitBlockModel: the fitted blocks must number
 * minBlocks..maxBlocks and hold minBlockSize..maxBlockSize nodes each; then every estimated edge
 * probability p^ (within each block, between each pair) gets the statistic
 * W = (p^ - p)^2 / (p^ (1 - p^) + 1e-6) against pIntra or pInter, and the graph passes when the mean
 * of the chi-square(1) p-values 1 - F(W) over the B x B table exceeds 0.9. Like SPECTRE's, W has
 * no sample-size factor, so it measures closeness of p^ to p rather than significance. The fit
 * runs on the canonical relabelling, so the verdict does not depend on how the nodes are numbered.
 */
export function sbmTestPValue(g: Graph, shape: SbmShape): number {
  const label = new Int32Array(g.numNodes);
  canonicalLabelling(g).forEach((v, i) => (label[v] = i));
  const canonical: Graph = { numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [label[u], label[v]] as const) };
  const adj = adjacency(canonical);
  const p = fitBlockModel(canonical, shape.maxBlocks + 2);
  const B = p.blocks;
  const { edges, sizes } = blockCounts(adj, p.of, B);
  if (B < shape.minBlocks || B > shape.maxBlocks || sizes.some((s) => s < shape.minBlockSize || s > shape.maxBlockSize)) return 0;
  const statistic = (estimate: number, target: number): number => (estimate - target) ** 2 / (estimate * (1 - estimate) + 1e-6);
  let sum = 0;
  for (let r = 0; r < B; r++) {
    for (let s = 0; s < B; s++) {
      // graph-tool's e_rr counts an edge inside r twice, against n_r (n_r - 1) ordered pairs.
      const w = r === s ? statistic((2 * edges[r * B + r]) / (sizes[r] * (sizes[r] - 1) + 1e-6), shape.pIntra) : statistic(edges[r * B + s] / (sizes[r] * sizes[s] + 1e-6), shape.pInter);
      sum += chiSquare1Survival(w);
    }
  }
  return sum / (B * B);
}
