/* password: session passwords as java.util.Random derives them from the
 * session id (Appendix B), and their constant-time check. */
#include "session/password.h"

#include <openssl/crypto.h>

/* ZooKeeper's fixed "super secret", a positive Java long. */
#define PASSWORD_SECRET 0xB3415C00ULL

/* java.util.Random: a 48-bit linear congruential generator. */
#define RANDOM_MULTIPLIER 0x5DEECE66DULL
#define RANDOM_ADDEND 0xBULL
#define RANDOM_MASK ((1ULL << 48) - 1)

void session_password(uint64_t session_id, uint8_t out[SESSION_PASSWORD_LEN])
{
    /* new Random(seed) scrambles the seed; nextBytes takes each next(32)
     * least-significant byte first, four bytes per call. */
    uint64_t state = ((session_id ^ PASSWORD_SECRET) ^ RANDOM_MULTIPLIER) & RANDOM_MASK;
    for (int i = 0; i < SESSION_PASSWORD_LEN; i += 4) {
        state = (state * RANDOM_MULTIPLIER + RANDOM_ADDEND) & RANDOM_MASK;
        uint32_t r = (uint32_t)(state >> 16);
        for (int k = 0; k < 4; k++)
            out[i + k] = (uint8_t)(r >> (8 * k));
    }
}

bool session_password_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len)
        return false;
    return a_len == 0 || CRYPTO_memcmp(a, b, a_len) == 0;
}

bool session_password_check(uint64_t session_id, const void *passwd, int32_t len)
{
    if (session_id == 0 || len != SESSION_PASSWORD_LEN || !passwd)
        return false;
    uint8_t want[SESSION_PASSWORD_LEN];
    session_password(session_id, want);
    return session_password_equal(passwd, (size_t)len, want, sizeof want);
}
