/*
 * registry.c -- the method registry (registry.h): the entries of every
 * method that is not a read query, in the protocol's order, with the read
 * queries of graph/'s table placed where the protocol lists them.
 */
#include "registry.h"

#include <pthread.h>
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "imports.h"

#define ANY   TN_ROLE_NONE
#define READ  TN_ROLE_READ
#define WRITE TN_ROLE_WRITE
#define ADMIN TN_ROLE_ADMIN


static const tn_opt_spec_t o_none[] = { TN_OPT_END };
static const tn_opt_spec_t o_auth[] = { TN_OPT_ANY("token", 0), TN_OPT_END };
static const tn_opt_spec_t o_audit[] = {
    TN_OPT_INT("from_ms", 0, 0, INT64_MAX, NULL), TN_OPT_INT("to_ms", 0, 0, INT64_MAX, NULL),
    TN_OPT_STR("node", 0, NULL), TN_OPT_STR("method", 0, NULL), TN_OPT_STR("token", 0, NULL),
    TN_OPT_INT("limit", 0, 1, 10000, "100"), TN_OPT_INT("offset", 0, 0, INT64_MAX, "0"),
    TN_OPT_END };
static const tn_opt_spec_t o_node_upsert[] = { TN_OPT_ANY("node", TN_OF_REQUIRED), TN_OPT_END };
static const tn_opt_spec_t o_node_delete[] = {
    TN_OPT_ANY("id", TN_OF_REQUIRED), TN_OPT_ANY("cascade", 0), TN_OPT_END };
static const tn_opt_spec_t o_pair_upsert[] = { TN_OPT_ANY("pair", TN_OF_REQUIRED), TN_OPT_END };
static const tn_opt_spec_t o_pair_delete[] = {
    TN_OPT_ANY("a", TN_OF_REQUIRED), TN_OPT_ANY("b", TN_OF_REQUIRED), TN_OPT_END };
static const tn_opt_spec_t o_batch[] = {
    TN_OPT_ANY("nodes", 0), TN_OPT_ANY("pairs", 0), TN_OPT_ANY("mode", 0),
    TN_OPT_ANY("dry_run", 0), TN_OPT_END };
static const tn_opt_spec_t o_ibegin[] = {
    TN_OPT_ANY("mode", 0), TN_OPT_ANY("dry_run", 0), TN_OPT_ANY("total", 0),
    TN_OPT_ANY("progress", 0), TN_OPT_END };
static const tn_opt_spec_t o_ichunk[] = {
    TN_OPT_ANY("import", TN_OF_REQUIRED), TN_OPT_ANY("nodes", 0), TN_OPT_ANY("pairs", 0),
    TN_OPT_END };
static const tn_opt_spec_t o_itoken[] = { TN_OPT_ANY("import", TN_OF_REQUIRED), TN_OPT_END };

static tn_method_fn m_server_methods;

#define INLINE(n, role, o, fn, d)  { n, role, TN_MK_INLINE, o, 0, d, fn, NULL, 0 }
#define IMPORT(n, o, fn, d)        { n, WRITE, TN_MK_IMPORT, o, 0, d, fn, NULL, 0 }
#define CHANGE(n, o, kind, d)      { n, WRITE, TN_MK_CHANGE, o, 0, d, NULL, NULL, kind }
#define READS                      { NULL, READ, TN_MK_QUERY, NULL, 0, NULL, NULL, NULL, 0 }

/* The protocol's order; READS stands for graph/'s read queries. */
static const tn_method_t entries[] = {
    INLINE("server.ping", ANY, o_none, tn_m_server_ping, "liveness check: answers \"pong\""),
    INLINE("auth", ANY, o_auth, tn_m_auth, "authenticate the connection with a token"),
    INLINE("server.methods", READ, o_none, m_server_methods, "every method, its role and options"),
    INLINE("server.info", READ, o_none, tn_m_server_info, "version, uptime, epoch, home, storage"),
    INLINE("server.time", READ, o_none, tn_m_server_time, "the current epoch and the server's clock"),
    INLINE("server.save", ADMIN, o_none, tn_m_server_save, "compact the data directory now"),
    INLINE("audit.list", ADMIN, o_audit, tn_m_audit_list, "the audit trail of changes, filtered"),
    READS,
    INLINE("metrics.subscribe", READ, o_none, tn_m_metrics_subscribe,
           "receive an \"event\" notification at every new epoch"),
    CHANGE("node.upsert", o_node_upsert, TN_CHANGE_NODE_UPSERT, "add or replace one node"),
    CHANGE("node.delete", o_node_delete, TN_CHANGE_NODE_DELETE,
           "delete a node (cascade: with its pairs and children)"),
    CHANGE("pair.upsert", o_pair_upsert, TN_CHANGE_PAIR_UPSERT, "add or replace one pair"),
    CHANGE("pair.delete", o_pair_delete, TN_CHANGE_PAIR_DELETE, "delete one pair"),
    CHANGE("import.batch", o_batch, TN_CHANGE_BATCH, "add many nodes and pairs atomically"),
    IMPORT("import.begin", o_ibegin, tn_m_import_begin, "start a streamed import"),
    IMPORT("import.chunk", o_ichunk, tn_m_import_chunk, "stage records of a streamed import"),
    IMPORT("import.commit", o_itoken, tn_m_import_commit, "apply a streamed import as one batch"),
    IMPORT("import.abort", o_itoken, tn_m_import_abort, "drop a streamed import"),
};
#define NENTRIES (sizeof entries / sizeof entries[0])

/* The whole registry, read queries spliced in: built once. */
#define MAX_METHODS 64
static tn_method_t all[MAX_METHODS];
static size_t nall;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static tn_method_t from_query(const tn_query_def_t *q) {
    tn_method_t m = { q->name, READ, TN_MK_QUERY, q->opts, 0, q->description, NULL, q, 0 };
    if (!(q->flags & TN_QF_NOCACHE))
        m.flags |= TN_MF_CACHE;
    if (q->flags & TN_QF_IGRAPH)
        m.flags |= TN_MF_IGRAPH;
    if (q->flags & TN_QF_SLOW)
        m.flags |= TN_MF_SLOW;
    if (q->flags & TN_QF_LIVE)
        m.flags |= TN_MF_LIVE;
    return m;
}

static void build(void) {
    size_t nq;
    const tn_query_def_t *q = tn_query_all(&nq);
    for (size_t i = 0; i < NENTRIES; i++) {
        if (entries[i].name != NULL) {
            if (nall < MAX_METHODS)
                all[nall++] = entries[i];
            continue;
        }
        for (size_t k = 0; k < nq && nall < MAX_METHODS; k++)
            all[nall++] = from_query(&q[k]);
    }
}

const tn_method_t *tn_registry_all(size_t *n) {
    pthread_once(&once, build);
    *n = nall;
    return all;
}

const tn_method_t *tn_registry_find(const char *name) {
    size_t n;
    const tn_method_t *m = tn_registry_all(&n);
    for (size_t i = 0; name != NULL && i < n; i++)
        if (strcmp(m[i].name, name) == 0)
            return &m[i];
    return NULL;
}

int tn_registry_change_kind(const char *name, tn_change_kind_t *kind) {
    const tn_method_t *m = tn_registry_find(name);
    if (m == NULL || m->kind != TN_MK_CHANGE)
        return -1;
    *kind = m->change;
    return 0;
}

tn_code_t tn_registry_validate(const tn_method_t *m, const tn_val_t *opts, tn_error_t *err) {
    return tn_opts_validate(opts, m->opts, err);
}

int tn_registry_needs_igraph(const tn_method_t *m, const tn_val_t *opts) {
    return m->query != NULL && tn_query_needs_igraph(m->query, opts);
}

int tn_registry_describe(tn_val_t *out) {
    size_t n;
    const tn_method_t *m = tn_registry_all(&n);
    tn_val_t items = TN_VAL_NIL;
    int rc = tn_val_set_map(out, 1) | tn_val_set_arr(&items, n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        tn_val_t it = TN_VAL_NIL, params = TN_VAL_NIL, schema = TN_VAL_NIL;
        rc |= tn_val_set_map(&it, 6);
        rc |= tn_map_add_str(&it, "name", m[i].name);
        /* Methods open before auth (ping, auth) report the least role,
         * "read": the protocol's roles are read, write and admin. */
        rc |= tn_map_add_str(&it, "role", tn_role_name(m[i].role == ANY ? READ : m[i].role));
        rc |= tn_opt_schema_names(m[i].opts, &params);
        rc |= tn_map_add_take(&it, "params", &params);
        rc |= tn_map_add_bool(&it, "slow", (m[i].flags & TN_MF_SLOW) != 0);
        rc |= tn_map_add_str(&it, "description", m[i].description);
        rc |= tn_opt_schema_describe(m[i].opts, &schema);
        rc |= tn_map_add_take(&it, "options", &schema);
        rc |= tn_arr_push_take(&items, &it);
        tn_val_free(&it);
    }
    rc |= tn_map_add_take(out, "items", &items);
    tn_val_free(&items);
    if (rc != 0)
        tn_val_free(out);
    return rc ? -1 : 0;
}

static void m_server_methods(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    (void) srv;
    (void) opts;
    tn_val_t res = TN_VAL_NIL;
    if (tn_registry_describe(&res) != 0)
        tn_reply_code(call, TN_ERR_INTERNAL, "%s", "out of memory");
    else
        tn_reply_result(call, &res);
    tn_val_free(&res);
}
