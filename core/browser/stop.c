/* Ending a browser we own: patiently, then firmly, then proving that
 * nothing holds its folder any more. */
#include <stdlib.h>
#include <string.h>

#include "latchkey/browser.h"
#include "browser/browser_private.h"
#include "latchkey/sys.h"

#define LK_GRACE_MS 3000 /* after SIGTERM / WM_CLOSE: Chromium flushes its profile */
#define LK_FORCE_MS 3000 /* after SIGKILL / TerminateJobObject: only the kernel works */

/* 1 once every process of the tree is gone, 0 at the deadline. The main
 * process is waited on directly (pidfd / process handle); its children,
 * which exit right after it, are counted with a short backoff. */
static int wait_tree(lk_child *c, int64_t deadline)
{
    int nap = 2;
    lk_child_wait(c, deadline);
    for (;;) {
        int64_t now, rest;
        if (lk_child_tree_count(c) == 0)
            return 1;
        now = lk_sys_now_ms();
        if (now >= deadline)
            return 0;
        rest = deadline - now;
        lk_sys_sleep_ms((int)(rest < nap ? rest : nap));
        if (nap < 50)
            nap *= 2;
    }
}

/* Ends what is left of the tree; returns how many processes survived. */
static int end_tree(lk_child *c, int timeout_ms, int *forced)
{
    *forced = 0;
    if (wait_tree(c, lk_sys_now_ms() + (timeout_ms > 0 ? timeout_ms : 0)))
        return 0;
    lk_child_end_tree(c, 0, NULL);
    if (wait_tree(c, lk_sys_now_ms() + LK_GRACE_MS))
        return 0;
    *forced = 1;
    lk_child_end_tree(c, 1, NULL);
    wait_tree(c, lk_sys_now_ms() + LK_FORCE_MS);
    return lk_child_tree_count(c);
}

int lk_browser_verify_free(const char *profile, lk_error *err)
{
    char who[256], text[320];
    size_t nprocs = 0, nlocks = 0;
    char *port_file;
    int rc = lk__browser_holders(profile, &nprocs, &nlocks, who, sizeof who, err);
    if (rc != LK_OK)
        return rc;
    if (nprocs > 0 || nlocks > 0) {
        lk__browser_describe(text, sizeof text, who, nprocs, nlocks);
        return lk_error_set(err, LK_EBUSY, 0,
                            "%s still holds %s; free it with `latchkeyctl cleanup %s`", text,
                            profile, profile);
    }
    /* A killed browser leaves its DevToolsActivePort behind: attach mode
     * must not mistake it for a running one. */
    port_file = lk__browser_port_file(profile);
    if (port_file)
        lk_sys_unlink(port_file, NULL);
    free(port_file);
    return LK_OK;
}

int lk_browser_stop(lk_browser *b, int timeout_ms, lk_error *err)
{
    lk_error why;
    int rc;

    if (!b)
        return LK_OK;
    if (b->child) {
        int forced = 0;
        int left = end_tree(b->child, timeout_ms, &forced);
        /* On Windows closing the job also ends anything still in it. */
        lk_child_free(b->child);
        b->child = NULL;
        if (left > 0)
            return lk_error_set(err, LK_EBUSY, 0,
                                "%d process(es) of the browser tree (pid %ld) survived %s", left,
                                b->pid, forced ? "a forced end" : "the graceful end");
    }
    if (!b->profile)
        return LK_OK;
    /* The tree is gone; prove the folder is free (a renderer that changed
     * its process group, a helper that inherited a handle...). */
    lk_error_clear(&why);
    rc = lk_browser_verify_free(b->profile, &why);
    if (rc == LK_EBUSY)
        return lk_error_set(err, rc, 0, "the browser has ended, but %s", why.msg);
    if (rc != LK_OK && err)
        *err = why;
    return rc;
}

void lk_browser_free(lk_browser *b)
{
    if (!b)
        return;
    if (b->child) {
        /* Not stopped: an owned tree never outlives its handle, on any OS
         * (Windows' job would end it anyway when its handle closes). */
        if (lk_child_tree_count(b->child) > 0) {
            lk_child_end_tree(b->child, 1, NULL);
            wait_tree(b->child, lk_sys_now_ms() + LK_FORCE_MS);
        }
        lk_child_free(b->child);
    }
    free(b->ws_url);
    free(b->profile);
    free(b);
}
