/* Restart Manager: Windows' own answer to "who uses these files". It sees
 * what handle enumeration may not (other sessions, services it can name) and
 * says which processes are critical. It takes files, not folders, so we list
 * the folder's files and register them in batches. Under wine it is a stub
 * that answers "nobody": that is an empty answer, not an error. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <restartmanager.h>

#include "util/strv.h"

#define LK_RM_MAX_FILES 20000 /* handle enumeration covers the rest of a huge tree */
#define LK_RM_BATCH 256

typedef struct files {
    wchar_t **v;
    size_t n, cap;
} files;

static int collect(void *ctx, lk__walk_event ev, const lk__walk_entry *e)
{
    files *f = ctx;
    wchar_t **slot;
    wchar_t *plain;
    if (ev != LK__WALK_FILE || (e->attrs & FILE_ATTRIBUTE_DIRECTORY))
        return 0;
    /* Restart Manager opens what it is given: a file symlink would make it
     * report the users of the file outside the folder. */
    if (lk__is_link(e->attrs, e->tag))
        return 0;
    if (f->n >= LK_RM_MAX_FILES)
        return 1;
    /* The short form where it fits: the "\\?\" form is for long paths only. */
    plain = lk__w_strip_prefix(e->path);
    if (plain && wcslen(plain) >= MAX_PATH) {
        free(plain);
        plain = lk__wcs_dup(e->path, (size_t)-1);
    }
    slot = plain ? lk_push(&f->v, &f->n, &f->cap, sizeof *slot) : NULL;
    if (!slot) {
        free(plain);
        return -1;
    }
    *slot = plain;
    return 0;
}

static void files_free(files *f)
{
    size_t i;
    for (i = 0; i < f->n; i++)
        free(f->v[i]);
    free(f->v);
}

static int list_files(const char *folder, files *f, lk_error *err)
{
    wchar_t *w = lk__w_path(folder);
    DWORD attrs;
    int rc = LK_OK;
    if (!w)
        return lk_error_set(err, LK_EINVAL, 0, "not a usable path: %s", folder);
    attrs = GetFileAttributesW(w);
    if (attrs == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        free(w);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return LK_OK; /* nothing there, so nothing to be held */
        return lk__win_error(err, e, "cannot look at the folder");
    }
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        /* A link (or a placeholder): nothing of ours to ask about. The doctor
         * refuses links; a cloud placeholder is covered by handle enumeration. */
    } else if (!(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        /* A single file. */
        wchar_t **slot = lk_push(&f->v, &f->n, &f->cap, sizeof *slot);
        if (!slot)
            rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        else
            *slot = w, w = NULL;
    } else {
        wchar_t *l = lk__w_long(w);
        if (!l || lk__walk(l, collect, f) < 0)
            rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        free(l);
    }
    free(w);
    return rc;
}

static int rm_error(lk_error *err, DWORD e, const char *what)
{
    return lk__win_error(err, e, what);
}

/* Critical per process: RmCritical, or a session that needs a reboot because
 * of critical processes or services, for the services and critical ones. */
static int is_critical(const RM_PROCESS_INFO *pi, DWORD reasons)
{
    if (pi->ApplicationType == RmCritical)
        return 1;
    if ((reasons & (RmRebootReasonCriticalProcess | RmRebootReasonCriticalService)) &&
        pi->ApplicationType == RmService)
        return 1;
    return 0;
}

static int get_list(DWORD session, lk_rm_hit **hits, size_t *nhits, lk_error *err)
{
    RM_PROCESS_INFO *info = NULL;
    UINT need = 0, have = 0;
    DWORD reasons = 0, e;
    int tries;
    UINT i;

    for (tries = 0; tries < 8; tries++) {
        have = need;
        e = RmGetList(session, &need, &have, info, &reasons);
        if (e == ERROR_SUCCESS)
            break;
        if (e != ERROR_MORE_DATA) {
            free(info);
            return rm_error(err, e, "RmGetList failed");
        }
        /* The list can grow between calls: ask again with room to spare. */
        free(info);
        need += 8;
        info = calloc(need, sizeof *info);
        if (!info)
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    if (e != ERROR_SUCCESS) {
        free(info);
        return lk_error_set(err, LK_EIO, (int)e, "RmGetList kept asking for more room");
    }
    if (!info || have == 0) {
        free(info);
        return LK_OK;
    }
    *hits = calloc(have, sizeof **hits);
    if (!*hits) {
        free(info);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    for (i = 0; i < have; i++) {
        lk_rm_hit *h = &(*hits)[*nhits];
        h->pid = (long)info[i].Process.dwProcessId;
        h->start_id = lk__ft_u64(info[i].Process.ProcessStartTime);
        h->critical = is_critical(&info[i], reasons);
        h->app_name = lk__utf8_from_w(info[i].strAppName, (size_t)-1);
        (*nhits)++;
    }
    free(info);
    return LK_OK;
}

int lk_sys_rm_holders(const char *folder, lk_rm_hit **hits, size_t *nhits, lk_error *err)
{
    files f;
    DWORD session = 0, e;
    WCHAR key[CCH_RM_SESSION_KEY + 1];
    size_t at;
    int rc;

    *hits = NULL;
    *nhits = 0;
    memset(&f, 0, sizeof f);
    if ((rc = list_files(folder, &f, err)) != LK_OK)
        return rc;
    if (f.n == 0) {
        files_free(&f);
        return LK_OK;
    }
    memset(key, 0, sizeof key);
    e = RmStartSession(&session, 0, key);
    if (e != ERROR_SUCCESS) {
        files_free(&f);
        return rm_error(err, e, "RmStartSession failed");
    }
    for (at = 0; at < f.n; at += LK_RM_BATCH) {
        UINT batch = (UINT)(f.n - at < LK_RM_BATCH ? f.n - at : LK_RM_BATCH);
        e = RmRegisterResources(session, batch, (LPCWSTR *)(f.v + at), 0, NULL, 0, NULL);
        if (e != ERROR_SUCCESS) {
            rc = rm_error(err, e, "RmRegisterResources failed");
            break;
        }
    }
    if (rc == LK_OK)
        rc = get_list(session, hits, nhits, err);
    /* Always: sessions are a small system-wide pool (64). */
    RmEndSession(session);
    files_free(&f);
    if (rc != LK_OK) {
        lk_rm_hits_free(*hits, *nhits);
        *hits = NULL;
        *nhits = 0;
    }
    return rc;
}
