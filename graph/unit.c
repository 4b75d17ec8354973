/*
 * unit.c -- the unit every planning query works for: any province or city
 * node (not only the configured home), whose units are itself and its
 * descendants and whose pairs are those leaving its country.
 */
#include "planning.h"
#include "query_internal.h"

tn_code_t tn_q_unit_init(const tn_snap_t *s, const char *id, const char *field, tn_q_home_t *h,
                         tn_error_t *err) {
    if (id != NULL) {
        int64_t v = tn_snap_find(s, id);
        if (v < 0)
            return tn_error_set(err, TN_ERR_NOT_FOUND, "no node '%s' (%s)", TN_CLIP(id, 128), field);
        if (s->nodes[v]->kind == TN_NODE_COUNTRY)
            return tn_error_set(err, TN_ERR_INVALID_PARAMS,
                                "%s: '%s' is a country; a province or city is expected", field,
                                TN_CLIP(id, 128));
    }
    return tn_q_home_init(s, id, h, err);
}
