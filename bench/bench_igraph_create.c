/*
 * bench_igraph_create.c -- the lower bound for bench_import.py: build the
 * same graph directly with igraph_create, no service, no validation, no
 * disk.
 *
 *   bench_igraph_create EDGES
 *
 * EDGES is a text file: the vertex count on the first line, then one
 * "a b" pair of 0-based vertex indices per line. Prints one line of
 * key=value figures: vertices, edges, read_s (parsing the file),
 * create_s (igraph_create alone), hwm_kib (peak resident memory).
 */
#include <igraph.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc_status.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EDGES\n", argv[0]);
        return 2;
    }
    double t0 = now_s();
    FILE *f = fopen(argv[1], "r");
    long n;
    if (f == NULL || fscanf(f, "%ld", &n) != 1 || n < 0) {
        fprintf(stderr, "%s: cannot read the vertex count\n", argv[1]);
        return 1;
    }
    igraph_vector_int_t edges;
    igraph_vector_int_init(&edges, 0);
    igraph_vector_int_reserve(&edges, 1 << 20);
    long a, b;
    while (fscanf(f, "%ld %ld", &a, &b) == 2) {
        if (a < 0 || b < 0 || a >= n || b >= n) {
            fprintf(stderr, "%s: vertex out of range\n", argv[1]);
            return 1;
        }
        igraph_vector_int_push_back(&edges, a);
        igraph_vector_int_push_back(&edges, b);
    }
    fclose(f);
    double t1 = now_s();
    igraph_t g;
    if (igraph_create(&g, &edges, (igraph_integer_t) n, IGRAPH_UNDIRECTED) != IGRAPH_SUCCESS) {
        fprintf(stderr, "igraph_create failed\n");
        return 1;
    }
    double t2 = now_s();
    printf("vertices=%ld edges=%ld read_s=%.6f create_s=%.6f hwm_kib=%ld\n", (long) igraph_vcount(&g),
           (long) igraph_ecount(&g), t1 - t0, t2 - t1, tn_bench_status_kib("VmHWM"));
    igraph_destroy(&g);
    igraph_vector_int_destroy(&edges);
    return 0;
}
