/*
 * conn.h -- msgpack-RPC connections: the transport behind the caller
 * interface (caller.h) for TCP clients.
 */
#ifndef TN_CONN_H
#define TN_CONN_H

#include "server_state.h"

/* Take a freshly accepted socket (or refuse it when at the limit). */
void tn_conn_accept(tn_server_t *srv, int fd, const char *peer);
/* Close every connection (server shutdown). */
void tn_conn_close_all(tn_server_t *srv);

#endif
