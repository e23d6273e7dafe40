/* Cleanup, unlock and stop: open the folder once -> guard rails -> plan ->
 * end the holders -> check the folder is still what was opened -> remove it
 * (or only its locks) relative to the held handle -> verify -> report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/owner.h"
#include "latchkey/path.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

#define LK_DEFAULT_TIMEOUT_MS 10000
#define LK_TRASH ".latchkey-trash"

const char *lk_result_name(lk_result r)
{
    switch (r) {
    case LK_RESULT_REMOVED: return "removed";
    case LK_RESULT_ALREADY_CLEAN: return "already_clean";
    case LK_RESULT_QUARANTINED: return "quarantined";
    case LK_RESULT_PARTIAL: return "partial";
    case LK_RESULT_REFUSED: return "refused";
    case LK_RESULT_PLANNED: return "planned";
    case LK_RESULT_UNLOCKED: return "unlocked";
    case LK_RESULT_STOPPED: return "stopped";
    }
    return "partial";
}

typedef struct run {
    lk_cleanup *c;
    const lk_cleanup_opts *o;
    lk_tree *tree;
    int64_t deadline;
    int unlock;
} run;

static void progress(run *r, const char *step)
{
    if (r->o->progress)
        r->o->progress(r->o->progress_user, step);
}

/* Removes the tree, retrying what is busy with capped exponential backoff. */
static int remove_with_retries(run *r, lk_remove_pass *pass)
{
    int delay = 10;
    for (;;) {
        int64_t now;
        lk_remove_pass_free(pass);
        if (lk_sys_tree_remove_once(r->tree, pass, NULL) == LK_OK)
            return 1;
        now = lk_sys_now_ms();
        if (!pass->retryable || pass->boundary || now >= r->deadline)
            return 0;
        lk_sys_sleep_ms((int)(r->deadline - now < delay ? r->deadline - now : delay));
        if (delay < 500)
            delay *= 2;
    }
}

static void report_left(run *r, const lk_remove_pass *pass)
{
    size_t i;
    for (i = 0; i < pass->nleft; i++)
        lk__add_left(r->c, "%s could not be removed: %s", pass->left[i],
                     pass->why && pass->why[i] ? pass->why[i] : "unknown");
}

/* Moves what could not be removed aside, relative to the held parent, so
 * the session name is free again; then tries once more there. */
static void quarantine(run *r, lk_remove_pass *pass)
{
    char name[512];
    lk_error e;
    lk_error_clear(&e);
    snprintf(name, sizeof name, "%s-%lld", lk_path_base(r->c->path, lk_sys_path_win()),
             (long long)lk_sys_wall_ms());
    if (lk_sys_tree_move_aside(r->tree, LK_TRASH, name, &r->c->quarantine, &e) != LK_OK) {
        report_left(r, pass);
        lk__add_left(r->c, "could not move it aside: %s", e.msg);
        return;
    }
    r->c->result = LK_RESULT_QUARANTINED;
    lk_remove_pass_free(pass);
    if (lk_sys_tree_remove_once(r->tree, pass, NULL) == LK_OK) {
        r->c->result = LK_RESULT_REMOVED;
        lk_sys_tree_drop_trash(r->tree, LK_TRASH); /* only if now empty */
        return;
    }
    report_left(r, pass);
}

/* What keeps the next browser from starting on the folder. */
static const char *const lock_names[] = {"SingletonLock", "SingletonSocket", "SingletonCookie",
                                         "lockfile", "DevToolsActivePort", NULL};

static void remove_locks(run *r)
{
    size_t i;
    for (i = 0; lock_names[i]; i++) {
        lk_error e;
        char *path;
        if (lk_sys_tree_entry(r->tree, lock_names[i]) == LK_FT_NONE)
            continue;
        lk_error_clear(&e);
        path = lk_path_join(r->c->path, lock_names[i], lk_sys_path_win());
        if (lk_sys_tree_unlink(r->tree, lock_names[i], &e) == LK_OK)
            lk__add_removed(r->c, path ? path : lock_names[i]);
        else
            lk__add_left(r->c, "%s could not be removed: %s", path ? path : lock_names[i],
                         e.msg);
        free(path);
    }
}

/* A browser of the profile that was spared or did not end, NULL when none. */
static const lk_holder *still_running(run *r)
{
    const lk_holders *h = r->c->before;
    size_t i, j;
    for (i = 0; h && i < h->nholders; i++) {
        const lk_holder *hd = &h->holders[i];
        int ended = 0;
        if (hd->kind != LK_KIND_CHROMIUM_BROWSER && hd->kind != LK_KIND_CHROMIUM_CHILD)
            continue;
        for (j = 0; j < r->c->nkilled; j++)
            ended |= r->c->killed[j].pid == hd->proc.pid;
        if (!ended && lk_sys_proc_same(hd->proc.pid, hd->proc.start_id))
            return hd;
    }
    return NULL;
}

/* A fresh look: does anything still hold the folder? */
static void verify(run *r)
{
    lk_snapshot *snap = NULL;
    lk_holders *after = NULL;
    size_t i;
    if (lk_sys_snapshot(&snap, LK_SNAP_HANDLES, NULL) != LK_OK) {
        lk__add_left(r->c, "could not look at the processes again to verify");
        return;
    }
    if (lk_doctor_holders(snap, r->c->path, &after, NULL) == LK_OK) {
        for (i = 0; i < after->nholders; i++) {
            const lk_holder *hd = &after->holders[i];
            if ((hd->nheld > 0 && lk__holds_something(snap, hd)) ||
                hd->kind == LK_KIND_CHROMIUM_BROWSER)
                lk__add_left(r->c, "process %s (pid %ld) still holds the folder",
                             hd->proc.name ? hd->proc.name : "?", hd->proc.pid);
        }
    }
    lk_holders_free(after);
    lk_snapshot_free(snap);
}

static void human_bytes(uint64_t b, char *buf, size_t size)
{
    if (b >= (uint64_t)10 << 20)
        snprintf(buf, size, "%llu MB", (unsigned long long)(b >> 20));
    else if (b >= 1024)
        snprintf(buf, size, "%.1f MB", (double)b / (1024.0 * 1024.0));
    else
        snprintf(buf, size, "%llu bytes", (unsigned long long)b);
}

static char *summary(const lk_cleanup *c)
{
    char buf[1400], size[32];
    const char *verb = strcmp(c->action, "stop") == 0 ? "stopped" : "ended";
    switch (c->result) {
    case LK_RESULT_ALREADY_CLEAN:
        snprintf(buf, sizeof buf, "%s does not exist: %s", c->path,
                 strcmp(c->action, "cleanup") == 0 ? "already clean" : "nothing to do");
        break;
    case LK_RESULT_REMOVED:
        snprintf(buf, sizeof buf, "ended %zu process%s, spared %zu, removed %s", c->nkilled,
                 c->nkilled == 1 ? "" : "es", c->nspared, c->path);
        break;
    case LK_RESULT_UNLOCKED:
        snprintf(buf, sizeof buf,
                 "ended %zu process%s, spared %zu, removed %zu lock file%s; %s is free and keeps "
                 "its login",
                 c->nkilled, c->nkilled == 1 ? "" : "es", c->nspared, c->nremoved,
                 c->nremoved == 1 ? "" : "s", c->path);
        break;
    case LK_RESULT_STOPPED:
        snprintf(buf, sizeof buf, "%s %zu process%s of the browser on %s", verb, c->nkilled,
                 c->nkilled == 1 ? "" : "es", c->path);
        break;
    case LK_RESULT_QUARANTINED:
        snprintf(buf, sizeof buf, "moved %s aside to %s; %zu thing%s could not be removed", c->path,
                 c->quarantine, c->nleft, c->nleft == 1 ? "" : "s");
        break;
    case LK_RESULT_PLANNED:
        if (strcmp(c->action, "cleanup") == 0 && c->counted) {
            human_bytes(c->bytes, size, sizeof size);
            snprintf(buf, sizeof buf,
                     "dry run: nothing was ended or removed; deleting it loses the login: "
                     "%llu files, %s",
                     (unsigned long long)c->files, size);
        } else {
            snprintf(buf, sizeof buf, "dry run: nothing was ended or removed");
        }
        break;
    default:
        snprintf(buf, sizeof buf, "%s is not free: %zu thing%s left", c->path, c->nleft,
                 c->nleft == 1 ? "" : "s");
        break;
    }
    return lk_strdup(buf);
}

static int every(const lk_holder *hd, void *user)
{
    (void)hd, (void)user;
    return 1;
}

static int chromium_only(const lk_holder *hd, void *user)
{
    (void)user;
    return hd->kind == LK_KIND_CHROMIUM_BROWSER || hd->kind == LK_KIND_CHROMIUM_CHILD;
}

/* What people should know before (and after) the click. */
static void warn_live_bot(run *r)
{
    const lk_holder *b = lk_holders_browser(r->c->before);
    if (b && !b->owned && !b->orphaned && b->launcher.pid &&
        (r->o->flags & LK_CLEAN_DRY_RUN))
        lk__add_warning(r->c, "the bot %s pid %ld is using this session: it will lose its browser",
                        b->launcher.name ? b->launcher.name : "?", b->launcher.pid);
}

static int open_and_plan(run *r, const char *folder, lk_error *err)
{
    lk_snapshot *snap = NULL;
    char *abs = NULL;
    int rc;

    if ((rc = lk_sys_abspath(folder, &abs, err)) != LK_OK) {
        r->c->path = lk_strdup(folder);
        r->c->result = LK_RESULT_REFUSED;
        return rc;
    }
    r->c->path = abs;
    rc = lk_sys_tree_open(abs, &r->tree, err);
    if (rc == LK_ENOENT) {
        r->c->result = LK_RESULT_ALREADY_CLEAN;
        return LK_OK;
    }
    if (rc != LK_OK) {
        r->c->result = LK_RESULT_REFUSED;
        return rc;
    }
    /* From here on, the folder is what the handle holds. */
    rc = lk_doctor_check_target(abs, lk_sys_tree_path(r->tree), r->o->flags, r->o->roots, err);
    r->c->path = lk_strdup(lk_sys_tree_path(r->tree));
    free(abs);
    if (rc != LK_OK) {
        r->c->result = LK_RESULT_REFUSED;
        return rc;
    }
    /* One owner at a time: before the processes are looked for (and so
     * before any is signalled), every Latchkey supervisor of this folder is
     * told to stand down rather than relaunch into it. Best effort: a
     * supervisor also stands down when it finds the folder removed. */
    if (!(r->o->flags & LK_CLEAN_DRY_RUN))
        lk_owner_mark_stop(r->c->path, r->unlock ? "unlock" : "cleanup", NULL);
    progress(r, "looking for processes that hold the folder");
    if ((rc = lk_sys_snapshot(&snap, LK_SNAP_HANDLES, err)) != LK_OK)
        return rc;
    rc = lk_doctor_holders(snap, r->c->path, &r->c->before, err);
    lk_snapshot_free(snap);
    if (rc == LK_OK && !r->unlock)
        r->c->counted =
            lk_sys_tree_usage(r->tree, &r->c->files, &r->c->bytes, NULL) == LK_OK;
    return rc;
}

static int act(const char *folder, const lk_cleanup_opts *opts, int unlock, lk_cleanup **out,
               lk_error *err)
{
    static const lk_cleanup_opts defaults;
    lk_remove_pass pass;
    lk_error why;
    int64_t start = lk_sys_now_ms();
    run r;
    int rc;

    memset(&r, 0, sizeof r);
    memset(&pass, 0, sizeof pass);
    r.o = opts ? opts : &defaults;
    r.unlock = unlock;
    r.deadline = start + (r.o->timeout_ms > 0 ? r.o->timeout_ms : LK_DEFAULT_TIMEOUT_MS);
    *out = NULL;
    r.c = calloc(1, sizeof *r.c);
    if (!r.c)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    r.c->action = unlock ? "unlock" : "cleanup";
    rc = open_and_plan(&r, folder, err);
    if (rc != LK_OK || r.c->result == LK_RESULT_ALREADY_CLEAN ||
        r.c->result == LK_RESULT_REFUSED)
        goto done;
    warn_live_bot(&r);
    if (r.o->flags & LK_CLEAN_DRY_RUN) {
        r.c->result = LK_RESULT_PLANNED;
        lk__list_spared(r.c, r.c->before);
        goto done;
    }

    lk__end_plan(r.c, r.c->before, every, NULL, r.o, r.deadline);
    /* Whatever happened while the holders ended, act only on the very
     * folder that was checked, where it was checked. */
    lk_error_clear(&why);
    rc = lk_sys_tree_check(r.tree, &why);
    if (rc == LK_ENOENT) {
        r.c->result = unlock ? LK_RESULT_UNLOCKED : LK_RESULT_REMOVED;
    } else if (rc != LK_OK) {
        lk__add_left(r.c, "%s", why.msg);
        r.c->result = LK_RESULT_PARTIAL;
    } else if (unlock) {
        const lk_holder *live = still_running(&r);
        if (live) {
            /* Its locks are a live browser's: removing them would let a
             * second one start on the same profile. */
            lk__add_left(r.c, "the lock files belong to %s (pid %ld), which is still running",
                         live->proc.name ? live->proc.name : "?", live->proc.pid);
            r.c->result = LK_RESULT_PARTIAL;
        } else {
            progress(&r, "removing the lock files");
            remove_locks(&r);
            r.c->result = LK_RESULT_UNLOCKED;
        }
    } else {
        progress(&r, "removing the folder");
        if (remove_with_retries(&r, &pass)) {
            r.c->result = LK_RESULT_REMOVED;
        } else if (pass.boundary) {
            /* A mount point inside: moving it around would move what is
             * mounted there too. It stays, and says why. */
            r.c->result = LK_RESULT_PARTIAL;
            report_left(&r, &pass);
        } else {
            progress(&r, "moving what is left aside");
            r.c->result = LK_RESULT_PARTIAL;
            quarantine(&r, &pass);
        }
        lk_remove_pass_free(&pass);
    }
    progress(&r, "checking that nothing holds it any more");
    verify(&r);
    if ((r.c->result == LK_RESULT_REMOVED || r.c->result == LK_RESULT_UNLOCKED) && r.c->nleft > 0)
        r.c->result = LK_RESULT_PARTIAL;
    rc = LK_OK;
done:
    lk_sys_tree_close(r.tree);
    r.c->elapsed_ms = lk_sys_now_ms() - start;
    r.c->message = summary(r.c);
    *out = r.c;
    return rc;
}

static int with_reason(int rc, lk_cleanup *c, const lk_error *e)
{
    /* A refusal's report carries the reason, for the JSON reader too. */
    if (c && c->result == LK_RESULT_REFUSED && e->msg[0]) {
        free(c->message);
        c->message = lk_strdup(e->msg);
    }
    return rc;
}

int lk_doctor_cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                      lk_error *err)
{
    lk_error local;
    int rc;
    lk_error_clear(&local);
    rc = act(folder, opts, opts && (opts->flags & LK_CLEAN_UNLOCK), out, &local);
    if (err)
        *err = local;
    return with_reason(rc, *out, &local);
}

int lk_doctor_unlock(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                     lk_error *err)
{
    lk_error local;
    int rc;
    lk_error_clear(&local);
    rc = act(folder, opts, 1, out, &local);
    if (err)
        *err = local;
    return with_reason(rc, *out, &local);
}

int lk_doctor_stop(const char *folder, int timeout_ms, lk_cleanup **out, lk_error *err)
{
    lk_cleanup_opts o;
    lk_snapshot *snap = NULL;
    int64_t start = lk_sys_now_ms();
    lk_cleanup *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (!c)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    memset(&o, 0, sizeof o);
    c->action = "stop";
    if ((rc = lk_sys_abspath(folder, &c->path, err)) != LK_OK) {
        c->path = lk_strdup(folder);
        c->result = LK_RESULT_REFUSED;
    } else if ((rc = lk_sys_snapshot(&snap, LK_SNAP_PROCS, err)) == LK_OK &&
               (rc = lk_doctor_holders(snap, c->path, &c->before, err)) == LK_OK) {
        lk__end_plan(c, c->before, chromium_only, NULL, &o,
                     start + (timeout_ms > 0 ? timeout_ms : LK_DEFAULT_TIMEOUT_MS));
        c->result = c->nleft ? LK_RESULT_PARTIAL : LK_RESULT_STOPPED;
    }
    lk_snapshot_free(snap);
    c->elapsed_ms = lk_sys_now_ms() - start;
    c->message = summary(c);
    *out = c;
    return rc;
}

void lk_cleanup_free(lk_cleanup *c)
{
    size_t i;
    if (!c)
        return;
    lk_holders_free(c->before);
    for (i = 0; i < c->nkilled; i++) {
        free(c->killed[i].name);
        free(c->killed[i].note);
    }
    for (i = 0; i < c->nspared; i++) {
        free(c->spared[i].name);
        free(c->spared[i].why);
    }
    for (i = 0; i < c->nleft; i++)
        free(c->left[i]);
    for (i = 0; i < c->nremoved; i++)
        free(c->removed[i]);
    for (i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->killed);
    free(c->spared);
    free(c->left);
    free(c->removed);
    free(c->warnings);
    free(c->quarantine);
    free(c->message);
    free(c->path);
    free(c);
}
