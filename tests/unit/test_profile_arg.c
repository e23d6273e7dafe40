/* --user-data-dir in every form Chromium's launchers write it. */
#include <stdlib.h>

#include "latchkey/doctor.h"
#include "../lk_check.h"

static void check(int argc, char **argv, const char *want)
{
    lk_proc p;
    char *got;
    memset(&p, 0, sizeof p);
    p.argc = argc;
    p.argv = argv;
    got = lk_doctor_proc_profile(&p);
    if (want)
        CHECK_STR(got, want);
    else
        CHECK(got == NULL);
    free(got);
}

int main(void)
{
    char *a1[] = {"chrome", "--headless", "--user-data-dir=/x/session-1", "about:blank"};
    char *a2[] = {"chrome", "--user-data-dir", "/x/session 2"};
    char *a3[] = {"chrome.exe", "--user-data-dir=\"C:\\bots\\.wwebjs_auth\\session-a\""};
    char *a4[] = {"chrome", "--user-data-dir-extra=/nope", "--type=renderer"};
    char *a5[] = {"chrome", "--user-data-dir"};
    char *a6[] = {"/usr/bin/node", "bot.js"};
    check(4, a1, "/x/session-1");
    check(3, a2, "/x/session 2");
    check(2, a3, "C:\\bots\\.wwebjs_auth\\session-a");
    check(3, a4, NULL);
    check(2, a5, NULL);
    check(2, a6, NULL);
    CHECK_STR(lk_kind_name(LK_KIND_CHROMIUM_CHILD), "chromium-child");
    CHECK_STR(lk_result_name(LK_RESULT_ALREADY_CLEAN), "already_clean");
    CHECK_STR(lk_how_name(LK_HOW_MAP), "mapping");
    return lk_check_done();
}
