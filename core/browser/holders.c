/* Who else runs or holds a profile: the doctor's holder scan plus the
 * profile locks, read once for the launch refusal and the stop check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "browser/browser_private.h"

/* A Chromium browser process says more than a renderer or a file holder. */
static int rank(const lk_holder *h)
{
    switch (h->kind) {
    case LK_KIND_CHROMIUM_BROWSER:
        return 3;
    case LK_KIND_NODE:
        return 2;
    case LK_KIND_CHROMIUM_CHILD:
        return 1;
    default:
        return h->nheld ? 1 : 0;
    }
}

int lk__browser_holders(const char *profile, size_t *nprocs, size_t *nlocks, char *who,
                        size_t who_size, lk_error *err)
{
    lk_snapshot *snap = NULL;
    lk_holders *h = NULL;
    const lk_holder *best = NULL;
    size_t i, n = 0, locks = 0;
    long self = lk_sys_self_pid();
    int rc;

    *nprocs = *nlocks = 0;
    if (who_size)
        who[0] = '\0';
    if ((rc = lk_sys_snapshot(&snap, LK_SNAP_HANDLES, err)) != LK_OK)
        return rc;
    rc = lk_doctor_holders(snap, profile, &h, err);
    lk_snapshot_free(snap);
    if (rc != LK_OK)
        return rc;
    for (i = 0; i < h->nholders; i++) {
        const lk_holder *x = &h->holders[i];
        int chromium = x->kind == LK_KIND_CHROMIUM_BROWSER || x->kind == LK_KIND_CHROMIUM_CHILD;
        if (x->proc.pid == self || (!x->nheld && !chromium))
            continue;
        n++;
        if (!best || rank(x) > rank(best))
            best = x;
    }
    if (best && who_size)
        snprintf(who, who_size, "%s (pid %ld)", best->proc.name ? best->proc.name : "a process",
                 best->proc.pid);
    for (i = 0; i < h->nlocks; i++) {
        const lk_lock *l = &h->locks[i];
        if (l->stale || l->owner_pid == self)
            continue;
        locks++;
        /* A lock held by a browser on another machine (shared folder) shows
         * up here only: no local process to name. */
        if (!best && who_size) {
            if (l->owner_pid > 0)
                snprintf(who, who_size, "the process that holds its lock %s (pid %ld)", l->file,
                         l->owner_pid);
            else
                snprintf(who, who_size, "the process that holds its lock %s", l->file);
        }
    }
    lk_holders_free(h);
    *nprocs = n;
    *nlocks = locks;
    return LK_OK;
}

void lk__browser_describe(char *out, size_t size, const char *who, size_t nprocs, size_t nlocks)
{
    if (nprocs > 1)
        snprintf(out, size, "%s and %lu other process%s", who, (unsigned long)(nprocs - 1),
                 nprocs > 2 ? "es" : "");
    else if (nprocs == 1 || nlocks > 0)
        snprintf(out, size, "%s", who);
    else if (size)
        out[0] = '\0';
}
