/* zk: ZooKeeper's protocol constants — opcodes, error codes, event types and
 * states, create modes, watcher types — with the values of ZooKeeper 3.8. */
#ifndef CORRAL_ZK_H
#define CORRAL_ZK_H

#include <stdbool.h>
#include <stdint.h>

enum zk_opcode {
    ZOP_NOTIFICATION = 0,
    ZOP_CREATE = 1,
    ZOP_DELETE = 2,
    ZOP_EXISTS = 3,
    ZOP_GET_DATA = 4,
    ZOP_SET_DATA = 5,
    ZOP_GET_ACL = 6,
    ZOP_SET_ACL = 7,
    ZOP_GET_CHILDREN = 8,
    ZOP_SYNC = 9,
    ZOP_PING = 11,
    ZOP_GET_CHILDREN2 = 12,
    ZOP_CHECK = 13,
    ZOP_MULTI = 14,
    ZOP_CREATE2 = 15,
    ZOP_RECONFIG = 16,
    ZOP_CHECK_WATCHES = 17,
    ZOP_REMOVE_WATCHES = 18,
    ZOP_CREATE_CONTAINER = 19,
    ZOP_DELETE_CONTAINER = 20,
    ZOP_CREATE_TTL = 21,
    ZOP_MULTI_READ = 22,
    ZOP_AUTH = 100,
    ZOP_SET_WATCHES = 101,
    ZOP_SASL = 102,
    ZOP_GET_EPHEMERALS = 103,
    ZOP_GET_ALL_CHILDREN_NUMBER = 104,
    ZOP_SET_WATCHES2 = 105,
    ZOP_ADD_WATCH = 106,
    ZOP_WHO_AM_I = 107,
    ZOP_CREATE_SESSION = -10,
    ZOP_CLOSE_SESSION = -11,
    ZOP_ERROR = -1,
};

enum zk_error {
    ZOK = 0,
    ZSYSTEMERROR = -1,
    ZRUNTIMEINCONSISTENCY = -2,
    ZDATAINCONSISTENCY = -3,
    ZCONNECTIONLOSS = -4,
    ZMARSHALLINGERROR = -5,
    ZUNIMPLEMENTED = -6,
    ZOPERATIONTIMEOUT = -7,
    ZBADARGUMENTS = -8,
    ZUNKNOWNSESSION = -12,
    ZNEWCONFIGNOQUORUM = -13,
    ZRECONFIGINPROGRESS = -14,
    ZAPIERROR = -100,
    ZNONODE = -101,
    ZNOAUTH = -102,
    ZBADVERSION = -103,
    ZNOCHILDRENFOREPHEMERALS = -108,
    ZNODEEXISTS = -110,
    ZNOTEMPTY = -111,
    ZSESSIONEXPIRED = -112,
    ZINVALIDCALLBACK = -113,
    ZINVALIDACL = -114,
    ZAUTHFAILED = -115,
    ZSESSIONMOVED = -118,
    ZNOTREADONLY = -119,
    ZEPHEMERALONLOCALSESSION = -120,
    ZNOWATCHER = -121,
    ZREQUESTTIMEOUT = -122,
    ZRECONFIGDISABLED = -123,
    ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
    ZQUOTAEXCEEDED = -125,
    ZTHROTTLEDOP = -127,
};

enum zk_event_type {
    ZEV_NONE = -1,
    ZEV_CREATED = 1,
    ZEV_DELETED = 2,
    ZEV_DATA_CHANGED = 3,
    ZEV_CHILDREN_CHANGED = 4,
};

#define ZSTATE_SYNC_CONNECTED 3

enum zk_create_mode {
    ZMODE_PERSISTENT = 0,
    ZMODE_EPHEMERAL = 1,
    ZMODE_PERSISTENT_SEQUENTIAL = 2,
    ZMODE_EPHEMERAL_SEQUENTIAL = 3,
    ZMODE_CONTAINER = 4,
    ZMODE_PERSISTENT_WITH_TTL = 5,
    ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/* WatcherType for checkWatches/removeWatches (4 and 5 are 3.9's). */
enum zk_watcher_type {
    ZWT_CHILDREN = 1,
    ZWT_DATA = 2,
    ZWT_ANY = 3,
    ZWT_PERSISTENT = 4,
    ZWT_PERSISTENT_RECURSIVE = 5,
};

enum zk_add_watch_mode {
    ZAW_PERSISTENT = 0,
    ZAW_PERSISTENT_RECURSIVE = 1,
};

/* Special xids. */
#define ZXID_NOTIFICATION (-1)
#define ZXID_PING (-2)
#define ZXID_AUTH (-4)
#define ZXID_SET_WATCHES (-8)

/* ephemeralOwner encodings (§6.3). */
#define ZK_CONTAINER_OWNER ((int64_t)INT64_MIN)

/* version + 1 as ZooKeeper's Java int arithmetic computes it: INT32_MAX
 * wraps to INT32_MIN (a node's version, cversion or aversion). */
/* What a CreateMode's flags ask for. */
static inline bool zk_mode_ephemeral(int32_t f)
{
    return f == ZMODE_EPHEMERAL || f == ZMODE_EPHEMERAL_SEQUENTIAL;
}
static inline bool zk_mode_sequential(int32_t f)
{
    return f == ZMODE_PERSISTENT_SEQUENTIAL || f == ZMODE_EPHEMERAL_SEQUENTIAL ||
           f == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
}
static inline bool zk_mode_ttl(int32_t f)
{
    return f == ZMODE_PERSISTENT_WITH_TTL || f == ZMODE_PERSISTENT_SEQUENTIAL_WITH_TTL;
}

static inline int32_t zk_version_next(int32_t v)
{
    return (int32_t)((uint32_t)v + 1u);
}
#define ZK_TTL_MASK ((int64_t)0xFF00000000000000ULL)
#define ZK_TTL_MAX ((int64_t)0xFFFFFFFFFFLL)

#define ZK_PERM_READ 1
#define ZK_PERM_WRITE 2
#define ZK_PERM_CREATE 4
#define ZK_PERM_DELETE 8
#define ZK_PERM_ADMIN 16
#define ZK_PERM_ALL 31

const char *zk_error_name(int32_t err);
const char *zk_op_name(int32_t op);
/* True for opcodes that become transactions (prep → log → apply). */
int zk_op_is_write(int32_t op);

#endif
