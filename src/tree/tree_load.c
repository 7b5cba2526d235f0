/* tree_load: add or overwrite a node with all of its stored fields. */
#include "tree_load.h"

static void assign(znode_t *n, const znode_stored_t *st)
{
    n->czxid = st->czxid;
    n->mzxid = st->mzxid;
    n->pzxid = st->pzxid;
    n->ctime = st->ctime;
    n->mtime = st->mtime;
    n->version = st->version;
    n->cversion = st->cversion;
    n->aversion = st->aversion;
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
        assign(n, st);
        return n;
    }
    n = tree_add(t, parent, path, len, data, data_len, acl, st->ephemeral_owner, st->czxid,
                 st->ctime);
    if (n)
        assign(n, st);
    return n;
}

void znode_stored_get(const tree_t *t, const znode_t *n, znode_stored_t *st)
{
    st->czxid = n->czxid;
    st->mzxid = n->mzxid;
    st->ctime = n->ctime;
    st->mtime = n->mtime;
    st->version = n->version;
    st->cversion = n->cversion;
    st->aversion = n->aversion;
    st->ephemeral_owner = znode_owner(t, n);
    st->pzxid = n->pzxid;
}
