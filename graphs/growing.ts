/**
 * An undirected graph grown one node and one edge at a time, that measures breadth-first
 * distances from any of its nodes. Adjacency lists are linked through flat arrays (head, next,
 * to) that double when full, so once they hold the graph, adding and measuring allocate nothing:
 * the model asks for the distances from the newest node at every destination decision.
 */
export class GrowingGraph {
  /** First slot of each node's adjacency list (-1: none); the BFS distances and queue, one entry per node. */
  private head: Int32Array;
  private dist: Int32Array;
  private queue: Int32Array;
  /** Per directed slot: the neighbour it leads to and the next slot of the same list (-1: last). */
  private to: Int32Array;
  private next: Int32Array;
  private slots = 0;
  numNodes = 0;

  /** Room for `nodes` nodes and `edges` undirected edges before any array grows. */
  constructor(nodes: number, edges: number) {
    const n = Math.max(nodes, 1);
    const s = Math.max(2 * edges, 2);
    this.head = new Int32Array(n);
    this.dist = new Int32Array(n);
    this.queue = new Int32Array(n);
    this.to = new Int32Array(s);
    this.next = new Int32Array(s);
  }

  addNode(): void {
    if (this.numNodes === this.head.length) {
      const n = 2 * this.head.length;
      this.head = grown(this.head, n);
      this.dist = new Int32Array(n);
      this.queue = new Int32Array(n);
    }
    this.head[this.numNodes++] = -1;
  }

  addEdge(a: number, b: number): void {
    if (this.slots + 2 > this.to.length) {
      this.to = grown(this.to, 2 * this.to.length);
      this.next = grown(this.next, 2 * this.next.length);
    }
    this.link(a, b);
    this.link(b, a);
  }

  private link(a: number, b: number): void {
    this.to[this.slots] = b;
    this.next[this.slots] = this.head[a];
    this.head[a] = this.slots++;
  }

  /**
   * The number of edges on a shortest path from `v` to each node u (entry u, for u below
   * numNodes; -1: u is not reachable). The array is the graph's own, valid until the next call.
   */
  distancesFrom(v: number): Int32Array {
    const { dist, queue, head, next, to } = this;
    dist.fill(-1, 0, this.numNodes);
    dist[v] = 0;
    queue[0] = v;
    for (let read = 0, write = 1; read < write; read++) {
      const x = queue[read];
      for (let s = head[x]; s >= 0; s = next[s]) {
        const y = to[s];
        if (dist[y] >= 0) continue;
        dist[y] = dist[x] + 1;
        queue[write++] = y;
      }
    }
    return dist;
  }
}

function grown(x: Int32Array, length: number): Int32Array {
  const y = new Int32Array(length);
  y.set(x);
  return y;
}
