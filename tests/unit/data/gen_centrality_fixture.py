#!/usr/bin/python3
"""Write centrality_fixture.txt: a seeded random graph and the expected
scores of every query.centrality metric, computed with NetworkX (the cutoff
variants NetworkX lacks are computed here from NetworkX's depth-limited BFS
and a small Brandes), cross-checked against python-igraph before anything
is written. Note: python-igraph 0.10.2's closeness(cutoff=) and
harmonic_centrality(cutoff=) return values as if the cutoff were 0, so those
two are not cross-checked against it.

Run with /usr/bin/python3 (it has python3-networkx and python3-igraph):
    /usr/bin/python3 tests/unit/data/gen_centrality_fixture.py
test_centrality.c reads the file and compares within 1e-9 (eigenvector and
pagerank 1e-6).

Format (text, one record per line):
    vertices N            vertices are named v0000 .. v(N-1), id order = index
    edge U V              one line per undirected edge
    case NAME METRIC NORMALIZED CUTOFF DAMPING    (CUTOFF -1 = exact)
    score V VALUE         N lines follow each case; "omit" = left out
"""
import math
import os
import random

import igraph
import networkx as nx

SEED = 20240611
N = 300
M = 520          # sparse enough for a few small components and isolated vertices

random.seed(SEED)
G = nx.Graph()
G.add_nodes_from(range(N))
while G.number_of_edges() < M:
    u, v = random.randrange(N), random.randrange(N)
    if u != v:
        G.add_edge(u, v)
# A few isolated vertices for sure (section 4: isolated vertices count).
for v in (7, 123, 299):
    G.remove_edges_from(list(G.edges(v)))

edges = sorted((min(u, v), max(u, v)) for u, v in G.edges())
ig = igraph.Graph(n=N, edges=edges, directed=False)
n = N


def bfs_within(v, cutoff):
    """Distances from v to every vertex at most cutoff away (v excluded)."""
    d = nx.single_source_shortest_path_length(G, v, cutoff=cutoff)
    d.pop(v)
    return d


def closeness_cut(v, cutoff):
    d = bfs_within(v, cutoff)
    return 0.0 if not d else len(d) / sum(d.values())


def harmonic_cut(v, cutoff):
    return sum(1.0 / x for x in bfs_within(v, cutoff).values())


def betweenness_cut(cutoff):
    """Brandes on paths of length <= cutoff; each unordered pair once."""
    bc = [0.0] * N
    for s in range(N):
        dist, sigma, order, preds = {s: 0}, {s: 1}, [s], {s: []}
        i = 0
        while i < len(order):
            v = order[i]
            i += 1
            if dist[v] == cutoff:
                continue
            for w in G.neighbors(v):
                if w not in dist:
                    dist[w] = dist[v] + 1
                    sigma[w] = 0
                    preds[w] = []
                    order.append(w)
                if dist[w] == dist[v] + 1:
                    sigma[w] += sigma[v]
                    preds[w].append(v)
        delta = {v: 0.0 for v in order}
        for w in reversed(order):
            for v in preds[w]:
                delta[v] += sigma[v] / sigma[w] * (1 + delta[w])
            if w != s:
                bc[w] += delta[w]
    return [x / 2 for x in bc]


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def agree(name, ours, theirs, tol):
    for v in range(N):
        assert close(ours[v], theirs[v], tol), (name, v, ours[v], theirs[v])


cases = []

# degree
deg = [G.degree(v) for v in range(N)]
cases.append(("degree", "degree", 0, -1, 0.85, [float(d) for d in deg]))
cases.append(("degree_norm", "degree", 1, -1, 0.85, [d / (n - 1) for d in deg]))

# betweenness: NetworkX's unnormalized undirected value counts each pair once.
bw = nx.betweenness_centrality(G, normalized=False)
bw = [bw[v] for v in range(N)]
agree("betweenness", bw, ig.betweenness(directed=False), 1e-9)
cases.append(("betweenness", "betweenness", 0, -1, 0.85, bw))
bwn = nx.betweenness_centrality(G, normalized=True)
bwn = [bwn[v] for v in range(N)]
agree("betweenness_norm", bwn, [x / ((n - 1) * (n - 2) / 2) for x in bw], 1e-9)
cases.append(("betweenness_norm", "betweenness", 1, -1, 0.85, bwn))
bw3 = betweenness_cut(3)
agree("betweenness_cut3", bw3, ig.betweenness(directed=False, cutoff=3), 1e-9)
cases.append(("betweenness_cut3", "betweenness", 0, 3, 0.85, bw3))

# closeness: over the reachable vertices, (r-1)/sum; 0 for isolated.
cl = nx.closeness_centrality(G, wf_improved=False)
cl = [cl[v] for v in range(N)]
igcl = [0.0 if (x is None or math.isnan(x)) else x for x in ig.closeness(normalized=True)]
agree("closeness", cl, igcl, 1e-9)
cases.append(("closeness", "closeness", 0, -1, 0.85, cl))
cases.append(("closeness_norm", "closeness", 1, -1, 0.85, cl))   # normalized changes nothing
cl2 = [closeness_cut(v, 2) for v in range(N)]
agree("closeness_cut_big", [closeness_cut(v, N) for v in range(N)], cl, 1e-9)
cases.append(("closeness_cut2", "closeness", 0, 2, 0.85, cl2))

# harmonic
hc = nx.harmonic_centrality(G)
hc = [hc[v] for v in range(N)]
agree("harmonic", hc, ig.harmonic_centrality(normalized=False), 1e-9)
cases.append(("harmonic", "harmonic", 0, -1, 0.85, hc))
cases.append(("harmonic_norm", "harmonic", 1, -1, 0.85, [x / (n - 1) for x in hc]))
agree("harmonic_cut_big", [harmonic_cut(v, N) for v in range(N)], hc, 1e-9)
cases.append(("harmonic_cut2", "harmonic", 0, 2, 0.85, [harmonic_cut(v, 2) for v in range(N)]))

# eigenvector, scaled so that the maximum is 1. NetworkX's numpy variant on
# the whole graph: the giant component dominates, the rest get 0.
ev = nx.eigenvector_centrality_numpy(G)
mx = max(ev.values())
ev = [abs(ev[v]) / mx for v in range(N)]
ev = [0.0 if x < 1e-12 else x for x in ev]
igev = [0.0 if abs(x) < 1e-12 else x for x in ig.eigenvector_centrality(scale=True)]
agree("eigenvector", ev, igev, 1e-6)
cases.append(("eigenvector", "eigenvector", 0, -1, 0.85, ev))

# pagerank, dangling vertices spread uniformly (NetworkX's default).
for d, name in ((0.85, "pagerank"), (0.5, "pagerank_d50")):
    pr = nx.pagerank(G, alpha=d, tol=1e-13, max_iter=100000)
    pr = [pr[v] for v in range(N)]
    agree(name, pr, ig.pagerank(damping=d, directed=False), 1e-6)
    assert abs(sum(pr) - 1) < 1e-9
    cases.append((name, "pagerank", 0, -1, d, pr))

# constraint: degree-0 vertices are left out.
co = nx.constraint(G)
co = [None if deg[v] == 0 else co[v] for v in range(N)]
igco = ig.constraint()
agree("constraint", co, [None if deg[v] == 0 else igco[v] for v in range(N)], 1e-9)
cases.append(("constraint", "constraint", 0, -1, 0.85, co))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "centrality_fixture.txt")
with open(out, "w") as f:
    f.write("# generated by gen_centrality_fixture.py (seed %d); do not edit\n" % SEED)
    f.write("vertices %d\n" % N)
    for u, v in edges:
        f.write("edge %d %d\n" % (u, v))
    for name, metric, norm, cutoff, damping, scores in cases:
        f.write("case %s %s %d %g %.17g\n" % (name, metric, norm, cutoff, damping))
        for v in range(N):
            s = scores[v]
            f.write("score %d %s\n" % (v, "omit" if s is None else "%.17g" % s))
print("wrote %s: %d vertices, %d edges, %d cases" % (out, N, len(edges), len(cases)))
