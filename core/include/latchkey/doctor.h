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
    LK_KIND_CHROMIUM_CHILD,       /* a renderer/GPU/utility of it, or any descendant */
    LK_KIND_NODE,
    LK_KIND_EXPLORER,
    LK_KIND_SYSTEM,
    LK_KIND_OTHER
} lk_kind;
const char *lk_kind_name(lk_kind kind);

typedef struct lk_held {
    char *path;
    lk_how how;
} lk_held;

typedef struct lk_holder {
    lk_proc proc; /* deep copy: a report outlives its snapshot */
    lk_kind kind;
    int killable;
    char *why_not; /* NULL when killable */
    lk_held *held; /* empty for a Chromium process that holds nothing itself */
    size_t nheld;
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
    LK_RESULT_PLANNED
} lk_result;
const char *lk_result_name(lk_result r);

enum {
    LK_CLEAN_DRY_RUN = 1u << 0,
    LK_CLEAN_ANY_FOLDER = 1u << 1,
    LK_CLEAN_ON_REBOOT = 1u << 2,
    LK_CLEAN_KEEP_FOLDER = 1u << 3 /* end the holders but delete nothing */
};

typedef struct lk_killed {
    long pid;
    char *name;
    int forced;
} lk_killed;

typedef struct lk_spared {
    long pid;
    char *name;
    char *why;
} lk_spared;

typedef struct lk_cleanup {
    char *path;
    lk_result result;
    lk_holders *before; /* what held it when we started */
    lk_killed *killed;
    size_t nkilled;
    lk_spared *spared;
    size_t nspared;
    char **left; /* paths still present, and processes still holding */
    size_t nleft;
    char *quarantine; /* where it was moved, when quarantined */
    char *message;    /* one line for people */
    int64_t elapsed_ms;
} lk_cleanup;

typedef void (*lk_progress_fn)(void *user, const char *step);

typedef struct lk_cleanup_opts {
    unsigned flags; /* LK_CLEAN_* */
    int timeout_ms; /* overall deadline; 0 means 10 s */
    lk_progress_fn progress;
    void *progress_user;
} lk_cleanup_opts;

/* Refuses (LK_EREFUSED, nothing touched) roots, home, system folders and
 * non-profile folders (unless LK_CLEAN_ANY_FOLDER). */
int lk_doctor_check_target(const char *abspath, unsigned flags, lk_error *err);

/* Plans, ends the holders (graceful, then forced), removes the folder with
 * retries, quarantines it when it cannot, verifies. Returns LK_OK when a
 * report was produced (even one that says something is left); LK_EREFUSED
 * or LK_EINVAL with *out still filled for refused input. */
int lk_doctor_cleanup(const char *folder, const lk_cleanup_opts *opts, lk_cleanup **out,
                      lk_error *err);
void lk_cleanup_free(lk_cleanup *c);

/* JSON text of the reports (contract of `latchkeyctl holders/cleanup --json`). Caller frees. */
char *lk_holders_to_json(const lk_holders *h);
char *lk_cleanup_to_json(const lk_cleanup *c);

#ifdef __cplusplus
}
#endif
#endif
