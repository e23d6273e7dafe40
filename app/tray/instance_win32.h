/* instance_win32.h - one latchkey.exe per user session on Windows.
 *
 * On Linux GApplication makes the app single-instance over the D-Bus session
 * bus. Windows has no session bus: GLib would start gdbus.exe as one on
 * demand, a process that outlives the app (`--quit` must leave nothing
 * running) and that every later start depends on. Instead the first
 * latchkey.exe of a user's session owns a named mutex and serves a named
 * pipe that only that user may open; a later latchkey.exe sends its command
 * line and current folder down the pipe, relays what the running one
 * prints, and exits with the status it answers, as a GApplication remote
 * would. The running one hands each command line to its own "command-line"
 * handler, so both platforms go through the same code in main.c. */
#ifndef LK_INSTANCE_WIN32_H
#define LK_INSTANCE_WIN32_H

#include <gio/gio.h>

typedef struct lk_instance lk_instance;

typedef enum lk_instance_role {
    LK_INSTANCE_PRIMARY,   /* we run the app: serve with lk_instance_serve() */
    LK_INSTANCE_FORWARDED, /* another instance ran the command line */
    LK_INSTANCE_FAILED,    /* neither: *err says why */
} lk_instance_role;

/* Hands argv (UTF-8, argv[0] included) to the running instance of this user
 * session, or makes this process that instance. FORWARDED fills *status with
 * the running instance's answer; PRIMARY fills *out. */
lk_instance_role lk_instance_claim(int argc, char **argv, lk_instance **out, int *status,
                                   char **err);

/* Starts answering later instances: each command line is emitted as app's
 * "command-line" signal on the main thread. */
void lk_instance_serve(lk_instance *in, GApplication *app);

/* Stops answering and lets go of the pipe and the mutex. */
void lk_instance_free(lk_instance *in);

/* The pipe's name for this user and session (UTF-8, g_free it), or NULL:
 * for diagnostics and the tests that speak to the pipe themselves. */
char *lk_instance_pipe_name(void);

#endif
