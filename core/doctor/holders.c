/* Which processes hold a folder: one snapshot, matched against one folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

const char *lk_kind_name(lk_kind kind)
{
    switch (kind) {
    case LK_KIND_CHROMIUM_BROWSER: return "chromium-browser";
    case LK_KIND_CHROMIUM_CHILD: return "chromium-child";
    case LK_KIND_NODE: return "node";
    case LK_KIND_EXPLORER: return "explorer";
    case LK_KIND_SYSTEM: return "system";
    case LK_KIND_OTHER: return "other";
    }
    return "other";
}

static char *unquote(const char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
        char *r = malloc(n - 1);
        if (r) {
            memcpy(r, s + 1, n - 2);
            r[n - 2] = '\0';
        }
        return r;
    }
    return lk_strdup(s);
}

char *lk_doctor_proc_profile(const lk_proc *proc)
{
    static const char flag[] = "--user-data-dir";
    int i;
    for (i = 1; i < proc->argc; i++) {
        const char *a = proc->argv[i];
        if (!a || strncmp(a, flag, sizeof flag - 1) != 0)
            continue;
        if (a[sizeof flag - 1] == '=')
            return unquote(a + sizeof flag);
        if (a[sizeof flag - 1] == '\0' && i + 1 < proc->argc)
            return unquote(proc->argv[i + 1]);
    }
    return NULL;
}

static int is_chromium_child_flagged(const lk_proc *p)
{
    int i;
    for (i = 1; i < p->argc; i++)
        if (p->argv[i] && strncmp(p->argv[i], "--type=", 7) == 0)
            return 1;
    return 0;
}

static const char *proc_cwd(const lk_snapshot *snap, size_t idx)
{
    size_t i;
    for (i = 0; i < snap->nopens; i++)
        if (snap->opens[i].proc == idx && snap->opens[i].how == LK_HOW_CWD)
            return snap->opens[i].path;
    return NULL;
}

int lk__profile_matches(const lk_snapshot *snap, size_t idx, const lk_target *t)
{
    int win = snap->case_insensitive_paths;
    char *prof = lk_doctor_proc_profile(&snap->procs[idx]);
    char *abs = NULL;
    int match = 0;
    if (!prof)
        return 0;
    abs = lk_path_normalize(prof, win);
    if (!abs) {
        /* Relative: Chromium resolved it against its own current folder. */
        const char *cwd = proc_cwd(snap, idx);
        char *joined = cwd ? lk_path_join(cwd, prof, win) : NULL;
        abs = joined ? lk_path_normalize(joined, win) : NULL;
        free(joined);
    }
    if (abs) {
        match = lk_path_equal(abs, t->abs, win) || lk_path_equal(abs, t->real, win);
        /* The same folder reached through a symlink: resolve only plausible ones. */
        if (!match && lk_path_equal(lk_path_base(abs, win), lk_path_base(t->real, win), win)) {
            char *real = NULL;
            if (lk_sys_realpath(abs, &real, NULL) == LK_OK)
                match = lk_path_equal(real, t->real, win);
            free(real);
        }
    }
    free(abs);
    free(prof);
    return match;
}

static int is_ancestor_of(const lk_snapshot *snap, long ancestor, long pid)
{
    int hops = 0;
    while (pid > 0 && hops++ < 256) {
        const lk_proc *p = lk_snapshot_find(snap, pid);
        if (!p || p->ppid == pid)
            return 0;
        if (p->ppid == ancestor)
            return 1;
        pid = p->ppid;
    }
    return 0;
}

static int name_is(const char *name, const char *const *list)
{
    size_t i, n;
    if (!name)
        return 0;
    for (i = 0; list[i]; i++) {
        n = strlen(list[i]);
        /* Case-insensitive, with or without ".exe". */
        if (lk_ascii_ncaseeq(name, list[i], n) &&
            (name[n] == '\0' || (strlen(name + n) == 4 && lk_ascii_ncaseeq(name + n, ".exe", 4))))
            return 1;
    }
    return 0;
}

static lk_kind classify(const lk_snapshot *snap, size_t idx, const char *chromium_of_profile)
{
    static const char *const node[] = {"node", "nodejs", "bun", "deno", NULL};
    static const char *const explorer[] = {"explorer", NULL};
    static const char *const critical[] = {"System",   "Registry", "smss",     "csrss",   "wininit",
                                           "winlogon", "services", "lsass",    "svchost", "init",
                                           "systemd",  "launchd",  "kthreadd", NULL};
    const lk_proc *p = &snap->procs[idx];
    if (chromium_of_profile[idx] == 1)
        return is_chromium_child_flagged(p) ? LK_KIND_CHROMIUM_CHILD : LK_KIND_CHROMIUM_BROWSER;
    if (chromium_of_profile[idx] == 2)
        return LK_KIND_CHROMIUM_CHILD;
    if (p->pid <= 1 || p->pid == 4 || (p->flags & LK_PROC_CRITICAL) || name_is(p->name, critical))
        return LK_KIND_SYSTEM;
    if (name_is(p->name, node))
        return LK_KIND_NODE;
    if (name_is(p->name, explorer))
        return LK_KIND_EXPLORER;
    return LK_KIND_OTHER;
}

/* Why a process must not be ended, or NULL when it may be. */
static char *why_spare(const lk_snapshot *snap, const lk_proc *p, lk_kind kind)
{
    char buf[256];
    if (p->pid == snap->self_pid)
        return lk_strdup("this is Latchkey itself");
    if (is_ancestor_of(snap, p->pid, snap->self_pid))
        return lk_strdup("it started Latchkey (a parent process)");
    if (kind == LK_KIND_SYSTEM)
        return lk_strdup("a critical system process; ending it would crash or log out the system");
    if (kind == LK_KIND_EXPLORER)
        return lk_strdup("Explorer: close its windows that show this folder, or restart Explorer "
                         "from Task Manager");
    if (p->flags & LK_PROC_ZOMBIE)
        return lk_strdup("it has already exited (waiting for its parent to reap it)");
    if ((p->flags & LK_PROC_OTHER_USER) && !snap->elevated) {
        snprintf(buf, sizeof buf, "it belongs to user %s; run as root or Administrator to end it",
                 p->user ? p->user : "(unknown)");
        return lk_strdup(buf);
    }
    return NULL;
}

static int copy_proc(lk_proc *dst, const lk_proc *src)
{
    int i;
    memset(dst, 0, sizeof *dst);
    dst->pid = src->pid;
    dst->ppid = src->ppid;
    dst->start_id = src->start_id;
    dst->start_ms = src->start_ms;
    dst->flags = src->flags;
    dst->name = lk_strdup(src->name);
    dst->exe = lk_strdup(src->exe);
    dst->cmdline = lk_strdup(src->cmdline);
    dst->user = lk_strdup(src->user);
    if (src->argc > 0) {
        dst->argv = calloc((size_t)src->argc + 1, sizeof *dst->argv);
        if (!dst->argv)
            return LK_ENOMEM;
        for (i = 0; i < src->argc; i++)
            dst->argv[i] = lk_strdup(src->argv[i]);
        dst->argc = src->argc;
    }
    return LK_OK;
}

static lk_holder *holder_for(lk_holders *h, size_t *cap, const lk_snapshot *snap, size_t idx,
                             const char *chromium_of_profile, size_t *slot_of)
{
    lk_holder *hd;
    if (slot_of[idx] != (size_t)-1)
        return &h->holders[slot_of[idx]];
    hd = lk_push(&h->holders, &h->nholders, cap, sizeof *hd);
    if (!hd)
        return NULL;
    slot_of[idx] = h->nholders - 1;
    copy_proc(&hd->proc, &snap->procs[idx]);
    hd->kind = classify(snap, idx, chromium_of_profile);
    hd->why_not = why_spare(snap, &hd->proc, hd->kind);
    hd->killable = hd->why_not == NULL;
    return hd;
}

static int add_held(lk_holder *hd, const char *path, lk_how how)
{
    size_t i;
    lk_held *grown;
    for (i = 0; i < hd->nheld; i++)
        if (hd->held[i].how == how && strcmp(hd->held[i].path, path) == 0)
            return LK_OK;
    grown = realloc(hd->held, (hd->nheld + 1) * sizeof *grown);
    if (!grown)
        return LK_ENOMEM;
    hd->held = grown;
    grown[hd->nheld].path = lk_strdup(path);
    grown[hd->nheld].how = how;
    hd->nheld++;
    return LK_OK;
}

/* Marks processes of the profile (1) and their descendants (2). */
static void mark_chromium(const lk_snapshot *snap, const lk_target *t, char *mark)
{
    size_t i;
    int changed = 1, rounds = 0;
    for (i = 0; i < snap->nprocs; i++)
        if (!(snap->procs[i].flags & LK_PROC_ZOMBIE) && lk__profile_matches(snap, i, t))
            mark[i] = 1;
    while (changed && rounds++ < 64) {
        changed = 0;
        for (i = 0; i < snap->nprocs; i++) {
            const lk_proc *parent;
            if (mark[i] || (snap->procs[i].flags & LK_PROC_ZOMBIE))
                continue;
            parent = lk_snapshot_find(snap, snap->procs[i].ppid);
            if (parent && parent->pid != snap->procs[i].pid && mark[parent - snap->procs] &&
                parent->start_ms <= snap->procs[i].start_ms) {
                mark[i] = 2;
                changed = 1;
            }
        }
    }
}

static void fill_locks(const lk_snapshot *snap, const lk_target *t, lk_holders *h)
{
    lk_lock_info info[4];
    size_t n = lk_sys_profile_locks(t->real, info, 4), i;
    char *host = lk_sys_hostname();
    if (n == 0) {
        free(host);
        return;
    }
    h->locks = calloc(n, sizeof *h->locks);
    for (i = 0; i < n; i++) {
        if (h->locks) {
            lk_lock *l = &h->locks[h->nlocks++];
            l->file = lk_strdup(info[i].file);
            l->owner_pid = info[i].owner_pid;
            if (info[i].host) {
                /* SingletonLock: live only if its pid is a Chromium of this profile here. */
                const lk_proc *p = lk_snapshot_find(snap, info[i].owner_pid);
                int same_host = host && strcmp(host, info[i].host) == 0;
                l->stale =
                    same_host && (!p || !lk__profile_matches(snap, (size_t)(p - snap->procs), t));
            } else {
                l->stale = !info[i].held; /* Windows lockfile: openable means nobody has it */
            }
        }
        lk_lock_info_clear(&info[i]);
    }
    free(host);
}

int lk_doctor_profile_procs(const lk_snapshot *snap, const char *folder, long **pids, size_t *n,
                            long *browser, lk_error *err)
{
    lk_target t;
    char *mark;
    size_t i;
    int rc;
    *pids = NULL;
    *n = 0;
    *browser = 0;
    if ((rc = lk__target_init(&t, folder, snap->case_insensitive_paths, err)) != LK_OK)
        return rc;
    mark = calloc(snap->nprocs + 1, 1);
    *pids = calloc(snap->nprocs + 1, sizeof **pids);
    if (!mark || !*pids) {
        free(mark);
        free(*pids);
        *pids = NULL;
        lk__target_free(&t);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    mark_chromium(snap, &t, mark);
    for (i = 0; i < snap->nprocs; i++) {
        if (!mark[i])
            continue;
        (*pids)[(*n)++] = snap->procs[i].pid;
        if (mark[i] == 1 && !is_chromium_child_flagged(&snap->procs[i]))
            *browser = snap->procs[i].pid;
    }
    free(mark);
    lk__target_free(&t);
    return LK_OK;
}

int lk__target_init(lk_target *t, const char *folder, int win, lk_error *err)
{
    int rc;
    memset(t, 0, sizeof *t);
    if ((rc = lk_sys_abspath(folder, &t->abs, err)) != LK_OK)
        return rc;
    if (lk_sys_realpath(t->abs, &t->real, NULL) != LK_OK)
        t->real = lk_strdup(t->abs); /* gone already: compare what it was called */
    if (!t->real)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    (void)win;
    return LK_OK;
}

void lk__target_free(lk_target *t)
{
    free(t->abs);
    free(t->real);
}

static int cmp_holder_pid(const void *a, const void *b)
{
    long x = ((const lk_holder *)a)->proc.pid, y = ((const lk_holder *)b)->proc.pid;
    return (x > y) - (x < y);
}

static int cmp_blind_pid(const void *a, const void *b)
{
    long x = ((const lk_blind *)a)->pid, y = ((const lk_blind *)b)->pid;
    return (x > y) - (x < y);
}

int lk_doctor_holders(const lk_snapshot *snap, const char *folder, lk_holders **out, lk_error *err)
{
    int win = snap->case_insensitive_paths;
    lk_target t;
    lk_holders *h;
    char *mark = NULL;
    size_t *slot_of = NULL;
    size_t cap = 0, i;
    lk_rm_hit *hits = NULL;
    size_t nhits = 0;
    int rc;

    *out = NULL;
    if ((rc = lk__target_init(&t, folder, win, err)) != LK_OK)
        return rc;
    h = calloc(1, sizeof *h);
    mark = calloc(snap->nprocs + 1, 1);
    slot_of = malloc(sizeof *slot_of * (snap->nprocs + 1));
    if (!h || !mark || !slot_of) {
        free(h);
        free(mark);
        free(slot_of);
        lk__target_free(&t);
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    }
    memset(slot_of, 0xff, sizeof *slot_of * (snap->nprocs + 1));
    h->path = lk_strdup(t.abs);
    h->real = lk_strdup(t.real);
    mark_chromium(snap, &t, mark);

    for (i = 0; i < snap->nopens; i++) {
        const lk_open *o = &snap->opens[i];
        if (lk_path_within(t.real, o->path, win) || lk_path_within(t.abs, o->path, win)) {
            lk_holder *hd = holder_for(h, &cap, snap, o->proc, mark, slot_of);
            if (hd)
                add_held(hd, o->path, o->how);
        }
    }
    for (i = 0; i < snap->nprocs; i++)
        if (mark[i])
            holder_for(h, &cap, snap, i, mark, slot_of);

    /* Restart Manager knows about files that handle enumeration may miss. */
    if (lk_sys_rm_holders(t.real, &hits, &nhits, NULL) == LK_OK) {
        for (i = 0; i < nhits; i++) {
            const lk_proc *p = lk_snapshot_find(snap, hits[i].pid);
            lk_holder *hd;
            if (!p)
                continue;
            hd = holder_for(h, &cap, snap, (size_t)(p - snap->procs), mark, slot_of);
            if (!hd)
                continue;
            add_held(hd, t.real, LK_HOW_RM);
            if (hits[i].critical && hd->killable) {
                hd->proc.flags |= LK_PROC_CRITICAL;
                hd->kind = LK_KIND_SYSTEM;
                hd->killable = 0;
                hd->why_not = lk_strdup("Restart Manager marks it critical");
            }
        }
        lk_rm_hits_free(hits, nhits);
    }

    if (snap->nblind) {
        h->blind = calloc(snap->nblind, sizeof *h->blind);
        for (i = 0; h->blind && i < snap->nblind; i++) {
            h->blind[i].pid = snap->blind[i].pid;
            h->blind[i].name = lk_strdup(snap->blind[i].name);
            h->blind[i].reason = lk_strdup(snap->blind[i].reason);
        }
        if (h->blind)
            h->nblind = snap->nblind;
    }
    fill_locks(snap, &t, h);
    /* Reports list processes by pid, whatever order the scan found them in. */
    if (h->nholders)
        qsort(h->holders, h->nholders, sizeof *h->holders, cmp_holder_pid);
    if (h->nblind)
        qsort(h->blind, h->nblind, sizeof *h->blind, cmp_blind_pid);
    free(mark);
    free(slot_of);
    lk__target_free(&t);
    *out = h;
    return LK_OK;
}

void lk_holders_free(lk_holders *h)
{
    size_t i, j;
    if (!h)
        return;
    for (i = 0; i < h->nholders; i++) {
        lk_proc_clear(&h->holders[i].proc);
        free(h->holders[i].why_not);
        for (j = 0; j < h->holders[i].nheld; j++)
            free(h->holders[i].held[j].path);
        free(h->holders[i].held);
    }
    for (i = 0; i < h->nblind; i++) {
        free(h->blind[i].name);
        free(h->blind[i].reason);
    }
    for (i = 0; i < h->nlocks; i++)
        free(h->locks[i].file);
    free(h->holders);
    free(h->blind);
    free(h->locks);
    free(h->path);
    free(h->real);
    free(h);
}
