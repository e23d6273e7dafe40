/* Private to core/doctor. */
#ifndef LK_DOCTOR_PRIVATE_H
#define LK_DOCTOR_PRIVATE_H

#include "latchkey/doctor.h"
#include "sys/snapshot_build.h"

/* The folder under examination, as given (made absolute) and as it really is. */
typedef struct lk_target {
    char *abs;
    char *real;
} lk_target;

int lk__target_init(lk_target *t, const char *folder, int win, lk_error *err);
void lk__target_free(lk_target *t);
int lk__profile_matches(const lk_snapshot *snap, size_t idx, const lk_target *t);

#endif
