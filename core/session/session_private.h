/* Private to core/session. */
#ifndef LK_SESSION_PRIVATE_H
#define LK_SESSION_PRIVATE_H

#include <pthread.h>

#include "latchkey/browser.h"
#include "latchkey/session.h"

#define LK_WORLD "latchkey"
#define LK_BINDING "__latchkey_report"

struct lk_session {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t cb_mu; /* callbacks run one at a time, whatever thread */
    pthread_t thread;
    int thread_started;

    /* fixed at start */
    lk_cdp_loop *loop;
    char *profile;
    char *chromium;
    char *site_url;
    lk_site *site;
    lk_session_mode mode;
    int headed;
    int max_restarts;
    int attach_poll_ms;
    int backoff_ms;
    int stop_timeout_ms;
    int attached_mode; /* resolved from LK_MODE_AUTO at start */
    char *script;      /* watch.js with the site profile filled in */
    lk_session_fn cb;
    void *user;

    /* the connection (supervisor thread writes, I/O thread reads under mu) */
    lk_browser *browser;
    lk_cdp *cdp;
    char *target_sid;
    int world_ctx; /* attach mode: the isolated world's execution context */

    /* signals to the supervisor (under mu) */
    int stop_requested;
    int closed;       /* the socket is gone */
    int crashed;      /* the renderer crashed */
    int detached;     /* the target went away */
    int want_canvas;  /* a canvas-only QR changed: capture it */
    int want_version; /* read the web app's version */
    int take_over;    /* the user asked to click "Use here" */
    int take_over_done;
    int take_over_rc;
    char probe_err[256]; /* at start: a named DevTools port that did not answer */
    int launched;        /* a browser ran the folder once (ours or the bot's) */
    int standing_down; /* the owner check said stand down (supervisor thread only) */
    lk_owner_stop down_by; /* ... who (action "" when the folder was removed) */
    int down_removed;

    /* what we know (under mu) */
    lk_session_info info;
    int ever_linked;
    int64_t memory_at; /* monotonic ms of the last memory reading (health.c) */
    char *canvas_sig;
    double canvas_clip[4];
};

/* state.c */
void lk__session_set_state(lk_session *s, lk_state st, const char *reason);
void lk__session_apply_report(lk_session *s, const char *json, size_t len);
void lk__session_notify(lk_session *s);
/* STOPPED for good, with who stopped it (may have action "") and why. */
void lk__session_stand_down(lk_session *s, const lk_owner_stop *by, int removed, const char *why);

/* page.c: CDP work done on the supervisor thread */
int lk__page_setup_owned(lk_session *s, lk_error *err);
int lk__page_setup_attached(lk_session *s, lk_error *err);
int lk__page_poll_attached(lk_session *s, lk_error *err);
int lk__page_capture_canvas(lk_session *s, lk_error *err);
int lk__page_read_version(lk_session *s);
int lk__page_take_over(lk_session *s, lk_error *err);
void lk__page_on_event(void *user, const lk_cdp_msg *msg);
void lk__page_on_closed(void *user, const lk_error *why);

/* health.c */
void lk__health_hold(void);    /* a session starts using the shared snapshot */
void lk__health_release(void); /* ... and stops: the last one frees it */
void lk__session_refresh_health(lk_session *s);
/* One Browser.getVersion round trip. LK_OK while the browser answers (or
 * has missed fewer than a few in a row, counted in *strikes). */
int lk__session_heartbeat(lk_session *s, int *strikes, lk_error *err);

/* supervisor.c */
void *lk__session_supervise(void *arg);

#endif
