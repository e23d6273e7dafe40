/* Private to the macOS OS layer. */
#ifndef LK_SYS_DARWIN_PROC_H
#define LK_SYS_DARWIN_PROC_H

#include "sys/snapshot_build.h"

/* Adds everything process `idx` holds: open files, file ports, current and
 * root directory, executable and file-backed mappings. What cannot be read
 * (another user's process, a process that exits meanwhile) becomes a blind
 * entry with the reason. */
void lk__darwin_read_holds(lk_snap_builder *b, size_t idx);

#endif
