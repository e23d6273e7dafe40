/* Flattened sessions: which sessionId belongs to which target, and failing
 * the calls of a session whose target is gone. I/O thread only.
 *
 * A crashed renderer never answers, so without this its pending calls would
 * wait for their full timeout (the "Session closed" hang users report).
 * Inspector.targetCrashed and Inspector.detached arrive inside the session;
 * Target.detachedFromTarget names the session in its params; but
 * Target.targetCrashed / targetDestroyed only name the target, hence the
 * map, filled from Target.attachedToTarget (which Chromium sends for
 * attachToTarget with flatten as well as for auto-attach). */
#include "cdp/cdp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A hostile peer could announce attachments forever without detaching;
 * past this many the oldest are forgotten (their crashes then fail calls
 * only through Inspector.targetCrashed or the call's own timeout). */
#define LK_CDP_MAX_ATTACHED 4096

static void attach_free(lk_cdp__attach *a)
{
    free(a->session_id);
    free(a->target_id);
    free(a);
}

static void forget_session(lk_cdp *c, const char *session_id)
{
    lk_cdp__attach **pp = &c->attached, *a;
    while ((a = *pp)) {
        if (strcmp(a->session_id, session_id) == 0) {
            *pp = a->next;
            attach_free(a);
            c->nattached--;
        } else {
            pp = &a->next;
        }
    }
}

static void note_attached(lk_cdp *c, json_t *params)
{
    const char *sid = json_string_value(json_object_get(params, "sessionId"));
    const char *tid =
        json_string_value(json_object_get(json_object_get(params, "targetInfo"), "targetId"));
    lk_cdp__attach *a;
    if (!sid || !tid || !*sid)
        return;
    forget_session(c, sid);
    if (c->nattached >= LK_CDP_MAX_ATTACHED) {
        lk_cdp__attach **pp = &c->attached;
        while ((*pp)->next) /* newest first: the last one is the oldest */
            pp = &(*pp)->next;
        attach_free(*pp);
        *pp = NULL;
        c->nattached--;
    }
    a = calloc(1, sizeof *a);
    if (!a)
        return;
    a->session_id = strdup(sid);
    a->target_id = strdup(tid);
    if (!a->session_id || !a->target_id) {
        attach_free(a);
        return;
    }
    a->next = c->attached;
    c->attached = a;
    c->nattached++;
}

/* Fails the calls of every session attached to target_id. */
static void fail_target(lk_cdp *c, const char *target_id, const char *why)
{
    lk_cdp__attach *a;
    if (!target_id)
        return;
    for (a = c->attached; a; a = a->next)
        if (strcmp(a->target_id, target_id) == 0)
            lk_cdp__pending_fail_session(&c->pending, a->session_id, why);
}

void lk_cdp__sessions_on_event(lk_cdp *c, const lk_cdp_msg *msg)
{
    const char *m = msg->method;
    json_t *params = msg->params;
    const char *sid;

    if (strcmp(m, "Target.attachedToTarget") == 0) {
        note_attached(c, params);
    } else if (strcmp(m, "Target.detachedFromTarget") == 0) {
        sid = json_string_value(json_object_get(params, "sessionId"));
        if (sid && *sid) {
            lk_cdp__pending_fail_session(&c->pending, sid,
                                         "target detached (Target.detachedFromTarget)");
            forget_session(c, sid);
        }
    } else if (strcmp(m, "Target.targetCrashed") == 0) {
        fail_target(c, json_string_value(json_object_get(params, "targetId")),
                    "target crashed (Target.targetCrashed)");
    } else if (strcmp(m, "Target.targetDestroyed") == 0) {
        fail_target(c, json_string_value(json_object_get(params, "targetId")),
                    "target destroyed (Target.targetDestroyed)");
    } else if (strcmp(m, "Inspector.targetCrashed") == 0) {
        lk_cdp__pending_fail_session(&c->pending, msg->session_id,
                                     "target crashed (Inspector.targetCrashed)");
    } else if (strcmp(m, "Inspector.detached") == 0) {
        char why[200];
        const char *reason = json_string_value(json_object_get(params, "reason"));
        snprintf(why, sizeof why, "target detached (Inspector.detached: %.100s)",
                 reason ? reason : "no reason given");
        lk_cdp__pending_fail_session(&c->pending, msg->session_id, why);
    }
}

void lk_cdp__sessions_clear(lk_cdp *c)
{
    lk_cdp__attach *a;
    while ((a = c->attached)) {
        c->attached = a->next;
        attach_free(a);
    }
    c->nattached = 0;
}
