/*
 * server.h -- twinnetd's server: configuration, start, run, stop.
 *
 * The server owns the live model, the event loop (one thread: every socket,
 * every change, every reply) and the query workers (jobs.h).
 */
#ifndef TN_SERVER_H
#define TN_SERVER_H

#include <stddef.h>

#include "config.h"
#include "model.h"
#include "store.h"

typedef struct tn_server tn_server_t;

/* Bind and prepare. Takes ownership of 'model' and 'store' (store NULL:
 * in memory), also on failure. NULL with a message in 'err' on failure. */
tn_server_t *tn_server_new(const tn_config_t *cfg, tn_model_t *model, tn_store_t *store,
                           char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
int tn_server_port(const tn_server_t *srv);

/* Serve until SIGINT or SIGTERM. 0 on a clean stop. */
int tn_server_run(tn_server_t *srv);

void tn_server_free(tn_server_t *srv);

#endif
