/* bench_util.h - small helpers shared by the session benchmarks
 * (rotation_latency.c, memory_10_sessions.c). Header-only on purpose: each
 * benchmark is one compile command (see session_bench.sh).
 *
 * They read /proc directly, not through liblatchkey, so that what the
 * benchmarks check about Latchkey (nothing left behind, memory) does not rely
 * on the code under test. Linux only. */
#ifndef LK_BENCH_UTIL_H
#define LK_BENCH_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline double bench_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The whole command line of pid with NULs turned into spaces; 0 when gone. */
static inline int bench_cmdline(long pid, char *buf, size_t size)
{
    char path[64];
    FILE *f;
    size_t n, i;
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    f = fopen(path, "rb");
    if (!f)
        return 0;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    for (i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return n > 0;
}

/* A field of /proc/PID/status in kB ("VmRSS", "VmHWM", ...); -1 when absent. */
static inline long bench_status_kb(long pid, const char *field)
{
    char path[64], line[256];
    size_t flen = strlen(field);
    long v = -1;
    FILE *f;
    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%ld/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Pss of pid from smaps_rollup, kB; -1 when unreadable. */
static inline long bench_pss_kb(long pid)
{
    char path[64], line[256];
    long v = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Pss:", 4) == 0) {
            v = strtol(line + 4, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static inline long bench_ppid(long pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p)
        return -1;
    return strtol(p + 4, NULL, 10); /* ") S PPID" */
}

/* Every live process (pid != self) whose command line contains needle, or that
 * descends from one of roots[0..nroots). Fills pids (up to max); returns the
 * count. Zombies count too: they show as leftovers until reaped. */
static inline size_t bench_find_procs(const char *needle, const long *roots, size_t nroots,
                                      long *pids, size_t max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    size_t n = 0;
    static char cmd[65536];
    long self = (long)getpid();
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL && n < max) {
        long pid, a;
        size_t r;
        int hit = 0, depth;
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid = strtol(e->d_name, NULL, 10);
        if (pid == self)
            continue;
        if (needle && bench_cmdline(pid, cmd, sizeof cmd) && strstr(cmd, needle))
            hit = 1;
        for (a = pid, depth = 0; !hit && a > 1 && depth < 64; depth++) {
            for (r = 0; r < nroots; r++)
                if (roots[r] > 0 && a == roots[r])
                    hit = 1;
            a = bench_ppid(a);
        }
        if (hit)
            pids[n++] = pid;
    }
    closedir(d);
    return n;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static inline double bench_pct(const double *v, size_t n, double p)
{
    size_t k;
    if (n == 0)
        return -1;
    k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

#endif
