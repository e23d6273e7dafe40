/* The held folder on Windows (lk_sys_tree_*) with real files and real
 * processes (under wine in CI): removal of a folder a process holds files
 * in, links inside it, as it and on the way to it, quarantine, a stale lock
 * file, volume roots and mount points. After every removal, everything
 * outside the target is compared byte for byte with what it was before.
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
 *   - volume mount points: under wine a tmpfs mounted by the Unix side
 *     stands in for one (wine shows it as another volume).
 */
#include "win_tree_test.h"

/* ---- 1. a held folder ---------------------------------------------------- */

static void test_held_folder(const wchar_t *base)
{
    static const wchar_t *const dirs[] = {L"h",
                                          L"h\\outside",
                                          L"h\\session-1",
                                          L"h\\session-1\\Default",
                                          L"h\\session-1\\Default\\Cache",
                                          L"h\\session-10",
                                          NULL};
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
    static const wchar_t *const dirs[] = {
        L"l",          L"l\\outside",    L"l\\outside\\sub", L"l\\tree",
        L"l\\tree\\a", L"l\\tree\\a\\b", L"l\\realparent",   L"l\\realparent\\s",
        NULL};
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
        note("no directory symbolic link (%s)",
             is_wine() ? "wine: CreateSymbolicLinkW is a stub" : "no privilege for it here");
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
        CHECK(rc == LK_EREFUSED && t == NULL, "a path through a link is refused: %s", err.msg);
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
    wchar_t *t2 = wjoin(q, L".trash2"), *lt = wjoin(q, L".trash-link"),
            *ls = wjoin(q, L"session-l");
    wchar_t *elsewhere = wjoin(q, L"elsewhere");
    char *target8 = u8(target), *e8 = u8(e), *ls8 = u8(ls), *moved = NULL,
         *moved_expect = u8(moved_w);
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
    CHECK(rc == LK_OK &&
              lk_sys_tree_move_aside(t, ".latchkey-trash", "again", &moved, &err) != LK_OK,
          "a second move aside is refused");
    memset(&pass, 0, sizeof pass);
    rc = lk_sys_tree_remove_once(t, &pass, &err);
    CHECK(rc == LK_OK && !exists(moved_w), "removed where it was moved to: %s",
          rc ? err.msg : "ok");
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
        CHECK(lk_sys_tree_entry(t, "SingletonLink") == LK_FT_LINK,
              "lk_sys_tree_entry: %s is a link", fk);
        rc = lk_sys_tree_unlink(t, "SingletonLink", &err);
        if (is_wine())
            CHECK(rc == LK_EREFUSED,
                  "wine: unlinking it is refused, never done through the "
                  "file it names (%s)",
                  err.msg);
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
    if (!um || !umd ||
        unix_sh(g_marker, "mount -t tmpfs lk-test '%s' && mount -t tmpfs lk-test '%s'", um, umd) !=
            0) {
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

int main(void)
{
    wchar_t base[MAX_PATH];
    char *base8 = begin(L"tree", base);
    test_held_folder(base);
    test_links(base);
    test_move_aside(base);
    test_unlink(base);
    test_roots();
    test_mounts(base);
    return finish(base, base8);
}
