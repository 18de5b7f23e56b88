import { Graph, adjacency, assertSimpleGraph } from './graph';
import { formatGraph6 } from './formats';

/**
 * A string equal for two graphs exactly when they are isomorphic: the graph6 line of the graph
 * relabelled canonically. The labelling is found by individualization-refinement (as nauty does):
 * colour refinement splits the nodes into an equitable ordered partition, a search individualizes
 * one node of a cell at a time until every cell is a single node, and the smallest relabelled edge
 * list over all leaves wins. Automorphisms found between leaves prune the search, which keeps
 * highly symmetric graphs (cycles, grids, trees with many equal leaves) fast; without that pruning
 * a star alone would have factorially many leaves.
 */
export function canonicalForm(g: Graph): string {
  assertSimpleGraph(g, 'canonicalForm');
  const lab = canonicalLabelling(g);
  const position = new Int32Array(g.numNodes);
  lab.forEach((v, i) => (position[v] = i));
  return formatGraph6({ numNodes: g.numNodes, edges: g.edges.map(([u, v]) => [position[u], position[v]] as const) });
}

/** Whether `a` and `b` are isomorphic. */
export function isIsomorphic(a: Graph, b: Graph): boolean {
  if (a.numNodes !== b.numNodes || a.edges.length !== b.edges.length) return false;
  const degrees = (g: Graph): string => adjacency(g).map((ns) => ns.length).sort((x, y) => x - y).join(',');
  return degrees(a) === degrees(b) && canonicalForm(a) === canonicalForm(b);
}

/**
 * An ordered partition of the nodes, as nauty keeps it: `lab` lists the nodes cell by cell, and a
 * cell is named by its first position, so names stay meaningful across isomorphic partitions.
 */
class Partition {
  private constructor(
    readonly lab: Int32Array,
    /** For the first position of a cell, one past its last position. */
    readonly cellEnd: Int32Array,
    /** For a node, the first position of its cell. */
    readonly cellOf: Int32Array,
    public cells: number,
  ) {}

  static unit(n: number): Partition {
    const cellEnd = new Int32Array(n);
    if (n > 0) cellEnd[0] = n;
    return new Partition(Int32Array.from({ length: n }, (_, i) => i), cellEnd, new Int32Array(n), n > 0 ? 1 : 0);
  }

  clone(): Partition {
    return new Partition(this.lab.slice(), this.cellEnd.slice(), this.cellOf.slice(), this.cells);
  }

  get discrete(): boolean {
    return this.cells === this.lab.length;
  }

  /** The first of the smallest non-singleton cells: few children per search node. */
  targetCell(): number {
    let best = -1;
    for (let s = 0; s < this.lab.length; s = this.cellEnd[s]) {
      const size = this.cellEnd[s] - s;
      if (size > 1 && (best < 0 || size < this.cellEnd[best] - best)) best = s;
    }
    return best;
  }

  /** Moves `v` into a singleton cell in front of the rest of its cell; returns the new cell. */
  individualize(v: number): number {
    const start = this.cellOf[v];
    const end = this.cellEnd[start];
    const at = this.lab.indexOf(v, start);
    this.lab[at] = this.lab[start];
    this.lab[start] = v;
    this.cellEnd[start] = start + 1;
    this.cellEnd[start + 1] = end;
    for (let k = start + 1; k < end; k++) this.cellOf[this.lab[k]] = start + 1;
    this.cells++;
    return start;
  }
}

/**
 * Colour refinement to the coarsest equitable partition finer than `p`, given that `p` is already
 * stable with respect to every cell not in `splitters`. Each step depends only on cell positions
 * and neighbour counts, never on node ids, so isomorphic inputs give isomorphic outputs: the
 * property the canonical labelling rests on.
 */
function refine(p: Partition, adj: readonly Int32Array[], splitters: readonly number[]): void {
  const n = p.lab.length;
  const count = new Int32Array(n);
  const touched = new Uint8Array(n);
  const inQueue = new Uint8Array(n);
  const queue = [...splitters];
  for (const s of queue) inQueue[s] = 1;
  for (let head = 0; head < queue.length && !p.discrete; head++) {
    const s = queue[head];
    inQueue[s] = 0;
    const counted: number[] = [];
    const cells: number[] = [];
    for (let k = s; k < p.cellEnd[s]; k++) {
      for (const w of adj[p.lab[k]]) {
        if (count[w]++ > 0) continue;
        counted.push(w);
        const c = p.cellOf[w];
        if (!touched[c]) {
          touched[c] = 1;
          cells.push(c);
        }
      }
    }
    // Cells split in position order so that the queue order is isomorphism-invariant.
    cells.sort((a, b) => a - b);
    for (const c of cells) {
      touched[c] = 0;
      const end = p.cellEnd[c];
      if (!splitCell(p, c, count)) continue;
      for (let q = c; q < end; q = p.cellEnd[q]) {
        if (!inQueue[q]) {
          inQueue[q] = 1;
          queue.push(q);
        }
      }
    }
    for (const w of counted) count[w] = 0;
  }
}

/** Splits the cell at `start` by `count`, smallest count first; whether it split. */
function splitCell(p: Partition, start: number, count: Int32Array): boolean {
  const end = p.cellEnd[start];
  if (end - start === 1) return false;
  const members = Array.from(p.lab.subarray(start, end)).sort((a, b) => count[a] - count[b]);
  if (count[members[0]] === count[members[members.length - 1]]) return false;
  let cell = start;
  members.forEach((v, k) => {
    const at = start + k;
    if (k > 0 && count[v] !== count[members[k - 1]]) {
      p.cellEnd[cell] = at;
      cell = at;
      p.cells++;
    }
    p.lab[at] = v;
    p.cellOf[v] = cell;
  });
  p.cellEnd[cell] = end;
  return true;
}

interface Leaf {
  readonly lab: Int32Array;
  /** The relabelled edges as sorted keys max * n + min: equal iff the relabelled graphs are equal. */
  readonly certificate: Int32Array;
  readonly path: readonly number[];
}

/** `lab` of the canonical leaf: entry i is the node that gets label i. */
export function canonicalLabelling(g: Graph): Int32Array {
  const n = g.numNodes;
  const adj = adjacency(g).map((ns) => Int32Array.from(ns));
  const root = Partition.unit(n);
  if (n === 0) return root.lab;
  refine(root, adj, [0]);

  const leaves: { first?: Leaf; best?: Leaf } = {};
  const generators: Int32Array[] = [];

  // Returns the depth of the search node to resume at: its own depth to go on as usual, less when
  // an automorphism shows that the rest of an ancestor's current subtree repeats explored leaves.
  const atLeaf = (p: Partition, path: readonly number[]): number => {
    const leaf: Leaf = { lab: p.lab, certificate: certificate(g, p.lab), path };
    const { first, best } = leaves;
    if (first === undefined || best === undefined) {
      leaves.first = leaves.best = leaf;
      return path.length;
    }
    for (const known of [first, best]) {
      if (compare(leaf.certificate, known.certificate) === 0) {
        generators.push(automorphism(known.lab, leaf.lab));
        return commonPrefix(path, known.path);
      }
    }
    if (compare(leaf.certificate, best.certificate) < 0) leaves.best = leaf;
    return path.length;
  };

  const search = (p: Partition, path: readonly number[]): number => {
    if (p.discrete) return atLeaf(p, path);
    const depth = path.length;
    const target = p.targetCell();
    const children = Array.from(p.lab.subarray(target, p.cellEnd[target])).sort((a, b) => a - b);
    const explored: number[] = [];
    let orbits: Int32Array = new Int32Array(0);
    let orbitsFrom = -1;
    for (const v of children) {
      if (explored.length > 0) {
        if (orbitsFrom !== generators.length) {
          orbits = orbitsFixing(n, generators, path);
          orbitsFrom = generators.length;
        }
        if (explored.some((u) => orbits[u] === orbits[v])) continue;
      }
      explored.push(v);
      const child = p.clone();
      refine(child, adj, [child.individualize(v)]);
      const resume = search(child, [...path, v]);
      if (resume < depth) return resume;
    }
    return depth;
  };

  search(root, []);
  // A search of a non-empty graph always reaches a leaf.
  return (leaves.best as Leaf).lab;
}

function certificate(g: Graph, lab: Int32Array): Int32Array {
  const n = g.numNodes;
  const position = new Int32Array(n);
  lab.forEach((v, i) => (position[v] = i));
  return Int32Array.from(g.edges, ([u, v]) => {
    const a = position[u];
    const b = position[v];
    return a > b ? a * n + b : b * n + a;
  }).sort();
}

function compare(a: Int32Array, b: Int32Array): number {
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) return a[k] - b[k];
  }
  return 0;
}

/** The permutation taking leaf `from` to leaf `to`: an automorphism when their certificates agree. */
function automorphism(from: Int32Array, to: Int32Array): Int32Array {
  const gamma = new Int32Array(from.length);
  from.forEach((v, i) => (gamma[v] = to[i]));
  return gamma;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

/**
 * Orbit representatives under the automorphisms found so far that fix every node of `path`: two
 * children in one orbit root isomorphic subtrees, so only one needs a visit.
 */
function orbitsFixing(n: number, generators: readonly Int32Array[], path: readonly number[]): Int32Array {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (const gamma of generators) {
    if (!path.every((v) => gamma[v] === v)) continue;
    gamma.forEach((w, v) => {
      const a = find(v);
      const b = find(w);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    });
  }
  return parent.map((_, v) => find(v));
}
