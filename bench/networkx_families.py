"""Graphs of the built-in families written by networkx, as a user's tool would write them.

usage: /usr/bin/python3 bench/networkx_families.py FAMILY COUNT SEED OUT.jsonl

Node ids are shuffled (a random relabelling) and edges are listed in networkx's own order
(G.edges() after the relabelling), so neither the ids nor the edge order follow our generators.
Sizes and parameters are those of configs/FAMILY.json.
"""
import json
import random
import sys

import networkx as nx
import numpy as np
from scipy.spatial import Delaunay


def community(rng, n_min, n_max, p_intra, inter_fraction):
    # two Erdős–Rényi halves joined by round(inter_fraction * n) (at least 1) distinct edges, redrawn until connected
    while True:
        n = rng.randint(n_min, n_max)
        half = n // 2
        g = nx.disjoint_union(nx.gnp_random_graph(half, p_intra, seed=rng.randrange(2**31)),
                              nx.gnp_random_graph(n - half, p_intra, seed=rng.randrange(2**31)))
        pairs = [(u, v) for u in range(half) for v in range(half, n)]
        g.add_edges_from(rng.sample(pairs, max(1, round(inter_fraction * n))))
        if nx.is_connected(g):
            return g


def lobster(rng):
    while True:
        g = nx.random_lobster(4, 0.7, 0.7, seed=rng.randrange(2**31))
        if 10 <= g.number_of_nodes() <= 40:
            return g


def planar(rng):
    points = np.random.default_rng(rng.randrange(2**31)).random((64, 2))
    g = nx.empty_graph(64)
    for a, b, c in Delaunay(points).simplices:
        g.add_edges_from([(int(a), int(b)), (int(b), int(c)), (int(c), int(a))])
    return g


def sbm(rng):
    np_rng = np.random.default_rng(rng.randrange(2**31))
    blocks = int(np_rng.integers(2, 5, endpoint=True))
    sizes = [int(x) for x in np_rng.integers(20, 40, size=blocks, endpoint=True)]
    probs = np.full((blocks, blocks), 0.005)
    np.fill_diagonal(probs, 0.3)
    return nx.stochastic_block_model(sizes, probs.tolist(), seed=rng.randrange(2**31))


def gran_lobsters():
    seed = 1234
    while True:
        g = nx.random_lobster(80, 0.7, 0.7, seed=seed)
        seed += 1
        if 10 <= g.number_of_nodes() <= 100:
            yield g


def graphrnn_grids(rng):
    grids = [nx.grid_2d_graph(i, j) for i in range(10, 20) for j in range(10, 20)]
    rng.shuffle(grids)
    return iter(grids)


MAKERS = {
    'cycles': lambda rng: nx.cycle_graph(rng.randint(10, 20)),
    'trees': lambda rng: nx.random_tree(rng.randint(10, 20), seed=rng.randrange(2**31)),
    'ladders': lambda rng: nx.ladder_graph(rng.randint(5, 10)),
    'grids-small': lambda rng: nx.grid_2d_graph(rng.randint(2, 5), rng.randint(2, 5)),
    'lobsters': lobster,
    'community': lambda rng: community(rng, 12, 20, 0.3, 0.05),
    'community-small': lambda rng: community(rng, 12, 20, 0.7, 0.05),
    'planar': planar,
    'sbm': sbm,
}
# Fixed sequences: the papers' own lists of graphs, in a shuffled order for grids.
SEQUENCES = {
    'lobsters-gran': lambda rng: gran_lobsters(),
    'grids': graphrnn_grids,
}


def main():
    family, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    if family not in MAKERS and family not in SEQUENCES:
        sys.exit(f'networkx_families.py: unknown family {family!r}; known: {", ".join([*MAKERS, *SEQUENCES])}')
    sequence = SEQUENCES[family](rng) if family in SEQUENCES else None
    with open(out, 'w') as f:
        for _ in range(count):
            made = next(sequence, None) if sequence is not None else MAKERS[family](rng)
            if made is None:
                sys.exit(f'networkx_families.py: {family} has only {_} graphs, {count} asked for')
            g = nx.convert_node_labels_to_integers(made)
            ids = list(range(g.number_of_nodes()))
            rng.shuffle(ids)
            g = nx.relabel_nodes(g, dict(enumerate(ids)))
            f.write(json.dumps({'num_nodes': g.number_of_nodes(), 'edges': [[int(u), int(v)] for u, v in g.edges()]}) + '\n')


main()
