/* The held folder's quarantine and single entries, on Windows: the move
 * into the trash folder, "remove the trash if empty", and the type and
 * removal of one entry (a stale lock file), all relative to held handles. */
#include "sys/tree_win32.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "util/strv.h"

/* ---- quarantine ---------------------------------------------------------- */

/* Opens (creating) the folder `name` inside the held parent, refusing links.
 * Without DELETE access: the rename into it opens it again for writing with
 * a share mode that does not allow a DELETE handle of ours. */
static int open_trash(lk_tree *t, const wchar_t *name, HANDLE *out, int *created, lk_error *err)
{
    HANDLE parent = t->chain[t->nchain - 1], h = NULL;
    size_t len = wcslen(name);
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING us;
    IO_STATUS_BLOCK io;
    lk__fid up, here;
    NTSTATUS st;
    *out = NULL;
    *created = 0;
    us.Buffer = (PWSTR)name;
    us.Length = us.MaximumLength = (USHORT)(len * sizeof(wchar_t));
    InitializeObjectAttributes(&oa, &us, OBJ_CASE_INSENSITIVE, parent, NULL);
    st = NtCreateFile(&h,
                      FILE_LIST_DIRECTORY | FILE_ADD_SUBDIRECTORY | FILE_ADD_FILE |
                          FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                      &oa, &io, NULL, FILE_ATTRIBUTE_NORMAL, LK__SHARE_PIN, FILE_OPEN_IF,
                      FILE_DIRECTORY_FILE | FILE_OPEN_REPARSE_POINT | FILE_SYNCHRONOUS_IO_NONALERT |
                          FILE_OPEN_FOR_BACKUP_INTENT,
                      NULL, 0);
    if (!NT_SUCCESS(st))
        return lk__win_error(err, lk__nt_err(st), "cannot create the quarantine folder");
    *created = io.Information == FILE_CREATED;
    if (lk__is_link_entry(parent, t->wparent, h, name, len)) {
        CloseHandle(h);
        return lk_error_set(err, LK_EREFUSED, 0,
                            "the quarantine folder is a junction, symbolic link or mount point: "
                            "not used");
    }
    if (!lk__fid_get(parent, &up) || !lk__fid_get(h, &here) || up.vol != here.vol) {
        CloseHandle(h);
        return lk_error_set(err, LK_EREFUSED, 0,
                            "the quarantine folder is on another volume (a mount point): not used");
    }
    t->trash_id = here;
    *out = h;
    return LK_OK;
}

/* Removes the empty folder we just created, by name in the held parent,
 * after checking it is still the one we made. */
static void remove_created(lk_tree *t, HANDLE dir, const wchar_t *name, const lk__fid *id)
{
    HANDLE h;
    lk__fid now;
    if (NT_SUCCESS(lk__open_rel(dir, name, wcslen(name), DELETE | FILE_READ_ATTRIBUTES,
                                LK__SHARE_ALL, FILE_OPEN, FILE_DIRECTORY_FILE, &h))) {
        if (lk__fid_get(h, &now) && lk__fid_eq(&now, id) &&
            !lk__is_link_entry(dir, t->wparent, h, name, wcslen(name)))
            lk__delete_handle(h, 0);
        CloseHandle(h);
    }
}

int lk_sys_tree_move_aside(lk_tree *t, const char *trash, const char *name, char **moved_to,
                           lk_error *err)
{
    wchar_t *wt = lk__w_from_utf8(trash), *wn = lk__w_from_utf8(name), *p;
    union {
        FILE_RENAME_INFORMATION ri;
        char raw[sizeof(FILE_RENAME_INFORMATION) + 512 * sizeof(wchar_t)];
    } buf;
    IO_STATUS_BLOCK io;
    HANDLE th = NULL;
    NTSTATUS st;
    size_t nlen;
    int created = 0, rc;

    *moved_to = NULL;
    if (!t || !lk__plain_name(wt) || !lk__plain_name(wn)) {
        rc = lk_error_set(err, LK_EINVAL, 0, "not a plain folder name: %s / %s",
                          trash ? trash : "(null)", name ? name : "(null)");
        goto out;
    }
    if (t->gone || t->trash) {
        rc = lk_error_set(err, LK_EINVAL, 0, "%s is gone or was moved aside already", t->path);
        goto out;
    }
    if ((rc = lk__tree_need_delete(t, err)) != LK_OK) /* a rename needs DELETE too */
        goto out;
    if ((rc = open_trash(t, wt, &th, &created, err)) != LK_OK)
        goto out;
    nlen = wcslen(wn);
    memset(&buf, 0, sizeof buf);
    buf.ri.ReplaceIfExists = FALSE;
    buf.ri.RootDirectory = th;
    buf.ri.FileNameLength = (ULONG)(nlen * sizeof(wchar_t));
    memcpy(buf.ri.FileName, wn, nlen * sizeof(wchar_t));
    st = NtSetInformationFile(t->target, &io, &buf, (ULONG)sizeof buf, FileRenameInformation);
    if (!NT_SUCCESS(st)) {
        DWORD e = lk__nt_err(st);
        CloseHandle(th);
        if (created) /* ours and still empty: leave no trace */
            remove_created(t, t->chain[t->nchain - 1], wt, &t->trash_id);
        rc = lk_error_set(err, lk__win_code(e), (int)e, "cannot move %s aside: %s", t->path,
                          e == ERROR_ACCESS_DENIED ? "access denied, or files inside are open"
                                                   : lk__why(e));
        goto out;
    }
    if (!lk__tree_chain_push(t, th)) {
        CloseHandle(th);
        rc = lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        goto out;
    }
    t->trash = th;
    free(t->trash_name);
    t->trash_name = wt;
    wt = NULL;
    free(t->name);
    t->name = wn;
    wn = NULL;
    free(t->wparent);
    t->wparent = lk__handle_path(th);
    p = lk__handle_path(t->target);
    if (p) {
        free(t->wpath);
        t->wpath = p;
        free(t->path);
        t->path = lk__plain_utf8(p);
    }
    *moved_to = lk_strdup(t->path);
    rc = *moved_to ? LK_OK : lk_error_set(err, LK_ENOMEM, 0, "out of memory");
out:
    free(wt);
    free(wn);
    return rc;
}

void lk_sys_tree_drop_trash(lk_tree *t, const char *trash)
{
    wchar_t *wt = lk__w_from_utf8(trash), *dpath;
    HANDLE h = NULL, dir;
    lk__fid now;
    int held;
    if (!t || !lk__plain_name(wt)) {
        free(wt);
        return;
    }
    held = t->trash && CompareStringOrdinal(wt, -1, t->trash_name, -1, TRUE) == CSTR_EQUAL;
    if (held) {
        /* Still holding the folder we moved into it: not empty, stays. */
        if (!t->gone) {
            free(wt);
            return;
        }
        /* Ours does not share delete: let go of it, then open it again by
         * name in the held folder above and check it is the same one. */
        CloseHandle(t->trash);
        t->trash = NULL;
        t->chain[--t->nchain] = NULL;
        free(t->wparent);
        t->wparent = t->nchain ? lk__handle_path(t->chain[t->nchain - 1]) : NULL;
    }
    /* The folder the target was in, also after a move aside. */
    dir = t->chain[t->nchain - (t->trash ? 2 : 1)];
    dpath = lk__handle_path(dir);
    if (NT_SUCCESS(lk__open_rel(dir, wt, wcslen(wt), DELETE | FILE_READ_ATTRIBUTES, LK__SHARE_ALL,
                                FILE_OPEN, FILE_DIRECTORY_FILE, &h))) {
        /* A plain "remove if empty": the system refuses a folder with
         * anything in it, and a link there is not ours to remove. */
        if (!lk__is_link_entry(dir, dpath, h, wt, wcslen(wt)) &&
            (!held || (lk__fid_get(h, &now) && lk__fid_eq(&now, &t->trash_id))))
            lk__delete_handle(h, 0);
        CloseHandle(h);
    }
    free(dpath);
    free(wt);
}

/* ---- single entries ------------------------------------------------------ */

lk_ftype lk_sys_tree_entry(lk_tree *t, const char *name)
{
    wchar_t *w = lk__w_from_utf8(name);
    DWORD la = 0, lt = 0, ha = 0, ht = 0;
    lk_ftype ft = LK_FT_NONE;
    HANDLE h = NULL;
    size_t len;
    int listed;
    if (!t || !t->target || !lk__plain_name(w)) {
        free(w);
        return LK_FT_NONE;
    }
    len = wcslen(w);
    listed = lk__dir_lookup(t->target, w, len, &la, &lt, NULL);
    if (NT_SUCCESS(lk__open_rel(t->target, w, len, FILE_READ_ATTRIBUTES, LK__SHARE_ALL, FILE_OPEN,
                                0, &h))) {
        if (lk__is_link_entry(t->target, t->wpath, h, w, len))
            ft = LK_FT_LINK;
        else if (!lk__handle_attrs(h, &ha, &ht))
            ft = LK_FT_OTHER;
        else if (ha & FILE_ATTRIBUTE_DIRECTORY)
            ft = LK_FT_DIR;
        else if (ha & FILE_ATTRIBUTE_DEVICE)
            ft = LK_FT_OTHER;
        else
            ft = LK_FT_FILE;
        CloseHandle(h);
    } else if (listed == 1) {
        ft = lk__is_link(la, lt) ? LK_FT_LINK : LK_FT_OTHER; /* there, but closed to us */
    }
    free(w);
    return ft;
}

int lk_sys_tree_unlink(lk_tree *t, const char *name, lk_error *err)
{
    wchar_t *w = lk__w_from_utf8(name), lname[256];
    DWORD attrs = 0, tag = 0, la = 0, lt = 0, e;
    HANDLE h;
    NTSTATUS st;
    size_t len;
    int rc = LK_OK;
    if (!t || !lk__plain_name(w)) {
        free(w);
        return lk_error_set(err, LK_EINVAL, 0, "not a plain file name: %s", name ? name : "(null)");
    }
    if (!t->target) {
        free(w);
        return LK_OK; /* the folder is gone, and the file with it */
    }
    len = wcslen(w);
    st = lk__open_rel(t->target, w, len, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                      LK__SHARE_ALL, FILE_OPEN, 0, &h);
    if (st == (NTSTATUS)0xC0000022L)
        st = lk__open_rel(t->target, w, len, DELETE | FILE_READ_ATTRIBUTES, LK__SHARE_ALL,
                          FILE_OPEN, 0, &h);
    if (!NT_SUCCESS(st)) {
        e = lk__nt_err(st);
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND || e == ERROR_DELETE_PENDING)
            rc = LK_OK;
        else
            rc = lk_error_set(err, lk__win_code(e), (int)e, "cannot remove %s\\%s: %s", t->path,
                              name, lk__why(e));
        free(w);
        return rc;
    }
    if (lk__dir_lookup(t->target, w, len, &la, &lt, lname) == 1 && lname[0]) {
        free(w); /* the long name: the path read back has it */
        w = lk__wcs_dup(lname, (size_t)-1);
        len = w ? wcslen(w) : 0;
    }
    if (!w || lk__opened_elsewhere(h, t->wpath, w, len)) {
        /* wine: the handle is what a Unix symlink names; deleting through it
         * would delete that. */
        rc = lk_error_set(err, LK_EREFUSED, 0,
                          "%s\\%s is a link this system opens as what it points to: not removed",
                          t->path, name);
    } else if (!lk__handle_attrs(h, &attrs, &tag)) {
        rc = lk__win_error(err, GetLastError(), "cannot read the file's attributes");
    } else if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !lk__is_link(attrs, tag)) {
        if (lk__dir_lookup(t->target, w, len, &la, &lt, NULL) == 1 && lk__is_link(la, lt))
            rc =
                lk_error_set(err, LK_EREFUSED, 0,
                             "%s\\%s is a link this system cannot remove by itself", t->path, name);
        else
            rc = lk_error_set(err, LK_EINVAL, 0, "%s\\%s is a folder: not removed", t->path, name);
    } else if ((e = lk__delete_handle(h, attrs)) != 0) {
        rc = lk_error_set(err, lk__win_code(e), (int)e, "cannot remove %s\\%s: %s", t->path, name,
                          lk__why(e));
    }
    CloseHandle(h);
    free(w);
    return rc;
}
