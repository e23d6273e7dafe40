/* payload_timer: runs a command and records when a QR payload appears on its
 * standard output, and when the command exits. Used by qr_bench.sh so that all
 * three contenders are timed the same way: from just before fork() to the
 * moment the payload is readable by the caller (not when the process exits,
 * which includes closing the browser).
 *
 *   payload_timer MODE TIMEOUT_S STDOUT_FILE STDERR_FILE -- CMD [ARG...]
 *
 * MODE says where the payload is in the output:
 *   json  the first "qr":"..." string (latchkeyctl --json)
 *   line  the first whole line starting with "2@" (the Puppeteer script)
 *   dom   the first ` data-ref="..."` attribute (chromium --dump-dom)
 *
 * Prints one line: payload_ms=F exit_ms=F rc=N payload=STRING (payload "-"
 * when none was seen; rc=timeout when the command was killed at TIMEOUT_S).
 * The command runs in its own process group, which is killed on timeout.
 *
 * Build: cc -O2 -o payload_timer bench/payload_timer.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Looks for a complete payload in buf[0..len). Returns a malloc'd copy or NULL. */
static char *find_payload(const char *mode, const char *buf, size_t len)
{
    const char *start = NULL, *end = NULL, *p;
    if (strcmp(mode, "json") == 0) {
        p = memmem(buf, len, "\"qr\":\"", 6);
        if (!p)
            return NULL;
        start = p + 6;
        for (p = start; p < buf + len; p++) {
            if (*p == '\\') {
                p++;
                continue;
            }
            if (*p == '"') {
                end = p;
                break;
            }
        }
    } else if (strcmp(mode, "dom") == 0) {
        p = memmem(buf, len, " data-ref=\"", 11);
        if (!p)
            return NULL;
        start = p + 11;
        end = memchr(start, '"', (size_t)(buf + len - start));
    } else { /* line */
        const char *line = buf;
        while (line < buf + len) {
            const char *nl = memchr(line, '\n', (size_t)(buf + len - line));
            if (!nl)
                return NULL; /* the line is not complete yet */
            if (nl - line >= 2 && line[0] == '2' && line[1] == '@') {
                start = line;
                end = nl;
                break;
            }
            line = nl + 1;
        }
    }
    if (!start || !end)
        return NULL;
    {
        size_t n = (size_t)(end - start), i, o = 0;
        char *out = malloc(n + 1);
        if (!out)
            return NULL;
        for (i = 0; i < n; i++) {
            if (start[i] == '\\' && i + 1 < n && strcmp(mode, "json") == 0)
                i++; /* \/ and friends: base64 needs no other escape */
            out[o++] = start[i];
        }
        out[o] = '\0';
        return out;
    }
}

int main(int argc, char **argv)
{
    const char *mode, *out_path, *err_path;
    double timeout_ms, t0, t_payload = -1, t_exit = -1;
    int pfd[2], pidfd, status = 0, exited = 0, timed_out = 0, out_fd;
    char *buf = NULL, *payload = NULL;
    size_t len = 0, cap = 0;
    pid_t pid;

    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: payload_timer json|line|dom TIMEOUT_S STDOUT_FILE STDERR_FILE -- CMD [ARG...]\n");
        return 2;
    }
    mode = argv[1];
    timeout_ms = atof(argv[2]) * 1000;
    out_path = argv[3];
    err_path = argv[4];
    out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || pipe2(pfd, O_CLOEXEC) != 0) {
        perror("payload_timer");
        return 2;
    }
    t0 = now_ms();
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        int efd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        setpgid(0, 0);
        dup2(pfd[1], 1);
        if (efd >= 0)
            dup2(efd, 2);
        execvp(argv[6], argv + 6);
        perror("exec");
        _exit(127);
    }
    close(pfd[1]);
    setpgid(pid, pid);
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);

    for (;;) {
        struct pollfd fds[2];
        int nfds = 0, wait_ms;
        double left = t0 + timeout_ms - now_ms();
        if (pfd[0] >= 0) {
            fds[nfds].fd = pfd[0];
            fds[nfds++].events = POLLIN;
        }
        if (!exited && pidfd >= 0) {
            fds[nfds].fd = pidfd;
            fds[nfds++].events = POLLIN;
        }
        if (exited && pfd[0] < 0)
            break;
        /* After the command exited, its leftovers (a browser child still
         * holding the pipe) get 2 s more to say anything, no longer. */
        if (exited)
            left = t_exit + 2000 - now_ms();
        if (left <= 0) {
            if (!exited) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                timed_out = 1;
                waitpid(pid, &status, 0);
                t_exit = now_ms();
                exited = 1;
            }
            break;
        }
        wait_ms = pidfd >= 0 || exited ? (int)left + 1 : (left > 5 ? 5 : (int)left + 1);
        poll(fds, (nfds_t)nfds, wait_ms);
        if (pfd[0] >= 0) {
            for (;;) {
                ssize_t n;
                if (len + 65536 > cap) {
                    char *nb = realloc(buf, cap = (cap ? cap * 2 : 262144));
                    if (!nb) {
                        perror("realloc");
                        return 2;
                    }
                    buf = nb;
                }
                n = read(pfd[0], buf + len, cap - len - 1);
                if (n > 0) {
                    if (write(out_fd, buf + len, (size_t)n) != n) {
                        /* the copy is for reading afterwards; timing goes on */
                    }
                    len += (size_t)n;
                    if (!payload) {
                        payload = find_payload(mode, buf, len);
                        if (payload)
                            t_payload = now_ms();
                    }
                    continue;
                }
                if (n == 0) { /* EOF: every holder of the pipe is gone */
                    close(pfd[0]);
                    pfd[0] = -1;
                }
                break;
            }
        }
        if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
            t_exit = now_ms();
            exited = 1;
        }
    }
    if (!exited) {
        waitpid(pid, &status, 0);
        t_exit = now_ms();
    }
    printf("payload_ms=%.1f exit_ms=%.1f rc=", payload ? t_payload - t0 : -1.0, t_exit - t0);
    if (timed_out)
        printf("timeout");
    else if (WIFEXITED(status))
        printf("%d", WEXITSTATUS(status));
    else
        printf("sig%d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    printf(" payload=%s\n", payload ? payload : "-");
    free(payload);
    free(buf);
    return 0;
}
