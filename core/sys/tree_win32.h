/* Private to ntfile_win32.c, tree_win32.c, treeops_win32.c and treewalk_win32.c: the held folder
 * and the NT-level opens relative to a held handle that everything in it goes through. Names use
 * the internal `lk__` prefix. */
#ifndef LK_SYS_TREE_WIN32_H
#define LK_SYS_TREE_WIN32_H

#include "sys/win32_util.h"

#include <stddef.h>
#include <stdint.h>

/* What names one file for as long as it exists: the volume and the file id. */
typedef struct lk__fid {
    uint64_t vol;
    uint64_t hi, lo; /* 128-bit ids (ReFS); hi is 0 on NTFS */
} lk__fid;

struct lk_tree {
    /* Every folder from the volume root down to the parent, each opened
     * relative to the one before and held without FILE_SHARE_DELETE: none
     * can be renamed, so the path read back from the target stays true.
     * chain[nchain - 1] is the parent; after a move aside it is the trash. */
    HANDLE *chain;
    size_t nchain, cap_chain;
    HANDLE target;    /* the folder; NULL once deleted */
    int target_del;   /* target is open with DELETE access (taken to delete or move it) */
    wchar_t *name;    /* its name in the parent */
    wchar_t *wparent; /* the parent's path, "\\?\" form, read back from its handle */
    wchar_t *wpath;   /* the target's path, the same way */
    char *path;       /* wpath as a plain absolute UTF-8 path */
    lk__fid id;
    int gone;     /* deleted through our handle */
    HANDLE trash; /* the trash folder after a move aside (also in chain) */
    wchar_t *trash_name;
    lk__fid trash_id;
};

#define LK__SHARE_PIN (FILE_SHARE_READ | FILE_SHARE_WRITE)
#define LK__SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* NtCreateFile of `name` (len characters) relative to `dir` (NULL: name is
 * an NT path), synchronous, with backup intent; FILE_OPEN_REPARSE_POINT is
 * always added, so a link is opened as itself where the system can. */
NTSTATUS lk__open_rel(HANDLE dir, const wchar_t *name, size_t len, ACCESS_MASK access, ULONG share,
                      ULONG disposition, ULONG options, HANDLE *out);
DWORD lk__nt_err(NTSTATUS st);
/* Attributes and reparse tag read through the handle. 0 on failure. */
int lk__handle_attrs(HANDLE h, DWORD *attrs, DWORD *tag);
int lk__fid_get(HANDLE h, lk__fid *id);
int lk__fid_eq(const lk__fid *a, const lk__fid *b);
/* The path of an open file, "\\?\" DOS form (or "\\?\UNC\"), NULL when unknown. */
wchar_t *lk__handle_path(HANDLE h);
/* dir + "\" + name (dir ends with a separator only at a volume root). */
wchar_t *lk__wjoin(const wchar_t *dir, const wchar_t *name, size_t len);
/* "\\?\C:\x" -> "C:\x", "\\?\UNC\s\h\x" -> "\\s\h\x", as UTF-8. */
char *lk__plain_utf8(const wchar_t *w);

/* The entry `name` in the listing of `dir` (not followed): 1 found (fills
 * attrs, tag and, when not NULL, its long name in 256 characters), 0 not
 * there, -1 the listing could not be read. */
int lk__dir_lookup(HANDLE dir, const wchar_t *name, size_t len, DWORD *attrs, DWORD *tag,
                   wchar_t *longname);

/* 1 when the handle h, opened as `name` inside the folder whose path is
 * `dir_path`, is not that entry itself but what a link there points to:
 * wine follows Unix symlinks even with FILE_OPEN_REPARSE_POINT, and its
 * delete acts on the file the link names. The path read back then differs
 * from dir_path\name. 0 when they agree or the path cannot be read (Windows
 * itself opens the link, and its attributes say so). */
int lk__opened_elsewhere(HANDLE h, const wchar_t *dir_path, const wchar_t *name, size_t len);

/* Is the entry `name` of `dir` (whose path is dir_path), opened as h, a
 * link? Asked of the handle, of the folder's listing and of the path read
 * back; any one is enough. */
int lk__is_link_entry(HANDLE dir, const wchar_t *dir_path, HANDLE h, const wchar_t *name,
                      size_t len);
int lk__tree_chain_push(lk_tree *t, HANDLE h);

/* Why a delete or open failed, in words, for lk_remove_pass.why. */
const char *lk__why(DWORD e);

/* Deletes through the handle: POSIX semantics where the system has them,
 * else the classic disposition (after clearing read-only through the same
 * handle). 0 when gone or going, else the Windows error. */
DWORD lk__delete_handle(HANDLE h, DWORD attrs);

/* Reopens the target with DELETE access when it was opened without (a
 * holder's handle did not share delete at open time): closes ours, opens the
 * name again relative to the held parent and checks it is the same folder. */
int lk__tree_need_delete(lk_tree *t, lk_error *err);

/* 1 when a folder name is one plain component we may create or open. */
int lk__plain_name(const wchar_t *name);

#endif
