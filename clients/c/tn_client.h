/*
 * tn_client.h -- a small blocking msgpack-RPC client for twinnetd.
 *
 * One connection, one thread. tn_client_call() sends a request and waits
 * for the response with its msgid, skipping server notifications; the
 * send/recv pair lets benchmarks pipeline many requests. Incoming bytes go
 * through the same frame scanner and decoder as the server's (frame.h,
 * codec.h), so a broken or hostile server cannot make the client allocate
 * without bound.
 *
 * Errors: a reply carrying an error is returned as its code, with the
 * message and data copied into the caller's tn_error_t. Transport failures
 * (cannot connect, connection lost, no reply within the timeout, bytes that
 * are not msgpack-RPC) are TN_ERR_UNAVAILABLE with a message that names the
 * server, and leave the client broken: tn_client_broken() then says so, and
 * the only useful call left is tn_client_close().
 */
#ifndef TN_CLIENT_H
#define TN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "value.h"

typedef struct tn_client tn_client_t;

/* Connect to host:port (a name or a numeric IPv4/IPv6 address), waiting at
 * most timeout_ms (<= 0: no limit) for the connection and, later, for each
 * read or write. Returns a client to free with tn_client_close(), or NULL
 * with a reason in err ("cannot connect to 127.0.0.1:7700: Connection
 * refused"). */
tn_client_t *tn_client_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen);

/* Close the connection and free the client. Accepts NULL. */
void tn_client_close(tn_client_t *c);

/* Send [0, msgid, method, [options]] (options NULL or nil: []) and wait for
 * its response. 'result' must be nil on entry; on TN_OK it holds the result
 * (the caller frees it). 'err' must be initialized (TN_ERROR_INIT); it is
 * cleared on entry and, on failure, holds the server's code, message and
 * data, or a transport failure (TN_ERR_UNAVAILABLE). Responses to other
 * msgids and notifications that arrive meanwhile are dropped. */
tn_code_t tn_client_call(tn_client_t *c, const char *method, const tn_val_t *options,
                         tn_val_t *result, tn_error_t *err);

/* Send a request without waiting; its msgid is stored in *msgid. */
tn_code_t tn_client_send(tn_client_t *c, const char *method, const tn_val_t *options,
                         uint32_t *msgid, tn_error_t *err);

/* Send a notification [2, method, [param]] (param NULL or nil: []). */
tn_code_t tn_client_notify(tn_client_t *c, const char *method, const tn_val_t *param,
                           tn_error_t *err);

/* Wait for the next whole message and decode it into *msg (nil on entry):
 * the raw envelope, to be read with tn_rpc_parse() (codec.h). */
tn_code_t tn_client_recv(tn_client_t *c, tn_val_t *msg, tn_error_t *err);

/* Nonzero once a transport failure has made the connection unusable. */
int tn_client_broken(const tn_client_t *c);

/* The "host:port" this client talks to, for messages. */
const char *tn_client_peer(const tn_client_t *c);

#endif
