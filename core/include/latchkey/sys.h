/* latchkey/sys.h - the OS layer: one interface, filled per OS in core/sys/.
 *
 * Everything OS-specific lives behind this header. The rest of core never
 * includes an OS header beyond the C library and never tests _WIN32.
 */
#ifndef LATCHKEY_SYS_H
#define LATCHKEY_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "latchkey/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- processes ---------------------------------------------------------- */

enum {
    LK_PROC_CRITICAL = 1u << 0,   /* a process the OS cannot live without */
    LK_PROC_OTHER_USER = 1u << 1, /* owned by another user than us */
    LK_PROC_CONSOLE = 1u << 2,    /* a console process (Windows: no windows, a console) */
    LK_PROC_ZOMBIE = 1u << 3,     /* exited, not yet reaped: holds nothing */
    LK_PROC_OTHER_NS = 1u << 4    /* in another mount namespace (a container, Flatpak,
                                     Snap, unshare): its paths name other things */
};

typedef struct lk_proc {
    long pid;
    long ppid;
    char *name;    /* short name: comm on Linux, image name on Windows */
    char *exe;     /* full executable path, NULL when unknown */
    char *cmdline; /* the command line for display, NULL when unknown */
    char **argv;   /* split command line (Windows rules on Windows), NULL when unknown */
    int argc;
    char *user;        /* account name, NULL when unknown */
    uint64_t start_id; /* opaque start stamp: pid + start_id names one process for ever */
    int64_t start_ms;  /* start time, milliseconds since the Unix epoch (0 if unknown) */
    unsigned flags;    /* LK_PROC_* */
} lk_proc;

typedef enum lk_how {
    LK_HOW_FILE = 0, /* an open file or directory handle */
    LK_HOW_CWD,      /* its current directory */
    LK_HOW_ROOT,     /* its root directory (chroot) */
    LK_HOW_EXE,      /* its executable image */
    LK_HOW_MAP,      /* a file-backed memory mapping */
    LK_HOW_MODULE,   /* a loaded module (DLL) */
    LK_HOW_RM        /* Restart Manager says it uses a file there */
} lk_how;

const char *lk_how_name(lk_how how);

/* One thing a process holds. */
typedef struct lk_open {
    size_t proc; /* index into lk_snapshot.procs */
    lk_how how;
    char *path; /* absolute, OS-native separators, " (deleted)" stripped */
    /* The object's identity (device, file id), read from the object itself
     * for processes in another mount namespace, whose paths cannot be
     * compared with ours; 0, 0 when not read. */
    uint64_t dev, ino;
} lk_open;

/* A process we could not look inside. Never silently dropped: an empty holder
 * list must mean "nothing holds it", not "we could not look". */
typedef struct lk_blind {
    long pid;
    char *name;
    char *reason;
} lk_blind;

/* One walk over every process of the system and everything they hold.
 * One snapshot serves any number of folders (see doctor.h). */
typedef struct lk_snapshot {
    lk_proc *procs;
    size_t nprocs;
    lk_open *opens;
    size_t nopens;
    lk_blind *blind;
    size_t nblind;
    long self_pid;
    int elevated; /* root / elevated token with SeDebugPrivilege */
    int case_insensitive_paths;
    /* 1 when a process's current folder keeps a folder from being deleted
     * (Windows); on POSIX a current folder blocks nothing. */
    int cwd_blocks_delete;
    /* 1 when a process keeps its parent's pid after the parent exits
     * (Windows); on POSIX an orphan is reparented and the pid is lost. */
    int ppid_survives;
} lk_snapshot;

enum {
    LK_SNAP_PROCS = 0,        /* processes only */
    LK_SNAP_HANDLES = 1u << 0 /* and everything they hold (the expensive part) */
};

int lk_sys_snapshot(lk_snapshot **out, unsigned what, lk_error *err);
void lk_snapshot_free(lk_snapshot *snap);
const lk_proc *lk_snapshot_find(const lk_snapshot *snap, long pid);

/* Restart Manager (Windows): the processes using any file under `folder`.
 * Fills pids (and critical flags); on other systems returns LK_ENOTSUP. */
typedef struct lk_rm_hit {
    long pid;
    uint64_t start_id;
    int critical; /* RmCritical or a reboot reason */
    char *app_name;
} lk_rm_hit;
int lk_sys_rm_holders(const char *folder, lk_rm_hit **hits, size_t *nhits, lk_error *err);
void lk_rm_hits_free(lk_rm_hit *hits, size_t n);

/* 1 when pid still names the process that started at start_id, else 0. */
int lk_sys_proc_same(long pid, uint64_t start_id);

/* Ask (force == 0: SIGTERM, or WM_CLOSE / Ctrl-Break on Windows) or make
 * (force == 1: SIGKILL / TerminateProcess) the process end. The identity is
 * re-checked right before the signal; LK_ENOENT when it is gone or reused.
 * The last line of the guard rails, whatever the caller decided: LK_EREFUSED
 * for this process, any of its ancestors, PID 0, 1 and 4, and processes the
 * system cannot live without (kernel threads, Windows' critical processes).
 * Callers plan with lk_doctor's guard rails first (doctor.h). */
int lk_sys_proc_end(long pid, uint64_t start_id, int force, lk_error *err);

/* Wait until every listed process has exited or the monotonic clock reaches
 * deadline_ms. Waits on the processes themselves (pidfd / process handles),
 * not on fixed sleeps. alive[i] is set to 1 for those still running.
 * Returns the number still running. */
size_t lk_sys_proc_wait(const long *pids, const uint64_t *start_ids, size_t n, int64_t deadline_ms,
                        int *alive);

long lk_sys_self_pid(void);
/* The memory a process costs, in bytes, -1 when unknown: what the system
 * would get back if it ended. Shared pages count in proportion to their
 * sharers (Linux: Pss), so summing a browser's processes does not count its
 * shared libraries ten times. Windows: private bytes; macOS: the physical
 * footprint that Activity Monitor shows. */
int64_t lk_sys_proc_memory(long pid);

/* Starts a library thread (one that runs no program code) with every
 * signal blocked, so the program's handlers never run on it.
 * Returns 0 or the pthread_create error. */
int lk_sys_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* ---- files -------------------------------------------------------------- */

/* 1 when this system's paths are Windows paths ("C:\\x", "\\\\server\\share"),
 * 0 for POSIX ones. Decided by the OS the code runs on, never by a string. */
int lk_sys_path_win(void);

/* Canonical absolute path of an existing file or folder (symlinks resolved).
 * Caller frees. */
int lk_sys_realpath(const char *path, char **out, lk_error *err);
/* The one normalisation of a path as a person typed it: relative paths are
 * taken from the current folder; "./x", "x/", repeated separators are folded;
 * on POSIX ".." is resolved physically (the kernel's "lnk/.." is the folder
 * holding what lnk points to, not the folder holding lnk) wherever the path
 * exists; on Windows "C:/x", "\\\\?\\C:\\x", UNC and relative forms all come
 * out as "C:\\x" / "\\\\server\\share\\x". Other symlinks are kept as typed (see
 * lk_sys_realpath). Works for paths that do not exist. Caller frees. */
int lk_sys_abspath(const char *path, char **out, lk_error *err);

typedef enum lk_ftype {
    LK_FT_NONE = 0, /* does not exist */
    LK_FT_FILE,
    LK_FT_DIR,
    LK_FT_LINK, /* symlink, junction or other reparse point: never followed */
    LK_FT_OTHER
} lk_ftype;
lk_ftype lk_sys_ftype(const char *path);

/* Result of one removal pass. */
typedef struct lk_remove_pass {
    size_t removed; /* entries removed in this pass */
    char **left;    /* entries that could not be removed (absolute paths) */
    char **why;     /* for each, why, in words ("a mount point: unmount it first") */
    size_t nleft;
    int retryable; /* 1 when every failure was busy/denied/sharing/not-empty */
    int boundary;  /* 1 when something was left because removing it would cross a
                      mount point or another file system: waiting will not help */
    int last_sys;  /* last OS error seen */
} lk_remove_pass;
void lk_remove_pass_free(lk_remove_pass *pass);

/* ---- a folder held open for the doctor -------------------------------------
 *
 * Checks run on what will be deleted, not on a path that may name something
 * else a moment later: the parent is resolved once, physically, and opened
 * without following a link in any component; the target is opened relative
 * to it without following a link; both stay open (Windows: without
 * FILE_SHARE_DELETE, so neither can be renamed or swapped) until closed.
 * Everything after works relative to those handles, never by path. */
typedef struct lk_tree lk_tree;

/* Opens the folder at `path` (made absolute with lk_sys_abspath first).
 *   LK_ENOENT    it does not exist (nothing to do)
 *   LK_EREFUSED  it is a link, a junction or another reparse point; a mount
 *                point or the root of a volume; or a component of its parent
 *                changed into a link while it was being opened
 *   LK_EINVAL    it is not a folder */
int lk_sys_tree_open(const char *path, lk_tree **out, lk_error *err);
/* Its canonical absolute path, read back from the held handle: the guard
 * rails and the holder scan look at this. Valid until lk_sys_tree_close. */
const char *lk_sys_tree_path(const lk_tree *t);
/* LK_OK when the name in the held parent still leads to the held folder
 * (same device, file id and mount); LK_EREFUSED with what changed when it
 * was renamed, replaced or swapped for a link meanwhile; LK_ENOENT when it is
 * gone. Run after the holders have been ended, before anything is deleted. */
int lk_sys_tree_check(lk_tree *t, lk_error *err);
/* One pass removing everything inside the held folder, depth first, each
 * entry relative to its held parent, then the folder itself (after
 * lk_sys_tree_check). Never follows a link (removes the link itself), never
 * enters a mount point, another file system or a reparse point that is not
 * a plain folder: those are left and named with the reason (pass->boundary).
 * Clears read-only bits through the entry's own handle. LK_OK when the
 * folder is gone afterwards. */
int lk_sys_tree_remove_once(lk_tree *t, lk_remove_pass *pass, lk_error *err);
/* Moves the held folder into `trash` (a folder name, created if missing,
 * inside the held parent) as `name`, relative to the held handles; the tree
 * then stands for the moved folder, so lk_sys_tree_remove_once goes on
 * there. *moved_to gets its new absolute path (caller frees). */
int lk_sys_tree_move_aside(lk_tree *t, const char *trash, const char *name, char **moved_to,
                           lk_error *err);
/* Removes the folder `trash` inside the held parent only if it is empty. */
void lk_sys_tree_drop_trash(lk_tree *t, const char *trash);
/* The type of the entry `name` directly inside the held folder (not followed). */
lk_ftype lk_sys_tree_entry(lk_tree *t, const char *name);
/* Removes the entry `name` directly inside the held folder: a file, a link or
 * a socket, never a folder. LK_OK when it is gone (or never was). */
int lk_sys_tree_unlink(lk_tree *t, const char *name, lk_error *err);
/* What deleting the folder would lose: files and bytes inside, counted
 * without following links or crossing mount points. */
int lk_sys_tree_usage(lk_tree *t, uint64_t *files, uint64_t *bytes, lk_error *err);
void lk_sys_tree_close(lk_tree *t);

/* Convenience for scratch folders of our own (tests, a browser's temporary
 * profile): lk_sys_tree_open + lk_sys_tree_remove_once. LK_OK when gone. */
int lk_sys_remove_tree_once(const char *path, lk_remove_pass *pass, lk_error *err);

/* The names in a folder, without "." and "..". *names is allocated. */
int lk_sys_list_dir(const char *path, char ***names, size_t *n, lk_error *err);
/* The user's data folder: $XDG_DATA_HOME or ~/.local/share; %LOCALAPPDATA% on Windows. */
char *lk_sys_data_dir(void);
int lk_sys_mkdir(const char *path, lk_error *err); /* LK_OK if it exists already */

/* Guard rails. */
/* "/", "C:\\", "\\\\server\\share\\", and any mount point (a bind mount too). */
int lk_sys_is_fs_root(const char *abspath);
/* 1: the OS's own (/usr, /etc, C:\Windows ... and their parents), always
 * refused; 2: the system's data area (/var, /run), where only a folder named
 * like a bot's session may be touched; 0: neither. */
int lk_sys_is_system_dir(const char *abspath);
/* The running account's home folder, from the account database (getpwuid,
 * the user profile), not from the environment. Caller frees; NULL when unknown. */
char *lk_sys_home_dir(void);
/* The identities (device, file id pairs: ids[2*i], ids[2*i+1]) of the held
 * folder and everything inside it, without following links or crossing
 * mount points: what a process in another mount namespace must hold to hold
 * something here. *ids is allocated. */
int lk_sys_tree_ids(lk_tree *t, uint64_t **ids, size_t *n, lk_error *err);

/* Every account's home folder on this machine (the account database; on
 * Windows the ProfileList), the caller's own included. *homes is allocated
 * (free each, then the array). */
int lk_sys_home_dirs(char ***homes, size_t *n);

/* What the doctor refuses inside every home folder, as paths relative to it
 * (NULL-terminated, static):
 *   within      that folder and everything under it: the browsers' own
 *               default profiles, known apps' data (Signal, VS Code, Slack...)
 *   app_roots   folders whose direct children are each an application's data
 *               (~/.config, %APPDATA%): a child itself is refused
 *   exact       that folder and its parents: the home's own big folders
 *               (Documents, Desktop, .config, AppData...) */
void lk_sys_home_protected(const char *const **within, const char *const **app_roots,
                           const char *const **exact);

/* Chromium's profile lock: the SingletonLock symlink ("host-pid") on POSIX or
 * the `lockfile` opened exclusively on Windows. */
typedef struct lk_lock_info {
    char *file;     /* full path of the lock file */
    long owner_pid; /* 0 when unknown */
    char *host;     /* SingletonLock's host part, NULL otherwise */
    int held;       /* 1 when the OS says the lock is held (Windows lockfile not openable) */
} lk_lock_info;
/* Fills up to `max` locks found in `profile`. */
size_t lk_sys_profile_locks(const char *profile, lk_lock_info *out, size_t max);
void lk_lock_info_clear(lk_lock_info *lock);
char *lk_sys_hostname(void);

/* ---- a process tree we own ---------------------------------------------- */

typedef struct lk_child lk_child;

/* Starts argv[0] (argv NULL-terminated, UTF-8) so that its whole tree is
 * ours: POSIX puts it in a new process group and, on Linux, asks the kernel
 * to SIGKILL it when the spawning thread dies (PR_SET_PDEATHSIG: spawn from a
 * thread that lives as long as the child should); Windows starts it
 * suspended, assigns it to a job object with KILL_ON_JOB_CLOSE, then resumes
 * it, so nothing it starts escapes. Output goes to log_path (appended) or to
 * the null device. */
int lk_sys_spawn(const char *const *argv, const char *log_path, lk_child **out, lk_error *err);
long lk_child_pid(const lk_child *c);
uint64_t lk_child_start_id(const lk_child *c);
/* Waits for the main process to exit (and reaps it); 1 when it has, 0 at the deadline. */
int lk_child_wait(lk_child *c, int64_t deadline_ms);
/* Signals every process of the tree: graceful (SIGTERM to the group) or
 * forced (SIGKILL to the group / TerminateJobObject). */
int lk_child_end_tree(lk_child *c, int force, lk_error *err);
/* Number of processes of the tree still running (0 when all are gone). */
int lk_child_tree_count(lk_child *c);
/* Frees the handle; on Windows closing the job ends whatever is left. */
void lk_child_free(lk_child *c);

/* ---- browsers, environment, small files --------------------------------- */

/* Installed Chrome, Chromium and Edge executables, best first: absolute
 * paths of files that exist and this account may run (Linux: chromium,
 * chromium-browser, google-chrome, google-chrome-stable, microsoft-edge on
 * PATH; macOS: the .app bundles in /Applications and ~/Applications;
 * Windows: App Paths in HKCU then HKLM, then Program Files and LocalAppData).
 * Fills up to max malloc'd strings; returns how many. */
size_t lk_sys_browser_candidates(char **out, size_t max);

/* 1 when path names a regular file this account may execute. */
int lk_sys_can_run(const char *path);

/* 1 when Chromium's sandbox cannot start for this account, so --no-sandbox
 * is needed: root on Linux (Chromium refuses to run sandboxed as root).
 * Never on Windows or macOS. */
int lk_sys_browser_needs_no_sandbox(void);

/* The value of an environment variable in UTF-8, NULL when unset or empty.
 * Caller frees. */
char *lk_sys_getenv(const char *name);

enum {
    LK_READ_TAIL = 1,    /* a longer file is cut to its last max bytes (else LK_EINVAL) */
    LK_READ_NOFOLLOW = 2 /* the file itself must not be a link (files a browser or a bot
                            writes into a session folder) */
};
/* Reads a whole regular file of at most max bytes into a NUL-terminated
 * malloc'd buffer. Never blocks on a FIFO and never opens a device: anything
 * but a regular file is LK_EINVAL. LK_ENOENT when it does not exist. */
int lk_sys_read_file(const char *path, size_t max, unsigned flags, char **buf, size_t *len,
                     lk_error *err);

/* The running program's own executable: an absolute UTF-8 path (symlinks
 * resolved on Linux and macOS), NULL when unknown. Installed data is found
 * relative to it, so a moved or per-user install (Windows) finds its files.
 * Caller frees. */
char *lk_sys_self_exe(void);

/* The per-user cache folder (~/.cache or $XDG_CACHE_HOME, ~/Library/Caches,
 * %LOCALAPPDATA%), NULL when unknown. Caller frees. */
char *lk_sys_cache_dir(void);

/* Removes one file; LK_OK when it is gone (or never was). */
int lk_sys_unlink(const char *path, lk_error *err);

/* ---- memory ----------------------------------------------------------------- */

/* Returns the heap's free memory to the system. A holder scan allocates a
 * megabyte or more per run on a busy machine, on whichever thread ran it;
 * the allocator would otherwise keep each thread's high-water mark. */
void lk_sys_heap_trim(void);

/* ---- shared libraries ------------------------------------------------------ */

/* Loads a shared library by file name (a Linux SONAME such as
 * "libcurl.so.4", a DLL name), resolving all its symbols now. Loaded for the
 * life of the process: there is no close. LK_ENOENT with the loader's words
 * when it cannot be loaded. */
typedef struct lk_sys_lib lk_sys_lib;
int lk_sys_lib_open(const char *name, lk_sys_lib **out, lk_error *err);

/* The address of a function of lib, NULL when it has none by that name. */
void *lk_sys_lib_sym(lk_sys_lib *lib, const char *name);

/* ---- small files shared between Latchkey's processes ----------------------- */

/* An exclusive advisory lock on the file at path (created when missing),
 * excluding every other holder of a lock on that file: other processes and
 * other threads of this one (flock on POSIX, LockFileEx on Windows). Never
 * inherited by spawned programs; the OS releases it when the process dies.
 * Waits until deadline_ms (monotonic), then LK_ETIMEDOUT. */
typedef struct lk_file_lock lk_file_lock;
int lk_sys_lock_file(const char *path, int64_t deadline_ms, lk_file_lock **out, lk_error *err);
void lk_sys_unlock_file(lk_file_lock *lock);

/* Replaces the file at path with data in one step, flushed to disk first: a
 * reader sees the old content or the new, never a mix or an empty file. */
int lk_sys_write_file_atomic(const char *path, const void *data, size_t len, lk_error *err);

/* ---- time --------------------------------------------------------------- */

int64_t lk_sys_now_ms(void);  /* monotonic */
int64_t lk_sys_wall_ms(void); /* Unix epoch */
void lk_sys_sleep_ms(int ms);

#ifdef __cplusplus
}
#endif
#endif
