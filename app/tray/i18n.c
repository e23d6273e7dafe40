/* i18n.c - binds the "latchkey" text domain to the right catalogues.
 *
 * From a build folder the catalogues are the ones just compiled there
 * (LK_BUILD_LOCALEDIR), so a change to po/ shows without installing.
 * Installed, they are looked up relative to the executable first
 * (<exe dir>/LK_LOCALEDIR_FROM_BINDIR, "../share/locale"), then in the
 * compiled-in LK_LOCALEDIR: packages install under a prefix of their own
 * (the .deb into /usr whatever the build was configured with, the Windows
 * installer wherever the user chose), so only the executable's own place
 * says where its catalogues went. */
#include "i18n.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"

#ifndef LK_LOCALEDIR_FROM_BINDIR
#define LK_LOCALEDIR_FROM_BINDIR "../share/locale"
#endif

/* The build folder's catalogues, when this program runs from that build
 * folder and they were compiled. */
static char *build_localedir(const char *exe)
{
    char *bindir = g_path_get_dirname(LK_BUILD_LOCALEDIR), *out = NULL;
    int win = lk_sys_path_win();
    if (exe && lk_path_within(bindir, exe, win) &&
        g_file_test(LK_BUILD_LOCALEDIR, G_FILE_TEST_IS_DIR))
        out = g_strdup(LK_BUILD_LOCALEDIR);
    g_free(bindir);
    return out;
}

/* <exe dir>/../share/locale, normalised ("bin/.." folded away). */
static char *relative_localedir(const char *exe)
{
    char *dir, *joined, *norm, *out;
    int win;
    if (!exe)
        return NULL;
    win = lk_sys_path_win();
    dir = g_path_get_dirname(exe);
    joined = g_build_filename(dir, LK_LOCALEDIR_FROM_BINDIR, NULL);
    norm = lk_path_normalize(joined, win);
    out = g_strdup(norm ? norm : joined);
    free(norm);
    g_free(joined);
    g_free(dir);
    return out;
}

/* Whether dir holds our catalogue in one of the languages the user asked
 * for ($LANGUAGE, $LC_ALL, $LC_MESSAGES, $LANG, as gettext reads them).
 * A user of a language we do not ship sees English from either folder. */
static gboolean has_catalogue(const char *dir)
{
    const char *const *langs = g_get_language_names();
    size_t i;
    for (i = 0; dir && langs[i]; i++) {
        char *mo;
        gboolean found;
        if (strcmp(langs[i], "C") == 0 || strcmp(langs[i], "POSIX") == 0)
            continue;
        mo = g_build_filename(dir, langs[i], "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
        found = g_file_test(mo, G_FILE_TEST_IS_REGULAR);
        g_free(mo);
        if (found)
            return TRUE;
    }
    return FALSE;
}

static char *installed_localedir(const char *exe)
{
    char *rel = relative_localedir(exe);
    if (rel && (has_catalogue(rel) || !has_catalogue(LK_LOCALEDIR)))
        return rel;
    g_free(rel);
    return g_strdup(LK_LOCALEDIR);
}

void lk_i18n_init(void)
{
    char *exe = lk_sys_self_exe();
    char *dir;
    setlocale(LC_ALL, "");
    dir = build_localedir(exe);
    if (!dir)
        dir = installed_localedir(exe);
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
