/* The held folder on Windows (lk_sys_tree_*), the kill guard rails, path
 * normalisation and DevToolsActivePort, with real files and real processes
 * (under wine in CI). After every removal, everything outside the target is
 * compared byte for byte with what it was before.
 *
 *   test_tree_win
 *
 * What wine 8 cannot model, and so is left to a real Windows:
 *   - junctions and symbolic links made through Win32 (FSCTL_SET_REPARSE_POINT
 *     fails, CreateSymbolicLinkW is a stub): under wine the links here are
 *     Unix symlinks made by /bin/ln, which wine shows as reparse points
 *     without a tag in a listing and follows when they are opened, even with
 *     FILE_OPEN_REPARSE_POINT. So under wine links are left in place (with
 *     the reason) where Windows removes the link itself.
 *   - ACLs: wine grants every access, so "access denied" paths, DELETE
 *     refused by an ACL and the non-admin cases are not exercised here.
 *   - Restart Manager (a stub in wine) and NTFS's refusal to rename a folder
 *     with open files under it: here the held handles alone must stop it.
 *   - Ctrl-Break to another console (GenerateConsoleCtrlEvent fails there):
 *     the holder that fights back is asked through its window (WM_CLOSE).
 *   - Critical processes (no ProcessBreakOnTermination in wine) and pid 4
 *     (no System process): refused by the guard before any look-up anyway.
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "latchkey/sys.h"

#include "win_check.h"
#include "win_fs.h"

static wchar_t g_dir[MAX_PATH]; /* where the test's executables are */
static wchar_t g_marker[MAX_PATH];

static void note(const char *fmt, ...)
{
    va_list ap;
    printf("#    ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static int start(const wchar_t *cmdline, PROCESS_INFORMATION *pi)
{
    STARTUPINFOW si;
    wchar_t *buf = _wcsdup(cmdline);
    int ok;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    memset(pi, 0, sizeof *pi);
    ok = CreateProcessW(NULL, buf, NULL, NULL, FALSE, 0, NULL, NULL, &si, pi) != 0;
    if (!ok)
        note("CreateProcess failed (%lu): %ls", GetLastError(), cmdline);
    free(buf);
    return ok;
}

static void stop(PROCESS_INFORMATION *pi)
{
    if (pi->hProcess) {
        TerminateProcess(pi->hProcess, 9);
        WaitForSingleObject(pi->hProcess, 5000);
        CloseHandle(pi->hProcess);
        CloseHandle(pi->hThread);
        pi->hProcess = NULL;
    }
}

static uint64_t start_id_of(HANDLE h)
{
    FILETIME c, e, k, u;
    if (!GetProcessTimes(h, &c, &e, &k, &u))
        return 0;
    return ((uint64_t)c.dwHighDateTime << 32) | c.dwLowDateTime;
}

/* Waits (30 s) for a helper's ready file. */
static int wait_file(const wchar_t *path, HANDLE proc)
{
    int i;
    for (i = 0; i < 600; i++) {
        if (exists(path)) {
            Sleep(50); /* written and closed */
            return 1;
        }
        if (proc && WaitForSingleObject(proc, 50) == WAIT_OBJECT_0)
            return 0;
        if (!proc)
            Sleep(50);
    }
    return 0;
}

static char *read_text(const wchar_t *path)
{
    char *buf = NULL;
    char *p8 = u8(path);
    size_t n = 0;
    if (lk_sys_read_file(p8, 1 << 16, 0, &buf, &n, NULL) != LK_OK)
        buf = NULL;
    free(p8);
    return buf;
}

/* lock_helper (the existing holder) on `file`, with no sharing. */
static int hold(const wchar_t *file, const wchar_t *ready, PROCESS_INFORMATION *pi)
{
    wchar_t cmd[4 * MAX_PATH];
    DeleteFileW(ready);
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\\lock_helper.exe\" hold \"%ls\" \"%ls\"",
               g_dir, file, ready);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    return start(cmd, pi) && wait_file(ready, pi->hProcess);
}

static void mkdirs(const wchar_t *base, const wchar_t *const *rel)
{
    for (; *rel; rel++) {
        wchar_t *p = wjoin(base, *rel);
        CreateDirectoryW(p, NULL);
        free(p);
    }
}

static void put(const wchar_t *base, const wchar_t *rel, const char *text)
{
    wchar_t *p = wjoin(base, rel);
    make_file(p, text);
    free(p);
}

static int has_left(const lk_remove_pass *pass, const char *suffix, const char *why_part)
{
    size_t i, n = strlen(suffix);
    for (i = 0; i < pass->nleft; i++) {
        size_t m = strlen(pass->left[i]);
        if (m >= n && _stricmp(pass->left[i] + m - n, suffix) == 0 &&
            (!why_part || (pass->why && pass->why[i] && strstr(pass->why[i], why_part))))
            return 1;
    }
    return 0;
}

static void print_pass(const lk_remove_pass *pass)
{
    size_t i;
    for (i = 0; i < pass->nleft; i++)
        note("  left: %s (%s)", pass->left[i],
             pass->why && pass->why[i] ? pass->why[i] : "no reason given");
}

/* ---- 1. a held folder ---------------------------------------------------- */

static void test_held_folder(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"h", L"h\\outside", L"h\\session-1", L"h\\session-1\\Default",
                                          L"h\\session-1\\Default\\Cache", L"h\\session-10", NULL};
    wchar_t *h = wjoin(base, L"h"), *target = wjoin(h, L"session-1");
    wchar_t *cookies = wjoin(target, L"Default\\Cookies"), *ready = wjoin(base, L"ready-h");
    wchar_t *ro = wjoin(target, L"Default\\readonly.txt");
    char *target8 = u8(target), *before, *after, *sib_before, *sib_after;
    wchar_t *outside = wjoin(h, L"outside"), *sibling = wjoin(h, L"session-10");
    PROCESS_INFORMATION pi = {0};
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    uint64_t files = 0, bytes = 0, *ids = NULL;
    size_t nids = 0;
    int rc, i;

    mkdirs(base, dirs);
    put(h, L"outside\\keep.txt", "keep me");
    put(h, L"session-10\\Default", "another session, named like this one");
    put(target, L"Local State", "{}");
    put(target, L"Default\\Preferences", "{\"a\":1}");
    put(target, L"Default\\readonly.txt", "ro");
    SetFileAttributesW(ro, FILE_ATTRIBUTE_READONLY);
    for (i = 0; i < 30; i++) {
        wchar_t name[64];
        _snwprintf(name, 64, L"Default\\Cache\\f_%06d", i);
        put(target, name, "cache");
    }
    before = digest(outside);
    sib_before = digest(sibling);
    if (!CHECK(hold(cookies, ready, &pi), "lock_helper holds session-1\\Default\\Cookies"))
        goto out;

    rc = lk_sys_tree_open(target8, &t, &err);
    if (!CHECK(rc == LK_OK, "lk_sys_tree_open of a folder a process holds files in: %s",
               rc ? err.msg : "ok"))
        goto out;
    CHECK(_stricmp(lk_sys_tree_path(t), target8) == 0, "its path read back from the handle: %s",
          lk_sys_tree_path(t));
    CHECK(lk_sys_tree_check(t, &err) == LK_OK, "lk_sys_tree_check: still the same folder");
    rc = lk_sys_tree_usage(t, &files, &bytes, &err);
    CHECK(rc == LK_OK && files == 34, "lk_sys_tree_usage counts its 34 files (%llu, %llu bytes)",
          (unsigned long long)files, (unsigned long long)bytes);
    rc = lk_sys_tree_ids(t, &ids, &nids, &err);
    CHECK(rc == LK_OK && nids == 37, "lk_sys_tree_ids: the folder, 2 folders and 34 files (%lu)",
          (unsigned long)nids);
    free(ids);

    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    print_pass(&pass);
    CHECK(rc == LK_EBUSY, "a pass while Cookies is held: LK_EBUSY (%s)", err.msg);
    CHECK(pass.nleft >= 1 && has_left(&pass, "\\Default\\Cookies", "in use by another process"),
          "Cookies is left, \"in use by another process\"");
    CHECK(pass.retryable && !pass.boundary, "worth retrying, no boundary");
    CHECK(!exists(ro) && pass.removed >= 32, "the rest went, the read-only file too (%lu removed)",
          (unsigned long)pass.removed);
    lk_remove_pass_free(&pass);

    rc = lk_sys_proc_end((long)pi.dwProcessId, start_id_of(pi.hProcess), 1, &err);
    CHECK(rc == LK_OK, "the holder is ended: %s", rc ? err.msg : "ok");
    WaitForSingleObject(pi.hProcess, 10000);
    CHECK(lk_sys_tree_check(t, &err) == LK_OK, "after the kill phase it is still the same folder");
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    print_pass(&pass);
    CHECK(rc == LK_OK && !exists(target), "the next pass removes it: %s", rc ? err.msg : "ok");
    lk_remove_pass_free(&pass);
    CHECK(lk_sys_tree_check(t, &err) == LK_ENOENT, "lk_sys_tree_check then says it is gone");
    memset(&pass, 0, sizeof pass);
    CHECK(lk_sys_tree_remove_once(t, &pass, &err) == LK_OK, "removing it again succeeds");
    lk_remove_pass_free(&pass);

    after = digest(outside);
    sib_after = digest(sibling);
    CHECK(strcmp(before, after) == 0, "outside is intact byte for byte");
    CHECK(strcmp(sib_before, sib_after) == 0 && exists(sibling),
          "session-10 (a name that starts the same) is intact");
    free(after);
    free(sib_after);
out:
    lk_sys_tree_close(t);
    stop(&pi);
    free(before);
    free(sib_before);
    free(h);
    free(target);
    free(cookies);
    free(ready);
    free(ro);
    free(target8);
    free(outside);
    free(sibling);
}

/* ---- 2. links inside, and links as the target or on the way -------------- */

static void test_links(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"l", L"l\\outside", L"l\\outside\\sub", L"l\\tree",
                                          L"l\\tree\\a", L"l\\tree\\a\\b", L"l\\realparent",
                                          L"l\\realparent\\s", NULL};
    wchar_t *l = wjoin(base, L"l"), *outside = wjoin(l, L"outside"), *tree = wjoin(l, L"tree");
    wchar_t *dlink = wjoin(tree, L"a\\b\\dirlink"), *flink = wjoin(tree, L"a\\filelink");
    wchar_t *okeep = wjoin(outside, L"keep.txt"), *tlink = wjoin(l, L"target-link");
    wchar_t *plink = wjoin(l, L"parent-link"), *dlink_file = wjoin(tree, L"a\\b\\f.txt");
    wchar_t *dslink = wjoin(tree, L"a\\dirsymlink");
    char *tree8 = u8(tree), *tlink8 = u8(tlink), *before, *after, *via8 = NULL;
    const char *dk, *fk, *tk, *pk;
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    int rc;

    mkdirs(base, dirs);
    put(l, L"outside\\keep.txt", "keep me");
    put(l, L"outside\\sub\\deep.txt", "deep");
    put(l, L"outside\\s", "");
    put(l, L"tree\\a\\b\\f.txt", "in the tree");
    put(l, L"realparent\\s\\x.txt", "the real one");
    before = digest(outside);

    dk = make_dir_link(dlink, outside, g_marker);
    /* A directory symbolic link as well as the junction, where Win32 makes one
     * (an unprivileged one needs developer mode). */
    if (CreateSymbolicLinkW(dslink, outside,
                            SYMBOLIC_LINK_FLAG_DIRECTORY |
                                SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE) &&
        (GetFileAttributesW(dslink) & FILE_ATTRIBUTE_REPARSE_POINT) &&
        GetFileAttributesW(dslink) != INVALID_FILE_ATTRIBUTES)
        note("and a directory symbolic link to it");
    else
        note("no directory symbolic link (%s)", is_wine() ? "wine: CreateSymbolicLinkW is a stub"
                                                          : "no privilege for it here");
    fk = make_file_link(flink, okeep, g_marker);
    tk = make_dir_link(tlink, outside, g_marker);
    pk = make_dir_link(plink, outside, g_marker);
    if (!CHECK(dk && tk && pk, "links made: %s to a folder outside", dk ? dk : "none"))
        goto out;
    note("file link: %s", fk ? fk : "none (symbolic links need a privilege here)");
    CHECK(lk_sys_ftype(tlink8) == LK_FT_LINK, "lk_sys_ftype: the link is a link");

    /* The target itself a link: refused, nothing touched. */
    rc = lk_sys_tree_open(tlink8, &t, &err);
    CHECK(rc == LK_EREFUSED && t == NULL, "lk_sys_tree_open of a link: LK_EREFUSED (%s)", err.msg);
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_remove_tree_once(tlink8, &pass, &err);
    CHECK(rc == LK_EREFUSED, "lk_sys_remove_tree_once of a link: refused (%s)", err.msg);
    lk_remove_pass_free(&pass);

    /* A link on the way: parent-link\s would be outside\s. */
    {
        wchar_t *via = wjoin(plink, L"sub");
        via8 = u8(via);
        rc = lk_sys_tree_open(via8, &t, &err);
        CHECK(rc == LK_EREFUSED && t == NULL,
              "a path through a link is refused: %s", err.msg);
        CHECK(strstr(err.msg, "parent-link") != NULL, "and the message names the link");
        free(via);
    }

    /* Links inside: never followed. */
    rc = lk_sys_tree_open(tree8, &t, &err);
    if (!CHECK(rc == LK_OK, "lk_sys_tree_open of a tree with links inside: %s",
               rc ? err.msg : "ok"))
        goto out;
    CHECK(lk_sys_tree_entry(t, "a") == LK_FT_DIR, "lk_sys_tree_entry: a is a folder");
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    print_pass(&pass);
    if (!is_wine()) {
        CHECK(rc == LK_OK && !exists(tree), "the tree is gone, the links removed as links: %s",
              rc ? err.msg : "ok");
    } else {
        /* wine opens what a Unix symlink points to: the link stays, named. */
        CHECK(rc != LK_OK && has_left(&pass, "\\dirlink", "not"),
              "wine: the folder symlink is left with its reason (%s)", err.msg);
        if (fk)
            CHECK(has_left(&pass, "\\filelink", "not removed"),
                  "wine: the file symlink is left too, never deleted through");
        CHECK(pass.boundary && !pass.retryable, "a boundary: waiting will not help");
        CHECK(!exists(dlink_file), "everything else in the tree went");
    }
    lk_remove_pass_free(&pass);
    after = digest(outside);
    CHECK(strcmp(before, after) == 0, "outside is intact byte for byte");
    CHECK(exists(okeep) && exists(outside), "the folder and the file behind the links are there");
    free(after);
out:
    lk_sys_tree_close(t);
    free(before);
    free(l);
    free(outside);
    free(tree);
    free(dlink);
    free(flink);
    free(okeep);
    free(tlink);
    free(plink);
    free(dlink_file);
    free(dslink);
    free(tree8);
    free(tlink8);
    free(via8);
}

/* ---- 3. a parent swapped for a link while the folder is held ------------- */

static void layout_swap(const wchar_t *dir)
{
    static const wchar_t *const dirs[] = {L"", L"outside", L"outside\\target",
                                          L"outside\\target\\Default", L"g", L"g\\p",
                                          L"g\\p\\target", L"g\\p\\target\\Default", NULL};
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

/* ---- 4. quarantine ------------------------------------------------------- */

static void test_move_aside(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"q",
                                          L"q\\.latchkey-trash",
                                          L"q\\.latchkey-trash\\session-old-1",
                                          L"q\\session-q",
                                          L"q\\session-q\\Default",
                                          L"q\\session-e",
                                          L"q\\session-l",
                                          L"q\\elsewhere",
                                          NULL};
    wchar_t *q = wjoin(base, L"q"), *trash = wjoin(q, L".latchkey-trash");
    wchar_t *target = wjoin(q, L"session-q"), *e = wjoin(q, L"session-e");
    wchar_t *moved_w = wjoin(trash, L"session-q-1");
    wchar_t *t2 = wjoin(q, L".trash2"), *lt = wjoin(q, L".trash-link"), *ls = wjoin(q, L"session-l");
    wchar_t *elsewhere = wjoin(q, L"elsewhere");
    char *target8 = u8(target), *e8 = u8(e), *ls8 = u8(ls), *moved = NULL, *moved_expect = u8(moved_w);
    char *trash_before, *trash_after, *else_before, *else_after;
    const char *made;
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    int rc;

    mkdirs(base, dirs);
    put(q, L".latchkey-trash\\session-old-1\\Cookies", "an older quarantined session");
    put(q, L"session-q\\Default\\Cookies", "c");
    put(q, L"session-e\\f", "e");
    put(q, L"elsewhere\\mine.txt", "not the trash");
    trash_before = digest(trash);

    rc = lk_sys_tree_open(target8, &t, &err);
    if (!CHECK(rc == LK_OK, "held: %s", rc ? err.msg : "ok"))
        goto out;
    rc = lk_sys_tree_move_aside(t, ".latchkey-trash", "session-q-1", &moved, &err);
    CHECK(rc == LK_OK, "lk_sys_tree_move_aside into .latchkey-trash: %s", rc ? err.msg : "ok");
    CHECK(moved && _stricmp(moved, moved_expect) == 0, "it says where: %s",
          moved ? moved : "(null)");
    CHECK(!exists(target) && exists(moved_w), "the name is free, the folder in the trash");
    CHECK(lk_sys_tree_check(t, &err) == LK_OK && _stricmp(lk_sys_tree_path(t), moved_expect) == 0,
          "the tree now stands for the moved folder");
    CHECK(rc == LK_OK && lk_sys_tree_move_aside(t, ".latchkey-trash", "again", &moved, &err) != LK_OK,
          "a second move aside is refused");
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    CHECK(rc == LK_OK && !exists(moved_w), "removed where it was moved to: %s", rc ? err.msg : "ok");
    lk_remove_pass_free(&pass);
    lk_sys_tree_drop_trash(t, ".latchkey-trash");
    trash_after = digest(trash);
    CHECK(exists(trash) && strcmp(trash_before, trash_after) == 0,
          "drop_trash leaves a trash with an older session in it, byte for byte");
    free(trash_after);
    lk_sys_tree_close(t);
    t = NULL;

    /* An empty trash goes. */
    rc = lk_sys_tree_open(e8, &t, &err);
    if (CHECK(rc == LK_OK, "held: session-e")) {
        free(moved);
        moved = NULL;
        rc = lk_sys_tree_move_aside(t, ".trash2", "session-e-1", &moved, &err);
        CHECK(rc == LK_OK && exists(t2), "moved into a new .trash2: %s", rc ? err.msg : "ok");
        memset(&pass, 0, sizeof pass);
        rc = lk_sys_tree_remove_once(t, &pass, &err);
        CHECK(rc == LK_OK, "removed there");
        lk_remove_pass_free(&pass);
        lk_sys_tree_drop_trash(t, ".trash2");
        CHECK(!exists(t2), "drop_trash removes the trash once it is empty");
        lk_sys_tree_close(t);
        t = NULL;
    }

    /* A trash that is a link is not used. */
    else_before = digest(elsewhere);
    made = make_dir_link(lt, elsewhere, g_marker);
    if (CHECK(made != NULL, "the trash name is %s to another folder", made ? made : "no link") &&
        CHECK(lk_sys_tree_open(ls8, &t, &err) == LK_OK, "held: session-l")) {
        free(moved);
        moved = NULL;
        rc = lk_sys_tree_move_aside(t, ".trash-link", "session-l-1", &moved, &err);
        CHECK(rc == LK_EREFUSED, "moving into a trash that is a link: refused (%s)", err.msg);
        CHECK(exists(ls), "the folder stayed where it was");
        lk_sys_tree_drop_trash(t, ".trash-link");
        CHECK(exists(lt), "drop_trash leaves a link alone");
    }
    else_after = digest(elsewhere);
    CHECK(strcmp(else_before, else_after) == 0, "the folder behind it is intact byte for byte");
    free(else_before);
    free(else_after);
out:
    lk_sys_tree_close(t);
    free(trash_before);
    free(moved);
    free(moved_expect);
    free(q);
    free(trash);
    free(target);
    free(e);
    free(moved_w);
    free(t2);
    free(lt);
    free(ls);
    free(elsewhere);
    free(target8);
    free(e8);
    free(ls8);
}

/* ---- 5. one entry: a stale lockfile -------------------------------------- */

static void test_unlink(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"u", L"u\\profile", L"u\\profile\\Default",
                                          L"u\\outside", NULL};
    wchar_t *u = wjoin(base, L"u"), *prof = wjoin(u, L"profile"), *lock = wjoin(prof, L"lockfile");
    wchar_t *ready = wjoin(u, L"ready"), *outside = wjoin(u, L"outside");
    wchar_t *okeep = wjoin(outside, L"precious.txt"), *flink = wjoin(prof, L"SingletonLink");
    char *prof8 = u8(prof), *before, *after, *pbefore = NULL, *pafter;
    const char *fk;
    PROCESS_INFORMATION pi = {0};
    lk_tree *t = NULL;
    lk_error err;
    int rc;

    mkdirs(base, dirs);
    put(prof, L"lockfile", "");
    put(prof, L"Local State", "{}");
    put(prof, L"Default\\Preferences", "{}");
    put(u, L"outside\\precious.txt", "precious");
    fk = make_file_link(flink, okeep, g_marker);
    before = digest(outside);
    if (!CHECK(hold(lock, ready, &pi), "lock_helper holds the lockfile (as Chromium does)"))
        goto out;
    rc = lk_sys_tree_open(prof8, &t, &err);
    if (!CHECK(rc == LK_OK, "held: %s", rc ? err.msg : "ok"))
        goto out;
    CHECK(lk_sys_tree_entry(t, "lockfile") == LK_FT_FILE, "lk_sys_tree_entry: lockfile is a file");
    CHECK(lk_sys_tree_entry(t, "Default") == LK_FT_DIR, "Default is a folder");
    CHECK(lk_sys_tree_entry(t, "missing") == LK_FT_NONE, "missing is not there");
    rc = lk_sys_tree_unlink(t, "lockfile", &err);
    CHECK(rc == LK_EBUSY && exists(lock), "while its holder lives: LK_EBUSY (%s)", err.msg);
    rc = lk_sys_proc_end((long)pi.dwProcessId, start_id_of(pi.hProcess), 1, &err);
    WaitForSingleObject(pi.hProcess, 10000);
    CHECK(rc == LK_OK, "the holder is ended");
    pbefore = digest(prof);
    rc = lk_sys_tree_unlink(t, "lockfile", &err);
    CHECK(rc == LK_OK && !exists(lock), "then lk_sys_tree_unlink removes it: %s",
          rc ? err.msg : "ok");
    CHECK(lk_sys_tree_unlink(t, "lockfile", &err) == LK_OK, "removing it again is fine");
    rc = lk_sys_tree_unlink(t, "Default", &err);
    CHECK(rc == LK_EINVAL, "a folder is never unlinked: %s", err.msg);
    CHECK(lk_sys_tree_unlink(t, "..\\u", &err) == LK_EINVAL, "a name with a separator is refused");
    if (fk) {
        CHECK(lk_sys_tree_entry(t, "SingletonLink") == LK_FT_LINK, "lk_sys_tree_entry: %s is a link", fk);
        rc = lk_sys_tree_unlink(t, "SingletonLink", &err);
        if (is_wine())
            CHECK(rc == LK_EREFUSED, "wine: unlinking it is refused, never done through the "
                                     "file it names (%s)", err.msg);
        else
            CHECK(rc == LK_OK, "the link itself is removed: %s", rc ? err.msg : "ok");
    }
    pafter = digest(prof);
    CHECK(strstr(pafter, "Default/\n") && strstr(pafter, "Local State") &&
              strstr(pafter, "Preferences"),
          "the login (Default, Local State) is untouched:\n%s", pafter);
    free(pafter);
    after = digest(outside);
    CHECK(strcmp(before, after) == 0, "the file outside is intact byte for byte");
    free(after);
out:
    lk_sys_tree_close(t);
    stop(&pi);
    free(before);
    free(pbefore);
    free(u);
    free(prof);
    free(lock);
    free(ready);
    free(outside);
    free(okeep);
    free(flink);
    free(prof8);
}

/* ---- 6. the kill guard --------------------------------------------------- */

static int line_says(const char *rep, const char *what, const char *code)
{
    const char *p = rep;
    size_t n = strlen(what);
    while (p && *p) {
        if (strncmp(p, what, n) == 0 && p[n] == ' ') {
            const char *sp = strchr(p + n + 1, ' ');
            return sp && strncmp(sp + 1, code, strlen(code)) == 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static void test_kill_guard(const wchar_t *base)
{
    wchar_t *report = wjoin(base, L"guard-report"), cmd[3 * MAX_PATH];
    PROCESS_INFORMATION pi = {0};
    lk_snapshot *snap = NULL;
    const lk_proc *me;
    lk_error err;
    DWORD code = 99;
    char *rep = NULL;
    int rc;

    rc = lk_sys_proc_end(lk_sys_self_pid(), start_id_of(GetCurrentProcess()), 1, &err);
    CHECK(rc == LK_EREFUSED, "lk_sys_proc_end of this process: refused (%s)", err.msg);
    rc = lk_sys_proc_end(4, 0, 1, &err);
    CHECK(rc == LK_EREFUSED, "pid 4: refused (%s)", err.msg);
    rc = lk_sys_proc_end(0, 0, 1, &err);
    CHECK(rc == LK_EREFUSED, "pid 0: refused (%s)", err.msg);
    if (lk_sys_snapshot(&snap, LK_SNAP_PROCS, &err) == LK_OK &&
        (me = lk_snapshot_find(snap, lk_sys_self_pid())) != NULL) {
        const lk_proc *parent = lk_snapshot_find(snap, me->ppid);
        if (parent) {
            rc = lk_sys_proc_end(parent->pid, parent->start_id, 1, &err);
            CHECK(rc == LK_EREFUSED, "our parent %s (pid %ld): refused (%s)", parent->name,
                  parent->pid, err.msg);
        } else {
            note("this process has no parent in the process table (ppid %ld: started from "
                 "the Unix side under wine); the chain below stands in for it",
                 me->ppid);
        }
    }
    lk_snapshot_free(snap);

    /* test -> chain -> guard: the guard tries its parent and grandparent. */
    _snwprintf(cmd, sizeof cmd / sizeof cmd[0], L"\"%ls\\tree_helper.exe\" chain \"%ls\"", g_dir,
               report);
    cmd[sizeof cmd / sizeof cmd[0] - 1] = L'\0';
    DeleteFileW(report);
    if (!CHECK(start(cmd, &pi), "tree_helper chain started"))
        goto out;
    WaitForSingleObject(pi.hProcess, 60000);
    GetExitCodeProcess(pi.hProcess, &code);
    rep = read_text(report);
    note("guard report:\n%s", rep ? rep : "(none)");
    CHECK(rep && strstr(rep, "\ndone\n"), "the guard finished its report (it did not end itself)");
    CHECK(rep && line_says(rep, "parent", "refused"), "its parent: LK_EREFUSED");
    CHECK(rep && line_says(rep, "grandparent", "refused"),
          "its grandparent (this test): LK_EREFUSED");
    CHECK(rep && line_says(rep, "pid4", "refused") && line_says(rep, "pid0", "refused"),
          "pids 4 and 0: LK_EREFUSED");
    CHECK(rep && line_says(rep, "self", "refused"), "itself: LK_EREFUSED");
    CHECK(code == 0, "its parent ran to its end, not ended (exit code %lu)", code);
    CHECK(WaitForSingleObject(GetCurrentProcess(), 0) == WAIT_TIMEOUT, "and we are still here");
out:
    stop(&pi);
    free(rep);
    free(report);
}

/* ---- 7. paths ------------------------------------------------------------ */

static void expect_abs(const char *in, const char *want)
{
    char *out = NULL;
    lk_error err;
    int rc = lk_sys_abspath(in, &out, &err);
    CHECK(rc == LK_OK && out && strcmp(out, want) == 0, "abspath(%s) = %s (got %s)", in, want,
          rc ? err.msg : out);
    free(out);
}

static void test_abspath(const wchar_t *base)
{
    wchar_t old[MAX_PATH];
    char *b8 = u8(base), want[3 * MAX_PATH], up[2 * MAX_PATH], *slash;
    CHECK(lk_sys_path_win() == 1, "lk_sys_path_win() is 1 here");
    GetCurrentDirectoryW(MAX_PATH, old);
    SetCurrentDirectoryW(base);
    snprintf(want, sizeof want, "%s\\x", b8);
    expect_abs("x", want);
    expect_abs("x\\", want);
    expect_abs(".\\x", want);
    expect_abs("x/", want);
    expect_abs(".//x", want);
    snprintf(up, sizeof up, "%s", b8);
    slash = strrchr(up, '\\');
    if (slash)
        *slash = '\0';
    snprintf(want, sizeof want, "%s\\x", up);
    expect_abs("..\\x", want);
    SetCurrentDirectoryW(old);
    expect_abs("C:/x", "C:\\x");
    expect_abs("C:\\a\\.\\b\\..\\x", "C:\\a\\x");
    expect_abs("\\\\?\\C:\\x", "C:\\x");
    expect_abs("\\??\\C:\\x", "C:\\x");
    expect_abs("\\\\.\\C:\\x", "C:\\x");
    expect_abs("//?/C:/x", "C:\\x");
    expect_abs("\\\\?\\UNC\\server\\share\\x", "\\\\server\\share\\x");
    expect_abs("\\\\server\\share\\x\\", "\\\\server\\share\\x");
    expect_abs("//server/share/x", "\\\\server\\share\\x");
    free(b8);
}

static void test_roots(void)
{
    lk_tree *t = NULL;
    lk_error err;
    int rc = lk_sys_tree_open("C:\\", &t, &err);
    CHECK(rc == LK_EREFUSED && !t, "the root of a volume is refused: %s", err.msg);
    rc = lk_sys_tree_open("\\\\?\\C:\\", &t, &err);
    CHECK(rc == LK_EREFUSED && !t, "also spelled \\\\?\\C:\\");
    rc = lk_sys_tree_open("C:\\no-such-folder-here\\x", &t, &err);
    CHECK(rc == LK_ENOENT, "a missing folder: LK_ENOENT (%s)", err.msg);
}

/* A tmpfs mounted inside the target (wine only: a Unix mount is what wine
 * shows as another volume), and a target that is itself a mount point. */
static void test_mounts(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"m", L"m\\target", L"m\\target\\mnt", L"m\\mounted",
                                          NULL};
    wchar_t *m = wjoin(base, L"m"), *target = wjoin(m, L"target"), *mnt = wjoin(target, L"mnt");
    wchar_t *mounted = wjoin(m, L"mounted"), *inmnt = wjoin(mnt, L"on-tmpfs.txt");
    char *target8 = u8(target), *mounted8 = u8(mounted), *um = NULL, *umd = NULL;
    lk_remove_pass pass;
    lk_tree *t = NULL;
    lk_error err;
    int rc;

    if (!is_wine()) {
        note("volume mount points inside a folder need a second volume: left to a real Windows "
             "machine with one");
        goto out;
    }
    mkdirs(base, dirs);
    um = unix_path(mnt);
    umd = unix_path(mounted);
    if (!um || !umd || unix_sh(g_marker, "mount -t tmpfs lk-test '%s' && mount -t tmpfs lk-test '%s'", um, umd) != 0) {
        note("cannot mount a tmpfs here (not root?): mount points not tested");
        goto out;
    }
    make_file(inmnt, "on another file system");
    rc = lk_sys_tree_open(mounted8, &t, &err);
    CHECK(rc == LK_EREFUSED && !t, "a target that is a mount point: refused (%s)", err.msg);
    rc = lk_sys_tree_open(target8, &t, &err);
    if (CHECK(rc == LK_OK, "held: a folder with a mount inside")) {
        memset(&pass, 0, sizeof pass);
        rc = lk_sys_tree_remove_once(t, &pass, &err);
        print_pass(&pass);
        CHECK(rc != LK_OK && pass.boundary && has_left(&pass, "\\mnt", NULL),
              "the mount point is left, a boundary (%s)", err.msg);
        CHECK(exists(inmnt), "and the file on it is still there");
        lk_remove_pass_free(&pass);
    }
    unix_sh(g_marker, "umount '%s'; umount '%s'", um, umd);
out:
    lk_sys_tree_close(t);
    free(m);
    free(target);
    free(mnt);
    free(mounted);
    free(inmnt);
    free(target8);
    free(mounted8);
    free(um);
    free(umd);
}

/* ---- 8. DevToolsActivePort ------------------------------------------------ */

static void test_active_port(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"dt", L"dt\\p1", L"dt\\p2", L"dt\\p3", L"dt\\elsewhere",
                                          NULL};
    wchar_t *dt = wjoin(base, L"dt"), *good = wjoin(dt, L"p1\\DevToolsActivePort");
    wchar_t *dlink = wjoin(dt, L"p2\\DevToolsActivePort"), *flink = wjoin(dt, L"p3\\DevToolsActivePort");
    wchar_t *elsewhere = wjoin(dt, L"elsewhere"), *secret = wjoin(elsewhere, L"secret");
    char *good8 = u8(good), *dlink8 = u8(dlink), *flink8 = u8(flink), *buf = NULL;
    const char *dk, *fk;
    HANDLE pipe;
    lk_error err;
    size_t n = 0;
    int64_t t0;
    int rc;

    mkdirs(base, dirs);
    make_file(good, "9222\n/devtools/browser/abc\n");
    make_file(secret, "1234\n/devtools/browser/not-yours\n");
    rc = lk_sys_read_file(good8, 4096, 0, &buf, &n, &err);
    CHECK(rc == LK_OK && buf && strncmp(buf, "9222\n", 5) == 0, "a plain DevToolsActivePort reads");
    free(buf);
    buf = NULL;

    dk = make_dir_link(dlink, elsewhere, g_marker);
    if (CHECK(dk != NULL, "DevToolsActivePort is %s to a folder", dk ? dk : "no link")) {
        t0 = lk_sys_now_ms();
        rc = lk_sys_read_file(dlink8, 4096, 0, &buf, &n, &err);
        CHECK(rc != LK_OK && !buf, "not followed: %s", err.msg);
        CHECK(strstr(err.msg, "link") || strstr(err.msg, "folder"), "and the error says why");
        CHECK(lk_sys_now_ms() - t0 < 2000, "at once");
    }
    fk = make_file_link(flink, secret, g_marker);
    if (fk) {
        rc = lk_sys_read_file(flink8, 4096, 0, &buf, &n, &err);
        CHECK(rc != LK_OK && !buf, "DevToolsActivePort as %s is not read through: %s", fk, err.msg);
    } else {
        note("no file symbolic link could be made (needs a privilege on Windows)");
    }

    /* A named pipe: opening a client end would connect to whoever serves it,
     * and a read would wait for them. Refused before anything is opened. */
    pipe = CreateNamedPipeW(L"\\\\.\\pipe\\latchkey-test-devtools", PIPE_ACCESS_DUPLEX,
                            PIPE_TYPE_BYTE | PIPE_WAIT, 1, 512, 512, 0, NULL);
    if (CHECK(pipe != INVALID_HANDLE_VALUE, "a named pipe served by the test")) {
        t0 = lk_sys_now_ms();
        rc = lk_sys_read_file("\\\\.\\pipe\\latchkey-test-devtools", 4096, 0, &buf, &n, &err);
        CHECK(rc == LK_EINVAL && !buf, "a pipe path is refused: %s", err.msg);
        CHECK(lk_sys_now_ms() - t0 < 2000, "at once, no hang");
        rc = lk_sys_read_file("\\\\?\\pipe\\latchkey-test-devtools", 4096, 0, &buf, &n, &err);
        CHECK(rc == LK_EINVAL && !buf, "also spelled \\\\?\\pipe\\: %s", err.msg);
        {
            /* Non-blocking: ConnectNamedPipe then only says whether a client came. */
            DWORD mode = PIPE_READMODE_BYTE | PIPE_NOWAIT;
            BOOL ok;
            SetNamedPipeHandleState(pipe, &mode, NULL, NULL);
            ok = ConnectNamedPipe(pipe, NULL);
            CHECK(!ok && GetLastError() == ERROR_PIPE_LISTENING,
                  "and nobody connected to the pipe (%lu)", ok ? 0 : GetLastError());
        }
        CloseHandle(pipe);
    }
    rc = lk_sys_read_file("NUL", 4096, 0, &buf, &n, &err);
    CHECK(rc != LK_OK && !buf, "the NUL device is not read: %s", err.msg);
    free(dt);
    free(good);
    free(dlink);
    free(flink);
    free(elsewhere);
    free(secret);
    free(good8);
    free(dlink8);
    free(flink8);
}

/* ---- 9. homes ------------------------------------------------------------ */

static void test_homes(void)
{
    wchar_t saved[MAX_PATH];
    char *home, *again, **homes = NULL;
    const char *const *within, *const *roots, *const *exact;
    size_t n = 0, i;
    int rc, found = 0, has_chrome = 0, has_signal = 0, has_roaming = 0, has_docs = 0;
    DWORD had = GetEnvironmentVariableW(L"USERPROFILE", saved, MAX_PATH);

    home = lk_sys_home_dir();
    CHECK(home && home[1] == ':', "lk_sys_home_dir: %s", home ? home : "(null)");
    SetEnvironmentVariableW(L"USERPROFILE", L"C:\\not-my-home");
    again = lk_sys_home_dir();
    CHECK(home && again && strcmp(home, again) == 0,
          "it comes from the account, not from %%USERPROFILE%% (%s)", again ? again : "(null)");
    SetEnvironmentVariableW(L"USERPROFILE", had && had < MAX_PATH ? saved : NULL);
    rc = lk_sys_home_dirs(&homes, &n);
    CHECK(rc == LK_OK && n >= 1, "lk_sys_home_dirs: %lu homes", (unsigned long)n);
    for (i = 0; i < n; i++) {
        note("  home: %s", homes[i]);
        if (home && _stricmp(homes[i], home) == 0)
            found = 1;
        CHECK(strchr(homes[i], '%') == NULL, "%s has its variables expanded", homes[i]);
        free(homes[i]);
    }
    free(homes);
    CHECK(found, "ours is among them");
    lk_sys_home_protected(&within, &roots, &exact);
    for (i = 0; within && within[i]; i++) {
        has_chrome |= strcmp(within[i], "AppData\\Local\\Google\\Chrome\\User Data") == 0;
        has_signal |= strcmp(within[i], "AppData\\Roaming\\Signal") == 0;
    }
    for (i = 0; roots && roots[i]; i++)
        has_roaming |= strcmp(roots[i], "AppData\\Roaming") == 0;
    for (i = 0; exact && exact[i]; i++)
        has_docs |= strcmp(exact[i], "Documents") == 0;
    CHECK(has_chrome && has_signal && has_roaming && has_docs,
          "the protected lists name Chrome's profile, Signal, AppData\\Roaming and Documents");
    free(home);
    free(again);
}

int main(void)
{
    wchar_t tmp[MAX_PATH], base[MAX_PATH], *slash;
    char *base8;
    lk_remove_pass pass;
    lk_error err;

    setvbuf(stdout, NULL, _IONBF, 0);
    GetModuleFileNameW(NULL, g_dir, MAX_PATH);
    slash = wcsrchr(g_dir, L'\\');
    if (slash)
        *slash = L'\0';
    GetTempPathW(MAX_PATH, tmp);
    _snwprintf(base, MAX_PATH, L"%lslk-tree-%lu", tmp, GetCurrentProcessId());
    base[MAX_PATH - 1] = L'\0';
    CreateDirectoryW(base, NULL);
    _snwprintf(g_marker, MAX_PATH, L"%ls\\unix-status", base);
    base8 = u8(base);
    note("working in %s%s", base8, is_wine() ? " (under wine)" : "");

    test_held_folder(base);
    test_links(base);
    test_swap_from_test(base);
    test_swap_by_holder(base, 0);
    test_swap_by_holder(base, 1);
    test_move_aside(base);
    test_unlink(base);
    test_kill_guard(base);
    test_abspath(base);
    test_roots();
    test_mounts(base);
    test_active_port(base);
    test_homes();

    /* Our scratch folder; links in it (wine) are left, the rest goes. */
    memset(&pass, 0, sizeof pass);
    lk_sys_remove_tree_once(base8, &pass, &err);
    lk_remove_pass_free(&pass);
    if (is_wine()) {
        char *ub = unix_path(base);
        if (ub && strstr(ub, "lk-tree-"))
            unix_sh(L"C:\\windows\\temp\\lk-tree-status", "rm -rf '%s'", ub);
        free(ub);
    }
    free(base8);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
