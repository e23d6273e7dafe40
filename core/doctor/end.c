/* Ending what a plan says, and nothing else: graceful first (every process
 * but Chromium's own helpers, which follow their browser), then forced,
 * waiting on the processes themselves. Cleanup, unlock and stop all end
 * their processes here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

#define LK_GRACE_MAX_MS 3000

/* One more zeroed slot; NULL when out of memory. The reports are small. */
static void *grow1(void *arr_ptr, size_t *n, size_t size)
{
    void **arr = (void **)arr_ptr;
    char *grown = realloc(*arr, (*n + 1) * size);
    if (!grown)
        return NULL;
    *arr = grown;
    memset(grown + *n * size, 0, size);
    return grown + (*n)++ * size;
}

static void add_text(char ***arr, size_t *n, const char *fmt, va_list ap)
{
    char buf[4200];
    char **slot = grow1(arr, n, sizeof *slot);
    if (!slot)
        return;
    vsnprintf(buf, sizeof buf, fmt, ap);
    *slot = lk_strdup(buf);
}

void lk__add_left(lk_cleanup *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_text(&c->left, &c->nleft, fmt, ap);
    va_end(ap);
}

void lk__add_warning(lk_cleanup *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_text(&c->warnings, &c->nwarnings, fmt, ap);
    va_end(ap);
}

static void spare(lk_cleanup *c, const lk_holder *hd, const char *why)
{
    lk_spared *s = grow1(&c->spared, &c->nspared, sizeof *s);
    if (!s)
        return;
    s->pid = hd->proc.pid;
    s->name = lk_strdup(hd->proc.name);
    s->why = lk_strdup(why);
}

static int approved_one(const lk_cleanup_opts *o, const lk_holder *hd)
{
    size_t i;
    for (i = 0; i < o->napproved; i++)
        if (o->approved[i].pid == hd->proc.pid && o->approved[i].start_id == hd->proc.start_id)
            return 1;
    return 0;
}

/* In the plan the user saw, or a helper (renderer, GPU, utility) that a
 * browser in it started since: it follows that browser, which the user
 * approved. Found by walking parents within this plan's Chromium processes
 * of the profile, up to an approved browser (pid and start stamp). */
static int approved(const lk_cleanup_opts *o, const lk_holders *plan, const lk_holder *hd)
{
    size_t steps, i;
    if (!o || !o->approved)
        return 1;
    if (approved_one(o, hd))
        return 1;
    for (steps = 0; hd && hd->kind == LK_KIND_CHROMIUM_CHILD && steps < plan->nholders; steps++) {
        const lk_holder *up = NULL;
        for (i = 0; i < plan->nholders; i++)
            if (plan->holders[i].proc.pid == hd->proc.ppid && hd->proc.ppid > 1)
                up = &plan->holders[i];
        if (up && up->kind == LK_KIND_CHROMIUM_BROWSER)
            return approved_one(o, up);
        hd = up;
    }
    return 0;
}

void lk__end_plan(lk_cleanup *c, const lk_holders *plan, lk__which_fn which, void *user,
                  const lk_cleanup_opts *o, int64_t deadline)
{
    size_t n = plan ? plan->nholders : 0, i, m = 0, still;
    long *pids = calloc(n + 1, sizeof *pids);
    uint64_t *ids = calloc(n + 1, sizeof *ids);
    int *alive = calloc(n + 1, sizeof *alive);
    int *forced = calloc(n + 1, sizeof *forced);
    size_t *who = calloc(n + 1, sizeof *who);
    int64_t now, grace;
    char text[320];

    if (!pids || !ids || !alive || !forced || !who)
        goto out;
    for (i = 0; i < n; i++) {
        const lk_holder *hd = &plan->holders[i];
        if (which && !which(hd, user))
            continue;
        if (!hd->killable) {
            spare(c, hd, hd->why_not);
            continue;
        }
        if (!approved(o, plan, hd)) {
            lk__add_left(c,
                         "process %s (pid %ld) began holding the folder after the plan was "
                         "shown; it was not ended",
                         hd->proc.name ? hd->proc.name : "?", hd->proc.pid);
            continue;
        }
        pids[m] = hd->proc.pid;
        ids[m] = hd->proc.start_id;
        who[m++] = i;
    }
    if (m == 0)
        goto out;
    if (o && o->progress)
        o->progress(o->progress_user, "asking the holders to exit");
    for (i = 0; i < m; i++) {
        const lk_holder *hd = &plan->holders[who[i]];
        lk_error e;
        int rc;
        /* Chromium's own helpers end with their browser; everything else,
         * a stray descendant included, is asked first. */
        if (lk__has_type_flag(&hd->proc))
            continue;
        lk_error_clear(&e);
        rc = lk_sys_proc_end(pids[i], ids[i], 0, &e);
        if (rc == LK_ENOTSUP) {
            /* Nothing to ask it with (no window, no console): end it now. */
            rc = lk_sys_proc_end(pids[i], ids[i], 1, &e);
            forced[i] = 1;
        }
        if (rc == LK_EREFUSED) {
            /* The OS layer's own guard rails said no: never ask again. */
            spare(c, hd, e.msg);
            pids[i] = 0;
        }
    }
    now = lk_sys_now_ms();
    grace = (deadline - now) / 2;
    if (grace > LK_GRACE_MAX_MS)
        grace = LK_GRACE_MAX_MS;
    still = lk_sys_proc_wait(pids, ids, m, now + grace, alive);
    if (still > 0) {
        if (o && o->progress)
            o->progress(o->progress_user, "ending the holders that did not exit");
        for (i = 0; i < m; i++)
            if (pids[i] && alive[i] && lk_sys_proc_end(pids[i], ids[i], 1, NULL) == LK_OK)
                forced[i] = 1;
        lk_sys_proc_wait(pids, ids, m, deadline, alive);
    }
    for (i = 0; i < m; i++) {
        const lk_holder *hd = &plan->holders[who[i]];
        lk_killed *k;
        if (!pids[i])
            continue;
        if (alive[i]) {
            lk__add_left(c, "process %s (pid %ld) is still running",
                         hd->proc.name ? hd->proc.name : "?", hd->proc.pid);
            continue;
        }
        k = grow1(&c->killed, &c->nkilled, sizeof *k);
        if (!k)
            continue;
        k->pid = hd->proc.pid;
        k->name = lk_strdup(hd->proc.name);
        k->forced = forced[i];
        if (hd->kind == LK_KIND_CHROMIUM_BROWSER && !hd->owned && !hd->orphaned &&
            hd->launcher.pid) {
            snprintf(text, sizeof text, "the browser of a running bot: %s pid %ld",
                     hd->launcher.name ? hd->launcher.name : "?", hd->launcher.pid);
            k->note = lk_strdup(text);
            lk__add_warning(c, "ended %s (pid %ld), %s; the bot will lose its browser",
                            hd->proc.name ? hd->proc.name : "?", hd->proc.pid, text);
        }
    }
out:
    free(pids);
    free(ids);
    free(alive);
    free(forced);
    free(who);
}

void lk__list_spared(lk_cleanup *c, const lk_holders *plan)
{
    size_t i;
    for (i = 0; plan && i < plan->nholders; i++)
        if (!plan->holders[i].killable)
            spare(c, &plan->holders[i], plan->holders[i].why_not);
}

void lk__add_removed(lk_cleanup *c, const char *path)
{
    char **slot = grow1(&c->removed, &c->nremoved, sizeof *slot);
    if (slot)
        *slot = lk_strdup(path);
}
