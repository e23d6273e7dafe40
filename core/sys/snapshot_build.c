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
    return lk__snap_open_id(b, proc, how, path, 0, 0);
}

int lk__snap_open_id(lk_snap_builder *b, size_t proc, lk_how how, char *path, uint64_t dev,
                     uint64_t ino)
{
    lk_open *o = lk_push(&b->snap->opens, &b->snap->nopens, &b->cap_opens, sizeof(lk_open));
    if (!o) {
        free(path);
        return LK_ENOMEM;
    }
    o->proc = proc;
    o->how = how;
    o->path = path;
    o->dev = dev;
    o->ino = ino;
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

static int reserve(void *arr_ptr, size_t *cap, size_t need, size_t size)
{
    void **arr = (void **)arr_ptr;
    void *grown;
    if (need <= *cap)
        return LK_OK;
    grown = realloc(*arr, need * size);
    if (!grown)
        return LK_ENOMEM;
    *arr = grown;
    *cap = need;
    return LK_OK;
}

int lk__snap_merge(lk_snap_builder *dst, lk_snap_builder *src)
{
    lk_snapshot *d = dst->snap, *s = src->snap;
    size_t base = d->nprocs, i;
    if (reserve(&d->procs, &dst->cap_procs, d->nprocs + s->nprocs, sizeof *d->procs) ||
        reserve(&d->opens, &dst->cap_opens, d->nopens + s->nopens, sizeof *d->opens) ||
        reserve(&d->blind, &dst->cap_blind, d->nblind + s->nblind, sizeof *d->blind)) {
        lk_snapshot_free(s);
        src->snap = NULL;
        return LK_ENOMEM;
    }
    if (s->nprocs) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(d->procs + d->nprocs, s->procs, s->nprocs * sizeof *s->procs);
    d->nprocs += s->nprocs;
    for (i = 0; i < s->nopens; i++) {
        d->opens[d->nopens] = s->opens[i];
        d->opens[d->nopens++].proc += base;
    }
    if (s->nblind)
        memcpy(d->blind + d->nblind, s->blind, s->nblind * sizeof *s->blind);
    d->nblind += s->nblind;
    /* The pieces now belong to dst: free only the arrays. */
    free(s->procs);
    free(s->opens);
    free(s->blind);
    free(s);
    src->snap = NULL;
    return LK_OK;
}
