/* Walking the held folder on Windows: removing everything inside it, and
 * counting what it holds. Iterative, depth first, each entry opened relative
 * to its folder's held handle and listed through that handle, never by a
 * path. Folders on the stack are held without FILE_SHARE_DELETE, so none of
 * them can be renamed or swapped for a junction under us. Links are never
 * entered: a junction or symlink is removed as itself where the system opens
 * it as itself, and left (with the reason) where it does not. */
#include "sys/tree_win32.h"

#include <winioctl.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "util/strv.h"

NTSTATUS NTAPI NtQueryDirectoryFile(HANDLE, HANDLE, PVOID, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG,
                                    FILE_INFORMATION_CLASS, BOOLEAN, PUNICODE_STRING, BOOLEAN);

#define LK_STATUS_NO_MORE_FILES ((NTSTATUS)0x80000006L)
#define LK_LIST_BUF (32 * 1024)

/* The listing classes we read, best first: each carries the reparse tag in
 * EaSize; the first two carry the file id as well. */
#define LK_FileIdBothDirectoryInformation 37
#define LK_FileIdFullDirectoryInformation 38
#define LK_FileFullDirectoryInformation 2

/* The head every one of those classes shares. */
typedef struct dir_head {
    ULONG NextEntryOffset;
    ULONG FileIndex;
    LARGE_INTEGER CreationTime, LastAccessTime, LastWriteTime, ChangeTime;
    LARGE_INTEGER EndOfFile, AllocationSize;
    ULONG FileAttributes;
    ULONG FileNameLength;
    ULONG EaSize;
} dir_head;

typedef struct entry {
    const wchar_t *name;
    size_t len;
    DWORD attrs, tag;
    uint64_t size, id;
} entry;

typedef enum walk_mode { WALK_REMOVE, WALK_USAGE, WALK_IDS } walk_mode;

typedef struct frame {
    HANDLE dir;
    int own;       /* ours to close (the top is the tree's) */
    wchar_t *path; /* "\\?\" form */
    uint64_t vol;
    DWORD attrs;
    size_t left_before; /* pass->nleft when it was entered */
    char *buf;
    ULONG off, used;
    int started, ended;
    ULONG cls;
} frame;

typedef struct walk {
    walk_mode mode;
    lk_remove_pass *pass;
    size_t cap; /* of pass->left and pass->why */
    uint64_t files, bytes;
    uint64_t *ids;
    size_t nids, cap_ids;
    int oom;
} walk;

/* ---- reporting ----------------------------------------------------------- */

static int retryable(DWORD e)
{
    return e == ERROR_SHARING_VIOLATION || e == ERROR_LOCK_VIOLATION ||
           e == ERROR_USER_MAPPED_FILE || e == ERROR_BUSY || e == ERROR_ACCESS_DENIED ||
           e == ERROR_DIR_NOT_EMPTY;
}

/* One entry left, with why: e (0 when `why` says it all) and whether waiting
 * could help (boundary: a link or mount, it will not). */
static void left(walk *w, const wchar_t *dir, const wchar_t *name, size_t len, DWORD e,
                 const char *why, int boundary)
{
    lk_remove_pass *p = w->pass;
    wchar_t *full = name ? lk__wjoin(dir, name, len) : lk__wcs_dup(dir, (size_t)-1);
    char *u = full ? lk__plain_utf8(full) : NULL;
    free(full);
    if (e)
        p->last_sys = (int)e;
    if (boundary) {
        p->boundary = 1;
        p->retryable = 0;
    } else if (!retryable(e)) {
        p->retryable = 0;
    }
    if (u && p->nleft == w->cap) {
        /* left[] and why[] grow together: why[i] says why of left[i]. */
        size_t ncap = w->cap ? w->cap * 2 : 16;
        char **l = realloc(p->left, ncap * sizeof *l), **y;
        if (l)
            p->left = l;
        y = l ? realloc(p->why, ncap * sizeof *y) : NULL;
        if (y) {
            p->why = y;
            w->cap = ncap;
        }
    }
    if (!u || p->nleft == w->cap) {
        free(u);
        w->oom = 1;
        return;
    }
    p->left[p->nleft] = u;
    p->why[p->nleft] = lk_strdup(why ? why : lk__why(e));
    if (!p->why[p->nleft])
        w->oom = 1;
    p->nleft++;
}

/* ---- listing ------------------------------------------------------------- */

static int next_entry(frame *f, entry *e, NTSTATUS *fail)
{
    IO_STATUS_BLOCK io;
    *fail = 0;
    for (;;) {
        dir_head *h;
        if (f->ended)
            return 0;
        if (f->off >= f->used) {
            NTSTATUS st;
            if (!f->buf && !(f->buf = malloc(LK_LIST_BUF))) {
                *fail = (NTSTATUS)0xC0000017L; /* STATUS_NO_MEMORY */
                f->ended = 1;
                return 0;
            }
            for (;;) {
                st = NtQueryDirectoryFile(f->dir, NULL, NULL, NULL, &io, f->buf, LK_LIST_BUF,
                                          (FILE_INFORMATION_CLASS)f->cls, FALSE, NULL, !f->started);
                /* Older systems and some file systems know fewer classes. */
                if (!f->started && (st == (NTSTATUS)0xC0000003L || st == (NTSTATUS)0xC00000BBL ||
                                    st == (NTSTATUS)0xC000000DL)) {
                    if (f->cls == LK_FileIdBothDirectoryInformation) {
                        f->cls = LK_FileIdFullDirectoryInformation;
                        continue;
                    }
                    if (f->cls == LK_FileIdFullDirectoryInformation) {
                        f->cls = LK_FileFullDirectoryInformation;
                        continue;
                    }
                }
                break;
            }
            f->started = 1;
            if (st == LK_STATUS_NO_MORE_FILES || st == (NTSTATUS)0xC000000FL) {
                f->ended = 1;
                return 0;
            }
            if (!NT_SUCCESS(st)) {
                *fail = st;
                f->ended = 1;
                return 0;
            }
            f->off = 0;
            f->used = (ULONG)io.Information;
            if (f->used == 0) {
                f->ended = 1;
                return 0;
            }
        }
        h = (dir_head *)(f->buf + f->off);
        f->off = h->NextEntryOffset ? f->off + h->NextEntryOffset : f->used;
        e->attrs = h->FileAttributes;
        e->tag = (h->FileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? h->EaSize : 0;
        e->size = (uint64_t)h->EndOfFile.QuadPart;
        e->len = h->FileNameLength / sizeof(wchar_t);
        e->id = 0;
        if (f->cls == LK_FileIdBothDirectoryInformation) {
            FILE_ID_BOTH_DIR_INFORMATION *b = (void *)h;
            e->name = b->FileName;
            e->id = (uint64_t)b->FileId.QuadPart;
        } else if (f->cls == LK_FileIdFullDirectoryInformation) {
            /* head, then FileId (8), then the name */
            e->id = *(const uint64_t *)((const char *)h + sizeof *h + 4);
            e->name = (const wchar_t *)((const char *)h + sizeof *h + 4 + 8);
        } else {
            e->name = (const wchar_t *)((const char *)h + sizeof *h);
        }
        if ((e->len == 1 && e->name[0] == L'.') ||
            (e->len == 2 && e->name[0] == L'.' && e->name[1] == L'.'))
            continue;
        return 1;
    }
}

/* ---- the stack ----------------------------------------------------------- */

static frame *push(frame **st, size_t *n, size_t *cap, HANDLE dir, int own, wchar_t *path,
                   uint64_t vol, DWORD attrs, size_t left_before)
{
    frame *f = lk_push(st, n, cap, sizeof *f);
    if (!f)
        return NULL;
    f->dir = dir;
    f->own = own;
    f->path = path;
    f->vol = vol;
    f->attrs = attrs;
    f->left_before = left_before;
    f->cls = LK_FileIdBothDirectoryInformation;
    return f;
}

static void frame_free(frame *f)
{
    if (f->own && f->dir)
        CloseHandle(f->dir);
    free(f->buf);
    free(f->path);
}

static void add_id(walk *w, uint64_t vol, uint64_t id)
{
    uint64_t *slot;
    if (w->mode != WALK_IDS)
        return;
    slot = lk_push(&w->ids, &w->nids, &w->cap_ids, 2 * sizeof *slot); /* one (vol, id) pair */
    if (!slot) {
        w->oom = 1;
        return;
    }
    slot[0] = vol;
    slot[1] = id;
}

/* A junction, not a volume mount point: a mount point reparse point whose
 * target is a folder path, not "\??\Volume{...}". Removing a volume's mount
 * point would unmount it: that is left for whoever mounted it, and so is one
 * whose target cannot be read. */
static int is_junction(HANDLE h)
{
    union {
        struct {
            DWORD tag;
            WORD len, reserved;
            WORD sub_off, sub_len, print_off, print_len;
            wchar_t path[1];
        } rp;
        char raw[MAXIMUM_REPARSE_DATA_BUFFER_SIZE];
    } b;
    DWORD got = 0;
    const wchar_t *sub;
    if (!DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, NULL, 0, &b, sizeof b, &got, NULL) ||
        b.rp.tag != IO_REPARSE_TAG_MOUNT_POINT)
        return 0;
    if ((size_t)b.rp.sub_off + b.rp.sub_len > sizeof b - 16 || b.rp.sub_len < 11 * sizeof(wchar_t))
        return 0;
    sub = (const wchar_t *)((const char *)b.rp.path + b.rp.sub_off);
    return _wcsnicmp(sub, L"\\??\\Volume{", 11) != 0;
}

/* The entry opened as h is on the volume of its folder (a link is; what is
 * mounted there is not, and wine shows a Unix mount that way). */
static int same_volume(HANDLE h, uint64_t vol)
{
    lk__fid id;
    return lk__fid_get(h, &id) && id.vol == vol;
}

/* ---- one entry ----------------------------------------------------------- */

/* Removes a file or a link found in f. */
static void remove_leaf(walk *w, frame *f, const entry *e)
{
    DWORD ha = 0, ht = 0, err;
    HANDLE h;
    NTSTATUS st =
        lk__open_rel(f->dir, e->name, e->len, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                     LK__SHARE_ALL, FILE_OPEN, 0, &h);
    if (st == (NTSTATUS)0xC0000022L)
        st = lk__open_rel(f->dir, e->name, e->len, DELETE | FILE_READ_ATTRIBUTES, LK__SHARE_ALL,
                          FILE_OPEN, 0, &h);
    if (!NT_SUCCESS(st)) {
        err = lk__nt_err(st);
        if (err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND &&
            err != ERROR_DELETE_PENDING)
            left(w, f->path, e->name, e->len, err, NULL, 0);
        return;
    }
    if (lk__opened_elsewhere(h, f->path, e->name, e->len)) {
        /* wine: the handle is what a Unix symlink names, and a delete
         * through it would delete that. */
        left(w, f->path, e->name, e->len, 0,
             "a link this system opens as what it points to: not followed, not removed", 1);
    } else if (!lk__handle_attrs(h, &ha, &ht)) {
        left(w, f->path, e->name, e->len, GetLastError(), NULL, 0);
    } else if (lk__is_link(ha, ht)) {
        if (!same_volume(h, f->vol) || (ht == IO_REPARSE_TAG_MOUNT_POINT && !is_junction(h)))
            left(w, f->path, e->name, e->len, 0,
                 "a mount point: not entered (unmount the volume first)", 1);
        else if ((err = lk__delete_handle(h, ha)) == 0)
            w->pass->removed++; /* the link itself: what it points to is not touched */
        else
            left(w, f->path, e->name, e->len, err,
                 err == ERROR_SHARING_VIOLATION ? "a link, in use by another process"
                                                : "a junction or link: not entered, and it could "
                                                  "not be removed",
                 err != ERROR_SHARING_VIOLATION);
    } else if (lk__is_link(e->attrs, e->tag)) {
        /* The listing says link or mount, the handle does not (wine). */
        left(w, f->path, e->name, e->len, 0,
             same_volume(h, f->vol) ? "a junction or mount point: not entered"
                                    : "a mount point: not entered (unmount it first)",
             1);
    } else if (ha & FILE_ATTRIBUTE_DIRECTORY) {
        left(w, f->path, e->name, e->len, ERROR_BUSY, "changed while being removed", 0);
    } else if ((err = lk__delete_handle(h, ha)) == 0) {
        w->pass->removed++;
    } else {
        left(w, f->path, e->name, e->len, err, NULL, 0);
    }
    CloseHandle(h);
}

/* Opens a folder found in f to enter it. Returns the handle, or NULL when
 * it is not entered (reported when removing). */
static HANDLE open_sub(walk *w, frame *f, const entry *e, wchar_t **path, uint64_t *vol)
{
    ACCESS_MASK acc = w->mode == WALK_REMOVE ? DELETE | FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES |
                                                   FILE_WRITE_ATTRIBUTES
                                             : FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES;
    /* Held while we are inside, sharing no delete: it stays what we check. */
    ULONG share = w->mode == WALK_REMOVE ? LK__SHARE_PIN : LK__SHARE_ALL;
    int rm = w->mode == WALK_REMOVE;
    lk__fid id;
    HANDLE h;
    NTSTATUS st =
        lk__open_rel(f->dir, e->name, e->len, acc, share, FILE_OPEN, FILE_DIRECTORY_FILE, &h);
    if (st == (NTSTATUS)0xC0000022L && rm)
        st = lk__open_rel(f->dir, e->name, e->len, acc & ~(ACCESS_MASK)FILE_WRITE_ATTRIBUTES, share,
                          FILE_OPEN, FILE_DIRECTORY_FILE, &h);
    *path = NULL;
    if (!NT_SUCCESS(st)) {
        DWORD err = lk__nt_err(st);
        if (rm && err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND &&
            err != ERROR_DELETE_PENDING)
            left(w, f->path, e->name, e->len, err,
                 err == ERROR_DIRECTORY ? "changed while being removed" : NULL, 0);
        return NULL;
    }
    if (lk__is_link_entry(f->dir, f->path, h, e->name, e->len)) {
        /* Swapped for a link since the listing: an entry, not a folder. */
        CloseHandle(h);
        if (rm)
            remove_leaf(w, f, e);
        return NULL;
    }
    if (!lk__fid_get(h, &id) || id.vol != f->vol) {
        CloseHandle(h);
        if (rm)
            left(w, f->path, e->name, e->len, 0,
                 "another volume is mounted here: not entered (unmount it first)", 1);
        return NULL;
    }
    *path = lk__wjoin(f->path, e->name, e->len);
    if (!*path) {
        CloseHandle(h);
        w->oom = 1;
        return NULL;
    }
    *vol = id.vol;
    add_id(w, id.vol, id.lo);
    return h;
}

/* ---- the walk ------------------------------------------------------------ */

/* Walks the folder held as t->target; in WALK_REMOVE mode leaves the
 * target itself to the caller. */
static void walk_tree(walk *w, lk_tree *t)
{
    frame *st = NULL;
    size_t n = 0, cap = 0;
    wchar_t *top = lk__wcs_dup(t->wpath, (size_t)-1);
    if (!top || !push(&st, &n, &cap, t->target, 0, top, t->id.vol, 0, 0)) {
        free(top);
        w->oom = 1;
        return;
    }
    add_id(w, t->id.vol, t->id.lo);
    while (n > 0 && !w->oom) {
        frame *f = &st[n - 1];
        entry e;
        NTSTATUS fail;
        if (next_entry(f, &e, &fail)) {
            int is_dir = (e.attrs & FILE_ATTRIBUTE_DIRECTORY) && !lk__is_link(e.attrs, e.tag);
            if (is_dir) {
                wchar_t *path;
                uint64_t vol = 0;
                HANDLE h = open_sub(w, f, &e, &path, &vol);
                if (h && !push(&st, &n, &cap, h, 1, path, vol, e.attrs, w->pass->nleft)) {
                    CloseHandle(h);
                    free(path);
                    w->oom = 1;
                }
            } else if (w->mode == WALK_REMOVE) {
                remove_leaf(w, f, &e);
            } else if (!lk__is_link(e.attrs, e.tag)) {
                /* Counted from the listing. wine lists a Unix symlink to a
                 * file as the file it names: counted, never removed. */
                w->files++;
                w->bytes += e.size;
                add_id(w, f->vol, e.id);
            }
            continue;
        }
        if (fail && w->mode == WALK_REMOVE)
            left(w, f->path, NULL, 0, lk__nt_err(fail), "could not be listed", 0);
        if (n > 1 && w->mode == WALK_REMOVE) {
            /* Everything inside has had its turn: the folder itself. */
            DWORD err = lk__delete_handle(f->dir, f->attrs);
            if (err == 0)
                w->pass->removed++;
            else if (err != ERROR_DIR_NOT_EMPTY || w->pass->nleft == f->left_before)
                left(w, f->path, NULL, 0, err, NULL, 0);
        }
        frame_free(f); /* closing it is what deletes it */
        n--;
    }
    while (n > 0)
        frame_free(&st[--n]);
    free(st);
}

static int pass_error(const lk_remove_pass *pass, const char *path, lk_error *err)
{
    if (pass->nleft == 0)
        return lk_error_set(err, LK_EBUSY, 0, "%s is still there", path);
    return lk_error_set(err,
                        pass->retryable  ? LK_EBUSY
                        : pass->last_sys ? lk__win_code((DWORD)pass->last_sys)
                                         : LK_EREFUSED,
                        pass->last_sys, "%lu entr%s left, first %s: %s", (unsigned long)pass->nleft,
                        pass->nleft == 1 ? "y" : "ies", pass->left[0],
                        pass->why && pass->why[0] ? pass->why[0] : "could not be removed");
}

int lk_sys_tree_remove_once(lk_tree *t, lk_remove_pass *pass, lk_error *err)
{
    walk w;
    DWORD attrs = 0, tag = 0, e;
    int rc, busy_top = 0;
    lk_error why;

    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    if (!t)
        return lk_error_set(err, LK_EINVAL, 0, "no folder");
    if (t->gone)
        return LK_OK;
    /* Nothing is deleted unless the name still leads to what we hold. */
    rc = lk_sys_tree_check(t, err);
    if (rc == LK_ENOENT)
        return LK_OK;
    if (rc != LK_OK) {
        pass->retryable = 0;
        return rc;
    }
    lk_error_clear(&why);
    if (lk__tree_need_delete(t, &why) != LK_OK) {
        if (!t->target)
            return lk_error_set(err, why.code, why.sys, "%s", why.msg);
        busy_top = 1; /* the contents can go; the folder itself not yet */
    }
    memset(&w, 0, sizeof w);
    w.mode = WALK_REMOVE;
    w.pass = pass;
    walk_tree(&w, t);
    if (w.oom)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    if (pass->nleft == 0) {
        if (busy_top) {
            left(&w, t->wpath, NULL, 0, (DWORD)why.sys,
                 "in use by another process (its current folder, or open without sharing "
                 "delete)",
                 0);
        } else {
            lk__handle_attrs(t->target, &attrs, &tag);
            if ((e = lk__delete_handle(t->target, attrs)) == 0) {
                /* Closing our handle is what removes it. */
                CloseHandle(t->target);
                t->target = NULL;
                t->gone = 1;
                pass->removed++;
                return LK_OK;
            }
            left(&w, t->wpath, NULL, 0, e, NULL, 0);
        }
    }
    if (w.oom)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    return pass_error(pass, t->path, err);
}

int lk_sys_remove_tree_once(const char *path, lk_remove_pass *pass, lk_error *err)
{
    lk_tree *t = NULL;
    int rc;
    memset(pass, 0, sizeof *pass);
    pass->retryable = 1;
    rc = lk_sys_tree_open(path, &t, err);
    if (rc == LK_ENOENT)
        return LK_OK; /* gone already (or going: delete pending) */
    if (rc != LK_OK) {
        pass->retryable = rc == LK_EBUSY;
        return rc;
    }
    rc = lk_sys_tree_remove_once(t, pass, err);
    lk_sys_tree_close(t);
    return rc;
}

int lk_sys_tree_usage(lk_tree *t, uint64_t *files, uint64_t *bytes, lk_error *err)
{
    lk_remove_pass scratch;
    walk w;
    *files = *bytes = 0;
    if (!t || !t->target)
        return lk_error_set(err, LK_ENOENT, 0, "the folder is gone");
    memset(&w, 0, sizeof w);
    memset(&scratch, 0, sizeof scratch);
    w.mode = WALK_USAGE;
    w.pass = &scratch;
    walk_tree(&w, t);
    lk_remove_pass_free(&scratch);
    if (w.oom)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    *files = w.files;
    *bytes = w.bytes;
    return LK_OK;
}

int lk_sys_tree_ids(lk_tree *t, uint64_t **ids, size_t *n, lk_error *err)
{
    lk_remove_pass scratch;
    walk w;
    *ids = NULL;
    *n = 0;
    if (!t || !t->target)
        return lk_error_set(err, LK_ENOENT, 0, "the folder is gone");
    memset(&w, 0, sizeof w);
    memset(&scratch, 0, sizeof scratch);
    w.mode = WALK_IDS;
    w.pass = &scratch;
    walk_tree(&w, t);
    lk_remove_pass_free(&scratch);
    if (w.oom) {
        free(w.ids);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    *ids = w.ids;
    *n = w.nids;
    return LK_OK;
}
