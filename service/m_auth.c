/*
 * m_auth.c -- the auth method: a token gives the caller its role. Failed
 * attempts are answered late, later after each failure and per address
 * (not per connection), with reading paused meanwhile; the caller is hung
 * up after too many. The token is never logged.
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "auth_pace.h"
#include "handlers.h"
#include "log.h"

static void auth_reply_cb(evutil_socket_t fd, short what, void *arg) {
    (void) fd;
    (void) what;
    tn_caller_t *c = arg;
    tn_server_t *srv = c->srv;
    tn_error_t err = TN_ERROR_INIT;
    tn_call_t call = { c, c->auth_msgid, c->auth_t0, &srv->stats, "auth" };
    tn_error_set(&err, TN_ERR_UNAUTHORIZED, "invalid token");
    c->auth_pending = 0;
    tn_reply_error(&call, &err);
    if (c->auth_failures >= srv->cfg.max_auth_failures) {
        tn_log(TN_LOG_WARN, "closing %s after %d failed auth attempts", c->peer, c->auth_failures);
        if (c->ops->hang_up)
            c->ops->hang_up(c);
        return;
    }
    if (c->ops->resume)
        c->ops->resume(c);
}

void tn_m_auth(tn_server_t *srv, const tn_call_t *call, const tn_val_t *opts) {
    tn_caller_t *c = call->caller;
    const tn_val_t *tok = tn_map_get(opts, "token");
    if (tok == NULL || tok->type != TN_V_STR)
        return tn_reply_code(call, TN_ERR_INVALID_PARAMS, "%s", "token: a string is required");
    tn_val_t res = TN_VAL_NIL;
    if (srv->cfg.auth == NULL) {
        /* No token file: every loopback client already has every right. */
        if (tn_val_set_map(&res, 1) == 0 && tn_map_add_str(&res, "role", "admin") == 0)
            tn_reply_result(call, &res);
        tn_val_free(&res);
        return;
    }
    const char *name;
    int role = tn_auth_check(srv->cfg.auth, tok->u.s.p, tok->u.s.len, &name);
    if (role == TN_ROLE_NONE) {
        /* Never log the token. Answer later, and later still after each
         * failure, with reading paused: guessing costs time per attempt. */
        c->auth_failures++;
        tn_log(TN_LOG_WARN, "auth failed from %s (attempt %d)", c->peer, c->auth_failures);
        int delay_ms = tn_auth_pace_ms(srv, c->peer, srv->cfg.auth_delay_ms << (c->auth_failures - 1));
        struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
        c->auth_pending = 1;
        c->auth_msgid = call->msgid;
        c->auth_t0 = call->t0;
        if (c->ops->pause)
            c->ops->pause(c);
        if (c->auth_timer == NULL)
            c->auth_timer = evtimer_new(srv->base, auth_reply_cb, c);
        if (c->auth_timer == NULL || evtimer_add(c->auth_timer, &tv) != 0)
            auth_reply_cb(-1, 0, c);
        return;
    }
    c->role = role;
    c->role_name = tn_role_name(role);
    snprintf(c->token_name, sizeof c->token_name, "%s", name);
    tn_log(TN_LOG_INFO, "%s authenticated as %s (%s)", c->peer, name, c->role_name);
    if (tn_val_set_map(&res, 1) == 0 && tn_map_add_str(&res, "role", c->role_name) == 0)
        tn_reply_result(call, &res);
    tn_val_free(&res);
}
