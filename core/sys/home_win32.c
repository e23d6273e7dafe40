/* Home folders on Windows, from the accounts rather than the environment:
 * the running account's profile (its token), every profile the machine knows
 * (ProfileList), and what the doctor refuses inside each of them. A caller
 * can set %USERPROFILE% to anything; the token and the registry are what the
 * system itself uses. */
#include "sys/win32_util.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <sddl.h>
#include <userenv.h>

#include "latchkey/path.h"
#include "util/strv.h"

static const wchar_t profile_list[] =
    L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList";

/* A REG_SZ or REG_EXPAND_SZ value, environment references expanded. */
static wchar_t *reg_path(HKEY key, const wchar_t *sub, const wchar_t *name)
{
    DWORD size = 0;
    wchar_t *buf;
    /* RRF_RT_REG_SZ takes REG_EXPAND_SZ too and expands it. */
    if (RegGetValueW(key, sub, name, RRF_RT_REG_SZ, NULL, NULL, &size) != ERROR_SUCCESS ||
        size < sizeof(wchar_t) || size > 64 * 1024)
        return NULL;
    buf = malloc(size + sizeof(wchar_t));
    if (!buf)
        return NULL;
    if (RegGetValueW(key, sub, name, RRF_RT_REG_SZ, NULL, buf, &size) != ERROR_SUCCESS) {
        free(buf);
        return NULL;
    }
    buf[size / sizeof(wchar_t)] = L'\0';
    return buf;
}

static char *clean(wchar_t *w)
{
    char *u = w && w[0] ? lk__utf8_from_w(w, (size_t)-1) : NULL, *n;
    free(w);
    if (!u)
        return NULL;
    n = lk_path_normalize(u, 1);
    free(u);
    return n;
}

/* The ProfileImagePath of the account that owns our token. */
static wchar_t *profile_of_token(HANDLE tok)
{
    union {
        TOKEN_USER tu;
        char raw[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } u;
    DWORD got = 0;
    wchar_t *sid = NULL, *sub, *path = NULL;
    size_t n;
    if (!GetTokenInformation(tok, TokenUser, &u, sizeof u, &got) ||
        !ConvertSidToStringSidW(u.tu.User.Sid, &sid))
        return NULL;
    n = wcslen(profile_list) + 1 + wcslen(sid) + 1;
    sub = malloc(n * sizeof *sub);
    if (sub) {
        _snwprintf(sub, n, L"%ls\\%ls", profile_list, sid);
        sub[n - 1] = L'\0';
        path = reg_path(HKEY_LOCAL_MACHINE, sub, L"ProfileImagePath");
        free(sub);
    }
    LocalFree(sid);
    return path;
}

char *lk_sys_home_dir(void)
{
    HANDLE tok = NULL;
    wchar_t *w = NULL;
    DWORD n = 0;
    if (!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok) &&
        !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return NULL;
    /* The profile the system loaded for this account. */
    if (!GetUserProfileDirectoryW(tok, NULL, &n) && GetLastError() == ERROR_INSUFFICIENT_BUFFER &&
        n > 0 && n < 32768 && (w = malloc((size_t)n * sizeof *w)) != NULL &&
        !GetUserProfileDirectoryW(tok, w, &n)) {
        free(w);
        w = NULL;
    }
    if (!w)
        w = profile_of_token(tok);
    CloseHandle(tok);
    return clean(w);
}

static int add_home(char ***homes, size_t *n, size_t *cap, char *h)
{
    char **slot;
    size_t i;
    if (!h)
        return 1;
    for (i = 0; i < *n; i++)
        if (lk_path_equal((*homes)[i], h, 1)) {
            free(h);
            return 1;
        }
    slot = lk_push(homes, n, cap, sizeof *slot);
    if (!slot) {
        free(h);
        return 0;
    }
    *slot = h;
    return 1;
}

int lk_sys_home_dirs(char ***homes, size_t *n)
{
    HKEY key;
    size_t cap = 0;
    DWORD i;
    int ok = 1;
    *homes = NULL;
    *n = 0;
    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, profile_list, 0, KEY_READ | KEY_WOW64_64KEY, &key) ==
        ERROR_SUCCESS) {
        for (i = 0; ok; i++) {
            wchar_t sub[256];
            DWORD len = 256;
            LONG r = RegEnumKeyExW(key, i, sub, &len, NULL, NULL, NULL, NULL);
            if (r == ERROR_NO_MORE_ITEMS)
                break;
            if (r != ERROR_SUCCESS)
                continue;
            ok = add_home(homes, n, &cap, clean(reg_path(key, sub, L"ProfileImagePath")));
        }
        /* The template for new accounts and the shared profile are homes too. */
        if (ok)
            ok = add_home(homes, n, &cap, clean(reg_path(key, NULL, L"Default")));
        if (ok)
            ok = add_home(homes, n, &cap, clean(reg_path(key, NULL, L"Public")));
        RegCloseKey(key);
    }
    if (ok)
        ok = add_home(homes, n, &cap, lk_sys_home_dir());
    if (!ok) {
        for (i = 0; i < *n; i++)
            free((*homes)[i]);
        free(*homes);
        *homes = NULL;
        *n = 0;
        return LK_ENOMEM;
    }
    return LK_OK;
}

void lk_sys_home_protected(const char *const **within, const char *const **app_roots,
                           const char *const **exact)
{
    /* The browsers' own default profiles and the data of Electron and other
     * apps people keep their messages, passwords and work in. */
    static const char *const w[] = {
        "AppData\\Local\\Google\\Chrome\\User Data",
        "AppData\\Local\\Google\\Chrome Beta\\User Data",
        "AppData\\Local\\Google\\Chrome Dev\\User Data",
        "AppData\\Local\\Google\\Chrome SxS\\User Data",
        "AppData\\Local\\Chromium\\User Data",
        "AppData\\Local\\Microsoft\\Edge\\User Data",
        "AppData\\Local\\Microsoft\\Edge Beta\\User Data",
        "AppData\\Local\\Microsoft\\Edge Dev\\User Data",
        "AppData\\Local\\Microsoft\\Edge SxS\\User Data",
        "AppData\\Local\\BraveSoftware\\Brave-Browser\\User Data",
        "AppData\\Local\\BraveSoftware\\Brave-Browser-Beta\\User Data",
        "AppData\\Local\\BraveSoftware\\Brave-Browser-Nightly\\User Data",
        "AppData\\Local\\Vivaldi\\User Data",
        "AppData\\Local\\Yandex\\YandexBrowser\\User Data",
        "AppData\\Roaming\\Opera Software",
        "AppData\\Local\\Opera Software",
        "AppData\\Roaming\\Mozilla",
        "AppData\\Local\\Mozilla",
        "AppData\\Roaming\\Signal",
        "AppData\\Roaming\\Code",
        "AppData\\Roaming\\Code - Insiders",
        "AppData\\Roaming\\Cursor",
        "AppData\\Roaming\\discord",
        "AppData\\Roaming\\Slack",
        "AppData\\Roaming\\Microsoft\\Teams",
        "AppData\\Local\\Packages\\MSTeams_8wekyb3d8bbwe",
        "AppData\\Local\\WhatsApp",
        "AppData\\Roaming\\WhatsApp",
        "AppData\\Local\\Packages\\5319275A.WhatsAppDesktop_cv1g1gvanyjgm",
        "AppData\\Roaming\\Element",
        "AppData\\Roaming\\Bitwarden",
        "AppData\\Roaming\\obsidian",
        "AppData\\Roaming\\Telegram Desktop",
        "AppData\\Roaming\\Notion",
        "AppData\\Roaming\\Postman",
        "AppData\\Local\\1Password",
        "AppData\\Roaming\\Zoom",
        "AppData\\Roaming\\Spotify",
        "AppData\\Roaming\\Microsoft\\Windows",
        NULL};
    /* Each child of these is one application's data. */
    static const char *const r[] = {"AppData\\Roaming", "AppData\\Local", "AppData\\LocalLow",
                                    NULL};
    /* The profile's own big folders (and, by the rule, their parents). */
    static const char *const x[] = {"AppData",  "Desktop", "Documents", "Downloads", "Pictures",
                                    "Music",    "Videos",  "OneDrive",  "Favorites", "Saved Games",
                                    "Contacts", "Links",   "Searches",  NULL};
    if (within)
        *within = w;
    if (app_roots)
        *app_roots = r;
    if (exact)
        *exact = x;
}
