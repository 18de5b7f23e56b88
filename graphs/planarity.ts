import { Graph } from './graph';

/**
 * The left-right planarity test of de Fraysseix and Rosenstiehl in Brandes' formulation ("The
 * Left-Right Planarity Test", 2009), the algorithm networkx's check_planarity runs, without
 * building the embedding. Exact, O(n + m) after the Euler bound m <= 3n - 6 (a graph with more
 * edges is never planar). Disconnected graphs are planar when every component is.
 *
 * A DFS orients every edge (tree edges down, back edges up) and gives each its lowpoints; the
 * second DFS visits each node's outgoing edges by nesting depth and keeps, on a stack of conflict
 * pairs, which return edges must go left and which right of the tree. A constraint that puts two
 * conflicting return edges on the same side proves the graph non-planar.
 *
 * Every array is laid out once for the most nodes and edges a caller will test, so a structural
 * constraint can run the test for every candidate edge without allocating (docs/design.md,
 * 'Structural constraints'). A conflict pair is an id into `pair` (its intervals L and R, each
 * from its lowest to its highest return edge, -1 when empty); ids are never reused within a test,
 * so "the stack's top is still the pair it was" compares ids as Brandes compares pairs.
 */
export class PlanarityTest {
  private n = 0;
  private eu: Int32Array;
  private ev: Int32Array;
  // CSR incidence in edge order, and outgoing edges by nesting depth
  private readonly incStart: Int32Array;
  private readonly incList: Int32Array;
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;
  // Orientation: src[e] -> dst[e]; tree edges point away from the root, back edges towards it.
  private readonly src: Int32Array;
  private readonly dst: Int32Array;
  private readonly height: Int32Array;
  private readonly parentEdge: Int32Array;
  private readonly lowpt: Int32Array;
  private readonly lowpt2: Int32Array;
  private readonly nesting: Int32Array;
  /** The edges in the order they were oriented, so ties in nesting keep it (a stable sort). */
  private readonly oriented: Int32Array;
  private orientedCount = 0;
  private readonly bucket: Int32Array;
  private readonly ref: Int32Array;
  private readonly lowptEdge: Int32Array;
  private readonly stackBottom: Int32Array;
  /** Conflict pair p: pair[4p..4p+3] = L.low, L.high, R.low, R.high. */
  private readonly pair: Int32Array;
  private pairs = 0;
  private readonly stack: Int32Array;
  private sp = 0;

  constructor(
    readonly maxNodes: number,
    readonly maxEdges: number,
  ) {
    const N = maxNodes;
    const M = maxEdges;
    this.eu = this.ev = new Int32Array(0);
    this.incStart = new Int32Array(N + 1);
    this.incList = new Int32Array(2 * M);
    this.outStart = new Int32Array(N + 1);
    this.outList = new Int32Array(M);
    this.src = new Int32Array(M);
    this.dst = new Int32Array(M);
    this.height = new Int32Array(N);
    this.parentEdge = new Int32Array(N);
    this.lowpt = new Int32Array(M);
    this.lowpt2 = new Int32Array(M);
    this.nesting = new Int32Array(M);
    this.oriented = new Int32Array(M);
    this.bucket = new Int32Array(2 * N + 2);
    this.ref = new Int32Array(M);
    this.lowptEdge = new Int32Array(M);
    this.stackBottom = new Int32Array(M);
    // one pair per back edge and at most one per addConstraints call (one per edge)
    this.pair = new Int32Array(4 * 2 * M);
    this.stack = new Int32Array(2 * M);
  }

  /** Whether the graph of `n` nodes and the `m` edges (eu[i], ev[i]), i < m, is planar; at most maxNodes and maxEdges. */
  test(n: number, m: number, eu: Int32Array, ev: Int32Array): boolean {
    if (n > 2 && m > 3 * n - 6) return false;
    if (n > this.maxNodes || m > this.maxEdges) throw new Error(`PlanarityTest: a graph of ${n} nodes and ${m} edges exceeds the ${this.maxNodes} nodes and ${this.maxEdges} edges it was laid out for`);
    this.n = n;
    this.eu = eu;
    this.ev = ev;
    const { incStart, incList, height, parentEdge, src, ref, lowptEdge } = this;
    incStart.fill(0, 0, n + 1);
    for (let e = 0; e < m; e++) {
      incStart[eu[e] + 1]++;
      incStart[ev[e] + 1]++;
    }
    for (let v = 0; v < n; v++) incStart[v + 1] += incStart[v];
    // bucket as the fill cursor of each node's incidence list
    for (let v = 0; v < n; v++) this.bucket[v] = incStart[v];
    for (let e = 0; e < m; e++) {
      incList[this.bucket[eu[e]]++] = e;
      incList[this.bucket[ev[e]]++] = e;
    }
    src.fill(-1, 0, m);
    ref.fill(-1, 0, m);
    lowptEdge.fill(-1, 0, m);
    height.fill(-1, 0, n);
    parentEdge.fill(-1, 0, n);
    this.orientedCount = 0;
    for (let v = 0; v < n; v++) {
      if (height[v] >= 0) continue;
      height[v] = 0;
      this.orient(v);
    }
    this.sortByNesting(m);
    this.pairs = 0;
    this.sp = 0;
    for (let v = 0; v < n; v++) if (height[v] === 0 && !this.visit(v)) return false;
    return true;
  }

  private orient(v: number): void {
    const { height, parentEdge, src, dst, lowpt, lowpt2, nesting } = this;
    const e = parentEdge[v];
    for (let k = this.incStart[v]; k < this.incStart[v + 1]; k++) {
      const vw = this.incList[k];
      if (src[vw] >= 0) continue;
      const w = this.eu[vw] === v ? this.ev[vw] : this.eu[vw];
      src[vw] = v;
      dst[vw] = w;
      this.oriented[this.orientedCount++] = vw;
      lowpt[vw] = height[v];
      lowpt2[vw] = height[v];
      if (height[w] < 0) {
        parentEdge[w] = vw;
        height[w] = height[v] + 1;
        this.orient(w);
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
  }

  /** Each node's outgoing edges by nesting depth (a counting sort: depths are below 2n), ties in orientation order. */
  private sortByNesting(m: number): void {
    const { bucket, nesting, oriented, outStart, outList, src } = this;
    const depths = 2 * this.n + 1;
    bucket.fill(0, 0, depths + 1);
    for (let k = 0; k < m; k++) bucket[nesting[oriented[k]] + 1]++;
    for (let d = 0; d < depths; d++) bucket[d + 1] += bucket[d];
    // the oriented edges by depth, in outList for now
    for (let k = 0; k < m; k++) outList[bucket[nesting[oriented[k]]]++] = oriented[k];
    for (let k = 0; k < m; k++) oriented[k] = outList[k];
    outStart.fill(0, 0, this.n + 1);
    for (let k = 0; k < m; k++) outStart[src[k] + 1]++;
    for (let v = 0; v < this.n; v++) outStart[v + 1] += outStart[v];
    for (let v = 0; v < this.n; v++) bucket[v] = outStart[v];
    for (let k = 0; k < m; k++) outList[bucket[src[oriented[k]]]++] = oriented[k];
  }

  private newPair(lLow: number, lHigh: number, rLow: number, rHigh: number): number {
    const p = this.pairs++;
    this.pair[4 * p] = lLow;
    this.pair[4 * p + 1] = lHigh;
    this.pair[4 * p + 2] = rLow;
    this.pair[4 * p + 3] = rHigh;
    return p;
  }

  private top(): number {
    return this.sp > 0 ? this.stack[this.sp - 1] : -1;
  }

  private pop(): number {
    return this.sp > 0 ? this.stack[--this.sp] : -1;
  }

  private push(p: number): void {
    this.stack[this.sp++] = p;
  }

  /** Whether interval `side` (0: L, 2: R) of pair p is empty. */
  private isEmpty(p: number, side: number): boolean {
    return this.pair[4 * p + side] < 0 && this.pair[4 * p + side + 1] < 0;
  }

  private conflicting(p: number, side: number, b: number): boolean {
    return !this.isEmpty(p, side) && this.lowpt[this.pair[4 * p + side + 1]] > this.lowpt[b];
  }

  private lowest(p: number): number {
    const { pair, lowpt } = this;
    if (this.isEmpty(p, 0)) return lowpt[pair[4 * p + 2]];
    if (this.isEmpty(p, 2)) return lowpt[pair[4 * p]];
    return Math.min(lowpt[pair[4 * p]], lowpt[pair[4 * p + 2]]);
  }

  private swap(p: number): void {
    const { pair } = this;
    for (let k = 4 * p; k < 4 * p + 2; k++) {
      const t = pair[k];
      pair[k] = pair[k + 2];
      pair[k + 2] = t;
    }
  }

  private addConstraints(ei: number, e: number): boolean {
    const { pair, lowpt, ref } = this;
    const P = this.newPair(-1, -1, -1, -1);
    const PL = 4 * P;
    const PR = 4 * P + 2;
    // Return edges of ei all go on one side (R).
    do {
      const Q = this.pop();
      if (!this.isEmpty(Q, 0)) this.swap(Q);
      if (!this.isEmpty(Q, 0)) return false;
      const QR = 4 * Q + 2;
      if (lowpt[pair[QR]] > lowpt[e]) {
        if (this.isEmpty(P, 2)) pair[PR + 1] = pair[QR + 1];
        else ref[pair[PR]] = pair[QR + 1];
        pair[PR] = pair[QR];
      } else {
        ref[pair[QR]] = this.lowptEdge[e];
      }
    } while (this.top() !== this.stackBottom[ei]);
    // Return edges of earlier siblings that conflict with ei go on the other side (L).
    for (let T = this.top(); T >= 0 && (this.conflicting(T, 0, ei) || this.conflicting(T, 2, ei)); T = this.top()) {
      const Q = this.pop();
      if (this.conflicting(Q, 2, ei)) this.swap(Q);
      if (this.conflicting(Q, 2, ei)) return false;
      const QL = 4 * Q;
      const QR = 4 * Q + 2;
      if (pair[PR] >= 0) ref[pair[PR]] = pair[QR + 1];
      if (pair[QR] >= 0) pair[PR] = pair[QR];
      if (this.isEmpty(P, 0)) pair[PL + 1] = pair[QL + 1];
      else ref[pair[PL]] = pair[QL + 1];
      pair[PL] = pair[QL];
    }
    if (!this.isEmpty(P, 0) || !this.isEmpty(P, 2)) this.push(P);
    return true;
  }

  private removeBackEdges(e: number): void {
    const { pair, lowpt, ref, dst, height } = this;
    const u = this.src[e];
    // Pairs whose lowest return edge ends at u are finished.
    for (let T = this.top(); T >= 0 && this.lowest(T) === height[u]; T = this.top()) this.pop();
    const P = this.pop();
    if (P >= 0) {
      const PL = 4 * P;
      const PR = 4 * P + 2;
      while (pair[PL + 1] >= 0 && dst[pair[PL + 1]] === u) pair[PL + 1] = ref[pair[PL + 1]];
      if (pair[PL + 1] < 0 && pair[PL] >= 0) {
        ref[pair[PL]] = pair[PR];
        pair[PL] = -1;
      }
      while (pair[PR + 1] >= 0 && dst[pair[PR + 1]] === u) pair[PR + 1] = ref[pair[PR + 1]];
      if (pair[PR + 1] < 0 && pair[PR] >= 0) {
        ref[pair[PR]] = pair[PL];
        pair[PR] = -1;
      }
      this.push(P);
    }
    const T = this.top();
    if (lowpt[e] < height[u] && T >= 0) {
      const hl = pair[4 * T + 1];
      const hr = pair[4 * T + 3];
      ref[e] = hl >= 0 && (hr < 0 || lowpt[hl] > lowpt[hr]) ? hl : hr;
    }
  }

  private visit(v: number): boolean {
    const { dst, lowpt, height, parentEdge, lowptEdge } = this;
    const e = parentEdge[v];
    for (let i = this.outStart[v]; i < this.outStart[v + 1]; i++) {
      const ei = this.outList[i];
      this.stackBottom[ei] = this.top();
      if (ei === parentEdge[dst[ei]]) {
        if (!this.visit(dst[ei])) return false;
      } else {
        lowptEdge[ei] = ei;
        this.push(this.newPair(-1, -1, ei, ei));
      }
      if (lowpt[ei] < height[v]) {
        // The first child's return edges need no constraint: they set e's lowpoint edge.
        if (i === this.outStart[v]) lowptEdge[e] = lowptEdge[ei];
        else if (!this.addConstraints(ei, e)) return false;
      }
    }
    if (e >= 0) this.removeBackEdges(e);
    return true;
  }
}

/** Whether `g` can be drawn in the plane without crossings (PlanarityTest). */
export function isPlanar(g: Graph): boolean {
  const n = g.numNodes;
  const m = g.edges.length;
  if (n > 2 && m > 3 * n - 6) return false;
  const eu = Int32Array.from(g.edges, (e) => e[0]);
  const ev = Int32Array.from(g.edges, (e) => e[1]);
  return new PlanarityTest(n, m).test(n, m, eu, ev);
}

/**
 * A planar graph grown node by node, each new node's edges going to earlier nodes (DGMG's order),
 * that answers which new edges of the newest node keep it planar. Sized once for `maxNodes`: a
 * planar graph has at most 3n - 6 edges, so the edge lists, the test's scratch and the answers
 * for the current state are laid out once and every question allocates nothing.
 */
export class PlanarGrowth {
  private nodes = 0;
  private edges = 0;
  private readonly eu: Int32Array;
  private readonly ev: Int32Array;
  private readonly degree: Int32Array;
  /** Union-find over the nodes: an edge between two components keeps a planar graph planar. */
  private readonly component: Int32Array;
  /** The newest node's neighbours (1), for the repeated edges that change nothing. */
  private readonly neighbour: Uint8Array;
  /** Answers at the current state: 0 not asked yet, 1 planar, 2 not. */
  private readonly answer: Uint8Array;
  private readonly planarity: PlanarityTest;

  constructor(readonly maxNodes: number) {
    const maxEdges = Math.max(3 * maxNodes - 6, maxNodes) + 1;
    this.eu = new Int32Array(maxEdges);
    this.ev = new Int32Array(maxEdges);
    this.degree = new Int32Array(maxNodes);
    this.component = new Int32Array(maxNodes);
    this.neighbour = new Uint8Array(maxNodes);
    this.answer = new Uint8Array(maxNodes);
    this.planarity = new PlanarityTest(maxNodes, maxEdges);
  }

  addNode(): void {
    this.component[this.nodes] = this.nodes;
    this.degree[this.nodes++] = 0;
    this.neighbour.fill(0, 0, this.nodes);
    this.answer.fill(0, 0, this.nodes);
  }

  /** Adds the edge from the newest node to `u`; it must keep the graph planar (keepsPlanar). */
  addEdge(u: number): void {
    const v = this.nodes - 1;
    if (this.edges + 1 >= this.eu.length) throw new Error(`PlanarGrowth: edge ${this.edges + 1} is more than a planar graph of ${this.nodes} nodes has`);
    this.eu[this.edges] = u;
    this.ev[this.edges++] = v;
    this.degree[u]++;
    this.degree[v]++;
    this.neighbour[u] = 1;
    this.component[this.root(u)] = this.root(v);
    this.answer.fill(0, 0, this.nodes);
  }

  private root(x: number): number {
    const c = this.component;
    while (c[x] !== x) {
      c[x] = c[c[x]];
      x = c[x];
    }
    return x;
  }

  /**
   * Whether the graph with the edge (u, newest node) is planar: always for an edge it already has
   * (it changes nothing), a pendant edge or one joining two components; never past the Euler
   * bound; else the left-right test on the graph with the edge, once per state and u.
   */
  keepsPlanar(u: number): boolean {
    const v = this.nodes - 1;
    if (this.neighbour[u] || this.degree[u] === 0 || this.degree[v] === 0) return true;
    if (this.answer[u] === 0) {
      let planar: boolean;
      if (this.root(u) !== this.root(v)) planar = true;
      else if (this.nodes > 2 && this.edges + 1 > 3 * this.nodes - 6) planar = false;
      else {
        this.eu[this.edges] = u;
        this.ev[this.edges] = v;
        planar = this.planarity.test(this.nodes, this.edges + 1, this.eu, this.ev);
      }
      this.answer[u] = planar ? 1 : 2;
    }
    return this.answer[u] === 1;
  }
}
