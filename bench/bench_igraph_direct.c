/*
 * bench_igraph_direct.c -- the igraph calls behind query.centrality, made
 * directly in C on one core: the floor a query over the wire is compared
 * with (bench/run). Reads an edge list of 0-based vertex ids,
 *
 *   first line: the vertex count n; then one "a b" line per edge,
 *
 * builds the undirected graph the daemon builds (create, then simplify),
 * and times each metric with the same igraph call and arguments as
 * graph/centrality.c: degree, pagerank (PRPACK, damping 0.85),
 * betweenness, closeness (normalized), harmonic.
 *
 *   bench_igraph_direct FILE [--metrics degree,pagerank,betweenness,...]
 *
 * Prints "metric milliseconds" lines. Not run by ctest.
 */
#include <igraph.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int wanted(const char *list, const char *m) {
    size_t n = strlen(m);
    for (const char *p = list; p && *p; ) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t) (c - p) : strlen(p);
        if (len == n && strncmp(p, m, n) == 0)
            return 1;
        p = c ? c + 1 : NULL;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_igraph_direct EDGEFILE [--metrics LIST]\n");
        return 2;
    }
    const char *metrics = "degree,pagerank,betweenness,closeness,harmonic";
    if (argc >= 4 && strcmp(argv[2], "--metrics") == 0)
        metrics = argv[3];
    FILE *f = fopen(argv[1], "r");
    long n = 0, a, b;
    if (f == NULL || fscanf(f, "%ld", &n) != 1 || n < 0) {
        fprintf(stderr, "bench_igraph_direct: cannot read %s\n", argv[1]);
        return 2;
    }
    igraph_vector_int_t edges;
    igraph_vector_int_init(&edges, 0);
    while (fscanf(f, "%ld %ld", &a, &b) == 2) {
        if (a < 0 || b < 0 || a >= n || b >= n) {
            fprintf(stderr, "bench_igraph_direct: vertex out of range\n");
            return 2;
        }
        igraph_vector_int_push_back(&edges, a);
        igraph_vector_int_push_back(&edges, b);
    }
    fclose(f);

    igraph_t g;
    igraph_vector_t res;
    igraph_vector_int_t deg;
    igraph_real_t value;
    igraph_vector_init(&res, 0);
    igraph_vector_int_init(&deg, 0);
    double t0 = now_ms();
    igraph_create(&g, &edges, n, IGRAPH_UNDIRECTED);
    igraph_simplify(&g, true, true, NULL);
    printf("build %.3f\n", now_ms() - t0);
    printf("# %ld vertices, %ld edges\n", (long) igraph_vcount(&g), (long) igraph_ecount(&g));

    static const char *const all[] = { "degree", "pagerank", "betweenness", "closeness", "harmonic" };
    for (int m = 0; m < 5; m++) {
        if (!wanted(metrics, all[m]))
            continue;
        t0 = now_ms();
        switch (m) {
        case 0:
            igraph_degree(&g, &deg, igraph_vss_all(), IGRAPH_ALL, IGRAPH_NO_LOOPS);
            break;
        case 1:
            igraph_pagerank(&g, IGRAPH_PAGERANK_ALGO_PRPACK, &res, &value, igraph_vss_all(), false,
                            0.85, NULL, NULL);
            break;
        case 2:
            igraph_betweenness(&g, &res, igraph_vss_all(), false, NULL);
            break;
        case 3:
            igraph_closeness(&g, &res, NULL, NULL, igraph_vss_all(), IGRAPH_ALL, NULL, true);
            break;
        case 4:
            igraph_harmonic_centrality(&g, &res, igraph_vss_all(), IGRAPH_ALL, NULL, false);
            break;
        }
        printf("%s %.3f\n", all[m], now_ms() - t0);
        fflush(stdout);
    }
    igraph_destroy(&g);
    igraph_vector_destroy(&res);
    igraph_vector_int_destroy(&deg);
    igraph_vector_int_destroy(&edges);
    return 0;
}
