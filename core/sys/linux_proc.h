/* Private to the Linux OS layer. */
#ifndef LK_SYS_LINUX_PROC_H
#define LK_SYS_LINUX_PROC_H

#include "sys/snapshot_build.h"

/* Reads /proc/<pid>/stat through dirfd: ppid, state and start time (clock
 * ticks since boot). Returns 0 on success. */
int lk__linux_stat(int dirfd, long *ppid, char *state, unsigned long long *start_ticks, char *comm,
                   size_t comm_size);

/* Adds everything process `idx` (whose /proc dir is dirfd) holds. */
void lk__linux_read_holds(lk_snap_builder *b, size_t idx, int dirfd);

#endif
