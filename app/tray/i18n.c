/* i18n.c - binds the "latchkey" text domain to the right catalogues.
 *
 * From a build folder the catalogues are the ones just compiled there
 * (LK_BUILD_LOCALEDIR), so a change to po/ shows without installing.
 * Installed, they are in LK_LOCALEDIR; on Windows relative to the
 * executable (<exe dir>/../share/locale), where the installer put them. */
#include "i18n.h"

#include <locale.h>
#include <string.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"

/* The build folder's catalogues, when this program runs from that build
 * folder and they were compiled. */
static char *build_localedir(const char *exe)
{
    char *bindir = g_path_get_dirname(LK_BUILD_LOCALEDIR), *out = NULL;
    int win = lk_path_is_win(bindir);
    if (exe && lk_path_within(bindir, exe, win) &&
        g_file_test(LK_BUILD_LOCALEDIR, G_FILE_TEST_IS_DIR))
        out = g_strdup(LK_BUILD_LOCALEDIR);
    g_free(bindir);
    return out;
}

static char *installed_localedir(const char *exe)
{
#ifdef G_OS_WIN32
    if (exe) {
        char *dir = g_path_get_dirname(exe);
        char *joined = g_build_filename(dir, "..", "share", "locale", NULL);
        char *norm = lk_path_normalize(joined, 1);
        char *out = g_strdup(norm ? norm : joined);
        free(norm);
        g_free(joined);
        g_free(dir);
        return out;
    }
#else
    (void)exe;
#endif
    return g_strdup(LK_LOCALEDIR);
}

void lk_i18n_init(void)
{
    char *exe = lk_sys_self_exe();
    char *dir = build_localedir(exe);
    if (!dir)
        dir = installed_localedir(exe);
    setlocale(LC_ALL, "");
#ifdef G_OS_WIN32
    {
        /* libintl takes the folder in the system code page. */
        char *local = g_win32_locale_filename_from_utf8(dir);
        bindtextdomain(GETTEXT_PACKAGE, local ? local : dir);
        g_free(local);
    }
#else
    bindtextdomain(GETTEXT_PACKAGE, dir);
#endif
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_free(dir);
    free(exe);
}
