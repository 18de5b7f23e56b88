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


MAKERS = {
    'cycles': lambda rng: nx.cycle_graph(rng.randint(10, 20)),
    'trees': lambda rng: nx.random_tree(rng.randint(10, 20), seed=rng.randrange(2**31)),
    'ladders': lambda rng: nx.ladder_graph(rng.randint(5, 10)),
    'grids-small': lambda rng: nx.grid_2d_graph(rng.randint(2, 5), rng.randint(2, 5)),
    'lobsters': lobster,
    'community': lambda rng: community(rng, 12, 20, 0.3, 0.05),
    'community-small': lambda rng: community(rng, 12, 20, 0.7, 0.05),
}


def main():
    family, count, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rng = random.Random(seed)
    with open(out, 'w') as f:
        for _ in range(count):
            g = nx.convert_node_labels_to_integers(MAKERS[family](rng))
            ids = list(range(g.number_of_nodes()))
            rng.shuffle(ids)
            g = nx.relabel_nodes(g, dict(enumerate(ids)))
            f.write(json.dumps({'num_nodes': g.number_of_nodes(), 'edges': [[int(u), int(v)] for u, v in g.edges()]}) + '\n')


main()
