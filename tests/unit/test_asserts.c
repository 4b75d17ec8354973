/*
 * test_asserts.c -- internal invariants are checked in the builds we test
 * and ship: NDEBUG is not defined (the top-level CMakeLists.txt strips it
 * from the release flags), and a library assert really stops the process.
 *
 * The library assert used is the frame scanner's own state check: a frame
 * whose open-container count is past the hard bound can only come from a
 * bug in the scanner, never from the bytes it is given.
 */
#include "test.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"

static void test_ndebug_undefined(void) {
#ifdef NDEBUG
    CHECK(!"NDEBUG is defined: assert() is compiled out");
#else
    CHECK(1);
#endif
}

/* Scan with a corrupted frame in a child; it must die of SIGABRT. */
static void test_library_assert_fires(void) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);          /* no core file for an expected abort */
        tn_frame_t f;
        tn_frame_limits_t lim;
        tn_frame_limits_default(&lim);
        tn_frame_reset(&f);
        f.depth = TN_FRAME_MAX_DEPTH + 1;
        const uint8_t one = 0x01;
        tn_frame_scan(&f, &one, 1, &lim);
        _exit(0);                               /* reached only if the assert is gone */
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void) {
    RUN(test_ndebug_undefined);
    RUN(test_library_assert_fires);
    return TEST_DONE();
}
