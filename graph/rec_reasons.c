/*
 * rec_reasons.c -- the plain words of a recommendation: each reason names
 * the concrete evidence behind one term of the score (recommend.h), e.g.
 * "partner of Wuhan and Nanchang in China", "Kenya: not yet covered by
 * Hunan; 12 pairs between China and Kenya".
 */
#include "recommend.h"

#include <stdio.h>
#include <string.h>

/* The display name of the country with code 'code' (the code if none). */
static const char *country_name(const tn_snap_t *s, const char *code) {
    int64_t c = code ? tn_snap_find(s, code) : -1;
    return c >= 0 ? tn_q_name(s->nodes[c]) : code ? code : "?";
}

/* Append "A", "A and B", "A, B and C" or "A, B, C and N more" to buf for
 * the vertices in v (-1 terminated, at most TN_REC_EVIDENCE), of 'total'. */
static void name_list(const tn_snap_t *s, const int64_t *v, int64_t total, char *buf,
                      size_t cap) {
    int n = 0;
    while (n < TN_REC_EVIDENCE && v[n] >= 0)
        n++;
    size_t len = strlen(buf);
    for (int i = 0; i < n && len < cap; i++) {
        const char *sep = i == 0 ? "" : (i == n - 1 && total <= n) ? " and " : ", ";
        snprintf(buf + len, cap - len, "%s%s", sep, tn_q_name(s->nodes[v[i]]));
        len = strlen(buf);
    }
    if (total > n && len < cap)
        snprintf(buf + len, cap - len, " and %lld more", (long long) (total - n));
}

int tn_rec_reasons(const tn_snap_t *s, int64_t u, int64_t home, const tn_rec_item_t *it,
                   tn_val_t *arr) {
    char buf[512];
    const char *uname = tn_q_name(s->nodes[u]);
    const char *xname = country_name(s, tn_q_country(s, u));
    const char *yname = country_name(s, tn_q_country(s, it->v));
    const char *hname = home >= 0 ? tn_q_name(s->nodes[home]) : uname;
    int rc = 0;

    if (it->peers > TN_REC_EVIDENCE) {
        snprintf(buf, sizeof buf, "partner of %lld places in %s, among them ",
                 (long long) it->peers, xname);
        name_list(s, it->peer_v, TN_REC_EVIDENCE, buf, sizeof buf);
        rc |= tn_arr_push_str(arr, buf);
    } else if (it->peers > 0) {
        snprintf(buf, sizeof buf, "partner of ");
        name_list(s, it->peer_v, it->peers, buf, sizeof buf);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " in %s", xname);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (it->shared > 0) {
        snprintf(buf, sizeof buf, "shares %lld partner%s with %s: ", (long long) it->shared,
                 it->shared == 1 ? "" : "s", uname);
        name_list(s, it->shared_v, it->shared, buf, sizeof buf);
        rc |= tn_arr_push_str(arr, buf);
    } else if (it->paths3 > 0 && it->via[0] >= 0
               && TN_REC_W_L3 * it->l3 >= 0.1 * (it->ra + TN_REC_W_L3 * it->l3
                                                 + TN_REC_W_PRIOR * it->prior)) {
        /* Named only when the paths carry a tenth of the score or more: a
         * single path through two hubs is true but says little. */
        snprintf(buf, sizeof buf, "three steps from %s by %lld path%s, e.g. through %s and %s",
                 uname, (long long) it->paths3, it->paths3 == 1 ? "" : "s",
                 tn_q_name(s->nodes[it->via[0]]), tn_q_name(s->nodes[it->via[1]]));
        rc |= tn_arr_push_str(arr, buf);
    }
    if (it->gap)
        snprintf(buf, sizeof buf, "%s: not yet covered by %s", yname, hname);
    else
        snprintf(buf, sizeof buf, "%s: %s has %lld pair%s there", yname, hname,
                 (long long) it->home_pairs, it->home_pairs == 1 ? "" : "s");
    if (it->country_pairs > 0)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
                 "; %lld pair%s between %s and %s (%.1f%% of %s's pairs abroad)",
                 (long long) it->country_pairs, it->country_pairs == 1 ? "" : "s", xname, yname,
                 100.0 * (double) it->country_pairs / (double) it->abroad, xname);
    else
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "; no pair between %s and %s yet",
                 xname, yname);
    rc |= tn_arr_push_str(arr, buf);
    if (it->bri) {
        snprintf(buf, sizeof buf, "%s is a Belt and Road partner", yname);
        rc |= tn_arr_push_str(arr, buf);
    }
    if (it->peers == 0 && it->shared == 0 && it->paths3 == 0)
        rc |= tn_arr_push_str(arr, "no link to the unit's network yet: ranked by its country's "
                                   "ties and its own partnerships");
    return rc;
}
