#include "latchkey/path.h"

#include <stdlib.h>
#include <string.h>

int lk_path_is_sep(char c, int win)
{
    return c == '/' || (win && c == '\\');
}

static char fold(char c, int win)
{
    return (win && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Length of p without trailing separators, keeping a root ("/" or "C:\"). */
static size_t trimmed_len(const char *p, int win)
{
    size_t n = strlen(p);
    while (n > 1 && lk_path_is_sep(p[n - 1], win)) {
        if (win && n == 3 && p[1] == ':')
            break;
        n--;
    }
    return n;
}

static int same_char(char a, char b, int win)
{
    if (lk_path_is_sep(a, win) && lk_path_is_sep(b, win))
        return 1;
    return fold(a, win) == fold(b, win);
}

static const char *skip_win_prefix(const char *p, int win)
{
    if (win && (strncmp(p, "\\\\?\\", 4) == 0 || strncmp(p, "\\??\\", 4) == 0) &&
        strncmp(p + 4, "UNC\\", 4) != 0)
        return p + 4;
    return p;
}

int lk_path_within(const char *dir, const char *path, int win)
{
    size_t nd, np, i;
    if (!dir || !path)
        return 0;
    dir = skip_win_prefix(dir, win);
    path = skip_win_prefix(path, win);
    nd = trimmed_len(dir, win);
    np = trimmed_len(path, win);
    if (nd == 0 || np < nd)
        return 0;
    for (i = 0; i < nd; i++)
        if (!same_char(dir[i], path[i], win))
            return 0;
    if (np == nd)
        return 1;
    /* The next character must separate: "session-1" vs "session-10". A root
     * dir already ends with its separator. */
    return lk_path_is_sep(path[nd], win) || lk_path_is_sep(dir[nd - 1], win);
}

int lk_path_equal(const char *a, const char *b, int win)
{
    size_t na, nb, i;
    if (!a || !b)
        return 0;
    a = skip_win_prefix(a, win);
    b = skip_win_prefix(b, win);
    na = trimmed_len(a, win);
    nb = trimmed_len(b, win);
    if (na != nb)
        return 0;
    for (i = 0; i < na; i++)
        if (!same_char(a[i], b[i], win))
            return 0;
    return 1;
}

/* Length of the root part: "/" -> 1, "C:\" -> 3, "\\server\share\" -> up to the share. */
static size_t root_len(const char *p, int win)
{
    if (!win)
        return p[0] == '/' ? 1 : 0;
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
        lk_path_is_sep(p[2], 1))
        return 3;
    if (lk_path_is_sep(p[0], 1) && lk_path_is_sep(p[1], 1) && p[2] && !lk_path_is_sep(p[2], 1)) {
        size_t i = 2, parts = 0;
        while (p[i] && parts < 2) {
            if (lk_path_is_sep(p[i], 1))
                parts++;
            i++;
        }
        return parts == 2 ? i : 0;
    }
    return 0;
}

char *lk_path_normalize(const char *path, int win)
{
    size_t root, n, out, i;
    char *res;
    char sep = win ? '\\' : '/';
    size_t *marks; /* start offsets of kept components, for ".." */
    size_t depth = 0;

    if (!path)
        return NULL;
    path = skip_win_prefix(path, win);
    root = root_len(path, win);
    if (root == 0)
        return NULL;
    n = strlen(path);
    res = malloc(n + 2);
    marks = malloc(sizeof *marks * (n / 2 + 2));
    if (!res || !marks) {
        free(res);
        free(marks);
        return NULL;
    }
    for (i = 0; i < root; i++)
        res[i] = lk_path_is_sep(path[i], win) ? sep : path[i];
    out = root;
    i = root;
    while (i < n) {
        size_t start, len;
        while (i < n && lk_path_is_sep(path[i], win))
            i++;
        start = i;
        while (i < n && !lk_path_is_sep(path[i], win))
            i++;
        len = i - start;
        if (len == 0 || (len == 1 && path[start] == '.'))
            continue;
        if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
            if (depth > 0)
                out = marks[--depth];
            continue;
        }
        marks[depth++] = out;
        if (out > root)
            res[out++] = sep;
        memcpy(res + out, path + start, len);
        out += len;
    }
    /* Undo the separator written before a component removed by "..". */
    while (out > root && lk_path_is_sep(res[out - 1], win))
        out--;
    res[out] = '\0';
    free(marks);
    return res;
}

const char *lk_path_base(const char *path, int win)
{
    const char *base = path;
    const char *p;
    for (p = path; *p; p++)
        if (lk_path_is_sep(*p, win) && p[1])
            base = p + 1;
    return base;
}

char *lk_path_dir(const char *path, int win)
{
    const char *base = lk_path_base(path, win);
    size_t n = (size_t)(base - path);
    char *res;
    while (n > 1 && lk_path_is_sep(path[n - 1], win) && !(win && n == 3 && path[1] == ':'))
        n--;
    res = malloc(n + 1);
    if (!res)
        return NULL;
    memcpy(res, path, n);
    res[n] = '\0';
    return res;
}

char *lk_path_join(const char *a, const char *b, int win)
{
    size_t na = strlen(a), nb = strlen(b);
    int need_sep = na > 0 && !lk_path_is_sep(a[na - 1], win);
    char *res = malloc(na + nb + 2);
    if (!res)
        return NULL;
    memcpy(res, a, na);
    if (need_sep)
        res[na++] = win ? '\\' : '/';
    memcpy(res + na, b, nb + 1);
    return res;
}

const char *lk_path_strip_win_prefix(const char *p, char **owned)
{
    *owned = NULL;
    if (strncmp(p, "\\\\?\\UNC\\", 8) == 0 || strncmp(p, "\\??\\UNC\\", 8) == 0) {
        size_t n = strlen(p + 8);
        char *s = malloc(n + 3);
        if (!s)
            return p;
        s[0] = '\\';
        s[1] = '\\';
        memcpy(s + 2, p + 8, n + 1);
        *owned = s;
        return s;
    }
    if (strncmp(p, "\\\\?\\", 4) == 0 || strncmp(p, "\\??\\", 4) == 0)
        return p + 4;
    return p;
}
