import { Graph } from './graph';

/** A run of return edges on one side, from its lowest (`low`) to its highest (`high`) edge; -1 when empty. */
interface Interval {
  low: number;
  high: number;
}

/** Return edges that must lie on opposite sides of the DFS tree: L and R. */
interface ConflictPair {
  L: Interval;
  R: Interval;
}

const none = (): Interval => ({ low: -1, high: -1 });

/**
 * Whether `g` can be drawn in the plane without crossings: the left-right planarity test of de
 * Fraysseix and Rosenstiehl in Brandes' formulation ("The Left-Right Planarity Test", 2009), the
 * algorithm networkx's check_planarity runs, without building the embedding. Exact, O(n + m) after
 * the Euler bound m <= 3n - 6 (a graph with more edges is never planar). Disconnected graphs are
 * planar when every component is.
 *
 * A DFS orients every edge (tree edges down, back edges up) and gives each its lowpoints; the
 * second DFS visits each node's outgoing edges by nesting depth and keeps, on a stack of conflict
 * pairs, which return edges must go left and which right of the tree. A constraint that puts two
 * conflicting return edges on the same side proves the graph non-planar.
 */
export function isPlanar(g: Graph): boolean {
  const n = g.numNodes;
  const m = g.edges.length;
  if (n > 2 && m > 3 * n - 6) return false;
  const incident: number[][] = Array.from({ length: n }, () => []);
  g.edges.forEach(([u, v], e) => {
    incident[u].push(e);
    incident[v].push(e);
  });
  const other = (e: number, v: number): number => (g.edges[e][0] === v ? g.edges[e][1] : g.edges[e][0]);

  // Orientation: src[e] -> dst[e]; tree edges point away from the root, back edges towards it.
  const src = new Int32Array(m).fill(-1);
  const dst = new Int32Array(m);
  const height = new Int32Array(n).fill(-1);
  const parentEdge = new Int32Array(n).fill(-1);
  const lowpt = new Int32Array(m);
  const lowpt2 = new Int32Array(m);
  const nesting = new Int32Array(m);
  const outgoing: number[][] = Array.from({ length: n }, () => []);

  const orient = (v: number): void => {
    const e = parentEdge[v];
    for (const vw of incident[v]) {
      if (src[vw] >= 0) continue;
      const w = other(vw, v);
      src[vw] = v;
      dst[vw] = w;
      outgoing[v].push(vw);
      lowpt[vw] = height[v];
      lowpt2[vw] = height[v];
      if (height[w] < 0) {
        parentEdge[w] = vw;
        height[w] = height[v] + 1;
        orient(w);
      } else {
        lowpt[vw] = height[w];
      }
      // Chordal edges (a second return point below v) nest outside the others at the same lowpoint.
      nesting[vw] = 2 * lowpt[vw] + (lowpt2[vw] < height[v] ? 1 : 0);
      if (e >= 0) {
        if (lowpt[vw] < lowpt[e]) {
          lowpt2[e] = Math.min(lowpt[e], lowpt2[vw]);
          lowpt[e] = lowpt[vw];
        } else if (lowpt[vw] > lowpt[e]) {
          lowpt2[e] = Math.min(lowpt2[e], lowpt[vw]);
        } else {
          lowpt2[e] = Math.min(lowpt2[e], lowpt2[vw]);
        }
      }
    }
  };
  const roots: number[] = [];
  for (let v = 0; v < n; v++) {
    if (height[v] >= 0) continue;
    height[v] = 0;
    roots.push(v);
    orient(v);
  }
  for (const list of outgoing) list.sort((a, b) => nesting[a] - nesting[b]);

  const stack: ConflictPair[] = [];
  const ref = new Int32Array(m).fill(-1);
  const lowptEdge = new Int32Array(m).fill(-1);
  const stackBottom: (ConflictPair | undefined)[] = new Array(m);
  const top = (): ConflictPair | undefined => stack[stack.length - 1];
  const isEmpty = (I: Interval): boolean => I.low < 0 && I.high < 0;
  const conflicting = (I: Interval, b: number): boolean => !isEmpty(I) && lowpt[I.high] > lowpt[b];
  const lowest = (P: ConflictPair): number => {
    if (isEmpty(P.L)) return lowpt[P.R.low];
    if (isEmpty(P.R)) return lowpt[P.L.low];
    return Math.min(lowpt[P.L.low], lowpt[P.R.low]);
  };
  const swap = (P: ConflictPair): void => {
    const t = P.L;
    P.L = P.R;
    P.R = t;
  };

  const addConstraints = (ei: number, e: number): boolean => {
    const P: ConflictPair = { L: none(), R: none() };
    // Return edges of ei all go on one side (R).
    do {
      const Q = stack.pop() as ConflictPair;
      if (!isEmpty(Q.L)) swap(Q);
      if (!isEmpty(Q.L)) return false;
      if (lowpt[Q.R.low] > lowpt[e]) {
        if (isEmpty(P.R)) P.R = { ...Q.R };
        else ref[P.R.low] = Q.R.high;
        P.R.low = Q.R.low;
      } else {
        ref[Q.R.low] = lowptEdge[e];
      }
    } while (top() !== stackBottom[ei]);
    // Return edges of earlier siblings that conflict with ei go on the other side (L).
    for (let T = top(); T !== undefined && (conflicting(T.L, ei) || conflicting(T.R, ei)); T = top()) {
      const Q = stack.pop() as ConflictPair;
      if (conflicting(Q.R, ei)) swap(Q);
      if (conflicting(Q.R, ei)) return false;
      if (P.R.low >= 0) ref[P.R.low] = Q.R.high;
      if (Q.R.low >= 0) P.R.low = Q.R.low;
      if (isEmpty(P.L)) P.L = { ...Q.L };
      else ref[P.L.low] = Q.L.high;
      P.L.low = Q.L.low;
    }
    if (!isEmpty(P.L) || !isEmpty(P.R)) stack.push(P);
    return true;
  };

  const removeBackEdges = (e: number): void => {
    const u = src[e];
    // Pairs whose lowest return edge ends at u are finished.
    for (let T = top(); T !== undefined && lowest(T) === height[u]; T = top()) stack.pop();
    const P = stack.pop();
    if (P !== undefined) {
      while (P.L.high >= 0 && dst[P.L.high] === u) P.L.high = ref[P.L.high];
      if (P.L.high < 0 && P.L.low >= 0) {
        ref[P.L.low] = P.R.low;
        P.L.low = -1;
      }
      while (P.R.high >= 0 && dst[P.R.high] === u) P.R.high = ref[P.R.high];
      if (P.R.high < 0 && P.R.low >= 0) {
        ref[P.R.low] = P.L.low;
        P.R.low = -1;
      }
      stack.push(P);
    }
    const T = top();
    if (lowpt[e] < height[u] && T !== undefined) {
      const hl = T.L.high;
      const hr = T.R.high;
      ref[e] = hl >= 0 && (hr < 0 || lowpt[hl] > lowpt[hr]) ? hl : hr;
    }
  };

  const test = (v: number): boolean => {
    const e = parentEdge[v];
    const edges = outgoing[v];
    for (let i = 0; i < edges.length; i++) {
      const ei = edges[i];
      stackBottom[ei] = top();
      if (ei === parentEdge[dst[ei]]) {
        if (!test(dst[ei])) return false;
      } else {
        lowptEdge[ei] = ei;
        stack.push({ L: none(), R: { low: ei, high: ei } });
      }
      if (lowpt[ei] < height[v]) {
        // The first child's return edges need no constraint: they set e's lowpoint edge.
        if (i === 0) lowptEdge[e] = lowptEdge[ei];
        else if (!addConstraints(ei, e)) return false;
      }
    }
    if (e >= 0) removeBackEdges(e);
    return true;
  };
  return roots.every(test);
}
