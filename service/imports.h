/*
 * imports.h -- streamed imports (import.begin / chunk / commit / abort):
 * records staged on the caller until commit, then one import.batch.
 */
#ifndef TN_IMPORTS_H
#define TN_IMPORTS_H

#include "reply.h"
#include "server_state.h"

void tn_m_import_begin(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_chunk(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_commit(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);
void tn_m_import_abort(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts);

/* Drop the imports a caller left unfinished (it is going away). */
void tn_imports_drop(tn_caller_t *c);

#endif
