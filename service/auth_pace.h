/*
 * auth_pace.h -- when a failed auth may be answered (auth_pace.c).
 */
#ifndef TN_AUTH_PACE_H
#define TN_AUTH_PACE_H

#include "server_state.h"

/* In how many ms a failed auth from peer may be answered, given the
 * connection's own delay; reserves that slot. */
int tn_auth_pace_ms(tn_server_t *srv, const char *peer, int conn_delay_ms);

#endif
