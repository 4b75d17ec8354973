/*
 * test.h -- the unit tests' whole framework: checks that print both sides,
 * a runner, and a summary line. Each tests/unit/test_<module>.c is its own
 * executable registered with ctest; it exits non-zero on any failed check.
 */
#ifndef TN_TEST_H
#define TN_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tn_test_failed;
static int tn_test_checks;

#define CHECK(cond) do { tn_test_checks++; if (!(cond)) { tn_test_failed++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); tn_test_checks++; \
    if (_a != _b) { tn_test_failed++; fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
    __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

#define CHECK_EQ_STR(a, b) do { const char *_a = (a), *_b = (b); tn_test_checks++; \
    if (!_a || !_b || strcmp(_a, _b) != 0) { tn_test_failed++; fprintf(stderr, \
    "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
    _a ? _a : "(null)", _b ? _b : "(null)"); } } while (0)

#define CHECK_NEAR(a, b, eps) do { double _a = (a), _b = (b); tn_test_checks++; \
    if (!(fabs(_a - _b) <= (eps))) { tn_test_failed++; fprintf(stderr, \
    "%s:%d: %s ~ %s failed: %.12g != %.12g\n", __FILE__, __LINE__, #a, #b, _a, _b); } } while (0)

#define RUN(fn) do { int _before = tn_test_failed; fn(); \
    fprintf(stderr, "%s %s\n", tn_test_failed == _before ? "ok  " : "FAIL", #fn); } while (0)

#define TEST_DONE() (fprintf(stderr, "%d checks, %d failed\n", tn_test_checks, tn_test_failed), \
    tn_test_failed ? 1 : 0)

#endif
