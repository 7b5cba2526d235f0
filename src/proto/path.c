/* path: strict UTF-8 decoding plus the component and character rules that
 * ZooKeeper applies to Java UTF-16 strings, expressed on code points. */
#include "path.h"

#include <stdint.h>
#include <string.h>

/* Decode one UTF-8 sequence at p[i]; returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, size_t n, size_t i, uint32_t *cp)
{
    unsigned char c = p[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        *cp = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        *cp = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        *cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[i + k] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (p[i + k] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

static bool forbidden(uint32_t cp)
{
    return cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xF8FF) ||
           (cp >= 0xFFF0 && cp <= 0xFFFF) || cp >= 0x10000; /* supplementary: surrogates */
}

bool zk_path_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!s || n == 0 || p[0] != '/')
        return false;
    if (n == 1)
        return true;
    if (p[n - 1] == '/')
        return false;
    size_t i = 1, comp_start = 1;
    while (i <= n) {
        if (i == n || p[i] == '/') {
            size_t clen = i - comp_start;
            if (clen == 0)
                return false;
            if ((clen == 1 && p[comp_start] == '.') ||
                (clen == 2 && p[comp_start] == '.' && p[comp_start + 1] == '.'))
                return false;
            comp_start = i + 1;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(p, n, i, &cp);
        if (len == 0 || forbidden(cp))
            return false;
        i += len;
    }
    return true;
}

bool zk_path_has_slash_no_nul(const char *p, size_t n)
{
    return p && memchr(p, '/', n) != NULL && memchr(p, '\0', n) == NULL;
}
