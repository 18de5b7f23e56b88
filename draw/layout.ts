import { Graph, adjacency } from '../graphs/graph';
import { Rng } from '../graphs/random';

/** A position in the unit square. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

const SUBSPACE_ITERATIONS = 300;
const STRESS_ITERATIONS = 200;

/**
 * Node positions in [0, 1]^2, the same for the same graph every time: classical MDS of the hop
 * distances (so a cycle starts as a ring and a grid as a grid, whatever the node numbering),
 * refined by stress majorization (Gansner, Koren and North 2004: what graphviz's neato does),
 * turned to its smallest bounding box, then scaled to fit with the aspect ratio kept. Nodes in different components are placed as if
 * one hop further apart than the farthest connected pair.
 */
export function layoutGraph(g: Graph): Point[] {
  const n = g.numNodes;
  if (n === 0) return [];
  if (n === 1) return [{ x: 0.5, y: 0.5 }];
  const dist = hopDistances(g);
  const coords = classicalMds(dist, n);
  majorizeStress(coords, dist, n);
  return fitUnitSquare(squareUp(coords));
}

/** All-pairs hop counts, row-major; unreachable pairs get the largest finite distance plus one. */
function hopDistances(g: Graph): Float64Array {
  const n = g.numNodes;
  const adj = adjacency(g);
  const dist = new Float64Array(n * n).fill(-1);
  let farthest = 1;
  const queue = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const row = s * n;
    dist[row + s] = 0;
    queue[0] = s;
    for (let head = 0, tail = 1; head < tail; head++) {
      const v = queue[head];
      for (const w of adj[v]) {
        if (dist[row + w] >= 0) continue;
        dist[row + w] = dist[row + v] + 1;
        farthest = Math.max(farthest, dist[row + w]);
        queue[tail++] = w;
      }
    }
  }
  return dist.map((d) => (d < 0 ? farthest + 1 : d));
}

/**
 * The two leading eigenvectors of the double-centred squared distances, scaled by the square root
 * of their eigenvalues, by subspace iteration from a fixed seed. The matrix is shifted by a
 * Gershgorin bound first so that the largest eigenvalues, not the largest magnitudes, win.
 */
function classicalMds(dist: Float64Array, n: number): [Float64Array, Float64Array] {
  const b = new Float64Array(n * n);
  const rowMean = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) rowMean[i] += dist[i * n + j] ** 2 / n;
    total += rowMean[i] / n;
  }
  let shift = 0;
  for (let i = 0; i < n; i++) {
    let rowAbs = 0;
    for (let j = 0; j < n; j++) {
      const v = -0.5 * (dist[i * n + j] ** 2 - rowMean[i] - rowMean[j] + total);
      b[i * n + j] = v;
      rowAbs += Math.abs(v);
    }
    shift = Math.max(shift, rowAbs);
  }
  for (let i = 0; i < n; i++) b[i * n + i] += shift;

  const rng = new Rng(1);
  const basis: [Float64Array, Float64Array] = [Float64Array.from({ length: n }, () => rng.normal()), Float64Array.from({ length: n }, () => rng.normal())];
  orthonormalize(basis);
  for (let it = 0; it < SUBSPACE_ITERATIONS; it++) {
    const previous = basis.map((v) => v.slice());
    basis[0] = multiply(b, basis[0], n);
    basis[1] = multiply(b, basis[1], n);
    orthonormalize(basis);
    if (basis.every((v, k) => v.every((x, i) => Math.abs(x - previous[k][i]) < 1e-9))) break;
  }
  return [scaleByEigenvalue(b, basis[0], n, shift), scaleByEigenvalue(b, basis[1], n, shift)];
}

function multiply(m: Float64Array, v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += m[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
}

/** Gram-Schmidt on two vectors; a vector that vanishes is replaced by a fixed unit vector orthogonal to the first. */
function orthonormalize(basis: [Float64Array, Float64Array]): void {
  const [u, v] = basis;
  normalize(u);
  const dot = u.reduce((s, x, i) => s + x * v[i], 0);
  for (let i = 0; i < v.length; i++) v[i] -= dot * u[i];
  if (!normalize(v)) {
    v.fill(0);
    v[0] = -u[1];
    v[1] = u[0];
    normalize(v);
  }
}

function normalize(v: Float64Array): boolean {
  const norm = Math.hypot(...v);
  if (norm < 1e-12) return false;
  for (let i = 0; i < v.length; i++) v[i] /= norm;
  return true;
}

function scaleByEigenvalue(b: Float64Array, v: Float64Array, n: number, shift: number): Float64Array {
  const bv = multiply(b, v, n);
  const eigenvalue = Math.max(0, v.reduce((s, x, i) => s + x * bv[i], 0) - shift);
  return v.map((x) => x * Math.sqrt(eigenvalue));
}

/**
 * Localized stress majorization with weights 1 / d^2: each node moves to the weighted mean of the
 * places its hop distances to the others ask for. Nodes on top of each other are nudged apart
 * first, as the update has no direction for them.
 */
function majorizeStress([xs, ys]: [Float64Array, Float64Array], dist: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    xs[i] += 1e-3 * Math.cos(i);
    ys[i] += 1e-3 * Math.sin(i);
  }
  for (let it = 0; it < STRESS_ITERATIONS; it++) {
    for (let i = 0; i < n; i++) {
      let sx = 0;
      let sy = 0;
      let sw = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const d = dist[i * n + j];
        const w = 1 / (d * d);
        const dx = xs[i] - xs[j];
        const dy = ys[i] - ys[j];
        const len = Math.sqrt(dx * dx + dy * dy);
        const pull = len > 1e-12 ? d / len : 0;
        sx += w * (xs[j] + pull * dx);
        sy += w * (ys[j] + pull * dy);
        sw += w;
      }
      xs[i] = sx / sw;
      ys[i] = sy / sw;
    }
  }
}

/**
 * The layout turned by the angle (in whole degrees) with the smallest bounding box: the MDS axes of
 * a square grid or a ring are any pair in a plane, and grids and ladders read best axis-aligned.
 */
function squareUp([xs, ys]: [Float64Array, Float64Array]): [Float64Array, Float64Array] {
  let best: [Float64Array, Float64Array] = [xs, ys];
  let bestArea = Infinity;
  for (let degree = 0; degree < 90; degree++) {
    const c = Math.cos((degree * Math.PI) / 180);
    const s = Math.sin((degree * Math.PI) / 180);
    const rx = xs.map((x, i) => c * x - s * ys[i]);
    const ry = xs.map((x, i) => s * x + c * ys[i]);
    const area = (Math.max(...rx) - Math.min(...rx)) * (Math.max(...ry) - Math.min(...ry));
    // A small margin keeps the choice stable against rounding between nearly equal angles.
    if (area < bestArea - 1e-9) {
      best = [rx, ry];
      bestArea = area;
    }
  }
  return best;
}

function fitUnitSquare([xs, ys]: [Float64Array, Float64Array]): Point[] {
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const extent = Math.max(x1 - x0, y1 - y0, 1e-12);
  // Centred in the square, so a path lies across the middle rather than along an edge.
  const ox = (1 - (x1 - x0) / extent) / 2;
  const oy = (1 - (y1 - y0) / extent) / 2;
  return Array.from(xs, (x, i) => ({ x: ox + (x - x0) / extent, y: oy + (ys[i] - y0) / extent }));
}
