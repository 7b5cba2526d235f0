/* digest: ZooKeeper's per-node CRC-32 and the tree digest sum (§13.4). */
#include "digest.h"

#include <string.h>
#include <zlib.h>

#define ZK_SUBTREE_PREFIX "/zookeeper/"

static void put64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
}

static void put32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(u >> (24 - 8 * i));
}

uint32_t tree_node_digest(const tree_t *t, const znode_t *n)
{
    size_t plen = n->path_len;
    const char *path = znode_path(n);
    if (plen >= sizeof(ZK_SUBTREE_PREFIX) - 1 &&
        memcmp(path, ZK_SUBTREE_PREFIX, sizeof(ZK_SUBTREE_PREFIX) - 1) == 0)
        return 0;
    /* The root is "" in ZooKeeper's node map. */
    if (plen == 1 && path[0] == '/')
        plen = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    if (plen)
        crc = crc32(crc, (const Bytef *)path, (uInt)plen);
    if (n->data_len > 0)
        crc = crc32(crc, znode_data(n), (uInt)n->data_len);
    uint8_t b[60];
    put64(b + 0, n->czxid);
    put64(b + 8, znode_mzxid(n));
    put64(b + 16, znode_pzxid(n));
    put64(b + 24, n->ctime);
    put64(b + 32, znode_mtime(n));
    put32(b + 40, znode_version(n));
    put32(b + 44, znode_cversion(n));
    put32(b + 48, znode_aversion(n));
    put64(b + 52, znode_owner(t, n));
    crc = crc32(crc, b, sizeof b);
    return (uint32_t)crc;
}

uint64_t tree_digest(const tree_t *t)
{
    uint64_t sum = 0;
    size_t pos = 0;
    for (const znode_t *n; (n = tree_next_node(t, &pos));)
        sum += tree_node_digest(t, n);
    return sum;
}
