/* The I/O thread: one libwebsockets context (default poll loop) for every
 * DevTools connection, a command queue other threads fill, and one timer
 * for call deadlines.
 *
 * Other threads never touch lws except lws_cancel_service(), which is made
 * for that: it wakes the poll, lws reports LWS_CALLBACK_EVENT_WAIT_CANCELLED
 * on this thread, and the queue is drained there. The wake-up is sent with
 * loop->mu held and never once stopping is set, so it cannot race the
 * context's destruction. */
#include "cdp/cdp_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/sys.h"

/* lws logs through one process-wide setting; set it once, quietly. */
static pthread_once_t lk_cdp_log_once = PTHREAD_ONCE_INIT;

static void lws_log_line(int level, const char *line)
{
    fprintf(stderr, "latchkey: lws: %s", line);
}

static void set_log_level(void)
{
    LK_LWS.set_log_level(LLL_ERR, lws_log_line);
}

int lk_cdp__on_io_thread(const lk_cdp_loop *loop)
{
    return pthread_equal(pthread_self(), loop->thread);
}

int lk_cdp__loop_post(lk_cdp_loop *loop, int kind, lk_cdp *conn, lk_cdp__call *call)
{
    lk_cdp__cmd *cmd = kind == LK_CDP__CMD_CLOSE ? &conn->close_cmd : calloc(1, sizeof *cmd);
    int wake;
    if (!cmd)
        return LK_ENOMEM;
    cmd->next = NULL;
    cmd->kind = kind;
    cmd->conn = conn;
    cmd->call = call;
    pthread_mutex_lock(&loop->mu);
    if (loop->stopping) {
        pthread_mutex_unlock(&loop->mu);
        if (cmd != &conn->close_cmd)
            free(cmd);
        return LK_EIO;
    }
    lk_cdp__conn_ref(conn);
    wake = loop->q_head == NULL; /* else a wake-up is already on its way */
    if (loop->q_tail)
        loop->q_tail->next = cmd;
    else
        loop->q_head = cmd;
    loop->q_tail = cmd;
    if (wake)
        LK_LWS.cancel_service(loop->ctx);
    pthread_mutex_unlock(&loop->mu);
    return LK_OK;
}

/* ---- deadlines -------------------------------------------------------------- */

static void timer_fired(lws_sorted_usec_list_t *sul)
{
    lk_cdp_loop *loop = lws_container_of(sul, lk_cdp_loop, sul);
    int64_t now = lk_sys_now_ms(), next = INT64_MAX, n;
    lk_cdp *c, *c_next;

    loop->timer_at = INT64_MAX;
    /* Expiring only runs replies, which can queue commands but not end a
     * connection, so the list holds still while it is walked. */
    for (c = loop->conns; c; c = c_next) {
        c_next = c->next_conn;
        n = lk_cdp__pending_expire(&c->pending, now);
        if (n < next)
            next = n;
    }
    if (next != INT64_MAX)
        lk_cdp__loop_schedule(loop, next);
}

void lk_cdp__loop_schedule(lk_cdp_loop *loop, int64_t at_ms)
{
    int64_t delay;
    if (at_ms >= loop->timer_at)
        return;
    loop->timer_at = at_ms;
    delay = at_ms - lk_sys_now_ms();
    if (delay < 0)
        delay = 0;
    LK_LWS.sul_schedule(loop->ctx, 0, &loop->sul, timer_fired, (lws_usec_t)delay * LWS_US_PER_MS);
}

/* ---- the command queue -------------------------------------------------------- */

static void run_command(lk_cdp_loop *loop, lk_cdp__cmd *cmd)
{
    lk_cdp *c = cmd->conn;
    int embedded = cmd == &c->close_cmd;
    switch (cmd->kind) {
    case LK_CDP__CMD_CONNECT: lk_cdp__conn_start(loop, c); break;
    case LK_CDP__CMD_SEND: lk_cdp__conn_send(c, cmd->call); break;
    case LK_CDP__CMD_CLOSE: lk_cdp__conn_finish(c, LK_OK, "closed by lk_cdp_close"); break;
    }
    if (!embedded)
        free(cmd);
    lk_cdp__conn_unref(c); /* may free c, and with it an embedded cmd */
}

static void drain(lk_cdp_loop *loop)
{
    lk_cdp__cmd *cmd;
    pthread_mutex_lock(&loop->mu);
    if (loop->stopping) {
        /* Leave the queue to the shutdown, which fails what it holds. */
        loop->quit = 1;
        pthread_mutex_unlock(&loop->mu);
        return;
    }
    cmd = loop->q_head;
    loop->q_head = loop->q_tail = NULL;
    pthread_mutex_unlock(&loop->mu);
    while (cmd) {
        lk_cdp__cmd *next = cmd->next;
        run_command(loop, cmd);
        cmd = next;
    }
}

static int lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        drain(LK_LWS.context_user(LK_LWS.get_context(wsi)));
        return 0;
    }
    return lk_cdp__conn_callback(wsi, reason, in, len);
}

/* ---- the thread ------------------------------------------------------------------ */

static void shutdown_loop(lk_cdp_loop *loop)
{
    lk_cdp__cmd *cmd;
    loop->quit = 1;
    pthread_mutex_lock(&loop->mu);
    loop->stopping = 1; /* already, unless lws_service failed */
    cmd = loop->q_head;
    loop->q_head = loop->q_tail = NULL;
    pthread_mutex_unlock(&loop->mu);

    while (loop->conns)
        lk_cdp__conn_finish(loop->conns, LK_EIO, "the CDP loop stopped");
    /* Commands queued before stopping: connects fail, sends fail on their
     * finished connection, closes find nothing left to do. */
    while (cmd) {
        lk_cdp__cmd *next = cmd->next;
        run_command(loop, cmd);
        cmd = next;
    }
    LK_LWS.sul_cancel(&loop->sul);
    LK_LWS.context_destroy(loop->ctx);
    loop->ctx = NULL;
}

static void *io_main(void *arg)
{
    lk_cdp_loop *loop = arg;
    while (!loop->quit) {
        if (LK_LWS.service(loop->ctx, 0) < 0) {
            fprintf(stderr, "latchkey: cdp: lws_service failed; closing every connection\n");
            break;
        }
    }
    shutdown_loop(loop);
    return NULL;
}

int lk_cdp_loop_start(lk_cdp_loop **out, lk_error *err)
{
    struct lws_context_creation_info info;
    lk_cdp_loop *loop;
    int rc;

    if (!out)
        return lk_error_set(err, LK_EINVAL, 0, "lk_cdp_loop_start: no output");
    *out = NULL;
    rc = lk_cdp__net_bind(err);
    if (rc != LK_OK)
        return rc;
    pthread_once(&lk_cdp_log_once, set_log_level);
    loop = calloc(1, sizeof *loop);
    if (!loop)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    pthread_mutex_init(&loop->mu, NULL);
    loop->timer_at = INT64_MAX;
    loop->protocols[0].name = "latchkey-cdp";
    loop->protocols[0].callback = lws_callback;
    /* Receive in 64 KiB slices: a multi-megabyte screenshot in few callbacks. */
    loop->protocols[0].rx_buffer_size = 64 * 1024;

    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = loop->protocols;
    info.user = loop;
    loop->ctx = LK_LWS.create_context(&info);
    if (!loop->ctx) {
        pthread_mutex_destroy(&loop->mu);
        free(loop);
        return lk_error_set(err, LK_EIO, 0, "cannot create the libwebsockets context");
    }
    /* The I/O thread takes no signals: they belong to the application's
     * threads (and poll() would otherwise see EINTR from SIGCHLD). */
    rc = lk_sys_thread_start(&loop->thread, io_main, loop);
    if (rc != 0) {
        LK_LWS.context_destroy(loop->ctx);
        pthread_mutex_destroy(&loop->mu);
        free(loop);
        return lk_error_set(err, LK_EIO, rc, "cannot start the CDP I/O thread");
    }
    *out = loop;
    return LK_OK;
}

void lk_cdp_loop_stop(lk_cdp_loop *loop)
{
    if (!loop)
        return;
    if (lk_cdp__on_io_thread(loop)) {
        /* Joining ourselves would hang forever; refuse loudly instead. */
        fprintf(stderr, "latchkey: cdp: lk_cdp_loop_stop called on the I/O thread; ignored\n");
        return;
    }
    pthread_mutex_lock(&loop->mu);
    if (!loop->stopping) {
        loop->stopping = 1;
        LK_LWS.cancel_service(loop->ctx);
    }
    pthread_mutex_unlock(&loop->mu);
    pthread_join(loop->thread, NULL);
    pthread_mutex_destroy(&loop->mu);
    free(loop);
}
