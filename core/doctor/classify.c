/* What a holder is, whether it may be ended, and who started a browser.
 *
 * why_spare() is the one set of guard rails for every process the doctor
 * plans to end (cleanup, unlock, stop, the tray's dialog); the OS layer
 * refuses the worst again (lk_sys_proc_end), whatever a caller planned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latchkey/doctor.h"
#include "latchkey/path.h"
#include "doctor/doctor_private.h"
#include "util/strv.h"

const char *lk_kind_name(lk_kind kind)
{
    switch (kind) {
    case LK_KIND_CHROMIUM_BROWSER: return "chromium-browser";
    case LK_KIND_CHROMIUM_CHILD: return "chromium-child";
    case LK_KIND_NODE: return "node";
    case LK_KIND_EXPLORER: return "explorer";
    case LK_KIND_SYSTEM: return "system";
    case LK_KIND_OTHER: return "other";
    case LK_KIND_DESCENDANT: return "descendant";
    }
    return "other";
}

/* Case-insensitive, with or without ".exe". */
int lk__name_is(const char *name, const char *const *list)
{
    size_t i, n;
    if (!name)
        return 0;
    for (i = 0; list[i]; i++) {
        n = strlen(list[i]);
        if (lk_ascii_ncaseeq(name, list[i], n) &&
            (name[n] == '\0' || (strlen(name + n) == 4 && lk_ascii_ncaseeq(name + n, ".exe", 4))))
            return 1;
    }
    return 0;
}

static const char *base_of(const char *path)
{
    const char *b = path, *p;
    for (p = path; p && *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    return b;
}

int lk__has_type_flag(const lk_proc *p)
{
    int i;
    for (i = 1; i < p->argc; i++)
        if (p->argv[i] && strncmp(p->argv[i], "--type=", 7) == 0)
            return 1;
    return 0;
}

int lk__is_chromium(const lk_proc *p)
{
    /* The browsers' own executables, as installed and as Puppeteer and
     * Playwright download them. A wrapper that merely passes the flag on
     * (node bot.js, strace, xvfb-run, a shell) is not the browser. */
    static const char *const exes[] = {"chrome",          "chromium",         "chromium-browser",
                                       "google-chrome",   "google-chrome-stable",
                                       "google-chrome-beta", "google-chrome-unstable",
                                       "msedge",          "microsoft-edge",   "brave",
                                       "brave-browser",   "vivaldi-bin",      "opera",
                                       "headless_shell",  "chrome-headless-shell",
                                       "Google Chrome",   "Chromium",         "Microsoft Edge",
                                       "Brave Browser",   NULL};
    if (lk__has_type_flag(p))
        return 1;
    if (p->exe)
        return lk__name_is(base_of(p->exe), exes);
    if (p->argc > 0 && p->argv[0] && lk__name_is(base_of(p->argv[0]), exes))
        return 1;
    return lk__name_is(p->name, exes);
}

static int is_latchkey(const lk_proc *p)
{
    static const char *const names[] = {"latchkey", "latchkeyctl", NULL};
    /* The image path names the program even when comm was renamed; comm
     * covers a process whose exe we may not read. */
    return (p->exe && lk__name_is(base_of(p->exe), names)) || lk__name_is(p->name, names);
}

/* A process that adopts orphans: init, service managers, container inits. */
static int is_reaper(const lk_proc *p)
{
    static const char *const names[] = {"systemd", "init",      "launchd", "tini", "dumb-init",
                                        "runit",   "s6-svscan", "upstart", NULL};
    return p->pid <= 1 || lk__name_is(p->name, names);
}

void lk__find_launcher(const lk_snapshot *snap, lk_holder *hd)
{
    const lk_proc *b = &hd->proc;
    const lk_proc *parent = b->ppid > 0 ? lk_snapshot_find(snap, b->ppid) : NULL;
    /* A parent younger than its child is a reused pid, not the one that
     * started it. */
    int reused = parent && parent->start_ms && b->start_ms && parent->start_ms > b->start_ms;
    memset(&hd->launcher, 0, sizeof hd->launcher);
    if (parent && !reused && !(parent->flags & LK_PROC_ZOMBIE) &&
        !(is_reaper(parent) && !snap->ppid_survives)) {
        hd->launcher.pid = parent->pid;
        hd->launcher.name = lk_strdup(parent->name);
        hd->launcher.alive = 1;
        hd->owned = is_latchkey(parent);
        return;
    }
    hd->orphaned = 1;
    /* Windows keeps the parent's pid after it exits; POSIX reparents and
     * the launcher's pid is lost with it. */
    if (snap->ppid_survives && b->ppid > 4)
        hd->launcher.pid = b->ppid;
}

const char *lk_holder_launcher_text(const lk_holder *hd, char *buf, size_t size)
{
    if (hd->owned)
        snprintf(buf, size, "started by Latchkey (pid %ld)", hd->launcher.pid);
    else if (hd->orphaned && hd->launcher.pid)
        snprintf(buf, size, "orphaned: its launcher (pid %ld) exited", hd->launcher.pid);
    else if (hd->orphaned)
        snprintf(buf, size, "orphaned: its launcher exited");
    else if (hd->launcher.pid)
        snprintf(buf, size, "used by a running bot: %s pid %ld",
                 hd->launcher.name ? hd->launcher.name : "?", hd->launcher.pid);
    else
        snprintf(buf, size, "launcher unknown");
    return buf;
}

lk_kind lk__classify(const lk_snapshot *snap, size_t idx, const char *mark)
{
    static const char *const node[] = {"node", "nodejs", "bun", "deno", NULL};
    static const char *const explorer[] = {"explorer", NULL};
    static const char *const critical[] = {"System",   "Registry", "smss",     "csrss",   "wininit",
                                           "winlogon", "services", "lsass",    "svchost", "init",
                                           "systemd",  "launchd",  "kthreadd", NULL};
    const lk_proc *p = &snap->procs[idx];
    if (mark[idx] == LK__MARK_PROFILE)
        return lk__has_type_flag(p) ? LK_KIND_CHROMIUM_CHILD : LK_KIND_CHROMIUM_BROWSER;
    if (mark[idx] == LK__MARK_CHILD)
        return LK_KIND_CHROMIUM_CHILD;
    if (mark[idx] == LK__MARK_DESCENDANT)
        return LK_KIND_DESCENDANT;
    if (p->pid <= 1 || p->pid == 4 || (p->flags & LK_PROC_CRITICAL) || lk__name_is(p->name, critical))
        return LK_KIND_SYSTEM;
    if (lk__name_is(p->name, node))
        return LK_KIND_NODE;
    if (lk__name_is(p->name, explorer))
        return LK_KIND_EXPLORER;
    return LK_KIND_OTHER;
}

static int is_ancestor_of(const lk_snapshot *snap, long ancestor, long pid)
{
    int hops = 0;
    while (pid > 0 && hops++ < 4096) {
        const lk_proc *p = lk_snapshot_find(snap, pid);
        if (!p || p->ppid == pid)
            return 0;
        if (p->ppid == ancestor)
            return 1;
        pid = p->ppid;
    }
    return 0;
}

/* Only a current (or root) folder inside: on POSIX that blocks nothing. */
static int only_cwd(const lk_holder *hd)
{
    size_t i;
    if (hd->nheld == 0)
        return 0;
    for (i = 0; i < hd->nheld; i++)
        if (hd->held[i].how != LK_HOW_CWD && hd->held[i].how != LK_HOW_ROOT)
            return 0;
    return 1;
}

int lk__holds_something(const lk_snapshot *snap, const lk_holder *hd)
{
    return snap->cwd_blocks_delete || !only_cwd(hd);
}

char *lk__why_spare(const lk_snapshot *snap, const lk_holder *hd)
{
    const lk_proc *p = &hd->proc;
    char buf[320];
    if (p->pid == snap->self_pid)
        return lk_strdup("this is Latchkey itself");
    if (is_ancestor_of(snap, p->pid, snap->self_pid))
        return lk_strdup("it started Latchkey (a parent process)");
    if (hd->kind == LK_KIND_SYSTEM)
        return lk_strdup("a critical system process; ending it would crash or log out the system");
    if (hd->kind == LK_KIND_EXPLORER)
        return lk_strdup("Explorer: close its windows that show this folder, or restart Explorer "
                         "from Task Manager");
    if (p->flags & LK_PROC_ZOMBIE)
        return lk_strdup("it has already exited (waiting for its parent to reap it)");
    if ((p->flags & LK_PROC_OTHER_USER) && !snap->elevated) {
        snprintf(buf, sizeof buf, "it belongs to user %s; run as root or Administrator to end it",
                 p->user ? p->user : "(unknown)");
        return lk_strdup(buf);
    }
    if (hd->kind == LK_KIND_DESCENDANT) {
        snprintf(buf, sizeof buf,
                 "the browser started it (parent pid %ld), but it is not Chromium and holds "
                 "nothing here",
                 p->ppid);
        return lk_strdup(buf);
    }
    if (!snap->cwd_blocks_delete && hd->kind != LK_KIND_CHROMIUM_BROWSER &&
        hd->kind != LK_KIND_CHROMIUM_CHILD && only_cwd(hd))
        return lk_strdup("only its current folder is inside, which on this system blocks "
                         "nothing");
    return NULL;
}

int lk__copy_proc(lk_proc *dst, const lk_proc *src)
{
    int i;
    memset(dst, 0, sizeof *dst);
    dst->pid = src->pid;
    dst->ppid = src->ppid;
    dst->start_id = src->start_id;
    dst->start_ms = src->start_ms;
    dst->flags = src->flags;
    dst->name = lk_strdup(src->name);
    dst->exe = lk_strdup(src->exe);
    dst->cmdline = lk_strdup(src->cmdline);
    dst->user = lk_strdup(src->user);
    if (src->argc > 0) {
        dst->argv = calloc((size_t)src->argc + 1, sizeof *dst->argv);
        if (!dst->argv)
            return LK_ENOMEM;
        for (i = 0; i < src->argc; i++)
            dst->argv[i] = lk_strdup(src->argv[i]);
        dst->argc = src->argc;
    }
    return LK_OK;
}
