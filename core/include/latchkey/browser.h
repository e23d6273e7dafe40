/* latchkey/browser.h - find, launch and stop Chromium on a session folder. */
#ifndef LATCHKEY_BROWSER_H
#define LATCHKEY_BROWSER_H

#include <stdint.h>

#include "latchkey/error.h"
#include "latchkey/sys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The browser to use: explicit (may be NULL), else $LATCHKEY_CHROMIUM, else
 * Chrome, Chromium or Edge in their usual places. Caller frees. */
int lk_browser_find(const char *explicit_path, char **out, lk_error *err);

typedef struct lk_browser_opts {
    const char *exe;               /* from lk_browser_find */
    const char *profile;           /* --user-data-dir */
    const char *url;               /* first page, NULL for about:blank */
    int headed;                    /* 0: --headless=new */
    int timeout_ms;                /* for the DevTools endpoint to appear; 0: 20 s */
    const char *const *extra_args; /* NULL-terminated, may be NULL */
} lk_browser_opts;

typedef struct lk_browser {
    lk_child *child; /* the process tree we own */
    long pid;
    uint64_t start_id;
    int port;
    char *ws_url;
    char *profile;
} lk_browser;

/* Refuses (LK_EBUSY, with who in the message) when another process already
 * runs or holds the profile; deletes a stale DevToolsActivePort first;
 * launches with --remote-debugging-port=0 and waits for the endpoint. */
int lk_browser_launch(const lk_browser_opts *o, lk_browser **out, lk_error *err);

/* Ends the tree: waits up to timeout_ms for it to exit by itself (after the
 * caller sent Browser.close), then ends it, then verifies with the doctor
 * that nothing holds the profile. */
int lk_browser_stop(lk_browser *b, int timeout_ms, lk_error *err);
/* Proves that nothing holds profile: no process (the doctor's holder scan)
 * and no live profile lock. Then removes a dead browser's DevToolsActivePort.
 * LK_EBUSY naming who holds it otherwise. lk_browser_stop ends with it. */
int lk_browser_verify_free(const char *profile, lk_error *err);
void lk_browser_free(lk_browser *b);

#ifdef __cplusplus
}
#endif
#endif
