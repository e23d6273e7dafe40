/* Private to the core/sys/..._win32.c files: UTF-8 <-> UTF-16, Windows error mapping,
 * kernel-path mapping, the process-table query and the NT definitions that
 * mingw-w64's headers do not carry. Names use the internal `lk__` prefix. */
#ifndef LK_SYS_WIN32_UTIL_H
#define LK_SYS_WIN32_UTIL_H

#include <windows.h>
#include <winternl.h>

#include <stddef.h>
#include <stdint.h>

#include "latchkey/error.h"
#include "latchkey/sys.h"

/* ---- strings ------------------------------------------------------------- */

/* New UTF-16 copy of a UTF-8 string; NULL on bad input or no memory. */
wchar_t *lk__w_from_utf8(const char *s);
/* New UTF-8 copy of a NUL-terminated (n == (size_t)-1) or counted UTF-16 string. */
char *lk__utf8_from_w(const wchar_t *w, size_t n);
wchar_t *lk__wcs_dup(const wchar_t *w, size_t n);

/* A UTF-8 path made ready for the wide file APIs: absolute paths longer than
 * MAX_PATH get the "\\?\" (or "\\?\UNC\") prefix so long session trees work.
 * NULL on bad input. Caller frees. */
wchar_t *lk__w_path(const char *utf8);
/* The same for a path that is already wide and absolute. */
wchar_t *lk__w_long(const wchar_t *abs);

/* Strips "\\?\", "\??\" and turns "\\?\UNC\x" into "\\x"; returns a new string. */
wchar_t *lk__w_strip_prefix(const wchar_t *p);

/* ---- errors -------------------------------------------------------------- */

lk_code lk__win_code(DWORD e);
/* lk_error_set with the system message of `e` appended: "what: message (e)". */
int lk__win_error(lk_error *err, DWORD e, const char *what);
/* "Access is denied. (5)" into buf, no trailing newline. */
void lk__win_msg(DWORD e, char *buf, size_t n);

/* ---- time and identity --------------------------------------------------- */

uint64_t lk__ft_u64(FILETIME ft);
int64_t lk__ft_unix_ms(uint64_t ft);
/* Creation time of a process by pid read from the system process table, for
 * processes we may not open. 1 and *ct filled when the pid exists. */
int lk__spi_create_time(DWORD pid, uint64_t *ct);

/* The token of the calling process is elevated (UAC "Run as administrator"). */
int lk__self_elevated(void);
/* Enables SeDebugPrivilege when the token has it; 1 on success. */
int lk__enable_debug_privilege(void);

/* ---- kernel names -> DOS paths ------------------------------------------- */

/* "\Device\HarddiskVolume3" -> "C:" for every drive letter, built once per scan. */
typedef struct lk__devmap {
    wchar_t dev[26][MAX_PATH];
    size_t devlen[26];
} lk__devmap;
void lk__devmap_init(lk__devmap *m);
/* Maps an NT name ("\Device\HarddiskVolume3\x", "\Device\Mup\srv\share\x",
 * "\??\C:\x") or a Win32 name ("\\?\C:\x", "\\?\UNC\srv\share") to a DOS path
 * ("C:\x", "\\srv\share\x") in UTF-8. Names without a DOS form are kept as
 * they are. Caller frees. */
char *lk__dos_path(const lk__devmap *m, const wchar_t *name);

/* The canonical name of an open file or folder, as GetFinalPathNameByHandleW
 * gives it: DOS form when the volume has a letter, else the volume GUID form,
 * else the NT form. Malloc'd UTF-16, NULL on failure (GetLastError set).
 * May block on handles with pending synchronous I/O: see holders_win32.c. */
wchar_t *lk__final_path_w(HANDLE h, int *is_nt);

/* ---- directory walking --------------------------------------------------- */

/* Reparse points that stand for another name (symlinks, junctions, mount
 * points) are links: never followed. So is a reparse point without a tag
 * (wine shows Unix directory symlinks that way). Other reparse points (cloud
 * placeholders like OneDrive's, dedup, WOF) are the data itself: a folder of
 * them is a real folder. */
int lk__is_link(DWORD attrs, DWORD reparse_tag);

typedef enum lk__walk_event {
    LK__WALK_FILE,     /* a file, or a link of any kind (never followed) */
    LK__WALK_DIR_POST, /* a real folder, after everything in it */
    LK__WALK_DIR_FAIL  /* a real folder that could not be listed (err set) */
} lk__walk_event;

typedef struct lk__walk_entry {
    const wchar_t *path; /* "\\?\" long form */
    DWORD attrs;
    DWORD tag; /* reparse tag, 0 when none */
    DWORD err; /* for LK__WALK_DIR_FAIL */
} lk__walk_entry;

/* Returns 0 to go on, non-zero to stop the walk (returned by lk__walk). */
typedef int (*lk__walk_fn)(void *ctx, lk__walk_event ev, const lk__walk_entry *e);

/* Iterative depth-first walk (explicit stack, no recursion) of `root`, a
 * "\\?\" long path to a real folder: children before their folder, links
 * reported as entries and never entered. Returns 0, the callback's stop
 * value, or -1 when out of memory. */
int lk__walk(const wchar_t *root, lk__walk_fn fn, void *ctx);

/* ---- NT definitions missing from mingw-w64 ------------------------------- */

#define LK__SystemProcessInformation 5
#define LK__SystemExtendedHandleInformation 64
#define LK__ProcessCommandLineInformation 60
#define LK__ProcessBreakOnTermination 29

#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#endif
#ifndef STATUS_BUFFER_OVERFLOW
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#endif
#ifndef STATUS_DELETE_PENDING
#define STATUS_DELETE_PENDING ((NTSTATUS)0xC0000056L)
#endif

/* The head of SYSTEM_PROCESS_INFORMATION as the kernel lays it out (the SDK
 * hides CreateTime behind reserved fields). Threads follow; we skip them. */
typedef struct lk__spi {
    ULONG NextEntryOffset;
    ULONG NumberOfThreads;
    LARGE_INTEGER WorkingSetPrivateSize;
    ULONG HardFaultCount;
    ULONG NumberOfThreadsHighWatermark;
    ULONGLONG CycleTime;
    LARGE_INTEGER CreateTime;
    LARGE_INTEGER UserTime;
    LARGE_INTEGER KernelTime;
    UNICODE_STRING ImageName;
    LONG BasePriority;
    HANDLE UniqueProcessId;
    HANDLE InheritedFromUniqueProcessId;
    ULONG HandleCount;
    ULONG SessionId;
} lk__spi;

/* SystemExtendedHandleInformation: full-width pids and handle values, unlike
 * the old class 16 whose 16-bit fields wrap on busy systems. */
typedef struct lk__handle_entry {
    PVOID Object;
    ULONG_PTR UniqueProcessId;
    ULONG_PTR HandleValue;
    ULONG GrantedAccess;
    USHORT CreatorBackTraceIndex;
    USHORT ObjectTypeIndex;
    ULONG HandleAttributes;
    ULONG Reserved;
} lk__handle_entry;

typedef struct lk__handle_table {
    ULONG_PTR NumberOfHandles;
    ULONG_PTR Reserved;
    lk__handle_entry Handles[1];
} lk__handle_table;

/* NtQuerySystemInformation into a growing malloc'd buffer (cap 1 GiB). */
NTSTATUS lk__query_system(ULONG cls, void **buf, ULONG initial);

/* ---- shared between proc_win32.c and holders_win32.c --------------------- */

/* What filling processes needs once per snapshot: our own user, a cache of
 * account names (one LSA look-up per distinct user) and the pids that own a
 * visible top-level window (sorted). Defined in proc_win32.c. */
typedef struct lk__proc_ctx lk__proc_ctx;
lk__proc_ctx *lk__proc_ctx_new(void);
void lk__proc_ctx_free(lk__proc_ctx *c);
/* Fills p for pid; name, ppid and create time come from the process table
 * (create_time 0: read it from the process). Fields it cannot learn stay NULL
 * or 0. Returns LK_ENOMEM or LK_OK. */
int lk__proc_fill(lk__proc_ctx *c, lk_proc *p, DWORD pid, DWORD ppid, const wchar_t *image,
                  size_t image_len, uint64_t create_time);

/* Handle enumeration and modules (holders_win32.c) over a snapshot whose
 * processes are filled. Processes it meets that were not in the snapshot are
 * added to it. */
struct lk_snap_builder;
int lk__scan_holders(struct lk_snap_builder *b, lk_error *err);

#endif
