/* stub: a do-nothing ZooKeeper-protocol server for calibrating
 * corral-bench. It answers every request at once with a canned reply of the
 * right shape (getData returns --size bytes, creates echo their path with a
 * sequence suffix when asked, multi answers each sub-op, data watches fire
 * on any setData), keeps no tree, and never touches a disk. What the bench
 * reaches against it is the engine's own ceiling on this machine. */
#ifndef CORRAL_BENCH_STUB_H
#define CORRAL_BENCH_STUB_H

#include "bench/opts.h"

#define STUB_MAX_CONNS 8192
#define STUB_IN_BYTES ((1u << 20) + 4096) /* one request frame must fit */
#define STUB_OUT_LIMIT (64u << 20)        /* queued replies before a client is dropped */

/* Bind and listen on host:port (port 0: any); returns the fd and the port
 * actually bound in *port_out, or -1 with a message on stderr. */
int stub_listen(const char *host, int port, int *port_out);
/* Serve forever (until SIGTERM/SIGINT). Returns the exit status. */
int stub_serve(int listen_fd, const bench_opts_t *o);

#endif
