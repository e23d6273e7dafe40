/* Where a running browser serves DevTools: its DevToolsActivePort file, or
 * the --remote-debugging-port on its command line (a bot that picked a
 * fixed port writes no file until it is up, and old launchers pass one). */
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/session.h"

static int port_from_cmdline(const char *profile)
{
    static const char flag[] = "--remote-debugging-port=";
    lk_snapshot *snap = NULL;
    long *pids = NULL, browser = 0;
    size_t n = 0;
    int port = 0, i;
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, NULL) != LK_OK)
        return 0;
    if (lk_doctor_profile_procs(snap, profile, &pids, &n, &browser, NULL) == LK_OK && browser) {
        const lk_proc *p = lk_snapshot_find(snap, browser);
        for (i = 1; p && i < p->argc; i++) {
            if (p->argv[i] && strncmp(p->argv[i], flag, sizeof flag - 1) == 0) {
                char *end;
                long v = strtol(p->argv[i] + sizeof flag - 1, &end, 10);
                if (*end == '\0' && v > 0 && v < 65536)
                    port = (int)v;
            }
        }
    }
    free(pids);
    lk_snapshot_free(snap);
    return port;
}

int lk_session_endpoint(const char *profile, int probe_ms, lk_cdp_endpoint *out, lk_error *err)
{
    lk_cdp_endpoint file;
    int port, rc;
    memset(out, 0, sizeof *out);
    memset(&file, 0, sizeof file);
    rc = lk_cdp_endpoint_from_profile(profile, &file, NULL);
    port = rc == LK_OK ? file.port : port_from_cmdline(profile);
    if (port == 0) {
        lk_cdp_endpoint_clear(&file);
        return lk_error_set(err, LK_ENOENT, 0,
                            "no browser serves DevTools for %s (no DevToolsActivePort, no "
                            "--remote-debugging-port)",
                            profile);
    }
    if (probe_ms <= 0 && rc == LK_OK) {
        *out = file;
        return LK_OK;
    }
    lk_cdp_endpoint_clear(&file);
    /* The file outlives a killed browser: only the port itself can say. */
    return lk_cdp_endpoint_probe(port, probe_ms > 0 ? probe_ms : 2000, out, err);
}
