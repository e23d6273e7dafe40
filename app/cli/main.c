/* latchkeyctl: the doctor and sessions for support staff, scripts and SSH. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef _WIN32
#include <windows.h>
#endif

static const char usage[] =
    "Usage:\n"
    "  latchkeyctl holders PATH [--json]\n"
    "      Lists every process that holds something inside the session folder PATH.\n"
    "  latchkeyctl unlock PATH [--dry-run] [--json] [--timeout SECONDS] [--any-folder]\n"
    "      Ends exactly those processes and removes only the lock files that keep the\n"
    "      next browser from starting: the session stays linked. Run it before a bot\n"
    "      starts; exit 0 means the folder is free.\n"
    "  latchkeyctl cleanup PATH [--dry-run] [--json] [--timeout SECONDS] [--any-folder]\n"
    "      Ends exactly those processes (gracefully, then by force), deletes PATH (the\n"
    "      login with it) and proves nothing holds it any more. --dry-run only prints\n"
    "      the plan.\n"
#ifdef LK_WITH_CDP
    "  latchkeyctl qr PATH [--json] [--png FILE] [--timeout SECONDS] [--site-url URL]\n"
    "                      [--chromium EXE]\n"
    "      Prints the session's current QR code (attaching to its running browser, or\n"
    "      starting one). Exit 3 when the session is already linked.\n"
    "  latchkeyctl link PATH [--timeout SECONDS] [--headed] [--site-url URL] [--chromium EXE]\n"
    "      Shows the QR code and follows it until the phone links the session.\n"
    "  latchkeyctl status PATH [--json]\n"
    "      The folder's state, its browser, the page and its health, and the holders.\n"
    "  latchkeyctl stop PATH [--timeout SECONDS] [--json]\n"
    "      Closes the browser running PATH (gracefully first). Idempotent.\n"
    "  latchkeyctl sessions [--root DIR]... [--json]\n"
    "      Finds sessions (whatsapp-web.js, wppconnect, Chromium profiles) and their state.\n"
#endif
    "  latchkeyctl --help | --version\n"
    "\n"
    "Exit status: 0 done, 1 something is left or failed, 2 refused or bad input,\n"
    "3 (qr) already linked, 4 (qr, link) stopped on purpose by another Latchkey command\n"
    "(stop, unlock, cleanup) or the folder was removed: nothing is relaunched.\n";

static int cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return LK_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return LK_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("latchkeyctl %s\n", LK_VERSION);
        return LK_EXIT_OK;
    }
    if (strcmp(argv[1], "holders") == 0)
        return lk_cmd_holders(argc - 1, argv + 1);
    if (strcmp(argv[1], "cleanup") == 0)
        return lk_cmd_cleanup(argc - 1, argv + 1);
    if (strcmp(argv[1], "unlock") == 0)
        return lk_cmd_unlock(argc - 1, argv + 1);
#ifdef LK_WITH_CDP
    if (strcmp(argv[1], "qr") == 0)
        return lk_cmd_qr(argc - 1, argv + 1);
    if (strcmp(argv[1], "link") == 0)
        return lk_cmd_link(argc - 1, argv + 1);
    if (strcmp(argv[1], "status") == 0)
        return lk_cmd_status(argc - 1, argv + 1);
    if (strcmp(argv[1], "stop") == 0)
        return lk_cmd_stop(argc - 1, argv + 1);
    if (strcmp(argv[1], "sessions") == 0)
        return lk_cmd_sessions(argc - 1, argv + 1);
#endif
    fprintf(stderr, "latchkeyctl: unknown command '%s'\n\n%s", argv[1], usage);
    return LK_EXIT_USAGE;
}

#ifdef _WIN32
static wchar_t *to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w = n > 0 ? malloc((size_t)n * sizeof *w) : NULL;
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
        free(w);
        w = NULL;
    }
    return w;
}

FILE *lk_cli_fopen(const char *path, const char *mode)
{
    wchar_t *wp = to_wide(path), *wm = to_wide(mode);
    FILE *f = wp && wm ? _wfopen(wp, wm) : NULL;
    free(wp);
    free(wm);
    return f;
}

/* Arguments arrive as UTF-16; core speaks UTF-8. */
int wmain(int argc, wchar_t **wargv)
{
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    int i, rc;
    if (!argv)
        return LK_EXIT_FAIL;
    SetConsoleOutputCP(CP_UTF8);
    for (i = 0; i < argc; i++) {
        int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[i] = malloc(n > 0 ? (size_t)n : 1);
        if (!argv[i] || WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL, NULL) <= 0)
            return LK_EXIT_FAIL;
    }
    rc = cli_main(argc, argv);
    for (i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    return rc;
}
#else
FILE *lk_cli_fopen(const char *path, const char *mode)
{
    return fopen(path, mode);
}

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
#endif
