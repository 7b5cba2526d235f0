/* hosts: connect string parsing and server order (see hosts.h). */
#include "client/hosts.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "client/zkc.h"

static bool parse_port(const char *p, size_t n, uint16_t *out)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

static bool parse_one(const char *p, size_t n, zkc_host_t *h)
{
    /* Java trims each entry. */
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return false;
    const char *name = p;
    size_t name_len = n;
    uint16_t port = 2181;
    if (p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return false;
        name = p + 1;
        name_len = (size_t)(close - p - 1);
        size_t rest = n - (size_t)(close - p) - 1;
        if (rest > 0) {
            if (close[1] != ':' || !parse_port(close + 2, rest - 1, &port))
                return false;
        }
    } else {
        const char *colon = NULL;
        for (size_t i = n; i > 0; i--)
            if (p[i - 1] == ':') {
                colon = p + i - 1;
                break;
            }
        if (colon) {
            name_len = (size_t)(colon - p);
            if (!parse_port(colon + 1, n - name_len - 1, &port))
                return false;
        }
    }
    if (name_len == 0)
        return false;
    h->name = xstrndup(name, name_len);
    h->port = port;
    buf_t d;
    buf_init(&d);
    buf_append(&d, p, n);
    if (!memchr(p, ':', n) || (p[0] == '[' && p[n - 1] == ']'))
        buf_printf(&d, ":%u", port);
    buf_append(&d, "", 1);
    h->display = (char *)d.data;
    return true;
}

bool zkc_hosts_parse(const char *s, zkc_hosts_t *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return false;
    const char *slash = strchr(s, '/');
    size_t list_len = slash ? (size_t)(slash - s) : strlen(s);
    if (slash && strcmp(slash, "/") != 0) {
        char msg[160];
        if (zkc_path_error(slash, false, msg, sizeof msg))
            return false;
        out->chroot = xstrndup(slash, strlen(slash));
    }
    const char *p = s, *end = s + list_len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
        if (out->n == ZKC_MAX_HOSTS)
            goto fail;
        out->v = xrealloc(out->v, (size_t)(out->n + 1) * sizeof(zkc_host_t));
        if (!parse_one(p, n, &out->v[out->n]))
            goto fail;
        out->n++;
        p = comma ? comma + 1 : end;
    }
    if (out->n == 0)
        goto fail;
    return true;
fail:
    zkc_hosts_free(out);
    return false;
}

void zkc_hosts_free(zkc_hosts_t *h)
{
    for (int i = 0; i < h->n; i++) {
        free(h->v[i].name);
        free(h->v[i].display);
    }
    free(h->v);
    free(h->chroot);
    memset(h, 0, sizeof *h);
}

void zkc_hosts_shuffle(zkc_hosts_t *h, uint32_t seed)
{
    uint32_t x = seed ? seed : 0x9e3779b9u;
    for (int i = h->n - 1; i > 0; i--) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int j = (int)(x % (uint32_t)(i + 1));
        zkc_host_t t = h->v[i];
        h->v[i] = h->v[j];
        h->v[j] = t;
    }
}
