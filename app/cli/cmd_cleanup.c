/* latchkeyctl cleanup PATH [--dry-run] [--json] [--timeout S] [--any-folder]
 * latchkeyctl unlock  PATH [--dry-run] [--json] [--timeout S] [--any-folder] */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/doctor.h"

static void on_progress(void *user, const char *step)
{
    (void)user;
    fprintf(stderr, "  ... %s\n", step);
}

static void print_plan(const lk_cleanup *c, int unlock)
{
    size_t i;
    char text[320];
    lk_cli_print_holders(c->before);
    printf("plan:\n");
    for (i = 0; i < c->before->nholders; i++) {
        const lk_holder *hd = &c->before->holders[i];
        if (!hd->killable)
            continue;
        printf("  end %s (pid %ld)", lk_cli_text(hd->proc.name), hd->proc.pid);
        if (hd->kind == LK_KIND_CHROMIUM_BROWSER)
            printf(": %s", lk_cli_text(lk_holder_launcher_text(hd, text, sizeof text)));
        putchar('\n');
    }
    if (unlock) {
        printf("  remove the lock files that keep the next browser from starting; keep the "
               "login\n");
    } else {
        printf("  delete %s\n", lk_cli_text(c->path));
        if (c->counted)
            printf("  this loses the login: %llu files, %.1f MB (`latchkeyctl unlock` keeps "
                   "it)\n",
                   (unsigned long long)c->files, (double)c->bytes / (1024.0 * 1024.0));
    }
}

static void print_report(const lk_cleanup *c, int unlock)
{
    size_t i;
    if (c->result == LK_RESULT_PLANNED && c->before)
        print_plan(c, unlock);
    for (i = 0; i < c->nwarnings; i++)
        printf("warning %s\n", lk_cli_text(c->warnings[i]));
    for (i = 0; i < c->nkilled; i++)
        printf("ended   %s (pid %ld, %s)\n", lk_cli_text(c->killed[i].name), c->killed[i].pid,
               c->killed[i].forced ? "forced" : "graceful");
    for (i = 0; i < c->nspared; i++)
        printf("spared  %s (pid %ld): %s\n", lk_cli_text(c->spared[i].name), c->spared[i].pid,
               lk_cli_text(c->spared[i].why));
    for (i = 0; i < c->nremoved; i++)
        printf("removed %s\n", lk_cli_text(c->removed[i]));
    for (i = 0; i < c->nleft; i++)
        printf("left    %s\n", lk_cli_text(c->left[i]));
    printf("%s (%lld ms)\n", lk_cli_text(c->message), (long long)c->elapsed_ms);
}

static void print_json(const lk_cleanup *c)
{
    char *s = lk_cleanup_to_json(c);
    if (s) {
        puts(s);
        free(s);
    }
}

static int run(int argc, char **argv, int unlock)
{
    lk_cli_args a;
    lk_error err;
    lk_cleanup *c = NULL;
    lk_cleanup_opts o;
    int rc = lk_cli_parse(argc, argv, "jdta", &a);

    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    memset(&o, 0, sizeof o);
    o.flags = (a.dry_run ? LK_CLEAN_DRY_RUN : 0) | (a.any_folder ? LK_CLEAN_ANY_FOLDER : 0);
    o.timeout_ms = a.timeout_s > 0 ? a.timeout_s * 1000 : 0;
    if (!a.json)
        o.progress = on_progress;
    rc = unlock ? lk_doctor_unlock(a.path, &o, &c, &err) : lk_doctor_cleanup(a.path, &o, &c, &err);
    if (rc == LK_EREFUSED || rc == LK_EINVAL) {
        lk_cli_error(&err, rc == LK_EREFUSED ? "Nothing was touched." : NULL);
        if (a.json && c)
            print_json(c);
        lk_cleanup_free(c);
        return LK_EXIT_USAGE;
    }
    if (rc != LK_OK || !c) {
        lk_cli_error(&err, NULL);
        lk_cleanup_free(c);
        return LK_EXIT_FAIL;
    }
    if (a.json)
        print_json(c);
    else
        print_report(c, unlock);
    rc = (c->result == LK_RESULT_REMOVED || c->result == LK_RESULT_ALREADY_CLEAN ||
          c->result == LK_RESULT_UNLOCKED || c->result == LK_RESULT_PLANNED) &&
                 c->nleft == 0
             ? LK_EXIT_OK
             : LK_EXIT_FAIL;
    lk_cleanup_free(c);
    return rc;
}

int lk_cmd_cleanup(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int lk_cmd_unlock(int argc, char **argv)
{
    return run(argc, argv, 1);
}
