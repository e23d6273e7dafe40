/* Processes on macOS, read through libproc and sysctl. */
#include <errno.h>
#include <libproc.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/resource.h>
#include <sys/sysctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "sys/darwin_proc.h"
#include "util/strv.h"

long lk_sys_self_pid(void)
{
    return (long)getpid();
}

/* What names one process for ever, and what decides whether it may be ended. */
typedef struct identity {
    long ppid;
    uid_t ruid;
    uint64_t start_id;
    int64_t start_ms;
    int zombie;
    int system;
    char name[2 * MAXCOMLEN + 1];
} identity;

static void set_start(identity *id, uint64_t sec, uint64_t usec)
{
    /* Microseconds since the epoch: no PID is handed out twice within one. */
    id->start_id = sec * 1000000u + usec;
    id->start_ms = (int64_t)(sec * 1000u + usec / 1000u);
}

/* kern.proc.pid answers for every process, other users' and zombies
 * included, from the same p_start as PROC_PIDTBSDINFO. */
static int identity_sysctl(pid_t pid, identity *id)
{
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};
    struct kinfo_proc kp;
    size_t len = sizeof kp;

    if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0)
        return errno ? errno : EIO;
    if (len == 0)
        return ESRCH; /* the kernel answers a gone PID with nothing, not an error */
    if (len < sizeof kp)
        return EIO;
    id->ppid = (long)kp.kp_eproc.e_ppid;
    id->ruid = kp.kp_eproc.e_pcred.p_ruid;
    set_start(id, (uint64_t)kp.kp_proc.p_starttime.tv_sec,
              (uint64_t)kp.kp_proc.p_starttime.tv_usec);
    id->zombie = kp.kp_proc.p_stat == SZOMB;
    id->system = (kp.kp_proc.p_flag & P_SYSTEM) != 0;
    snprintf(id->name, sizeof id->name, "%s", kp.kp_proc.p_comm);
    return 0;
}

/* Returns 0, ESRCH when the process is gone, or another errno. */
static int identity_of(pid_t pid, identity *id)
{
    struct proc_bsdinfo bi;
    int n;

    memset(id, 0, sizeof *id);
    /* A non-zero arg makes the kernel answer for a zombie too, so it can be
     * told apart from a process that is gone. */
    n = proc_pidinfo(pid, PROC_PIDTBSDINFO, 1, &bi, (int)sizeof bi);
    if (n != (int)sizeof bi) {
        /* EPERM for every process of another user unless we are root. */
        return identity_sysctl(pid, id);
    }
    id->ppid = (long)bi.pbi_ppid;
    id->ruid = bi.pbi_ruid;
    set_start(id, bi.pbi_start_tvsec, bi.pbi_start_tvusec);
    id->zombie = bi.pbi_status == SZOMB;
    id->system = (bi.pbi_flags & PROC_FLAG_SYSTEM) != 0;
    /* pbi_name holds up to 32 bytes of the executable's name, pbi_comm 16. */
    snprintf(id->name, sizeof id->name, "%s", bi.pbi_name[0] ? bi.pbi_name : bi.pbi_comm);
    return 0;
}

static int is_critical(long pid, const identity *id)
{
    /* The kernel, launchd, and the two whose end ends the login session. */
    static const char *const names[] = {"kernel_task", "launchd", "WindowServer", "loginwindow",
                                        NULL};
    size_t i;
    if (pid == 0 || pid == 1 || id->system)
        return 1;
    for (i = 0; names[i]; i++)
        if (strcmp(id->name, names[i]) == 0)
            return 1;
    return 0;
}

/* Every PID, zombies included. Returns the count, or -1 with errno set. */
static int list_pids(pid_t **out)
{
    int cap, tries;

    *out = NULL;
    errno = 0;
    cap = proc_listallpids(NULL, 0); /* the kernel's estimate, with a margin */
    if (cap <= 0) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    for (tries = 0; tries < 8; tries++) {
        pid_t *pids;
        int n;
        cap += cap / 4 + 16;
        pids = malloc((size_t)cap * sizeof *pids);
        if (!pids) {
            errno = ENOMEM;
            return -1;
        }
        errno = 0;
        n = proc_listallpids(pids, cap * (int)sizeof *pids);
        if (n <= 0) {
            int e = errno ? errno : EIO;
            free(pids);
            errno = e;
            return -1;
        }
        if (n < cap) {
            *out = pids;
            return n;
        }
        /* A full buffer may have cut the list short: processes were born meanwhile. */
        free(pids);
    }
    errno = EAGAIN;
    return -1;
}

/* KERN_PROCARGS2 gives argc, the exec path, NUL padding, argv[0..argc-1] and
 * then the environment. buf must hold kern.argmax bytes: given less, the
 * kernel returns the tail of the area, not its head. */
static void read_args(pid_t pid, char *buf, size_t cap, lk_proc *p)
{
    int mib[3] = {CTL_KERN, KERN_PROCARGS2, (int)pid};
    size_t n = cap, total = 0;
    const char *s, *end;
    int argc, i;

    /* Fails for another user's process (unless root), zombies and pid 0. */
    if (!buf || sysctl(mib, 3, buf, &n, NULL, 0) != 0 || n <= sizeof argc)
        return;
    memcpy(&argc, buf, sizeof argc);
    end = buf + n;
    s = memchr(buf + sizeof argc, '\0', n - sizeof argc);
    if (!s)
        return;
    while (s < end && *s == '\0')
        s++;
    if (argc <= 0 || s >= end)
        return;
    if ((size_t)argc > (size_t)(end - s))
        argc = (int)(end - s); /* every argument takes one byte at least */
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    if (!p->argv)
        return;
    while (p->argc < argc && s < end) {
        const char *nul = memchr(s, '\0', (size_t)(end - s));
        size_t len = nul ? (size_t)(nul - s) : (size_t)(end - s);
        char *arg = strndup(s, len);
        if (!arg)
            break;
        p->argv[p->argc++] = arg;
        total += len + 1;
        s = nul ? nul + 1 : end;
    }
    if (p->argc == 0) {
        free(p->argv);
        p->argv = NULL;
        return;
    }
    p->cmdline = malloc(total);
    if (p->cmdline) {
        char *w = p->cmdline;
        for (i = 0; i < p->argc; i++) {
            size_t len = strlen(p->argv[i]);
            memcpy(w, p->argv[i], len);
            w += len;
            *w++ = i + 1 < p->argc ? ' ' : '\0';
        }
    }
}

static void set_user(lk_proc *p, uid_t uid)
{
    struct passwd pw, *res = NULL;
    char pwbuf[1024];
    if (getpwuid_r(uid, &pw, pwbuf, sizeof pwbuf, &res) == 0 && res)
        p->user = lk_strdup(pw.pw_name);
    else {
        char num[32];
        snprintf(num, sizeof num, "%lu", (unsigned long)uid);
        p->user = lk_strdup(num);
    }
    if (uid != geteuid())
        p->flags |= LK_PROC_OTHER_USER;
}

static char *read_exe(pid_t pid)
{
    char buf[PROC_PIDPATHINFO_MAXSIZE];
    /* Answered for every user's process; fails for pid 0 and zombies. */
    if (proc_pidpath(pid, buf, sizeof buf) <= 0)
        return NULL;
    buf[sizeof buf - 1] = '\0';
    return lk_strdup(buf);
}

int lk_sys_snapshot(lk_snapshot **out, unsigned what, lk_error *err)
{
    lk_snap_builder b;
    pid_t *pids;
    char *args = NULL;
    size_t args_cap = 0;
    int mib[2] = {CTL_KERN, KERN_ARGMAX};
    int argmax = 0, n, i, rc;
    size_t len = sizeof argmax;

    *out = NULL;
    if ((rc = lk__snap_begin(&b, err)) != LK_OK)
        return rc;
    b.snap->elevated = geteuid() == 0;
    n = list_pids(&pids);
    if (n < 0) {
        int e = errno;
        lk_snapshot_free(b.snap);
        return lk_error_set(err, e == ENOMEM ? LK_ENOMEM : LK_EIO, e, "cannot list processes: %s",
                            strerror(e));
    }
    /* One buffer for every process's arguments. */
    if (sysctl(mib, 2, &argmax, &len, NULL, 0) == 0 && argmax > 0) {
        args_cap = (size_t)argmax;
        args = malloc(args_cap);
    }
    for (i = 0; i < n; i++) {
        pid_t pid = pids[i];
        identity id;
        lk_proc *p;
        size_t idx;
        int e = identity_of(pid, &id);

        if (e == ESRCH)
            continue; /* exited since the list was taken: it holds nothing now */
        if (e != 0) {
            char why[128];
            snprintf(why, sizeof why, "cannot read its process information: %s", strerror(e));
            lk__snap_blind(&b, (long)pid, NULL, why);
            continue;
        }
        p = lk__snap_proc(&b);
        if (!p) {
            free(args);
            free(pids);
            lk_snapshot_free(b.snap);
            return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
        }
        idx = b.snap->nprocs - 1;
        p->pid = (long)pid;
        p->ppid = id.ppid;
        p->name = lk_strdup(id.name);
        p->start_id = id.start_id;
        p->start_ms = id.start_ms;
        if (id.zombie)
            p->flags |= LK_PROC_ZOMBIE;
        if (is_critical(p->pid, &id))
            p->flags |= LK_PROC_CRITICAL;
        read_args(pid, args, args_cap, p);
        set_user(p, id.ruid);
        p->exe = read_exe(pid);
        if ((what & LK_SNAP_HANDLES) && !(p->flags & LK_PROC_ZOMBIE))
            lk__darwin_read_holds(&b, idx);
    }
    free(args);
    free(pids);
    *out = b.snap;
    return LK_OK;
}

long lk__proc_parent(long pid, int *kernel)
{
    identity id;
    *kernel = pid == 0;
    if (pid <= 0 || identity_of((pid_t)pid, &id) != 0)
        return -1;
    return id.ppid;
}

int lk_sys_proc_same(long pid, uint64_t start_id)
{
    identity id;
    if (pid <= 0 || pid > INT_MAX)
        return 0;
    return identity_of((pid_t)pid, &id) == 0 && id.start_id == start_id && !id.zombie;
}

int64_t lk_sys_proc_memory(long pid)
{
    struct rusage_info_v2 ri;
    if (pid <= 0 || pid > INT_MAX)
        return -1;
    /* The physical footprint is the figure Activity Monitor shows. */
    if (proc_pid_rusage((int)pid, RUSAGE_INFO_V2, (rusage_info_t *)&ri) != 0)
        return -1;
    return (int64_t)ri.ri_phys_footprint;
}
