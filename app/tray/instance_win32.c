/* instance_win32.c - the single-instance channel of latchkey.exe (see
 * instance_win32.h).
 *
 * The pipe carries little-endian frames. A request: "LKI1", a count, then
 * that many strings (a length, then UTF-8 bytes): the caller's current
 * folder, then its argv. An answer: frames of one type byte and a length,
 * 'o' text for stdout, 'e' text for stderr, and last 'x' with the exit
 * status. Whatever arrives on the pipe is untrusted: sizes are bounded and
 * strings must be UTF-8 without NUL bytes. */
#include "instance_win32.h"

#include <windows.h>

#include <sddl.h> /* after windows.h, which it needs */
#include <stdio.h>
#include <string.h>

#define MAGIC "LKI1"
#define MAX_ARGS 256
#define MAX_STRING (32 * 1024)
#define MAX_REQUEST (128 * 1024)
#define REQUEST_TIMEOUT_MS 10000
/* A starting or quitting instance owns the mutex before its pipe exists or
 * after it is gone: a new one waits this long for either to change. */
#define CLAIM_TIMEOUT_MS 60000
#define PIPE_BUFFER 65536

struct lk_instance {
    HANDLE mutex;
    HANDLE pipe; /* the first instance, waiting for its first client */
    wchar_t *pipe_name;
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd;
    HANDLE stop; /* manual-reset event: the listener ends */
    GThread *thread;
    GApplication *app;
    gboolean stopping; /* main thread only */
};

typedef struct conn {
    lk_instance *in;
    HANDLE pipe;
    GPtrArray *strings; /* cwd, then argv */
} conn;

/* ---- names and rights --------------------------------------------------------- */

/* The user's SID as a string (LocalFree it), or NULL. */
static wchar_t *user_sid(void)
{
    HANDLE tok;
    DWORD n = 0;
    TOKEN_USER *tu;
    wchar_t *s = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return NULL;
    GetTokenInformation(tok, TokenUser, NULL, 0, &n);
    tu = n ? g_malloc(n) : NULL;
    if (tu && GetTokenInformation(tok, TokenUser, tu, n, &n))
        ConvertSidToStringSidW(tu->User.Sid, &s);
    g_free(tu);
    CloseHandle(tok);
    return s;
}

/* The mutex is per session ("Local\"); pipe names are machine-wide, so the
 * session id goes into the pipe's name. The user's SID goes into both: two
 * users of one session (runas) each get their own Latchkey. */
static gboolean make_names(lk_instance *in, wchar_t **mutex_name, char **err)
{
    wchar_t *sid = user_sid(), sddl[256];
    DWORD session = 0;
    if (!sid) {
        *err = g_strdup_printf("cannot read the user's identity (error %lu)", GetLastError());
        return FALSE;
    }
    ProcessIdToSessionId(GetCurrentProcessId(), &session);
    in->pipe_name = g_new(wchar_t, 256);
    _snwprintf(in->pipe_name, 256, L"\\\\.\\pipe\\latchkey-%ls-%lu", sid, (unsigned long)session);
    in->pipe_name[255] = 0;
    *mutex_name = g_new(wchar_t, 256);
    _snwprintf(*mutex_name, 256, L"Local\\latchkey-instance-%ls", sid);
    (*mutex_name)[255] = 0;
    /* Only this user may open the pipe (and the system, which may anyway). */
    _snwprintf(sddl, G_N_ELEMENTS(sddl), L"D:P(A;;GA;;;%ls)(A;;GA;;;SY)", sid);
    sddl[G_N_ELEMENTS(sddl) - 1] = 0;
    LocalFree(sid);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &in->sd,
                                                              NULL)) {
        *err = g_strdup_printf("cannot build the pipe's access rights (error %lu)",
                               GetLastError());
        return FALSE;
    }
    in->sa.nLength = sizeof in->sa;
    in->sa.lpSecurityDescriptor = in->sd;
    in->sa.bInheritHandle = FALSE;
    return TRUE;
}

static HANDLE new_pipe(lk_instance *in, gboolean first)
{
    return CreateNamedPipeW(in->pipe_name,
                            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
                                (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                PIPE_REJECT_REMOTE_CLIENTS,
                            PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0, &in->sa);
}

/* ---- I/O on the server's (overlapped) handles ------------------------------------ */

/* Reads or writes exactly len bytes within timeout_ms (INFINITE for none);
 * gives up early when stop is signalled. */
static gboolean pipe_io(HANDLE h, gboolean write, void *buf, DWORD len, DWORD timeout_ms,
                        HANDLE stop)
{
    char *p = buf;
    OVERLAPPED ov;
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    gboolean ok = ev != NULL;
    while (ok && len > 0) {
        DWORD done = 0;
        BOOL r;
        memset(&ov, 0, sizeof ov);
        ov.hEvent = ev;
        r = write ? WriteFile(h, p, len, NULL, &ov) : ReadFile(h, p, len, NULL, &ov);
        if (!r && GetLastError() != ERROR_IO_PENDING) {
            ok = FALSE;
            break;
        }
        if (!r) {
            HANDLE waits[2] = {ev, stop};
            DWORD w = WaitForMultipleObjects(stop ? 2 : 1, waits, FALSE, timeout_ms);
            if (w != WAIT_OBJECT_0) {
                CancelIo(h);
                GetOverlappedResult(h, &ov, &done, TRUE);
                ok = FALSE;
                break;
            }
        }
        if (!GetOverlappedResult(h, &ov, &done, TRUE) || done == 0) {
            ok = FALSE;
            break;
        }
        p += done;
        len -= done;
    }
    if (ev)
        CloseHandle(ev);
    return ok;
}

static gboolean send_frame(HANDLE h, char type, const void *data, guint32 len)
{
    char head[5];
    head[0] = type;
    memcpy(head + 1, &len, 4); /* x86 and arm64 Windows are little-endian */
    return pipe_io(h, TRUE, head, sizeof head, INFINITE, NULL) &&
           (len == 0 || pipe_io(h, TRUE, (void *)data, len, INFINITE, NULL));
}

/* The request of a connected client, or NULL (then drop the client). */
static GPtrArray *read_request(HANDLE h, HANDLE stop)
{
    char magic[4];
    guint32 n, i, len, total = 0;
    GPtrArray *a;
    if (!pipe_io(h, FALSE, magic, 4, REQUEST_TIMEOUT_MS, stop) || memcmp(magic, MAGIC, 4) != 0 ||
        !pipe_io(h, FALSE, &n, 4, REQUEST_TIMEOUT_MS, stop) || n < 2 || n > MAX_ARGS + 1)
        return NULL;
    a = g_ptr_array_new_with_free_func(g_free);
    for (i = 0; i < n; i++) {
        char *s;
        if (!pipe_io(h, FALSE, &len, 4, REQUEST_TIMEOUT_MS, stop) || len > MAX_STRING ||
            (total += len) > MAX_REQUEST)
            goto bad;
        s = g_malloc(len + 1);
        if (len && !pipe_io(h, FALSE, s, len, REQUEST_TIMEOUT_MS, stop)) {
            g_free(s);
            goto bad;
        }
        s[len] = 0;
        g_ptr_array_add(a, s);
        if (strlen(s) != len || !g_utf8_validate(s, len, NULL))
            goto bad;
    }
    return a;
bad:
    g_ptr_array_free(a, TRUE);
    return NULL;
}

static void conn_close(conn *c)
{
    if (c->pipe) {
        FlushFileBuffers(c->pipe);
        DisconnectNamedPipe(c->pipe);
        CloseHandle(c->pipe);
    }
    if (c->strings)
        g_ptr_array_free(c->strings, TRUE);
    g_free(c);
}

static void conn_finish(conn *c, int status, const char *error)
{
    if (error)
        send_frame(c->pipe, 'e', error, (guint32)strlen(error));
    send_frame(c->pipe, 'x', &status, 4);
    conn_close(c);
}

/* ---- the command line object of a forwarded call ---------------------------------- */

typedef struct LkPipeCommandLine {
    GApplicationCommandLine parent;
    conn *c;
} LkPipeCommandLine;
typedef GApplicationCommandLineClass LkPipeCommandLineClass;

G_DEFINE_TYPE(LkPipeCommandLine, lk_pipe_command_line, G_TYPE_APPLICATION_COMMAND_LINE)

static void cl_print(GApplicationCommandLine *cl, const gchar *msg)
{
    conn *c = ((LkPipeCommandLine *)cl)->c;
    if (c)
        send_frame(c->pipe, 'o', msg, (guint32)strlen(msg));
}

static void cl_printerr(GApplicationCommandLine *cl, const gchar *msg)
{
    conn *c = ((LkPipeCommandLine *)cl)->c;
    if (c)
        send_frame(c->pipe, 'e', msg, (guint32)strlen(msg));
}

/* The caller gets its answer when the last reference goes, as with GLib's
 * own remote command lines: main.c keeps --quit's until everything stopped. */
static void cl_finalize(GObject *o)
{
    LkPipeCommandLine *self = (LkPipeCommandLine *)o;
    if (self->c)
        conn_finish(self->c,
                    g_application_command_line_get_exit_status(G_APPLICATION_COMMAND_LINE(o)),
                    NULL);
    self->c = NULL;
    G_OBJECT_CLASS(lk_pipe_command_line_parent_class)->finalize(o);
}

static void lk_pipe_command_line_class_init(LkPipeCommandLineClass *k)
{
    G_OBJECT_CLASS(k)->finalize = cl_finalize;
    k->print_literal = cl_print;
    k->printerr_literal = cl_printerr;
}

static void lk_pipe_command_line_init(LkPipeCommandLine *self)
{
}

/* Main thread: runs one forwarded command line through the app. */
static gboolean dispatch(gpointer data)
{
    conn *c = data;
    lk_instance *in = c->in;
    GVariantBuilder args;
    GVariantDict pd;
    LkPipeCommandLine *cl;
    int status = 0;
    guint i;

    if (!in->app || in->stopping) {
        conn_finish(c, 1, "latchkey: the running Latchkey is quitting; try again.\n");
        return G_SOURCE_REMOVE;
    }
    g_variant_builder_init(&args, G_VARIANT_TYPE_BYTESTRING_ARRAY);
    for (i = 1; i < c->strings->len; i++)
        g_variant_builder_add_value(&args, g_variant_new_bytestring(c->strings->pdata[i]));
    g_variant_dict_init(&pd, NULL);
    g_variant_dict_insert_value(&pd, "cwd", g_variant_new_bytestring(c->strings->pdata[0]));
    cl = g_object_new(lk_pipe_command_line_get_type(), "arguments", g_variant_builder_end(&args),
                      "platform-data", g_variant_dict_end(&pd), NULL);
    g_ptr_array_free(c->strings, TRUE);
    c->strings = NULL;
    cl->c = c;
    g_signal_emit_by_name(in->app, "command-line", cl, &status);
    g_application_command_line_set_exit_status(G_APPLICATION_COMMAND_LINE(cl), status);
    g_object_unref(cl);
    return G_SOURCE_REMOVE;
}

/* ---- the listener thread ---------------------------------------------------------- */

static gpointer listen_thread(gpointer data)
{
    lk_instance *in = data;
    HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE pipe = in->pipe;
    in->pipe = NULL;
    while (ev && WaitForSingleObject(in->stop, 0) != WAIT_OBJECT_0) {
        OVERLAPPED ov;
        BOOL connected;
        GPtrArray *req;
        HANDLE cur;
        if (pipe == NULL || pipe == INVALID_HANDLE_VALUE) {
            pipe = new_pipe(in, FALSE);
            if (pipe == INVALID_HANDLE_VALUE) {
                /* Out of handles or memory: try again shortly. */
                WaitForSingleObject(in->stop, 1000);
                continue;
            }
        }
        memset(&ov, 0, sizeof ov);
        ResetEvent(ev);
        ov.hEvent = ev;
        connected = ConnectNamedPipe(pipe, &ov);
        if (!connected) {
            DWORD e = GetLastError();
            if (e == ERROR_PIPE_CONNECTED) {
                connected = TRUE;
            } else if (e == ERROR_IO_PENDING) {
                HANDLE waits[2] = {ev, in->stop};
                DWORD got;
                if (WaitForMultipleObjects(2, waits, FALSE, INFINITE) != WAIT_OBJECT_0) {
                    CancelIo(pipe);
                    GetOverlappedResult(pipe, &ov, &got, TRUE);
                    break;
                }
                connected = GetOverlappedResult(pipe, &ov, &got, TRUE);
            }
        }
        if (!connected) {
            CloseHandle(pipe);
            pipe = NULL;
            continue;
        }
        /* The next caller finds a free instance while this one is read. */
        cur = pipe;
        pipe = new_pipe(in, FALSE);
        req = read_request(cur, in->stop);
        if (!req) {
            DisconnectNamedPipe(cur);
            CloseHandle(cur);
            continue;
        }
        {
            conn *c = g_new0(conn, 1);
            c->in = in;
            c->pipe = cur;
            c->strings = req;
            g_main_context_invoke(NULL, dispatch, c);
        }
    }
    if (pipe && pipe != INVALID_HANDLE_VALUE)
        CloseHandle(pipe);
    if (ev)
        CloseHandle(ev);
    return NULL;
}

/* ---- the client ------------------------------------------------------------------- */

static gboolean put_u32(GByteArray *b, guint32 v)
{
    g_byte_array_append(b, (const guint8 *)&v, 4);
    return TRUE;
}

static gboolean read_all(HANDLE h, void *buf, DWORD len)
{
    char *p = buf;
    while (len > 0) {
        DWORD got = 0;
        if (!ReadFile(h, p, len, &got, NULL) || got == 0)
            return FALSE;
        p += got;
        len -= got;
    }
    return TRUE;
}

static int forward(HANDLE h, int argc, char **argv, char **err)
{
    GByteArray *req = g_byte_array_new();
    char *cwd = g_get_current_dir();
    ULONG server = 0;
    DWORD wrote = 0;
    int i, status = 1;
    gboolean ok, done = FALSE;

    g_byte_array_append(req, (const guint8 *)MAGIC, 4);
    put_u32(req, (guint32)argc + 1);
    put_u32(req, (guint32)strlen(cwd));
    g_byte_array_append(req, (const guint8 *)cwd, (guint)strlen(cwd));
    for (i = 0; i < argc; i++) {
        put_u32(req, (guint32)strlen(argv[i]));
        g_byte_array_append(req, (const guint8 *)argv[i], (guint)strlen(argv[i]));
    }
    g_free(cwd);
    /* The running instance may bring a window to the front: the user just
     * started us, so the right to do that is ours to pass on. */
    if (GetNamedPipeServerProcessId(h, &server))
        AllowSetForegroundWindow(server);
    ok = WriteFile(h, req->data, req->len, &wrote, NULL) && wrote == req->len;
    g_byte_array_free(req, TRUE);
    while (ok && !done) {
        char type;
        guint32 len;
        char *text;
        if (!read_all(h, &type, 1) || !read_all(h, &len, 4) || len > 16 * 1024 * 1024)
            break;
        if (type == 'x') {
            done = len == 4 && read_all(h, &status, 4);
            break;
        }
        text = g_malloc(len + 1);
        if (!read_all(h, text, len)) {
            g_free(text);
            break;
        }
        text[len] = 0;
        fputs(text, type == 'e' ? stderr : stdout);
        fflush(type == 'e' ? stderr : stdout);
        g_free(text);
    }
    if (!done) {
        *err = g_strdup("the running Latchkey closed the connection without an answer");
        return -1;
    }
    return status;
}

/* ---- claim, serve, free ------------------------------------------------------------ */

lk_instance_role lk_instance_claim(int argc, char **argv, lk_instance **out, int *status,
                                   char **err)
{
    lk_instance *in = g_new0(lk_instance, 1);
    wchar_t *mutex_name = NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)CLAIM_TIMEOUT_MS * 1000;

    *out = NULL;
    *err = NULL;
    if (!make_names(in, &mutex_name, err))
        goto fail;
    for (;;) {
        HANDLE h = CreateFileW(in->pipe_name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                               OPEN_EXISTING, 0, NULL);
        DWORD e, w;
        if (h != INVALID_HANDLE_VALUE) {
            int rc = forward(h, argc, argv, err);
            CloseHandle(h);
            if (rc < 0)
                goto fail;
            *status = rc;
            lk_instance_free(in);
            g_free(mutex_name);
            return LK_INSTANCE_FORWARDED;
        }
        e = GetLastError();
        if (e == ERROR_PIPE_BUSY) {
            /* Every instance is busy with another caller: wait for one. */
            WaitNamedPipeW(in->pipe_name, 1000);
            continue;
        }
        if (!in->mutex)
            in->mutex = CreateMutexW(NULL, FALSE, mutex_name);
        if (!in->mutex) {
            *err = g_strdup_printf("cannot create the instance mutex (error %lu)", GetLastError());
            goto fail;
        }
        w = WaitForSingleObject(in->mutex, 0);
        if (w == WAIT_OBJECT_0 || w == WAIT_ABANDONED) {
            in->pipe = new_pipe(in, TRUE);
            if (in->pipe == INVALID_HANDLE_VALUE) {
                /* Someone else's pipe of that name: not ours to serve. */
                *err = g_strdup_printf("cannot create the pipe of the running instance "
                                       "(error %lu)",
                                       GetLastError());
                in->pipe = NULL;
                goto fail;
            }
            g_free(mutex_name);
            *out = in;
            return LK_INSTANCE_PRIMARY;
        }
        if (g_get_monotonic_time() > deadline) {
            *err = g_strdup("another Latchkey is starting or quitting and does not answer");
            goto fail;
        }
        Sleep(50);
    }
fail:
    g_free(mutex_name);
    lk_instance_free(in);
    return LK_INSTANCE_FAILED;
}

void lk_instance_serve(lk_instance *in, GApplication *app)
{
    if (!in || in->thread)
        return;
    in->app = app;
    in->stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (in->stop)
        in->thread = g_thread_new("latchkey-instance", listen_thread, in);
}

void lk_instance_free(lk_instance *in)
{
    if (!in)
        return;
    in->stopping = TRUE;
    if (in->thread) {
        SetEvent(in->stop);
        g_thread_join(in->thread);
    }
    if (in->stop)
        CloseHandle(in->stop);
    if (in->pipe)
        CloseHandle(in->pipe);
    if (in->mutex) {
        ReleaseMutex(in->mutex);
        CloseHandle(in->mutex);
    }
    if (in->sd)
        LocalFree(in->sd);
    g_free(in->pipe_name);
    g_free(in);
}

char *lk_instance_pipe_name(void)
{
    lk_instance *in = g_new0(lk_instance, 1);
    wchar_t *mutex_name = NULL;
    char *err = NULL, *out = NULL;
    if (make_names(in, &mutex_name, &err))
        out = g_utf16_to_utf8((const gunichar2 *)in->pipe_name, -1, NULL, NULL, NULL);
    g_free(err);
    g_free(mutex_name);
    lk_instance_free(in);
    return out;
}
