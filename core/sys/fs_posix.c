/* Files on POSIX: canonical paths, guard-rail facts, Chromium's profile lock.
 * Removing a tree is tree_posix.c's, relative to held descriptors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "latchkey/path.h"
#include "latchkey/sys.h"
#include "sys/tree_posix.h"
#include "util/strv.h"

int lk_sys_realpath(const char *path, char **out, lk_error *err)
{
    char *r = realpath(path, NULL);
    if (!r)
        return lk_error_set(err,
                            errno == ENOENT   ? LK_ENOENT
                            : errno == EACCES ? LK_EACCES
                                              : LK_EIO,
                            errno, "%s: %s", path, strerror(errno));
    *out = r;
    return LK_OK;
}

int lk_sys_path_win(void)
{
    return 0;
}

/* Resolves ".." the way the kernel does: "lnk/.." is the folder holding
 * what lnk points to. Everything before a ".." that exists is made real;
 * what does not exist is taken as written. */
static int grow(char **buf, size_t *cap, size_t need)
{
    char *g;
    if (need <= *cap)
        return 1;
    g = realloc(*buf, need);
    if (!g)
        return 0;
    *buf = g;
    *cap = need;
    return 1;
}

static char *resolve_dotdot(const char *abs)
{
    size_t n = strlen(abs), i = 0, len = 1, cap = n + 2;
    char *cur = malloc(cap);
    if (!cur)
        return NULL;
    strcpy(cur, "/");
    while (i < n) {
        size_t start, clen;
        while (i < n && abs[i] == '/')
            i++;
        start = i;
        while (i < n && abs[i] != '/')
            i++;
        clen = i - start;
        if (clen == 0 || (clen == 1 && abs[start] == '.'))
            continue;
        if (clen == 2 && abs[start] == '.' && abs[start + 1] == '.') {
            char *real = len > 1 ? realpath(cur, NULL) : NULL;
            if (real) {
                size_t rl = strlen(real);
                if (!grow(&cur, &cap, rl + n + 2)) {
                    free(real);
                    free(cur);
                    return NULL;
                }
                memcpy(cur, real, rl + 1);
                len = rl;
                free(real);
            }
            while (len > 1 && cur[len - 1] != '/')
                len--;
            if (len > 1)
                len--;
            cur[len] = '\0';
            continue;
        }
        if (!grow(&cur, &cap, len + clen + n + 2)) {
            free(cur);
            return NULL;
        }
        if (len > 1)
            cur[len++] = '/';
        memcpy(cur + len, abs + start, clen);
        len += clen;
        cur[len] = '\0';
    }
    return cur;
}

int lk_sys_abspath(const char *path, char **out, lk_error *err)
{
    char *joined;
    *out = NULL;
    if (!path || !*path)
        return lk_error_set(err, LK_EINVAL, 0, "empty path");
    if (strlen(path) >= PATH_MAX)
        return lk_error_set(err, LK_EINVAL, 0, "path too long");
    if (path[0] == '/') {
        joined = lk_strdup(path);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return lk_error_set(err, LK_EIO, errno, "cannot read the current folder: %s",
                                strerror(errno));
        joined = lk_path_join(cwd, path, 0);
    }
    if (!joined)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    *out = resolve_dotdot(joined);
    free(joined);
    if (!*out)
        return lk_error_set(err, LK_ENOMEM, 0, "out of memory");
    return LK_OK;
}

lk_ftype lk__ftype_of(mode_t mode)
{
    if (S_ISLNK(mode))
        return LK_FT_LINK;
    if (S_ISDIR(mode))
        return LK_FT_DIR;
    if (S_ISREG(mode))
        return LK_FT_FILE;
    return LK_FT_OTHER;
}

lk_ftype lk_sys_ftype(const char *path)
{
    struct stat st;
    return lstat(path, &st) != 0 ? LK_FT_NONE : lk__ftype_of(st.st_mode);
}

int lk_sys_mkdir(const char *path, lk_error *err)
{
    if (mkdir(path, 0700) == 0 || (errno == EEXIST && lk_sys_ftype(path) == LK_FT_DIR))
        return LK_OK;
    return lk_error_set(err, LK_EIO, errno, "cannot create %s: %s", path, strerror(errno));
}

int lk_sys_is_fs_root(const char *abspath)
{
    lk__fid top, parent;
    lk__mounts m;
    char *dir;
    int root = 0;
    if (strcmp(abspath, "/") == 0)
        return 1;
    lk__mounts_init(&m);
    dir = lk_path_dir(abspath, 0);
    /* A mount point is the root of a file system, a bind mount of the same
     * one included: the mount id tells, the device alone does not. */
    if (dir && lk__fid_of(AT_FDCWD, abspath, 0, &top, &m, abspath) == 0 &&
        lk__fid_of(AT_FDCWD, dir, 0, &parent, &m, NULL) == 0)
        root = lk__fid_crosses(&parent, &top);
    free(dir);
    lk__mounts_free(&m);
    return root;
}

int lk_sys_is_system_dir(const char *abspath)
{
    /* These and everything under them belong to the OS. */
    static const char *const whole[] = {
        "/bin",    "/boot",    "/dev",          "/etc",         "/lib",           "/lib32",
        "/lib64",  "/libx32",  "/proc",         "/sbin",        "/sys",           "/usr",
        "/nix",    "/snap",    "/System",       "/Library",     "/Applications",  "/private/etc",
        "/private/var/db", "/cores"};
    /* The system's data: a bot may keep its sessions there (/var/www/bot,
     * /var/lib/docker/volumes/...), nothing else is ours to delete. */
    static const char *const data[] = {"/var", "/run", "/private/var"};
    /* These themselves (not what lies under them). */
    static const char *const exact[] = {"/",     "/home",  "/root",    "/tmp",    "/opt",
                                        "/srv",  "/mnt",   "/media",   "/Users",  "/Volumes",
                                        "/private", "/private/tmp", "/var/tmp", "/var/lib",
                                        "/var/www", "/var/lib/docker", "/var/lib/docker/volumes"};
    size_t i;
    for (i = 0; i < sizeof whole / sizeof *whole; i++)
        if (lk_path_within(whole[i], abspath, 0))
            return 1;
    for (i = 0; i < sizeof exact / sizeof *exact; i++)
        if (lk_path_equal(exact[i], abspath, 0))
            return 1;
    for (i = 0; i < sizeof data / sizeof *data; i++)
        if (lk_path_within(data[i], abspath, 0))
            return 2;
    return 0;
}

static char *env_home(void)
{
    const char *h = getenv("HOME");
    return h && h[0] == '/' ? lk_strdup(h) : lk_sys_home_dir();
}

char *lk_sys_home_dir(void)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res && pw.pw_dir &&
        pw.pw_dir[0] == '/')
        return lk_strdup(pw.pw_dir);
    return NULL;
}

static void add_home(char ***homes, size_t *n, size_t *cap, const char *h)
{
    size_t i;
    char **slot;
    if (!h || h[0] != '/')
        return;
    for (i = 0; i < *n; i++)
        if (lk_path_equal((*homes)[i], h, 0))
            return;
    slot = lk_push(homes, n, cap, sizeof *slot);
    if (slot && !(*slot = lk_path_normalize(h, 0)))
        (*n)--;
}

int lk_sys_home_dirs(char ***homes, size_t *n)
{
    /* getpwent walks one shared cursor. */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    size_t cap = 0, count = 0;
    struct passwd *pw;
    char *own = lk_sys_home_dir();
    const char *env = getenv("HOME");
    *homes = NULL;
    *n = 0;
    add_home(homes, n, &cap, own);
    add_home(homes, n, &cap, env);
    free(own);
    pthread_mutex_lock(&lock);
    setpwent();
    while ((pw = getpwent()) != NULL && count++ < 100000)
        add_home(homes, n, &cap, pw->pw_dir);
    endpwent();
    pthread_mutex_unlock(&lock);
    return LK_OK;
}

void lk_sys_home_protected(const char *const **within, const char *const **app_roots,
                           const char *const **exact)
{
#if defined(__APPLE__)
    static const char *const w[] = {
        "Library/Application Support/Google/Chrome",
        "Library/Application Support/Google/Chrome Beta",
        "Library/Application Support/Google/Chrome Canary",
        "Library/Application Support/Chromium",
        "Library/Application Support/Microsoft Edge",
        "Library/Application Support/BraveSoftware",
        "Library/Application Support/Vivaldi",
        "Library/Application Support/com.operasoftware.Opera",
        "Library/Application Support/Firefox",
        "Library/Application Support/Signal",
        "Library/Application Support/Code",
        "Library/Application Support/discord",
        "Library/Application Support/Slack",
        "Library/Application Support/WhatsApp",
        "Library/Keychains",
        "Library/Mail",
        "Library/Messages",
        NULL};
    static const char *const roots[] = {"Library/Application Support", "Library/Containers",
                                        "Library/Group Containers", NULL};
    static const char *const ex[] = {"Library", "Documents", "Desktop", "Downloads", "Pictures",
                                     "Music", "Movies", ".config", ".local", ".local/share",
                                     ".cache", ".ssh", NULL};
#else
    static const char *const w[] = {
        ".config/google-chrome", ".config/google-chrome-beta", ".config/google-chrome-unstable",
        ".config/chromium", ".config/microsoft-edge", ".config/microsoft-edge-beta",
        ".config/microsoft-edge-dev", ".config/BraveSoftware", ".config/vivaldi",
        ".config/opera", ".mozilla", "snap", ".var/app",
        /* Electron apps: their data is a Chromium profile too. */
        ".config/Signal", ".config/Code", ".config/Code - OSS", ".config/VSCodium",
        ".config/Cursor", ".config/discord", ".config/Slack", ".config/Element",
        ".config/teams-for-linux", ".config/Microsoft", ".config/obsidian", ".config/Bitwarden",
        ".config/1Password", ".config/Mattermost", ".config/whatsapp-for-linux",
        ".config/WhatsApp", ".config/skypeforlinux", ".config/Joplin", ".config/Postman",
        ".ssh", ".gnupg", ".local/share/keyrings",
        NULL};
    static const char *const roots[] = {".config", ".local/share", NULL};
    static const char *const ex[] = {".config", ".local", ".local/share", ".local/state",
                                     ".cache", "Desktop", "Documents", "Downloads", "Pictures",
                                     "Music", "Videos", "Public", "Templates", "snap", NULL};
#endif
    *within = w;
    *app_roots = roots;
    *exact = ex;
}

char *lk_sys_hostname(void)
{
    char buf[256];
    if (gethostname(buf, sizeof buf) != 0)
        return NULL;
    buf[sizeof buf - 1] = '\0';
    return lk_strdup(buf);
}

size_t lk_sys_profile_locks(const char *profile, lk_lock_info *out, size_t max)
{
    char *lock;
    char target[512];
    ssize_t n;
    char *dash;
    if (max == 0)
        return 0;
    lock = lk_path_join(profile, "SingletonLock", 0);
    if (!lock)
        return 0;
    n = readlink(lock, target, sizeof target - 1);
    if (n < 0) {
        free(lock);
        return 0;
    }
    target[n] = '\0';
    memset(&out[0], 0, sizeof out[0]);
    out[0].file = lock;
    /* "hostname-pid": the host may contain dashes, the pid is after the last. */
    dash = strrchr(target, '-');
    if (dash) {
        out[0].owner_pid = strtol(dash + 1, NULL, 10);
        *dash = '\0';
    }
    out[0].host = lk_strdup(target);
    return 1;
}

int lk_sys_list_dir(const char *path, char ***names, size_t *n, lk_error *err)
{
    DIR *d = opendir(path);
    struct dirent *de;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!d)
        return lk_error_set(err, errno == ENOENT ? LK_ENOENT : LK_EACCES, errno, "%s: %s", path,
                            strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char **slot;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        slot = lk_push(names, n, &cap, sizeof *slot);
        if (!slot)
            break;
        *slot = lk_strdup(de->d_name);
    }
    closedir(d);
    return LK_OK;
}

char *lk_sys_data_dir(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    char *home, *dir;
    if (xdg && xdg[0] == '/')
        return lk_strdup(xdg);
    home = env_home();
    if (!home)
        return NULL;
#if defined(__APPLE__)
    dir = lk_path_join(home, "Library/Application Support", 0);
#else
    dir = lk_path_join(home, ".local/share", 0);
#endif
    free(home);
    return dir;
}
