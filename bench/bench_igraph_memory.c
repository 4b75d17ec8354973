/*
 * bench_igraph_memory.c -- what the same graph costs in igraph itself: the
 * reference bench/run's scale table holds twinnetd's memory per pair
 * against. Builds the graph with igraph_create, then attaches the fields
 * twinnetd keeps as igraph's C attributes (strings as igraph_strvector_t,
 * numbers as igraph_vector_t), and measures resident memory (VmRSS) at
 * each step, relative to the process before it read anything.
 *
 *   bench_igraph_memory FILE
 *
 * FILE is tab-separated text that bench/run writes:
 *
 *   V E
 *   id kind name country parent lat lon     (V vertex lines)
 *   a b kind since confidence               (E edge lines; a, b vertex indices)
 *
 * An empty field is absent: "" for a string, NaN for a number. Prints one
 * line of key=value figures: vertices, edges, graph_kib (igraph_t alone),
 * attrs_kib (igraph_t plus the attributes), heap_graph_kib and
 * heap_attrs_kib (the same as bytes malloc has handed out, which ignore
 * page granularity and fragmentation). The inputs are freed and the heap
 * trimmed before each measurement, so what remains is igraph's. Not run
 * by ctest.
 */
#define _GNU_SOURCE
#include <igraph.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc_status.h"

#define NV_STR 5   /* id kind name country parent */
#define NV_NUM 2   /* lat lon */
#define NE_STR 2   /* kind confidence */

static const char *const v_str_names[NV_STR] = { "id", "kind", "name", "country", "parent" };
static const char *const v_num_names[NV_NUM] = { "lat", "lon" };
static const char *const e_str_names[NE_STR] = { "kind", "confidence" };

static long heap_kib(void) {
    malloc_trim(0);
    return (long) (mallinfo2().uordblks / 1024);
}

static void die(const char *what) {
    fprintf(stderr, "bench_igraph_memory: %s\n", what);
    exit(1);
}

/* Split line (its newline removed) at tabs into at most n fields; the
 * rest are empty. */
static void split_tabs(char *line, char **fields, int n) {
    line[strcspn(line, "\n")] = '\0';
    for (int i = 0; i < n; i++) {
        fields[i] = line;
        char *tab = line ? strchr(line, '\t') : NULL;
        if (tab)
            *tab = '\0';
        line = tab ? tab + 1 : NULL;
        if (fields[i] == NULL)
            fields[i] = "";
    }
}

static double number_or_nan(const char *s) {
    return *s ? strtod(s, NULL) : NAN;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_igraph_memory FILE\n");
        return 2;
    }
    igraph_set_attribute_table(&igraph_cattribute_table);
    long base_rss = tn_bench_status_kib("VmRSS"), base_heap = heap_kib();
    FILE *f = fopen(argv[1], "r");
    long nv, ne;
    if (f == NULL || fscanf(f, "%ld %ld\n", &nv, &ne) != 2 || nv < 0 || ne < 0)
        die("cannot read the counts");
    char *line = NULL;
    size_t cap = 0;
    char *fld[7];

    /* Pass 1: the structure alone. */
    for (long i = 0; i < nv; i++)
        if (getline(&line, &cap, f) < 0)
            die("short vertex section");
    igraph_vector_int_t edges;
    if (igraph_vector_int_init(&edges, 2 * ne) != IGRAPH_SUCCESS)
        die("out of memory");
    for (long i = 0; i < ne; i++) {
        if (getline(&line, &cap, f) < 0)
            die("short edge section");
        split_tabs(line, fld, 2);
        long a = strtol(fld[0], NULL, 10), b = strtol(fld[1], NULL, 10);
        if (a < 0 || b < 0 || a >= nv || b >= nv)
            die("vertex out of range");
        VECTOR(edges)[2 * i] = a;
        VECTOR(edges)[2 * i + 1] = b;
    }
    igraph_t g;
    if (igraph_create(&g, &edges, (igraph_integer_t) nv, IGRAPH_UNDIRECTED) != IGRAPH_SUCCESS)
        die("igraph_create failed");
    igraph_vector_int_destroy(&edges);
    long graph_heap = heap_kib() - base_heap, graph_rss = tn_bench_status_kib("VmRSS") - base_rss;

    /* Pass 2: the attributes, read into vectors, attached (igraph copies
     * them), and the read vectors freed. */
    rewind(f);
    if (getline(&line, &cap, f) < 0)
        die("cannot reread");
    igraph_strvector_t vs[NV_STR], es[NE_STR];
    igraph_vector_t vn[NV_NUM], en;
    for (int k = 0; k < NV_STR; k++)
        igraph_strvector_init(&vs[k], nv);
    for (int k = 0; k < NV_NUM; k++)
        igraph_vector_init(&vn[k], nv);
    for (int k = 0; k < NE_STR; k++)
        igraph_strvector_init(&es[k], ne);
    igraph_vector_init(&en, ne);
    for (long i = 0; i < nv; i++) {
        if (getline(&line, &cap, f) < 0)
            die("short vertex section");
        split_tabs(line, fld, NV_STR + NV_NUM);
        for (int k = 0; k < NV_STR; k++)
            igraph_strvector_set(&vs[k], i, fld[k]);
        for (int k = 0; k < NV_NUM; k++)
            VECTOR(vn[k])[i] = number_or_nan(fld[NV_STR + k]);
    }
    for (long i = 0; i < ne; i++) {
        if (getline(&line, &cap, f) < 0)
            die("short edge section");
        split_tabs(line, fld, 5);
        igraph_strvector_set(&es[0], i, fld[2]);
        VECTOR(en)[i] = number_or_nan(fld[3]);
        igraph_strvector_set(&es[1], i, fld[4]);
    }
    fclose(f);
    free(line);
    for (int k = 0; k < NV_STR; k++) {
        igraph_cattribute_VAS_setv(&g, v_str_names[k], &vs[k]);
        igraph_strvector_destroy(&vs[k]);
    }
    for (int k = 0; k < NV_NUM; k++) {
        igraph_cattribute_VAN_setv(&g, v_num_names[k], &vn[k]);
        igraph_vector_destroy(&vn[k]);
    }
    for (int k = 0; k < NE_STR; k++) {
        igraph_cattribute_EAS_setv(&g, e_str_names[k], &es[k]);
        igraph_strvector_destroy(&es[k]);
    }
    igraph_cattribute_EAN_setv(&g, "since", &en);
    igraph_vector_destroy(&en);
    long attrs_heap = heap_kib() - base_heap, attrs_rss = tn_bench_status_kib("VmRSS") - base_rss;

    printf("vertices=%ld edges=%ld graph_kib=%ld attrs_kib=%ld heap_graph_kib=%ld heap_attrs_kib=%ld\n",
           (long) igraph_vcount(&g), (long) igraph_ecount(&g), graph_rss, attrs_rss, graph_heap,
           attrs_heap);
    igraph_destroy(&g);
    return 0;
}
