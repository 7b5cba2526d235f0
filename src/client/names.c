/* names: client-side texts — path validation messages (Java PathUtils), the
 * KeeperException message table, and the Java names of states and events.
 * They are what zkCli prints, so they are kept byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#include "client/zkc.h"

/* Decode one UTF-8 sequence at s[*i] into UTF-16 code units, as Java's
 * decoder would (malformed bytes become U+FFFD). Returns the number of code
 * units (1 or 2) and the first unit in *u. */
static int next_units(const unsigned char *s, size_t n, size_t *i, unsigned *u)
{
    unsigned c = s[*i];
    size_t need = 0;
    unsigned cp = 0;
    if (c < 0x80) {
        *u = c;
        (*i)++;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        need = 1;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3;
        cp = c & 0x07;
    } else {
        *u = 0xFFFD;
        (*i)++;
        return 1;
    }
    size_t k;
    for (k = 1; k <= need; k++) {
        if (*i + k >= n || (s[*i + k] & 0xC0) != 0x80)
            break;
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    if (k <= need) {
        *u = 0xFFFD;
        (*i)++;
        return 1;
    }
    *i += need + 1;
    if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *u = 0xFFFD;
        return 1;
    }
    if (cp >= 0x10000) {
        *u = 0xD800 + ((cp - 0x10000) >> 10);
        return 2;
    }
    *u = cp;
    return 1;
}

/* PathUtils.validatePath on the UTF-16 view of the path. */
static const char *check(const char *path, char *buf, size_t buf_len)
{
    size_t n = strlen(path);
    if (n == 0)
        return "Path length must be > 0";
    if (path[0] != '/')
        return "Path must start with / character";
    if (n == 1)
        return NULL;
    if (path[n - 1] == '/')
        return "Path must not end with / character";

    /* Expand to code units (at most n of them). */
    unsigned *units = xmalloc((n + 1) * sizeof(unsigned));
    size_t nu = 0;
    const unsigned char *s = (const unsigned char *)path;
    for (size_t i = 0; i < n;) {
        unsigned u;
        int k = next_units(s, n, &i, &u);
        units[nu++] = u;
        if (k == 2)
            units[nu++] = 0xDC00; /* a low surrogate: invalid either way */
    }
    const char *reason = NULL;
    size_t at = 0;
    unsigned last = '/';
    for (size_t i = 1; i < nu; i++) {
        unsigned c = units[i];
        if (c == 0) {
            reason = "null character not allowed @";
        } else if (c == '/' && last == '/') {
            reason = "empty node name specified @";
        } else if (c == '.' && last == '.') {
            if (units[i - 2] == '/' && (i + 1 == nu || units[i + 1] == '/'))
                reason = "relative paths not allowed @";
        } else if (c == '.') {
            if (units[i - 1] == '/' && (i + 1 == nu || units[i + 1] == '/'))
                reason = "relative paths not allowed @";
        } else if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) ||
                   (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
            reason = "invalid character @";
        }
        if (reason) {
            at = i;
            break;
        }
        last = c;
    }
    free(units);
    if (!reason)
        return NULL;
    snprintf(buf, buf_len, "Invalid path string \"%s\" caused by %s%zu", path, reason, at);
    return buf;
}

const char *zkc_path_error(const char *path, bool sequential, char *buf, size_t buf_len)
{
    if (!path)
        return "Path cannot be null";
    if (!sequential)
        return check(path, buf, buf_len);
    size_t n = strlen(path);
    char *tmp = xmalloc(n + 2);
    memcpy(tmp, path, n);
    tmp[n] = '1';
    tmp[n + 1] = 0;
    const char *e = check(tmp, buf, buf_len); /* Java quotes the path with the "1" */
    free(tmp);
    return e;
}

const char *zkc_error_code_message(int32_t err)
{
    switch (err) {
    case ZOK:
        return "ok";
    case ZSYSTEMERROR:
        return "SystemError";
    case ZRUNTIMEINCONSISTENCY:
        return "RuntimeInconsistency";
    case ZDATAINCONSISTENCY:
        return "DataInconsistency";
    case ZCONNECTIONLOSS:
        return "ConnectionLoss";
    case ZMARSHALLINGERROR:
        return "MarshallingError";
    case ZUNIMPLEMENTED:
        return "Unimplemented";
    case ZOPERATIONTIMEOUT:
        return "OperationTimeout";
    case ZBADARGUMENTS:
        return "BadArguments";
    case ZNEWCONFIGNOQUORUM:
        return "NewConfigNoQuorum";
    case ZRECONFIGINPROGRESS:
        return "ReconfigInProgress";
    case ZUNKNOWNSESSION:
        return "Unknown session";
    case ZAPIERROR:
        return "APIError";
    case ZNONODE:
        return "NoNode";
    case ZNOAUTH:
        return "NoAuth";
    case ZBADVERSION:
        return "BadVersion";
    case ZNOCHILDRENFOREPHEMERALS:
        return "NoChildrenForEphemerals";
    case ZNODEEXISTS:
        return "NodeExists";
    case ZNOTEMPTY:
        return "Directory not empty";
    case ZSESSIONEXPIRED:
        return "Session expired";
    case ZINVALIDCALLBACK:
        return "Invalid callback";
    case ZINVALIDACL:
        return "InvalidACL";
    case ZAUTHFAILED:
        return "AuthFailed";
    case ZSESSIONMOVED:
        return "Session moved";
    case ZNOTREADONLY:
        return "Not a read-only call";
    case ZEPHEMERALONLOCALSESSION:
        return "Ephemeral node on local session";
    case ZNOWATCHER:
        return "No such watcher";
    case ZREQUESTTIMEOUT:
        return "Request timeout";
    case ZRECONFIGDISABLED:
        return "Reconfig is disabled";
    case ZSESSIONCLOSEDREQUIRESASLAUTH:
        return "Session closed because client failed to authenticate";
    case ZQUOTAEXCEEDED:
        return "Quota has exceeded";
    case ZTHROTTLEDOP:
        return "Op throttled due to high load";
    default:
        return NULL;
    }
}

const char *zkc_error_message(int32_t err, const char *path, char *buf, size_t buf_len)
{
    const char *m = zkc_error_code_message(err);
    char unknown[48];
    if (!m) {
        snprintf(unknown, sizeof unknown, "Unknown error %d", err);
        m = unknown;
    }
    if (path && *path)
        snprintf(buf, buf_len, "KeeperErrorCode = %s for %s", m, path);
    else
        snprintf(buf, buf_len, "KeeperErrorCode = %s", m);
    return buf;
}

const char *zkc_state_name(zkc_state_t s)
{
    switch (s) {
    case ZKC_CONNECTING:
        return "CONNECTING";
    case ZKC_ASSOCIATING:
        return "ASSOCIATING";
    case ZKC_CONNECTED:
        return "CONNECTED";
    case ZKC_CONNECTED_READONLY:
        return "CONNECTEDREADONLY";
    case ZKC_CLOSED:
        return "CLOSED";
    case ZKC_AUTH_FAILED:
        return "AUTH_FAILED";
    case ZKC_NOT_CONNECTED:
        return "NOT_CONNECTED";
    }
    return "UNKNOWN";
}

const char *zkc_keeper_state_name(int32_t state)
{
    switch (state) {
    case ZKC_KS_DISCONNECTED:
        return "Disconnected";
    case ZKC_KS_SYNC_CONNECTED:
        return "SyncConnected";
    case ZKC_KS_AUTH_FAILED:
        return "AuthFailed";
    case ZKC_KS_CONNECTED_READONLY:
        return "ConnectedReadOnly";
    case ZKC_KS_SASL_AUTHENTICATED:
        return "SaslAuthenticated";
    case ZKC_KS_EXPIRED:
        return "Expired";
    case ZKC_KS_CLOSED:
        return "Closed";
    case -1:
        return "Unknown";
    case 1:
        return "NoSyncConnected";
    default:
        return "Unknown";
    }
}

const char *zkc_event_type_name(int32_t type)
{
    switch (type) {
    case ZKC_EV_NONE:
        return "None";
    case ZKC_EV_NODE_CREATED:
        return "NodeCreated";
    case ZKC_EV_NODE_DELETED:
        return "NodeDeleted";
    case ZKC_EV_NODE_DATA_CHANGED:
        return "NodeDataChanged";
    case ZKC_EV_NODE_CHILDREN_CHANGED:
        return "NodeChildrenChanged";
    case ZKC_EV_DATA_WATCH_REMOVED:
        return "DataWatchRemoved";
    case ZKC_EV_CHILD_WATCH_REMOVED:
        return "ChildWatchRemoved";
    case ZKC_EV_PERSISTENT_WATCH_REMOVED:
        return "PersistentWatchRemoved";
    default:
        return "Unknown";
    }
}
