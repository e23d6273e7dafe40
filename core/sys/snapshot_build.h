/* Private: growing a snapshot while an OS walker fills it. */
#ifndef LK_SYS_SNAPSHOT_BUILD_H
#define LK_SYS_SNAPSHOT_BUILD_H

#include "latchkey/sys.h"

typedef struct lk_snap_builder {
    lk_snapshot *snap;
    size_t cap_procs, cap_opens, cap_blind;
} lk_snap_builder;

int lk__snap_begin(lk_snap_builder *b, lk_error *err);
/* A new zeroed process slot, or NULL when out of memory. */
lk_proc *lk__snap_proc(lk_snap_builder *b);
/* Takes ownership of path (freed on failure too). */
int lk__snap_open(lk_snap_builder *b, size_t proc, lk_how how, char *path);
/* The same, with the object's identity (device, file id). */
int lk__snap_open_id(lk_snap_builder *b, size_t proc, lk_how how, char *path, uint64_t dev,
                     uint64_t ino);
int lk__snap_blind(lk_snap_builder *b, long pid, const char *name, const char *reason);
void lk_proc_clear(lk_proc *p);
/* Moves everything from src into dst (process indices shifted) and frees src. */
int lk__snap_merge(lk_snap_builder *dst, lk_snap_builder *src);

#endif
