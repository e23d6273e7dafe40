/* latchkey/owner.h - one owner per session folder at a time.
 *
 * A deliberate stop (latchkeyctl stop, unlock, cleanup, the tray's Stop or
 * Kill & clean up) leaves a marker for the folder in Latchkey's data folder
 * ($LATCHKEY_HOME/owner, else <user data>/latchkey/owner) before it signals
 * anything. Every supervisor (the tray's sessions, latchkeyctl link and qr)
 * reads it when its browser goes away: a marker, or a folder that is gone,
 * means "stand down, relaunch nothing"; no marker means a crash, healed as
 * before. Facts, never timing, tell the two apart.
 *
 * Race-free by one lock per folder: the stopper holds it while it writes the
 * marker, a supervisor while it checks the marker and the folder and
 * launches. So a browser is either launched before the marker exists (and
 * the stopper, which looks for processes only after marking, finds and ends
 * it) or not at all. */
#ifndef LATCHKEY_OWNER_H
#define LATCHKEY_OWNER_H

#include <stddef.h>
#include <stdint.h>

#include "latchkey/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Who deliberately stopped a folder. */
typedef struct lk_owner_stop {
    char action[16]; /* "stop", "unlock" or "cleanup" */
    char by[64];     /* the program that did it: "latchkeyctl", "latchkey" */
    long pid;        /* its process id */
    int64_t at_ms;   /* wall clock when it was recorded */
} lk_owner_stop;

/* Before any process of `folder` is signalled: records that `action`
 * ("stop", "unlock" or "cleanup") by this program is ending or removing it.
 * Keyed by the folder's resolved absolute path, so it holds after the folder
 * is deleted. Waits (up to a minute) for a supervisor that is launching a
 * browser on it right now. Durable: written atomically. */
int lk_owner_mark_stop(const char *folder, const char *action, lk_error *err);

/* 1 and *out filled when a deliberate stop is recorded for folder, else 0
 * (no marker, or one that is not a valid marker for this very folder: the
 * file is read as untrusted input). out may be NULL. */
int lk_owner_stopped(const char *folder, lk_owner_stop *out);

/* The user deliberately starts the session again: forget the marker. */
void lk_owner_clear_stop(const char *folder);

/* "stopped by latchkeyctl cleanup (pid 4242)" */
void lk_owner_describe(const lk_owner_stop *st, char *buf, size_t size);

/* The supervisor's side: hold the folder's lock around "no marker, the
 * folder is there: launch". deadline_ms is monotonic (lk_sys_now_ms). */
typedef struct lk_owner_lock lk_owner_lock;
int lk_owner_acquire(const char *folder, int64_t deadline_ms, lk_owner_lock **out, lk_error *err);
void lk_owner_release(lk_owner_lock *lock);

#ifdef __cplusplus
}
#endif
#endif
