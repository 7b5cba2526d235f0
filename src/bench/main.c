/* main: corral-bench's entry point — parse options, pin to a core, and run
 * a workload, the stub server or the self-test. With --stub a stub server
 * is forked on a free loopback port and the workload runs against it. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/engine.h"
#include "bench/opts.h"
#include "bench/run.h"
#include "bench/selftest.h"
#include "bench/stub.h"

static int pin_to(int cpu, const char *who)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        fprintf(stderr, "corral-bench: %s: cannot pin to core %d (have %ld cores)\n", who, cpu,
                sysconf(_SC_NPROCESSORS_ONLN));
        return -1;
    }
    return 0;
}

static void on_sigint(int sig)
{
    (void)sig;
    eng_interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second ^C stops at once */
}

static int run_stub(const bench_opts_t *o)
{
    if (o->cpu >= 0 && pin_to(o->cpu, "stub"))
        return 2;
    int port = 0;
    int fd = stub_listen(o->stub_host, o->stub_port, &port);
    if (fd < 0)
        return 1;
    printf("corral-bench stub listening on %s:%d (getData replies carry %d bytes)\n", o->stub_host,
           port, o->value_bytes);
    fflush(stdout);
    return stub_serve(fd, o);
}

/* Fork a stub on 127.0.0.1:<any>; the child serves until the parent ends. */
static pid_t fork_stub(bench_opts_t *o)
{
    int port = 0;
    int fd = stub_listen("127.0.0.1", 0, &port);
    if (fd < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("corral-bench: fork");
        close(fd);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (o->stub_cpu >= 0 && pin_to(o->stub_cpu, "stub"))
            _exit(2);
        _exit(stub_serve(fd, o));
    }
    close(fd);
    strcpy(o->servers[0].host, "127.0.0.1");
    o->servers[0].port = (uint16_t)port;
    o->nservers = 1;
    return pid;
}

int main(int argc, char **argv)
{
    static bench_opts_t o;
    char err[512];
    if (opts_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "corral-bench: %s\n", err);
        fprintf(stderr, "usage: corral-bench [options] WORKLOAD (see corral-bench --help)\n");
        return 2;
    }
    switch (o.mode) {
    case MODE_HELP:
        opts_usage(stdout);
        return 0;
    case MODE_SELFTEST:
        return bench_selftest();
    case MODE_STUB:
        return run_stub(&o);
    case MODE_RUN:
        break;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_sigint);
    pid_t stub_pid = 0;
    if (o.stub) {
        stub_pid = fork_stub(&o);
        if (stub_pid < 0)
            return 1;
    }
    if (o.cpu >= 0 && pin_to(o.cpu, "bench")) {
        if (stub_pid > 0)
            kill(stub_pid, SIGTERM);
        return 2;
    }
    int rc = bench_run(&o, o.stub);
    if (stub_pid > 0) {
        kill(stub_pid, SIGTERM);
        waitpid(stub_pid, NULL, 0);
    }
    return rc;
}
