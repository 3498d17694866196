/* sqlite_rtree.c — the SQLite engine's bulk spatial index: the R*Tree written by
 * Sort-Tile-Recursive packing at commit instead of SpatiaLite's per-row triggers. */
#include "sqlite_bulk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the spatial index: R*Tree bulk load ---------------------------------------------------
 * SQLite's R*Tree inserts cost ~20 µs a row (ChooseLeaf, R* reinsert, a node rewrite each), far
 * too slow for a million points.  Inside a transaction the inserter only collects the entries;
 * at commit (or destroy) they are written either one by one (a few rows into a big index) or,
 * usually, by rebuilding the whole tree with Sort-Tile-Recursive packing straight into the
 * shadow tables, in the documented rtree format (ext/rtree/rtree.c): %_node(nodeno, data) with
 * big-endian [depth u16 (root only)][count u16][cells: rowid i64, xmin xmax ymin ymax f32],
 * every node the root's size, root = node 1; %_rowid(rowid, nodeno); %_parent(nodeno, parent).
 * Checked by SQLite's own rtreecheck() in the tests. */

float st_f32_down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

float st_f32_up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)(v & 0xff);
}

static int cmp_cx(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    float ca = x->b[0] + x->b[1], cb = y->b[0] + y->b[1];
    return (ca > cb) - (ca < cb);
}

static int cmp_cy(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    float ca = x->b[2] + x->b[3], cb = y->b[2] + y->b[3];
    return (ca > cb) - (ca < cb);
}

static int cmp_id(const void *a, const void *b)
{
    const rt_entry *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct rt_writer {
    gw_store *s;
    sqlite3_stmt *node, *rowid, *parent;
    unsigned char *blob;
    int size;      /* bytes per node */
    int64_t *leaf; /* (rowid, leaf node) pairs, written sorted: appends, not random inserts */
    size_t nleaf;
} rt_writer;

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Write one node and point its cells (rows or child nodes) back at it. */
static gw_status rt_node(rt_writer *w, int64_t no, int depth, const rt_entry *c, size_t n, int leaf)
{
    memset(w->blob, 0, (size_t)w->size);
    put_be(w->blob, no == 1 ? (uint64_t)depth : 0, 2);
    put_be(w->blob + 2, n, 2);
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = w->blob + 4 + 24 * i;
        put_be(p, (uint64_t)c[i].id, 8);
        for (int k = 0; k < 4; k++) {
            uint32_t u;
            memcpy(&u, &c[i].b[k], 4);
            put_be(p + 8 + 4 * k, u, 4);
        }
        if (leaf) {
            w->leaf[2 * w->nleaf] = c[i].id;
            w->leaf[2 * w->nleaf++ + 1] = no;
            continue;
        }
        sqlite3_bind_int64(w->parent, 1, c[i].id);
        sqlite3_bind_int64(w->parent, 2, no);
        int rc = sqlite3_step(w->parent);
        sqlite3_reset(w->parent);
        if (rc != SQLITE_DONE) return st_fail(w->s, "cannot write the spatial index");
    }
    sqlite3_bind_int64(w->node, 1, no);
    sqlite3_bind_blob(w->node, 2, w->blob, w->size, SQLITE_STATIC);
    int rc = sqlite3_step(w->node);
    sqlite3_reset(w->node);
    return rc == SQLITE_DONE ? GW_OK : st_fail(w->s, "cannot write the spatial index");
}

/* Sort-Tile-Recursive packing of n cells (sorted in place), bottom-up, root written as node 1. */
static gw_status rt_pack(rt_writer *w, rt_entry *cells, size_t n)
{
    const size_t M = (size_t)(w->size - 4) / 24;
    rt_entry *cur = cells;
    int64_t next = 2;
    gw_status st = GW_OK;
    for (int level = 0; !st; level++) {
        if (n <= M) {
            st = rt_node(w, 1, level, cur, n, level == 0);
            break;
        }
        size_t P = (n + M - 1) / M, S = (size_t)ceil(sqrt((double)P)), slice = S * M, groups = 0;
        for (size_t a = 0; a < n; a += slice)
            groups += ((n - a < slice ? n - a : slice) + M - 1) / M;
        rt_entry *up = malloc(groups * sizeof *up);
        if (!up) {
            st = gw_ctx_error(w->s->ctx, GW_ERR_NOMEM, "out of memory building the spatial index");
            break;
        }
        qsort(cur, n, sizeof *cur, cmp_cx);
        size_t g = 0;
        for (size_t a = 0; a < n && !st; a += slice) {
            size_t L = n - a < slice ? n - a : slice, k = (L + M - 1) / M;
            qsort(cur + a, L, sizeof *cur, cmp_cy);
            /* k groups of near-equal size keep every node at least half full. */
            for (size_t j = 0; j < k && !st; j++) {
                const rt_entry *c = cur + a + L * j / k;
                size_t cn = L * (j + 1) / k - L * j / k;
                rt_entry *u = &up[g++];
                u->id = next++;
                u->b[0] = u->b[2] = INFINITY;
                u->b[1] = u->b[3] = -INFINITY;
                for (size_t i = 0; i < cn; i++) {
                    u->b[0] = fminf(u->b[0], c[i].b[0]);
                    u->b[1] = fmaxf(u->b[1], c[i].b[1]);
                    u->b[2] = fminf(u->b[2], c[i].b[2]);
                    u->b[3] = fmaxf(u->b[3], c[i].b[3]);
                }
                st = rt_node(w, u->id, 0, c, cn, level == 0);
            }
        }
        if (cur != cells) free(cur);
        cur = up;
        n = groups;
    }
    if (cur != cells) free(cur);
    return st;
}

/* Rebuild a layer's R*Tree from its current entries (when keep) plus `add` (n of them). */
gw_status st_rtree_rebuild(gw_store *s, gw_layer layer, rt_entry *add, size_t n, int keep)
{
    const char *name = gw_layer_name(layer);
    char sql[256];
    int64_t size = 0, have = 0;
    snprintf(sql, sizeof sql, "SELECT length(data) FROM \"idx_%s_geom_node\" WHERE nodeno = 1",
             name);
    gw_status st = st_query_int(s, sql, &size, NULL);
    if (!st && (size < 4 + 24 * 4 || size > 65536))
        st = gw_ctx_error(s->ctx, GW_ERR_DB,
                          "spatial index idx_%s_geom has a root node of %lld "
                          "bytes; run SELECT RecoverSpatialIndex() on %s",
                          name, (long long)size, s->path);
    if (!st && keep) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"idx_%s_geom_rowid\"", name);
        st = st_query_int(s, sql, &have, NULL);
    }
    if (st) return st;
    rt_entry *all = malloc(((size_t)have + n + 1) * sizeof *all);
    if (!all)
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory rebuilding idx_%s_geom", name);
    size_t total = 0;
    if (have > 0) {
        /* Old entries whose rowid comes again in `add` are dropped (the new box wins). */
        qsort(add, n, sizeof *add, cmp_id);
        sqlite3_stmt *q;
        snprintf(sql, sizeof sql, "SELECT pkid, xmin, xmax, ymin, ymax FROM \"idx_%s_geom\"", name);
        st = st_prepare(s, sql, 0, &q, sql);
        while (!st && total < (size_t)have && sqlite3_step(q) == SQLITE_ROW) {
            rt_entry e = {sqlite3_column_int64(q, 0), {0}};
            for (int k = 0; k < 4; k++) e.b[k] = (float)sqlite3_column_double(q, k + 1);
            if (!bsearch(&e, add, n, sizeof *add, cmp_id)) all[total++] = e;
        }
        sqlite3_finalize(q);
    }
    if (n) memcpy(all + total, add, n * sizeof *add);
    total += n;
    rt_writer w = {s,
                   NULL,
                   NULL,
                   NULL,
                   calloc(1, (size_t)size),
                   (int)size,
                   malloc((total + 1) * 2 * sizeof(int64_t)),
                   0};
    if (!st && (!w.blob || !w.leaf)) st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    snprintf(sql, sizeof sql,
             "DELETE FROM \"idx_%s_geom_node\"; DELETE FROM \"idx_%s_geom_rowid\";"
             " DELETE FROM \"idx_%s_geom_parent\"",
             name, name, name);
    if (!st) st = st_exec(s, sql, "cannot reset the spatial index");
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_node\" (nodeno, data) VALUES (?1, ?2)",
             name);
    if (!st) st = st_prepare(s, sql, 0, &w.node, sql);
    snprintf(sql, sizeof sql, "INSERT INTO \"idx_%s_geom_rowid\" (rowid, nodeno) VALUES (?1, ?2)",
             name);
    if (!st) st = st_prepare(s, sql, 0, &w.rowid, sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO \"idx_%s_geom_parent\" (nodeno, parentnode) VALUES "
             "(?1, ?2)",
             name);
    if (!st) st = st_prepare(s, sql, 0, &w.parent, sql);
    if (!st) st = rt_pack(&w, all, total);
    if (!st) qsort(w.leaf, w.nleaf, 2 * sizeof(int64_t), cmp_pair);
    for (size_t i = 0; !st && i < w.nleaf; i++) {
        sqlite3_bind_int64(w.rowid, 1, w.leaf[2 * i]);
        sqlite3_bind_int64(w.rowid, 2, w.leaf[2 * i + 1]);
        if (sqlite3_step(w.rowid) != SQLITE_DONE) st = st_fail(s, "cannot write the spatial index");
        sqlite3_reset(w.rowid);
    }
    free(w.leaf);
    sqlite3_finalize(w.node);
    sqlite3_finalize(w.rowid);
    sqlite3_finalize(w.parent);
    free(w.blob);
    free(all);
    return st;
}

/* Write an inserter's collected index entries: one by one into a big index, else rebuild. */
static gw_status flush_rtree(gw_inserter *ins)
{
    gw_store *s = ins->store;
    size_t n = ins->npend;
    if (!n) return GW_OK;
    ins->npend = 0;
    char sql[128];
    int64_t have = 0;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"idx_%s_geom_rowid\"",
             gw_layer_name(ins->layer));
    gw_status st = st_query_int(s, sql, &have, NULL);
    if (st) return st;
    if ((uint64_t)have < 8 * (uint64_t)n) return st_rtree_rebuild(s, ins->layer, ins->pend, n, 1);
    for (size_t i = 0; i < n && !st; i++) {
        sqlite3_bind_int64(ins->rtree, 1, ins->pend[i].id);
        for (int k = 0; k < 4; k++) sqlite3_bind_double(ins->rtree, k + 2, ins->pend[i].b[k]);
        if (sqlite3_step(ins->rtree) != SQLITE_DONE)
            st = st_fail(s, "cannot update the spatial index");
        sqlite3_reset(ins->rtree);
    }
    return st;
}

/* Everything an inserter put off until commit: index entries, then dropped secondary indexes. */
gw_status st_flush_pending(gw_inserter *ins)
{
    gw_status st = flush_rtree(ins);
    char *sql = ins->reindex;
    ins->reindex = NULL;
    if (!st && sql) st = st_exec(ins->store, sql, "cannot rebuild the layer's indexes");
    free(sql);
    return st;
}

/* Loading into an empty point layer inside a transaction: drop its secondary indexes now and
 * build them at commit.  CREATE INDEX sorts once; a million random B-tree inserts into three
 * text indexes cost about twice as much.  The UNIQUE(id) index stays (duplicates are found as
 * they come).  Transactional DDL: a rollback brings the indexes back by itself. */
void st_defer_indexes(gw_inserter *ins)
{
    gw_store *s = ins->store;
    if (ins->layer == GW_LAYER_GRIDS || sqlite3_get_autocommit(s->db)) return;
    char sql[256];
    int64_t any = 1;
    snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM \"%s\")", gw_layer_name(ins->layer));
    if (st_query_int(s, sql, &any, NULL) || any) return;
    sqlite3_stmt *q;
    if (st_prepare(s,
                   "SELECT group_concat(sql, '; '), group_concat('DROP INDEX \"' || name || '\"', "
                   "'; ') FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT "
                   "NULL",
                   0, &q, "indexes") != GW_OK)
        return;
    sqlite3_bind_text(q, 1, gw_layer_name(ins->layer), -1, SQLITE_STATIC);
    char *create = NULL, *drop = NULL;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        create = strdup((const char *)sqlite3_column_text(q, 0));
        drop = sqlite3_mprintf("SAVEPOINT gw_defer; %s; RELEASE gw_defer",
                               (const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q); /* before the DROPs: a live statement on the schema would block them */
    if (create && drop && sqlite3_exec(s->db, drop, NULL, NULL, NULL) == SQLITE_OK) {
        ins->reindex = create;
        create = NULL;
    } else if (create && drop) {
        /* e.g. a statement still reading the table: keep the indexes, load the slow way */
        sqlite3_exec(s->db, "ROLLBACK TO gw_defer; RELEASE gw_defer", NULL, NULL, NULL);
    }
    free(create);
    sqlite3_free(drop);
    gw_ctx_clear_error(s->ctx);
}

gw_status st_flush_all(gw_store *s)
{
    gw_status st = GW_OK;
    for (gw_inserter *i = s->inserters; i && !st; i = i->next) st = st_flush_pending(i);
    return st;
}
