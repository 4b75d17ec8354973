/*
 * proc_status.h -- one figure of /proc/self/status for the bench programs
 * that measure igraph's memory (bench_igraph_create, bench_igraph_memory).
 * A header so that each stays one self-contained executable.
 */
#ifndef TN_BENCH_PROC_STATUS_H
#define TN_BENCH_PROC_STATUS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value in KiB of the line starting "field:" (such as "VmRSS"), or -1. */
static inline long tn_bench_status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t n = strlen(field);
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

#endif
