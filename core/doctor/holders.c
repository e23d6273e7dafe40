/* Which processes hold a folder: one snapshot, matched against one folder.
 *
 * A holder is a process that holds something inside the folder (by path in
 * our own mount namespace; by identity, device and file id, in another one,
 * where the same path names something else), a Chromium process of that
 * profile, or a program such a browser started (listed, spared). sessions,
 * status and holders all ask this one function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

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
    char *prof;
    char *abs = NULL;
    int match = 0;
    /* In another mount namespace the flag's path names another folder. */
    if (snap->procs[idx].flags & LK_PROC_OTHER_NS)
        return 0;
    prof = lk_doctor_proc_profile(&snap->procs[idx]);
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

/* Marks the profile's Chromium processes, the Chromium processes they
 * started, and anything else they started (see LK__MARK_*). */
static void mark_chromium(const lk_snapshot *snap, const lk_target *t, char *mark)
{
    size_t i;
    int changed = 1, rounds = 0;
    for (i = 0; i < snap->nprocs; i++)
        if (!(snap->procs[i].flags & LK_PROC_ZOMBIE) && lk__is_chromium(&snap->procs[i]) &&
            lk__profile_matches(snap, i, t))
            mark[i] = LK__MARK_PROFILE;
    while (changed && rounds++ < 64) {
        changed = 0;
        for (i = 0; i < snap->nprocs; i++) {
            const lk_proc *p = &snap->procs[i], *parent;
            size_t pi;
            if (mark[i] || (p->flags & LK_PROC_ZOMBIE))
                continue;
            parent = lk_snapshot_find(snap, p->ppid);
            if (!parent || parent->pid == p->pid || parent->start_ms > p->start_ms)
                continue;
            pi = (size_t)(parent - snap->procs);
            if (!mark[pi])
                continue;
            /* Chromium's own helpers say what they are (--type=) or run
             * the browser's own executable; an editor or viewer the
             * browser opened is neither. */
            if (mark[pi] != LK__MARK_DESCENDANT &&
                (lk__has_type_flag(p) ||
                 (p->exe && parent->exe && lk_path_equal(p->exe, parent->exe,
                                                         snap->case_insensitive_paths))))
                mark[i] = LK__MARK_CHILD;
            else
                mark[i] = LK__MARK_DESCENDANT;
            changed = 1;
        }
    }
}

static lk_holder *holder_for(lk_holders *h, size_t *cap, const lk_snapshot *snap, size_t idx,
                             const char *mark, size_t *slot_of)
{
    lk_holder *hd;
    if (slot_of[idx] != (size_t)-1)
        return &h->holders[slot_of[idx]];
    hd = lk_push(&h->holders, &h->nholders, cap, sizeof *hd);
    if (!hd)
        return NULL;
    slot_of[idx] = h->nholders - 1;
    lk__copy_proc(&hd->proc, &snap->procs[idx]);
    hd->kind = lk__classify(snap, idx, mark);
    if (hd->kind == LK_KIND_CHROMIUM_BROWSER)
        lk__find_launcher(snap, hd);
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
    if ((rc = lk__target_init(&t, folder, err)) != LK_OK)
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
        if (mark[i] != LK__MARK_PROFILE && mark[i] != LK__MARK_CHILD)
            continue;
        (*pids)[(*n)++] = snap->procs[i].pid;
        if (mark[i] == LK__MARK_PROFILE && !lk__has_type_flag(&snap->procs[i]))
            *browser = snap->procs[i].pid;
    }
    free(mark);
    lk__target_free(&t);
    return LK_OK;
}

int lk__target_init(lk_target *t, const char *folder, lk_error *err)
{
    int rc;
    memset(t, 0, sizeof *t);
    if ((rc = lk_sys_abspath(folder, &t->abs, err)) != LK_OK)
        return rc;
    if (lk_sys_realpath(t->abs, &t->real, NULL) != LK_OK)
        t->real = lk_strdup(t->abs); /* gone already: compare what it was called */
    if (!t->real)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    return LK_OK;
}

void lk__target_free(lk_target *t)
{
    free(t->abs);
    free(t->real);
    free(t->ids);
    memset(t, 0, sizeof *t);
}

static int cmp_id(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0])
        return (x[0] > y[0]) - (x[0] < y[0]);
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Is the object (dev, ino) the folder or inside it? For processes in
 * another mount namespace, whose paths cannot be compared with ours. */
static int target_has(lk_target *t, uint64_t dev, uint64_t ino)
{
    uint64_t key[2] = {dev, ino};
    if (!t->ids_tried) {
        lk_tree *tree = NULL;
        t->ids_tried = 1;
        if (lk_sys_tree_open(t->real, &tree, NULL) == LK_OK &&
            lk_sys_tree_ids(tree, &t->ids, &t->nids, NULL) == LK_OK && t->nids > 1)
            qsort(t->ids, t->nids, 2 * sizeof *t->ids, cmp_id);
        lk_sys_tree_close(tree);
    }
    return t->ids && bsearch(key, t->ids, t->nids, 2 * sizeof *t->ids, cmp_id) != NULL;
}

static int holds_inside(lk_target *t, const lk_snapshot *snap, const lk_open *o)
{
    int win = snap->case_insensitive_paths;
    if (snap->procs[o->proc].flags & LK_PROC_OTHER_NS)
        return (o->dev || o->ino) && target_has(t, o->dev, o->ino);
    return lk_path_within(t->real, o->path, win) || lk_path_within(t->abs, o->path, win);
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

static void add_rm_hits(lk_holders *h, size_t *cap, const lk_snapshot *snap, const lk_target *t,
                        const char *mark, size_t *slot_of)
{
    lk_rm_hit *hits = NULL;
    size_t nhits = 0, i;
    /* Restart Manager knows about files that handle enumeration may miss. */
    if (lk_sys_rm_holders(t->real, &hits, &nhits, NULL) != LK_OK)
        return;
    for (i = 0; i < nhits; i++) {
        const lk_proc *p = lk_snapshot_find(snap, hits[i].pid);
        lk_holder *hd;
        if (!p)
            continue;
        hd = holder_for(h, cap, snap, (size_t)(p - snap->procs), mark, slot_of);
        if (!hd)
            continue;
        add_held(hd, t->real, LK_HOW_RM);
        if (hits[i].critical) {
            hd->proc.flags |= LK_PROC_CRITICAL;
            hd->kind = LK_KIND_SYSTEM;
        }
    }
    lk_rm_hits_free(hits, nhits);
}

int lk_doctor_holders(const lk_snapshot *snap, const char *folder, lk_holders **out, lk_error *err)
{
    lk_target t;
    lk_holders *h;
    char *mark = NULL;
    size_t *slot_of = NULL;
    size_t cap = 0, i;
    int rc;

    *out = NULL;
    if ((rc = lk__target_init(&t, folder, err)) != LK_OK)
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
        /* Our own handles on the folder are the doctor's, not a holder. */
        if (snap->procs[o->proc].pid == snap->self_pid)
            continue;
        if (holds_inside(&t, snap, o)) {
            lk_holder *hd = holder_for(h, &cap, snap, o->proc, mark, slot_of);
            if (hd)
                add_held(hd, o->path, o->how);
        }
    }
    for (i = 0; i < snap->nprocs; i++)
        if (mark[i])
            holder_for(h, &cap, snap, i, mark, slot_of);
    add_rm_hits(h, &cap, snap, &t, mark, slot_of);

    /* A program the browser started is its own business unless it holds
     * something here: then it is an ordinary holder. */
    for (i = 0; i < h->nholders; i++) {
        lk_holder *hd = &h->holders[i];
        const lk_proc *p;
        if (hd->kind != LK_KIND_DESCENDANT || hd->nheld == 0)
            continue;
        p = lk_snapshot_find(snap, hd->proc.pid);
        if (p) {
            size_t pi = (size_t)(p - snap->procs);
            mark[pi] = LK__MARK_NONE;
            hd->kind = lk__classify(snap, pi, mark);
        }
    }
    for (i = 0; i < h->nholders; i++) {
        h->holders[i].why_not = lk__why_spare(snap, &h->holders[i]);
        h->holders[i].killable = h->holders[i].why_not == NULL;
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

const lk_holder *lk_holders_browser(const lk_holders *h)
{
    size_t i;
    for (i = 0; h && i < h->nholders; i++)
        if (h->holders[i].kind == LK_KIND_CHROMIUM_BROWSER)
            return &h->holders[i];
    return NULL;
}

void lk_holders_free(lk_holders *h)
{
    size_t i, j;
    if (!h)
        return;
    for (i = 0; i < h->nholders; i++) {
        lk_proc_clear(&h->holders[i].proc);
        free(h->holders[i].why_not);
        free(h->holders[i].launcher.name);
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
