/*
 * import_check.c -- the local checks of `twinnet import`, made before
 * anything is sent: each record's fields (graph/record.c) and duplicate
 * node ids and pairs across all files. References (countries, parents,
 * pair ends) are the server's to check.
 */
#include <stdlib.h>
#include <string.h>

#include "import.h"
#include "record.h"

void tn_cli_import_check(tn_cli_import_set_t *S, char *nok, char *pok, tn_hmap_t *bad_ids) {
    tn_hmap_t seen;
    size_t nn = S->nodes.u.a.n, np = S->pairs.u.a.n;
    char **keys = calloc((nn + np) ? nn + np : 1, sizeof *keys);
    if (keys == NULL)
        tn_cli_die_oom();
    tn_hmap_init(&seen);
    if (tn_hmap_reserve(&seen, nn > np ? nn : np) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < nn; i++) {
        const tn_val_t *v = &S->nodes.u.a.items[i];
        tn_node_t *n = NULL;
        tn_error_t e = TN_ERROR_INIT;
        nok[i] = 1;
        if (tn_node_from_val(v, (int64_t) i, &n, &e) != TN_OK) {
            if (e.code == TN_ERR_INTERNAL)
                tn_cli_die_oom();
            tn_cli_import_details(S, S->nloc[i].file, S->nloc[i].line, &e);
            tn_error_clear(&e);
            nok[i] = 0;
            const char *id = tn_val_str(tn_map_get(v, "id"));
            if (id && tn_hmap_put(bad_ids, id, i) != 0)
                tn_cli_die_oom();
            continue;
        }
        size_t first;
        if (tn_hmap_get(&seen, n->id, &first)) {
            tn_cli_import_problem(S, S->nloc[i].file, S->nloc[i].line, "id", "duplicate node id %s (first at %s:%lld)",
                                  n->id, S->files[S->nloc[first].file], (long long) S->nloc[first].line);
            nok[i] = 0;
        } else {
            if ((keys[i] = strdup(n->id)) == NULL || tn_hmap_put(&seen, keys[i], i) != 0)
                tn_cli_die_oom();
        }
        tn_node_release(n);
    }
    tn_hmap_destroy(&seen);
    tn_hmap_init(&seen);
    if (tn_hmap_reserve(&seen, np) != 0)
        tn_cli_die_oom();
    for (size_t i = 0; i < np; i++) {
        tn_pair_t *p = NULL;
        tn_error_t e = TN_ERROR_INIT;
        pok[i] = 1;
        if (tn_pair_from_val(&S->pairs.u.a.items[i], (int64_t) i, &p, &e) != TN_OK) {
            if (e.code == TN_ERR_INTERNAL)
                tn_cli_die_oom();
            tn_cli_import_details(S, S->ploc[i].file, S->ploc[i].line, &e);
            tn_error_clear(&e);
            pok[i] = 0;
            continue;
        }
        size_t first;
        if (tn_hmap_get(&seen, p->key, &first)) {
            tn_cli_import_problem(S, S->ploc[i].file, S->ploc[i].line, "pair",
                                  "duplicate pair %s - %s (first at %s:%lld)", p->a, p->b,
                                  S->files[S->ploc[first].file], (long long) S->ploc[first].line);
            pok[i] = 0;
        } else {
            if ((keys[nn + i] = strdup(p->key)) == NULL || tn_hmap_put(&seen, keys[nn + i], i) != 0)
                tn_cli_die_oom();
        }
        tn_pair_release(p);
    }
    tn_hmap_destroy(&seen);
    for (size_t i = 0; i < nn + np; i++)
        free(keys[i]);
    free(keys);
}
