/*
 * test_store.c -- the data directory: record framing, recovery, torn tails,
 * corruption, compaction, the audit trail and the directory lock.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "store.h"
#include "test.h"

static char dir[64];

static void rm_dir(void) {
    const char *names[] = { "snapshot.tns", "journal.tnj", "audit.tna", "LOCK", "snapshot.tmp", NULL };
    char p[128];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void fresh_dir(void) {
    if (dir[0])
        rm_dir();
    snprintf(dir, sizeof dir, "/tmp/tn_store_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static tn_val_t node(const char *id, const char *kind, const char *country) {
    tn_val_t v = TN_VAL_NIL;
    tn_val_set_map(&v, 4);
    tn_map_add_str(&v, "id", id);
    tn_map_add_str(&v, "kind", kind);
    tn_map_add_str(&v, "name", id);
    if (country)
        tn_map_add_str(&v, "country", country);
    return v;
}

/* Apply and journal one change, as the writer does. */
static void change(tn_store_t *st, tn_model_t *m, const char *method, const char *key, tn_val_t rec) {
    tn_val_t opts = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_change_t *c = NULL;
    tn_val_set_map(&opts, 1);
    tn_map_add_take(&opts, key, &rec);
    tn_change_kind_t kind = TN_CHANGE_BATCH;
    CHECK_EQ_INT(tn_registry_change_kind(method, &kind), 0);
    CHECK_EQ_INT(tn_change_prepare(m, kind, &opts, &c, &err), TN_OK);
    CHECK_EQ_INT(tn_store_append(st, tn_model_epoch(m) + 1, method, &opts, NULL, &err), TN_OK);
    tn_change_commit(m, c);
    tn_change_free(c);
    CHECK_EQ_INT(tn_store_sync(st, &err), TN_OK);
    tn_val_free(&opts);
}

static tn_store_opts_t opts_empty(void) {
    tn_store_opts_t o = { TN_FSYNC_ALWAYS, 0, 0, tn_registry_change_kind, 0 };
    return o;
}

/* A directory with a snapshot of two countries and a journal of n cities. */
static void make_history(int n) {
    tn_store_t *st;
    tn_model_t *m;
    tn_error_t err = TN_ERROR_INIT;
    tn_store_opts_t o = opts_empty();
    fresh_dir();
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st, &m, &err), TN_OK);
    change(st, m, "node.upsert", "node", node("JP", "country", NULL));
    change(st, m, "node.upsert", "node", node("CN", "country", NULL));
    CHECK_EQ_INT(tn_store_compact(st, m, &err), TN_OK);
    char id[32];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "JP-c%d", i);
        change(st, m, "node.upsert", "node", node(id, "city", "JP"));
    }
    tn_store_close(st);
    tn_model_free(m);
}

static char *path(const char *name) {
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static uint8_t *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    uint8_t *buf = NULL;
    *len = 0;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n ? (size_t) n : 1);
    *len = fread(buf, 1, (size_t) n, f);
    fclose(f);
    return buf;
}

static void spit(const char *p, const uint8_t *buf, size_t len) {
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    CHECK_EQ_INT(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static tn_code_t reopen(uint64_t *epoch, size_t *nodes, tn_error_t *err) {
    tn_store_t *st;
    tn_model_t *m;
    tn_store_opts_t o = opts_empty();
    tn_error_clear(err);
    tn_code_t rc = tn_store_open(dir, &o, NULL, &st, &m, err);
    if (rc == TN_OK) {
        *epoch = tn_model_epoch(m);
        *nodes = tn_model_node_count(m);
        tn_store_close(st);
        tn_model_free(m);
    }
    return rc;
}

static void test_crc(void) {
    CHECK_EQ_INT(tn_crc32("123456789", 9), 0xcbf43926u);   /* the standard check value */
    CHECK_EQ_INT(tn_crc32("", 0), 0);
}

static void test_recovery(void) {
    make_history(20);
    uint64_t epoch = 0;
    size_t nodes = 0;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_OK);
    CHECK_EQ_INT(epoch, 22);
    CHECK_EQ_INT(nodes, 22);
    /* Twice: recovery itself changes nothing. */
    CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_OK);
    CHECK_EQ_INT(epoch, 22);
    tn_error_clear(&err);
}

static int count_cb(const uint8_t *p, size_t len, uint64_t off, void *arg) {
    (void) p;
    (void) len;
    (void) off;
    (*(int *) arg)++;
    return 0;
}

/* Cutting the journal anywhere inside its last record loses exactly that
 * record, and the start says so instead of failing. */
static void test_torn_tail_every_offset(void) {
    make_history(5);
    size_t len;
    uint8_t *buf = slurp(path("journal.tnj"), &len);
    CHECK(buf != NULL && len > 0);
    int nrec = 0, torn;
    uint64_t bad;
    char why[128];
    CHECK_EQ_INT(tn_store_scan(buf, len, count_cb, &nrec, &torn, &bad, why, sizeof why), len);
    CHECK_EQ_INT(nrec, 5);
    /* Where does the last record start? Scan all but one byte. */
    nrec = 0;
    uint64_t last = tn_store_scan(buf, len - 1, count_cb, &nrec, &torn, &bad, why, sizeof why);
    CHECK_EQ_INT(nrec, 4);
    CHECK(torn);
    for (size_t cut = last; cut < len; cut++) {
        spit(path("journal.tnj"), buf, cut);
        uint64_t epoch = 0;
        size_t nodes = 0;
        tn_error_t err = TN_ERROR_INIT;
        CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_OK);
        CHECK_EQ_INT(epoch, 6);                 /* 2 in the snapshot + 4 */
        CHECK_EQ_INT(nodes, 6);
        /* The journal was cut back to whole records. */
        struct stat sb;
        CHECK(stat(path("journal.tnj"), &sb) == 0 && (uint64_t) sb.st_size == last);
        tn_error_clear(&err);
    }
    /* Zeros after the last whole record: the file system's extension. */
    uint8_t *z = calloc(1, len + 100);
    memcpy(z, buf, len);
    spit(path("journal.tnj"), z, len + 100);
    uint64_t epoch = 0;
    size_t nodes = 0;
    tn_error_t err = TN_ERROR_INIT;
    CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_OK);
    CHECK_EQ_INT(epoch, 7);
    free(z);
    free(buf);
    tn_error_clear(&err);
}

/* A flipped byte before the last record is corruption: refuse, naming the
 * file and offset; the files are left as they were. */
static void test_corruption_refuses(void) {
    make_history(5);
    size_t len;
    uint8_t *buf = slurp(path("journal.tnj"), &len);
    for (size_t at = 0; at + 200 < len; at += 7) {
        buf[at] ^= 0x40;
        spit(path("journal.tnj"), buf, len);
        uint64_t epoch = 0;
        size_t nodes = 0;
        tn_error_t err = TN_ERROR_INIT;
        CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_ERR_PARSE);
        CHECK(strstr(err.message, "journal.tnj") != NULL);
        CHECK(strstr(err.message, "offset") != NULL);
        size_t now;
        uint8_t *after = slurp(path("journal.tnj"), &now);
        CHECK_EQ_INT(now, len);                 /* nothing cut or rewritten */
        free(after);
        buf[at] ^= 0x40;
        tn_error_clear(&err);
    }
    spit(path("journal.tnj"), buf, len);
    free(buf);
    /* The snapshot: any flipped byte refuses the start. */
    buf = slurp(path("snapshot.tns"), &len);
    for (size_t at = 0; at < len; at += 5) {
        buf[at] ^= 0x01;
        spit(path("snapshot.tns"), buf, len);
        uint64_t epoch = 0;
        size_t nodes = 0;
        tn_error_t err = TN_ERROR_INIT;
        CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_ERR_PARSE);
        CHECK(strstr(err.message, "snapshot.tns") != NULL);
        buf[at] ^= 0x01;
        tn_error_clear(&err);
    }
    free(buf);
}

static void test_compaction_and_lock(void) {
    make_history(10);
    tn_store_t *st, *st2;
    tn_model_t *m, *m2;
    tn_error_t err = TN_ERROR_INIT;
    tn_store_opts_t o = opts_empty();
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st, &m, &err), TN_OK);
    /* A second daemon on the same directory is refused. */
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st2, &m2, &err), TN_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "in use") != NULL);
    tn_error_clear(&err);
    CHECK(tn_store_journal_bytes(st) > 0);
    CHECK_EQ_INT(tn_store_compact(st, m, &err), TN_OK);
    CHECK_EQ_INT(tn_store_journal_bytes(st), 0);
    change(st, m, "node.upsert", "node", node("JP-after", "city", "JP"));
    /* Take back an append (a later step of the change failed). */
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 0);
    uint64_t before = tn_store_journal_bytes(st);
    CHECK_EQ_INT(tn_store_append(st, 999, "node.upsert", &opts, NULL, &err), TN_OK);
    tn_store_unappend(st);
    CHECK_EQ_INT(tn_store_journal_bytes(st), before);
    tn_val_free(&opts);
    tn_store_close(st);
    tn_model_free(m);
    uint64_t epoch = 0;
    size_t nodes = 0;
    CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_OK);
    CHECK_EQ_INT(epoch, 13);
    CHECK_EQ_INT(nodes, 13);
    /* A journal without its snapshot is a partial history: refused. */
    unlink(path("snapshot.tns"));
    CHECK_EQ_INT(reopen(&epoch, &nodes, &err), TN_ERR_PARSE);
    tn_error_clear(&err);
}

static void keep(tn_val_t *rec, void *arg) {
    tn_val_t *all = arg;
    tn_arr_push_take(all, rec);
}

static void test_audit_trail(void) {
    make_history(0);
    tn_store_t *st;
    tn_model_t *m;
    tn_error_t err = TN_ERROR_INIT;
    tn_store_opts_t o = opts_empty();
    tn_val_t all = TN_VAL_NIL;
    tn_val_set_arr(&all, 0);
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st, &m, &err), TN_OK);
    CHECK_EQ_INT(tn_store_audit_load(st, keep, &all, &err), TN_OK);
    CHECK_EQ_INT(all.u.a.n, 0);
    for (int i = 0; i < 3; i++) {
        tn_val_t rec = TN_VAL_NIL;
        tn_val_set_map(&rec, 2);
        tn_map_add_int(&rec, "epoch", i);
        tn_map_add_str(&rec, "token", "ana");
        CHECK_EQ_INT(tn_store_audit_append(st, &rec, &err), TN_OK);
        tn_val_free(&rec);
    }
    /* Compaction never touches the audit trail. */
    CHECK_EQ_INT(tn_store_compact(st, m, &err), TN_OK);
    CHECK_EQ_INT(tn_store_sync(st, &err), TN_OK);
    tn_store_close(st);
    tn_model_free(m);
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st, &m, &err), TN_OK);
    CHECK_EQ_INT(tn_store_audit_load(st, keep, &all, &err), TN_OK);
    CHECK_EQ_INT(all.u.a.n, 3);
    CHECK_EQ_STR(tn_val_str(tn_map_get(&all.u.a.items[2], "token")), "ana");
    tn_store_close(st);
    tn_model_free(m);
    tn_val_free(&all);
    tn_error_clear(&err);
}

/* A write that fails (the journal's descriptor pointed at /dev/full, so
 * every write gets ENOSPC) is reported unavailable and the journal's size is
 * unchanged. (The daemon-level disk-full test is in tests/integration.) */
static void test_write_failure_cut_back(void) {
    make_history(0);
    tn_store_t *st;
    tn_model_t *m;
    tn_error_t err = TN_ERROR_INIT;
    tn_store_opts_t o = opts_empty();
    CHECK_EQ_INT(tn_store_open(dir, &o, NULL, &st, &m, &err), TN_OK);
    tn_val_t opts = TN_VAL_NIL;
    tn_val_set_map(&opts, 0);
    uint64_t before = tn_store_journal_bytes(st);
    /* Point fd of the journal at /dev/full: every write fails with ENOSPC. */
    int full = open("/dev/full", O_WRONLY);
    CHECK(full >= 0);
    int jfd = -1;
    for (int fd = 3; fd < 64; fd++) {
        char link[64], target[256];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strstr(target, "journal.tnj"))
                jfd = fd;
        }
    }
    CHECK(jfd >= 0);
    int keep_fd = dup(jfd);
    dup2(full, jfd);
    CHECK_EQ_INT(tn_store_append(st, 5, "node.upsert", &opts, NULL, &err), TN_ERR_UNAVAILABLE);
    CHECK(strstr(err.message, "cannot be written") != NULL);
    CHECK_EQ_INT(tn_store_journal_bytes(st), before);
    dup2(keep_fd, jfd);
    close(keep_fd);
    close(full);
    tn_val_free(&opts);
    tn_store_close(st);
    tn_model_free(m);
    tn_error_clear(&err);
}

int main(void) {
    RUN(test_crc);
    RUN(test_recovery);
    RUN(test_torn_tail_every_offset);
    RUN(test_corruption_refuses);
    RUN(test_compaction_and_lock);
    RUN(test_audit_trail);
    RUN(test_write_failure_cut_back);
    rm_dir();
    return TEST_DONE();
}
