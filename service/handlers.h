/*
 * handlers.h -- the inline methods answered on the loop: server.* and
 * metrics.subscribe (m_server.c), auth (m_auth.c), the streamed-import
 * steps import.begin / chunk / commit / abort (imports.c). Their registry
 * entries are in registry.c; options arrive validated against the entry's
 * schema.
 */
#ifndef TN_HANDLERS_H
#define TN_HANDLERS_H

#include "reply.h"
#include "server_state.h"

void tn_m_server_ping(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_server_time(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_server_info(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_server_save(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_audit_list(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_metrics_subscribe(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_auth(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_begin(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_chunk(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_commit(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_abort(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);

/* Answer {key: true} (out of memory: an internal error). */
void tn_m_reply_true(const tn_call_t *call, const char *key);

/* The server's live figures ("server": uptime, connections, requests,
 * errors, latency), added to answers of TN_MF_LIVE methods. 0 or -1. */
int tn_m_live_figures(tn_server_t *srv, tn_val_t *res);

/* Forget a caller's subscription (it is going away). */
void tn_m_unsubscribe(tn_server_t *srv, tn_caller_t *c);

#endif
