/* memory_10_sessions: Latchkey's own memory while it watches N sessions.
 *
 *   memory_10_sessions [--chromium EXE] [--sessions N] [--run-s S] [--rotate-ms MS]
 *                      FIXTURE_PAGE_URL ROOT
 *
 * One process, one lk_cdp_loop, N owned sessions (default 10), each with its
 * own headless Chromium and profile ROOT/session-<i>, all on the fixture page
 * (rotating every MS, default 1000). Waits until every session shows a QR,
 * lets them run S seconds (default 30) with rotations, then reads this
 * process's own /proc/self/status (VmRSS, VmHWM and the RssAnon/RssFile split:
 * Latchkey's memory, Chromium excluded) and, for context, the Chromium trees'
 * memory (RSS summed, which counts shared pages once per process, and PSS,
 * which shares them out), and the CPU time this process used meanwhile. Every
 * line also gives the number of processes on the machine: Latchkey's scans
 * walk all of them, so its transient memory depends on it. Then stops every session and checks that no process
 * of any profile is left and that the session threads are gone.
 *
 * Build (from the repository root, after cmake --build build/default):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Icore/include -o memory_10_sessions bench/memory_10_sessions.c \
 *      build/default/core/liblatchkey.a $(pkg-config --cflags --libs libwebsockets libcurl jansson) -lpthread
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "latchkey/cdp.h"
#include "latchkey/session.h"
#include "latchkey/sys.h"

#define MAX_SESSIONS 64
#define MAX_PIDS 4096

typedef struct watched {
    int index;
    pthread_mutex_t mu;
    int changes; /* callbacks with a new QR */
    char last[512];
} watched;

static watched w[MAX_SESSIONS];

static void on_session(void *user, const lk_session_info *info)
{
    watched *x = user;
    if (!info->qr)
        return;
    pthread_mutex_lock(&x->mu);
    if (strncmp(x->last, info->qr, sizeof x->last - 1) != 0) {
        snprintf(x->last, sizeof x->last, "%s", info->qr);
        x->changes++;
    }
    pthread_mutex_unlock(&x->mu);
}

/* This process's CPU time (user + system), ms. */
static double self_cpu_ms(void)
{
    char buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n;
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* How many processes the machine runs: every full scan walks them all. */
static int machine_procs(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += isdigit((unsigned char)e->d_name[0]) != 0;
    closedir(d);
    return n;
}

static void self_line(const char *when)
{
    struct mallinfo2 mi = mallinfo2();
    printf("%-34s VmRSS %6ld kB  VmHWM %6ld kB  RssAnon %6ld kB  RssFile %6ld kB  Pss %6ld kB  "
           "threads %ld  heap in use %6zu kB (arena %zu kB, mmap %zu kB)  machine: %d processes\n",
           when, bench_status_kb(0, "VmRSS"), bench_status_kb(0, "VmHWM"),
           bench_status_kb(0, "RssAnon"), bench_status_kb(0, "RssFile"),
           bench_pss_kb((long)getpid()), bench_status_kb(0, "Threads"),
           (mi.uordblks + mi.hblkhd) / 1024, mi.arena / 1024, mi.hblkhd / 1024, machine_procs());
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *chromium = NULL, *url = NULL, *root = NULL;
    int n = 10, run_s = 30, rotate_ms = 1000, i, rc = 0;
    lk_cdp_loop *loop = NULL;
    lk_session *s[MAX_SESSIONS];
    long browser_pids[MAX_SESSIONS];
    static long pids[MAX_PIDS];
    char needle[4200], page[2048], profile[4096];
    lk_error err;
    double t0, t_all_qr, t_stop, cpu0, run0;
    size_t np, k;
    long rss_sum = 0, pss_sum = 0, lk_count = 0;
    int64_t lk_mem = 0, deadline;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--chromium") == 0 && i + 1 < argc)
            chromium = argv[++i];
        else if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--run-s") == 0 && i + 1 < argc)
            run_s = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rotate-ms") == 0 && i + 1 < argc)
            rotate_ms = atoi(argv[++i]);
        else if (!url)
            url = argv[i];
        else if (!root)
            root = argv[i];
    }
    if (!url || !root || n < 1 || n > MAX_SESSIONS || run_s < 0 || rotate_ms < 1) {
        fprintf(stderr, "usage: memory_10_sessions [--chromium EXE] [--sessions N] [--run-s S] "
                        "[--rotate-ms MS] FIXTURE_PAGE_URL ROOT\n");
        return 2;
    }
    snprintf(needle, sizeof needle, "--user-data-dir=%s/", root);
    lk_error_clear(&err);

    self_line("at start (nothing running)");
    if (lk_cdp_loop_start(&loop, &err) != LK_OK) {
        fprintf(stderr, "lk_cdp_loop_start: %s\n", err.msg);
        return 1;
    }
    self_line("after lk_cdp_loop_start");
    t0 = bench_mono_ms();
    for (i = 0; i < n; i++) {
        lk_session_opts o;
        w[i].index = i;
        pthread_mutex_init(&w[i].mu, NULL);
        snprintf(profile, sizeof profile, "%s/session-%d", root, i);
        /* Each page its own seed; rotations enough to keep rotating throughout. */
        snprintf(page, sizeof page, "%s%srotate_ms=%d&rotations=100000&seed=%d", url,
                 strchr(url, '?') ? "&" : "?", rotate_ms, 100 + i);
        memset(&o, 0, sizeof o);
        o.loop = loop;
        o.profile = profile;
        o.chromium = chromium;
        o.site_url = page;
        o.mode = LK_MODE_OWN;
        if (lk_session_start(&o, on_session, &w[i], &s[i], &err) != LK_OK) {
            fprintf(stderr, "lk_session_start %d: %s\n", i, err.msg);
            return 1;
        }
    }
    deadline = lk_sys_now_ms() + 180000;
    for (i = 0; i < n; i++) {
        lk_state st = lk_session_wait(s[i], LK_STATES(LK_STATE_QR) | LK_STATES(LK_STATE_FAILED),
                                      deadline);
        if (st != LK_STATE_QR) {
            lk_session_info info;
            lk_session_get(s[i], &info);
            fprintf(stderr, "session %d: no QR (state %s: %s)\n", i, lk_state_name(st),
                    info.reason);
            lk_session_info_clear(&info);
            rc = 1;
        }
    }
    t_all_qr = bench_mono_ms();
    printf("all %d sessions showed a QR %.1f s after the first lk_session_start\n", n,
           (t_all_qr - t0) / 1000);
    self_line("when all show a QR");
    cpu0 = self_cpu_ms();
    run0 = bench_mono_ms();
    /* A sample every 10 s: a leak shows as a trend, a transient as a blip. */
    {
        double end = bench_mono_ms() + run_s * 1000.0;
        int tick = 0;
        while (bench_mono_ms() < end) {
            double left = end - bench_mono_ms();
            struct timespec ts;
            if (left > 10000)
                left = 10000;
            ts.tv_sec = (time_t)(left / 1000);
            ts.tv_nsec = (long)((left - ts.tv_sec * 1000.0) * 1e6);
            nanosleep(&ts, NULL);
            tick += (int)((left + 500) / 1000);
            if (bench_mono_ms() < end - 1) {
                char label[64];
                snprintf(label, sizeof label, "  running, %d s", tick);
                self_line(label);
            }
        }
    }
    self_line("after running");
    printf("CPU used by this process while running: %.0f ms over %.1f s (%.1f%% of one CPU)\n",
           self_cpu_ms() - cpu0, (bench_mono_ms() - run0) / 1000,
           100.0 * (self_cpu_ms() - cpu0) / (bench_mono_ms() - run0));

    /* Context: the browsers. */
    for (i = 0; i < n; i++) {
        lk_session_info info;
        lk_session_get(s[i], &info);
        browser_pids[i] = info.browser_pid;
        lk_mem += info.memory_bytes;
        lk_count += info.process_count;
        printf("  session %d: state %s, rotations %d (callback saw %d new QR codes), restarts %d, "
               "browser pid %ld, %d processes\n",
               i, lk_state_name(info.state), info.rotations, w[i].changes, info.restarts,
               info.browser_pid, info.process_count);
        if (info.state != LK_STATE_QR || info.restarts)
            rc = 1;
        lk_session_info_clear(&info);
    }
    np = bench_find_procs(needle, browser_pids, (size_t)n, pids, MAX_PIDS);
    for (k = 0; k < np; k++) {
        long r = bench_status_kb(pids[k], "VmRSS"), p = bench_pss_kb(pids[k]);
        if (r > 0)
            rss_sum += r;
        if (p > 0)
            pss_sum += p;
    }
    printf("Chromium trees: %zu processes, RSS summed %.1f MiB, PSS summed %.1f MiB "
           "(Latchkey's health says %ld processes, %.1f MiB)\n",
           np, rss_sum / 1024.0, pss_sum / 1024.0, lk_count, lk_mem / 1048576.0);
    self_line("after reading the trees");

    t_stop = bench_mono_ms();
    for (i = 0; i < n; i++) {
        if (lk_session_stop(s[i], 10000, &err) != LK_OK)
            fprintf(stderr, "lk_session_stop %d: %s\n", i, err.msg);
        lk_session_free(s[i]);
    }
    lk_cdp_loop_stop(loop);
    printf("stopping all %d sessions (one after the other) took %.1f s\n", n,
           (bench_mono_ms() - t_stop) / 1000);
    self_line("after stopping everything");
    np = bench_find_procs(needle, browser_pids, (size_t)n, pids, MAX_PIDS);
    if (np) {
        printf("LEFT BEHIND: %zu processes:", np);
        for (k = 0; k < np; k++)
            printf(" %ld", pids[k]);
        printf("\n");
        rc = 1;
    } else {
        printf("after stop: no process of any profile is left\n");
    }
    if (bench_status_kb(0, "Threads") != 1) {
        printf("THREADS LEFT: %ld (expected 1)\n", bench_status_kb(0, "Threads"));
        rc = 1;
    }
    return rc;
}
