/* Kill and clean up: plan -> end holders -> remove -> quarantine -> verify. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

#define LK_DEFAULT_TIMEOUT_MS 10000
#define LK_GRACE_MAX_MS 3000

const char *lk_result_name(lk_result r)
{
    switch (r) {
    case LK_RESULT_REMOVED: return "removed";
    case LK_RESULT_ALREADY_CLEAN: return "already_clean";
    case LK_RESULT_QUARANTINED: return "quarantined";
    case LK_RESULT_PARTIAL: return "partial";
    case LK_RESULT_REFUSED: return "refused";
    case LK_RESULT_PLANNED: return "planned";
    }
    return "partial";
}

typedef struct run {
    lk_cleanup *c;
    const lk_cleanup_opts *o;
    int64_t deadline;
    size_t cap_killed, cap_spared, cap_left;
    int win;
} run;

static void progress(run *r, const char *step)
{
    if (r->o->progress)
        r->o->progress(r->o->progress_user, step);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
add_left(run *r, const char *fmt, ...)
{
    char buf[4200];
    va_list ap;
    char **slot = lk_push(&r->c->left, &r->c->nleft, &r->cap_left, sizeof(char *));
    if (!slot)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *slot = lk_strdup(buf);
}

/* Ends every killable holder: graceful first, forced after the grace period.
 * Chromium children are not signalled first: they follow their browser. */
static void end_holders(run *r)
{
    lk_holders *h = r->c->before;
    size_t n = h->nholders, i, still;
    long *pids = calloc(n + 1, sizeof *pids);
    uint64_t *ids = calloc(n + 1, sizeof *ids);
    int *alive = calloc(n + 1, sizeof *alive);
    int *forced = calloc(n + 1, sizeof *forced);
    size_t *who = calloc(n + 1, sizeof *who);
    size_t m = 0;
    int64_t now, grace;

    if (!pids || !ids || !alive || !forced || !who)
        goto out;
    for (i = 0; i < n; i++) {
        lk_holder *hd = &h->holders[i];
        if (!hd->killable) {
            lk_spared *s = lk_push(&r->c->spared, &r->c->nspared, &r->cap_spared, sizeof *s);
            if (s) {
                s->pid = hd->proc.pid;
                s->name = lk_strdup(hd->proc.name);
                s->why = lk_strdup(hd->why_not);
            }
            continue;
        }
        pids[m] = hd->proc.pid;
        ids[m] = hd->proc.start_id;
        who[m++] = i;
    }
    if (m == 0)
        goto out;
    progress(r, "asking the holders to exit");
    for (i = 0; i < m; i++) {
        lk_holder *hd = &h->holders[who[i]];
        if (hd->kind == LK_KIND_CHROMIUM_CHILD)
            continue;
        if (lk_sys_proc_end(pids[i], ids[i], 0, NULL) == LK_ENOTSUP) {
            /* Nothing to ask it with (no window, no console): end it now. */
            lk_sys_proc_end(pids[i], ids[i], 1, NULL);
            forced[i] = 1;
        }
    }
    now = lk_sys_now_ms();
    grace = (r->deadline - now) / 2;
    if (grace > LK_GRACE_MAX_MS)
        grace = LK_GRACE_MAX_MS;
    still = lk_sys_proc_wait(pids, ids, m, now + grace, alive);
    if (still > 0) {
        progress(r, "ending the holders that did not exit");
        for (i = 0; i < m; i++)
            if (alive[i] && lk_sys_proc_end(pids[i], ids[i], 1, NULL) == LK_OK)
                forced[i] = 1;
        still = lk_sys_proc_wait(pids, ids, m, r->deadline, alive);
    }
    for (i = 0; i < m; i++) {
        lk_holder *hd = &h->holders[who[i]];
        if (alive[i]) {
            add_left(r, "process %s (pid %ld) is still running", hd->proc.name, hd->proc.pid);
        } else {
            lk_killed *k = lk_push(&r->c->killed, &r->c->nkilled, &r->cap_killed, sizeof *k);
            if (k) {
                k->pid = hd->proc.pid;
                k->name = lk_strdup(hd->proc.name);
                k->forced = forced[i];
            }
        }
    }
out:
    free(pids);
    free(ids);
    free(alive);
    free(forced);
    free(who);
}

/* Removes the tree, retrying what is busy with capped exponential backoff. */
static int remove_with_retries(run *r, const char *path, lk_remove_pass *pass)
{
    int delay = 10;
    for (;;) {
        int64_t now;
        if (lk_sys_remove_tree_once(path, pass, NULL) == LK_OK)
            return 1;
        now = lk_sys_now_ms();
        if (!pass->retryable || now >= r->deadline)
            return 0;
        lk_remove_pass_free(pass);
        lk_sys_sleep_ms((int)(r->deadline - now < delay ? r->deadline - now : delay));
        if (delay < 500)
            delay *= 2;
    }
}

/* Moves what could not be removed aside so the session name is free again. */
static void quarantine(run *r, const char *abs, lk_remove_pass *pass)
{
    char name[512];
    char *dest = NULL;
    lk_tree *t = NULL;
    size_t i;

    snprintf(name, sizeof name, "%s-%lld", lk_path_base(abs, r->win), (long long)lk_sys_wall_ms());
    if (lk_sys_tree_open(abs, &t, NULL) == LK_OK &&
        lk_sys_tree_move_aside(t, ".latchkey-trash", name, &dest, NULL) == LK_OK) {
        r->c->quarantine = dest;
        r->c->result = LK_RESULT_QUARANTINED;
        lk_remove_pass_free(pass);
        if (lk_sys_tree_remove_once(t, pass, NULL) == LK_OK) {
            r->c->result = LK_RESULT_REMOVED;
            lk_sys_tree_drop_trash(t, ".latchkey-trash"); /* only if now empty */
        }
    }
    lk_sys_tree_close(t);
    for (i = 0; i < pass->nleft; i++)
        add_left(r, "%s could not be removed", pass->left[i]);
    if ((r->o->flags & LK_CLEAN_ON_REBOOT) && pass->nleft > 0)
        add_left(r, "removal at restart is not offered: a delete the system runs at boot "
                    "would follow links swapped in meanwhile");
}

/* A fresh look: does anything still hold the folder? */
static void verify(run *r)
{
    lk_snapshot *snap = NULL;
    lk_holders *after = NULL;
    size_t i;
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) != LK_OK)
        return;
    if (lk_doctor_holders(snap, r->c->path, &after, NULL) == LK_OK) {
        for (i = 0; i < after->nholders; i++) {
            const lk_holder *hd = &after->holders[i];
            if (hd->nheld > 0 || hd->kind == LK_KIND_CHROMIUM_BROWSER)
                add_left(r, "process %s (pid %ld) still holds the folder", hd->proc.name,
                         hd->proc.pid);
        }
    }
    lk_holders_free(after);
    lk_snapshot_free(snap);
}

static char *summary(const lk_cleanup *c)
{
    char buf[1024];
    switch (c->result) {
    case LK_RESULT_ALREADY_CLEAN:
        snprintf(buf, sizeof buf, "%s does not exist: already clean", c->path);
        break;
    case LK_RESULT_REMOVED:
        snprintf(buf, sizeof buf, "ended %zu process%s, spared %zu, removed %s", c->nkilled,
                 c->nkilled == 1 ? "" : "es", c->nspared, c->path);
        break;
    case LK_RESULT_QUARANTINED:
        snprintf(buf, sizeof buf, "moved %s aside to %s; %zu thing%s could not be removed", c->path,
                 c->quarantine, c->nleft, c->nleft == 1 ? "" : "s");
        break;
    case LK_RESULT_PLANNED:
        snprintf(buf, sizeof buf, "dry run: nothing was ended or removed");
        break;
    default:
        snprintf(buf, sizeof buf, "%s is still there: %zu thing%s left", c->path, c->nleft,
                 c->nleft == 1 ? "" : "s");
        break;
    }
    return lk_strdup(buf);
}

static int cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                   lk_error *err);

int lk_doctor_cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                      lk_error *err)
{
    lk_error local;
    int rc;
    lk_error_clear(&local);
    rc = cleanup(folder, opts, out, &local);
    /* A refusal's report carries the reason, for the JSON reader too. */
    if (*out && (*out)->result == LK_RESULT_REFUSED && local.msg[0]) {
        free((*out)->message);
        (*out)->message = lk_strdup(local.msg);
    }
    if (err)
        *err = local;
    return rc;
}

static int cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out, lk_error *err)
{
    static const lk_cleanup_opts defaults = {0, 0, NULL, NULL};
    int64_t start = lk_sys_now_ms();
    lk_snapshot *snap = NULL;
    lk_remove_pass pass;
    lk_ftype ft;
    run r;
    int rc;

    memset(&r, 0, sizeof r);
    memset(&pass, 0, sizeof pass);
    r.o = opts ? opts : &defaults;
    r.deadline = start + (r.o->timeout_ms > 0 ? r.o->timeout_ms : LK_DEFAULT_TIMEOUT_MS);
    *out = NULL;
    r.c = calloc(1, sizeof *r.c);
    if (!r.c)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    if ((rc = lk_sys_abspath(folder, &r.c->path, err)) != LK_OK) {
        r.c->result = LK_RESULT_REFUSED;
        r.c->path = lk_strdup(folder);
        goto done;
    }
    r.win = lk_path_is_win(r.c->path);
    ft = lk_sys_ftype(r.c->path);
    if (ft == LK_FT_NONE) {
        r.c->result = LK_RESULT_ALREADY_CLEAN;
        goto done;
    }
    if (ft == LK_FT_LINK) {
        r.c->result = LK_RESULT_REFUSED;
        rc = lk_error_set(err, LK_EREFUSED, 0,
                          "%s is a link; clean the folder it points to, or delete the link itself",
                          r.c->path);
        goto done;
    }
    if (ft != LK_FT_DIR) {
        r.c->result = LK_RESULT_REFUSED;
        rc = lk_error_set(err, LK_EINVAL, 0, "%s is not a folder", r.c->path);
        goto done;
    }
    if ((rc = lk_doctor_check_target(r.c->path, r.o->flags, err)) != LK_OK) {
        r.c->result = LK_RESULT_REFUSED;
        goto done;
    }

    progress(&r, "looking for processes that hold the folder");
    if ((rc = lk_sys_snapshot(&snap, LK_SNAP_HANDLES, err)) != LK_OK)
        goto done;
    rc = lk_doctor_holders(snap, r.c->path, &r.c->before, err);
    lk_snapshot_free(snap);
    if (rc != LK_OK)
        goto done;
    if (r.o->flags & LK_CLEAN_DRY_RUN) {
        size_t i;
        r.c->result = LK_RESULT_PLANNED;
        for (i = 0; i < r.c->before->nholders; i++) {
            const lk_holder *hd = &r.c->before->holders[i];
            if (!hd->killable) {
                lk_spared *s = lk_push(&r.c->spared, &r.c->nspared, &r.cap_spared, sizeof *s);
                if (s) {
                    s->pid = hd->proc.pid;
                    s->name = lk_strdup(hd->proc.name);
                    s->why = lk_strdup(hd->why_not);
                }
            }
        }
        goto done;
    }

    end_holders(&r);
    if (!(r.o->flags & LK_CLEAN_KEEP_FOLDER)) {
        progress(&r, "removing the folder");
        if (remove_with_retries(&r, r.c->path, &pass)) {
            r.c->result = LK_RESULT_REMOVED;
        } else {
            progress(&r, "moving what is left aside");
            r.c->result = LK_RESULT_PARTIAL;
            quarantine(&r, r.c->path, &pass);
        }
        lk_remove_pass_free(&pass);
    }
    progress(&r, "checking that nothing holds it any more");
    verify(&r);
    if (r.c->result == LK_RESULT_REMOVED && r.c->nleft > 0)
        r.c->result = LK_RESULT_PARTIAL;
    if ((r.o->flags & LK_CLEAN_KEEP_FOLDER) && r.c->nleft == 0)
        r.c->result = LK_RESULT_REMOVED;
    rc = LK_OK;
done:
    r.c->elapsed_ms = lk_sys_now_ms() - start;
    r.c->message = summary(r.c);
    *out = r.c;
    return rc;
}

void lk_cleanup_free(lk_cleanup *c)
{
    size_t i;
    if (!c)
        return;
    lk_holders_free(c->before);
    for (i = 0; i < c->nkilled; i++)
        free(c->killed[i].name);
    for (i = 0; i < c->nspared; i++) {
        free(c->spared[i].name);
        free(c->spared[i].why);
    }
    for (i = 0; i < c->nleft; i++)
        free(c->left[i]);
    free(c->killed);
    free(c->spared);
    free(c->left);
    free(c->quarantine);
    free(c->message);
    free(c->path);
    free(c);
}
