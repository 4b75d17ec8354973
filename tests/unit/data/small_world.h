/*
 * small_world.h -- a hand-checkable dataset for the graph/ query tests, and
 * helpers to build a snapshot from JSON and call a query by wire name.
 *
 * The world (home CN-430000 Hunan; units Hunan, Changsha, Zhuzhou,
 * Xiangtan, Yueyang):
 *   countries  CN Asia/Eastern Asia, JP Asia/Eastern Asia, US Americas/
 *              Northern America, BR Americas/South America [bri],
 *              FR Europe/Western Europe [bri, eu], DE Europe/Western
 *              Europe [eu], KE Africa/Eastern Africa [bri]
 *   P1 CN-430000 - JP-shiga    sister   1983
 *   P2 CN-430100 - US-stpaul   sister   1988
 *   P3 CN-430600 - JP-otsu     friendly 2005  medium
 *   P4 CN-430200 - FR-lyon     sister   undated low
 *   P5 CN-440100 - FR-lyon     sister   1990
 *   P6 CN-440100 - KE-nairobi  friendly 2010
 *   P7 CN-430100 - CN-440100   sister   2000  (domestic)
 *   P8 CN-430100 - JP-otsu     sister   "1995-06"
 * Hand-computed answers are in the tests that use it.
 */
#ifndef TN_SMALL_WORLD_H
#define TN_SMALL_WORLD_H

#include <stdio.h>
#include <string.h>

#include "model.h"
#include "query.h"
#include "snap.h"
#include "value.h"

static const char small_world_json[] =
    "{\"nodes\": ["
    "{\"id\":\"CN\",\"kind\":\"country\",\"name\":\"China\",\"region\":\"Asia\",\"subregion\":\"Eastern Asia\"},"
    "{\"id\":\"JP\",\"kind\":\"country\",\"name\":\"Japan\",\"region\":\"Asia\",\"subregion\":\"Eastern Asia\"},"
    "{\"id\":\"US\",\"kind\":\"country\",\"name\":\"United States\",\"region\":\"Americas\",\"subregion\":\"Northern America\"},"
    "{\"id\":\"BR\",\"kind\":\"country\",\"name\":\"Brazil\",\"region\":\"Americas\",\"subregion\":\"South America\",\"tags\":[\"bri\"]},"
    "{\"id\":\"FR\",\"kind\":\"country\",\"name\":\"France\",\"region\":\"Europe\",\"subregion\":\"Western Europe\",\"tags\":[\"bri\",\"eu\"]},"
    "{\"id\":\"DE\",\"kind\":\"country\",\"name\":\"Germany\",\"region\":\"Europe\",\"subregion\":\"Western Europe\",\"tags\":[\"eu\"]},"
    "{\"id\":\"KE\",\"kind\":\"country\",\"name\":\"Kenya\",\"region\":\"Africa\",\"subregion\":\"Eastern Africa\",\"tags\":[\"bri\"]},"
    "{\"id\":\"CN-430000\",\"kind\":\"province\",\"name\":\"Hunan\",\"name_zh\":\"\xe6\xb9\x96\xe5\x8d\x97\xe7\x9c\x81\",\"country\":\"CN\"},"
    "{\"id\":\"CN-440000\",\"kind\":\"province\",\"name\":\"Guangdong\",\"country\":\"CN\"},"
    "{\"id\":\"JP-shiga\",\"kind\":\"province\",\"name\":\"Shiga\",\"country\":\"JP\"},"
    "{\"id\":\"CN-430100\",\"kind\":\"city\",\"name\":\"Changsha\",\"name_zh\":\"\xe9\x95\xbf\xe6\xb2\x99\",\"country\":\"CN\",\"parent\":\"CN-430000\"},"
    "{\"id\":\"CN-430200\",\"kind\":\"city\",\"name\":\"Zhuzhou\",\"country\":\"CN\",\"parent\":\"CN-430000\"},"
    "{\"id\":\"CN-430300\",\"kind\":\"city\",\"name\":\"Xiangtan\",\"country\":\"CN\",\"parent\":\"CN-430000\"},"
    "{\"id\":\"CN-430600\",\"kind\":\"city\",\"name\":\"Yueyang\",\"country\":\"CN\",\"parent\":\"CN-430000\"},"
    "{\"id\":\"CN-440100\",\"kind\":\"city\",\"name\":\"Guangzhou\",\"country\":\"CN\",\"parent\":\"CN-440000\"},"
    "{\"id\":\"JP-otsu\",\"kind\":\"city\",\"name\":\"Otsu\",\"country\":\"JP\",\"parent\":\"JP-shiga\"},"
    "{\"id\":\"US-stpaul\",\"kind\":\"city\",\"name\":\"Saint Paul\",\"country\":\"US\"},"
    "{\"id\":\"FR-lyon\",\"kind\":\"city\",\"name\":\"Lyon\",\"country\":\"FR\"},"
    "{\"id\":\"KE-nairobi\",\"kind\":\"city\",\"name\":\"Nairobi\",\"country\":\"KE\"},"
    "{\"id\":\"DE-munich\",\"kind\":\"city\",\"name\":\"Munich\",\"country\":\"DE\"}"
    "], \"pairs\": ["
    "{\"a\":\"CN-430000\",\"b\":\"JP-shiga\",\"since\":1983},"
    "{\"a\":\"CN-430100\",\"b\":\"US-stpaul\",\"since\":1988},"
    "{\"a\":\"CN-430600\",\"b\":\"JP-otsu\",\"kind\":\"friendly\",\"since\":2005,\"confidence\":\"medium\"},"
    "{\"a\":\"FR-lyon\",\"b\":\"CN-430200\",\"confidence\":\"low\"},"
    "{\"a\":\"CN-440100\",\"b\":\"FR-lyon\",\"since\":\"1990\"},"
    "{\"a\":\"CN-440100\",\"b\":\"KE-nairobi\",\"kind\":\"friendly\",\"since\":2010},"
    "{\"a\":\"CN-430100\",\"b\":\"CN-440100\",\"since\":2000},"
    "{\"a\":\"JP-otsu\",\"b\":\"CN-430100\",\"since\":\"1995-06\"}"
    "]}";

/* Parse JSON text into a value; nil on error (a test bug). */
static inline tn_val_t sw_json(const char *text) {
    tn_val_t v = TN_VAL_NIL;
    char why[128];
    if (tn_val_from_json(text, strlen(text), &v, why, sizeof why) != 0)
        fprintf(stderr, "bad test JSON: %s\n", why);
    return v;
}

/* A built snapshot of the model made by import.batch of 'batch_json' with
 * home 'home' and optional dataset notes 'meta_json'; NULL on failure. */
static inline tn_snap_t *sw_snap_from(const char *batch_json, const char *home, const char *meta_json) {
    tn_model_t *m = tn_model_new(home);
    tn_val_t batch = sw_json(batch_json), res = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_snap_t *s = NULL;
    if (tn_model_apply(m, TN_CHANGE_BATCH, &batch, &res, &err) != TN_OK) {
        fprintf(stderr, "import failed: %s\n", err.message);
        goto out;
    }
    if (meta_json != NULL) {
        tn_val_t meta = sw_json(meta_json);
        tn_model_set_meta(m, &meta);
        tn_val_free(&meta);
    }
    s = tn_snap_new(m);
    if (s != NULL && tn_snap_build(s, &err) != TN_OK) {
        fprintf(stderr, "build failed: %s\n", err.message);
        tn_snap_release(s);
        s = NULL;
    }
out:
    tn_val_free(&batch);
    tn_val_free(&res);
    tn_error_clear(&err);
    tn_model_free(m);          /* the snapshot keeps its own references */
    return s;
}

static inline tn_snap_t *sw_snap(void) {
    return sw_snap_from(small_world_json, NULL, NULL);
}

/* Run query 'name' with options 'opts_json' (NULL = no options). Returns
 * the code; *out holds the result (nil on error), err the message. */
static inline tn_code_t sw_query(const tn_snap_t *s, const char *name, const char *opts_json,
                          const tn_qctx_t *ctx, tn_val_t *out, tn_error_t *err) {
    const tn_query_def_t *q = tn_query_find(name);
    tn_val_t opts = opts_json ? sw_json(opts_json) : TN_VAL_NIL;
    tn_code_t rc;
    tn_error_clear(err);
    rc = tn_query_run(q, s, opts_json ? &opts : NULL, ctx, out, err);
    tn_val_free(&opts);
    return rc;
}

/* Path helpers into a result: sw_get(v, "home", "units", NULL). */
static inline const tn_val_t *sw_at(const tn_val_t *v, size_t i) {
    return v && v->type == TN_V_ARR && i < v->u.a.n ? &v->u.a.items[i] : NULL;
}

static inline int64_t sw_int(const tn_val_t *v) {
    int64_t i = -999999;
    if (v == NULL || !tn_val_as_int(v, &i))
        return -999999;
    return i;
}

static inline double sw_num(const tn_val_t *v) {
    double d = -999999.0;
    if (v == NULL || !tn_val_as_num(v, &d))
        return -999999.0;
    return d;
}

static inline size_t sw_len(const tn_val_t *v) {
    return v && v->type == TN_V_ARR ? v->u.a.n : (size_t) -1;
}

#endif
