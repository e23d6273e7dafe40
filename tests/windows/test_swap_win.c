/* A parent folder swapped for a link while the doctor holds the folder
 * (issue 11's path race), on Windows with real processes (under wine in CI):
 * the swap tried by the test itself between open and removal, and by a
 * holder that fights back when asked to end (tree_helper.exe fight), with
 * the control where the folder is not held and the swap goes through.
 * Everything outside is compared byte for byte.
 *
 * What wine 8 cannot model, and so is left to a real Windows:
 *   - the junction: wine cannot make one through Win32, so under wine the
 *     swap puts a Unix symlink (made by /bin/ln) where the parent was.
 *   - NTFS's own refusal to rename a folder with open files under it: wine
 *     has none, so here the held handles alone must stop the rename.
 *   - a swap by a native Unix process: it ignores Windows share modes, and
 *     wine tracks open files by path; outside what Windows allows, not tested.
 *   - Ctrl-Break to another console (GenerateConsoleCtrlEvent fails there):
 *     the holder is asked through its window (WM_CLOSE).
 */
#include "win_tree_test.h"

/* ---- 3. a parent swapped for a link while the folder is held ------------- */

static void layout_swap(const wchar_t *dir)
{
    static const wchar_t *const dirs[] = {
        L"",  L"outside", L"outside\\target", L"outside\\target\\Default",
        L"g", L"g\\p",    L"g\\p\\target",    L"g\\p\\target\\Default",
        NULL};
    mkdirs(dir, dirs);
    /* The outside mirrors the target: a delete that followed the swap would
     * find the same names there. */
    put(dir, L"outside\\target\\Default\\Cookies", "outside cookies");
    put(dir, L"outside\\target\\notes.txt", "someone's notes");
    put(dir, L"g\\p\\target\\Default\\Cookies", "session cookies");
    put(dir, L"g\\p\\target\\Local State", "{}");
}

static void test_swap_from_test(const wchar_t *base)
{
    wchar_t *d = wjoin(base, L"sw"), *outside = wjoin(d, L"outside"), *g = wjoin(d, L"g");
    wchar_t *p = wjoin(d, L"g\\p"), *away = wjoin(d, L"g\\p-away"), *gaway = wjoin(d, L"g-away");
    wchar_t *target = wjoin(p, L"target");
    char *target8 = u8(target), *before, *after;
    const char *made;
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    DWORD e1, e2;
    int rc;

    layout_swap(d);
    before = digest(outside);
    rc = lk_sys_tree_open(target8, &t, &err);
    if (!CHECK(rc == LK_OK, "held: %s", rc ? err.msg : "ok"))
        goto out;
    /* The attack, between open and remove: the parent away, a link there. */
    e1 = MoveFileExW(p, away, 0) ? 0 : GetLastError();
    e2 = MoveFileExW(g, gaway, 0) ? 0 : GetLastError();
    CHECK(e1 != 0, "renaming the held parent fails (error %lu)", e1);
    CHECK(e2 != 0, "renaming the folder above it fails too (error %lu)", e2);
    made = e1 == 0 ? make_dir_link(p, outside, g_marker) : NULL;
    if (made)
        note("the parent was swapped for %s", made);
    rc = lk_sys_tree_check(t, &err);
    CHECK(rc == LK_OK || made, "lk_sys_tree_check: %s", rc ? err.msg : "the same folder");
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    print_pass(&pass);
    CHECK(rc == LK_OK && !exists(target), "the held folder is removed: %s", rc ? err.msg : "ok");
    CHECK(exists(p) && exists(g), "its parents are still there");
    lk_remove_pass_free(&pass);
    after = digest(outside);
    CHECK(strcmp(before, after) == 0, "outside is intact byte for byte");
    free(after);
out:
    lk_sys_tree_close(t);
    free(before);
    free(d);
    free(outside);
    free(g);
    free(p);
    free(away);
    free(gaway);
    free(target);
    free(target8);
}

/* The holder does the swap itself when asked to end (WM_CLOSE). `held`: the
 * folder is held across the ending, as the doctor does; else (the control)
 * it is only opened afterwards, which shows the swap really works. */
static void test_swap_by_holder(const wchar_t *base, int held)
{
    wchar_t *d = wjoin(base, held ? L"fh" : L"fu"), *outside = wjoin(d, L"outside");
    wchar_t *p = wjoin(d, L"g\\p"), *away = wjoin(d, L"g\\p-away"), *target = wjoin(p, L"target");
    wchar_t *cookies = wjoin(target, L"Default\\Cookies"), *ready = wjoin(d, L"ready");
    wchar_t *report = wjoin(d, L"report"), *marker = wjoin(d, L"marker"), cmd[8 * MAX_PATH];
    char *target8 = u8(target), *before, *after, *rep = NULL;
    PROCESS_INFORMATION pi = {0};
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    long pid;
    int rc, alive = 1;
    uint64_t sid;

    layout_swap(d);
    before = digest(outside);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0],
               L"\"%ls\\tree_helper.exe\" fight \"%ls\" \"%ls\" \"%ls\" \"%ls\" \"%ls\" \"%ls\" "
               L"\"%ls\"",
               g_dir, cookies, ready, p, away, outside, report, marker);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    if (!CHECK(start(cmd, &pi) && wait_file(ready, pi.hProcess),
               "a holder that fights back holds Cookies (%s)", held ? "held" : "control"))
        goto out;
    rep = read_text(ready);
    if (!CHECK(rep && strstr(rep, " window"), "and shows a window to be asked through%s",
               rep ? "" : " (no ready file)"))
        goto out;
    free(rep);
    rep = NULL;
    if (held) {
        rc = lk_sys_tree_open(target8, &t, &err);
        if (!CHECK(rc == LK_OK, "the doctor holds the folder: %s", rc ? err.msg : "ok"))
            goto out;
    }
    pid = (long)pi.dwProcessId;
    sid = start_id_of(pi.hProcess);
    rc = lk_sys_proc_end(pid, sid, 0, &err);
    CHECK(rc == LK_OK, "asked to end (WM_CLOSE): %s", rc ? err.msg : "ok");
    lk_sys_proc_wait(&pid, &sid, 1, lk_sys_now_ms() + 20000, &alive);
    CHECK(!alive, "it exited");
    rep = read_text(report);
    CHECK(rep != NULL, "it reported what it did: %s", rep ? rep : "nothing");
    if (held) {
        CHECK(rep && strncmp(rep, "rename=0 ", 9) != 0,
              "its rename of the parent failed: the parent is held");
        rc = lk_sys_tree_check(t, &err);
        CHECK(rc == LK_OK, "lk_sys_tree_check after the kill: %s", rc ? err.msg : "unchanged");
        memset(&pass, 0, sizeof pass);
        rc = lk_sys_tree_remove_once(t, &pass, &err);
        print_pass(&pass);
        CHECK(rc == LK_OK && !exists(target), "the real folder is removed: %s",
              rc ? err.msg : "ok");
        lk_remove_pass_free(&pass);
    } else {
        /* The control: not held, the swap went through; what the path names
         * now is refused. */
        CHECK(rep && strncmp(rep, "rename=0 link=", 14) == 0 && !strstr(rep, "link=none"),
              "unheld, the holder swapped the parent for a link");
        rc = lk_sys_tree_open(target8, &t, &err);
        CHECK(rc == LK_EREFUSED, "opening the path now is refused: %s", err.msg);
        memset(&pass, 0, sizeof pass);
        rc = lk_sys_remove_tree_once(target8, &pass, &err);
        CHECK(rc == LK_EREFUSED, "and so is removing it: %s", err.msg);
        lk_remove_pass_free(&pass);
    }
    after = digest(outside);
    CHECK(strcmp(before, after) == 0, "outside (the swap's target) is intact byte for byte");
    free(after);
out:
    lk_sys_tree_close(t);
    stop(&pi);
    free(before);
    free(rep);
    free(d);
    free(outside);
    free(p);
    free(away);
    free(target);
    free(cookies);
    free(ready);
    free(report);
    free(marker);
    free(target8);
}

int main(void)
{
    wchar_t base[MAX_PATH];
    char *base8 = begin(L"swap", base);
    test_swap_from_test(base);
    test_swap_by_holder(base, 0);
    test_swap_by_holder(base, 1);
    return finish(base, base8);
}
