/*
 * fuzz_store.c -- the data-directory loader on arbitrary files: record
 * framing (tn_store_scan), payload decoding and the replay into a model,
 * through the real tn_store_open on a scratch directory.
 *
 * Input: byte 0 chooses the mode, the rest is the file content.
 *   mode 0  framing only, in memory: tn_store_scan with a callback that
 *           scans and decodes each payload as the loader does;
 *   mode 1  the bytes are journal.tnj, beside a valid snapshot of the world;
 *   mode 2  the bytes are snapshot.tns, with no journal;
 *   mode 3  the bytes are a list of payloads (2-byte little-endian length,
 *           then the payload) that the harness frames with correct CRCs
 *           into journal.tnj beside the valid snapshot: mutations then get
 *           past the checksums to the decoder and the replay (the idea of
 *           Redis's corrupt-dump fuzzer);
 *   mode 4  as 3, but the records form snapshot.tns.
 *
 * Invariants checked:
 *  - tn_store_scan visits contiguous records inside the buffer, and ends
 *    either at the end, at a torn tail, or at a reported bad offset;
 *  - tn_store_open either succeeds or refuses with parse_error (never
 *    internal, never a crash); a torn journal is cut to the length the
 *    store reports;
 *  - what loads is consistent: the epoch is at least the snapshot's,
 *    graph.stats agrees with the model, and writing it back (compaction)
 *    then loading again gives the same epoch and the same graph.stats.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "frame.h"
#include "fuzz.h"
#include "log.h"
#include "query.h"
#include "registry.h"
#include "store.h"

static char dir[256];
static uint8_t *base_snapshot;      /* snapshot.tns of the world at epoch 1 */
static size_t base_snapshot_len;

static void remove_dir(void) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    FZ_CHECK(fp != NULL);
    FZ_CHECK(fseek(fp, 0, SEEK_END) == 0);
    long n = ftell(fp);
    FZ_CHECK(n >= 0);
    rewind(fp);
    uint8_t *buf = malloc((size_t) n + 1);
    FZ_CHECK(buf != NULL && fread(buf, 1, (size_t) n, fp) == (size_t) n);
    fclose(fp);
    *len = (size_t) n;
    return buf;
}

static void put_file(const char *name, const uint8_t *p, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FZ_CHECK(fd >= 0);
    FZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t) n);
    close(fd);
}

static void drop_file(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static off_t file_size(const char *name) {
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void) argc;
    (void) argv;
    tn_log_set_level(TN_LOG_ERROR);
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(dir, sizeof dir, "%s/tn-fuzz-store-%ld", base, (long) getpid());
    remove_dir();
    atexit(remove_dir);
    /* A valid snapshot of the world, written by the store itself. */
    tn_store_opts_t opts = { TN_FSYNC_NO, 0, 0, tn_registry_change_kind, 0 };
    tn_store_t *st;
    tn_model_t *m;
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_store_open(dir, &opts, NULL, &st, &m, &err) == TN_OK);
    tn_model_t *w = fz_world_model();
    FZ_CHECK(tn_store_compact(st, w, &err) == TN_OK);
    tn_store_close(st);
    tn_model_free(m);
    tn_model_free(w);
    char path[512];
    snprintf(path, sizeof path, "%s/snapshot.tns", dir);
    base_snapshot = slurp(path, &base_snapshot_len);
    return 0;
}

/* ---- mode 0: framing in memory ---- */

typedef struct scan_ctx {
    const uint8_t *buf;
    size_t len;
    uint64_t next;          /* where the next record must start */
    int fail_at;            /* refuse the record with this index (-1: none) */
    int seen;
    int64_t refused;        /* offset of the refused record, or -1 */
} scan_ctx_t;

/* Decode a payload as the loader does: scan it against its own length
 * first, so msgpack-c only sees a bounded, complete value. */
static void decode_payload(const uint8_t *p, size_t len) {
    tn_frame_limits_t lim = { len, 32, (uint32_t) len, (uint32_t) len };
    tn_frame_t f;
    tn_frame_reset(&f);
    if (tn_frame_scan(&f, p, len, &lim) != TN_FRAME_DONE || f.pos != len)
        return;
    tn_val_t v = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    tn_code_t rc = tn_codec_decode(p, len, &v, &err);
    FZ_CHECK(rc == TN_OK || rc == TN_ERR_INVALID_REQUEST);
    tn_val_free(&v);
    tn_error_clear(&err);
}

static int on_record(const uint8_t *payload, size_t len, uint64_t off, void *arg) {
    scan_ctx_t *sc = arg;
    FZ_CHECK(off == sc->next);
    FZ_CHECK(payload == sc->buf + off + 16);
    FZ_CHECK(off + 16 + len <= sc->len);
    sc->next = off + 16 + len;
    /* Payloads are untrusted MessagePack even with a good CRC. */
    decode_payload(payload, len);
    if (sc->seen++ == sc->fail_at) {
        sc->refused = (int64_t) off;
        return -1;
    }
    return 0;
}

static void scan_only(const uint8_t *p, size_t n, int fail_at) {
    scan_ctx_t sc = { p, n, 0, fail_at, 0, -1 };
    int torn = -1;
    uint64_t bad = 0;
    char why[128];
    uint64_t end = tn_store_scan(p, n, on_record, &sc, &torn, &bad, why, sizeof why);
    FZ_CHECK(end <= n);
    FZ_CHECK(torn == 0 || torn == 1);
    if (sc.refused >= 0) {
        FZ_CHECK(end == (uint64_t) sc.refused);         /* stopped at the refused record */
        FZ_CHECK(torn == 0 && bad == end);
    } else {
        FZ_CHECK(end == sc.next);                       /* all good records, then the stop */
        if (end < n)
            FZ_CHECK(torn == 1 || bad == end);
        else
            FZ_CHECK(torn == 0);
    }
    FZ_CHECK(end == n || why[0] != '\0');
}

/* ---- modes 1..4: the real loader ---- */

/* Frame payloads (length-prefixed in the input) as records with good CRCs. */
static uint8_t *frame_records(const uint8_t *p, size_t n, size_t *out_len) {
    uint8_t *out = malloc(n / 2 * 16 + n + 16);
    FZ_CHECK(out != NULL);
    size_t o = 0, i = 0;
    while (i + 2 <= n) {
        size_t plen = (size_t) p[i] | (size_t) p[i + 1] << 8;
        i += 2;
        if (plen > n - i)
            plen = n - i;
        uint8_t *h = out + o;
        uint32_t crc = tn_crc32(p + i, plen);
        memcpy(h, "TNR1", 4);
        for (int k = 0; k < 4; k++) {
            h[4 + k] = (uint8_t) (plen >> (8 * k));
            h[8 + k] = (uint8_t) (crc >> (8 * k));
        }
        uint32_t hcrc = tn_crc32(h, 12);
        for (int k = 0; k < 4; k++)
            h[12 + k] = (uint8_t) (hcrc >> (8 * k));
        memcpy(h + 16, p + i, plen);
        o += 16 + plen;
        i += plen;
    }
    *out_len = o;
    return out;
}

static char *stats_json(const tn_model_t *m) {
    tn_snap_t *s = fz_snapshot(m);
    tn_val_t out = TN_VAL_NIL;
    tn_error_t err = TN_ERROR_INIT;
    FZ_CHECK(tn_query_run(tn_query_find("graph.stats"), s, NULL, NULL, &out, &err) == TN_OK);
    int64_t total = -1;
    FZ_CHECK(tn_val_as_int(tn_map_get(tn_map_get(&out, "pairs"), "total"), &total));
    FZ_CHECK((size_t) total == tn_model_pair_count(m));
    char *j = fz_to_json(&out);
    tn_val_free(&out);
    tn_snap_release(s);
    return j;
}

static void load(int journal_given, uint64_t snapshot_epoch) {
    tn_store_opts_t opts = { TN_FSYNC_NO, 0, 0, tn_registry_change_kind, 0 };
    tn_store_t *st = NULL;
    tn_model_t *m = NULL;
    tn_error_t err = TN_ERROR_INIT;
    off_t jbefore = file_size("journal.tnj");
    tn_code_t rc = tn_store_open(dir, &opts, NULL, &st, &m, &err);
    if (rc != TN_OK) {
        FZ_CHECK(rc == TN_ERR_PARSE);
        FZ_CHECK(st == NULL && m == NULL);
        FZ_CHECK(err.message[0] != '\0');
        /* Nothing is written to a directory that failed to load. */
        FZ_CHECK(file_size("journal.tnj") == jbefore);
        tn_error_clear(&err);
        return;
    }
    if (journal_given) {
        FZ_CHECK(tn_model_epoch(m) >= snapshot_epoch);
        FZ_CHECK((off_t) tn_store_journal_bytes(st) == file_size("journal.tnj"));
        FZ_CHECK(file_size("journal.tnj") <= jbefore);
    }
    char *before = stats_json(m);
    uint64_t epoch = tn_model_epoch(m);
    /* Write it back and load it again: the same graph at the same epoch. */
    FZ_CHECK(tn_store_compact(st, m, &err) == TN_OK);
    tn_store_close(st);
    tn_model_free(m);
    FZ_CHECK(tn_store_open(dir, &opts, NULL, &st, &m, &err) == TN_OK);
    FZ_CHECK(tn_model_epoch(m) == epoch);
    char *after = stats_json(m);
    FZ_CHECK(strcmp(before, after) == 0);
    free(before);
    free(after);
    tn_store_close(st);
    tn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    if (base_snapshot == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    size_t flen;
    uint8_t *framed;
    switch (data[0] % 5) {
    case 0:
        scan_only(p, n, data[0] >= 5 ? (data[0] - 5) % 8 : -1);
        break;
    case 1:
        put_file("snapshot.tns", base_snapshot, base_snapshot_len);
        put_file("journal.tnj", p, n);
        load(1, 1);
        break;
    case 2:
        put_file("snapshot.tns", p, n);
        drop_file("journal.tnj");
        load(0, 0);
        break;
    case 3:
        framed = frame_records(p, n, &flen);
        put_file("snapshot.tns", base_snapshot, base_snapshot_len);
        put_file("journal.tnj", framed, flen);
        free(framed);
        load(1, 1);
        break;
    default:
        framed = frame_records(p, n, &flen);
        drop_file("journal.tnj");
        put_file("snapshot.tns", framed, flen);
        free(framed);
        load(0, 0);
        break;
    }
    return 0;
}
