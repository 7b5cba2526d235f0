/* fuzz_request: libFuzzer target for every client-facing decoder — the
 * ConnectRequest, each opcode's request body (including multi and
 * setWatches), and path validation. The first input byte picks the opcode. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/path.h"
#include "proto/records.h"

static const int32_t opcodes[] = {
    ZOP_CREATE,
    ZOP_DELETE,
    ZOP_EXISTS,
    ZOP_GET_DATA,
    ZOP_SET_DATA,
    ZOP_GET_ACL,
    ZOP_SET_ACL,
    ZOP_GET_CHILDREN,
    ZOP_SYNC,
    ZOP_PING,
    ZOP_GET_CHILDREN2,
    ZOP_CHECK,
    ZOP_MULTI,
    ZOP_CREATE2,
    ZOP_RECONFIG,
    ZOP_CHECK_WATCHES,
    ZOP_REMOVE_WATCHES,
    ZOP_CREATE_CONTAINER,
    ZOP_CREATE_TTL,
    ZOP_MULTI_READ,
    ZOP_AUTH,
    ZOP_SET_WATCHES,
    ZOP_SASL,
    ZOP_GET_EPHEMERALS,
    ZOP_GET_ALL_CHILDREN_NUMBER,
    ZOP_SET_WATCHES2,
    ZOP_ADD_WATCH,
    ZOP_WHO_AM_I,
    ZOP_CLOSE_SESSION,
    0,
    -10,
    20,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    zk_connect_request_t cr;
    (void)proto_decode_connect(data, size, &cr);
    (void)zk_path_valid((const char *)data, size);
    zk_request_t req;
    memset(&req, 0, sizeof(req));
    req.type = opcodes[data[0] % (sizeof(opcodes) / sizeof(opcodes[0]))];
    if (proto_decode_body(&req, data + 1, size - 1) == ZOK && req.type == ZOP_MULTI) {
        /* Touch every decoded string so ASan sees any out-of-bounds view. */
        volatile uint8_t sink = 0;
        for (int32_t i = 0; i < req.nops; i++)
            for (int32_t k = 0; k < req.ops[i].path.len; k++)
                sink ^= (uint8_t)req.ops[i].path.ptr[k];
        (void)sink;
    }
    proto_request_free(&req);
    return 0;
}
