/* A process that holds things, the way a browser or a bot does:
 *   hold_helper [--open FILE]... [--cwd DIR] [--map FILE] [--ignore-term]
 *               [--on-term CMD] [--spawn CMD] [--user-data-dir=DIR]
 *               [--join-cmdline] --ready MARKER
 * --on-term CMD: on SIGTERM, run CMD with /bin/sh (a holder that fights back,
 * or one that saves its work), then exit. --spawn CMD: start CMD with /bin/sh
 * as a child (what a browser opens: an editor, a viewer).
 * It writes MARKER once everything is held, then waits to be ended.
 * --user-data-dir=DIR (and any other --flag=value) is accepted and ignored: it
 * makes the helper look like a Chromium of that profile on its command line. --join-cmdline rewrites the
 * command line as one space-joined string, as Chromium's processes do
 * (setproctitle), so /proc/PID/cmdline has a single NUL at its end. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int die(const char *what, const char *arg)
{
    fprintf(stderr, "hold_helper: %s %s: ", what, arg);
    perror(NULL);
    return 1;
}

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

int main(int argc, char **argv)
{
    const char *ready = NULL, *term_cmd = NULL;
    int i, join = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--open") == 0 && i + 1 < argc) {
            if (open(argv[++i], O_RDWR | O_CREAT, 0644) < 0)
                return die("open", argv[i]);
        } else if (strcmp(argv[i], "--cwd") == 0 && i + 1 < argc) {
            if (chdir(argv[++i]) != 0)
                return die("chdir", argv[i]);
        } else if (strcmp(argv[i], "--map") == 0 && i + 1 < argc) {
            int fd = open(argv[++i], O_RDWR | O_CREAT, 0644);
            if (fd < 0 || ftruncate(fd, 4096) != 0 ||
                mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
                return die("map", argv[i]);
            close(fd); /* only the mapping holds it now */
        } else if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=')) {
            continue; /* --user-data-dir=DIR, --type=renderer...: only to be seen */
        } else if (strcmp(argv[i], "--join-cmdline") == 0) {
            join = 1;
        } else if (strcmp(argv[i], "--ignore-term") == 0) {
            signal(SIGTERM, SIG_IGN);
        } else if (strcmp(argv[i], "--on-term") == 0 && i + 1 < argc) {
            term_cmd = argv[++i];
            signal(SIGTERM, on_term);
        } else if (strcmp(argv[i], "--spawn") == 0 && i + 1 < argc) {
            pid_t pid = fork();
            ++i;
            if (pid == 0) {
                /* A browser's child inherits none of its files. */
                int fd;
                for (fd = 3; fd < 1024; fd++)
                    close(fd);
                execl("/bin/sh", "sh", "-c", argv[i], (char *)NULL);
                _exit(127);
            }
            if (pid < 0)
                return die("spawn", argv[i]);
        } else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) {
            ready = argv[++i];
        } else {
            fprintf(stderr, "hold_helper: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (join) {
        /* argv's strings lie end to end: the NULs between them become spaces. */
        for (i = 0; i + 1 < argc; i++)
            argv[i][strlen(argv[i])] = ' ';
    }
    if (ready) {
        int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return die("ready", ready);
        close(fd);
    }
    for (;;) {
        pause();
        if (got_term && term_cmd) {
            int rc = system(term_cmd);
            return rc == 0 ? 0 : 3;
        }
    }
}
