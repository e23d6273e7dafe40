/* Health: the browser's process tree, its memory, the DevTools round trip. */
#include <stdlib.h>

#include "latchkey/doctor.h"
#include "session/session_private.h"

void lk__session_refresh_health(lk_session *s)
{
    lk_snapshot *snap = NULL;
    long *pids = NULL, browser = 0;
    size_t n = 0, i;
    int64_t mem = 0;
    int rtt = s->cdp ? lk_cdp_last_rtt_ms(s->cdp) : -1;

    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) == LK_OK &&
        lk_doctor_profile_procs(snap, s->profile, &pids, &n, &browser, NULL) == LK_OK) {
        for (i = 0; i < n; i++) {
            int64_t rss = lk_sys_proc_rss(pids[i]);
            if (rss > 0)
                mem += rss;
        }
    }
    pthread_mutex_lock(&s->mu);
    s->info.process_count = (int)n;
    s->info.memory_bytes = mem;
    s->info.browser_pid = s->browser ? s->browser->pid : browser;
    s->info.rtt_ms = rtt;
    pthread_mutex_unlock(&s->mu);
    free(pids);
    lk_snapshot_free(snap);
}
