/* service: zkServer.sh's start/stop/status for corrald (see service.h), and
 * the readiness notifications the started server sends back. */
#include "server/service.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/config.h"

#define DEFAULT_CONFIG "/etc/corral/zoo.cfg"
#define READY_ENV "CORRAL_READY_FD"
#define MAX_ARGS 256

static const char *const COMMANDS[] = {"start",   "start-foreground", "stop",
                                       "restart", "status",           "print-cmd"};

bool service_is_command(const char *word)
{
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (word && strcmp(word, COMMANDS[i]) == 0)
            return true;
    return false;
}

/* Everything a command needs, resolved once from the arguments. */
typedef struct svc {
    char cfg_path[PATH_MAX];
    const char *props[MAX_ARGS]; /* -D arguments, passed on to the server */
    int nprops;
    corral_config_t cfg;
    char pid_file[PATH_MAX];
    char out_file[PATH_MAX];
    char exe[PATH_MAX];
} svc_t;

/* ---- small helpers ------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int env_seconds(const char *name, int dflt)
{
    const char *v = getenv(name);
    char *end;
    long s = v ? strtol(v, &end, 10) : 0;
    return v && *v && *end == '\0' && s > 0 && s < 86400 ? (int)s : dflt;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* The pid in the pid file: >0, 0 when there is no file, -1 when unreadable. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    long pid = -1;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT_MAX)
        pid = -1;
    fclose(f);
    return (pid_t)pid;
}

static int write_pid(const char *path, pid_t pid)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    int ok = fprintf(f, "%ld", (long)pid) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Running, and not a zombie waiting for its parent. */
static bool alive(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno != EPERM)
        return false;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && p[2] == 'Z');
}

/* The executable's name without directory and " (deleted)" (an upgraded
 * binary). */
static void exe_name(const char *link, char *out, size_t outlen)
{
    const char *base = strrchr(link, '/');
    snprintf(out, outlen, "%s", base ? base + 1 : link);
    char *del = strstr(out, " (deleted)");
    if (del)
        *del = '\0';
}

/* Is `pid` running the same program as we are? true when we cannot tell. */
static bool is_corrald(const svc_t *sv, pid_t pid, char *what, size_t whatlen)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%ld/exe", (long)pid);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return true;
    target[n] = '\0';
    char mine[PATH_MAX], theirs[PATH_MAX];
    exe_name(sv->exe, mine, sizeof mine);
    exe_name(target, theirs, sizeof theirs);
    snprintf(what, whatlen, "%s", target);
    return strcmp(mine, theirs) == 0;
}

/* ---- asking the server: srvr on the client port --------------------------------- */

/* Send a four-letter word and read the reply until EOF (bounded). */
static int four_letter_word(const char *host, int port, const char *cmd, char *out, size_t outlen,
                            int timeout_ms)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0)
        return -1;
    int rc = -1;
    for (struct addrinfo *a = ai; a && rc != 0; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
            send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) == (ssize_t)strlen(cmd)) {
            size_t len = 0;
            ssize_t n;
            while (len + 1 < outlen && (n = recv(fd, out + len, outlen - 1 - len, 0)) > 0)
                len += (size_t)n;
            out[len] = '\0';
            rc = len > 0 ? 0 : -1;
        }
        close(fd);
    }
    freeaddrinfo(ai);
    return rc;
}

/* zkServer.sh status: the client port, and the address as zoo.cfg writes it
 * ("localhost" when it does not). Quorum members may give it in server.N. */
static int client_endpoint(const svc_t *sv, char *host, size_t hostlen, int *port, bool *ssl)
{
    const corral_config_t *cfg = &sv->cfg;
    const char *addr = NULL;
    for (size_t i = 0; i < cfg->nfile_entries; i++)
        if (strcmp(cfg->file_entries[i].name, "clientPortAddress") == 0)
            addr = cfg->file_entries[i].value;
    *ssl = false;
    *port = cfg->client_port;
    for (size_t i = 0; *port <= 0 && i < cfg->nservers; i++)
        if (cfg->servers[i].id == cfg->my_id && cfg->servers[i].client_port > 0) {
            *port = cfg->servers[i].client_port;
            addr = cfg->servers[i].client_host;
        }
    if (*port <= 0 && cfg->secure_client_port > 0) {
        *ssl = true;
        *port = cfg->secure_client_port;
        addr = NULL;
        for (size_t i = 0; i < cfg->nfile_entries; i++)
            if (strcmp(cfg->file_entries[i].name, "secureClientPortAddress") == 0)
                addr = cfg->file_entries[i].value;
    }
    snprintf(host, hostlen, "%s", addr && *addr ? addr : "localhost");
    return *port > 0 ? 0 : -1;
}

/* The "Mode: ..." line of srvr, or false. */
static bool server_mode(const svc_t *sv, char *mode, size_t modelen, int timeout_ms)
{
    char host[256], reply[4096];
    int port;
    bool ssl;
    if (client_endpoint(sv, host, sizeof host, &port, &ssl) != 0 || ssl)
        return false;
    if (four_letter_word(host, port, "srvr", reply, sizeof reply, timeout_ms) != 0)
        return false;
    for (char *line = strtok(reply, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "Mode:", 5) == 0) {
            snprintf(mode, modelen, "%s", line);
            return true;
        }
    return false;
}

/* ---- the commands ------------------------------------------------------------------- */

/* argv for the server: exe, zoo.cfg, -D... */
static void server_argv(const svc_t *sv, const char **args)
{
    int n = 0;
    args[n++] = sv->exe;
    args[n++] = sv->cfg_path;
    for (int i = 0; i < sv->nprops; i++)
        args[n++] = sv->props[i];
    args[n] = NULL;
}

static int cmd_print_cmd(const svc_t *sv)
{
    printf("\"%s\" \"%s\"", sv->exe, sv->cfg_path);
    for (int i = 0; i < sv->nprops; i++)
        printf(" \"%s\"", sv->props[i]);
    printf(" > \"%s\" 2>&1 < /dev/null\n", sv->out_file);
    return 0;
}

static int cmd_start_foreground(const svc_t *sv)
{
    const char *args[MAX_ARGS + 3];
    server_argv(sv, args);
    fflush(NULL);
    execv(sv->exe, (char *const *)args);
    fprintf(stderr, "corrald: cannot execute %s: %s\n", sv->exe, strerror(errno));
    return 1;
}

/* In the child: become the daemon. Never returns. */
static void exec_daemon(const svc_t *sv, int ready_fd)
{
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(sv->out_file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (out < 0)
        fprintf(stderr, "corrald: cannot open %s: %s\n", sv->out_file, strerror(errno));
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    if (in > 2)
        close(in);
    if (out > 2)
        close(out);
    char fd_s[16];
    snprintf(fd_s, sizeof fd_s, "%d", ready_fd);
    setenv(READY_ENV, fd_s, 1);
    int flags = fcntl(ready_fd, F_GETFD);
    fcntl(ready_fd, F_SETFD, flags & ~FD_CLOEXEC); /* the server inherits it */
    const char *args[MAX_ARGS + 3];
    server_argv(sv, args);
    execv(sv->exe, (char *const *)args);
    fprintf(stderr, "corrald: cannot execute %s: %s\n", sv->exe, strerror(errno));
    _exit(127);
}

typedef enum wait_result { WAIT_READY, WAIT_DIED, WAIT_TIMEOUT } wait_result_t;

/* Until the server says it serves (the pipe, or srvr answering), dies or
 * the deadline passes. */
static wait_result_t wait_ready(const svc_t *sv, pid_t pid, int ready_fd, int timeout_s)
{
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    bool pipe_open = true;
    char mode[128];
    while (now_ms() < deadline) {
        struct pollfd p = {ready_fd, POLLIN, 0};
        if (pipe_open && poll(&p, 1, 100) > 0) {
            char c;
            ssize_t n = read(ready_fd, &c, 1);
            if (n == 1)
                return WAIT_READY;
            if (n == 0)
                pipe_open = false; /* exited, or closed it without a word */
        } else if (!pipe_open) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WAIT_DIED;
        /* A server built without the readiness hook still answers srvr. */
        if (server_mode(sv, mode, sizeof mode, 500))
            return WAIT_READY;
    }
    return WAIT_TIMEOUT;
}

static int cmd_start(const svc_t *sv)
{
    printf("Starting corrald ... ");
    fflush(stdout);
    pid_t old = read_pid(sv->pid_file);
    char what[PATH_MAX];
    if (old > 0 && alive(old) && is_corrald(sv, old, what, sizeof what)) {
        printf("corrald already running as process %ld.\n", (long)old);
        return 1;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        printf("SERVER DID NOT START\n");
        fprintf(stderr, "corrald: pipe: %s\n", strerror(errno));
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        printf("SERVER DID NOT START\n");
        fprintf(stderr, "corrald: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        exec_daemon(sv, fds[1]);
    }
    close(fds[1]);
    if (write_pid(sv->pid_file, pid) != 0) {
        printf("FAILED TO WRITE PID\n");
        fprintf(stderr, "corrald: cannot write %s: %s\n", sv->pid_file, strerror(errno));
        kill(pid, SIGTERM);
        close(fds[0]);
        return 1;
    }
    wait_result_t w = wait_ready(sv, pid, fds[0], env_seconds("CORRAL_START_TIMEOUT", 30));
    close(fds[0]);
    if (w == WAIT_DIED) {
        unlink(sv->pid_file);
        printf("FAILED TO START\n");
        fprintf(stderr, "corrald: the server exited; see %s\n", sv->out_file);
        return 1;
    }
    printf("STARTED\n");
    if (w == WAIT_TIMEOUT)
        fprintf(stderr, "corrald: process %ld is running but not serving yet; see %s\n", (long)pid,
                sv->out_file);
    return 0;
}

/* Wait for a process that is not our child to exit: pidfd when the kernel
 * has it (an event, no polling), else kill(pid, 0) every 20 ms. */
static bool wait_exit(pid_t pid, int timeout_s)
{
    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
#ifdef SYS_pidfd_open
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
        int64_t left;
        int rc = 0;
        while ((left = deadline - now_ms()) > 0) {
            struct pollfd p = {pfd, POLLIN, 0};
            rc = poll(&p, 1, (int)left);
            if (rc != 0 && !(rc < 0 && errno == EINTR))
                break;
        }
        close(pfd);
        return rc > 0;
    }
    if (errno == ESRCH)
        return true;
#endif
    while (now_ms() < deadline) {
        if (!alive(pid))
            return true;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !alive(pid);
}

static int cmd_stop(const svc_t *sv)
{
    printf("Stopping corrald ... ");
    fflush(stdout);
    pid_t pid = read_pid(sv->pid_file);
    if (pid == 0) {
        printf("no corrald to stop (could not find file %s)\n", sv->pid_file);
        return 0;
    }
    if (pid < 0) {
        printf("FAILED TO STOP\n");
        fprintf(stderr, "corrald: %s does not hold a process id\n", sv->pid_file);
        return 1;
    }
    char what[PATH_MAX];
    if (!alive(pid)) {
        unlink(sv->pid_file);
        printf("STOPPED\n");
        fprintf(stderr, "corrald: process %ld was not running; removed %s\n", (long)pid,
                sv->pid_file);
        return 0;
    }
    if (!is_corrald(sv, pid, what, sizeof what)) {
        printf("FAILED TO STOP\n");
        fprintf(stderr, "corrald: process %ld from %s is %s, not corrald; not signalling it\n",
                (long)pid, sv->pid_file, what);
        return 1;
    }
    int timeout_s = env_seconds("CORRAL_STOP_TIMEOUT", 60);
    if (kill(pid, SIGTERM) != 0 && errno != ESRCH) {
        printf("FAILED TO STOP\n");
        fprintf(stderr, "corrald: kill %ld: %s\n", (long)pid, strerror(errno));
        return 1;
    }
    if (!wait_exit(pid, timeout_s)) {
        printf("FAILED TO STOP\n");
        fprintf(stderr, "corrald: process %ld still running %d s after SIGTERM\n", (long)pid,
                timeout_s);
        return 1;
    }
    unlink(sv->pid_file);
    printf("STOPPED\n");
    return 0;
}

static int cmd_status(const svc_t *sv)
{
    char host[256], mode[128];
    int port;
    bool ssl;
    if (client_endpoint(sv, host, sizeof host, &port, &ssl) != 0) {
        printf("Unable to find either secure or unsecure client port in any configs. "
               "Terminating.\n");
        return 1;
    }
    printf("Client port found: %d. Client address: %s. Client SSL: %s.\n", port, host,
           ssl ? "true" : "false");
    fflush(stdout);
    if (!server_mode(sv, mode, sizeof mode, 5000)) {
        printf("Error contacting service. It is probably not running.\n");
        return 1;
    }
    printf("%s\n", mode);
    return 0;
}

/* ---- set-up ------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "Usage: corrald {start|start-foreground|stop|restart|status|print-cmd} "
                    "[zoo.cfg] [-Dname=value ...]\n");
}

static int find_config(svc_t *sv, const char *arg)
{
    const char *dir = getenv("ZOOCFGDIR");
    const char *name = getenv("ZOOCFG");
    char cand[PATH_MAX];
    if (arg && dir && *dir && strchr(arg, '/') == NULL &&
        snprintf(cand, sizeof cand, "%s/%s", dir, arg) < (int)sizeof cand && file_exists(cand))
        arg = cand;
    if (arg == NULL && dir && *dir &&
        snprintf(cand, sizeof cand, "%s/%s", dir, name && *name ? name : "zoo.cfg") <
            (int)sizeof cand)
        arg = cand;
    if (arg == NULL)
        arg = DEFAULT_CONFIG;
    return snprintf(sv->cfg_path, sizeof sv->cfg_path, "%s", arg) < (int)sizeof sv->cfg_path ? 0
                                                                                             : -1;
}

static int setup(svc_t *sv, int argc, char **argv)
{
    const char *cfg_arg = NULL;
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "-D", 2) == 0 && sv->nprops < MAX_ARGS) {
            sv->props[sv->nprops++] = argv[i];
        } else if (cfg_arg == NULL && argv[i][0] != '-') {
            cfg_arg = argv[i];
        } else {
            usage();
            return 2;
        }
    }
    if (find_config(sv, cfg_arg) != 0) {
        fprintf(stderr, "corrald: config path too long\n");
        return 2;
    }
    fprintf(stderr, "Using config: %s\n", sv->cfg_path);
    if (!file_exists(sv->cfg_path)) {
        fprintf(stderr, "corrald: %s: %s\n", sv->cfg_path, strerror(errno));
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", sv->exe, sizeof sv->exe - 1);
    if (n < 0) {
        fprintf(stderr, "corrald: cannot find my own executable: %s\n", strerror(errno));
        return 1;
    }
    sv->exe[n] = '\0';
    char *cargv[MAX_ARGS + 3];
    int cargc = 0;
    cargv[cargc++] = "corrald";
    cargv[cargc++] = sv->cfg_path;
    for (int i = 0; i < sv->nprops; i++)
        cargv[cargc++] = (char *)sv->props[i];
    cargv[cargc] = NULL;
    char err[1024];
    if (config_load(&sv->cfg, cargc, cargv, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "corrald: invalid configuration: %s\n", err);
        return 2;
    }
    const char *data_dir = sv->cfg.data_dir_abs ? sv->cfg.data_dir_abs : ".";
    const char *pid = getenv("ZOOPIDFILE");
    if (pid && *pid)
        snprintf(sv->pid_file, sizeof sv->pid_file, "%s", pid);
    else
        snprintf(sv->pid_file, sizeof sv->pid_file, "%s/zookeeper_server.pid", data_dir);
    const char *log_dir = getenv("ZOO_LOG_DIR");
    if (log_dir == NULL || *log_dir == '\0')
        log_dir = config_prop(&sv->cfg, "zookeeper.log.dir");
    if (log_dir == NULL || *log_dir == '\0')
        log_dir = data_dir;
    struct passwd *pw = getpwuid(geteuid());
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(sv->out_file, sizeof sv->out_file, "%s/zookeeper-%s-server-%s.out", log_dir,
             pw ? pw->pw_name : "corral", host);
    /* zkServer.sh creates the data dir (for the pid file) and the log dir */
    const char *cmd = argv[1];
    if (strcmp(cmd, "start") == 0 || strcmp(cmd, "restart") == 0) {
        char piddir[PATH_MAX];
        snprintf(piddir, sizeof piddir, "%s", sv->pid_file);
        char *slash = strrchr(piddir, '/');
        if (slash && slash != piddir)
            *slash = '\0';
        if ((slash && make_dirs(piddir) != 0) || make_dirs(log_dir) != 0) {
            fprintf(stderr, "corrald: cannot create %s or %s: %s\n", piddir, log_dir,
                    strerror(errno));
            return 1;
        }
    }
    return 0;
}

int service_main(int argc, char **argv)
{
    if (argc < 2 || !service_is_command(argv[1])) {
        usage();
        return 2;
    }
    svc_t *sv = calloc(1, sizeof *sv);
    if (sv == NULL)
        return 1;
    int rc = setup(sv, argc, argv);
    const char *cmd = argv[1];
    if (rc == 0) {
        if (strcmp(cmd, "start") == 0)
            rc = cmd_start(sv);
        else if (strcmp(cmd, "start-foreground") == 0)
            rc = cmd_start_foreground(sv);
        else if (strcmp(cmd, "stop") == 0)
            rc = cmd_stop(sv);
        else if (strcmp(cmd, "restart") == 0)
            rc = cmd_stop(sv) == 0 ? cmd_start(sv) : 1;
        else if (strcmp(cmd, "status") == 0)
            rc = cmd_status(sv);
        else
            rc = cmd_print_cmd(sv);
    }
    config_free(&sv->cfg);
    free(sv);
    return rc;
}

/* ---- readiness notifications ---------------------------------------------------- */

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void sd_notify_msg(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path)
        return;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}

void service_notify_ready(void)
{
    const char *v = getenv(READY_ENV);
    if (v != NULL) {
        char *end;
        long fd = strtol(v, &end, 10);
        struct stat st;
        /* only the pipe `corrald start` gave us: never a reused descriptor */
        if (*v && *end == '\0' && fd > 2 && fd < INT_MAX && fstat((int)fd, &st) == 0 &&
            S_ISFIFO(st.st_mode)) {
            ssize_t n = write((int)fd, "1", 1);
            (void)n;
            close((int)fd);
        }
        unsetenv(READY_ENV);
    }
    sd_notify_msg("READY=1\nSTATUS=serving");
}

void service_notify_stopping(void)
{
    sd_notify_msg("STOPPING=1");
}
