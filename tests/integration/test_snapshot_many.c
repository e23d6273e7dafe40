/* One snapshot answers for many folders: each sees its own holder only. */
#define _GNU_SOURCE
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "latchkey/doctor.h"
#include "../lk_check.h"

#define N 3

extern char **environ;

int main(int argc, char **argv)
{
    char root[] = "/tmp/latchkey-many.XXXXXX";
    char dirs[N][64], files[N][96], markers[N][96];
    pid_t pids[N];
    lk_snapshot *snap = NULL;
    lk_error err;
    int i, j, k;

    if (argc < 2 || !mkdtemp(root)) {
        fprintf(stderr, "usage: test_snapshot_many HOLD_HELPER\n");
        return 1;
    }
    for (i = 0; i < N; i++) {
        char *args[7];
        /* session-1, session-10, session-100: prefixes of each other on purpose. */
        snprintf(dirs[i], sizeof dirs[i], "%.40s/session-1%.*s", root, i, "00");
        snprintf(files[i], sizeof files[i], "%.60s/Cookies", dirs[i]);
        snprintf(markers[i], sizeof markers[i], "%.40s/ready-%d", root, i);
        mkdir(dirs[i], 0700);
        args[0] = argv[1];
        args[1] = "--open";
        args[2] = files[i];
        args[3] = "--ready";
        args[4] = markers[i];
        args[5] = NULL;
        CHECK(posix_spawn(&pids[i], argv[1], NULL, NULL, args, environ) == 0);
        for (k = 0; k < 500 && access(markers[i], F_OK) != 0; k++)
            usleep(10000);
        CHECK(access(markers[i], F_OK) == 0);
    }
    CHECK(lk_sys_snapshot(&snap, LK_SNAP_HANDLES, &err) == LK_OK);
    for (i = 0; snap && i < N; i++) {
        lk_holders *h = NULL;
        int mine = 0, others = 0;
        CHECK(lk_doctor_holders(snap, dirs[i], &h, &err) == LK_OK);
        for (j = 0; h && j < (int)h->nholders; j++)
            for (k = 0; k < N; k++)
                if (h->holders[j].proc.pid == pids[k])
                    *(k == i ? &mine : &others) += 1;
        CHECK(mine == 1);
        CHECK(others == 0);
        lk_holders_free(h);
    }
    lk_snapshot_free(snap);
    for (i = 0; i < N; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
        unlink(files[i]);
        unlink(markers[i]);
        rmdir(dirs[i]);
    }
    rmdir(root);
    return lk_check_done();
}
