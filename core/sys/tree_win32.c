/* A folder held open for the doctor, on Windows.
 *
 * The path is resolved once: every folder from the volume root down is
 * opened relative to the one above it (NtCreateFile with RootDirectory and
 * FILE_OPEN_REPARSE_POINT) and held without FILE_SHARE_DELETE, so nothing on
 * the way can be renamed or swapped for a junction while we work. Any
 * component that is a link, junction, mount point or another volume is
 * refused. Everything after (the identity check, the quarantine rename, the
 * removal) goes through those handles, never through a path again. */
#include "sys/tree_win32.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "util/strv.h"

/* ---- opening ------------------------------------------------------------- */

/* Splits an absolute path into the NT name of its volume root and the rest. */
static wchar_t *nt_root(const wchar_t *abs, const wchar_t **rest)
{
    const wchar_t *p = abs;
    wchar_t *root;
    size_t n;
    if (((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) && p[1] == L':' &&
        p[2] == L'\\') {
        n = 3;
        root = malloc(8 * sizeof *root);
        if (root)
            _snwprintf(root, 8, L"\\??\\%lc:\\", p[0]);
    } else if (p[0] == L'\\' && p[1] == L'\\' && p[2] != L'?' && p[2] != L'.') {
        const wchar_t *s = wcschr(p + 2, L'\\'), *e;
        if (!s || s == p + 2)
            return NULL;
        e = wcschr(s + 1, L'\\');
        n = e ? (size_t)(e - p) + 1 : wcslen(p);
        if (s + 1 == (e ? e : p + n))
            return NULL; /* "\\server\" with no share */
        root = malloc((n + 8) * sizeof *root);
        if (root) {
            wcscpy(root, L"\\??\\UNC\\");
            wcsncat(root, p + 2, n - 2);
            if (root[wcslen(root) - 1] != L'\\')
                wcscat(root, L"\\");
        }
    } else if (wcsncmp(p, L"\\\\?\\Volume{", 11) == 0 && wcschr(p, L'}')) {
        const wchar_t *close = wcschr(p, L'}');
        n = (size_t)(close - p) + 1;
        if (p[n] == L'\\')
            n++;
        root = malloc((n + 2) * sizeof *root);
        if (root) {
            wcsncpy(root, p, n);
            root[n] = L'\0';
            root[1] = L'?'; /* "\\?\" -> "\??\" */
            if (root[n - 1] != L'\\')
                wcscat(root, L"\\");
        }
    } else {
        return NULL;
    }
    *rest = p + n;
    return root;
}

int lk__tree_chain_push(lk_tree *t, HANDLE h)
{
    HANDLE *slot = lk_push(&t->chain, &t->nchain, &t->cap_chain, sizeof *slot);
    if (!slot)
        return 0;
    *slot = h;
    return 1;
}

/* Opens one folder on the way down, relative to the last one held. */
static int open_component(lk_tree *t, const wchar_t *dir_path, const wchar_t *name, size_t len,
                          const char *shown, lk_error *err)
{
    HANDLE dir = t->chain[t->nchain - 1], h;
    lk__fid up, here;
    NTSTATUS st = lk__open_rel(dir, name, len, FILE_READ_ATTRIBUTES | FILE_LIST_DIRECTORY,
                               LK__SHARE_PIN, FILE_OPEN, FILE_DIRECTORY_FILE, &h);
    if (st == (NTSTATUS)0xC0000022L) /* STATUS_ACCESS_DENIED: no listing right here */
        st = lk__open_rel(dir, name, len, FILE_READ_ATTRIBUTES, LK__SHARE_PIN, FILE_OPEN,
                          FILE_DIRECTORY_FILE, &h);
    if (!NT_SUCCESS(st)) {
        DWORD e = lk__nt_err(st);
        if (e == ERROR_SHARING_VIOLATION)
            return lk_error_set(err, LK_EBUSY, (int)e,
                                "%s is being renamed or deleted by another process", shown);
        if (e == ERROR_DIRECTORY || e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return lk_error_set(err, LK_ENOENT, (int)e, "%s does not exist", shown);
        return lk__win_error(err, e, shown);
    }
    if (lk__is_link_entry(dir, dir_path, h, name, len)) {
        CloseHandle(h);
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is a junction, symbolic link or mount point: give the folder's "
                            "real path",
                            shown);
    }
    if (!lk__fid_get(dir, &up) || !lk__fid_get(h, &here)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        return lk__win_error(err, e, "cannot read a folder's identity on the way");
    }
    if (up.vol != here.vol) {
        CloseHandle(h);
        return lk_error_set(err, LK_EREFUSED, 0,
                            "another volume is mounted at %s: give the folder's real path", shown);
    }
    if (!lk__tree_chain_push(t, h)) {
        CloseHandle(h);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    return LK_OK;
}

/* Opens the target relative to the parent, to hold it: without
 * FILE_SHARE_DELETE, so nobody can rename or delete it meanwhile, but
 * without DELETE access too. Holding DELETE would make every other open of
 * the folder that does not share delete fail for the whole kill phase (a
 * process changing into it, wine's FindFirstFile, Restart Manager's file
 * list); DELETE is taken when something is to be deleted or moved
 * (lk__tree_need_delete), by the same name in the held parent, with the
 * identity checked again. */
static int open_target(lk_tree *t, const char *shown, lk_error *err)
{
    HANDLE parent = t->chain[t->nchain - 1], h = NULL;
    size_t len = wcslen(t->name);
    DWORD attrs = 0, tag = 0, e = 0;
    lk__fid up;
    NTSTATUS st = lk__open_rel(parent, t->name, len, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
                               LK__SHARE_PIN, FILE_OPEN, 0, &h);
    if (!NT_SUCCESS(st)) {
        e = lk__nt_err(st);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND || e == ERROR_DELETE_PENDING)
            return lk_error_set(err, LK_ENOENT, (int)e, "%s does not exist", shown);
        if (e == ERROR_SHARING_VIOLATION)
            return lk_error_set(err, LK_EBUSY, (int)e,
                                "%s is open for renaming or deleting by another process", shown);
        return lk__win_error(err, e, shown);
    }
    t->target = h;
    t->target_del = 0;
    if (lk__is_link_entry(parent, t->wparent, h, t->name, len))
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is a junction, symbolic link or mount point: not touched", shown);
    if (!lk__handle_attrs(h, &attrs, &tag))
        return lk__win_error(err, GetLastError(), shown);
    if (!(attrs & FILE_ATTRIBUTE_DIRECTORY))
        return lk_error_set(err, LK_EINVAL, 0, "%s is not a folder", shown);
    if (!lk__fid_get(h, &t->id) || !lk__fid_get(parent, &up))
        return lk__win_error(err, GetLastError(), shown);
    if (up.vol != t->id.vol)
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is the root of another volume (a mount point): not touched", shown);
    t->wpath = lk__handle_path(h);
    t->path = t->wpath ? lk__plain_utf8(t->wpath) : NULL;
    if (!t->path)
        return lk__win_error(err, GetLastError(), "cannot read back the folder's path");
    return LK_OK;
}

int lk_sys_tree_open(const char *path, lk_tree **out, lk_error *err)
{
    char *abs = NULL;
    wchar_t *w = NULL, *root = NULL, *seg, *cur = NULL;
    const wchar_t *rest = NULL;
    char *shown;
    lk_tree *t;
    HANDLE h;
    NTSTATUS st;
    int rc;

    *out = NULL;
    if ((rc = lk_sys_abspath(path, &abs, err)) != LK_OK)
        return rc;
    if (lk_sys_is_fs_root(abs)) {
        rc = lk_error_set(err, LK_EREFUSED, 0, "%s is the root of a volume: not touched", abs);
        free(abs);
        return rc;
    }
    w = lk__w_from_utf8(abs);
    root = w ? nt_root(w, &rest) : NULL;
    t = calloc(1, sizeof *t);
    if (!root || !t) {
        rc = !w || !t ? lk_error_set(err, LK_ENOMEM, 0, "out of memory")
                      : lk_error_set(err, LK_EINVAL, 0, "%s is not a path on a volume", abs);
        goto fail;
    }
    st = lk__open_rel(NULL, root, wcslen(root), FILE_READ_ATTRIBUTES | FILE_LIST_DIRECTORY,
                      LK__SHARE_PIN, FILE_OPEN, FILE_DIRECTORY_FILE, &h);
    if (!NT_SUCCESS(st)) {
        rc = lk__win_error(err, lk__nt_err(st), "cannot open the volume");
        goto fail;
    }
    if (!lk__tree_chain_push(t, h)) {
        CloseHandle(h);
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    cur = lk__handle_path(h);
    /* One component at a time; the last is the target. */
    for (seg = (wchar_t *)rest; *seg;) {
        wchar_t *end = wcschr(seg, L'\\');
        size_t len = end ? (size_t)(end - seg) : wcslen(seg);
        if (!end || !end[1]) {
            t->name = lk__wcs_dup(seg, len);
            break;
        }
        *end = L'\0';
        shown = lk__utf8_from_w(w, (size_t)-1); /* the path down to this component */
        rc = shown ? open_component(t, cur, seg, len, shown, err)
                   : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        free(shown);
        *end = L'\\';
        if (rc != LK_OK)
            goto fail;
        free(cur);
        cur = lk__handle_path(t->chain[t->nchain - 1]);
        seg = end + 1;
    }
    if (!t->name) {
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto fail;
    }
    t->wparent = cur;
    cur = NULL;
    if ((rc = open_target(t, abs, err)) != LK_OK)
        goto fail;
    free(abs);
    free(w);
    free(root);
    *out = t;
    return LK_OK;

fail:
    free(abs);
    free(w);
    free(root);
    free(cur);
    lk_sys_tree_close(t);
    return rc;
}

const char *lk_sys_tree_path(const lk_tree *t)
{
    return t ? t->path : NULL;
}

void lk_sys_tree_close(lk_tree *t)
{
    size_t i;
    if (!t)
        return;
    if (t->target)
        CloseHandle(t->target);
    for (i = t->nchain; i-- > 0;)
        if (t->chain[i])
            CloseHandle(t->chain[i]);
    free(t->chain);
    free(t->name);
    free(t->wparent);
    free(t->wpath);
    free(t->path);
    free(t->trash_name);
    free(t);
}

/* ---- checking ------------------------------------------------------------ */

/* What the name in the held parent opens now, compared with what we hold. */
static int same_target(lk_tree *t, HANDLE now, lk_error *err)
{
    HANDLE parent = t->chain[t->nchain - 1];
    size_t len = wcslen(t->name);
    lk__fid id;
    wchar_t *p;
    if (lk__is_link_entry(parent, t->wparent, now, t->name, len))
        return lk_error_set(err, LK_EREFUSED, 0, "%s was swapped for a link: not touched", t->path);
    if (!lk__fid_get(now, &id))
        return lk__win_error(err, GetLastError(), "cannot read the folder's identity");
    if (!lk__fid_eq(&id, &t->id))
        return lk_error_set(err, LK_EREFUSED, 0, "%s was replaced by another folder: not touched",
                            t->path);
    p = lk__handle_path(t->target);
    if (p && CompareStringOrdinal(p, -1, t->wpath, -1, TRUE) != CSTR_EQUAL) {
        char *u = lk__plain_utf8(p);
        int rc = lk_error_set(err, LK_EREFUSED, 0, "%s was moved to %s: not touched", t->path,
                              u ? u : "another place");
        free(u);
        free(p);
        return rc;
    }
    free(p);
    return LK_OK;
}

int lk_sys_tree_check(lk_tree *t, lk_error *err)
{
    HANDLE now;
    NTSTATUS st;
    int rc;
    if (!t)
        return lk_error_set(err, LK_EINVAL, 0, "no folder");
    if (t->gone)
        return lk_error_set(err, LK_ENOENT, 0, "%s is gone", t->path);
    if (!t->target)
        return lk_error_set(err, LK_EREFUSED, 0,
                            "%s is no longer held: it changed while it was opened again", t->path);
    st = lk__open_rel(t->chain[t->nchain - 1], t->name, wcslen(t->name), FILE_READ_ATTRIBUTES,
                      LK__SHARE_ALL, FILE_OPEN, 0, &now);
    if (!NT_SUCCESS(st)) {
        DWORD e = lk__nt_err(st);
        FILE_STANDARD_INFO si;
        if (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND && e != ERROR_DELETE_PENDING)
            return lk__win_error(err, e, t->path);
        /* The name is gone: so is the folder only if what we hold is being
         * deleted; else it lives on under another name. */
        if (GetFileInformationByHandleEx(t->target, FileStandardInfo, &si, sizeof si) &&
            si.DeletePending)
            return lk_error_set(err, LK_ENOENT, (int)e, "%s is gone", t->path);
        return lk_error_set(err, LK_EREFUSED, (int)e, "%s was moved away: not touched", t->path);
    }
    rc = same_target(t, now, err);
    CloseHandle(now);
    return rc;
}

int lk__tree_need_delete(lk_tree *t, lk_error *err)
{
    HANDLE h;
    NTSTATUS st;
    int rc;
    if (t->target_del)
        return LK_OK;
    /* Ours does not share delete, so it must go before asking for DELETE.
     * The name is looked up in the held parent and the identity compared:
     * whatever might take the name meanwhile is not what we checked. */
    CloseHandle(t->target);
    t->target = NULL;
    st = lk__open_rel(t->chain[t->nchain - 1], t->name, wcslen(t->name),
                      DELETE | FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                      LK__SHARE_PIN, FILE_OPEN, 0, &h);
    if (st == (NTSTATUS)0xC0000022L)
        st = lk__open_rel(t->chain[t->nchain - 1], t->name, wcslen(t->name),
                          DELETE | FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, LK__SHARE_PIN,
                          FILE_OPEN, 0, &h);
    if (!NT_SUCCESS(st)) {
        DWORD e = lk__nt_err(st);
        /* Hold it again as before, for the caller's next try. */
        lk__open_rel(t->chain[t->nchain - 1], t->name, wcslen(t->name),
                     FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES, LK__SHARE_PIN, FILE_OPEN, 0,
                     &t->target);
        if (t->target && same_target(t, t->target, NULL) != LK_OK) {
            CloseHandle(t->target);
            t->target = NULL;
        }
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
            return lk_error_set(err, LK_ENOENT, (int)e, "%s is gone", t->path);
        return lk_error_set(err, e == ERROR_SHARING_VIOLATION ? LK_EBUSY : lk__win_code(e), (int)e,
                            "%s: %s", t->path,
                            e == ERROR_SHARING_VIOLATION
                                ? "in use by another process (its current folder, or open "
                                  "without sharing delete)"
                                : lk__why(e));
    }
    t->target = h;
    if ((rc = same_target(t, h, err)) != LK_OK) {
        CloseHandle(h);
        t->target = NULL;
        return rc;
    }
    t->target_del = 1;
    return LK_OK;
}
