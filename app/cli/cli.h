/* latchkeyctl: private declarations shared by the commands. */
#ifndef LK_CLI_H
#define LK_CLI_H

#include <stdio.h>

#include "latchkey/doctor.h"
#include "latchkey/error.h"

enum { LK_EXIT_OK = 0, LK_EXIT_FAIL = 1, LK_EXIT_USAGE = 2 };

typedef struct lk_cli_args {
    const char *path;
    int json;
    int dry_run;
    int any_folder;
    int timeout_s; /* -1 when not given */
    const char *png;
    const char *site_url;
    const char *chromium;
    int headed;
    const char *roots[16];
    int nroots;
} lk_cli_args;

/* Parses PATH and the options a command allows (a string of option letters:
 * j json, d dry-run, t timeout, a any-folder, p png, s site-url,
 * c chromium, h headed, R root (repeatable), o PATH optional). Prints the error
 * and returns LK_EXIT_USAGE on bad input. */
int lk_cli_parse(int argc, char **argv, const char *allowed, lk_cli_args *out);
void lk_cli_error(const lk_error *err, const char *hint);
/* s made safe for a terminal: control characters (C0, DEL, C1) become \xNN
 * escapes, so a process or file name cannot clear the screen or hide a line
 * of a plan. Points into one of a few rotating buffers: use it within one
 * printf. The JSON output is never escaped this way (it is exact). */
const char *lk_cli_text(const char *s);
char *lk_cli_strdup(const char *s);
/* fopen for a UTF-8 path (on Windows through _wfopen: fopen would read the
 * path in the ANSI code page). */
FILE *lk_cli_fopen(const char *path, const char *mode);

/* The holders report as `latchkeyctl holders` prints it: the folder, then
 * the list; the list alone (each line after `indent`) for other reports. */
void lk_cli_print_holders(const lk_holders *h);
void lk_cli_print_holder_list(const lk_holders *h, const char *indent);

int lk_cmd_holders(int argc, char **argv);
int lk_cmd_cleanup(int argc, char **argv);
int lk_cmd_unlock(int argc, char **argv);
int lk_cmd_qr(int argc, char **argv);
int lk_cmd_link(int argc, char **argv);
int lk_cmd_status(int argc, char **argv);
int lk_cmd_stop(int argc, char **argv);
int lk_cmd_sessions(int argc, char **argv);

#endif
