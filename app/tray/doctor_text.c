/* doctor_text.c - what the lock doctor dialog says: its plan, its reports and
 * how it names processes and what they hold. Core speaks English only; its
 * phases are translated here. */
#include <string.h>

#include "doctor_text.h"
#include "i18n.h"

#include "latchkey/path.h"

/* The phases core reports, so they are translated; an unknown phase is
 * shown as it comes. */
static const char *const core_steps[] = {
    N_("looking for processes that hold the folder"),
    N_("asking the holders to exit"),
    N_("ending the holders that did not exit"),
    N_("removing the folder"),
    N_("removing the lock files"),
    N_("moving what is left aside"),
    N_("checking that nothing holds it any more"),
};

const char *lk_doctor_step_text(const char *step)
{
    size_t i;
    for (i = 0; i < G_N_ELEMENTS(core_steps); i++)
        if (strcmp(step, core_steps[i]) == 0)
            return _(core_steps[i]);
    return step;
}

const char *lk_doctor_kind_icon(lk_kind k)
{
    switch (k) {
    case LK_KIND_CHROMIUM_BROWSER:
    case LK_KIND_CHROMIUM_CHILD: return "web-browser-symbolic";
    case LK_KIND_NODE: return "utilities-terminal-symbolic";
    case LK_KIND_EXPLORER: return "system-file-manager-symbolic";
    case LK_KIND_SYSTEM: return "emblem-system-symbolic";
    case LK_KIND_OTHER:
    case LK_KIND_DESCENDANT: break;
    }
    return "application-x-executable-symbolic";
}

const char *lk_doctor_kind_text(lk_kind k)
{
    switch (k) {
    case LK_KIND_CHROMIUM_BROWSER: return _("Chromium of this profile");
    case LK_KIND_CHROMIUM_CHILD: return _("Chromium helper process");
    case LK_KIND_NODE: return _("Node.js");
    case LK_KIND_EXPLORER: return _("File Explorer");
    case LK_KIND_SYSTEM: return _("system process");
    case LK_KIND_DESCENDANT: return _("program the browser started");
    case LK_KIND_OTHER: break;
    }
    return _("other program");
}

static const char *how_text(lk_how how)
{
    switch (how) {
    case LK_HOW_FILE: return _("open file");
    case LK_HOW_CWD: return _("current folder");
    case LK_HOW_ROOT: return _("root folder");
    case LK_HOW_EXE: return _("runs from it");
    case LK_HOW_MAP: return _("mapped in memory");
    case LK_HOW_MODULE: return _("loaded module");
    case LK_HOW_RM: return _("in use (Restart Manager)");
    }
    return "?";
}

/* A held path shown relative to the folder, which the title already names. */
static const char *relative(const lk_holders *h, const char *path)
{
    const char *bases[2];
    int win = lk_sys_path_win();
    size_t i;
    bases[0] = h->real;
    bases[1] = h->path;
    for (i = 0; i < 2; i++) {
        size_t n;
        if (!bases[i] || !lk_path_within(bases[i], path, win))
            continue;
        n = strlen(bases[i]);
        while (n > 0 && lk_path_is_sep(bases[i][n - 1], win))
            n--;
        if (strlen(path) <= n + 1)
            return ".";
        return path + n + 1;
    }
    return path;
}

char *lk_launcher_text(const lk_holder *hd)
{
    if (hd->owned)
        return g_strdup_printf(_("started by Latchkey (pid %ld)"), hd->launcher.pid);
    if (hd->orphaned && hd->launcher.pid)
        return g_strdup_printf(_("orphaned: its launcher (pid %ld) exited"), hd->launcher.pid);
    if (hd->orphaned)
        return g_strdup(_("orphaned: its launcher exited"));
    if (hd->launcher.pid)
        return g_strdup_printf(_("used by a running bot: %s pid %ld"),
                               hd->launcher.name ? hd->launcher.name : "?", hd->launcher.pid);
    return g_strdup(_("launcher unknown"));
}

char *lk_doctor_holds_text(const lk_holders *h, const lk_holder *hd)
{
    GString *s = g_string_new(NULL);
    size_t i;
    const size_t max = 6;
    if (hd->kind == LK_KIND_CHROMIUM_BROWSER) {
        char *who = lk_launcher_text(hd);
        g_string_append(s, who);
        g_free(who);
    } else if (hd->nheld == 0 && hd->kind != LK_KIND_DESCENDANT) {
        g_string_append(s, _("runs Chromium on this profile"));
    }
    for (i = 0; i < hd->nheld && i < max; i++)
        g_string_append_printf(s, "%s%s (%s)", s->len ? "\n" : "", relative(h, hd->held[i].path),
                               how_text(hd->held[i].how));
    if (hd->nheld > max) {
        g_string_append_c(s, '\n');
        g_string_append_printf(s, ngettext("… and %zu more", "… and %zu more", hd->nheld - max),
                               hd->nheld - max);
    }
    return g_string_free(s, FALSE);
}

char *lk_doctor_details_text(const lk_holders *h)
{
    GString *s = g_string_new(NULL);
    size_t i, nspared = 0;
    for (i = 0; i < h->nholders; i++)
        nspared += !h->holders[i].killable;
    if (nspared) {
        g_string_append_printf(s, "%s\n", _("Will be spared:"));
        for (i = 0; i < h->nholders; i++) {
            const lk_holder *hd = &h->holders[i];
            if (!hd->killable)
                g_string_append_printf(s, "  • %s (pid %ld): %s\n", hd->proc.name, hd->proc.pid,
                                       hd->why_not);
        }
    }
    if (h->nblind) {
        g_string_append_printf(s, "%s\n", _("Could not be inspected, so they may hold it too:"));
        for (i = 0; i < h->nblind; i++)
            g_string_append_printf(s, "  • %s (pid %ld): %s\n",
                                   h->blind[i].name ? h->blind[i].name : "?", h->blind[i].pid,
                                   h->blind[i].reason ? h->blind[i].reason : "");
    }
    for (i = 0; i < h->nlocks; i++) {
        const lk_lock *l = &h->locks[i];
        char *who = l->owner_pid ? g_strdup_printf(_("owner pid %ld"), l->owner_pid)
                                 : g_strdup(_("owner unknown"));
        g_string_append_printf(s, "%s %s (%s; %s)\n", _("Chromium profile lock:"),
                               relative(h, l->file), who,
                               l->stale ? _("stale: no browser of this profile owns it")
                                        : _("held by a running browser"));
        g_free(who);
    }
    if (s->len && s->str[s->len - 1] == '\n')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

static char *size_text(uint64_t bytes)
{
    return g_format_size_full(bytes, G_FORMAT_SIZE_DEFAULT);
}

char *lk_doctor_plan_text(const lk_cleanup *c, const char *name, char **state)
{
    const lk_holders *h = c->before;
    GString *s = g_string_new(NULL);
    size_t i, nkill = 0;
    char *lost = size_text(c->bytes);
    for (i = 0; h && i < h->nholders; i++)
        nkill += h->holders[i].killable != 0;
    if (!h || h->nholders == 0)
        g_string_append_printf(
            s,
            h && h->nblind ? _("Nothing that Latchkey could inspect holds %s.") : _("Nothing holds %s."),
            name);
    else
        g_string_append_printf(s,
                               ngettext("%zu process holds %s; %zu will be ended.",
                                        "%zu processes hold %s; %zu will be ended.", h->nholders),
                               h->nholders, name, nkill);
    g_string_append_c(s, ' ');
    g_string_append(s, _("Unlock (keep login) removes only the lock files: the session stays "
                         "linked."));
    g_string_append_c(s, ' ');
    if (c->counted)
        g_string_append_printf(s,
                               ngettext("Delete session also deletes the folder and its login "
                                        "(%llu file, %s).",
                                        "Delete session also deletes the folder and its login "
                                        "(%llu files, %s).",
                                        (unsigned long)c->files),
                               (unsigned long long)c->files, lost);
    else
        g_string_append(s, _("Delete session also deletes the folder and its login."));
    for (i = 0; i < c->nwarnings; i++)
        g_string_append_printf(s, "\n⚠ %s", c->warnings[i]);
    *state = h && h->nholders
                 ? g_strdup_printf(_("%zu to end, %zu spared"), nkill, h->nholders - nkill)
                 : g_strdup(_("nothing holds it"));
    g_free(lost);
    return g_string_free(s, FALSE);
}

char *lk_doctor_result_text(const lk_cleanup *c, const char *name, gboolean stopped,
                            char **head, char **state)
{
    GString *s = g_string_new(NULL);
    gboolean unlock = c->action && strcmp(c->action, "unlock") == 0;
    gboolean gone = c->result == LK_RESULT_REMOVED || c->result == LK_RESULT_ALREADY_CLEAN;
    const char *fate;
    size_t i;

    switch (c->result) {
    case LK_RESULT_REMOVED: fate = _("folder removed"); break;
    case LK_RESULT_ALREADY_CLEAN: fate = _("already clean"); break;
    case LK_RESULT_QUARANTINED: fate = _("folder moved aside"); break;
    case LK_RESULT_REFUSED: fate = _("refused"); break;
    case LK_RESULT_UNLOCKED: fate = _("login kept"); break;
    default:
        fate = unlock                                   ? _("still locked")
               : lk_sys_ftype(c->path) == LK_FT_NONE ? _("folder removed")
                                                       : _("folder still there");
        break;
    }
    if (unlock)
        *state = g_strdup_printf(ngettext("%s: %zu ended, %s", "%s: %zu ended, %s", c->nkilled),
                                 c->result == LK_RESULT_UNLOCKED && c->nleft == 0
                                     ? _("unlocked")
                                     : _("incomplete"),
                                 c->nkilled, fate);
    else
        *state = g_strdup_printf(ngettext("%s: %zu ended, %s", "%s: %zu ended, %s", c->nkilled),
                                 gone && c->nleft == 0 ? _("cleaned") : _("incomplete"),
                                 c->nkilled, fate);
    if (c->result == LK_RESULT_UNLOCKED && c->nleft == 0)
        *head = g_strdup_printf(_("Done: %s is free and keeps its login; nothing holds it."),
                                name);
    else if (c->result == LK_RESULT_REMOVED && c->nleft == 0)
        *head = g_strdup_printf(_("Done: %s is removed and nothing holds it."), name);
    else if (c->result == LK_RESULT_ALREADY_CLEAN)
        *head = g_strdup_printf(_("%s does not exist: already clean."), name);
    else if (c->result == LK_RESULT_QUARANTINED)
        *head = g_strdup_printf(
            _("%s could not be removed completely; it was moved aside so the name is free."), name);
    else if (c->result == LK_RESULT_REFUSED)
        *head = g_strdup_printf(_("Refused, nothing was touched: %s"), c->message);
    else
        *head = g_strdup_printf(unlock ? _("Not finished: %s is still locked.")
                                       : _("Not finished: %s is still there."),
                                name);

    if (stopped)
        g_string_append_printf(s, "%s\n", _("Latchkey stopped following this session first."));
    for (i = 0; i < c->nwarnings; i++)
        g_string_append_printf(s, "⚠ %s\n", c->warnings[i]);
    for (i = 0; i < c->nkilled; i++)
        g_string_append_printf(s, _("Ended %s (pid %ld, %s)\n"), c->killed[i].name,
                               c->killed[i].pid, c->killed[i].forced ? _("forced") : _("graceful"));
    if (c->nkilled == 0 && !stopped && c->result != LK_RESULT_ALREADY_CLEAN &&
        c->result != LK_RESULT_REFUSED)
        g_string_append_printf(s, "%s\n", _("No process had to be ended."));
    for (i = 0; i < c->nspared; i++)
        g_string_append_printf(s, _("Spared %s (pid %ld): %s\n"), c->spared[i].name,
                               c->spared[i].pid, c->spared[i].why);
    for (i = 0; i < c->nremoved; i++)
        g_string_append_printf(s, _("Removed the lock file %s\n"), c->removed[i]);
    if (c->result == LK_RESULT_REMOVED)
        g_string_append_printf(s, _("Removed %s\n"), c->path);
    if (c->quarantine)
        g_string_append_printf(s, _("Moved aside to %s\n"), c->quarantine);
    for (i = 0; i < c->nleft; i++)
        g_string_append_printf(s, _("Left: %s\n"), c->left[i]);
    if (c->nleft == 0 && (c->result == LK_RESULT_REMOVED || c->result == LK_RESULT_UNLOCKED))
        g_string_append_printf(s, "%s\n",
                               unlock ? _("No lock is left, and nothing holds the folder.")
                                      : _("Nothing is left, and nothing holds the folder."));
    if (c->before && c->before->nblind) {
        const lk_holders *h = c->before;
        g_string_append_printf(s,
                               ngettext("%zu process could not be inspected:",
                                        "%zu processes could not be inspected:", h->nblind),
                               h->nblind);
        for (i = 0; i < h->nblind && i < 5; i++)
            g_string_append_printf(s, "%s %s (pid %ld)", i ? "," : "",
                                   h->blind[i].name ? h->blind[i].name : "?", h->blind[i].pid);
        g_string_append(s, h->nblind > 5 ? ", …\n" : "\n");
    }
    g_string_append_printf(s, _("Took %.1f s."), (double)c->elapsed_ms / 1000.0);
    return g_string_free(s, FALSE);
}
