/*
 * store.c -- the data directory (see store.h): record framing, recovery,
 * appends with the fsync policy, and compaction.
 *
 * Why each step is where it is:
 *  - appends are cut back (ftruncate) on any short or failed write, so the
 *    journal never keeps half a record that was answered "unavailable";
 *  - snapshots are written beside the live one and renamed over it, and the
 *    directory is fsynced, so a crash leaves either the old or the new one;
 *  - the journal is reset only after the new snapshot is durable; its old
 *    records then carry epochs the snapshot already includes and are
 *    skipped if a crash keeps them.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "dataset.h"
#include "frame.h"
#include "grow.h"
#include "log.h"

#define HDR 16
#define CHUNK_RECORDS 4096
static const uint8_t MAGIC[4] = { 'T', 'N', 'R', '1' };

struct tn_store {
    char *dir;
    tn_store_opts_t opts;
    int lock_fd;
    int jfd;                    /* journal, O_APPEND */
    uint64_t jsize;
    uint64_t jprev;             /* journal size before the last append */
    int afd;                    /* audit trail, O_APPEND; never compacted */
    time_t last_sync;           /* "everysec": second of the last tick */
    uint64_t asize;
    int dirty;                  /* appended since the last fsync */
    uint64_t torn_at;           /* recovery: where a torn journal tail starts (UINT64_MAX: none) */
    char torn_why[128];
    char *buf;                  /* encode buffer */
    size_t blen, bcap;
};

const char *tn_fsync_name(tn_fsync_policy_t p) {
    static const char *const names[] = { "always", "everysec", "no" };
    return (unsigned) p <= TN_FSYNC_NO ? names[p] : "?";
}

int tn_fsync_parse(const char *s, tn_fsync_policy_t *out) {
    for (int i = 0; i <= TN_FSYNC_NO; i++)
        if (strcmp(s, tn_fsync_name((tn_fsync_policy_t) i)) == 0) {
            *out = (tn_fsync_policy_t) i;
            return 0;
        }
    return -1;
}

/* ---- CRC-32 (IEEE 802.3, reflected), table built on first use ---- */

uint32_t tn_crc32(const void *data, size_t len) {
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Does the record at buf[off..end) end in blocks that were never written?
 * A crash during an append can leave the file longer than the data that
 * landed, and the missing part reads as zeros from a sector boundary
 * (512 bytes; file systems write whole blocks). A flipped bit leaves no
 * such run, so a checksum failure without one is damage, not a tear. */
static int unwritten_tail(const uint8_t *buf, size_t off, size_t end) {
    size_t z = end;
    while (z > off && buf[z - 1] == 0)
        z--;
    size_t sector = (z + 511) & ~(size_t) 511;
    return sector < end;
}

uint64_t tn_store_scan(const uint8_t *buf, size_t len, tn_store_record_fn *fn, void *arg,
                       int *torn, uint64_t *bad_offset, char *why, size_t whylen) {
    size_t off = 0;
    *torn = 0;
    *bad_offset = 0;
    why[0] = '\0';
    while (off < len) {
        size_t left = len - off;
        const uint8_t *h = buf + off;
        if (all_zero(h, left)) {
            /* Zeros to the end: space the file system extended for a write
             * that never landed. */
            *torn = 1;
            snprintf(why, whylen, "%zu zero bytes at the end", left);
            return off;
        }
        if (left < HDR) {
            *torn = 1;
            snprintf(why, whylen, "partial record header (%zu bytes)", left);
            return off;
        }
        if (memcmp(h, MAGIC, 4) != 0 || tn_crc32(h, 12) != get32(h + 12)) {
            *bad_offset = off;
            snprintf(why, whylen, "bad record header");
            return off;
        }
        uint32_t plen = get32(h + 4);
        if ((uint64_t) plen > left - HDR) {
            *torn = 1;
            snprintf(why, whylen, "record of %u bytes cut short at %zu", plen, left - HDR);
            return off;
        }
        if (tn_crc32(h + HDR, plen) != get32(h + 8)) {
            if (off + HDR + plen == len && unwritten_tail(buf, off + HDR, len)) {
                *torn = 1;          /* the last record, its last blocks never written */
                snprintf(why, whylen, "last record fails its checksum and ends in unwritten blocks");
            } else if (off + HDR + plen == len) {
                *bad_offset = off;  /* its length is intact: damage, not a tear */
                snprintf(why, whylen, "last record fails its checksum");
            } else {
                *bad_offset = off;
                snprintf(why, whylen, "record checksum mismatch");
            }
            return off;
        }
        if (fn && fn(h + HDR, plen, off, arg) != 0) {
            *bad_offset = off;
            snprintf(why, whylen, "record content is invalid");
            return off;
        }
        off += HDR + plen;
    }
    return off;
}

/* Frame 'payload' as a record at the end of st->buf. */
static int frame_record(tn_store_t *st, const tn_val_t *payload) {
    size_t start = st->blen;
    uint8_t hdr[HDR] = { 0 };
    /* Reserve the header, encode the payload after it, then fill it in. */
    void *buf = st->buf;
    if (tn_grow(&buf, &st->bcap, st->blen + HDR, 65536, 1) != 0)
        return -1;
    st->buf = buf;
    st->blen += HDR;
    if (tn_codec_encode(payload, &st->buf, &st->blen, &st->bcap) != 0) {
        st->blen = start;
        return -1;
    }
    size_t plen = st->blen - start - HDR;
    if (plen > 0xffffffffu) {
        st->blen = start;
        return -1;
    }
    memcpy(hdr, MAGIC, 4);
    put32(hdr + 4, (uint32_t) plen);
    put32(hdr + 8, tn_crc32(st->buf + start + HDR, plen));
    put32(hdr + 12, tn_crc32(hdr, 12));
    memcpy(st->buf + start, hdr, HDR);
    return 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t) w;
    }
    return 0;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static char *path_of(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    else
        errno = ENOMEM;             /* callers report strerror(errno) */
    return p;
}

/* Read a whole file; -1 with errno on failure, 1 if it does not exist. */
static int read_file(const char *path, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (errno == 0 || S_ISDIR(sb.st_mode))
            errno = EISDIR;
        close(fd);
        return -1;
    }
    uint8_t *buf = malloc(sb.st_size ? (size_t) sb.st_size : 1);
    if (buf == NULL) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    size_t got = 0;
    while (got < (size_t) sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t) sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            close(fd);
            if (r == 0)
                errno = EIO;
            return -1;
        }
        got += (size_t) r;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
}

/* Decode a record payload, scanning it against limits first: a record with
 * a good CRC is still untrusted input to msgpack-c (a fuzzer makes those). */
static tn_code_t decode_payload(const uint8_t *p, size_t len, tn_val_t *out, tn_error_t *err) {
    tn_frame_limits_t lim = { len, 32, (uint32_t) (len < 0xffffffffu ? len : 0xffffffffu),
                              (uint32_t) (len < 0xffffffffu ? len : 0xffffffffu) };
    tn_frame_t f;
    tn_frame_reset(&f);
    if (tn_frame_scan(&f, p, len, &lim) != TN_FRAME_DONE || f.pos != len)
        return tn_error_set(err, TN_ERR_PARSE, "record payload is not one MessagePack value");
    return tn_codec_decode(p, len, out, err);
}

/* ---- loading ---- */

/* What load_records gives each record: its payload decoded. fn may take
 * the value; what it leaves is freed. 0 to go on, -1 (with the error set)
 * to stop. */
typedef int load_fn(tn_val_t *v, void *arg);

typedef struct decoding {
    load_fn *fn;
    void *arg;
    tn_error_t *err;
} decoding_t;

static int decode_record(const uint8_t *p, size_t len, uint64_t off, void *arg) {
    (void) off;
    decoding_t *d = arg;
    tn_val_t v = TN_VAL_NIL;
    if (decode_payload(p, len, &v, d->err) != TN_OK)
        return -1;
    int rc = d->fn(&v, d->arg);
    tn_val_free(&v);
    return rc;
}

typedef struct load_ctx {
    tn_model_t *m;
    tn_error_t *err;
    int phase;                  /* snapshot: 0 expect header, 1 body, 2 after end */
    uint64_t epoch;             /* snapshot: its epoch */
    uint64_t replayed, skipped;
    uint64_t max_epoch;         /* audit trail: the highest epoch seen */
    tn_store_kind_fn *change_kind;  /* journal: method name -> change */
} load_ctx_t;

static int snapshot_record(tn_val_t *v, void *arg) {
    load_ctx_t *lc = arg;
    const char *type = tn_val_str(tn_map_get(v, "type"));
    int rc = -1;
    if (type == NULL) {
        tn_error_set(lc->err, TN_ERR_PARSE, "record without a type");
    } else if (lc->phase == 0) {
        int64_t epoch;
        if (strcmp(type, "header") != 0 || !tn_val_as_int(tn_map_get(v, "epoch"), &epoch) || epoch < 0) {
            tn_error_set(lc->err, TN_ERR_PARSE, "the snapshot does not start with its header");
        } else {
            lc->epoch = (uint64_t) epoch;
            const tn_val_t *meta = tn_map_get(v, "meta");
            if (meta && meta->type == TN_V_MAP)
                tn_model_set_meta(lc->m, meta);
            lc->phase = 1;
            rc = 0;
        }
    } else if (lc->phase == 1 && (strcmp(type, "nodes") == 0 || strcmp(type, "pairs") == 0)) {
        tn_val_t opts = TN_VAL_NIL;
        tn_val_t *items = (tn_val_t *) tn_map_get(v, "items");
        if (items && items->type == TN_V_ARR && tn_val_set_map(&opts, 1) == 0
            && tn_map_add_take(&opts, type, items) == 0) {
            if (tn_model_apply(lc->m, TN_CHANGE_BATCH, &opts, NULL, lc->err) == TN_OK)
                rc = 0;
        } else {
            tn_error_set(lc->err, TN_ERR_PARSE, "snapshot chunk without items");
        }
        tn_val_free(&opts);
    } else if (lc->phase == 1 && strcmp(type, "end") == 0) {
        int64_t nn = -1, np = -1;
        tn_val_as_int(tn_map_get(v, "nodes"), &nn);
        tn_val_as_int(tn_map_get(v, "pairs"), &np);
        if ((size_t) nn != tn_model_node_count(lc->m) || (size_t) np != tn_model_pair_count(lc->m)) {
            tn_error_set(lc->err, TN_ERR_PARSE, "snapshot counts do not match its end record");
        } else {
            lc->phase = 2;
            rc = 0;
        }
    } else {
        tn_error_set(lc->err, TN_ERR_PARSE, "unexpected snapshot record '%s'", TN_CLIP(type, 32));
    }
    return rc;
}

static int journal_record(tn_val_t *v, void *arg) {
    load_ctx_t *lc = arg;
    int64_t epoch;
    const char *method = tn_val_str(tn_map_get(v, "method"));
    const tn_val_t *params = tn_map_get(v, "params");
    int rc = -1;
    tn_change_kind_t kind = TN_CHANGE_BATCH;
    if (!tn_val_as_int(tn_map_get(v, "epoch"), &epoch) || method == NULL) {
        tn_error_set(lc->err, TN_ERR_PARSE, "journal record without epoch or method");
    } else if (lc->change_kind == NULL || lc->change_kind(method, &kind) != 0) {
        tn_error_set(lc->err, TN_ERR_METHOD_NOT_FOUND, "not a change method: %s", TN_CLIP(method, 64));
    } else if ((uint64_t) epoch <= tn_model_epoch(lc->m)) {
        lc->skipped++;              /* already in the snapshot */
        rc = 0;
    } else if ((uint64_t) epoch != tn_model_epoch(lc->m) + 1) {
        tn_error_set(lc->err, TN_ERR_PARSE, "journal jumps from epoch %llu to %lld",
                     (unsigned long long) tn_model_epoch(lc->m), (long long) epoch);
    } else if (tn_model_apply(lc->m, kind, params, NULL, lc->err) == TN_OK) {
        lc->replayed++;
        rc = 0;
    }
    return rc;
}

/* Read DIR/name and feed its records to fn. A missing file is not an error
 * (*exists = 0). A torn tail is cut off when the file may have one
 * (torn_ok: the append-only files) -- or, with torn_ok == TORN_REPORT, only
 * noted in st->torn_at / torn_why for the caller to weigh against the audit
 * trail first; anything else that stops the scan is corruption, reported
 * with the file and offset and left untouched. */
#define TORN_CUT 1
#define TORN_REPORT 2
static tn_code_t load_records(tn_store_t *st, const char *name, load_fn *fn, void *arg,
                              int torn_ok, uint64_t *end, int *exists, tn_error_t *err) {
    decoding_t dec = { fn, arg, err };
    char *path = path_of(st->dir, name);
    uint8_t *buf;
    size_t len;
    *exists = 0;
    *end = 0;
    if (path == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    int r = read_file(path, &buf, &len);
    tn_code_t rc = TN_OK;
    if (r < 0)
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot read %s: %s", path, strerror(errno));
    if (r != 0) {
        free(path);
        return rc;
    }
    *exists = 1;
    int torn;
    uint64_t bad;
    char why[128];
    *end = tn_store_scan(buf, len, decode_record, &dec, &torn, &bad, why, sizeof why);
    free(buf);
    if (*end != len && torn && torn_ok == TORN_REPORT) {
        st->torn_at = *end;
        snprintf(st->torn_why, sizeof st->torn_why, "%s", why);
    } else if (*end != len && torn && torn_ok) {
        tn_log(TN_LOG_WARN, "%s: torn record at offset %llu (%s): cutting the file to %llu bytes "
               "(that change was never acknowledged)", path, (unsigned long long) *end, why,
               (unsigned long long) *end);
        if (truncate(path, (off_t) *end) != 0)
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot truncate %s: %s", path, strerror(errno));
    } else if (*end != len && err->code == TN_ERR_INTERNAL) {
        /* The record was fine; we ran out of memory applying it. Say so,
         * rather than call an intact file corrupt. */
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err->message);
        tn_error_clear(err);
        rc = tn_error_set(err, TN_ERR_INTERNAL, "loading %s stopped at offset %llu: %s", path,
                          (unsigned long long) *end, inner);
    } else if (*end != len) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err->message);
        tn_error_clear(err);
        rc = tn_error_set(err, TN_ERR_PARSE,
                          "%s is corrupt at offset %llu: %s%s%s; refusing to start with a partial "
                          "graph (see docs/durability.md to recover)", path,
                          (unsigned long long) (torn ? *end : bad), why, inner[0] ? ": " : "", inner);
    }
    free(path);
    return rc;
}

static tn_code_t load_snapshot(tn_store_t *st, tn_model_t *m, int *exists, tn_error_t *err) {
    load_ctx_t lc = { m, err, 0, 0, 0, 0, 0, NULL };
    uint64_t end;
    /* A snapshot is renamed into place whole: it never has a torn tail. */
    tn_code_t rc = load_records(st, "snapshot.tns", snapshot_record, &lc, 0, &end, exists, err);
    if (rc == TN_OK && *exists && lc.phase != 2)
        rc = tn_error_set(err, TN_ERR_PARSE, "%s/snapshot.tns is incomplete at offset %llu: "
                          "no end record", st->dir, (unsigned long long) end);
    if (rc == TN_OK && *exists)
        tn_model_set_epoch(m, lc.epoch);
    return rc;
}

/* The highest epoch the audit trail records (0 without one). Only good
 * records count; damage to the trail itself is refused when it is loaded. */
static int audit_epoch_record(const uint8_t *p, size_t len, uint64_t off, void *arg) {
    (void) off;
    load_ctx_t *lc = arg;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t e = TN_ERROR_INIT;
    int64_t epoch;
    if (decode_payload(p, len, &v, &e) == TN_OK && tn_val_as_int(tn_map_get(&v, "epoch"), &epoch)
        && epoch > 0 && (uint64_t) epoch > lc->max_epoch)
        lc->max_epoch = (uint64_t) epoch;
    tn_val_free(&v);
    tn_error_clear(&e);
    return 0;
}

static uint64_t audit_max_epoch(tn_store_t *st) {
    load_ctx_t lc = { NULL, NULL, 0, 0, 0, 0, 0, NULL };
    char *path = path_of(st->dir, "audit.tna");
    uint8_t *buf;
    size_t len;
    if (path != NULL && read_file(path, &buf, &len) == 0) {
        int torn;
        uint64_t bad;
        char why[128];
        tn_store_scan(buf, len, audit_epoch_record, &lc, &torn, &bad, why, sizeof why);
        free(buf);
    }
    free(path);
    return lc.max_epoch;
}

/* The journal must reach every epoch the audit trail has seen. A crash
 * during an append tears the last journal record before its audit record
 * is written, so a torn tail with the audit trail no further than the good
 * records is a tear: it is cut. An audit trail that goes further means
 * acknowledged changes are gone (damage over complete records, an emptied
 * or deleted journal): refuse and change nothing -- unless the operator
 * said --accept-lost-changes, then keep the old journal aside and go on
 * numbering above every epoch ever handed out, so none is reused. */
static tn_code_t check_evidence(tn_store_t *st, tn_model_t *m, tn_error_t *err) {
    uint64_t have = tn_model_epoch(m), seen = audit_max_epoch(st);
    char *path = path_of(st->dir, "journal.tnj");
    if (path == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    char where[192];
    if (st->torn_at != UINT64_MAX)
        snprintf(where, sizeof where, "damaged from offset %llu (%s)",
                 (unsigned long long) st->torn_at, st->torn_why);
    else
        snprintf(where, sizeof where, "%s", "empty, missing or short");
    tn_code_t rc = TN_OK;
    if (seen > have && !st->opts.accept_lost) {
        tn_log(TN_LOG_ERROR, "%s is %s: its good records end at epoch %llu, but the audit trail "
               "(%s/audit.tna) records acknowledged changes up to epoch %llu, so %llu changes are "
               "lost. Refusing to start; nothing was changed. Keep a copy of the directory; if the "
               "changes cannot be recovered, start once with --accept-lost-changes "
               "(docs/durability.md)", path, where, (unsigned long long) have, st->dir,
               (unsigned long long) seen, (unsigned long long) (seen - have));
        rc = tn_error_set(err, TN_ERR_PARSE,
                          "journal.tnj %s; the audit trail has acknowledged changes up to epoch %llu, "
                          "the journal up to %llu: refusing to start, nothing changed "
                          "(docs/durability.md; --accept-lost-changes)", where,
                          (unsigned long long) seen, (unsigned long long) have);
    } else if (seen > have) {
        char aside[64];
        snprintf(aside, sizeof aside, "journal.lost-%llu-%llu", (unsigned long long) have,
                 (unsigned long long) seen);
        char *apath = path_of(st->dir, aside);
        tn_log(TN_LOG_ERROR, "--accept-lost-changes: %s %s; the changes of epochs %llu to %llu "
               "recorded in the audit trail are LOST; starting at epoch %llu so that no epoch is "
               "handed out twice; the old journal is kept as %s", path, where,
               (unsigned long long) have + 1, (unsigned long long) seen, (unsigned long long) seen,
               apath ? apath : aside);
        if (apath && rename(path, apath) != 0 && errno != ENOENT)
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot move %s aside: %s", path, strerror(errno));
        free(apath);
        if (rc == TN_OK) {
            tn_model_set_epoch(m, seen);
            rc = tn_store_compact(st, m, err);     /* the new numbering, durable now */
        }
    } else if (st->torn_at != UINT64_MAX) {
        tn_log(TN_LOG_WARN, "%s: torn record at offset %llu (%s): cutting the file to %llu bytes "
               "(that change was never acknowledged: the audit trail ends at epoch %llu)", path,
               (unsigned long long) st->torn_at, st->torn_why, (unsigned long long) st->torn_at,
               (unsigned long long) seen);
        if (truncate(path, (off_t) st->torn_at) != 0)
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot truncate %s: %s", path, strerror(errno));
        else
            st->jsize = st->torn_at;
    }
    free(path);
    return rc;
}

static tn_code_t replay_journal(tn_store_t *st, tn_model_t *m, tn_error_t *err) {
    load_ctx_t lc = { m, err, 0, 0, 0, 0, 0, st->opts.change_kind };
    int exists;
    st->torn_at = UINT64_MAX;
    tn_code_t rc = load_records(st, "journal.tnj", journal_record, &lc, TORN_REPORT, &st->jsize,
                                &exists, err);
    if (rc == TN_OK)
        rc = check_evidence(st, m, err);
    if (rc == TN_OK)
        tn_log(TN_LOG_INFO, "%s/journal.tnj: replayed %llu changes (skipped %llu already in the "
               "snapshot), epoch %llu", st->dir, (unsigned long long) lc.replayed,
               (unsigned long long) lc.skipped, (unsigned long long) tn_model_epoch(m));
    return rc;
}

static tn_code_t open_journal(tn_store_t *st, tn_error_t *err) {
    char *path = path_of(st->dir, "journal.tnj");
    if (path == NULL)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    st->jfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    tn_code_t rc = TN_OK;
    if (st->jfd < 0)
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot open %s: %s", path, strerror(errno));
    free(path);
    return rc;
}

tn_code_t tn_store_open(const char *dir, const tn_store_opts_t *opts, const char *home,
                        tn_store_t **out, tn_model_t **model, tn_error_t *err) {
    *out = NULL;
    *model = NULL;
    tn_store_t *st = calloc(1, sizeof *st);
    tn_model_t *m = tn_model_new(home);
    if (st == NULL || m == NULL || (st->dir = strdup(dir)) == NULL) {
        free(st);
        tn_model_free(m);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    st->opts = *opts;
    if (st->opts.compact_bytes == 0)
        st->opts.compact_bytes = 64u << 20;
    st->lock_fd = st->jfd = st->afd = -1;
    tn_code_t rc = TN_OK;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    char *lock = path_of(dir, "LOCK");
    st->lock_fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    free(lock);
    if (st->lock_fd < 0) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot open %s/LOCK: %s", dir, strerror(errno));
        goto fail;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "%s is in use by another twinnetd", dir);
        goto fail;
    }
    /* Leftovers of a compaction that a crash interrupted. */
    char *tmp = path_of(dir, "snapshot.tmp");
    if (tmp)
        unlink(tmp);
    free(tmp);

    int have_snapshot;
    if ((rc = load_snapshot(st, m, &have_snapshot, err)) != TN_OK)
        goto fail;
    char *jpath = path_of(dir, "journal.tnj");
    struct stat sb;
    int have_journal = jpath && stat(jpath, &sb) == 0;
    free(jpath);
    if (!have_snapshot && have_journal) {
        rc = tn_error_set(err, TN_ERR_PARSE,
                          "%s has a journal but no snapshot.tns: refusing to start from a partial history",
                          dir);
        goto fail;
    }
    if (!have_snapshot) {
        /* A new directory: seed it, and make the seed durable at once. */
        if ((rc = tn_dataset_load(m, (tn_dataset_t) opts->seed_dataset, err)) != TN_OK)
            goto fail;
        if ((rc = tn_store_compact(st, m, err)) != TN_OK)
            goto fail;
        tn_log(TN_LOG_INFO, "%s: new data directory (dataset %s)", dir,
               tn_dataset_name((tn_dataset_t) opts->seed_dataset));
    } else if ((rc = replay_journal(st, m, err)) != TN_OK) {
        goto fail;
    }
    if (st->jfd < 0 && (rc = open_journal(st, err)) != TN_OK)
        goto fail;
    *out = st;
    *model = m;
    return TN_OK;
fail:
    tn_store_close(st);
    tn_model_free(m);
    return rc;
}

tn_code_t tn_store_append(tn_store_t *st, uint64_t epoch, const char *method,
                          const tn_val_t *params, const tn_val_t *audit, tn_error_t *err) {
    tn_val_t rec = TN_VAL_NIL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int rc = tn_val_set_map(&rec, 5);
    rc |= tn_map_add_int(&rec, "epoch", (int64_t) epoch);
    rc |= tn_map_add_str(&rec, "method", method);
    tn_val_t *p = tn_map_add(&rec, "params");
    if (p == NULL || (params && tn_val_copy(p, params) != 0))
        rc = -1;
    rc |= tn_map_add_int(&rec, "time_ms", (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (audit) {
        tn_val_t *a = tn_map_add(&rec, "audit");
        if (a == NULL || tn_val_copy(a, audit) != 0)
            rc = -1;
    }
    st->blen = 0;
    if (rc != 0 || frame_record(st, &rec) != 0) {
        tn_val_free(&rec);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    tn_val_free(&rec);
    if (write_all(st->jfd, st->buf, st->blen) != 0) {
        int e = errno;
        /* Leave no half record behind: it was never acknowledged. */
        if (ftruncate(st->jfd, (off_t) st->jsize) != 0)
            tn_log(TN_LOG_ERROR, "journal: cannot cut back to %llu bytes: %s",
                   (unsigned long long) st->jsize, strerror(errno));
        tn_log(TN_LOG_ERROR, "journal write failed: %s", strerror(e));
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "the data directory cannot be written: %s",
                            strerror(e));
    }
    st->jprev = st->jsize;
    st->jsize += st->blen;
    st->dirty = 1;
    return TN_OK;
}

void tn_store_unappend(tn_store_t *st) {
    if (st->jprev < st->jsize && ftruncate(st->jfd, (off_t) st->jprev) == 0)
        st->jsize = st->jprev;
}

tn_code_t tn_store_sync(tn_store_t *st, tn_error_t *err) {
    if (st->opts.fsync != TN_FSYNC_ALWAYS || !st->dirty)
        return TN_OK;
    if (fdatasync(st->jfd) != 0 || (st->afd >= 0 && fdatasync(st->afd) != 0))
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "fsync of the journal failed: %s", strerror(errno));
    st->dirty = 0;
    return TN_OK;
}

void tn_store_tick(tn_store_t *st) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec == st->last_sync)
        return;                     /* at most once a second */
    st->last_sync = now.tv_sec;
    if (st->opts.fsync == TN_FSYNC_EVERYSEC && st->dirty) {
        if (fdatasync(st->jfd) != 0 || (st->afd >= 0 && fdatasync(st->afd) != 0))
            tn_log(TN_LOG_ERROR, "fsync of the journal failed: %s", strerror(errno));
        else
            st->dirty = 0;
    }
}

/* How far below a country node n sits: 0 for countries, 1 + the length of
 * its parent chain otherwise. Loading nodes in this order lets each chunk
 * of a snapshot refer only to nodes already loaded. */
static int node_depth(const tn_model_t *m, const tn_node_t *n) {
    if (n->kind == TN_NODE_COUNTRY)
        return 0;
    int d = 1;
    while (n && n->parent && d < 80) {
        n = tn_model_node(m, n->parent);
        d++;
    }
    return d;
}

typedef struct ranked {
    int depth;
    tn_node_t *node;
} ranked_t;

static int by_depth(const void *a, const void *b) {
    const ranked_t *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return strcmp(x->node->id, y->node->id);
}

/* Append the records of a whole model to st->buf and write them in pieces. */
static int write_snapshot(tn_store_t *st, int fd, const tn_model_t *m) {
    size_t nn, np;
    tn_node_t *const *mnodes = tn_model_nodes(m, &nn);
    tn_pair_t *const *pairs = tn_model_pairs(m, &np);
    ranked_t *order = malloc((nn ? nn : 1) * sizeof *order);
    tn_node_t **nodes = malloc((nn ? nn : 1) * sizeof *nodes);
    if (order == NULL || nodes == NULL) {
        free(order);
        free(nodes);
        return -1;
    }
    for (size_t i = 0; i < nn; i++)
        order[i] = (ranked_t){ node_depth(m, mnodes[i]), mnodes[i] };
    qsort(order, nn, sizeof *order, by_depth);
    for (size_t i = 0; i < nn; i++)
        nodes[i] = order[i].node;
    free(order);
    tn_val_t v = TN_VAL_NIL;
    int rc = tn_val_set_map(&v, 6);
    rc |= tn_map_add_str(&v, "type", "header");
    rc |= tn_map_add_int(&v, "version", 1);
    rc |= tn_map_add_int(&v, "epoch", (int64_t) tn_model_epoch(m));
    rc |= tn_map_add_str(&v, "home", tn_model_home(m));
    tn_val_t *meta = tn_map_add(&v, "meta");
    if (meta == NULL || tn_val_copy(meta, tn_model_meta(m)) != 0)
        rc = -1;
    st->blen = 0;
    rc |= frame_record(st, &v);
    tn_val_free(&v);
    for (int kind = 0; kind < 2 && rc == 0; kind++) {
        size_t n = kind == 0 ? nn : np;
        for (size_t i = 0; i < n && rc == 0; i += CHUNK_RECORDS) {
            tn_val_t items = TN_VAL_NIL;
            rc |= tn_val_set_map(&v, 2) | tn_map_add_str(&v, "type", kind == 0 ? "nodes" : "pairs");
            rc |= tn_val_set_arr(&items, CHUNK_RECORDS);
            for (size_t k = i; k < n && k < i + CHUNK_RECORDS && rc == 0; k++) {
                tn_val_t r = TN_VAL_NIL;
                rc |= kind == 0 ? tn_node_to_val(nodes[k], &r) : tn_pair_to_val(pairs[k], &r);
                rc |= tn_arr_push_take(&items, &r);
            }
            rc |= tn_map_add_take(&v, "items", &items);
            rc |= frame_record(st, &v);
            tn_val_free(&v);
            if (rc == 0 && st->blen > (8u << 20)) {
                rc = write_all(fd, st->buf, st->blen);
                st->blen = 0;
            }
        }
    }
    rc |= tn_val_set_map(&v, 3) | tn_map_add_str(&v, "type", "end");
    rc |= tn_map_add_int(&v, "nodes", (int64_t) nn) | tn_map_add_int(&v, "pairs", (int64_t) np);
    rc |= frame_record(st, &v);
    tn_val_free(&v);
    if (rc == 0)
        rc = write_all(fd, st->buf, st->blen);
    st->blen = 0;
    free(nodes);
    return rc;
}

tn_code_t tn_store_compact(tn_store_t *st, const tn_model_t *m, tn_error_t *err) {
    char *tmp = path_of(st->dir, "snapshot.tmp"), *snap = path_of(st->dir, "snapshot.tns");
    char *jtmp = path_of(st->dir, "journal.tmp"), *jpath = path_of(st->dir, "journal.tnj");
    tn_code_t rc = TN_OK;
    int fd = -1;
    if (!tmp || !snap || !jtmp || !jpath) {
        rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        goto done;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_snapshot(st, fd, m) != 0 || fsync(fd) != 0) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, snap) != 0 || fsync_dir(st->dir) != 0) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot install %s: %s", snap, strerror(errno));
        goto done;
    }
    /* The snapshot is durable: only now may the journal start over. */
    fd = open(jtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fsync(fd) != 0 || rename(jtmp, jpath) != 0 || fsync_dir(st->dir) != 0) {
        rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot reset %s: %s", jpath, strerror(errno));
        goto done;
    }
    close(fd);
    fd = -1;
    if (st->jfd >= 0)
        close(st->jfd);
    st->jfd = -1;
    st->jsize = 0;
    st->dirty = 0;
    rc = open_journal(st, err);
    if (rc == TN_OK)
        tn_log(TN_LOG_INFO, "%s: snapshot written at epoch %llu (%zu nodes, %zu pairs)", st->dir,
               (unsigned long long) tn_model_epoch(m), tn_model_node_count(m), tn_model_pair_count(m));
done:
    if (fd >= 0)
        close(fd);
    if (rc != TN_OK && tmp)
        unlink(tmp);
    free(tmp);
    free(snap);
    free(jtmp);
    free(jpath);
    return rc;
}

int tn_store_wants_compact(const tn_store_t *st) {
    return st->jsize > st->opts.compact_bytes;
}

uint64_t tn_store_journal_bytes(const tn_store_t *st) { return st->jsize; }
const char *tn_store_dir(const tn_store_t *st) { return st->dir; }
tn_fsync_policy_t tn_store_policy(const tn_store_t *st) { return st->opts.fsync; }

void tn_store_close(tn_store_t *st) {
    if (st == NULL)
        return;
    if (st->jfd >= 0) {
        if (st->dirty && st->opts.fsync != TN_FSYNC_NO)
            fdatasync(st->jfd);
        close(st->jfd);
    }
    if (st->afd >= 0) {
        if (st->dirty && st->opts.fsync != TN_FSYNC_NO)
            fdatasync(st->afd);
        close(st->afd);
    }
    if (st->lock_fd >= 0)
        close(st->lock_fd);       /* releases the flock */
    free(st->buf);
    free(st->dir);
    free(st);
}

/* ---- the audit trail: DIR/audit.tna, same framing, never compacted ---- */

typedef struct audit_ctx {
    tn_store_audit_fn *fn;
    void *arg;
    tn_error_t *err;
} audit_ctx_t;

static int audit_record(tn_val_t *v, void *arg) {
    audit_ctx_t *ac = arg;
    if (v->type != TN_V_MAP) {
        tn_error_set(ac->err, TN_ERR_PARSE, "audit record is not a map");
        return -1;
    }
    ac->fn(v, ac->arg);             /* takes v */
    return 0;
}

tn_code_t tn_store_audit_load(tn_store_t *st, tn_store_audit_fn *fn, void *arg, tn_error_t *err) {
    audit_ctx_t ac = { fn, arg, err };
    int exists;
    tn_code_t rc = load_records(st, "audit.tna", audit_record, &ac, 1, &st->asize, &exists, err);
    if (rc == TN_OK) {
        char *path = path_of(st->dir, "audit.tna");
        st->afd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
        if (st->afd < 0)
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot open %s/audit.tna: %s", st->dir,
                              strerror(errno));
        free(path);
    }
    return rc;
}

tn_code_t tn_store_audit_append(tn_store_t *st, const tn_val_t *rec, tn_error_t *err) {
    if (st->afd < 0)
        return TN_OK;
    st->blen = 0;
    if (frame_record(st, rec) != 0)
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    if (write_all(st->afd, st->buf, st->blen) != 0) {
        int e = errno;
        if (ftruncate(st->afd, (off_t) st->asize) != 0)
            tn_log(TN_LOG_ERROR, "audit: cannot cut back: %s", strerror(errno));
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "the audit trail cannot be written: %s", strerror(e));
    }
    st->asize += st->blen;
    st->dirty = 1;
    return TN_OK;
}
