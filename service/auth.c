/*
 * auth.c -- the token file and constant-time token checks (see auth.h).
 */
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct entry {
    int role;
    char name[64];
    char token[TN_TOKEN_MAX];
    size_t len;
} entry_t;

struct tn_auth {
    entry_t *e;
    size_t n;
};

const char *tn_role_name(int role) {
    switch (role) {
    case TN_ROLE_READ: return "read";
    case TN_ROLE_WRITE: return "write";
    case TN_ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

size_t tn_auth_count(const tn_auth_t *a) {
    return a ? a->n : 0;
}

void tn_auth_free(tn_auth_t *a) {
    if (a == NULL)
        return;
    /* Do not leave secrets lying in freed memory. */
    volatile unsigned char *p = (volatile unsigned char *) a->e;
    for (size_t i = 0; i < a->n * sizeof *a->e; i++)
        p[i] = 0;
    free(a->e);
    free(a);
}

static int parse_role(const char *s) {
    if (strcmp(s, "read") == 0)
        return TN_ROLE_READ;
    if (strcmp(s, "write") == 0)
        return TN_ROLE_WRITE;
    if (strcmp(s, "admin") == 0)
        return TN_ROLE_ADMIN;
    return TN_ROLE_NONE;
}

tn_auth_t *tn_auth_load(const char *path, char *err, size_t errlen) {
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        snprintf(err, errlen, "token file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "token file %s is not a regular file (symlinks are refused)", path);
        return NULL;
    }
    if (sb.st_mode & 077) {
        snprintf(err, errlen, "token file %s may be read by group or others (mode %03o); "
                 "run: chmod 600 %s", path, (unsigned) (sb.st_mode & 0777), path);
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "token file %s: %s", path, strerror(errno));
        return NULL;
    }
    tn_auth_t *a = calloc(1, sizeof *a);
    size_t cap = 0;
    char line[1024];
    int lineno = 0, ok = a != NULL;
    if (!ok)
        snprintf(err, errlen, "out of memory");
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            ok = 0;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char role[32], name[128], token[TN_TOKEN_MAX + 2], extra[8];
        int got = sscanf(line, "%31s %127s %257s %7s", role, name, token, extra);
        if (got <= 0)
            continue;                 /* blank or comment */
        if (got != 3) {
            snprintf(err, errlen, "%s:%d: expected 'role name token'", path, lineno);
            ok = 0;
            break;
        }
        int r = parse_role(role);
        size_t tl = strlen(token);
        if (r == TN_ROLE_NONE) {
            snprintf(err, errlen, "%s:%d: role must be read, write or admin", path, lineno);
            ok = 0;
        } else if (strlen(name) >= sizeof a->e[0].name) {
            snprintf(err, errlen, "%s:%d: name too long", path, lineno);
            ok = 0;
        } else if (tl < TN_TOKEN_MIN || tl >= TN_TOKEN_MAX) {
            snprintf(err, errlen, "%s:%d: a token must have %d to %d characters", path, lineno,
                     TN_TOKEN_MIN, TN_TOKEN_MAX - 1);
            ok = 0;
        }
        if (ok) {
            /* Length alone lets "aaaaaaaaaaaaaaaa" through: ask for some
             * variety too (a random token has plenty). */
            unsigned char seen[256] = { 0 };
            int distinct = 0;
            for (size_t i = 0; i < tl; i++)
                if (!seen[(unsigned char) token[i]]++)
                    distinct++;
            if (distinct < TN_TOKEN_MIN_DISTINCT) {
                snprintf(err, errlen, "%s:%d: the token of %s is weak (fewer than %d different "
                         "characters); use e.g. `openssl rand -hex 24`", path, lineno, name,
                         TN_TOKEN_MIN_DISTINCT);
                ok = 0;
            }
        }
        for (size_t i = 0; ok && i < a->n; i++)
            if (strcmp(a->e[i].name, name) == 0) {
                snprintf(err, errlen, "%s:%d: duplicate name %s", path, lineno, name);
                ok = 0;
            }
        if (!ok)
            break;
        if (a->n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            entry_t *p = realloc(a->e, ncap * sizeof *p);
            if (p == NULL) {
                snprintf(err, errlen, "out of memory");
                ok = 0;
                break;
            }
            a->e = p;
            cap = ncap;
        }
        entry_t *e = &a->e[a->n++];
        memset(e, 0, sizeof *e);
        e->role = r;
        memcpy(e->name, name, strlen(name) + 1);   /* length checked above */
        memcpy(e->token, token, tl);
        e->len = tl;
    }
    fclose(f);
    if (ok && a->n == 0) {
        snprintf(err, errlen, "token file %s has no tokens", path);
        ok = 0;
    }
    if (!ok) {
        tn_auth_free(a);
        return NULL;
    }
    return a;
}

/* Compare without branching on content: the loop always runs over the
 * whole stored token, whatever the guess. */
static int same(const entry_t *e, const char *t, size_t len) {
    unsigned char diff = (unsigned char) (len != e->len);
    for (size_t i = 0; i < TN_TOKEN_MAX; i++) {
        unsigned char x = i < e->len ? (unsigned char) e->token[i] : 0;
        unsigned char y = i < len ? (unsigned char) t[i] : 0;
        diff |= (unsigned char) (x ^ y);
    }
    return diff == 0;
}

int tn_auth_check(const tn_auth_t *a, const char *token, size_t len, const char **name) {
    int role = TN_ROLE_NONE;
    *name = NULL;
    if (a == NULL || len >= TN_TOKEN_MAX)
        return TN_ROLE_NONE;
    for (size_t i = 0; i < a->n; i++)
        if (same(&a->e[i], token, len)) {
            role = a->e[i].role;
            *name = a->e[i].name;
        }
    return role;
}
