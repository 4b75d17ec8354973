/*
 * live.c -- splice live figures into a cached encoded map (live.h).
 *
 * A MessagePack map is a header (its entry count) followed by its entries,
 * so adding one entry is a new header, the old entries' bytes as they
 * are, and the new key and value. Only the small "server" map is encoded
 * per request.
 */
#include "live.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "handlers.h"
#include "reply.h"

static char *obuf;                  /* the loop thread's reply buffer */
static size_t ocap;

int tn_live_reply(struct tn_server *srv, const tn_call_t *call, const char *enc, size_t len) {
    const unsigned char *p = (const unsigned char *) enc;
    size_t n, hdr;
    if (enc == NULL || len == 0)
        return -1;
    if (p[0] >= 0x80 && p[0] <= 0x8f)
        n = p[0] & 0x0f, hdr = 1;
    else if (p[0] == 0xde && len >= 3)
        n = (size_t) p[1] << 8 | p[2], hdr = 3;
    else
        return -1;                  /* not a map, or one too big to bother */
    if (n + 1 > 0xffff)
        return -1;
    /* {"server": {...}}: its entry is everything after its 1-byte header. */
    tn_val_t one = TN_VAL_NIL;
    char *add = NULL;
    size_t alen = 0, acap = 0;
    if (tn_val_set_map(&one, 1) != 0 || tn_m_live_figures(srv, &one) != 0
        || tn_codec_encode(&one, &add, &alen, &acap) != 0 || alen < 1 || (unsigned char) add[0] != 0x81) {
        tn_val_free(&one);
        free(add);
        return -1;
    }
    tn_val_free(&one);
    size_t need = 3 + (len - hdr) + (alen - 1);
    if (need > ocap) {
        char *q = realloc(obuf, need);
        if (q == NULL) {
            free(add);
            return -1;
        }
        obuf = q;
        ocap = need;
    }
    size_t o = 0;
    if (n + 1 <= 15) {
        obuf[o++] = (char) (0x80 | (n + 1));
    } else {
        obuf[o++] = (char) 0xde;
        obuf[o++] = (char) ((n + 1) >> 8);
        obuf[o++] = (char) ((n + 1) & 0xff);
    }
    memcpy(obuf + o, enc + hdr, len - hdr);
    o += len - hdr;
    memcpy(obuf + o, add + 1, alen - 1);
    o += alen - 1;
    free(add);
    tn_reply_encoded(call, obuf, o);
    return 0;
}
