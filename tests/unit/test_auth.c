/*
 * test_auth.c -- the token file's rules and token checks.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "test.h"

static char path[64];

static void write_file(const char *text, mode_t mode) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void test_good_file(void) {
    char err[256];
    write_file("# dashboards\nread dash r0a1b2c3d4e5f6g7h\n\nwrite ana w0a1b2c3d4e5f6g7h # analyst\n"
               "admin boss a0b1c2d3e4f5g6h7i\n", 0600);
    tn_auth_t *a = tn_auth_load(path, err, sizeof err);
    CHECK(a != NULL);
    CHECK_EQ_INT(tn_auth_count(a), 3);
    const char *name;
    CHECK_EQ_INT(tn_auth_check(a, "r0a1b2c3d4e5f6g7h", 17, &name), TN_ROLE_READ);
    CHECK_EQ_STR(name, "dash");
    CHECK_EQ_INT(tn_auth_check(a, "w0a1b2c3d4e5f6g7h", 17, &name), TN_ROLE_WRITE);
    CHECK_EQ_INT(tn_auth_check(a, "a0b1c2d3e4f5g6h7i", 17, &name), TN_ROLE_ADMIN);
    CHECK_EQ_STR(name, "boss");
    /* Prefixes, extensions, empty, embedded NUL, over-long: all refused. */
    CHECK_EQ_INT(tn_auth_check(a, "a0b1c2d3e4f5g6h7", 16, &name), TN_ROLE_NONE);
    CHECK(name == NULL);
    CHECK_EQ_INT(tn_auth_check(a, "a0b1c2d3e4f5g6h7ix", 18, &name), TN_ROLE_NONE);
    CHECK_EQ_INT(tn_auth_check(a, "", 0, &name), TN_ROLE_NONE);
    CHECK_EQ_INT(tn_auth_check(a, "a0b1c2d3e4f5g6h7i\0", 18, &name), TN_ROLE_NONE);
    char big[10000];
    memset(big, 'a', sizeof big);
    CHECK_EQ_INT(tn_auth_check(a, big, sizeof big, &name), TN_ROLE_NONE);
    CHECK_EQ_INT(tn_auth_check(NULL, "a0b1c2d3e4f5g6h7i", 17, &name), TN_ROLE_NONE);
    tn_auth_free(a);
    CHECK_EQ_STR(tn_role_name(TN_ROLE_WRITE), "write");
    CHECK_EQ_STR(tn_role_name(TN_ROLE_NONE), "none");
}

static void refused(const char *text, mode_t mode, const char *why) {
    char err[256] = "";
    write_file(text, mode);
    tn_auth_t *a = tn_auth_load(path, err, sizeof err);
    CHECK(a == NULL);
    if (strstr(err, why) == NULL) {
        fprintf(stderr, "expected '%s' in: %s\n", why, err);
        CHECK(0);
    }
    tn_auth_free(a);
}

static void test_bad_files(void) {
    refused("read dash r0a1b2c3d4e5f6g7h\n", 0644, "group or others");
    refused("read dash r0a1b2c3d4e5f6g7h\n", 0640, "group or others");
    refused("reader dash r0a1b2c3d4e5f6g7h\n", 0600, "role must be");
    refused("read dash short\n", 0600, "a token must have");
    refused("read dash\n", 0600, "expected 'role name token'");
    refused("read dash r0a1b2c3d4e5f6g7h extra\n", 0600, "expected 'role name token'");
    refused("read dash r0a1b2c3d4e5f6g7h\nadmin dash a0b1c2d3e4f5g6h7i\n", 0600, "duplicate name");
    refused("# nothing\n\n", 0600, "no tokens");
    refused("read dash aaaaaaaaaaaaaaaaaaaa\n", 0600, "weak");
    /* A symlink to a good file is refused: the file itself must be ours. */
    write_file("read dash r0a1b2c3d4e5f6g7h\n", 0600);
    char link[80], err[256];
    snprintf(link, sizeof link, "%s.link", path);
    unlink(link);
    CHECK(symlink(path, link) == 0);
    CHECK(tn_auth_load(link, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a regular file") != NULL);
    unlink(link);
    CHECK(tn_auth_load("/nonexistent/tokens", err, sizeof err) == NULL);
}

int main(void) {
    snprintf(path, sizeof path, "/tmp/tn_tokens_%d", (int) getpid());
    RUN(test_good_file);
    RUN(test_bad_files);
    unlink(path);
    return TEST_DONE();
}
