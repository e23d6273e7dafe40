#include "sys/snapshot_build.h"

#include <stdlib.h>

#include "util/strv.h"

int lk__snap_begin(lk_snap_builder *b, lk_error *err)
{
    memset(b, 0, sizeof *b);
    b->snap = calloc(1, sizeof *b->snap);
    if (!b->snap)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    b->snap->self_pid = lk_sys_self_pid();
    return LK_OK;
}

lk_proc *lk__snap_proc(lk_snap_builder *b)
{
    return lk_push(&b->snap->procs, &b->snap->nprocs, &b->cap_procs, sizeof(lk_proc));
}

int lk__snap_open(lk_snap_builder *b, size_t proc, lk_how how, char *path)
{
    lk_open *o = lk_push(&b->snap->opens, &b->snap->nopens, &b->cap_opens, sizeof(lk_open));
    if (!o) {
        free(path);
        return LK_ENOMEM;
    }
    o->proc = proc;
    o->how = how;
    o->path = path;
    return LK_OK;
}

int lk__snap_blind(lk_snap_builder *b, long pid, const char *name, const char *reason)
{
    lk_blind *bl = lk_push(&b->snap->blind, &b->snap->nblind, &b->cap_blind, sizeof(lk_blind));
    if (!bl)
        return LK_ENOMEM;
    bl->pid = pid;
    bl->name = lk_strdup(name ? name : "?");
    bl->reason = lk_strdup(reason);
    return LK_OK;
}
