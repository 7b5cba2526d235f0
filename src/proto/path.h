/* path: ZooKeeper's znode path validation (§8), on UTF-8 bytes. */
#ifndef CORRAL_PATH_H
#define CORRAL_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Full validation, as create (final path), setData, setACL and check use. */
bool zk_path_valid(const char *p, size_t n);
/* The weak check used before a create's parent lookup and by delete:
 * the path contains a '/' and no NUL byte. */
bool zk_path_has_slash_no_nul(const char *p, size_t n);

#endif
