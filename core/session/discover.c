/* Sessions on disk. */
#include <stdlib.h>
#include <string.h>

#include "latchkey/discover.h"
#include "latchkey/path.h"
#include "util/strv.h"

#define MAX_DEPTH 4
#define MAX_FOUND 10000

const char *lk_folder_state_name(lk_folder_state st)
{
    static const char *const names[] = {"missing", "idle", "running", "locked", "stale_lock"};
    return (unsigned)st < 5 ? names[st] : "idle";
}

lk_folder_state lk_folder_state_of(const lk_holders *h)
{
    size_t i;
    int running = 0, held = 0, stale = 0;
    if (!h)
        return LK_FOLDER_MISSING;
    for (i = 0; i < h->nholders; i++) {
        if (h->holders[i].kind == LK_KIND_CHROMIUM_BROWSER ||
            h->holders[i].kind == LK_KIND_CHROMIUM_CHILD)
            running = 1;
        else if (h->holders[i].nheld > 0)
            held = 1;
    }
    for (i = 0; i < h->nlocks; i++)
        stale |= h->locks[i].stale;
    if (running)
        return LK_FOLDER_RUNNING;
    if (held)
        return LK_FOLDER_LOCKED;
    for (i = 0; i < h->nlocks; i++)
        if (!h->locks[i].stale)
            return LK_FOLDER_LOCKED; /* a live lock we could not tie to a process */
    return stale ? LK_FOLDER_STALE_LOCK : LK_FOLDER_IDLE;
}

static int is_profile(const char *dir, int win)
{
    char *ls = lk_path_join(dir, "Local State", win);
    char *def = lk_path_join(dir, "Default", win);
    int yes = (ls && lk_sys_ftype(ls) == LK_FT_FILE) || (def && lk_sys_ftype(def) == LK_FT_DIR);
    free(ls);
    free(def);
    return yes;
}

static const char *kind_of(const char *path, int win)
{
    const char *base = lk_path_base(path, win);
    char *parent = lk_path_dir(path, win);
    const char *pbase = parent ? lk_path_base(parent, win) : "";
    const char *kind = "chromium";
    if (strcmp(pbase, ".wwebjs_auth") == 0)
        kind = strncmp(base, "RemoteAuth", 10) == 0 ? "wwebjs-remote" : "wwebjs-local";
    else if (strncmp(base, "RemoteAuth-", 11) == 0)
        kind = "wwebjs-remote";
    else if (strcmp(pbase, "tokens") == 0)
        kind = "wppconnect";
    free(parent);
    return kind;
}

typedef struct walk {
    lk_found *found;
    size_t n, cap;
    int win;
} walk;

static void add(walk *w, const char *path)
{
    lk_found *f;
    size_t i;
    for (i = 0; i < w->n; i++)
        if (lk_path_equal(w->found[i].path, path, w->win))
            return;
    if (w->n >= MAX_FOUND)
        return;
    f = lk_push(&w->found, &w->n, &w->cap, sizeof *f);
    if (!f)
        return;
    f->path = lk_strdup(path);
    f->kind = kind_of(path, w->win);
    if (strcmp(f->kind, "chromium") == 0) {
        /* Through a link the names may differ (auth -> .wwebjs_auth): the
         * folder's real path can tell what the path as typed does not. */
        char *real = NULL;
        if (lk_sys_realpath(path, &real, NULL) == LK_OK)
            f->kind = kind_of(real, w->win);
        free(real);
    }
}

static void visit(walk *w, const char *dir, int depth)
{
    char **names = NULL;
    size_t n = 0, i;
    if (is_profile(dir, w->win)) {
        add(w, dir);
        return; /* a profile's insides are not sessions */
    }
    if (depth >= MAX_DEPTH || lk_sys_list_dir(dir, &names, &n, NULL) != LK_OK)
        return;
    for (i = 0; i < n; i++) {
        char *child;
        if (strcmp(names[i], "node_modules") == 0 || strcmp(names[i], ".git") == 0 ||
            strcmp(names[i], ".latchkey-trash") == 0)
            continue;
        child = lk_path_join(dir, names[i], w->win);
        if (child && lk_sys_ftype(child) == LK_FT_DIR)
            visit(w, child, depth + 1);
        free(child);
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* A root as given may be a link to a folder (.wwebjs_auth -> /data/auth):
 * it is followed, and its sessions are named through it, as typed. Links
 * met below a root are not followed (visit). */
static int is_dir_or_link_to_one(const char *path)
{
    char *real = NULL;
    int yes;
    lk_ftype ft = lk_sys_ftype(path);
    if (ft != LK_FT_LINK)
        return ft == LK_FT_DIR;
    yes = lk_sys_realpath(path, &real, NULL) == LK_OK && lk_sys_ftype(real) == LK_FT_DIR;
    free(real);
    return yes;
}

int lk_discover(const char *const *roots, size_t nroots, lk_found **out, size_t *n, lk_error *err)
{
    walk w;
    size_t i;
    memset(&w, 0, sizeof w);
    *out = NULL;
    *n = 0;
    for (i = 0; i < nroots; i++) {
        char *abs = NULL;
        if (lk_sys_abspath(roots[i], &abs, err) != LK_OK)
            return LK_EINVAL;
        w.win = lk_sys_path_win();
        if (is_dir_or_link_to_one(abs))
            visit(&w, abs, 0);
        free(abs);
    }
    *out = w.found;
    *n = w.n;
    return LK_OK;
}

void lk_found_free(lk_found *f, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(f[i].path);
    free(f);
}
