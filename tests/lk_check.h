/* A tiny assertion kit: every check prints, the last line counts. */
#ifndef LK_CHECK_H
#define LK_CHECK_H

#include <stdio.h>
#include <string.h>

#include "latchkey/sys.h"

static int lk_t_passed, lk_t_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            lk_t_passed++;                                                                         \
        } else {                                                                                   \
            lk_t_failed++;                                                                         \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *lk_a_ = (a), *lk_b_ = (b);                                                     \
        if (lk_a_ && lk_b_ && strcmp(lk_a_, lk_b_) == 0) {                                         \
            lk_t_passed++;                                                                         \
        } else {                                                                                   \
            lk_t_failed++;                                                                         \
            printf("FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, #b,        \
                   lk_a_ ? lk_a_ : "(null)", lk_b_ ? lk_b_ : "(null)");                            \
        }                                                                                          \
    } while (0)

static inline int lk_check_done(void)
{
    printf("%d passed, %d failed\n", lk_t_passed, lk_t_failed);
    return lk_t_failed ? 1 : 0;
}

/* A whole file (up to 16 MiB) as a malloc'd string, NULL when unreadable. */
static inline char *lk_t_slurp(const char *path)
{
    char *buf = NULL;
    size_t n = 0;
    return lk_sys_read_file(path, 16u << 20, 0, &buf, &n, NULL) == LK_OK ? buf : NULL;
}

#endif
