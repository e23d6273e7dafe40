#include <stdlib.h>

#include "latchkey/path.h"
#include "../lk_check.h"

static void check_norm(const char *in, int win, const char *want)
{
    char *got = lk_path_normalize(in, win);
    CHECK_STR(got, want);
    free(got);
}

int main(void)
{
    /* Prefix tricks: a sibling whose name extends the target is not inside it. */
    CHECK(lk_path_within("/s/session-1", "/s/session-1", 0));
    CHECK(lk_path_within("/s/session-1", "/s/session-1/Default/Cookies", 0));
    CHECK(lk_path_within("/s/session-1/", "/s/session-1/x", 0));
    CHECK(!lk_path_within("/s/session-1", "/s/session-10", 0));
    CHECK(!lk_path_within("/s/session-1", "/s/session-10/Default", 0));
    CHECK(!lk_path_within("/s/session-1", "/s/session-", 0));
    CHECK(!lk_path_within("/s/session-1", "/s", 0));
    CHECK(lk_path_within("/", "/anything", 0));
    CHECK(!lk_path_within("/s/Session-1", "/s/session-1/x", 0));
    /* Windows: case-insensitive, either separator, namespace prefixes. */
    CHECK(lk_path_within("C:\\Bots\\session-1", "c:\\bots\\SESSION-1\\Default\\Cookies", 1));
    CHECK(lk_path_within("C:\\Bots\\session-1", "\\\\?\\C:\\Bots\\session-1\\x", 1));
    CHECK(lk_path_within("C:\\Bots\\session-1", "C:/Bots/session-1/x", 1));
    CHECK(!lk_path_within("C:\\Bots\\session-1", "C:\\Bots\\session-10\\x", 1));
    CHECK(lk_path_within("C:\\", "C:\\x", 1));
    CHECK(lk_path_equal("C:\\A\\", "c:\\a", 1));
    CHECK(!lk_path_equal("/a", "/A", 0));

    check_norm("/a/./b//c/", 0, "/a/b/c");
    check_norm("/a/b/../c", 0, "/a/c");
    check_norm("/../../etc", 0, "/etc");
    check_norm("/a/..", 0, "/");
    check_norm("/", 0, "/");
    check_norm("C:\\a\\..\\..\\b", 1, "C:\\b");
    check_norm("C:/a/./b/", 1, "C:\\a\\b");
    check_norm("\\\\server\\share\\x\\..\\y", 1, "\\\\server\\share\\y");
    CHECK(lk_path_normalize("relative/path", 0) == NULL);
    CHECK(lk_path_normalize("C:relative", 1) == NULL);

    CHECK_STR(lk_path_base("/a/b/c", 0), "c");
    CHECK_STR(lk_path_base("C:\\a\\b", 1), "b");
    {
        char *d = lk_path_dir("/a/b/c", 0);
        char *r = lk_path_dir("/a", 0);
        char *j = lk_path_join("/a", "b", 0);
        char *w = lk_path_join("C:\\a\\", "b", 1);
        char *owned = NULL;
        CHECK_STR(d, "/a/b");
        CHECK_STR(r, "/");
        CHECK_STR(j, "/a/b");
        CHECK_STR(w, "C:\\a\\b");
        CHECK_STR(lk_path_strip_win_prefix("\\\\?\\C:\\x", &owned), "C:\\x");
        CHECK(owned == NULL);
        CHECK_STR(lk_path_strip_win_prefix("\\\\?\\UNC\\srv\\sh\\x", &owned), "\\\\srv\\sh\\x");
        free(owned);
        free(d);
        free(r);
        free(j);
        free(w);
    }
    return lk_check_done();
}
