/* latchkey/doctor.h - find holders -> plan -> kill -> delete -> verify -> report. */
#ifndef LATCHKEY_DOCTOR_H
#define LATCHKEY_DOCTOR_H

#include <stddef.h>
#include <stdint.h>

#include "latchkey/error.h"
#include "latchkey/sys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lk_kind {
    LK_KIND_CHROMIUM_BROWSER = 0, /* the browser process of this very profile */
    LK_KIND_CHROMIUM_CHILD,       /* a renderer/GPU/utility of it: --type=, or its executable */
    LK_KIND_NODE,
    LK_KIND_EXPLORER,
    LK_KIND_SYSTEM,
    LK_KIND_OTHER,
    LK_KIND_DESCENDANT /* started by the browser but not Chromium and holding nothing here (an
                          editor it opened, Xvfb under xvfb-run): listed and spared */
} lk_kind;
const char *lk_kind_name(lk_kind kind);

typedef struct lk_held {
    char *path;
    lk_how how;
} lk_held;

/* Who started a browser. */
typedef struct lk_launcher {
    long pid;   /* 0 when unknown */
    char *name; /* NULL when unknown (it has exited) */
    int alive;
} lk_launcher;

typedef struct lk_holder {
    lk_proc proc; /* deep copy: a report outlives its snapshot */
    lk_kind kind;
    int killable;
    char *why_not; /* NULL when killable */
    lk_held *held; /* empty for a Chromium process that holds nothing itself */
    size_t nheld;
    /* For the browser process (LK_KIND_CHROMIUM_BROWSER) only: */
    lk_launcher launcher; /* pid 0: not known */
    int orphaned;         /* its launcher has exited (reparented to init or a subreaper;
                             Windows: the parent is gone or a newer process has its pid) */
    int owned;            /* Latchkey started it */
} lk_holder;

typedef struct lk_lock {
    char *file;
    long owner_pid;
    int stale; /* the owner is dead or is not a Chromium of this profile */
} lk_lock;

typedef struct lk_holders {
    char *path; /* the folder as given, made absolute */
    char *real; /* its canonical path (what was compared) */
    lk_holder *holders;
    size_t nholders;
    lk_blind *blind; /* processes that could not be inspected */
    size_t nblind;
    lk_lock *locks;
    size_t nlocks;
} lk_holders;

/* The holders of `folder` in a snapshot taken with LK_SNAP_HANDLES. Also adds
 * every Chromium process of that profile (by --user-data-dir) and their
 * descendants, holding something or not, and Restart Manager's answer on
 * Windows. Cheap: no new process walk. */
int lk_doctor_holders(const lk_snapshot *snap, const char *folder, lk_holders **out, lk_error *err);
void lk_holders_free(lk_holders *h);

/* The holder that is the browser of the profile, NULL when none runs. */
const lk_holder *lk_holders_browser(const lk_holders *h);
/* One line for people about a browser holder's launcher: "orphaned: its
 * launcher (pid 12) exited", "used by a running bot: node pid 12", "started
 * by Latchkey (pid 12)". Writes into buf. */
const char *lk_holder_launcher_text(const lk_holder *hd, char *buf, size_t size);

/* The processes running Chromium on `folder` (by --user-data-dir) and their
 * descendants, from any snapshot (LK_SNAP_PROCS is enough). *pids is
 * allocated (free it); *browser gets the browser process, 0 when none. */
int lk_doctor_profile_procs(const lk_snapshot *snap, const char *folder, long **pids, size_t *n,
                            long *browser, lk_error *err);

/* The profile a process runs as Chromium for (--user-data-dir), or NULL. */
char *lk_doctor_proc_profile(const lk_proc *proc);

typedef enum lk_result {
    LK_RESULT_REMOVED = 0,
    LK_RESULT_ALREADY_CLEAN,
    LK_RESULT_QUARANTINED,
    LK_RESULT_PARTIAL,
    LK_RESULT_REFUSED,
    LK_RESULT_PLANNED,
    LK_RESULT_UNLOCKED, /* unlock: nothing holds it, no lock is left, the login is kept */
    LK_RESULT_STOPPED   /* stop: the browser of the profile has ended */
} lk_result;
const char *lk_result_name(lk_result r);

enum {
    LK_CLEAN_DRY_RUN = 1u << 0,
    LK_CLEAN_ANY_FOLDER = 1u << 1,
    LK_CLEAN_UNLOCK = 1u << 2 /* end the holders, remove only what blocks the next start */
};

typedef struct lk_killed {
    long pid;
    char *name;
    int forced;
    char *note; /* "the browser of a running bot: node pid 12", NULL when nothing to say */
} lk_killed;

typedef struct lk_spared {
    long pid;
    char *name;
    char *why;
} lk_spared;

typedef struct lk_cleanup {
    char *path;        /* the folder as it really is (read back from the held handle) */
    const char *action; /* "cleanup", "unlock" or "stop" */
    lk_result result;
    lk_holders *before; /* what held it when we started */
    lk_killed *killed;
    size_t nkilled;
    lk_spared *spared;
    size_t nspared;
    char **left; /* paths still present, and processes still holding */
    size_t nleft;
    char *quarantine; /* where it was moved, when quarantined */
    char **removed;   /* unlock: the lock files removed */
    size_t nremoved;
    char **warnings;  /* what the user should know: a running bot's browser ended... */
    size_t nwarnings;
    uint64_t files, bytes; /* what deleting it loses (the login): counted before */
    int counted;           /* files and bytes were counted */
    char *message;    /* one line for people */
    int64_t elapsed_ms;
} lk_cleanup;

typedef void (*lk_progress_fn)(void *user, const char *step);

/* A process as a plan showed it: pid and start stamp. */
typedef struct lk_approved {
    long pid;
    uint64_t start_id;
} lk_approved;

typedef struct lk_cleanup_opts {
    unsigned flags; /* LK_CLEAN_* */
    int timeout_ms; /* overall deadline; 0 means 10 s */
    lk_progress_fn progress;
    void *progress_user;
    const char *const *roots; /* NULL-terminated watched folders: what lies under them is a
                                 session (see lk_doctor_check_target); may be NULL */
    /* The plan a person approved: only these processes are ended, and only
     * if they still hold the folder; one that started holding it since is
     * reported, not ended. NULL: whatever holds it now. */
    const lk_approved *approved;
    size_t napproved;
} lk_cleanup_opts;

/* Latchkey's own session folder: $LATCHKEY_HOME/sessions, else
 * <data dir>/latchkey/sessions. Caller frees. */
char *lk_default_session_root(void);

/* The guard rails on a target, given as typed (made absolute) and as it
 * really is. LK_EREFUSED (nothing touched) for a file system root or mount
 * point, the OS's folders, any account's home folder or what contains one, a
 * home's own big folders, browsers' own profiles and apps' data, the
 * system's data area unless named like a session, and, without
 * LK_CLEAN_ANY_FOLDER, anything that is not a bot's session by name
 * (session-*, .wwebjs_auth/..., tokens/...) or place (Latchkey's own root,
 * one of roots). Fails closed: no real path, no yes. */
int lk_doctor_check_target(const char *abspath, const char *real, unsigned flags,
                           const char *const *roots, lk_error *err);

/* Plans, ends the holders (graceful, then forced), removes the folder with
 * retries, moves it aside when it cannot, verifies. The folder is opened
 * once and everything is done relative to that handle (lk_sys_tree_open);
 * its identity is checked again after the holders have ended. Returns LK_OK
 * when a report was produced (even one that says something is left);
 * LK_EREFUSED or LK_EINVAL with *out still filled for refused input. */
int lk_doctor_cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                      lk_error *err);
/* The same plan and guard rails, but keeps the login: ends the holders, then
 * removes only what blocks the next start (SingletonLock, SingletonSocket,
 * SingletonCookie, Windows' lockfile, a stale DevToolsActivePort). */
int lk_doctor_unlock(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                     lk_error *err);
/* Ends the Chromium processes of the profile (the browser and its own
 * children, nothing else), through the same guard rails as cleanup. */
int lk_doctor_stop(const char *folder, int timeout_ms, lk_cleanup **out, lk_error *err);
void lk_cleanup_free(lk_cleanup *c);

/* JSON text of the reports (contract of `latchkeyctl holders/cleanup/unlock/stop --json`).
 * Caller frees. */
char *lk_holders_to_json(const lk_holders *h);
char *lk_cleanup_to_json(const lk_cleanup *c);

#ifdef __cplusplus
}
#endif
#endif
