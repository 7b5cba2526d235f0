/* fuzz_txn: libFuzzer target for txn decoding and apply — arbitrary txn
 * bytes (as recovery will read them from disk) applied to a fresh tree must
 * never crash or corrupt memory. */
#include <stddef.h>
#include <stdint.h>

#include "txn/txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tree_t t;
    tree_init(&t, size > 0 && (data[0] & 1));
    jute_reader_t r;
    jr_init(&r, data, size);
    /* A sequence of (header, length-prefixed body) records. */
    for (int i = 0; i < 64 && jr_remaining(&r) > 0; i++) {
        txn_header_t h;
        if (!txn_header_read(&r, &h))
            break;
        jstr_t body = jr_buffer(&r);
        if (r.err)
            break;
        txn_result_t res;
        (void)txn_apply(&t, NULL, &h, (const uint8_t *)body.ptr,
                        (size_t)(body.len > 0 ? body.len : 0), &res);
        txn_result_free(&res);
    }
    tree_free(&t);
    return 0;
}
