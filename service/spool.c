/*
 * spool.c -- staged import records in an anonymous file (see spool.h).
 *
 * Why a file: a staged record kept as a value tree costs ~480 bytes of
 * memory, so a few connections staging their 10M-record imports could
 * pin tens of GB; encoded on disk it costs ~100 bytes of file and nothing
 * of the heap. Writes go to the page cache (no fsync: a spool does not
 * outlive the process), so the loop thread does not wait on the disk.
 */
#define _GNU_SOURCE
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"

#define WBUF_FLUSH (1u << 20)       /* write out past this many buffered bytes */
#define REC_HDR 5

struct tn_spool {
    int fd;
    uint64_t size;                  /* bytes in the file */
    char *wbuf;                     /* encoded records not yet written */
    size_t wlen, wcap;
    size_t count[2];
    uint64_t mark_size;             /* tn_spool_mark */
    size_t mark_count[2];
};

static int open_anonymous(const char *dir) {
    if (dir == NULL) {
        dir = getenv("TMPDIR");
        if (dir == NULL || dir[0] == '\0')
            dir = "/tmp";
    }
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    /* A file system without O_TMPFILE: a named file, unlinked at once. */
    char path[4096];
    if (snprintf(path, sizeof path, "%s/spool.XXXXXX", dir) >= (int) sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

tn_spool_t *tn_spool_new(const char *dir, tn_error_t *err) {
    tn_spool_t *sp = calloc(1, sizeof *sp);
    if (sp == NULL) {
        tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    sp->fd = open_anonymous(dir);
    if (sp->fd < 0) {
        tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot create a spool file for staged records in %s: %s",
                     dir ? dir : "the temporary directory", strerror(errno));
        free(sp);
        return NULL;
    }
    return sp;
}

/* pwrite (writing) or pread all n bytes of buf at *off, through short
 * transfers and EINTR; *off advances by what was moved, also when it
 * fails. 0, or -1 with errno (ENOSPC: a write moved nothing; EIO: a read
 * met the end of the file). */
static int transfer(int fd, int writing, char *buf, size_t n, uint64_t *off) {
    while (n > 0) {
        ssize_t r = writing ? pwrite(fd, buf, n, (off_t) *off) : pread(fd, buf, n, (off_t) *off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = writing ? ENOSPC : EIO;
            return -1;
        }
        buf += r;
        n -= (size_t) r;
        *off += (uint64_t) r;
    }
    return 0;
}

static int write_out(tn_spool_t *sp) {
    if (transfer(sp->fd, 1, sp->wbuf, sp->wlen, &sp->size) != 0)
        return -1;
    sp->wlen = 0;
    return 0;
}

void tn_spool_mark(tn_spool_t *sp) {
    sp->mark_size = sp->size + sp->wlen;
    sp->mark_count[0] = sp->count[0];
    sp->mark_count[1] = sp->count[1];
}

void tn_spool_rollback(tn_spool_t *sp) {
    if (sp->mark_size >= sp->size) {
        sp->wlen = (size_t) (sp->mark_size - sp->size);
    } else {
        sp->wlen = 0;
        if (ftruncate(sp->fd, (off_t) sp->mark_size) == 0)
            sp->size = sp->mark_size;
        /* else: the next read would see the rolled-back records; the sizes
         * say where the good ones end, and reads stop there. */
        sp->size = sp->mark_size;
    }
    sp->count[0] = sp->mark_count[0];
    sp->count[1] = sp->mark_count[1];
}

tn_code_t tn_spool_put(tn_spool_t *sp, int kind, const tn_val_t *rec, tn_error_t *err) {
    size_t start = sp->wlen;
    if (sp->wlen + REC_HDR > sp->wcap) {
        size_t ncap = sp->wcap ? sp->wcap * 2 : 65536;
        char *p = realloc(sp->wbuf, ncap);
        if (p == NULL)
            return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        sp->wbuf = p;
        sp->wcap = ncap;
    }
    sp->wlen += REC_HDR;
    if (tn_codec_encode(rec, &sp->wbuf, &sp->wlen, &sp->wcap) != 0) {
        sp->wlen = start;
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    size_t n = sp->wlen - start - REC_HDR;
    if (n > 0xffffffffu) {
        sp->wlen = start;
        return tn_error_set(err, TN_ERR_TOO_LARGE, "a staged record is too large");
    }
    unsigned char *h = (unsigned char *) sp->wbuf + start;
    h[0] = (unsigned char) kind;
    for (int i = 0; i < 4; i++)
        h[1 + i] = (unsigned char) (n >> (8 * i));
    sp->count[kind]++;
    if (sp->wlen >= WBUF_FLUSH && write_out(sp) != 0)
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot spool staged records: %s", strerror(errno));
    return TN_OK;
}

tn_code_t tn_spool_flush(tn_spool_t *sp, tn_error_t *err) {
    if (sp->wlen > 0 && write_out(sp) != 0)
        return tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot spool staged records: %s", strerror(errno));
    /* Keep the write buffer small between chunks: it is per import. */
    if (sp->wcap > WBUF_FLUSH * 2) {
        free(sp->wbuf);
        sp->wbuf = NULL;
        sp->wcap = 0;
    }
    return TN_OK;
}

size_t tn_spool_count(const tn_spool_t *sp, int kind) {
    return sp->count[kind];
}

static int read_at(int fd, uint64_t off, void *buf, size_t n) {
    return transfer(fd, 0, buf, n, &off);
}

tn_code_t tn_spool_read(tn_spool_t *sp, tn_val_t *nodes, tn_val_t *pairs, tn_error_t *err) {
    *nodes = TN_VAL_NIL;
    *pairs = TN_VAL_NIL;
    if (tn_spool_flush(sp, err) != TN_OK)
        return err->code;
    tn_val_t *dst[2] = { nodes, pairs };
    if (tn_val_set_arr(nodes, sp->count[0]) != 0 || tn_val_set_arr(pairs, sp->count[1]) != 0) {
        tn_val_free(nodes);
        tn_val_free(pairs);
        return tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
    }
    uint8_t *buf = NULL;
    size_t cap = 0;
    tn_code_t rc = TN_OK;
    for (uint64_t off = 0; off < sp->size && rc == TN_OK;) {
        unsigned char h[REC_HDR];
        if (read_at(sp->fd, off, h, REC_HDR) != 0) {
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot read the staged records back: %s",
                              strerror(errno));
            break;
        }
        size_t n = (size_t) h[1] | (size_t) h[2] << 8 | (size_t) h[3] << 16 | (size_t) h[4] << 24;
        if (h[0] > 1 || off + REC_HDR + n > sp->size) {
            rc = tn_error_set(err, TN_ERR_INTERNAL, "the spool of staged records is damaged");
            break;
        }
        if (n > cap) {
            uint8_t *p = realloc(buf, n);
            if (p == NULL) {
                rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
                break;
            }
            buf = p;
            cap = n;
        }
        tn_val_t v = TN_VAL_NIL;
        if (read_at(sp->fd, off + REC_HDR, buf, n) != 0) {
            rc = tn_error_set(err, TN_ERR_UNAVAILABLE, "cannot read the staged records back: %s",
                              strerror(errno));
        } else if ((rc = tn_codec_decode(buf, n, &v, err)) == TN_OK
                   && tn_arr_push_take(dst[h[0]], &v) != 0) {
            tn_val_free(&v);
            rc = tn_error_set(err, TN_ERR_INTERNAL, "out of memory");
        }
        off += REC_HDR + n;
    }
    free(buf);
    if (rc != TN_OK) {
        tn_val_free(nodes);
        tn_val_free(pairs);
    }
    return rc;
}

void tn_spool_free(tn_spool_t *sp) {
    if (sp == NULL)
        return;
    close(sp->fd);
    free(sp->wbuf);
    free(sp);
}
