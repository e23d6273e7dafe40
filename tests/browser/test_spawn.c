/* The POSIX process tree we own: exec failures come back as errors, output
 * goes to the log, nothing leaks into the child, the whole group is counted
 * and ended. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/sys.h"
#include "../lk_check.h"

static char work[] = "/tmp/lk-spawn-XXXXXX";

static void test_missing(void)
{
    const char *argv[] = {"/no/such/program", "x", NULL};
    const char *bare[] = {"no-such-program-latchkey", NULL};
    lk_child *c = NULL;
    lk_error err;
    CHECK(lk_sys_spawn(argv, NULL, &c, &err) == LK_ENOENT);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "cannot run /no/such/program") != NULL);
    CHECK(strstr(err.msg, "No such file") != NULL);
    printf("missing: %s\n", err.msg);
    CHECK(lk_sys_spawn(bare, NULL, &c, &err) == LK_ENOENT);
    CHECK(lk_sys_spawn(NULL, NULL, &c, &err) == LK_EINVAL);
}

/* stdin is /dev/null, stdout and stderr append to the log, the PATH lookup
 * works, and a descriptor we opened without O_CLOEXEC does not leak. */
static void test_io(void)
{
    char log[256], cmd[512];
    const char *argv[] = {"sh", "-c", cmd, NULL};
    lk_child *c = NULL;
    lk_error err;
    char *out;
    int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
    snprintf(log, sizeof log, "%s/io.log", work);
    snprintf(cmd, sizeof cmd,
             "echo first; echo to-stderr >&2; cat; readlink /proc/self/fd/0; "
             "if [ -e /proc/self/fd/%d ]; then echo leaked; else echo clean; fi; "
             "echo pgid=$(cut -d' ' -f5 /proc/$$/stat) pid=$$",
             leak);
    CHECK(lk_sys_spawn(argv, log, &c, &err) == LK_OK);
    if (!c)
        return;
    CHECK(lk_child_wait(c, lk_sys_now_ms() + 10000) == 1);
    out = lk_t_slurp(log);
    CHECK(out != NULL);
    if (out) {
        char expect[64];
        CHECK(strstr(out, "first\nto-stderr\n/dev/null\nclean\n") != NULL);
        snprintf(expect, sizeof expect, "pgid=%ld pid=%ld", lk_child_pid(c), lk_child_pid(c));
        CHECK(strstr(out, expect) != NULL); /* it leads its own group */
        printf("io log:\n%s", out);
    }
    free(out);
    lk_child_free(c);
    close(leak);

    /* O_APPEND: a second run adds to the log. */
    snprintf(cmd, sizeof cmd, "echo second");
    CHECK(lk_sys_spawn(argv, log, &c, &err) == LK_OK);
    if (c) {
        CHECK(lk_child_wait(c, lk_sys_now_ms() + 10000) == 1);
        lk_child_free(c);
    }
    out = lk_t_slurp(log);
    CHECK(out && strstr(out, "first\n") && strstr(out, "second\n"));
    free(out);
}

/* A child with a grandchild: both counted, both ended by one signal. */
static void test_tree(int force)
{
    const char *argv[] = {"sh", "-c", "sleep 60 & sleep 60; wait", NULL};
    lk_child *c = NULL;
    lk_error err;
    int64_t deadline = lk_sys_now_ms() + 10000;
    int n = 0;
    CHECK(lk_sys_spawn(argv, NULL, &c, &err) == LK_OK);
    if (!c)
        return;
    CHECK(lk_child_pid(c) > 0);
    CHECK(lk_sys_proc_same(lk_child_pid(c), lk_child_start_id(c)) == 1);
    while (lk_sys_now_ms() < deadline && (n = lk_child_tree_count(c)) < 3)
        lk_sys_sleep_ms(5);
    CHECK(n == 3); /* sh and its two sleeps */
    CHECK(lk_child_wait(c, lk_sys_now_ms() + 20) == 0);
    CHECK(lk_child_end_tree(c, force, &err) == LK_OK);
    CHECK(lk_child_wait(c, deadline) == 1);
    while (lk_sys_now_ms() < deadline && lk_child_tree_count(c) > 0)
        lk_sys_sleep_ms(5);
    CHECK(lk_child_tree_count(c) == 0);
    CHECK(lk_sys_proc_same(lk_child_pid(c), lk_child_start_id(c)) == 0);
    /* Ending an empty group again is not an error. */
    CHECK(lk_child_end_tree(c, 1, &err) == LK_OK);
    lk_child_free(c);
}

int main(void)
{
    if (!mkdtemp(work)) {
        perror("mkdtemp");
        return 1;
    }
    test_missing();
    test_io();
    test_tree(0);
    test_tree(1);
    {
        char p[300];
        snprintf(p, sizeof p, "%s/io.log", work);
        unlink(p);
        rmdir(work);
    }
    return lk_check_done();
}
