/* Portable lifetime helpers for the structures the OS layer fills. */
#include "latchkey/sys.h"

#include <stdlib.h>
#include <string.h>

const char *lk_how_name(lk_how how)
{
    switch (how) {
    case LK_HOW_FILE: return "file";
    case LK_HOW_CWD: return "cwd";
    case LK_HOW_ROOT: return "root";
    case LK_HOW_EXE: return "exe";
    case LK_HOW_MAP: return "mapping";
    case LK_HOW_MODULE: return "module";
    case LK_HOW_RM: return "restart-manager";
    }
    return "unknown";
}

#include "sys/snapshot_build.h"
void lk_proc_clear(lk_proc *p)
{
    int i;
    free(p->name);
    free(p->exe);
    free(p->cmdline);
    for (i = 0; i < p->argc; i++)
        free(p->argv[i]);
    free(p->argv);
    free(p->user);
}

void lk_snapshot_free(lk_snapshot *snap)
{
    size_t i;
    int had_opens;
    if (!snap)
        return;
    had_opens = snap->nopens > 0;
    for (i = 0; i < snap->nprocs; i++)
        lk_proc_clear(&snap->procs[i]);
    for (i = 0; i < snap->nopens; i++)
        free(snap->opens[i].path);
    for (i = 0; i < snap->nblind; i++) {
        free(snap->blind[i].name);
        free(snap->blind[i].reason);
    }
    free(snap->procs);
    free(snap->opens);
    free(snap->blind);
    free(snap);
    /* A holder scan (it lists what processes hold) is the one big transient
     * allocation there is: let its memory go, not only back to the heap. */
    if (had_opens)
        lk_sys_heap_trim();
}

const lk_proc *lk_snapshot_find(const lk_snapshot *snap, long pid)
{
    size_t i;
    for (i = 0; snap && i < snap->nprocs; i++)
        if (snap->procs[i].pid == pid)
            return &snap->procs[i];
    return NULL;
}

void lk_remove_pass_free(lk_remove_pass *pass)
{
    size_t i;
    if (!pass)
        return;
    for (i = 0; i < pass->nleft; i++) {
        free(pass->left[i]);
        if (pass->why)
            free(pass->why[i]);
    }
    free(pass->left);
    free(pass->why);
    memset(pass, 0, sizeof *pass);
}

void lk_rm_hits_free(lk_rm_hit *hits, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(hits[i].app_name);
    free(hits);
}

void lk_lock_info_clear(lk_lock_info *lock)
{
    free(lock->file);
    free(lock->host);
    lock->file = NULL;
    lock->host = NULL;
}
