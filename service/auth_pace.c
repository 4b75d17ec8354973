/*
 * auth_pace.c -- when a failed auth may be answered.
 *
 * Two budgets, and a failure waits for both:
 *  - per address: failures from one address are answered one after
 *    another, each at least the connection's delay after the previous one,
 *    so opening many connections does not multiply an address's guesses;
 *  - server-wide: all failures together are answered at most
 *    auth_fail_rate a second, so many source addresses (a botnet, or the
 *    whole of 127.0.0.0/8) do not multiply them either.
 * A right token never waits for either.
 *
 * The address table has TN_AUTH_PENALTY_MAX entries. When it is full a new
 * address takes over the entry whose penalty ran out first -- never the
 * whole table at once, which would forgive every address in force.
 */
#include <stdio.h>
#include <string.h>

#include "auth_pace.h"
#include "reply.h"

static auth_penalty_t *entry_of(tn_server_t *srv, const char *addr, uint64_t now) {
    for (size_t i = 0; i < srv->npenalty; i++)
        if (strcmp(srv->penalty[i].addr, addr) == 0)
            return &srv->penalty[i];
    auth_penalty_t *e;
    if (srv->npenalty < TN_AUTH_PENALTY_MAX) {
        e = &srv->penalty[srv->npenalty++];
    } else {
        e = &srv->penalty[0];
        for (size_t i = 1; i < srv->npenalty; i++)
            if (srv->penalty[i].next_ns < e->next_ns)
                e = &srv->penalty[i];
        /* If even that one is still in force, the newcomer inherits its
         * wait: a full table slows guessing down, never speeds it up. */
    }
    snprintf(e->addr, sizeof e->addr, "%s", addr);
    if (e->next_ns < now)
        e->next_ns = now;
    return e;
}

int tn_auth_pace_ms(tn_server_t *srv, const char *peer, int conn_delay_ms) {
    char addr[64];
    snprintf(addr, sizeof addr, "%s", peer);
    char *colon = strrchr(addr, ':');
    if (colon)
        *colon = '\0';
    uint64_t now = tn_now_ns();
    auth_penalty_t *e = entry_of(srv, addr, now);
    uint64_t at = (e->next_ns > now ? e->next_ns : now) + (uint64_t) conn_delay_ms * 1000000ULL;
    e->next_ns = at;
    uint64_t slot = srv->auth_fail_next_ns > now ? srv->auth_fail_next_ns : now;
    int rate = srv->cfg.auth_fail_rate > 0 ? srv->cfg.auth_fail_rate : 1;
    srv->auth_fail_next_ns = slot + 1000000000ULL / (uint64_t) rate;
    if (slot > at)
        at = slot;
    return (int) ((at - now) / 1000000ULL);
}
