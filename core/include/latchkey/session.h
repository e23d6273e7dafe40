/* latchkey/session.h - one WhatsApp Web session: a browser we own or attach
 * to, the page's state, its QR code and its health. */
#ifndef LATCHKEY_SESSION_H
#define LATCHKEY_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "latchkey/cdp.h"
#include "latchkey/error.h"
#include "latchkey/owner.h"
#include "latchkey/site.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lk_state {
    LK_STATE_STOPPED = 0,
    LK_STATE_STARTING,
    LK_STATE_LOADING,
    LK_STATE_QR,
    LK_STATE_LINKED,
    LK_STATE_CONFLICT,
    LK_STATE_LOGGED_OUT,
    LK_STATE_UNREACHABLE,
    LK_STATE_CRASHED,
    LK_STATE_FAILED
} lk_state;
const char *lk_state_name(lk_state s);

typedef enum lk_session_mode {
    LK_MODE_AUTO =
        0,          /* attach when a browser with a DevTools endpoint runs the profile, else own */
    LK_MODE_ATTACH, /* attach only: never start a browser */
    LK_MODE_OWN     /* start our own browser (refused if the profile is in use) */
} lk_session_mode;

typedef struct lk_session_opts {
    lk_cdp_loop *loop;    /* the shared I/O loop (required) */
    const char *profile;  /* the session folder (Chromium user-data-dir) */
    const char *chromium; /* NULL: lk_browser_find() */
    const char *site_url; /* NULL: $LATCHKEY_SITE_URL, else the site profile's url */
    const lk_site *site;  /* NULL: lk_site_default() */
    lk_session_mode mode;
    int headed;
    int max_restarts;   /* 0: 6 */
    int attach_poll_ms; /* attach mode's timed read; 0: 100 ms */
    int backoff_ms;     /* first retry delay, doubling to 30 s; 0: 500 ms */
} lk_session_opts;

/* A consistent copy of everything known about a session. */
typedef struct lk_session_info {
    lk_state state;
    int64_t since_ms;      /* wall clock of the last state change */
    char reason[256];      /* why it is in this state */
    char *qr;              /* the QR payload, NULL when none (or canvas only) */
    unsigned char *qr_png; /* canvas-only QR: the captured PNG */
    size_t qr_png_len;
    int qr_from_canvas;
    int rotations;    /* payload changes seen */
    int64_t qr_at_ms; /* wall clock when the current QR appeared */
    char *url;
    char *version; /* the web app's version, when the page exposes it */
    int attached;  /* 1: someone else's browser */
    long browser_pid;
    int process_count;
    int64_t memory_bytes;
    int rtt_ms;
    int64_t started_ms;
    int restarts;
    char last_error[256];
    /* 1: the session stood down for good: its browser went away because of
     * a deliberate stop, unlock or cleanup (stopped_by says who), or its
     * folder was removed (folder_removed). Nothing is relaunched; the state
     * is STOPPED and reason says why. Starting it again is the user's call
     * (lk_owner_clear_stop, then a new session). */
    int stood_down;
    int folder_removed;
    lk_owner_stop stopped_by; /* action "" when no marker was found */
} lk_session_info;
void lk_session_info_clear(lk_session_info *info);

typedef struct lk_session lk_session;

/* The DevTools endpoint of a browser running `profile`: from its
 * DevToolsActivePort, else its --remote-debugging-port. probe_ms > 0 asks
 * the port (/json/version) so a stale file is not trusted. */
int lk_session_endpoint(const char *profile, int probe_ms, lk_cdp_endpoint *out, lk_error *err);

/* Called on a core thread on every state or QR change. Keep it short; copy
 * what you need (info is valid during the call only). */
typedef void (*lk_session_fn)(void *user, const lk_session_info *info);

int lk_session_start(const lk_session_opts *o, lk_session_fn cb, void *user, lk_session **out,
                     lk_error *err);
/* Copies the current info (free with lk_session_info_clear). */
void lk_session_get(lk_session *s, lk_session_info *out);
/* Blocks until the state is one of `states` (bit mask of 1u << lk_state) or
 * the deadline; returns the state reached. */
lk_state lk_session_wait(lk_session *s, unsigned states, int64_t deadline_ms);
/* Clicks "Use here" on a conflict (only when asked: never on its own). */
int lk_session_take_over(lk_session *s, lk_error *err);
/* Owned: Browser.close, wait for the tree, end it, verify. Attached: detach
 * and leave the bot's browser alone. Idempotent. */
int lk_session_stop(lk_session *s, int timeout_ms, lk_error *err);
void lk_session_free(lk_session *s);

#define LK_STATES(x) (1u << (x))

#ifdef __cplusplus
}
#endif
#endif
