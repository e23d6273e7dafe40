/* Private to core/doctor. */
#ifndef LK_DOCTOR_PRIVATE_H
#define LK_DOCTOR_PRIVATE_H

#include "latchkey/doctor.h"
#include "sys/snapshot_build.h"

/* The folder under examination, as given (made absolute) and as it really
 * is, and (loaded when first needed) the identities of everything in it. */
typedef struct lk_target {
    char *abs;
    char *real;
    uint64_t *ids; /* sorted (dev, ino) pairs; NULL until loaded */
    size_t nids;
    int ids_tried;
} lk_target;

int lk__target_init(lk_target *t, const char *folder, lk_error *err);
void lk__target_free(lk_target *t);
int lk__profile_matches(const lk_snapshot *snap, size_t idx, const lk_target *t);

/* How a process relates to the profile (mark_chromium in holders.c). */
enum {
    LK__MARK_NONE = 0,
    LK__MARK_PROFILE,   /* Chromium, --user-data-dir names the folder */
    LK__MARK_CHILD,     /* a Chromium process it started (--type=, its executable) */
    LK__MARK_DESCENDANT /* anything else it started, and their children */
};

/* classify.c */
int lk__name_is(const char *name, const char *const *list);
int lk__has_type_flag(const lk_proc *p);
int lk__is_chromium(const lk_proc *p);
lk_kind lk__classify(const lk_snapshot *snap, size_t idx, const char *mark);
char *lk__why_spare(const lk_snapshot *snap, const lk_holder *hd);
/* 0 when all it holds is a current folder, where that blocks nothing. */
int lk__holds_something(const lk_snapshot *snap, const lk_holder *hd);
void lk__find_launcher(const lk_snapshot *snap, lk_holder *hd);
int lk__copy_proc(lk_proc *dst, const lk_proc *src);

/* end.c: ends the killable holders of a plan, graceful first, then forced,
 * waiting on the processes themselves. which(hd) says what the plan ends;
 * the rest is spared. Fills c->killed, c->spared and c->left. */
typedef int (*lk__which_fn)(const lk_holder *hd, void *user);
void lk__end_plan(lk_cleanup *c, const lk_holders *plan, lk__which_fn which, void *user,
                  const lk_cleanup_opts *o, int64_t deadline);
void lk__list_spared(lk_cleanup *c, const lk_holders *plan); /* a dry run's spared */
void lk__add_removed(lk_cleanup *c, const char *path);
void lk__add_left(lk_cleanup *c, const char *fmt, ...) LK_PRINTF_FORMAT(2, 3);
void lk__add_warning(lk_cleanup *c, const char *fmt, ...) LK_PRINTF_FORMAT(2, 3);

#endif
