/* latchkeyctl cleanup PATH [--dry-run] [--json] [--timeout S] [--any-folder] [--on-reboot] */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/doctor.h"

static void on_progress(void *user, const char *step)
{
    (void)user;
    fprintf(stderr, "  ... %s\n", step);
}

static void print_cleanup(const lk_cleanup *c)
{
    size_t i;
    if (c->result == LK_RESULT_PLANNED && c->before) {
        lk_cli_print_holders(c->before);
        printf("plan:\n");
        for (i = 0; i < c->before->nholders; i++) {
            const lk_holder *hd = &c->before->holders[i];
            if (hd->killable)
                printf("  end %s (pid %ld)\n", hd->proc.name, hd->proc.pid);
        }
        printf("  delete %s\n", c->path);
    }
    for (i = 0; i < c->nkilled; i++)
        printf("ended   %s (pid %ld, %s)\n", c->killed[i].name, c->killed[i].pid,
               c->killed[i].forced ? "forced" : "graceful");
    for (i = 0; i < c->nspared; i++)
        printf("spared  %s (pid %ld): %s\n", c->spared[i].name, c->spared[i].pid, c->spared[i].why);
    for (i = 0; i < c->nleft; i++)
        printf("left    %s\n", c->left[i]);
    printf("%s (%lld ms)\n", c->message, (long long)c->elapsed_ms);
}

int lk_cmd_cleanup(int argc, char **argv)
{
    lk_cli_args a;
    lk_error err;
    lk_cleanup *c = NULL;
    lk_cleanup_opts o;
    int rc = lk_cli_parse(argc, argv, "jdtar", &a);

    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    memset(&o, 0, sizeof o);
    o.flags = (a.dry_run ? LK_CLEAN_DRY_RUN : 0) | (a.any_folder ? LK_CLEAN_ANY_FOLDER : 0) |
              (a.on_reboot ? LK_CLEAN_ON_REBOOT : 0);
    o.timeout_ms = a.timeout_s > 0 ? a.timeout_s * 1000 : 0;
    if (!a.json)
        o.progress = on_progress;
    rc = lk_doctor_cleanup(a.path, &o, &c, &err);
    if (rc == LK_EREFUSED || rc == LK_EINVAL) {
        lk_cli_error(&err, rc == LK_EREFUSED ? "Nothing was touched." : NULL);
        if (a.json && c) {
            char *s = lk_cleanup_to_json(c);
            if (s) {
                puts(s);
                free(s);
            }
        }
        lk_cleanup_free(c);
        return LK_EXIT_USAGE;
    }
    if (rc != LK_OK || !c) {
        lk_cli_error(&err, NULL);
        lk_cleanup_free(c);
        return LK_EXIT_FAIL;
    }
    if (a.json) {
        char *s = lk_cleanup_to_json(c);
        if (s) {
            puts(s);
            free(s);
        }
    } else {
        print_cleanup(c);
    }
    rc = (c->result == LK_RESULT_REMOVED || c->result == LK_RESULT_ALREADY_CLEAN ||
          c->result == LK_RESULT_PLANNED) &&
                 c->nleft == 0
             ? LK_EXIT_OK
             : LK_EXIT_FAIL;
    lk_cleanup_free(c);
    return rc;
}
