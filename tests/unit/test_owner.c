/* The owner markers (latchkey/owner.h): one folder, one key however it is
 * typed; hostile marker files are no markers; the lock excludes. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* setenv, symlink */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <direct.h>
#define chdir _chdir
#else
#include <unistd.h>
#endif

#include "latchkey/owner.h"
#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "../lk_check.h"

static char *join(const char *a, const char *b)
{
    return lk_path_join(a, b, lk_sys_path_win());
}

static void set_home(const char *home)
{
#ifdef _WIN32
    _putenv_s("LATCHKEY_HOME", home);
#else
    setenv("LATCHKEY_HOME", home, 1);
#endif
}

/* The one marker file in the owner folder. */
static char *marker_file(const char *home)
{
    char *dir = join(home, "owner"), **names = NULL, *out = NULL;
    size_t n = 0, i;
    if (lk_sys_list_dir(dir, &names, &n, NULL) == LK_OK) {
        for (i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            if (!out && len > 5 && strcmp(names[i] + len - 5, ".stop") == 0)
                out = join(dir, names[i]);
            free(names[i]);
        }
        free(names);
    }
    free(dir);
    return out;
}

static void write_marker(const char *file, const char *text)
{
    CHECK(lk_sys_write_file_atomic(file, text, strlen(text), NULL) == LK_OK);
}

/* A marker text for folder with one field replaced by `field` (NULL: none). */
static char *marker_text(const char *folder, const char *action, const char *by, const char *pid)
{
    size_t n = strlen(folder) * 2 + 256;
    char *t = malloc(n), *esc = malloc(strlen(folder) * 2 + 1), *q = esc;
    const char *p;
    for (p = folder; *p; p++) {
        if (*p == '\\' || *p == '"')
            *q++ = '\\';
        *q++ = *p;
    }
    *q = '\0';
    snprintf(t, n,
             "{\"version\":1,\"folder\":\"%s\",\"action\":\"%s\",\"by\":\"%s\",\"pid\":%s,"
             "\"at_ms\":1}",
             esc, action, by, pid);
    free(esc);
    return t;
}

int main(void)
{
    char *tmp = lk_sys_getenv("TMPDIR"), *base, *home, *sessions, *folder, *ten, *file, *text,
         *key = NULL;
    char name[64], big[5000];
    lk_owner_stop st;
    lk_owner_lock *a = NULL, *b = NULL;
    lk_error err;
#ifdef _WIN32
    if (!tmp)
        tmp = lk_sys_getenv("TEMP");
#endif
    if (!tmp) {
        tmp = malloc(5);
        memcpy(tmp, "/tmp", 5);
    }
    base = tmp;
    snprintf(name, sizeof name, "lk-owner-test-%ld", lk_sys_self_pid());
    home = join(base, name);
    sessions = join(home, "sessions");
    folder = join(sessions, "session-1");
    ten = join(sessions, "session-10");
    CHECK(lk_sys_mkdir(home, NULL) == LK_OK);
    CHECK(lk_sys_mkdir(sessions, NULL) == LK_OK);
    CHECK(lk_sys_mkdir(folder, NULL) == LK_OK);
    CHECK(lk_sys_mkdir(ten, NULL) == LK_OK);
    set_home(home);

    /* Nothing recorded: no marker, and reading creates nothing. */
    CHECK(lk_owner_stopped(folder, &st) == 0);
    file = join(home, "owner");
    CHECK(lk_sys_ftype(file) == LK_FT_NONE);
    free(file);

    /* Recorded: who, what, which process. */
    lk_error_clear(&err);
    CHECK(lk_owner_mark_stop(folder, "cleanup", &err) == LK_OK);
    CHECK(lk_owner_stopped(folder, &st) == 1);
    CHECK_STR(st.action, "cleanup");
    CHECK_STR(st.by, "test_owner");
    CHECK(st.pid == lk_sys_self_pid());
    CHECK(st.at_ms > 0);
    CHECK(lk_owner_stopped(folder, NULL) == 1);
    {
        char why[128];
        lk_owner_describe(&st, why, sizeof why);
        snprintf(big, sizeof big, "stopped by test_owner cleanup (pid %ld)", lk_sys_self_pid());
        CHECK_STR(why, big);
    }

    /* The same folder however it is typed; never its prefix sibling. */
    CHECK(chdir(sessions) == 0);
    CHECK(lk_owner_stopped("session-1", NULL) == 1);
    CHECK(lk_owner_stopped("./session-1/", NULL) == 1);
    CHECK(lk_owner_stopped("../sessions/session-1", NULL) == 1);
    CHECK(lk_owner_stopped("session-10", NULL) == 0);
    CHECK(lk_owner_stopped(ten, NULL) == 0);
    CHECK(lk_owner_stopped("session-", NULL) == 0);
#ifndef _WIN32
    {
        /* A symlinked parent names the same folder, before and after the
         * folder itself is gone. */
        char *link = join(home, "via-link"), *alias;
        CHECK(symlink(sessions, link) == 0);
        alias = join(link, "session-1");
        CHECK(lk_owner_stopped(alias, NULL) == 1);
        CHECK(rmdir(folder) == 0);
        CHECK(lk_owner_stopped(alias, NULL) == 1);
        CHECK(lk_owner_stopped(folder, NULL) == 1);
        CHECK(lk_sys_mkdir(folder, NULL) == LK_OK);
        unlink(link);
        free(alias);
        free(link);
    }
#endif
    CHECK(chdir(home) == 0);

    /* Forgotten when the user starts it again; clearing twice is fine. */
    lk_owner_clear_stop(folder);
    CHECK(lk_owner_stopped(folder, NULL) == 0);
    lk_owner_clear_stop(folder);
    CHECK(lk_owner_mark_stop(folder, "stop", NULL) == LK_OK);
    CHECK(lk_owner_mark_stop(folder, "unlock", NULL) == LK_OK); /* the last one counts */
    CHECK(lk_owner_stopped(folder, &st) == 1 && strcmp(st.action, "unlock") == 0);

    /* Bad input. */
    CHECK(lk_owner_mark_stop(folder, "reboot", NULL) == LK_EINVAL);
    CHECK(lk_owner_mark_stop(folder, NULL, NULL) == LK_EINVAL);
    CHECK(lk_owner_mark_stop(NULL, "stop", NULL) == LK_EINVAL);
    CHECK(lk_owner_mark_stop("", "stop", NULL) == LK_EINVAL);
    CHECK(lk_owner_stopped(NULL, NULL) == 0);

    /* Whoever can write the data folder can write anything there: only a
     * well-formed marker for this very folder counts. */
    file = marker_file(home);
    CHECK(file != NULL);
    {
        char *abs = NULL, *real = NULL;
        lk_sys_abspath(folder, &abs, NULL);
        if (lk_sys_realpath(abs, &real, NULL) == LK_OK) {
            const char *k = lk_path_strip_win_prefix(real, &key);
            k = k ? k : real;
            key = lk_path_normalize(k, lk_sys_path_win());
            if (key && lk_sys_path_win()) {
                char *p;
                for (p = key; *p; p++)
                    if (*p >= 'A' && *p <= 'Z')
                        *p += 'a' - 'A';
            }
        }
        free(abs);
        free(real);
    }
    CHECK(key != NULL);
    if (file && key) {
        static const char *const bad[] = {
            "",
            "not json",
            "[]",
            "{\"version\":1}",
            "{\"version\":1,\"folder\":null,\"action\":\"stop\",\"by\":\"x\",\"pid\":1,\"at_ms\":"
            "1}",
        };
        size_t i;
        text = marker_text(key, "stop", "latchkeyctl", "42");
        write_marker(file, text); /* first a good one: the file is the right one */
        free(text);
        CHECK(lk_owner_stopped(folder, &st) == 1 && st.pid == 42);
        for (i = 0; i < sizeof bad / sizeof *bad; i++) {
            write_marker(file, bad[i]);
            CHECK(lk_owner_stopped(folder, NULL) == 0);
        }
        {
            /* Well-formed, but not a marker of this folder: field by field. */
            static const char *const wrong[][4] = {
                {"/elsewhere/session-1", "stop", "latchkeyctl", "42"}, /* another folder's */
                {NULL, "rm -rf", "latchkeyctl", "42"},
                {NULL, "stop", "evil name\\u001b[2J", "42"},
                {NULL, "stop", "latchkeyctl", "-1"},
                {NULL, "stop", "latchkeyctl", "99999999999"},
                {NULL, "stop", "latchkeyctl", "\"42\""},
                /* Duplicate keys: which would count is not for the reader to guess. */
                {NULL, "stop", "latchkeyctl", "42, \"pid\": 43"},
            };
            for (i = 0; i < sizeof wrong / sizeof *wrong; i++) {
                text = marker_text(wrong[i][0] ? wrong[i][0] : key, wrong[i][1], wrong[i][2],
                                   wrong[i][3]);
                write_marker(file, text);
                free(text);
                CHECK(lk_owner_stopped(folder, NULL) == 0);
            }
        }
        /* Too long to be a marker, however it starts. */
        text = marker_text(key, "stop", "latchkeyctl", "42");
        memset(big, ' ', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        memcpy(big, text, strlen(text));
        free(text);
        write_marker(file, big);
        CHECK(lk_owner_stopped(folder, NULL) == 0);
    }

    /* The lock excludes another holder, in this process too (the tray's
     * Stop and its supervisor are threads of one program). */
    CHECK(lk_owner_acquire(folder, lk_sys_now_ms() + 5000, &a, NULL) == LK_OK);
    CHECK(lk_owner_acquire(folder, lk_sys_now_ms(), &b, NULL) == LK_ETIMEDOUT);
    CHECK(b == NULL);
    CHECK(lk_owner_acquire(ten, lk_sys_now_ms(), &b, NULL) == LK_OK); /* another folder's */
    lk_owner_release(b);
    b = NULL;
    lk_owner_release(a);
    CHECK(lk_owner_acquire(folder, lk_sys_now_ms(), &b, NULL) == LK_OK);
    lk_owner_release(b);
    lk_owner_release(NULL);

    /* An atomic replace leaves the new content only. */
    {
        char *f = join(home, "atomic.txt"), *buf = NULL;
        CHECK(lk_sys_write_file_atomic(f, "first, longer", 13, NULL) == LK_OK);
        CHECK(lk_sys_write_file_atomic(f, "second", 6, NULL) == LK_OK);
        CHECK(lk_sys_read_file(f, 100, 0, &buf, NULL, NULL) == LK_OK);
        CHECK_STR(buf, "second");
        free(buf);
        lk_sys_unlink(f, NULL);
        free(f);
    }

    /* Tidy up the scratch folder (every file in it is ours). */
    {
        lk_remove_pass pass;
        memset(&pass, 0, sizeof pass);
        CHECK(chdir(base) == 0);
        CHECK(lk_sys_remove_tree_once(home, &pass, NULL) == LK_OK);
        lk_remove_pass_free(&pass);
    }
    free(key);
    free(file);
    free(ten);
    free(folder);
    free(sessions);
    free(home);
    free(base);
    return lk_check_done();
}
