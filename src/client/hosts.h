/* hosts: the connect string "host:port[,host:port...][/chroot]" as the Java
 * client's ConnectStringParser reads it, and the order servers are tried in.
 *
 * A host may be a name, an IPv4 address or a bracketed IPv6 address
 * ("[::1]:2181"); a missing port is 2181. The chroot is everything from the
 * first '/', validated as a path; "/" alone means no chroot. */
#ifndef CORRAL_CLIENT_HOSTS_H
#define CORRAL_CLIENT_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZKC_MAX_HOSTS 256

typedef struct zkc_host {
    char *name; /* without brackets */
    uint16_t port;
    char *display; /* "name:port" as given (brackets kept) */
} zkc_host_t;

typedef struct zkc_hosts {
    zkc_host_t *v;
    int n;
    char *chroot; /* NULL when none */
} zkc_hosts_t;

/* Parse; returns false (and an empty list) for an empty list, a bad port or
 * an invalid chroot. */
bool zkc_hosts_parse(const char *s, zkc_hosts_t *out);
void zkc_hosts_free(zkc_hosts_t *h);
/* Fisher-Yates shuffle driven by a small xorshift generator. */
void zkc_hosts_shuffle(zkc_hosts_t *h, uint32_t seed);

#endif
