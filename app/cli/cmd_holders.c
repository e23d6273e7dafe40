/* latchkeyctl holders PATH [--json] */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/doctor.h"

#define MAX_HELD_SHOWN 8
#define MAX_BLIND_SHOWN 5

static void print_holder(const lk_holder *hd, const char *in)
{
    size_t i;
    char text[320];
    printf("%s  %-16s pid %-7ld %s", in, lk_kind_name(hd->kind), hd->proc.pid,
           lk_cli_text(hd->proc.name ? hd->proc.name : "?"));
    if (hd->proc.user)
        printf("  (user %s)", lk_cli_text(hd->proc.user));
    putchar('\n');
    if (hd->kind == LK_KIND_CHROMIUM_BROWSER)
        printf("%s      %s\n", in, lk_cli_text(lk_holder_launcher_text(hd, text, sizeof text)));
    for (i = 0; i < hd->nheld && i < MAX_HELD_SHOWN; i++)
        printf("%s      %-8s %s\n", in, lk_how_name(hd->held[i].how),
               lk_cli_text(hd->held[i].path));
    if (hd->nheld > MAX_HELD_SHOWN)
        printf("%s      ... and %zu more\n", in, hd->nheld - MAX_HELD_SHOWN);
    if (hd->nheld == 0 && hd->kind != LK_KIND_DESCENDANT)
        printf("%s      runs Chromium on this profile\n", in);
    if (!hd->killable)
        printf("%s      spared: %s\n", in, lk_cli_text(hd->why_not));
}

void lk_cli_print_holder_list(const lk_holders *h, const char *in)
{
    size_t i;
    for (i = 0; i < h->nholders; i++)
        print_holder(&h->holders[i], in);
    if (h->nholders == 0)
        printf("%s  nothing holds it%s\n", in,
               h->nblind ? " (among the processes we could inspect)" : "");
    if (h->nblind) {
        printf("%s  %zu process%s could not be inspected:", in, h->nblind,
               h->nblind == 1 ? "" : "es");
        for (i = 0; i < h->nblind && i < MAX_BLIND_SHOWN; i++)
            printf("%s %s (pid %ld: %s)", i ? "," : "", lk_cli_text(h->blind[i].name),
                   h->blind[i].pid, lk_cli_text(h->blind[i].reason));
        if (h->nblind > MAX_BLIND_SHOWN)
            printf(", ...");
        putchar('\n');
    }
    for (i = 0; i < h->nlocks; i++) {
        printf("%s  profile lock %s", in, lk_cli_text(h->locks[i].file));
        if (h->locks[i].owner_pid)
            printf(" -> pid %ld", h->locks[i].owner_pid);
        printf(" (%s)\n", h->locks[i].stale ? "stale: its owner is gone" : "held");
    }
}

void lk_cli_print_holders(const lk_holders *h)
{
    printf("%s\n", lk_cli_text(h->path));
    lk_cli_print_holder_list(h, "");
}

int lk_cmd_holders(int argc, char **argv)
{
    lk_cli_args a;
    lk_error err;
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL;
    int rc = lk_cli_parse(argc, argv, "j", &a);
    lk_ftype ft;

    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    ft = lk_sys_ftype(a.path);
    if (ft == LK_FT_LINK) {
        char *real = NULL;
        if (lk_sys_realpath(a.path, &real, NULL) == LK_OK && lk_sys_ftype(real) == LK_FT_DIR)
            ft = LK_FT_DIR;
        free(real);
    }
    if (ft != LK_FT_DIR) {
        fprintf(stderr, "latchkeyctl: %s %s\n", lk_cli_text(a.path),
                ft == LK_FT_NONE ? "does not exist" : "is not a folder");
        return LK_EXIT_USAGE;
    }
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err) != LK_OK) {
        lk_cli_error(&err, NULL);
        return LK_EXIT_FAIL;
    }
    if (lk_doctor_holders(snap, a.path, &h, &err) != LK_OK) {
        lk_snapshot_free(snap);
        lk_cli_error(&err, NULL);
        return LK_EXIT_FAIL;
    }
    if (a.json) {
        char *s = lk_holders_to_json(h);
        if (!s) {
            rc = LK_EXIT_FAIL;
        } else {
            puts(s);
            free(s);
        }
    } else {
        lk_cli_print_holders(h);
    }
    lk_holders_free(h);
    lk_snapshot_free(snap);
    return rc;
}
