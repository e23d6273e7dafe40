/* The held folder (lk_sys_tree_*), the OS layer's last guard rails and a
 * cleanup that acts only on the plan a person approved, against real files
 * and real processes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latchkey/doctor.h"
#include "latchkey/sys.h"
#include "../lk_check.h"

static char base[256];

static char *at(const char *rel)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", base, rel);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A child that opens `file` and waits; its pid once it holds it. */
static pid_t holder(const char *file)
{
    int ready[2];
    char c;
    pid_t pid;
    if (pipe(ready) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        int fd = open(file, O_RDONLY);
        (void)fd;
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1)
        pid = -1;
    close(ready[0]);
    return pid;
}

static int dead(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == pid || kill(pid, 0) != 0;
}

static void test_single_entries(void)
{
    lk_tree *t = NULL;
    lk_error err;
    mkdir(at("s1"), 0755);
    mkdir(at("s1/session-a"), 0755);
    mkdir(at("s1/session-a/Default"), 0755);
    mkdir(at("outside"), 0755);
    write_file(at("outside/keep"), "keep");
    symlink(at("outside/keep"), at("s1/session-a/SingletonLock"));
    write_file(at("s1/session-a/Default/Cookies"), "c");
    CHECK(lk_sys_tree_open(at("s1/session-a"), &t, &err) == LK_OK);
    CHECK_STR(lk_sys_tree_path(t), at("s1/session-a"));
    CHECK(lk_sys_tree_entry(t, "SingletonLock") == LK_FT_LINK);
    CHECK(lk_sys_tree_entry(t, "Default") == LK_FT_DIR);
    CHECK(lk_sys_tree_unlink(t, "Default", &err) == LK_EINVAL); /* never a folder */
    CHECK(exists(at("s1/session-a/Default/Cookies")));
    CHECK(lk_sys_tree_unlink(t, "../outside/keep", &err) == LK_EINVAL); /* a name, not a path */
    CHECK(lk_sys_tree_unlink(t, "SingletonLock", &err) == LK_OK);
    CHECK(!exists(at("s1/session-a/SingletonLock")));
    CHECK(exists(at("outside/keep"))); /* the link went, not what it pointed to */
    CHECK(lk_sys_tree_unlink(t, "SingletonLock", &err) == LK_OK); /* gone is fine */
    {
        uint64_t files = 0, bytes = 0;
        CHECK(lk_sys_tree_usage(t, &files, &bytes, &err) == LK_OK);
        CHECK(files == 1 && bytes == 1);
    }
    lk_sys_tree_close(t);
}

static void test_identity_after_kill_phase(void)
{
    lk_tree *t = NULL;
    lk_error err;
    mkdir(at("s2"), 0755);
    mkdir(at("s2/session-b"), 0755);
    mkdir(at("s2/other"), 0755);
    /* Renamed away: the name is gone. */
    CHECK(lk_sys_tree_open(at("s2/session-b"), &t, &err) == LK_OK);
    CHECK(lk_sys_tree_check(t, &err) == LK_OK);
    rename(at("s2/session-b"), at("s2/session-b.moved"));
    CHECK(lk_sys_tree_check(t, &err) == LK_ENOENT);
    /* Another folder put in its place: refused, and removal refuses too. */
    rename(at("s2/other"), at("s2/session-b"));
    CHECK(lk_sys_tree_check(t, &err) == LK_EREFUSED);
    {
        lk_remove_pass pass;
        CHECK(lk_sys_tree_remove_once(t, &pass, &err) == LK_EREFUSED);
        lk_remove_pass_free(&pass);
    }
    CHECK(exists(at("s2/session-b")));
    /* A link put in its place: refused. */
    rename(at("s2/session-b"), at("s2/other"));
    symlink(at("s2/other"), at("s2/session-b"));
    CHECK(lk_sys_tree_check(t, &err) == LK_EREFUSED);
    lk_sys_tree_close(t);
    /* A link is never opened as the folder. */
    CHECK(lk_sys_tree_open(at("s2/session-b"), &t, &err) == LK_EREFUSED);
    CHECK(lk_sys_tree_open(at("s2/nope"), &t, &err) == LK_ENOENT);
    CHECK(lk_sys_tree_open("/", &t, &err) == LK_EREFUSED);
}

static void test_trash_keeps_older_sessions(void)
{
    lk_tree *t = NULL;
    lk_error err;
    lk_remove_pass pass;
    char *moved = NULL;
    mkdir(at("s3"), 0755);
    mkdir(at("s3/.latchkey-trash"), 0700);
    mkdir(at("s3/.latchkey-trash/session-old-1"), 0755);
    write_file(at("s3/.latchkey-trash/session-old-1/keep"), "old");
    mkdir(at("s3/session-c"), 0755);
    write_file(at("s3/session-c/f"), "f");
    CHECK(lk_sys_tree_open(at("s3/session-c"), &t, &err) == LK_OK);
    CHECK(lk_sys_tree_move_aside(t, ".latchkey-trash", "session-c-1", &moved, &err) == LK_OK);
    CHECK_STR(moved, at("s3/.latchkey-trash/session-c-1"));
    CHECK(!exists(at("s3/session-c")));
    CHECK(lk_sys_tree_remove_once(t, &pass, &err) == LK_OK);
    lk_remove_pass_free(&pass);
    CHECK(!exists(at("s3/.latchkey-trash/session-c-1")));
    lk_sys_tree_drop_trash(t, ".latchkey-trash");
    CHECK(exists(at("s3/.latchkey-trash/session-old-1/keep"))); /* never a tree removal */
    lk_sys_tree_close(t);
    free(moved);
    /* An empty trash goes. */
    unlink(at("s3/.latchkey-trash/session-old-1/keep"));
    rmdir(at("s3/.latchkey-trash/session-old-1"));
    mkdir(at("s3/session-d"), 0755);
    CHECK(lk_sys_tree_open(at("s3/session-d"), &t, &err) == LK_OK);
    CHECK(lk_sys_tree_move_aside(t, ".latchkey-trash", "session-d-1", &moved, &err) == LK_OK);
    CHECK(lk_sys_tree_remove_once(t, &pass, &err) == LK_OK);
    lk_remove_pass_free(&pass);
    lk_sys_tree_drop_trash(t, ".latchkey-trash");
    CHECK(!exists(at("s3/.latchkey-trash")));
    lk_sys_tree_close(t);
    free(moved);
    /* A trash that is a link is never used. */
    mkdir(at("s3/session-e"), 0755);
    symlink(at("outside"), at("s3/.latchkey-trash"));
    CHECK(lk_sys_tree_open(at("s3/session-e"), &t, &err) == LK_OK);
    CHECK(lk_sys_tree_move_aside(t, ".latchkey-trash", "session-e-1", &moved, &err) == LK_EREFUSED);
    CHECK(exists(at("s3/session-e")) && !exists(at("outside/session-e-1")));
    lk_sys_tree_close(t);
    free(moved);
}

static void test_os_guard_rails(void)
{
    lk_error err;
    lk_snapshot *snap = NULL;
    const lk_proc *self, *parent;
    CHECK(lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) == LK_OK);
    self = lk_snapshot_find(snap, getpid());
    parent = lk_snapshot_find(snap, getppid());
    CHECK(self && parent);
    /* Whatever a caller planned: never this process, never what started it. */
    CHECK(self && lk_sys_proc_end(self->pid, self->start_id, 1, &err) == LK_EREFUSED);
    CHECK(parent && lk_sys_proc_end(parent->pid, parent->start_id, 1, &err) == LK_EREFUSED);
    CHECK(lk_sys_proc_end(1, 0, 1, &err) == LK_EREFUSED);
    CHECK(lk_sys_proc_end(2, 0, 1, &err) == LK_EREFUSED); /* kthreadd */
    CHECK(kill(getppid(), 0) == 0);
    lk_snapshot_free(snap);
}

static void test_approved_plan(void)
{
    lk_cleanup_opts o;
    lk_cleanup *plan = NULL, *done = NULL;
    lk_approved ok[4];
    lk_error err;
    pid_t a, b;
    size_t i, n = 0;
    int b_left = 0;
    mkdir(at("s4"), 0755);
    mkdir(at("s4/session-plan"), 0755);
    write_file(at("s4/session-plan/a"), "a");
    write_file(at("s4/session-plan/b"), "b");
    a = holder(at("s4/session-plan/a"));
    memset(&o, 0, sizeof o);
    o.flags = LK_CLEAN_DRY_RUN;
    CHECK(lk_doctor_cleanup(at("s4/session-plan"), &o, &plan, &err) == LK_OK);
    for (i = 0; plan && plan->before && i < plan->before->nholders && n < 4; i++) {
        ok[n].pid = plan->before->holders[i].proc.pid;
        ok[n++].start_id = plan->before->holders[i].proc.start_id;
    }
    CHECK(n == 1 && ok[0].pid == a); /* the doctor's own handles are not a holder */
    /* Between the plan and the click, something else starts to hold it. */
    b = holder(at("s4/session-plan/b"));
    o.flags = 0;
    o.approved = ok;
    o.napproved = n;
    o.timeout_ms = 5000;
    CHECK(lk_doctor_cleanup(at("s4/session-plan"), &o, &done, &err) == LK_OK);
    CHECK(dead(a));
    CHECK(!dead(b)); /* reported, not ended */
    for (i = 0; done && i < done->nleft; i++)
        b_left |= strstr(done->left[i], "after the plan was shown") != NULL;
    CHECK(b_left);
    CHECK(done && done->result == LK_RESULT_PARTIAL);
    kill(b, SIGKILL);
    waitpid(b, NULL, 0);
    waitpid(a, NULL, 0);
    lk_cleanup_free(plan);
    lk_cleanup_free(done);
}

/* ---- a stand-in Chromium: an executable named chrome ----------------------
 * chrome --fake-chrome FILE READY --user-data-dir=DIR [--type=renderer]
 * holds FILE open and creates READY. The browser (no --type) starts a
 * renderer of its own on SIGUSR1 (holding DIR/renderer, ready at
 * READY.renderer) and ends it, then itself, on SIGTERM. */
static char self_exe[512];

static int fake_chrome(char **argv)
{
    const char *file = argv[2], *ready = argv[3], *uda = argv[4];
    int renderer = argv[5] != NULL, fd, sig;
    pid_t child = 0;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    fd = open(file, O_RDONLY);
    if (fd < 0)
        return 1;
    write_file(ready, "r");
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            return 1;
        if (sig == SIGTERM)
            break;
        if (!renderer && child == 0) {
            char rfile[600], rready[600];
            snprintf(rfile, sizeof rfile, "%s/renderer", uda + strlen("--user-data-dir="));
            snprintf(rready, sizeof rready, "%s.renderer", ready);
            write_file(rfile, "r");
            child = fork();
            if (child == 0) {
                sigprocmask(SIG_UNBLOCK, &set, NULL);
                execl("/proc/self/exe", "chrome", "--fake-chrome", rfile, rready, uda,
                      "--type=renderer", (char *)NULL);
                _exit(127);
            }
        }
    }
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    return 0;
}

/* Starts the stand-in as DIR's browser (or a renderer of it); its pid once
 * it holds FILE. */
static pid_t start_chrome(const char *dir, const char *file, const char *ready, int renderer)
{
    char uda[600];
    pid_t pid;
    int i;
    snprintf(uda, sizeof uda, "--user-data-dir=%s", dir);
    pid = fork();
    if (pid == 0) {
        execl(self_exe, "chrome", "--fake-chrome", file, ready, uda,
              renderer ? "--type=renderer" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 3000 && !exists(ready); i++)
        usleep(10000);
    return exists(ready) ? pid : -1;
}

static int waits_for(const char *file)
{
    int i;
    for (i = 0; i < 3000 && !exists(file); i++)
        usleep(10000);
    return exists(file);
}

/* A renderer that the approved browser starts after the plan was shown is
 * part of what the person approved (it follows its browser); a renderer of
 * the same profile that no approved browser started is not. */
static void test_approved_browser_children(void)
{
    lk_cleanup_opts o;
    lk_cleanup *plan = NULL, *done = NULL;
    lk_approved ok[8];
    lk_error err;
    pid_t browser, stray;
    size_t i, n = 0;
    int stray_left = 0, other_left = 0;
    mkdir(at("s6"), 0755);
    mkdir(at("s6/session-kids"), 0755);
    mkdir(at("s6/session-kids/Default"), 0755);
    write_file(at("s6/session-kids/Default/Cookies"), "c");
    write_file(at("s6/session-kids/stray"), "s");
    browser = start_chrome(at("s6/session-kids"), at("s6/session-kids/Default/Cookies"),
                           at("s6/browser.ready"), 0);
    CHECK(browser > 0);
    memset(&o, 0, sizeof o);
    o.flags = LK_CLEAN_DRY_RUN;
    CHECK(lk_doctor_cleanup(at("s6/session-kids"), &o, &plan, &err) == LK_OK);
    for (i = 0; plan && plan->before && i < plan->before->nholders && n < 8; i++) {
        ok[n].pid = plan->before->holders[i].proc.pid;
        ok[n++].start_id = plan->before->holders[i].proc.start_id;
        CHECK(plan->before->holders[i].kind == LK_KIND_CHROMIUM_BROWSER);
    }
    CHECK(n == 1 && ok[0].pid == browser);
    /* After the plan: the browser starts a renderer, and a renderer of the
     * same profile appears that this browser did not start. */
    kill(browser, SIGUSR1);
    CHECK(waits_for(at("s6/browser.ready.renderer")));
    stray =
        start_chrome(at("s6/session-kids"), at("s6/session-kids/stray"), at("s6/stray.ready"), 1);
    CHECK(stray > 0);
    o.flags = 0;
    o.approved = ok;
    o.napproved = n;
    o.timeout_ms = 8000;
    CHECK(lk_doctor_cleanup(at("s6/session-kids"), &o, &done, &err) == LK_OK);
    CHECK(dead(browser));
    CHECK(!dead(stray)); /* reported, not ended */
    for (i = 0; done && i < done->nleft; i++) {
        if (strstr(done->left[i], "after the plan was shown")) {
            char pid[32];
            snprintf(pid, sizeof pid, "(pid %ld)", (long)stray);
            if (strstr(done->left[i], pid))
                stray_left = 1;
            else
                other_left = 1;
        }
    }
    CHECK(stray_left);  /* the stray renderer is reported */
    CHECK(!other_left); /* the browser's own renderer was not: it ended with it */
    for (i = 0; done && i < done->nkilled; i++)
        CHECK(done->killed[i].pid != stray);
    CHECK(done && done->nkilled == 2); /* the browser and its renderer */
    kill(stray, SIGKILL);
    waitpid(stray, NULL, 0);
    waitpid(browser, NULL, 0);
    lk_cleanup_free(plan);
    lk_cleanup_free(done);
}

static void test_paths_as_typed(void)
{
    char *abs = NULL, cwd[512];
    mkdir(at("s5"), 0755);
    mkdir(at("s5/a"), 0755);
    mkdir(at("s5/a/b"), 0755);
    symlink("a/b", at("s5/lnk"));
    if (!getcwd(cwd, sizeof cwd) || chdir(at("s5")) != 0)
        CHECK(!"cannot chdir");
    CHECK(lk_sys_abspath("x/", &abs, NULL) == LK_OK);
    CHECK_STR(abs, at("s5/x"));
    free(abs);
    CHECK(lk_sys_abspath("./x//y/.", &abs, NULL) == LK_OK);
    CHECK_STR(abs, at("s5/x/y"));
    free(abs);
    CHECK(lk_sys_abspath("../s5/x", &abs, NULL) == LK_OK);
    CHECK_STR(abs, at("s5/x"));
    free(abs);
    /* The kernel's "..": next to what the link points to. */
    CHECK(lk_sys_abspath("lnk/../x", &abs, NULL) == LK_OK);
    CHECK_STR(abs, at("s5/a/x"));
    free(abs);
    CHECK(lk_sys_abspath("", &abs, NULL) == LK_EINVAL);
    if (chdir(cwd) != 0)
        CHECK(!"cannot chdir back");
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/lk-tree.XXXXXX";
    char cmd[1200];
    ssize_t len;
    if (argc >= 5 && strcmp(argv[1], "--fake-chrome") == 0)
        return fake_chrome(argv);
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(base, sizeof base, "%s", tmpl);
    test_single_entries();
    test_identity_after_kill_phase();
    test_trash_keeps_older_sessions();
    test_os_guard_rails();
    test_approved_plan();
    /* The stand-in browser is a copy of this program named chrome. */
    mkdir(at("bin"), 0755);
    snprintf(self_exe, sizeof self_exe, "%s", at("bin/chrome"));
    len = readlink("/proc/self/exe", cmd, sizeof cmd - 1);
    cmd[len > 0 ? len : 0] = '\0';
    {
        char cp[1800];
        snprintf(cp, sizeof cp, "cp '%s' '%s'", cmd, self_exe);
        CHECK(len > 0 && system(cp) == 0);
    }
    test_approved_browser_children();
    test_paths_as_typed();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        printf("could not remove %s\n", base);
    return lk_check_done();
}
