/* What every process holds, on Windows: its open File handles (through the
 * system handle table), its current folder, its executable and its loaded
 * modules. Processes we cannot look into are reported in `blind`.
 *
 * The system handle table (SystemExtendedHandleInformation) lists every
 * handle of every process. A File handle's name can only be read through a
 * duplicate of it, and reading it (GetFileType, NtQueryObject,
 * GetFinalPathNameByHandleW) waits on the file object's lock: for a
 * synchronous pipe with a read pending, that wait never ends. File Locksmith
 * and System Informer answer with TerminateThread, which can leave the loader
 * lock or the heap lock held by a dead thread. We never do that: the queries
 * run on a worker thread, the scanner watches its progress, and a worker that
 * stops making progress is abandoned (left blocked; it cleans up after itself
 * if the I/O ever completes). The handle it was stuck on is counted as not
 * inspected, its process is reported in `blind`, and the rest of that
 * process's handles go to a fresh worker. */
#include "sys/win32_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <psapi.h>

#include "sys/snapshot_build.h"
#include "util/strv.h"

/* No progress for this long means the worker is stuck on one handle. A real
 * name query takes microseconds; this is generous for a loaded CI machine. */
#define LK_STALL_MS 500
/* Workers still blocked (from any scan of this process) before we stop
 * starting new ones: each holds a thread and a handle until its I/O ends. */
#define LK_MAX_STUCK_WORKERS 16
/* x64 RTL_USER_PROCESS_PARAMETERS.CurrentDirectory.Handle */
#define LK_PEB_PARAMS_OFFSET 0x20
#define LK_PARAMS_CWD_HANDLE_OFFSET 0x48

/* Workers abandoned while blocked and not returned yet. Process-wide on
 * purpose: those threads outlive the snapshot that started them. */
static volatile LONG g_stuck_workers;

enum { ITEM_PENDING = 0, ITEM_CLAIMED, ITEM_DONE, ITEM_STOLEN };

typedef struct item {
    HANDLE h;            /* our duplicate; closed by whoever processes the item */
    ULONG_PTR value;     /* the handle value in its owner process */
    volatile LONG state; /* ITEM_* */
    wchar_t *name;       /* result; NULL when not a disk file or unnamed */
    int is_nt;           /* name is an NT path ("\Device\...") */
} item;

/* Shared by the scanner and one worker; freed by whichever lets go last. */
typedef struct job {
    volatile LONG refs;
    volatile LONG progress;  /* items finished */
    volatile LONG abandoned; /* the scanner gave up waiting for it */
    HANDLE done;             /* set when the worker leaves */
    size_t n;
    item items[];
} job;

static void job_release(job *j)
{
    size_t k;
    if (InterlockedDecrement(&j->refs) != 0)
        return;
    for (k = 0; k < j->n; k++) {
        free(j->items[k].name);
        if (j->items[k].h)
            CloseHandle(j->items[k].h);
    }
    CloseHandle(j->done);
    free(j);
}

static DWORD WINAPI name_worker(void *arg)
{
    job *j = arg;
    size_t k;
    for (k = 0; k < j->n; k++) {
        item *it = &j->items[k];
        HANDLE h;
        /* The scanner takes back what we have not started once it gives up on us. */
        if (InterlockedCompareExchange(&it->state, ITEM_CLAIMED, ITEM_PENDING) != ITEM_PENDING)
            break;
        h = it->h;
        /* GetFileType first: pipes and consoles have no path worth asking for,
         * and it is the cheaper query (it can block too, hence the worker). */
        if (GetFileType(h) == FILE_TYPE_DISK)
            it->name = lk__final_path_w(h, &it->is_nt);
        it->h = NULL;
        CloseHandle(h);
        InterlockedExchange(&it->state, ITEM_DONE);
        InterlockedIncrement(&j->progress);
    }
    SetEvent(j->done);
    if (InterlockedCompareExchange(&j->abandoned, 2, 1) == 1)
        InterlockedDecrement(&g_stuck_workers); /* unstuck at last */
    job_release(j);
    return 0;
}

typedef struct scan {
    lk_snap_builder *b;
    lk__devmap devmap;
    lk__proc_ctx *pctx;          /* for processes that appear after the process walk */
    unsigned char *is_file_type; /* per ObjectTypeIndex: 0 unknown, 1 File, 2 other */
    HANDLE self_probe;           /* our own File handle, to learn the type index */
    int probe_found;             /* ... and it was in the table: File's index is known */
    char *blinded;               /* per snapshot proc: already in `blind` */
    size_t nblinded;
} scan;

typedef struct pid_handle {
    DWORD pid;
    USHORT type;
    ULONG_PTR value;
} pid_handle;

static int cmp_pid_handle(const void *a, const void *b)
{
    const pid_handle *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->value < y->value ? -1 : x->value > y->value;
}

static const char *proc_name(scan *s, size_t idx)
{
    const char *n = s->b->snap->procs[idx].name;
    return n ? n : "?";
}

static int add_blind(scan *s, size_t idx, const char *reason)
{
    if (idx < s->nblinded && s->blinded[idx])
        return LK_OK; /* one entry per process: the first reason is the telling one */
    if (idx < s->nblinded)
        s->blinded[idx] = 1;
    return lk__snap_blind(s->b, s->b->snap->procs[idx].pid, proc_name(s, idx), reason) == LK_OK
               ? LK_OK
               : LK_ENOMEM;
}

static int add_blind_err(scan *s, size_t idx, const char *what, DWORD e)
{
    char msg[300], reason[400];
    lk__win_msg(e, msg, sizeof msg);
    snprintf(reason, sizeof reason, "%s: %s", what, msg);
    return add_blind(s, idx, reason);
}

static int add_open_w(scan *s, size_t idx, lk_how how, const wchar_t *name, int is_nt)
{
    char *path = lk__dos_path(is_nt ? &s->devmap : NULL, name);
    if (!path)
        return LK_ENOMEM;
    return lk__snap_open(s->b, idx, how, path);
}

/* Is this type index the File type? Learnt from the first duplicate of each type. */
static int type_is_file(scan *s, USHORT type, HANDLE dup)
{
    unsigned char buf[1024];
    ULONG ret = 0;
    if (s->is_file_type[type])
        return s->is_file_type[type] == 1;
    if (!dup)
        return -1;
    if (NT_SUCCESS(NtQueryObject(dup, ObjectTypeInformation, buf, sizeof buf, &ret))) {
        const PUBLIC_OBJECT_TYPE_INFORMATION *ti = (const PUBLIC_OBJECT_TYPE_INFORMATION *)buf;
        int file = ti->TypeName.Length == 8 && _wcsnicmp(ti->TypeName.Buffer, L"File", 4) == 0;
        s->is_file_type[type] = file ? 1 : 2;
        return file;
    }
    return -1;
}

/* Runs the name queries of one process's handles; fills names in `out` (taken
 * over by the caller) and counts the handles that could not be named. */
static void name_handles(item *items, size_t n, size_t *hung, int *gave_up)
{
    size_t start = 0;
    *hung = 0;
    *gave_up = 0;
    while (start < n) {
        size_t m = n - start, k;
        job *j = calloc(1, sizeof *j + m * sizeof(item));
        HANDLE th = NULL;
        LONG last = 0;
        int finished = 0;

        if (j)
            j->done = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (j && j->done && g_stuck_workers < LK_MAX_STUCK_WORKERS) {
            j->n = m;
            j->refs = 2;
            for (k = 0; k < m; k++) {
                j->items[k].h = items[start + k].h;
                j->items[k].value = items[start + k].value;
            }
            th = CreateThread(NULL, 64 * 1024, name_worker, j, STACK_SIZE_PARAM_IS_A_RESERVATION,
                              NULL);
        }
        if (!th) {
            /* No worker, no protection: leave the rest unnamed rather than risk a hang. */
            if (j && j->done)
                CloseHandle(j->done);
            free(j);
            for (k = start; k < n; k++) {
                CloseHandle(items[k].h);
                items[k].h = NULL;
            }
            *hung += n - start;
            *gave_up = 1;
            return;
        }
        for (k = 0; k < m; k++)
            items[start + k].h = NULL; /* the job owns them now */

        for (;;) {
            LONG now;
            if (WaitForSingleObject(j->done, LK_STALL_MS) == WAIT_OBJECT_0) {
                finished = 1;
                break;
            }
            now = InterlockedCompareExchange(&j->progress, 0, 0);
            if (now == last)
                break; /* stalled */
            last = now;
        }

        if (finished) {
            for (k = 0; k < m; k++) {
                items[start + k].name = j->items[k].name;
                items[start + k].is_nt = j->items[k].is_nt;
                j->items[k].name = NULL;
            }
            WaitForSingleObject(th, INFINITE); /* after `done` it only lets go of the job */
            CloseHandle(th);
            job_release(j);
            return;
        }

        /* Stalled: take back what it has not started, keep what it finished,
         * count the one it is stuck on, and let it go. */
        {
            size_t resume = m;
            for (k = 0; k < m; k++) {
                item *it = &j->items[k];
                LONG st = InterlockedCompareExchange(&it->state, ITEM_STOLEN, ITEM_PENDING);
                if (st == ITEM_PENDING) {
                    if (resume == m)
                        resume = k;
                    items[start + k].h = it->h;
                    it->h = NULL;
                } else if (st == ITEM_DONE) {
                    items[start + k].name = it->name;
                    items[start + k].is_nt = it->is_nt;
                    it->name = NULL;
                } else { /* ITEM_CLAIMED: the stuck one */
                    (*hung)++;
                }
            }
            InterlockedExchange(&j->abandoned, 1);
            InterlockedIncrement(&g_stuck_workers);
            /* Raced with a worker that was finishing after all: nothing is stuck. */
            if (WaitForSingleObject(j->done, 0) == WAIT_OBJECT_0 &&
                InterlockedCompareExchange(&j->abandoned, 2, 1) == 1)
                InterlockedDecrement(&g_stuck_workers);
            CloseHandle(th);
            job_release(j);
            if (resume == m)
                return;
            start += resume;
        }
    }
}

/* The Current Directory handle value of a process, from its PEB, or 0. */
static ULONG_PTR cwd_handle_value(HANDLE ph)
{
    PROCESS_BASIC_INFORMATION pbi;
    ULONG ret = 0;
    SIZE_T rd = 0;
    ULONG_PTR params = 0, value = 0;
    if (!ph ||
        !NT_SUCCESS(
            NtQueryInformationProcess(ph, ProcessBasicInformation, &pbi, sizeof pbi, &ret)) ||
        !pbi.PebBaseAddress)
        return 0;
    if (!ReadProcessMemory(ph, (const char *)pbi.PebBaseAddress + LK_PEB_PARAMS_OFFSET, &params,
                           sizeof params, &rd) ||
        !params)
        return 0;
    if (!ReadProcessMemory(ph, (const void *)(params + LK_PARAMS_CWD_HANDLE_OFFSET), &value,
                           sizeof value, &rd))
        return 0;
    return value & ~(ULONG_PTR)3; /* low bits are tag bits, not part of the value */
}

/* One process's File handles: duplicate, name (on a worker), record. */
static int scan_handles(scan *s, size_t idx, const pid_handle *hs, size_t n, HANDLE rd)
{
    DWORD pid = (DWORD)s->b->snap->procs[idx].pid;
    HANDLE ph = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
    item *items;
    size_t m = 0, k, hung = 0, denied = 0;
    DWORD deny_err = 0;
    ULONG_PTR cwd;
    int gave_up = 0, rc = LK_OK;

    if (!ph) {
        DWORD e = GetLastError();
        if (e == ERROR_INVALID_PARAMETER)
            return LK_OK; /* it exited: it holds nothing any more */
        return add_blind_err(s, idx, "cannot open it to read its handles", e);
    }
    items = calloc(n, sizeof *items);
    if (!items) {
        CloseHandle(ph);
        return LK_ENOMEM;
    }
    for (k = 0; k < n; k++) {
        HANDLE dup = NULL;
        int file;
        if (!DuplicateHandle(ph, (HANDLE)hs[k].value, GetCurrentProcess(), &dup, 0, FALSE,
                             DUPLICATE_SAME_ACCESS)) {
            DWORD e = GetLastError();
            /* Closed since the table was taken, or a kind that cannot be copied. */
            if (e != ERROR_INVALID_HANDLE && e != ERROR_NOT_SUPPORTED) {
                denied++;
                deny_err = e;
            }
            continue;
        }
        file = type_is_file(s, hs[k].type, dup);
        if (file == 0) {
            CloseHandle(dup);
            continue;
        }
        items[m].h = dup;
        items[m].value = hs[k].value;
        m++;
    }
    CloseHandle(ph);

    name_handles(items, m, &hung, &gave_up);
    cwd = cwd_handle_value(rd);
    for (k = 0; k < m && rc == LK_OK; k++) {
        if (items[k].name)
            rc = add_open_w(s, idx, cwd && items[k].value == cwd ? LK_HOW_CWD : LK_HOW_FILE,
                            items[k].name, items[k].is_nt);
        free(items[k].name);
    }
    for (; k < m; k++)
        free(items[k].name);
    free(items);
    if (rc != LK_OK)
        return rc;
    if (hung) {
        char reason[200];
        snprintf(reason, sizeof reason,
                 gave_up ? "%lu of its handles were not named: too many name queries are hung"
                         : "%lu of its handles could not be named: the query hung (a busy pipe?)",
                 (unsigned long)hung);
        rc = add_blind(s, idx, reason);
    }
    if (rc == LK_OK && denied) {
        char what[120];
        snprintf(what, sizeof what, "%lu of its handles could not be copied",
                 (unsigned long)denied);
        rc = add_blind_err(s, idx, what, deny_err);
    }
    return rc;
}

/* The executable and every loaded module (a DLL inside the folder keeps it busy). */
static int scan_modules(scan *s, size_t idx, HANDLE rd, DWORD open_err)
{
    const lk_proc *p = &s->b->snap->procs[idx];
    HMODULE *mods = NULL;
    DWORD need = 0, cap = 256 * sizeof(HMODULE);
    size_t k, n;
    int tries, rc = LK_OK;
    char *exe;

    if (p->exe) {
        exe = lk_strdup(p->exe);
        if (!exe || lk__snap_open(s->b, idx, LK_HOW_EXE, exe) != LK_OK)
            return LK_ENOMEM;
    }
    if (!rd) {
        if (open_err == ERROR_INVALID_PARAMETER)
            return LK_OK; /* exited */
        /* Processes without an image (Registry, Memory Compression) load nothing. */
        if (!s->b->snap->procs[idx].exe)
            return LK_OK;
        return add_blind_err(s, idx, "cannot open it to read its modules", open_err);
    }
    for (tries = 0; tries < 4; tries++) {
        HMODULE *grown = realloc(mods, cap);
        if (!grown) {
            free(mods);
            return LK_ENOMEM;
        }
        mods = grown;
        if (!EnumProcessModulesEx(rd, mods, cap, &need, LIST_MODULES_ALL)) {
            DWORD e = GetLastError();
            /* ERROR_PARTIAL_COPY: still starting up, its module list not yet built. */
            if (e == ERROR_PARTIAL_COPY && tries < 3) {
                Sleep(5);
                continue;
            }
            free(mods);
            if (WaitForSingleObject(rd, 0) == WAIT_OBJECT_0)
                return LK_OK; /* exited meanwhile */
            return add_blind_err(s, idx, "cannot list its modules", e);
        }
        if (need <= cap)
            break;
        cap = need + 16 * sizeof(HMODULE);
    }
    n = need / sizeof(HMODULE);
    if (n * sizeof(HMODULE) > cap)
        n = cap / sizeof(HMODULE);
    /* Module 0 is the executable itself, reported above as LK_HOW_EXE.
     * GetMappedFileNameW asks the kernel about one address: constant time,
     * where GetModuleFileNameExW walks the loader's list for every module. */
    for (k = 1; k < n && rc == LK_OK; k++) {
        wchar_t buf[4096];
        DWORD len = GetMappedFileNameW(rd, mods[k], buf, 4096);
        int nt = 1;
        if (len == 0 || len >= 4096) {
            len = GetModuleFileNameExW(rd, mods[k], buf, 4096);
            nt = 0;
        }
        if (len == 0 || len >= 4096)
            continue;
        buf[len] = L'\0';
        rc = add_open_w(s, idx, LK_HOW_MODULE, buf, nt || (buf[0] == L'\\' && buf[1] != L'\\'));
    }
    free(mods);
    return rc;
}

static int scan_process(scan *s, size_t idx, const pid_handle *hs, size_t n)
{
    DWORD pid = (DWORD)s->b->snap->procs[idx].pid;
    HANDLE rd =
        OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, FALSE, pid);
    DWORD open_err = rd ? 0 : GetLastError();
    int rc = LK_OK;
    if (!rd && open_err == ERROR_ACCESS_DENIED) /* SYNCHRONIZE may be what is refused */
        rd = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    if (n)
        rc = scan_handles(s, idx, hs, n, rd);
    if (rc == LK_OK)
        rc = scan_modules(s, idx, rd, open_err);
    if (rd)
        CloseHandle(rd);
    return rc;
}

/* The handle table, reduced to File handles (or handles of types not yet
 * known) of processes other than us, sorted by pid. */
static int file_handles(scan *s, pid_handle **out, size_t *nout, lk_error *err)
{
    lk__handle_table *t = NULL;
    NTSTATUS st;
    DWORD self = GetCurrentProcessId();
    ULONG_PTR i;
    size_t n = 0;
    pid_handle *hs;

    st = lk__query_system(LK__SystemExtendedHandleInformation, (void **)&t, 4 << 20);
    if (!NT_SUCCESS(st))
        return lk_error_set(err, LK_EIO, (int)st,
                            "cannot read the system handle table (NTSTATUS 0x%08lx)",
                            (unsigned long)st);
    /* Our probe handle tells which type index "File" has on this system. */
    for (i = 0; i < t->NumberOfHandles; i++) {
        const lk__handle_entry *e = &t->Handles[i];
        if (e->UniqueProcessId == self && (HANDLE)e->HandleValue == s->self_probe) {
            s->is_file_type[e->ObjectTypeIndex] = 1;
            s->probe_found = 1;
            break;
        }
    }
    hs = malloc(sizeof *hs * (size_t)(t->NumberOfHandles + 1));
    if (!hs) {
        free(t);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    for (i = 0; i < t->NumberOfHandles; i++) {
        const lk__handle_entry *e = &t->Handles[i];
        /* We are no holder to act on; pid 0 holds nothing. */
        if (e->UniqueProcessId == self || e->UniqueProcessId == 0 ||
            e->UniqueProcessId > 0xffffffffu)
            continue;
        /* With File's index known from the probe, other types are skipped
         * without a look; otherwise each type is learnt on first sight. */
        if (s->probe_found && s->is_file_type[e->ObjectTypeIndex] != 1)
            continue;
        hs[n].pid = (DWORD)e->UniqueProcessId;
        hs[n].type = e->ObjectTypeIndex;
        hs[n].value = e->HandleValue;
        n++;
    }
    free(t);
    qsort(hs, n, sizeof *hs, cmp_pid_handle);
    *out = hs;
    *nout = n;
    return LK_OK;
}

static HANDLE open_probe(void)
{
    wchar_t exe[MAX_PATH + 1];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH + 1);
    HANDLE h = INVALID_HANDLE_VALUE;
    if (n > 0 && n <= MAX_PATH)
        h = CreateFileW(exe, 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        h = CreateFileW(L"NUL", 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
                        NULL);
    return h == INVALID_HANDLE_VALUE ? NULL : h;
}

static size_t lower_bound(const pid_handle *hs, size_t n, DWORD pid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hs[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int grow_blinded(scan *s, size_t want)
{
    char *grown;
    if (want <= s->nblinded)
        return LK_OK;
    grown = realloc(s->blinded, want);
    if (!grown)
        return LK_ENOMEM;
    memset(grown + s->nblinded, 0, want - s->nblinded);
    s->blinded = grown;
    s->nblinded = want;
    return LK_OK;
}

static int in_snapshot(const lk_snapshot *snap, size_t upto, DWORD pid)
{
    size_t i;
    for (i = 0; i < upto; i++)
        if ((DWORD)snap->procs[i].pid == pid)
            return 1;
    return 0;
}

/* Processes that started between the process walk and the handle table: they
 * may hold the folder too, so they join the snapshot rather than vanish. */
static int add_late(scan *s, const pid_handle *hs, size_t nhs, size_t known)
{
    void *table = NULL;
    const unsigned char *at;
    size_t g = 0;
    int rc = LK_OK;
    /* Anything to add? */
    while (g < nhs && in_snapshot(s->b->snap, known, hs[g].pid)) {
        DWORD pid = hs[g].pid;
        while (g < nhs && hs[g].pid == pid)
            g++;
    }
    if (g == nhs)
        return LK_OK;
    if (!NT_SUCCESS(lk__query_system(LK__SystemProcessInformation, &table, 0x40000)))
        return LK_OK; /* their handles stay unexamined; nothing better to say */
    if (!s->pctx && !(s->pctx = lk__proc_ctx_new())) {
        free(table);
        return LK_ENOMEM;
    }
    for (at = table; rc == LK_OK;) {
        const lk__spi *e = (const lk__spi *)at;
        DWORD pid = (DWORD)(ULONG_PTR)e->UniqueProcessId;
        size_t lo = lower_bound(hs, nhs, pid);
        if (lo < nhs && hs[lo].pid == pid && !in_snapshot(s->b->snap, known, pid)) {
            lk_proc *p = lk__snap_proc(s->b);
            rc = p ? lk__proc_fill(s->pctx, p, pid,
                                   (DWORD)(ULONG_PTR)e->InheritedFromUniqueProcessId,
                                   e->ImageName.Buffer, e->ImageName.Length / sizeof(wchar_t),
                                   (uint64_t)e->CreateTime.QuadPart)
                   : LK_ENOMEM;
        }
        if (!e->NextEntryOffset)
            break;
        at += e->NextEntryOffset;
    }
    free(table);
    return rc;
}

int lk__scan_holders(lk_snap_builder *b, lk_error *err)
{
    scan s;
    pid_handle *hs = NULL;
    size_t nhs = 0, known, i;
    DWORD self = GetCurrentProcessId();
    int rc;

    memset(&s, 0, sizeof s);
    s.b = b;
    lk__devmap_init(&s.devmap);
    s.is_file_type = calloc(65536, 1);
    if (!s.is_file_type)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    s.self_probe = open_probe();
    rc = file_handles(&s, &hs, &nhs, err);
    if (s.self_probe)
        CloseHandle(s.self_probe);
    if (rc != LK_OK)
        goto out;

    known = b->snap->nprocs;
    rc = add_late(&s, hs, nhs, known);
    if (rc == LK_OK)
        rc = grow_blinded(&s, b->snap->nprocs);
    for (i = 0; rc == LK_OK && i < b->snap->nprocs; i++) {
        DWORD pid = (DWORD)b->snap->procs[i].pid;
        size_t lo, hi;
        if (pid == 0 || pid == self || (b->snap->procs[i].flags & LK_PROC_ZOMBIE))
            continue;
        lo = lower_bound(hs, nhs, pid);
        for (hi = lo; hi < nhs && hs[hi].pid == pid; hi++)
            ;
        rc = scan_process(&s, i, hs + lo, hi - lo);
    }
    if (rc == LK_ENOMEM)
        lk_error_set(err, LK_ENOMEM, 0, "out of memory");
out:
    free(hs);
    free(s.is_file_type);
    free(s.blinded);
    lk__proc_ctx_free(s.pctx);
    return rc;
}
