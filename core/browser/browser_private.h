/* Private to core/browser. */
#ifndef LK_BROWSER_PRIVATE_H
#define LK_BROWSER_PRIVATE_H

#include <stddef.h>

#include "latchkey/error.h"

/* Who else runs or holds `profile`, from one holder scan: processes that
 * hold something in it or are Chromium of that profile (our own process
 * excepted), and live profile locks. *nprocs and *nlocks get how many; `who`
 * a one-line description of the most telling one ("chromium (pid 123)"),
 * "" when there is none. */
int lk__browser_holders(const char *profile, size_t *nprocs, size_t *nlocks, char *who,
                        size_t who_size, lk_error *err);

/* "PROFILE is already in use by chromium (pid 123) and 4 other processes"
 * style text for what lk__browser_holders found. */
void lk__browser_describe(char *out, size_t size, const char *who, size_t nprocs, size_t nlocks);

/* The DevToolsActivePort file of a profile; caller frees. */
char *lk__browser_port_file(const char *profile);

/* Where the browser's stdout and stderr go: a per-profile file in the
 * user's cache folder (latchkey/browser-logs/NAME-HASH.log), never inside
 * the profile, where helpers that inherit it (Chromium's crash handler
 * leaves the process group and outlives the browser) would hold the
 * folder. NULL when there is no cache folder. Caller frees. */
char *lk__browser_log_path(const char *profile);

#endif
