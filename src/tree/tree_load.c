/* tree_load: add or overwrite a node with all of its stored fields; a node
 * whose stored fields are pristine (tree.h) gets no Stat block. */
#include "tree_load.h"

/* mzxid == pzxid == czxid, mtime == ctime, all versions 0. */
static bool stored_pristine(const znode_stored_t *st)
{
    return st->mzxid == st->czxid && st->pzxid == st->czxid && st->mtime == st->ctime &&
           st->version == 0 && st->cversion == 0 && st->aversion == 0;
}

/* Store st in n (with a Stat block unless st is pristine and n has none);
 * returns n. */
static znode_t *assign(tree_t *t, znode_t *n, const znode_stored_t *st)
{
    n->czxid = st->czxid;
    n->ctime = st->ctime;
    if (!n->ext && stored_pristine(st))
        return n;
    znode_ext_t *f = znode_full(tree_make_full(t, n));
    f->mzxid = st->mzxid;
    f->pzxid = st->pzxid;
    f->mtime = st->mtime;
    f->version = st->version;
    f->cversion = st->cversion;
    f->aversion = st->aversion;
    return n;
}

znode_t *tree_load_node(tree_t *t, znode_t *parent, const char *path, size_t len, const void *data,
                        int32_t data_len, tree_acl_t *acl, const znode_stored_t *st, bool overwrite)
{
    znode_t *n = overwrite ? tree_get(t, path, len) : NULL;
    if (n) {
        if (st->ephemeral_owner != 0 || znode_owner(t, n) != 0)
            return NULL;
        tree_set_data(t, n, data, data_len);
        if (znode_acl(t, n) != acl)
            tree_set_acl(t, n, acl);
        return assign(t, n, st);
    }
    n = tree_add(t, parent, path, len, data, data_len, acl, st->ephemeral_owner, st->czxid,
                 st->ctime);
    return n ? assign(t, n, st) : NULL;
}
