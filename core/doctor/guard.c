/* Guard rails: folders the doctor refuses to touch, whatever it is told.
 *
 * Always refused: a file system root or mount point, the OS's folders, every
 * account's home folder and what contains one, a home's own big folders
 * (Documents, .config, AppData...), the browsers' own profiles and known
 * apps' data (a Chromium profile too, but someone's passwords and messages),
 * and the system's data area (/var, /run) unless the folder is named like a
 * bot's session. Without LK_CLEAN_ANY_FOLDER the folder must also be a bot's
 * session by name or place: session-*, anything in .wwebjs_auth or a
 * wppconnect tokens folder, Latchkey's own sessions, or a watched root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "util/strv.h"

char *lk_default_session_root(void)
{
    char *home = lk_sys_getenv("LATCHKEY_HOME");
    int win = lk_sys_path_win();
    char *data, *root;
    if (home) {
        root = lk_path_join(home, "sessions", win);
        free(home);
        return root;
    }
    data = lk_sys_data_dir();
    if (!data)
        return NULL;
    root = lk_path_join(data, win ? "latchkey\\sessions" : "latchkey/sessions", win);
    free(data);
    return root;
}

static int named(const char *name, const char *want)
{
    return name && strcmp(name, want) == 0;
}

/* A bot's session by its name or where it lies. */
static int session_named(const char *path, int win)
{
    const char *base = lk_path_base(path, win);
    char *parent = lk_path_dir(path, win);
    char *grand = parent ? lk_path_dir(parent, win) : NULL;
    const char *pbase = parent ? lk_path_base(parent, win) : "";
    const char *gbase = grand ? lk_path_base(grand, win) : "";
    int yes = strcmp(base, "session") == 0 || strncmp(base, "session-", 8) == 0 ||
              strncmp(base, "RemoteAuth-", 11) == 0 ||
              strncmp(base, "wwebjs_temp_session_", 20) == 0 || named(pbase, ".wwebjs_auth") ||
              named(pbase, "tokens") || named(pbase, ".latchkey-trash") ||
              (named(gbase, ".sessions") && *pbase);
    free(parent);
    free(grand);
    return yes;
}

static int under_roots(const char *path, const char *const *roots, int win)
{
    char *own = lk_default_session_root();
    size_t i;
    int yes = own && lk_path_within(own, path, win) && !lk_path_equal(own, path, win);
    free(own);
    for (i = 0; !yes && roots && roots[i]; i++) {
        char *abs = NULL;
        if (lk_sys_abspath(roots[i], &abs, NULL) == LK_OK)
            yes = lk_path_within(abs, path, win) && !lk_path_equal(abs, path, win);
        free(abs);
    }
    return yes;
}

/* Refuses a home folder, what contains one, and what a home keeps that is
 * not a bot's: its big folders, browsers' own profiles, apps' data. */
static int refuse_in_home(const char *path, const char *given, const char *home, int win,
                          lk_error *err)
{
    const char *const *within, *const *roots, *const *exact;
    size_t i;
    int rc = LK_OK;
    if (lk_path_within(path, home, win))
        return lk_error_set(err, LK_EREFUSED, 0,
                            lk_path_equal(path, home, win) ? "%s is a home folder (%s)"
                                                           : "%s contains a home folder (%s)",
                            given, home);
    if (!lk_path_within(home, path, win))
        return LK_OK;
    lk_sys_home_protected(&within, &roots, &exact);
    for (i = 0; rc == LK_OK && within[i]; i++) {
        char *w = lk_path_join(home, within[i], win);
        if (w && lk_path_within(w, path, win))
            rc = lk_error_set(err, LK_EREFUSED, 0,
                              "%s is inside %s: a browser's own profile or an app's data, not a "
                              "bot's session",
                              given, w);
        free(w);
    }
    for (i = 0; rc == LK_OK && roots[i]; i++) {
        char *r = lk_path_join(home, roots[i], win);
        char *parent = lk_path_dir(path, win);
        if (r && parent && lk_path_equal(parent, r, win))
            rc = lk_error_set(err, LK_EREFUSED, 0, "%s is an application's data folder", given);
        free(r);
        free(parent);
    }
    for (i = 0; rc == LK_OK && exact[i]; i++) {
        char *e = lk_path_join(home, exact[i], win);
        if (e && lk_path_within(path, e, win))
            rc = lk_error_set(err, LK_EREFUSED, 0, "%s %s %s", given,
                              lk_path_equal(path, e, win) ? "is the folder" : "contains", e);
        free(e);
    }
    return rc;
}

static int refuse_one(const char *path, const char *given, unsigned flags, int is_session,
                      int win, lk_error *err)
{
    char **homes = NULL;
    size_t nhomes = 0, i;
    int sys, rc = LK_OK;

    if (lk_sys_is_fs_root(path))
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is the root of a file system or a mount point: unmount it first",
                            given);
    sys = lk_sys_is_system_dir(path);
    if (sys == 1)
        return lk_error_set(err, LK_EREFUSED, 0, "%s is a system folder", given);
    if (sys == 2 && !is_session)
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is in the system's data area; there only a bot's session folder "
                            "(session-*, .wwebjs_auth/..., tokens/...) is touched",
                            given);
    lk_sys_home_dirs(&homes, &nhomes);
    for (i = 0; rc == LK_OK && i < nhomes; i++)
        rc = refuse_in_home(path, given, homes[i], win, err);
    for (i = 0; i < nhomes; i++)
        free(homes[i]);
    free(homes);
    if (rc != LK_OK)
        return rc;
    if (!(flags & LK_CLEAN_ANY_FOLDER) && !is_session)
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s does not look like a bot's session folder (session-*, "
                            ".wwebjs_auth/..., tokens/..., Latchkey's own or a watched folder); "
                            "pass --any-folder if you are sure",
                            given);
    return LK_OK;
}

int lk_doctor_check_target(const char *abspath, const char *real, unsigned flags,
                           const char *const *roots, lk_error *err)
{
    int win = lk_sys_path_win();
    int rc, is_session;
    if (!abspath || !real)
        /* Fail closed: what cannot be resolved is not checked, so not touched. */
        return lk_error_set(err, LK_EREFUSED, 0, "%s: its real path is unknown",
                            abspath ? abspath : "(no path)");
    /* A bot's session by either name: a symlinked parent (.wwebjs_auth ->
     * /data/auth) keeps the folder's own name. */
    is_session = session_named(abspath, win) || session_named(real, win) ||
                 under_roots(abspath, roots, win) || under_roots(real, roots, win);
    rc = refuse_one(abspath, abspath, flags, is_session, win, err);
    /* The real path too: a harmless-looking link must not lead to /usr. */
    if (rc == LK_OK && !lk_path_equal(real, abspath, win))
        rc = refuse_one(real, abspath, flags, is_session, win, err);
    return rc;
}
