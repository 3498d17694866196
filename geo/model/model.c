/* model.c — the in-memory model: the store's layers as immutable, reference-counted snapshots
 * (columns in arrays, points in three CRSs with a packed grid index, grids as GEOS geometries
 * with an STRtree), so analysis and tiles never scan SQLite and never wait on the writer.
 * The concurrency scheme is written down in docs/decisions/0001-model-concurrency.md. */
#include "model_layer.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gw_status mdl_from_store(gw_ctx *ctx, gw_store *store, gw_status st)
{
    gw_ctx *sc = gw_store_ctx(store);
    if (st && sc && sc != ctx) gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(sc));
    return st;
}

/* Ids from <= id < to of a layer (NULL: unbounded): a part read on its own thread, of about
 * `rows` rows (counted once, by the caller that split the layer). */
typedef struct id_range {
    const char *from, *to;
    int64_t rows;
} id_range;

static gw_status read_layer(gw_ctx *ctx, gw_store *store, gw_layer layer, int64_t seq,
                            const id_range *range, gw_layer_data **out)
{
    gw_layer_data *d = NULL;
    gw_status st = mdl_layer_new(ctx, layer, seq, &d);
    if (st) return st;
    int64_t count = 0;
    gw_cursor *cur = NULL;
    GEOSWKBReader *rd = GEOSWKBReader_create_r(gw_ctx_geos(ctx));
    if (!rd) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    if (range) count = range->rows; /* grown if need be */
    else if (!st) st = from_store(ctx, store, gw_store_count(store, layer, &count));
    if (!st) st = reserve(ctx, d, count > 0 ? (size_t)count : 16);
    if (!st)
        st = from_store(ctx, store,
                        range ? gw_store_cursor_create_range(store, layer, range->from, range->to,
                                                             &cur)
                              : gw_store_cursor_create(store, layer, &cur));
    gw_row row;
    while (!st) {
        st = gw_cursor_next(cur, &row);
        if (st == GW_ERR_NOT_FOUND) {
            st = GW_OK;
            break;
        }
        st = st ? from_store(ctx, store, st) : mdl_add_row(ctx, d, rd, &row);
    }
    gw_cursor_destroy(cur);
    if (rd) GEOSWKBReader_destroy_r(gw_ctx_geos(ctx), rd);
    if (st) {
        layer_free(ctx, d);
        return st;
    }
    *out = d;
    return GW_OK;
}

/* Change-log rows a point layer is patched for rather than reloaded: up to 5 % of the layer,
 * and always up to 20,000 (one lookup by id costs ~10 us; a reload ~3 us a row). */
#define PATCH_MIN_ROWS 20000
#define PATCH_SHARE 20
/* Incidents from this many rows are loaded in two halves on two threads (~1.2 s a million);
 * the environment's GW_MODEL_SPLIT_ROWS overrides it (0: never). */
#define SPLIT_MIN_ROWS 200000

/* Read the layers in *mask (1u << layer) inside one read transaction of `store`, so they all
 * reflect change-log sequence *seq; transforms and indexes are built after it ends.  With
 * since >= 0, *mask is first replaced, in the same transaction, by the layers changed after
 * `since` (so no commit can slip between reading the log and reading the layers).  With `prev`
 * (the current layers), a point layer whose changes all name features, and not too many, is
 * derived from its previous version and the changed rows (mdl_delta_apply) instead of
 * being reloaded; those layers are set in *patched. */
static gw_status load_layers(gw_ctx *ctx, gw_store *store, unsigned *maskp, int64_t since,
                             gw_layer_data *const *prev, unsigned *patched, xforms *xf, int *srid,
                             const id_range *range, gw_layer_data **out, int64_t *seq)
{
    if (patched) *patched = 0;
    if (gw_store_in_transaction(store))
        return gw_ctx_error(ctx, GW_ERR_CONFLICT,
                            "the model reads only committed data: load or "
                            "refresh it after gw_store_commit(), not inside a transaction");
    if (gw_store_read_begin(store) != GW_OK)
        return gw_ctx_error(ctx, GW_ERR_DB, "model: cannot start a read transaction on %s: %s",
                            gw_store_path(store), gw_ctx_errmsg(gw_store_ctx(store)));
    gw_model_changes ch = {0};
    gw_status st = from_store(ctx, store, gw_store_last_seq(store, seq));
    if (!st && since >= 0) {
        size_t limit[GW_LAYER_COUNT] = {0};
        for (int l = 0; prev && l < GW_LAYER_COUNT; l++) {
            size_t n = prev[l] && gw_layer_is_point((gw_layer)l) ? prev[l]->n : 0;
            limit[l] = prev[l] && gw_layer_is_point((gw_layer)l)
                           ? (n / PATCH_SHARE > PATCH_MIN_ROWS ? n / PATCH_SHARE : PATCH_MIN_ROWS)
                           : 0;
        }
        if (*seq > since) st = mdl_changes_read(ctx, store, since, limit, &ch);
        *maskp = ch.mask;
    }
    unsigned mask = *maskp, done = 0;
    if (!st && *srid <= 0) st = from_store(ctx, store, gw_store_metric_srid(store, srid));
    for (int l = 0; !st && *srid <= 0 && l < GW_LAYER_COUNT; l++) {
        gw_bbox bb;
        if (!(mask & (1u << l))) continue;
        gw_status e = gw_store_extent(store, (gw_layer)l, &bb);
        if (e == GW_OK) *srid = gw_crs_metric_for((bb.minx + bb.maxx) / 2, (bb.miny + bb.maxy) / 2);
        else if (e != GW_ERR_NOT_FOUND) st = from_store(ctx, store, e);
    }
    for (int l = 0; !st && prev && *srid > 0 && l < GW_LAYER_COUNT; l++) {
        if (!(mask & (1u << l)) || (ch.bulk & (1u << l)) || !prev[l] ||
            !gw_layer_is_point((gw_layer)l))
            continue;
        st = mdl_delta_apply(ctx, store, prev[l], ch.ids[l], ch.nids[l], xf, *srid, *seq, &out[l]);
        if (!st && out[l]) done |= 1u << l;
    }
    mdl_changes_free(&ch);
    for (int l = 0; !st && l < GW_LAYER_COUNT; l++)
        if ((mask & ~done) & (1u << l))
            st = read_layer(ctx, store, (gw_layer)l, *seq, range, &out[l]);
    gw_store_read_end(store);
    for (int l = 0; !st && l < GW_LAYER_COUNT; l++)
        if ((mask & ~done) & (1u << l)) st = mdl_finish_layer(ctx, out[l], xf, *srid);
    if (st) {
        for (int l = 0; l < GW_LAYER_COUNT; l++)
            if (mask & (1u << l)) layer_free(ctx, out[l]), out[l] = NULL;
    } else if (patched) {
        *patched = done;
    }
    return st;
}

/* The parallel half of gw_model_open: a layer set loaded over a second read-only connection. */
typedef struct side_load {
    const char *path;
    id_range range; /* of the one layer in mask, when read in two halves */
    int split;
    unsigned mask;
    int srid;
    gw_layer_data *out[GW_LAYER_COUNT];
    int64_t seq;
    gw_status st;
    char msg[512];
    gw_ctx *ctx;
} side_load;

static void *side_main(void *arg)
{
    side_load *s = arg;
    gw_store *st2 = NULL;
    s->st = gw_store_open(s->ctx, s->path, GW_STORE_READONLY, &st2);
    xforms xf = {s->ctx, 0, {NULL}, NULL, NULL};
    if (!s->st)
        s->st = load_layers(s->ctx, st2, &s->mask, -1, NULL, NULL, &xf, &s->srid,
                            s->split ? &s->range : NULL, s->out, &s->seq);
    mdl_xforms_clear(&xf);
    if (s->st) snprintf(s->msg, sizeof s->msg, "%s", gw_ctx_errmsg(s->ctx));
    gw_store_close(st2);
    return NULL;
}

static int is_file_path(const char *p)
{
    return p && p[0] && strcmp(p, ":memory:") != 0 && strncmp(p, "file::memory:", 13) != 0;
}

/* ---------- public: open, refresh, snapshots ---------- */

static void publish(gw_ctx *ctx, gw_model *m, gw_model_snapshot *s)
{
    pthread_mutex_lock(&m->lock);
    gw_model_snapshot *old = m->current;
    m->current = s;
    pthread_mutex_unlock(&m->lock);
    mdl_snap_unref(ctx, old);
}

gw_status gw_model_open(gw_ctx *ctx, gw_store *store, gw_model **out)
{
    return gw_model_open_layers(ctx, store, (1u << GW_LAYER_COUNT) - 1, out);
}

/* The id splitting a large incidents layer into two halves, when one is worth it (1 when so;
 * *rows then the most rows a half holds). */
static int split_point(gw_store *store, char *mid, size_t cap, int64_t *rows)
{
    int64_t n = 0, min = SPLIT_MIN_ROWS;
    const char *e = getenv("GW_MODEL_SPLIT_ROWS"); /* tests split small layers */
    if (e && *e) min = strtoll(e, NULL, 10);
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || min < 1 ||
        gw_store_count(store, GW_LAYER_INCIDENTS, &n) != GW_OK || n < min ||
        gw_store_nth_id(store, GW_LAYER_INCIDENTS, n / 2, mid, cap) != GW_OK) {
        gw_ctx_clear_error(gw_store_ctx(store));
        return 0;
    }
    *rows = n / 2 + 1;
    return 1;
}

/* The incidents the side loads read into s (halves joined), or loaded here when one failed
 * (e.g. a file another process cannot open read-only).  The side loads keep what they hand
 * over no longer (out set to NULL). */
static gw_status side_take(gw_ctx *ctx, gw_store *store, gw_model *m, gw_model_snapshot *s,
                           side_load *side, int nside)
{
    const int l = GW_LAYER_INCIDENTS;
    gw_status st = GW_OK;
    const char *why = NULL;
    for (int k = 0; k < nside && !why; k++)
        if (side[k].st) why = side[k].msg;
    if (!why && nside == 2) { /* the second half after the first */
        st = mdl_layer_append(ctx, side[0].out[l], side[1].out[l]);
        if (st) return st;
    }
    if (why) {
        gw_ctx_warn(ctx, "model: parallel load failed (%s); loading incidents on this thread", why);
        unsigned mask = 1u << l;
        int64_t seq2 = 0;
        st = load_layers(ctx, store, &mask, -1, NULL, NULL, &m->xf, &m->srid, NULL, s->layers,
                         &seq2);
        if (seq2 < s->seq) s->seq = seq2;
        return st;
    }
    s->layers[l] = side[0].out[l], side[0].out[l] = NULL;
    m->inc_parts = nside;
    for (int k = 0; k < nside; k++) { /* reload what changed in between on refresh */
        if (side[k].seq < s->seq) s->seq = side[k].seq;
        if (side[k].seq < s->layers[l]->seq) s->layers[l]->seq = side[k].seq; /* the older half */
    }
    return GW_OK;
}

gw_status gw_model_open_layers(gw_ctx *ctx, gw_store *store, unsigned layers, gw_model **out)
{
    if (!ctx || !store || !out)
        return gw_ctx_error(ctx, GW_ERR_ARG, "gw_model_open: NULL argument");
    *out = NULL;
    gw_model *m = calloc(1, sizeof *m);
    gw_model_snapshot *s = calloc(1, sizeof *s);
    if (!m || !s || gw_ctx_create(&m->own) != GW_OK) {
        if (m) gw_ctx_destroy(m->own);
        free(m);
        free(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory opening the model");
    }
    m->xf.ctx = m->own;
    m->xf.pool = mdl_pool_create();
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->write_lock, NULL);
    atomic_init(&s->refs, 1);
    gw_status st = from_store(ctx, store, gw_store_metric_srid(store, &m->srid));

    /* Incidents are most of the rows: load them on other threads over their own connections,
     * in two halves by id when there are many and a core to spare (the halves' CRS transforms
     * run in parallel too), joined in id order. */
    unsigned mask = layers & ((1u << GW_LAYER_COUNT) - 1);
    side_load side[2];
    pthread_t th[2];
    int nside = 0;
    char mid[256];
    if (!st && (mask & (1u << GW_LAYER_INCIDENTS)) && m->srid > 0 &&
        is_file_path(gw_store_path(store))) {
        int64_t rows = 0;
        int split = split_point(store, mid, sizeof mid, &rows);
        for (int k = 0; k < 1 + split; k++) {
            side[nside] = (side_load){.path = gw_store_path(store),
                                      .mask = 1u << GW_LAYER_INCIDENTS,
                                      .srid = m->srid,
                                      .split = split,
                                      .range = {k ? mid : NULL, k || !split ? NULL : mid, rows}};
            if (gw_ctx_create(&side[nside].ctx) != GW_OK) break;
            if (pthread_create(&th[nside], NULL, side_main, &side[nside])) {
                gw_ctx_destroy(side[nside].ctx);
                break;
            }
            nside++;
        }
        if (nside == 1 + split) mask &= ~(1u << GW_LAYER_INCIDENTS);
    }
    if (!st)
        st = load_layers(ctx, store, &mask, -1, NULL, NULL, &m->xf, &m->srid, NULL, s->layers,
                         &s->seq);
    for (int k = 0; k < nside; k++) pthread_join(th[k], NULL);
    if (nside && !(mask & (1u << GW_LAYER_INCIDENTS)) && !st)
        st = side_take(ctx, store, m, s, side, nside);
    for (int k = 0; k < nside; k++) {
        layer_free(ctx, side[k].out[GW_LAYER_INCIDENTS]);
        gw_ctx_destroy(side[k].ctx);
    }
    m->current = s;
    if (st) {
        gw_model_close(m);
        return st;
    }
    *out = m;
    return GW_OK;
}

void gw_model_close(gw_model *model)
{
    if (!model) return;
    mdl_snap_unref(model->own, model->current);
    mdl_xforms_clear(&model->xf);
    mdl_pool_unref(model->xf.pool);
    pthread_mutex_destroy(&model->lock);
    pthread_mutex_destroy(&model->write_lock);
    gw_ctx_destroy(model->own);
    free(model);
}

gw_status gw_model_refresh_ex(gw_ctx *ctx, gw_model *model, gw_store *store,
                              gw_model_refresh_info *info)
{
    if (info) memset(info, 0, sizeof *info);
    if (!ctx || !model || !store)
        return gw_ctx_error(ctx, GW_ERR_ARG, "gw_model_refresh: NULL argument");
    pthread_mutex_lock(&model->write_lock);
    gw_model_snapshot *cur = model->current; /* only this (locked) writer replaces it */
    gw_layer_data *fresh[GW_LAYER_COUNT] = {0};
    unsigned mask = 0, patched = 0;
    int srid = model->srid;
    gw_model_snapshot *s = calloc(1, sizeof *s);
    gw_status st = s ? GW_OK
                     : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if (!st)
        st = load_layers(ctx, store, &mask, cur->seq, cur->layers, &patched, &model->xf, &srid,
                         NULL, fresh, &s->seq);
    if (!st && s->seq > cur->seq) {
        /* Set once, when the first data arrives in an empty model; request threads read it
         * without the lock (gw_model_metric_srid), so the store is atomic and only on a change. */
        if (srid != model->srid) __atomic_store_n(&model->srid, srid, __ATOMIC_RELEASE);
        atomic_init(&s->refs, 1);
        for (int l = 0; l < GW_LAYER_COUNT; l++) {
            s->layers[l] = fresh[l] ? fresh[l] : cur->layers[l];
            if (!fresh[l] && s->layers[l]) atomic_fetch_add(&s->layers[l]->refs, 1);
        }
        publish(ctx, model, s);
        if (info) {
            info->replaced = mask;
            info->patched = patched;
            info->seq = s->seq;
        }
    } else {
        free(s);
    }
    pthread_mutex_unlock(&model->write_lock);
    return st;
}

gw_status gw_model_refresh(gw_ctx *ctx, gw_model *model, gw_store *store, unsigned *reloaded)
{
    gw_model_refresh_info info;
    gw_status st = gw_model_refresh_ex(ctx, model, store, &info);
    if (reloaded) *reloaded = info.replaced;
    return st;
}

int gw_model_incident_parts(const gw_model *model) { return model ? model->inc_parts : 0; }

int gw_model_metric_srid(const gw_model *model)
{
    return model ? __atomic_load_n(&model->srid, __ATOMIC_ACQUIRE) : 0;
}

gw_model_snapshot *gw_model_acquire(gw_model *model)
{
    pthread_mutex_lock(&model->lock);
    gw_model_snapshot *s = model->current;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&model->lock);
    return s;
}

void gw_model_release(gw_ctx *ctx, gw_model_snapshot *snap) { mdl_snap_unref(ctx, snap); }

gw_model_snapshot *gw_snapshot_retain(gw_model_snapshot *snap)
{
    if (snap) atomic_fetch_add(&snap->refs, 1);
    return snap;
}
int64_t gw_snapshot_seq(const gw_model_snapshot *snap) { return snap->seq; }

const gw_layer_data *gw_snapshot_layer(const gw_model_snapshot *snap, gw_layer layer)
{
    if (!snap || (int)layer < 0 || layer >= GW_LAYER_COUNT) return NULL;
    return snap->layers[layer];
}
