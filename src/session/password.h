/* password: the session password ZooKeeper hands out with a session and
 * checks on reconnect (protocol reference §2.6, Appendix B).
 *
 * The password is a pure function of the session id, so every server of an
 * ensemble can check it without shared state, and sessions created by Apache
 * ZooKeeper servers keep working: it is the first 16 bytes of
 * java.util.Random(sessionId ^ 0xB3415C00).nextBytes(). */
#ifndef CORRAL_PASSWORD_H
#define CORRAL_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_PASSWORD_LEN 16

/* The password of a session: out receives SESSION_PASSWORD_LEN bytes. */
void session_password(uint64_t session_id, uint8_t out[SESSION_PASSWORD_LEN]);

/* Constant-time comparison of two byte strings: true if the lengths are
 * equal and so are the bytes. Only the lengths may leak through timing. */
bool session_password_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* ZooKeeperServer.checkPasswd: true if session_id is not 0 and `passwd`
 * (len -1 meaning a null buffer, which never matches) is exactly the
 * session's password. */
bool session_password_check(uint64_t session_id, const void *passwd, int32_t len);

#endif
