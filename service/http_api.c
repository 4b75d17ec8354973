/*
 * http_api.c -- GET /api/<method>?<option>=<value>...: a read method called
 * through the dispatcher, answered with the same JSON result its RPC call
 * returns.
 *
 * Which methods: every registry entry whose least role is at most "read"
 * (the registry is the list; there is none here). Methods that change the
 * graph or need admin are refused with 403: the port is read-only, and the
 * HTTP caller has the read role whatever its token, so the dispatcher's own
 * role check would refuse them too.
 *
 * Query strings carry no types: each value is converted to the type the
 * method's option schema gives that option (a string stays a string even
 * when it looks like a number); options the schema does not type, or does
 * not know, are read as the scalar they spell (true/false, an integer, a
 * decimal number, else a string). A key given more than once becomes a
 * list. The dispatcher then validates the options as for RPC.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "codec.h"
#include "dispatch.h"
#include "http_internal.h"
#include "registry.h"
#include "reply.h"

#define API_MAX_OPTIONS 64

/* ---- the caller ---- */

/* Where an answer goes: a gauge caller takes v (NULL for an error) here
 * and 0 is returned; else whether a request still waits for it. */
static int waiting(http_caller_t *hc, const tn_val_t *v) {
    if (hc->gauge >= 0) {
        if (hc->h)
            tn_http_gauge_answer(hc->h, hc->gauge, v);
        return 0;
    }
    return hc->req != NULL;
}

/* The request has its answer: nothing more goes to it. */
static void answered(http_caller_t *hc) {
    hc->req = NULL;
    hc->base.closed = 1;
}

static void answer_error(http_caller_t *hc, tn_code_t code, const char *message) {
    if (!waiting(hc, NULL))
        return;
    tn_http_send_error(hc->req, code, message);
    answered(hc);
}

static void answer_json(http_caller_t *hc, const tn_val_t *v) {
    if (!waiting(hc, v))
        return;
    char *json = tn_val_to_json(v);
    if (json == NULL) {
        tn_http_send_error(hc->req, TN_ERR_INTERNAL, "out of memory");
    } else {
        tn_http_send(hc->req, 200, "application/json", json, strlen(json));
        free(json);
    }
    answered(hc);
}

static void op_result(tn_caller_t *c, uint32_t msgid, const tn_val_t *result) {
    (void) msgid;
    answer_json((http_caller_t *) c, result);
}

static void op_result_encoded(tn_caller_t *c, uint32_t msgid, const char *enc, size_t len) {
    (void) msgid;
    http_caller_t *hc = (http_caller_t *) c;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    if (tn_codec_decode((const uint8_t *) enc, len, &v, &err) == TN_OK)
        answer_json(hc, &v);
    else
        answer_error(hc, TN_ERR_INTERNAL, "cannot decode the cached answer");
    tn_val_free(&v);
    tn_error_clear(&err);
}

static void op_error(tn_caller_t *c, uint32_t msgid, const tn_error_t *err) {
    (void) msgid;
    answer_error((http_caller_t *) c, err->code, err->message);
}

static void op_destroy(tn_caller_t *c) {
    http_caller_t *hc = (http_caller_t *) c;
    if (hc->h != NULL) {
        if (hc->prev)
            hc->prev->next = hc->next;
        else
            hc->h->callers = hc->next;
        if (hc->next)
            hc->next->prev = hc->prev;
    }
    free(hc);
}

/* No notifications (use /events), no flow control, nothing to pause. */
static const tn_caller_ops_t http_ops = {
    op_result, op_result_encoded, op_error, NULL, NULL, NULL, NULL, NULL, op_destroy };

http_caller_t *tn_http_caller_new(tn_http_t *h, struct evhttp_request *req, int gauge) {
    http_caller_t *hc = calloc(1, sizeof *hc);
    if (hc == NULL)
        return NULL;
    hc->base.ops = &http_ops;
    hc->base.srv = h->srv;
    hc->base.refs = 1;
    /* Read-only whatever the token: the port never changes anything. */
    hc->base.role = TN_ROLE_READ;
    hc->base.role_name = tn_role_name(TN_ROLE_READ);
    snprintf(hc->base.token_name, sizeof hc->base.token_name, "http");
    snprintf(hc->base.peer, sizeof hc->base.peer, "http");
    if (req != NULL) {
        char *host = NULL;
        ev_uint16_t port = 0;
        hc->evcon = evhttp_request_get_connection(req);
        evhttp_connection_get_peer(hc->evcon, &host, &port);
        if (host)
            snprintf(hc->base.peer, sizeof hc->base.peer, "%s:%u (http)", host, (unsigned) port);
    }
    hc->h = h;
    hc->req = req;
    hc->gauge = gauge;
    hc->next = h->callers;
    if (h->callers)
        h->callers->prev = hc;
    h->callers = hc;
    return hc;
}

void tn_http_callers_gone(tn_http_t *h, struct evhttp_connection *evcon) {
    for (http_caller_t *hc = h->callers, *next; hc; hc = next) {
        next = hc->next;
        if (hc->evcon != evcon || hc->base.closed)
            continue;
        if (hc->req != NULL && evhttp_request_get_connection(hc->req) == NULL)
            evhttp_request_free(hc->req);     /* detached by evhttp: ours to free */
        hc->req = NULL;
        hc->base.closed = 1;
        tn_caller_retain(&hc->base);
        tn_dispatch_caller_gone(h->srv, &hc->base);     /* stops its jobs */
        next = hc->next;
        tn_caller_release(&hc->base);
    }
}

/* ---- options from the query string ---- */

/* A value as the scalar it spells. */
static int scalar(const char *s, tn_val_t *out) {
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        *out = tn_val_bool(s[0] == 't');
        return 0;
    }
    if (*s != '\0') {
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (*end == '\0' && errno == 0) {
            *out = tn_val_int(i);
            return 0;
        }
        errno = 0;
        double d = strtod(s, &end);
        /* Only plain decimals: "nan", "inf" and hex floats stay strings. */
        if (*end == '\0' && errno == 0 && isfinite(d) && strpbrk(s, "xXnNiI") == NULL) {
            *out = tn_val_float(d);
            return 0;
        }
    }
    return tn_val_set_str(out, s);
}

/* A value as the schema types option 'key'. */
static int typed(const tn_opt_spec_t *schema, const char *key, const char *s, tn_val_t *out) {
    for (const tn_opt_spec_t *o = schema; o && o->name; o++) {
        if (strcmp(o->name, key) != 0)
            continue;
        if (o->type == TN_OT_STR || o->type == TN_OT_ENUM)
            return tn_val_set_str(out, s);
        break;              /* numbers and booleans: as spelled (a bad one stays a string) */
    }
    return scalar(s, out);
}

static tn_code_t parse_options(const tn_method_t *m, const char *query, tn_val_t *opts,
                               tn_error_t *err) {
    if (tn_val_set_map(opts, 8) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    if (query == NULL || *query == '\0')
        return TN_OK;
    struct evkeyvalq kv;
    kv.tqh_first = NULL;
    kv.tqh_last = &kv.tqh_first;
    if (evhttp_parse_query_str(query, &kv) != 0) {
        evhttp_clear_headers(&kv);
        return tn_error_set(err, TN_ERR_INVALID_PARAMS, "malformed query string");
    }
    size_t count = 0;
    tn_code_t rc = TN_OK;
    for (struct evkeyval *e = kv.tqh_first; e && rc == TN_OK; e = e->next.tqe_next) {
        if (++count > API_MAX_OPTIONS) {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "more than %d options", API_MAX_OPTIONS);
            break;
        }
        if (e->key[0] == '\0') {
            rc = tn_error_set(err, TN_ERR_INVALID_PARAMS, "an option without a name");
            break;
        }
        tn_val_t v = TN_VAL_NIL;
        if (typed(m->opts, e->key, e->value, &v) != 0) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
            break;
        }
        tn_val_t *have = NULL;
        for (size_t i = 0; i < opts->u.m.n; i++)
            if (strcmp(opts->u.m.kv[i].key, e->key) == 0)
                have = &opts->u.m.kv[i].val;
        int bad = 0;
        if (have == NULL) {
            bad = tn_map_add_take(opts, e->key, &v);
        } else {
            /* A repeated key: a list of every value, in order (values are
             * scalars, so an array here is one we made). */
            if (have->type != TN_V_ARR) {
                tn_val_t first = *have, arr = TN_VAL_NIL;
                *have = TN_VAL_NIL;
                bad = tn_val_set_arr(&arr, 4) | tn_arr_push_take(&arr, &first);
                *have = arr;
            }
            bad |= tn_arr_push_take(have, &v);
        }
        if (bad)
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    evhttp_clear_headers(&kv);
    /* A single value of a list option is a list of one. */
    for (size_t i = 0; rc == TN_OK && i < opts->u.m.n; i++)
        for (const tn_opt_spec_t *o = m->opts; o && o->name; o++)
            if (o->type == TN_OT_ARR && strcmp(o->name, opts->u.m.kv[i].key) == 0
                && opts->u.m.kv[i].val.type != TN_V_ARR) {
                tn_val_t one = opts->u.m.kv[i].val, arr = TN_VAL_NIL;
                opts->u.m.kv[i].val = TN_VAL_NIL;
                if ((tn_val_set_arr(&arr, 1) | tn_arr_push_take(&arr, &one)) != 0)
                    rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
                opts->u.m.kv[i].val = arr;
            }
    return rc;
}

/* ---- the request ---- */

void tn_http_api(tn_http_t *h, struct evhttp_request *req, const char *name, const char *query) {
    tn_server_t *srv = h->srv;
    uint64_t t0 = tn_now_ns();
    const tn_method_t *m = tn_registry_find(name);
    tn_error_t err = TN_ERROR_INIT;
    http_caller_t *hc = tn_http_caller_new(h, req, -1);
    if (hc == NULL) {
        tn_http_send_error(req, TN_ERR_INTERNAL, "out of memory");
        return;
    }
    tn_call_t call = { &hc->base, 0, t0, &srv->stats, m ? m->name : NULL };
    if (m == NULL) {
        tn_reply_code(&call, TN_ERR_METHOD_NOT_FOUND, "no method %.64s", name);
    } else if (m->role > TN_ROLE_READ) {
        tn_reply_code(&call, TN_ERR_FORBIDDEN, "%s is not a read method; the HTTP port is read-only",
                      m->name);
    } else {
        tn_val_t opts = TN_VAL_NIL;
        if (parse_options(m, query, &opts, &err) != TN_OK)
            tn_reply_error(&call, &err);
        else
            tn_dispatch_call(srv, &hc->base, 0, m->name, &opts, t0);
        tn_val_free(&opts);
        tn_error_clear(&err);
    }
    tn_caller_release(&hc->base);    /* a job in flight holds its own */
}
