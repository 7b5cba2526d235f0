/* slow_fsync: an LD_PRELOAD shim for tests. When CORRAL_TEST_FSYNC_DELAY_MS
 * is set, every fsync/fdatasync of the process first sleeps that long, then
 * runs the real call: a slow disk without a slow disk, so the server's
 * fsync.warningthresholdms handling can be tested on a real process. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void delay(void)
{
    const char *ms = getenv("CORRAL_TEST_FSYNC_DELAY_MS");
    if (!ms)
        return;
    long v = strtol(ms, NULL, 10);
    struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int fdatasync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    delay();
    return real(fd);
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    delay();
    return real(fd);
}
