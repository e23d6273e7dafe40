#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/sys.h"

void lk_cli_error(const lk_error *err, const char *hint)
{
    fprintf(stderr, "latchkeyctl: %s\n",
            lk_cli_text(err->msg[0] ? err->msg : lk_code_name(err->code)));
    if (hint)
        fprintf(stderr, "%s\n", hint);
}

char *lk_cli_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

const char *lk_cli_text(const char *s)
{
    static char bufs[4][16384];
    static int next;
    char *out = bufs[next], *o = out;
    const unsigned char *p = (const unsigned char *)(s ? s : "(null)");
    size_t room = sizeof bufs[0] - 5;
    next = (next + 1) % 4;
    for (; *p && (size_t)(o - out) < room; p++) {
        /* C1 controls are U+0080..U+009F: 0xC2 0x80..0x9F in UTF-8. */
        int c1 = p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
        if (*p < 0x20 || *p == 0x7F || c1) {
            o += snprintf(o, 5, "\\x%02x", c1 ? p[1] : *p);
            p += c1;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "latchkeyctl: %s '%s' (see latchkeyctl --help)\n", what, lk_cli_text(arg));
    return LK_EXIT_USAGE;
}

/* The absolute paths live as long as the command: a process-long list. */
static int absolute(const char **path)
{
    static char *kept[17];
    static size_t nkept;
    lk_error e;
    char *abs = NULL;
    lk_error_clear(&e);
    if (lk_sys_abspath(*path, &abs, &e) != LK_OK) {
        fprintf(stderr, "latchkeyctl: %s: %s\n", lk_cli_text(*path), lk_cli_text(e.msg));
        return LK_EXIT_USAGE;
    }
    if (nkept < sizeof kept / sizeof *kept)
        kept[nkept++] = abs;
    *path = abs;
    return LK_EXIT_OK;
}

int lk_cli_parse(int argc, char **argv, const char *allowed, lk_cli_args *out)
{
    int i;
    memset(out, 0, sizeof *out);
    out->timeout_s = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0 && strchr(allowed, 'j')) {
            out->json = 1;
        } else if (strcmp(a, "--dry-run") == 0 && strchr(allowed, 'd')) {
            out->dry_run = 1;
        } else if (strcmp(a, "--any-folder") == 0 && strchr(allowed, 'a')) {
            out->any_folder = 1;
        } else if (strcmp(a, "--on-reboot") == 0) {
            fprintf(stderr,
                    "latchkeyctl: --on-reboot is no longer offered: a delete scheduled for the\n"
                    "next start runs as the system on paths a user could change meanwhile.\n"
                    "Restart the computer, then run the cleanup again.\n");
            return LK_EXIT_USAGE;
        } else if (strcmp(a, "--timeout") == 0 && strchr(allowed, 't')) {
            char *end;
            long v;
            if (i + 1 >= argc)
                return bad("--timeout needs a number of seconds, got nothing after", a);
            v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 1 || v > 3600)
                return bad("--timeout takes whole seconds from 1 to 3600, not", argv[i]);
            out->timeout_s = (int)v;
        } else if (strcmp(a, "--headed") == 0 && strchr(allowed, 'h')) {
            out->headed = 1;
        } else if ((strcmp(a, "--png") == 0 && strchr(allowed, 'p')) ||
                   (strcmp(a, "--site-url") == 0 && strchr(allowed, 's')) ||
                   (strcmp(a, "--chromium") == 0 && strchr(allowed, 'c')) ||
                   (strcmp(a, "--root") == 0 && strchr(allowed, 'R'))) {
            const char *v;
            if (i + 1 >= argc || !*argv[i + 1])
                return bad("this option needs a value:", a);
            v = argv[++i];
            if (strcmp(a, "--png") == 0)
                out->png = v;
            else if (strcmp(a, "--site-url") == 0)
                out->site_url = v;
            else if (strcmp(a, "--chromium") == 0)
                out->chromium = v;
            else if (out->nroots < (int)(sizeof out->roots / sizeof *out->roots))
                out->roots[out->nroots++] = v;
            else
                return bad("too many --root options at", v);
        } else if (a[0] == '-' && a[1] == '-') {
            return bad("unknown option", a);
        } else if (!out->path && !strchr(allowed, 'R')) {
            if (!*a)
                return bad("empty path", a);
            out->path = a;
        } else {
            return bad("unexpected argument", a);
        }
    }
    if (!out->path && !strchr(allowed, 'o')) {
        fprintf(stderr, "latchkeyctl: %s needs a PATH (see latchkeyctl --help)\n", argv[0]);
        return LK_EXIT_USAGE;
    }
    /* Paths as people type them (relative, ./x, x/, ../x, C:/x, \\?\C:\x):
     * one normalisation, and every report shows the absolute path. */
    if (out->path && absolute(&out->path) != LK_EXIT_OK)
        return LK_EXIT_USAGE;
    for (i = 0; i < out->nroots; i++)
        if (absolute(&out->roots[i]) != LK_EXIT_OK)
            return LK_EXIT_USAGE;
    return LK_EXIT_OK;
}
