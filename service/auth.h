/*
 * auth.h -- access tokens: loading the token file and checking a token.
 *
 * The file has one "role name token" line per token (roles read, write,
 * admin; '#' starts a comment). It must be a regular file (not a symlink)
 * that neither group nor others may read: tokens are secrets. A token has
 * 16 to 255 characters, at least 8 of them different. Tokens are
 * compared in constant time against every entry, so the time an answer
 * takes says nothing about how close a guess was.
 */
#ifndef TN_AUTH_H
#define TN_AUTH_H

#include <stddef.h>

#define TN_ROLE_NONE  (-1)
#define TN_ROLE_READ  0
#define TN_ROLE_WRITE 1
#define TN_ROLE_ADMIN 2

#define TN_TOKEN_MIN 16
#define TN_TOKEN_MAX 256
#define TN_TOKEN_MIN_DISTINCT 8

typedef struct tn_auth tn_auth_t;

/* Load 'path'; NULL with a message in err on any problem (unreadable,
 * readable by group/others, a symlink, a malformed line, a short token, a
 * duplicate name). */
tn_auth_t *tn_auth_load(const char *path, char *err, size_t errlen);
void tn_auth_free(tn_auth_t *a);

/* The role of 'token' (len bytes) and its name (borrowed), or
 * TN_ROLE_NONE. Constant time in the token's content. */
int tn_auth_check(const tn_auth_t *a, const char *token, size_t len, const char **name);

const char *tn_role_name(int role);   /* "read", "write", "admin", "none" */
size_t tn_auth_count(const tn_auth_t *a);

#endif
