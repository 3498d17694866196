/* model_delta.c — the incremental refresh of a point layer: its next immutable version built
 * from the previous one plus the store rows of the feature ids the change log names, so one
 * new incident or moved team costs milliseconds instead of a reload of a million rows.
 * The scheme is in docs/decisions/0001-model-concurrency.md ("Incremental refresh"). */
#include "model_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- the change log since a sequence number ---------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void drop_ids(gw_model_changes *c, int l)
{
    for (size_t i = 0; i < c->nids[l]; i++) free(c->ids[l][i]);
    free(c->ids[l]);
    c->ids[l] = NULL;
    c->nids[l] = 0;
}

void gw_model_changes_free(gw_model_changes *c)
{
    if (!c) return;
    for (int l = 0; l < GW_LAYER_COUNT; l++) drop_ids(c, l);
}

gw_status gw_model_changes_read(gw_ctx *ctx, gw_store *store, int64_t since,
                                const size_t limit[GW_LAYER_COUNT], gw_model_changes *out)
{
    memset(out, 0, sizeof *out);
    const unsigned all = (1u << GW_LAYER_COUNT) - 1;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(gw_store_db(store), "SELECT layer, feature_id FROM changelog WHERE seq > ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        out->mask = out->bulk = all; /* cannot tell what changed: reload everything */
        return GW_OK;
    }
    sqlite3_bind_int64(q, 1, since);
    size_t cap[GW_LAYER_COUNT] = {0};
    gw_status st = GW_OK;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_layer l;
        const char *name = (const char *)sqlite3_column_text(q, 0);
        if (!name || gw_layer_from_name(name, &l) != GW_OK) continue;
        unsigned bit = 1u << l;
        out->mask |= bit;
        out->rows[l]++;
        if (out->bulk & bit) continue;
        const char *fid = (const char *)sqlite3_column_text(q, 1);
        if (!fid || !*fid || out->rows[l] > limit[l]) {
            out->bulk |= bit;
            drop_ids(out, (int)l);
            continue;
        }
        if (out->nids[l] == cap[l]) {
            size_t nc = cap[l] ? cap[l] * 2 : 16;
            char **p = realloc(out->ids[l], nc * sizeof *p);
            if (!p) {
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory reading the change log");
                break;
            }
            out->ids[l] = p;
            cap[l] = nc;
        }
        if (!(out->ids[l][out->nids[l]] = strdup(fid)))
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory reading the change log");
        else
            out->nids[l]++;
    }
    sqlite3_finalize(q);
    if (st) {
        gw_model_changes_free(out);
        return st;
    }
    if (rc != SQLITE_DONE) {
        gw_model_changes_free(out);
        out->mask = out->bulk = all;
        return GW_OK;
    }
    for (int l = 0; l < GW_LAYER_COUNT; l++) { /* sort, drop repeats */
        if (out->nids[l] < 2) continue;
        qsort(out->ids[l], out->nids[l], sizeof *out->ids[l], cmp_str);
        size_t w = 1;
        for (size_t i = 1; i < out->nids[l]; i++) {
            if (strcmp(out->ids[l][i], out->ids[l][w - 1]) == 0) free(out->ids[l][i]);
            else out->ids[l][w++] = out->ids[l][i];
        }
        out->nids[l] = w;
    }
    return GW_OK;
}

/* ---------- staging: the store's current rows of the changed ids ---------- */

/* One row of `q` (fid, fields…, AsBinary(geom)) as the store cursor would give it. */
static gw_status fetch_row(gw_ctx *ctx, sqlite3_stmt *q, gw_layer layer, gw_value *vals, gw_row *row)
{
    size_t nf = 0;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    for (size_t i = 0; i < nf; i++) {
        int c = (int)i + 1;
        gw_value *v = &vals[i];
        *v = (gw_value){GW_VAL_NULL, NULL, 0, 0};
        if (sqlite3_column_type(q, c) == SQLITE_NULL) continue;
        switch (fields[i].type) {
        case GW_FT_TEXT:
            v->kind = GW_VAL_TEXT;
            v->s = (const char *)sqlite3_column_text(q, c);
            break;
        case GW_FT_INT:
            v->kind = GW_VAL_INT;
            v->i = sqlite3_column_int64(q, c);
            break;
        case GW_FT_REAL:
            v->kind = GW_VAL_REAL;
            v->d = sqlite3_column_double(q, c);
            break;
        case GW_FT_TIME: {
            const char *t = (const char *)sqlite3_column_text(q, c);
            v->kind = GW_VAL_INT;
            if (gw_time_parse(ctx, t, "UTC", &v->i) != GW_OK)
                return gw_ctx_error(ctx, GW_ERR_FORMAT, "%s row %lld: field %s holds '%s', not an ISO 8601 time",
                                    gw_layer_name(layer), (long long)sqlite3_column_int64(q, 0),
                                    fields[i].name, t ? t : "");
            break;
        }
        }
    }
    int g = (int)nf + 1; /* the blob after the texts, so no text pointer is invalidated */
    row->fid = sqlite3_column_int64(q, 0);
    row->values = vals;
    row->wkb = sqlite3_column_blob(q, g);
    row->wkb_len = (size_t)sqlite3_column_bytes(q, g);
    return GW_OK;
}

typedef struct stage {
    gw_layer_data *s; /* the fetched rows (own arena), with all three coordinate forms */
    ptrdiff_t *old;   /* per staged row: its row in the previous version, or -1 (new) */
    size_t *dels;     /* rows of the previous version whose id is gone */
    size_t ndel;
} stage;

static void stage_free(gw_ctx *ctx, stage *g)
{
    gw_model_layer_free(ctx, g->s);
    free(g->old);
    free(g->dels);
}

static gw_status db_error(gw_ctx *ctx, gw_store *store, const char *what)
{
    return gw_ctx_error(ctx, GW_ERR_DB, "model: %s: %s (database %s)", what,
                        sqlite3_errmsg(gw_store_db(store)), gw_store_path(store));
}

/* Fetch the ids' rows; *unlogged is set when the store has rows past the previous version's
 * highest fid that the ids do not account for. */
static gw_status stage_rows(gw_ctx *ctx, gw_store *store, const gw_layer_data *old,
                            char *const *ids, size_t nids, int64_t seq, stage *g, int *unlogged)
{
    gw_layer layer = old->layer;
    size_t nf = 0;
    const gw_field *fields = gw_layer_fields(layer, &nf);
    char sql[1024];
    size_t u = (size_t)snprintf(sql, sizeof sql, "SELECT fid");
    for (size_t f = 0; f < nf && u < sizeof sql; f++)
        u += (size_t)snprintf(sql + u, sizeof sql - u, ", \"%s\"", fields[f].name);
    if (u < sizeof sql)
        snprintf(sql + u, sizeof sql - u, ", AsBinary(geom) FROM \"%s\" WHERE id = ?1", gw_layer_name(layer));
    gw_status st = gw_model_layer_new(ctx, layer, seq, &g->s);
    if (st) return st;
    g->old = malloc((nids + 1) * sizeof *g->old);
    g->dels = malloc((nids + 1) * sizeof *g->dels);
    if (!g->old || !g->dels) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if ((st = gw_model_reserve(ctx, g->s, nids ? nids : 1))) return st;
    sqlite3 *db = gw_store_db(store);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return db_error(ctx, store, "cannot read changed rows");
    GEOSWKBReader *rd = GEOSWKBReader_create_r(gw_ctx_geos(ctx));
    if (!rd) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    gw_value vals[GW_MODEL_MAX_FIELDS];
    int64_t beyond = 0; /* staged rows past old->maxfid */
    for (size_t i = 0; !st && i < nids; i++) {
        ptrdiff_t r = gw_layer_data_find(old, ids[i]);
        sqlite3_bind_text(q, 1, ids[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            gw_row row;
            st = fetch_row(ctx, q, layer, vals, &row);
            if (!st) st = gw_model_add_row(ctx, g->s, rd, &row);
            if (!st) {
                g->old[g->s->n - 1] = r;
                beyond += row.fid > old->maxfid;
            }
        } else if (rc == SQLITE_DONE) {
            if (r >= 0) g->dels[g->ndel++] = (size_t)r;
        } else {
            st = db_error(ctx, store, "cannot read changed rows");
        }
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (rd) GEOSWKBReader_destroy_r(gw_ctx_geos(ctx), rd);
    if (st) return st;

    /* New rows get fids past the highest one (INTEGER PRIMARY KEY): count them to catch a write
     * logged without its feature id. */
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE fid > ?1", gw_layer_name(layer));
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return db_error(ctx, store, "cannot count new rows");
    sqlite3_bind_int64(q, 1, old->maxfid);
    if (sqlite3_step(q) == SQLITE_ROW) *unlogged = sqlite3_column_int64(q, 0) != beyond;
    else st = db_error(ctx, store, "cannot count new rows");
    sqlite3_finalize(q);
    return st;
}

/* Metric and Mercator forms of the staged points. */
static gw_status stage_project(gw_ctx *ctx, gw_layer_data *s, gw_model_xforms *xf, int srid)
{
    if (s->n == 0) return GW_OK;
    gw_status st = gw_model_xforms_ready(ctx, xf, srid);
    for (int c = GW_MODEL_METRIC; !st && c < GW_MODEL_CRS_COUNT; c++) {
        for (int k = 0; k < 2 && !st; k++) {
            s->xy[c][k] = malloc(s->n * sizeof(double));
            if (!s->xy[c][k]) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
            memcpy(s->xy[c][k], s->xy[GW_MODEL_LONLAT][k], s->n * sizeof(double));
        }
        st = gw_crs_transform_points(xf->t[c], s->xy[c][0], s->xy[c][1], s->n);
        if (st) st = gw_model_xf_fail(ctx, xf, st);
    }
    return st;
}

/* ---------- building the next version ---------- */

typedef struct ins {
    const char *id;
    size_t srow; /* staged row */
    size_t pos;  /* insert before this row of the previous version */
    size_t row;  /* row in the next version */
} ins;

static int cmp_ins(const void *a, const void *b)
{
    return strcmp(((const ins *)a)->id, ((const ins *)b)->id);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* First row of `d` whose id is not below `id` (rows are in id order). */
static size_t lower_bound(const gw_layer_data *d, const char *id)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d->arena + d->cols[0].text[mid], id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The text of the next version: the previous arena when the staged text fits after its end
 * (appending there leaves every published byte alone), else a copy with room to grow. */
static gw_status share_arena(gw_ctx *ctx, const gw_layer_data *old, size_t need, gw_layer_data *d)
{
    gw_model_arena *a = old->ar;
    free(d->ar->buf);
    free(d->ar->islot);
    free(d->ar);
    d->ar = NULL;
    if (a->used + need <= a->cap) {
        atomic_fetch_add(&a->refs, 1);
        d->ar = a;
        d->arena = a->buf;
        return GW_OK;
    }
    gw_model_arena *b = calloc(1, sizeof *b);
    size_t cap = a->cap * 2 > a->used + need + 65536 ? a->cap * 2 : a->used + need + 65536;
    char *buf = b ? malloc(cap) : NULL;
    if (!buf) {
        free(b);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    }
    memcpy(buf, a->buf, a->used);
    atomic_init(&b->refs, 1);
    b->buf = buf;
    b->used = a->used;
    b->cap = cap;
    /* The intern set moves along (its offsets hold in the copy); the writer is the only user. */
    b->islot = a->islot, b->imask = a->imask, b->iused = a->iused;
    a->islot = NULL, a->imask = 0, a->iused = 0;
    d->ar = b;
    d->arena = buf;
    return GW_OK;
}

/* The per-row arrays of a layer, for copying runs of rows. */
typedef struct arr {
    const char *src;
    char *dst;
    size_t elem;
} arr;

static size_t list_arrays(const gw_layer_data *o, gw_layer_data *d, arr *a)
{
    size_t n = 0;
    a[n++] = (arr){(const char *)o->fid, (char *)d->fid, sizeof *d->fid};
    for (size_t f = 0; f < d->nfields; f++) {
        const gw_model_col *s = &o->cols[f];
        gw_model_col *t = &d->cols[f];
        if (t->text) a[n++] = (arr){(const char *)s->text, (char *)t->text, sizeof *t->text};
        if (t->i) a[n++] = (arr){(const char *)s->i, (char *)t->i, sizeof *t->i};
        if (t->d) a[n++] = (arr){(const char *)s->d, (char *)t->d, sizeof *t->d};
        if (t->nulls) a[n++] = (arr){(const char *)s->nulls, (char *)t->nulls, 1};
    }
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) a[n++] = (arr){(const char *)o->xy[c][k], (char *)d->xy[c][k], sizeof(double)};
    return n;
}

/* Staged row `sr` written as row `r` of the next version. */
static gw_status put_staged(gw_ctx *ctx, gw_layer_data *d, size_t r, const gw_layer_data *s, size_t sr)
{
    d->fid[r] = s->fid[sr];
    if (s->fid[sr] > d->maxfid) d->maxfid = s->fid[sr];
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) d->xy[c][k][r] = s->xy[c][k][sr];
    const char *id = gw_layer_data_id(s, sr);
    for (size_t f = 0; f < d->nfields; f++) {
        gw_value v = gw_layer_data_value(s, sr, (int)f);
        gw_status st = gw_model_put_value(ctx, d, r, f, &v, id);
        if (st) return st;
    }
    return GW_OK;
}

/* Remove the previous version's row `r` from a copy of its hash (linear probing: the entries
 * after it in the cluster move back so lookups still reach them). */
static void hash_remove(const gw_layer_data *o, uint32_t *h, size_t mask, size_t r)
{
    size_t i = gw_model_hash_str(o->arena + o->cols[0].text[r]) & mask;
    while (h[i] && h[i] != r + 1) i = (i + 1) & mask;
    if (!h[i]) return;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!h[j]) break;
        size_t home = gw_model_hash_str(o->arena + o->cols[0].text[h[j] - 1]) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        h[i] = h[j];
        i = j;
    }
    h[i] = 0;
}

/* The id hash of the next version: the previous one copied, deleted ids taken out, rows
 * renumbered through `map`, new ids added; rebuilt when the table would be over 3/4 full. */
static gw_status patch_hash(gw_ctx *ctx, const gw_layer_data *o, gw_layer_data *d, const stage *g,
                            const int32_t *map, const ins *in, size_t nin)
{
    size_t slots = o->hmask + 1;
    if (!o->hash || d->n * 4 > slots * 3) return gw_model_build_hash(ctx, d);
    d->hash = malloc(slots * sizeof *d->hash);
    if (!d->hash) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing ids");
    memcpy(d->hash, o->hash, slots * sizeof *d->hash);
    d->hmask = o->hmask;
    for (size_t k = 0; k < g->ndel; k++) hash_remove(o, d->hash, d->hmask, g->dels[k]);
    if (map)
        for (size_t j = 0; j < slots; j++)
            if (d->hash[j]) d->hash[j] = (uint32_t)map[d->hash[j] - 1] + 1;
    for (size_t k = 0; k < nin; k++) {
        size_t j = gw_model_hash_str(in[k].id) & d->hmask;
        while (d->hash[j]) j = (j + 1) & d->hmask;
        d->hash[j] = (uint32_t)(in[k].row + 1);
    }
    return GW_OK;
}

/* The next version from the previous one and the staged rows. */
static gw_status build_next(gw_ctx *ctx, const gw_layer_data *o, const stage *g, int64_t seq,
                            gw_layer_data **out)
{
    const gw_layer_data *s = g->s;
    size_t nin = 0;
    for (size_t k = 0; k < s->n; k++) nin += g->old[k] < 0;
    size_t n = o->n - g->ndel + nin;
    if (n >= UINT32_MAX) return gw_ctx_error(ctx, GW_ERR_RANGE, "layer %s: too many rows", gw_layer_name(o->layer));
    ins *in = malloc((nin + 1) * sizeof *in);
    int32_t *map = (nin || g->ndel) ? malloc((o->n + 1) * sizeof *map) : NULL;
    gw_layer_data *d = NULL;
    gw_status st = gw_model_layer_new(ctx, o->layer, seq, &d);
    if (!st && (!in || ((nin || g->ndel) && !map))) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if (!st) st = share_arena(ctx, o, s->ar->used, d);
    if (!st) st = gw_model_reserve(ctx, d, n ? n : 1);
    for (int c = GW_MODEL_METRIC; !st && c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2 && !st; k++)
            if (!(d->xy[c][k] = malloc((n ? n : 1) * sizeof(double))))
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if (st) {
        free(in), free(map);
        gw_model_layer_free(ctx, d);
        return st;
    }
    d->maxfid = o->maxfid;
    nin = 0;
    for (size_t k = 0; k < s->n; k++) {
        if (g->old[k] >= 0) continue;
        in[nin].id = gw_layer_data_id(s, k);
        in[nin].srow = k;
        in[nin].pos = lower_bound(o, in[nin].id);
        nin++;
    }
    qsort(in, nin, sizeof *in, cmp_ins);
    qsort(g->dels, g->ndel, sizeof *g->dels, cmp_size);

    /* Copy the surviving rows in runs between the insert positions and deleted rows. */
    arr a[4 * GW_MODEL_MAX_FIELDS + 8];
    size_t na = list_arrays(o, d, a);
    size_t from = 0, to = 0, ki = 0, kd = 0;
    for (;;) {
        size_t stop = o->n;
        if (ki < nin && in[ki].pos < stop) stop = in[ki].pos;
        if (kd < g->ndel && g->dels[kd] < stop) stop = g->dels[kd];
        size_t len = stop - from;
        for (size_t i = 0; len && i < na; i++)
            memcpy(a[i].dst + to * a[i].elem, a[i].src + from * a[i].elem, len * a[i].elem);
        for (size_t t = 0; map && t < len; t++) map[from + t] = (int32_t)(to + t);
        from += len, to += len;
        if (ki < nin && in[ki].pos == from) {
            in[ki++].row = to++; /* filled below */
        } else if (kd < g->ndel && g->dels[kd] == from) {
            map[from++] = -1;
            kd++;
        } else if (from == o->n) {
            break;
        }
    }
    d->n = n;
    for (size_t k = 0; !st && k < nin; k++) st = put_staged(ctx, d, in[k].row, s, in[k].srow);
    for (size_t k = 0; !st && k < s->n; k++) {
        if (g->old[k] < 0) continue;
        size_t r = map ? (size_t)map[g->old[k]] : (size_t)g->old[k];
        st = put_staged(ctx, d, r, s, k);
    }
    if (!st) st = patch_hash(ctx, o, d, g, map, in, nin);
    if (!st) st = gw_model_build_pgrid(ctx, d);
    free(in), free(map);
    if (st) {
        gw_model_layer_free(ctx, d);
        return st;
    }
    *out = d;
    return GW_OK;
}

gw_status gw_model_delta_apply(gw_ctx *ctx, gw_store *store, const gw_layer_data *old,
                               char *const *ids, size_t nids, gw_model_xforms *xf, int srid,
                               int64_t seq, gw_layer_data **out)
{
    *out = NULL;
    if (!gw_layer_is_point(old->layer)) return GW_OK;
    stage g = {0};
    int unlogged = 0;
    gw_status st = stage_rows(ctx, store, old, ids, nids, seq, &g, &unlogged);
    if (!st && !unlogged) st = stage_project(ctx, g.s, xf, srid);
    if (!st && !unlogged) st = build_next(ctx, old, &g, seq, out);
    stage_free(ctx, &g);
    return st;
}
