/* Health: the browser's process tree, its memory, the DevTools round trip.
 *
 * Every running session refreshes its health every couple of seconds. The
 * process table they read is shared: one snapshot of the machine serves
 * every session for a second, so ten sessions cost one scan, not ten. */
#include <stdlib.h>

#include "latchkey/doctor.h"
#include "session/session_private.h"

#define SNAPSHOT_TTL_MS 1000
#define MEMORY_EVERY_MS 10000 /* Pss walks every page table of the tree: not each tick */
#define HEARTBEAT_TIMEOUT_MS 10000
#define HEARTBEAT_STRIKES 3 /* unanswered in a row: the browser hangs */

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static lk_snapshot *shared_snap;
static int64_t shared_at;
static int shared_users;

void lk__health_hold(void)
{
    pthread_mutex_lock(&shared_mu);
    shared_users++;
    pthread_mutex_unlock(&shared_mu);
}

void lk__health_release(void)
{
    pthread_mutex_lock(&shared_mu);
    if (--shared_users == 0) {
        lk_snapshot_free(shared_snap);
        shared_snap = NULL;
    }
    pthread_mutex_unlock(&shared_mu);
}

/* The profile's processes from the shared snapshot (rebuilt when old).
 * Whoever finds it old rebuilds it; the others wait and use that one. */
static void profile_procs(const char *profile, long **pids, size_t *n, long *browser)
{
    int64_t now = lk_sys_now_ms();
    pthread_mutex_lock(&shared_mu);
    if (!shared_snap || now - shared_at > SNAPSHOT_TTL_MS) {
        lk_snapshot_free(shared_snap);
        shared_snap = NULL;
        /* Thousands of small strings every couple of seconds, for the life
         * of the session: without a trim the heap creeps up with the
         * fragments they leave between longer-lived blocks. */
        lk_sys_heap_trim();
        if (lk_sys_snapshot(&shared_snap, LK_SNAP_PROCS, NULL) == LK_OK)
            shared_at = lk_sys_now_ms();
    }
    if (!shared_snap ||
        lk_doctor_profile_procs(shared_snap, profile, pids, n, browser, NULL) != LK_OK) {
        *pids = NULL;
        *n = 0;
    }
    pthread_mutex_unlock(&shared_mu);
}

void lk__session_refresh_health(lk_session *s)
{
    long *pids = NULL, browser = 0;
    size_t n = 0, i;
    int64_t mem = 0, now = lk_sys_now_ms();
    int read_mem;

    profile_procs(s->profile, &pids, &n, &browser);
    /* process_count is written only here, on this thread: safe to read. */
    read_mem = s->memory_at == 0 || now - s->memory_at >= MEMORY_EVERY_MS ||
               (size_t)s->info.process_count != n;
    for (i = 0; read_mem && i < n; i++) {
        int64_t m = lk_sys_proc_memory(pids[i]);
        if (m > 0)
            mem += m;
    }
    pthread_mutex_lock(&s->mu);
    s->info.process_count = (int)n;
    if (read_mem) {
        s->info.memory_bytes = mem;
        s->memory_at = now;
    }
    s->info.browser_pid = s->browser ? s->browser->pid : browser;
    pthread_mutex_unlock(&s->mu);
    free(pids);
}

int lk__session_heartbeat(lk_session *s, int *strikes, lk_error *err)
{
    lk_error e;
    /* The cheapest call the browser itself answers: it measures the round
     * trip, and a browser that stops answering it is hung, not busy. */
    if (lk_cdp_call(s->cdp, NULL, "Browser.getVersion", NULL, HEARTBEAT_TIMEOUT_MS, NULL, &e) ==
        LK_OK) {
        *strikes = 0;
        return LK_OK;
    }
    if (e.code != LK_ETIMEDOUT)
        return lk_error_set(err, e.code, 0, "%s", e.msg);
    if (++*strikes < HEARTBEAT_STRIKES)
        return LK_OK;
    return lk_error_set(err, LK_ETIMEDOUT, 0, "the browser has not answered for %d s",
                        HEARTBEAT_STRIKES * HEARTBEAT_TIMEOUT_MS / 1000);
}
