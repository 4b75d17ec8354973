/*
 * live.h -- the fast answer of a cached live query (metrics.get): the
 * cached result's MessagePack bytes with the server's figures of now
 * spliced in as one more map entry, instead of copying the value tree and
 * encoding all of it again for every request.
 */
#ifndef TN_LIVE_H
#define TN_LIVE_H

#include <stddef.h>

#include "reply.h"

struct tn_server;

/* Answer 'call' with the encoded map 'enc' plus "server": 0 when
 * answered, -1 when 'enc' is not a map or memory ran out (nothing sent:
 * the caller answers another way). Loop thread only. */
int tn_live_reply(struct tn_server *srv, const tn_call_t *call, const char *enc, size_t len);

#endif
