/* service: corrald as a service, the way zkServer.sh runs ZooKeeper.
 *
 *   corrald start            [zoo.cfg] [-Dname=value ...]
 *   corrald start-foreground [zoo.cfg] [-D...]
 *   corrald stop             [zoo.cfg]
 *   corrald restart          [zoo.cfg] [-D...]
 *   corrald status           [zoo.cfg]
 *   corrald print-cmd        [zoo.cfg] [-D...]
 *
 * Same semantics and messages as zkServer.sh, with "corrald" for
 * "zookeeper":
 *  - zoo.cfg: the argument (looked up in $ZOOCFGDIR when it is a bare file
 *    name and that file exists), else $ZOOCFGDIR/${ZOOCFG:-zoo.cfg}, else
 *    /etc/corral/zoo.cfg. "Using config: <path>" goes to stderr.
 *  - pid file: $ZOOPIDFILE, else <dataDir>/zookeeper_server.pid (the pid in
 *    decimal, no newline).
 *  - start daemonises: it re-executes this binary (/proc/self/exe) in a new
 *    session, stdin from /dev/null, stdout and stderr to
 *    $ZOO_LOG_DIR/zookeeper-<user>-server-<host>.out ($ZOO_LOG_DIR, else
 *    -Dzookeeper.log.dir, else dataDir), writes the pid file, then waits
 *    until the server reports it is serving (service_notify_ready, or srvr
 *    answering on the client port) — where zkServer.sh sleeps one second —
 *    and prints "Starting corrald ... STARTED" (exit 0), "... FAILED TO
 *    START" when the process died (exit 1), or "... already running as
 *    process <pid>." (exit 1).
 *  - stop sends SIGTERM to the pid in the pid file and WAITS for the process
 *    to exit (zkServer.sh sleeps one second), removes the pid file and prints
 *    "Stopping corrald ... STOPPED" (exit 0); with no pid file, "no corrald
 *    to stop (could not find file <pidfile>)" (exit 0). It refuses to signal
 *    a pid that is not a corrald process (a stale pid file whose pid was
 *    reused).
 *  - status asks the server (srvr) and prints "Client port found: <port>.
 *    Client address: <addr>. Client SSL: false." then "Mode: standalone"
 *    (exit 0), or "Error contacting service. It is probably not running."
 *    (exit 1).
 *  - print-cmd prints the command start would run.
 * Limits: $CORRAL_START_TIMEOUT / $CORRAL_STOP_TIMEOUT seconds (30 / 60). */
#ifndef CORRAL_SERVICE_H
#define CORRAL_SERVICE_H

#include <stdbool.h>

/* Is `word` one of the service commands above? */
bool service_is_command(const char *word);

/* argv[1] is the command; returns the exit status (start-foreground does
 * not return on success: it executes the server). */
int service_main(int argc, char **argv);

/* Tell whoever started this server that it is serving: systemd
 * ($NOTIFY_SOCKET, "READY=1", for Type=notify units) and `corrald start`
 * (the pipe in $CORRAL_READY_FD, which is then closed). Call once the
 * client port listens; later calls do nothing. */
void service_notify_ready(void);

/* Tell systemd the server is stopping ("STOPPING=1"). */
void service_notify_stopping(void);

#endif
