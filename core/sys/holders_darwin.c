/* What one macOS process holds: open files, file ports, cwd, root, exe and
 * file-backed mappings, read through libproc. */
#include <errno.h>
#include <libproc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/proc_info.h>

#include "sys/darwin_proc.h"
#include "util/strv.h"

/* Lists bigger than this are refused rather than allocated. */
#define MAX_LIST_BYTES (64u * 1024 * 1024)
/* A walk over more regions than this is stopped and reported. */
#define MAX_REGIONS (1u << 20)

typedef struct scan {
    lk_snap_builder *b;
    size_t idx;
    int pid;
    const char *why;   /* set when the scan had to stop: the reason for the report */
    size_t unresolved; /* items that were there but could not be read */
    int unresolved_err;
} scan;

/* Ends the scan of this process with the reason for errno e. */
static int stop(scan *s, int e)
{
    s->why = e == EPERM || e == EACCES ? "permission denied (run with sudo to see it)"
             : e == ESRCH              ? "exited during the scan"
             : e == EAGAIN             ? "its open files kept changing while being listed"
             : e == E2BIG              ? "too many open files to list"
                                       : strerror(e);
    return -1;
}

/* One item could not be read: gone meanwhile (fine), the whole process out
 * of reach (stop), or something else (counted, reported at the end). */
static int item_failed(scan *s, int e, int gone)
{
    if (e == gone)
        return 0;
    if (e == ESRCH || e == EPERM || e == EACCES)
        return stop(s, e);
    s->unresolved++;
    s->unresolved_err = e ? e : EIO;
    return 0;
}

static int add(scan *s, lk_how how, const char *path)
{
    char *copy;
    if (path[0] != '/')
        return 0; /* nothing there (no chroot, an anonymous mapping) */
    copy = lk_strdup(path);
    if (!copy || lk__snap_open(s->b, s->idx, how, copy) != LK_OK)
        return stop(s, ENOMEM);
    return 0;
}

static int give_up(void *buf, int e)
{
    free(buf);
    errno = e;
    return -1;
}

/* proc_pidinfo lists (fds, file ports): the kernel copies what fits, so a
 * full buffer may have cut the list short; then ask for the size again and
 * retry with at least twice the room. Returns the entry count or -1 with
 * errno set; *out is freed by the caller. */
static int list_items(int pid, int flavor, size_t item, void **out)
{
    size_t cap = 0;
    void *buf = NULL;
    int got, tries;

    *out = NULL;
    for (tries = 0; tries < 16; tries++) {
        size_t want;
        void *grown;
        errno = 0;
        got = proc_pidinfo(pid, flavor, 0, NULL, 0); /* the size, with a margin */
        if (got <= 0) {
            if (errno)
                return give_up(buf, errno);
            free(buf);
            return 0; /* none at all */
        }
        want = (size_t)got + (size_t)got / 4 + 16 * item;
        cap = want > 2 * cap ? want : 2 * cap;
        if (cap > MAX_LIST_BYTES)
            return give_up(buf, E2BIG);
        grown = realloc(buf, cap);
        if (!grown)
            return give_up(buf, ENOMEM);
        buf = grown;
        errno = 0;
        got = proc_pidinfo(pid, flavor, 0, buf, (int)cap);
        if (got <= 0 && errno)
            return give_up(buf, errno);
        if (got < 0)
            got = 0;
        if ((size_t)got + item <= cap) {
            *out = buf;
            return (int)((size_t)got / item);
        }
    }
    return give_up(buf, EAGAIN);
}

static int read_fds(scan *s)
{
    struct proc_fdinfo *fds;
    void *raw;
    int n = list_items(s->pid, PROC_PIDLISTFDS, sizeof *fds, &raw);
    int i, rc = 0;

    if (n < 0)
        return stop(s, errno);
    fds = raw;
    for (i = 0; i < n && rc == 0; i++) {
        struct vnode_fdinfowithpath vi;
        int got;
        if (fds[i].proc_fdtype != PROX_FDTYPE_VNODE)
            continue; /* sockets, pipes, kqueues: no path in the file system */
        errno = 0;
        got = proc_pidfdinfo(s->pid, fds[i].proc_fd, PROC_PIDFDVNODEPATHINFO, &vi, (int)sizeof vi);
        if (got == (int)sizeof vi)
            rc = add(s, LK_HOW_FILE, vi.pvip.vip_path);
        else
            rc = item_failed(s, got > 0 ? EIO : errno, EBADF); /* EBADF: closed since listed */
    }
    free(raw);
    return rc;
}

/* File ports: descriptors wrapped in Mach ports to be passed between
 * processes (Chromium does this). They keep the file open with no fd. */
static int read_fileports(scan *s)
{
    struct proc_fileportinfo *ports;
    void *raw;
    int n = list_items(s->pid, PROC_PIDLISTFILEPORTS, sizeof *ports, &raw);
    int i, rc = 0;

    if (n < 0)
        return errno == EINVAL || errno == ENOTSUP ? 0 /* a kernel without them */
                                                   : stop(s, errno);
    ports = raw;
    for (i = 0; i < n && rc == 0; i++) {
        struct vnode_fdinfowithpath vi;
        int got;
        if (ports[i].proc_fdtype != PROX_FDTYPE_VNODE)
            continue;
        errno = 0;
        got = proc_pidfileportinfo(s->pid, ports[i].proc_fileport, PROC_PIDFILEPORTVNODEPATHINFO,
                                   &vi, (int)sizeof vi);
        if (got == (int)sizeof vi)
            rc = add(s, LK_HOW_FILE, vi.pvip.vip_path);
        else
            rc = item_failed(s, got > 0 ? EIO : errno, EINVAL); /* EINVAL: port gone */
    }
    free(raw);
    return rc;
}

static int read_dirs(scan *s)
{
    struct proc_vnodepathinfo vpi;
    int got;
    errno = 0;
    got = proc_pidinfo(s->pid, PROC_PIDVNODEPATHINFO, 0, &vpi, (int)sizeof vpi);
    if (got != (int)sizeof vpi)
        return item_failed(s, got > 0 ? EIO : errno, -1);
    /* The root path is empty unless the process is chrooted. */
    if (add(s, LK_HOW_CWD, vpi.pvi_cdir.vip_path) != 0)
        return -1;
    return add(s, LK_HOW_ROOT, vpi.pvi_rdir.vip_path);
}

/* Walks the address space region by region; the kernel answers with the
 * region at or above addr, and EINVAL past the last one. */
static int read_maps(scan *s)
{
    char last[MAXPATHLEN] = "";
    uint64_t addr = 0;
    size_t steps;

    for (steps = 0; steps < MAX_REGIONS; steps++) {
        struct proc_regionwithpathinfo ri;
        uint64_t next;
        int got;
        errno = 0;
        got = proc_pidinfo(s->pid, PROC_PIDREGIONPATHINFO, addr, &ri, (int)sizeof ri);
        if (got != (int)sizeof ri) {
            if (got <= 0 && (errno == EINVAL || errno == 0))
                return 0;
            return item_failed(s, got > 0 ? EIO : errno, -1);
        }
        /* Maps of one file come in runs; keep one entry per run. */
        if (ri.prp_vip.vip_path[0] == '/' && strcmp(ri.prp_vip.vip_path, last) != 0) {
            if (add(s, LK_HOW_MAP, ri.prp_vip.vip_path) != 0)
                return -1;
            memcpy(last, ri.prp_vip.vip_path, sizeof last);
        }
        next = ri.prp_prinfo.pri_address + ri.prp_prinfo.pri_size;
        if (next <= addr)
            return 0; /* the region reaches the top of the address space */
        addr = next;
    }
    s->why = "too many memory regions to walk";
    return -1;
}

void lk__darwin_read_holds(lk_snap_builder *b, size_t idx)
{
    const lk_proc *p = &b->snap->procs[idx];
    scan s;
    int rc;

    memset(&s, 0, sizeof s);
    s.b = b;
    s.idx = idx;
    s.pid = (int)p->pid;
    rc = read_fds(&s);
    if (rc == 0)
        rc = read_fileports(&s);
    if (rc == 0)
        rc = read_dirs(&s);
    if (rc == 0 && p->exe)
        rc = add(&s, LK_HOW_EXE, p->exe);
    /* Asking for kernel_task's regions is refused, and the kernel files a
     * crash report against the process that asked. */
    if (rc == 0 && s.pid != 0)
        rc = read_maps(&s);
    if (rc != 0) {
        lk__snap_blind(b, p->pid, p->name, s.why ? s.why : "could not be inspected");
    } else if (s.unresolved) {
        char why[160];
        snprintf(why, sizeof why, "could not resolve %zu of the files it holds (%s)", s.unresolved,
                 strerror(s.unresolved_err));
        lk__snap_blind(b, p->pid, p->name, why);
    }
}
