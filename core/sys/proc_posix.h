/* Private to the POSIX OS layer: what kill_posix.c asks of proc_<os>.c. */
#ifndef LK_SYS_PROC_POSIX_H
#define LK_SYS_PROC_POSIX_H

/* The parent of pid, -1 when it cannot be read (gone). *kernel is set for
 * the kernel's own processes and threads. */
long lk__proc_parent(long pid, int *kernel);

#endif
