/* latchkeyctl qr | link | stop: a session's QR code and life. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "latchkey/doctor.h"
#include "latchkey/owner.h"
#include "latchkey/session.h"
#include "qr_out.h"

#define QR_STATES                                                                                  \
    (LK_STATES(LK_STATE_QR) | LK_STATES(LK_STATE_LOGGED_OUT) | LK_STATES(LK_STATE_LINKED) |        \
     LK_STATES(LK_STATE_FAILED) | LK_STATES(LK_STATE_CONFLICT) | LK_STATES(LK_STATE_UNREACHABLE) | \
     LK_STATES(LK_STATE_STOPPED))

/* 4: another Latchkey command (stop, unlock, cleanup) ended the session on
 * purpose, or its folder was removed: it is not relaunched. */
enum { LK_EXIT_LINKED = 3, LK_EXIT_STOOD_DOWN = 4 };

typedef struct run {
    lk_cli_args a;
    lk_cdp_loop *loop;
    lk_session *s;
    int64_t deadline;
    int timeout_s;
} run;

static void print_json(const run *r, const lk_session_info *i, const char *error);

static int valid_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
           strncmp(u, "file://", 7) == 0;
}

/* Parses, checks PATH, starts the loop and the session. Returns an exit code
 * (LK_EXIT_OK to go on). */
static int begin(run *r, int argc, char **argv, const char *allowed, int default_timeout_s)
{
    lk_session_opts o;
    lk_error err;
    int rc = lk_cli_parse(argc, argv, allowed, &r->a);
    lk_ftype ft;
    if (rc != LK_EXIT_OK)
        return rc;
    lk_error_clear(&err);
    ft = lk_sys_ftype(r->a.path);
    if (ft != LK_FT_NONE && ft != LK_FT_DIR && ft != LK_FT_LINK) {
        fprintf(stderr, "latchkeyctl: %s is not a folder\n", lk_cli_text(r->a.path));
        return LK_EXIT_USAGE;
    }
    if (r->a.site_url && !valid_url(r->a.site_url)) {
        fprintf(stderr, "latchkeyctl: --site-url must be an http(s) or file URL, not '%s'\n",
                lk_cli_text(r->a.site_url));
        return LK_EXIT_USAGE;
    }
    r->timeout_s = r->a.timeout_s > 0 ? r->a.timeout_s : default_timeout_s;
    r->deadline = lk_sys_now_ms() + (int64_t)r->timeout_s * 1000;
    if (lk_cdp_loop_start(&r->loop, &err) != LK_OK) {
        lk_cli_error(&err, NULL);
        return LK_EXIT_FAIL;
    }
    /* The user starts the session on purpose: an earlier stop, unlock or
     * cleanup no longer stands in the way. */
    lk_owner_clear_stop(r->a.path);
    memset(&o, 0, sizeof o);
    o.loop = r->loop;
    o.profile = r->a.path;
    o.chromium = r->a.chromium;
    o.site_url = r->a.site_url;
    o.headed = r->a.headed;
    if (lk_session_start(&o, NULL, NULL, &r->s, &err) != LK_OK) {
        char why[600];
        /* Attaching needs no browser of ours (the session looks for one
         * only when nothing serves the folder), so LK_ENOENT here means
         * neither a running browser nor one to start. */
        if (err.code == LK_ENOENT)
            snprintf(why, sizeof why,
                     "no browser runs %s to attach to, and none to start was found: %s", r->a.path,
                     err.msg);
        else
            snprintf(why, sizeof why, "%s", err.msg[0] ? err.msg : lk_code_name(err.code));
        if (r->a.json) {
            /* --json promises one object on stdout, failures included. */
            lk_session_info none;
            memset(&none, 0, sizeof none);
            none.state = LK_STATE_FAILED;
            print_json(r, &none, why);
        }
        fprintf(stderr, "latchkeyctl: %s\n", lk_cli_text(why));
        if (err.code == LK_ENOENT)
            fprintf(stderr, "Install Chromium, or set LATCHKEY_CHROMIUM=/path/to/chrome or pass "
                            "--chromium EXE.\n");
        return err.code == LK_EINVAL ? LK_EXIT_USAGE : LK_EXIT_FAIL;
    }
    return LK_EXIT_OK;
}

static void end(run *r, int timeout_ms)
{
    if (r->s) {
        lk_session_stop(r->s, timeout_ms, NULL);
        lk_session_free(r->s);
    }
    if (r->loop)
        lk_cdp_loop_stop(r->loop);
}

static int has_qr(const lk_session_info *i)
{
    return (i->state == LK_STATE_QR || i->state == LK_STATE_LOGGED_OUT) &&
           (i->qr || (i->qr_from_canvas && i->qr_png));
}

/* Waits for a QR (or a final answer) and fills info. */
static void wait_qr(run *r, lk_session_info *info)
{
    for (;;) {
        lk_state st;
        int64_t now = lk_sys_now_ms(), step = now + 100;
        st = lk_session_wait(r->s, QR_STATES, step < r->deadline ? step : r->deadline);
        lk_session_info_clear(info);
        lk_session_get(r->s, info);
        if (has_qr(info) || st == LK_STATE_LINKED || st == LK_STATE_FAILED ||
            st == LK_STATE_CONFLICT || info->stood_down || lk_sys_now_ms() >= r->deadline)
            return;
    }
}

static void print_json(const run *r, const lk_session_info *i, const char *error)
{
    json_t *o = json_object();
    char *text;
    json_object_set_new(o, "path", json_string(r->a.path));
    json_object_set_new(o, "state", json_string(lk_state_name(i->state)));
    json_object_set_new(o, "qr", i->qr ? json_string(i->qr) : json_null());
    json_object_set_new(o, "qr_source",
                        i->qr       ? json_string("data-ref")
                        : i->qr_png ? json_string("canvas")
                                    : json_null());
    json_object_set_new(o, "attached", json_boolean(i->attached));
    json_object_set_new(o, "rotations", json_integer(i->rotations));
    if (error)
        json_object_set_new(o, "error", json_string(error));
    if (i->stood_down)
        json_object_set_new(o, "stopped_by",
                            i->stopped_by.action[0]
                                ? json_pack("{s:s,s:s,s:I}", "action", i->stopped_by.action, "by",
                                            i->stopped_by.by, "pid", (json_int_t)i->stopped_by.pid)
                                : json_null());
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text)
        puts(text);
    free(text);
    fflush(stdout);
}

static int write_png(const run *r, const lk_session_info *i)
{
    int rc;
    if (!r->a.png)
        return 0;
    rc = i->qr ? lk_qr_write_png(r->a.png, i->qr, 8)
               : lk_write_file(r->a.png, i->qr_png, i->qr_png_len);
    if (rc != 0)
        fprintf(stderr, "latchkeyctl: cannot write %s\n", r->a.png);
    return rc;
}

static void show_qr(const run *r, const lk_session_info *i)
{
    if (r->a.json) {
        print_json(r, i, NULL);
        return;
    }
    if (i->qr) {
        lk_qr_print(stdout, i->qr);
        printf("Scan with WhatsApp > Linked devices > Link a device.\n");
    } else {
        printf("The page shows its QR code only as an image%s.\n",
               r->a.png ? "; it was written to the --png file" : "; use --png FILE to save it");
    }
    fflush(stdout);
}

/* Why there is no QR code (qr) or no link (link), in words that say what to
 * do. A state that ends the wait (conflict, failed) is the reason; "timed
 * out" only when the deadline passed first, with the state it was left in,
 * since "loading" and "crashed" call for different fixes. */
static void failure(const run *r, const lk_session_info *i, const char *waiting_for, char *out,
                    size_t size)
{
    const char *why = i->reason[0] ? i->reason : i->last_error;
    if (i->stood_down) {
        /* Not a failure to retry: someone ended it on purpose. */
        snprintf(out, size, "%s: %s", r->a.path, why);
        return;
    }
    switch (i->state) {
    case LK_STATE_CONFLICT:
        /* The page stays on its "Use here" dialog until someone clicks it:
         * waiting longer changes nothing. */
        snprintf(out, size,
                 "WhatsApp is open in another window or tab, so this one shows no QR code. "
                 "Take over with Take over in the Latchkey tray app (it clicks \"Use here\"), "
                 "or close the other window or tab and run this again");
        return;
    case LK_STATE_FAILED:
        snprintf(out, size, "%s", why[0] ? why : "the browser keeps failing");
        return;
    default: break;
    }
    if (i->state == LK_STATE_LOGGED_OUT)
        why = "WhatsApp logged this session out (the phone removed it or it expired); a new "
              "QR code must be scanned";
    else if (i->state == LK_STATE_STOPPED && i->attached)
        why = "the browser that ran the folder is gone";
    snprintf(out, size, "timed out after %d s waiting for %s (last state %s%s%.200s)", r->timeout_s,
             waiting_for, lk_state_name(i->state), why[0] ? ": " : "", why);
    if (i->last_error[0] && strcmp(i->last_error, why) != 0)
        snprintf(out + strlen(out), size - strlen(out), "; last error: %.200s", i->last_error);
}

int lk_cmd_qr(int argc, char **argv)
{
    run r;
    lk_session_info info;
    int rc;
    memset(&r, 0, sizeof r);
    memset(&info, 0, sizeof info);
    rc = begin(&r, argc, argv, "jptsc", 60);
    if (rc != LK_EXIT_OK) {
        end(&r, 5000);
        return rc;
    }
    wait_qr(&r, &info);
    if (has_qr(&info)) {
        rc = write_png(&r, &info) == 0 ? LK_EXIT_OK : LK_EXIT_FAIL;
        show_qr(&r, &info);
    } else if (info.state == LK_STATE_LINKED) {
        rc = LK_EXIT_LINKED;
        if (r.a.json)
            print_json(&r, &info, NULL);
        else
            printf("%s is already linked: there is no QR code to scan.\n", lk_cli_text(r.a.path));
    } else {
        char why[768];
        rc = info.stood_down ? LK_EXIT_STOOD_DOWN : LK_EXIT_FAIL;
        failure(&r, &info, "the QR code", why, sizeof why);
        if (r.a.json)
            print_json(&r, &info, why);
        fprintf(stderr, "latchkeyctl: %s\n", lk_cli_text(why));
    }
    lk_session_info_clear(&info);
    end(&r, 10000);
    return rc;
}

int lk_cmd_link(int argc, char **argv)
{
    run r;
    lk_session_info info;
    char *shown = NULL;
    int rc = LK_EXIT_FAIL, shown_canvas = -1;
    memset(&r, 0, sizeof r);
    memset(&info, 0, sizeof info);
    rc = begin(&r, argc, argv, "jthsc", 300);
    if (rc != LK_EXIT_OK) {
        end(&r, 5000);
        return rc;
    }
    rc = LK_EXIT_FAIL;
    for (;;) {
        wait_qr(&r, &info);
        if (info.state == LK_STATE_LINKED) {
            rc = LK_EXIT_OK;
            break;
        }
        if (info.state == LK_STATE_FAILED || info.state == LK_STATE_CONFLICT || info.stood_down ||
            lk_sys_now_ms() >= r.deadline)
            break;
        if (has_qr(&info) && ((info.qr && (!shown || strcmp(shown, info.qr) != 0)) ||
                              (!info.qr && shown_canvas != info.rotations))) {
            free(shown);
            shown = info.qr ? lk_cli_strdup(info.qr) : NULL;
            shown_canvas = info.rotations;
            show_qr(&r, &info);
        }
        /* Wait for the next change rather than spinning on the same QR. */
        lk_session_wait(r.s, LK_STATES(LK_STATE_LINKED) | LK_STATES(LK_STATE_FAILED),
                        lk_sys_now_ms() + 100 < r.deadline ? lk_sys_now_ms() + 100 : r.deadline);
    }
    if (rc == LK_EXIT_OK) {
        if (r.a.json)
            print_json(&r, &info, NULL);
        else
            printf("Linked. Closing the browser so your bot can use %s.\n", lk_cli_text(r.a.path));
    } else {
        char why[768];
        if (info.stood_down)
            rc = LK_EXIT_STOOD_DOWN;
        failure(&r, &info, "the phone to link the session", why, sizeof why);
        if (r.a.json)
            print_json(&r, &info, why);
        fprintf(stderr, "latchkeyctl: not linked: %s\n", lk_cli_text(why));
    }
    free(shown);
    lk_session_info_clear(&info);
    end(&r, 15000);
    return rc;
}
