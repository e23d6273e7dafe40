/* Helper for test_browser: launches Chromium on a profile through
 * lk_browser_launch, writes the browser's pid to READY_FILE, then sleeps.
 * The test SIGKILLs it: PR_SET_PDEATHSIG must take the browser down with
 * it. Bounded: it exits by itself after two minutes.
 *
 *   launch_and_wait CHROMIUM PROFILE READY_FILE
 */
#include <stdio.h>
#include <unistd.h>

#include "latchkey/browser.h"

int main(int argc, char **argv)
{
    lk_browser_opts o = {0};
    lk_browser *b = NULL;
    lk_error err;
    char tmp[4096];
    FILE *f;
    if (argc != 4) {
        fprintf(stderr, "usage: launch_and_wait CHROMIUM PROFILE READY_FILE\n");
        return 2;
    }
    o.exe = argv[1];
    o.profile = argv[2];
    o.timeout_ms = 30000;
    if (lk_browser_launch(&o, &b, &err) != LK_OK) {
        fprintf(stderr, "launch_and_wait: %s\n", err.msg);
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]);
    f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "%ld\n", b->pid);
    fclose(f);
    rename(tmp, argv[3]); /* the test never reads half a pid */
    sleep(120);
    lk_browser_stop(b, 0, NULL);
    lk_browser_free(b);
    return 0;
}
