#include <stdlib.h>
#include <string.h>

#include "cli.h"

void lk_cli_error(const lk_error *err, const char *hint)
{
    fprintf(stderr, "latchkeyctl: %s\n", err->msg[0] ? err->msg : lk_code_name(err->code));
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

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "latchkeyctl: %s '%s' (see latchkeyctl --help)\n", what, arg);
    return LK_EXIT_USAGE;
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
        } else if (strcmp(a, "--on-reboot") == 0 && strchr(allowed, 'r')) {
            out->on_reboot = 1;
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
    return LK_EXIT_OK;
}
