/* model_append.c — one point layer from two halves loaded on two threads (model.c's open of a
 * large incidents layer): b's rows appended to a's, its text re-interned into a's arena, and
 * a's id hash and point index rebuilt over the whole. */
#include "model_layer.h"

/* b's interned text offset -> a's, for the few distinct values (category, status, grid …). */
typedef struct offmap {
    uint32_t *key, *val; /* key + 1, 0 = empty */
    size_t mask, used;
} offmap;

static int offmap_grow(offmap *m)
{
    size_t nm = m->mask ? m->mask * 2 + 1 : 1023;
    uint32_t *k = calloc(nm + 1, sizeof *k), *v = calloc(nm + 1, sizeof *v);
    if (!k || !v) return free(k), free(v), -1;
    for (size_t i = 0; m->key && i <= m->mask; i++) {
        if (!m->key[i]) continue;
        size_t j = (m->key[i] * 2654435761u) & nm;
        while (k[j]) j = (j + 1) & nm;
        k[j] = m->key[i], v[j] = m->val[i];
    }
    free(m->key), free(m->val);
    m->key = k, m->val = v, m->mask = nm;
    return 0;
}

/* a's offset of b's interned text at off. */
static gw_status remap(gw_ctx *ctx, offmap *m, gw_layer_data *a, const gw_layer_data *b,
                       uint32_t off, uint32_t *out)
{
    if (off == NOTEXT) return *out = NOTEXT, GW_OK;
    if ((m->used + 1) * 2 > m->mask && offmap_grow(m))
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    size_t j = ((off + 1) * 2654435761u) & m->mask;
    for (; m->key[j]; j = (j + 1) & m->mask)
        if (m->key[j] == off + 1) return *out = m->val[j], GW_OK;
    gw_status st = mdl_intern_add(ctx, a, b->arena + off, out);
    if (st) return st;
    m->key[j] = off + 1, m->val[j] = *out, m->used++;
    return GW_OK;
}

/* Grow a's metric and Mercator coordinates to cap rows (mdl_reserve grows the lon/lat ones). */
static gw_status grow_xy(gw_ctx *ctx, gw_layer_data *a, size_t cap)
{
    for (int c = GW_MODEL_METRIC; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) {
            double *p = realloc(a->xy[c][k], cap * sizeof *p);
            if (!p) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
            a->xy[c][k] = p;
        }
    return GW_OK;
}

gw_status mdl_layer_append(gw_ctx *ctx, gw_layer_data *a, const gw_layer_data *b)
{
    if (a->layer != b->layer || !gw_layer_is_point(a->layer) || a->layer == GW_LAYER_CAMERAS ||
        atomic_load(&a->ar->refs) > 1)
        return gw_ctx_error(ctx, GW_ERR_INTERNAL, "model: cannot append layer %s's rows",
                            gw_layer_name(b->layer));
    if (b->n == 0) return GW_OK;
    size_t n0 = a->n, n = a->n + b->n;
    gw_status st = reserve(ctx, a, n);
    if (!st && n0 > 0) st = grow_xy(ctx, a, a->cap);
    for (int c = GW_MODEL_METRIC; !st && n0 == 0 && c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2 && !st; k++)
            if (!(a->xy[c][k] = malloc(a->cap * sizeof(double))))
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory loading the model");
    if (st) return st;
    memcpy(a->fid + n0, b->fid, b->n * sizeof *a->fid);
    if (b->maxfid > a->maxfid) a->maxfid = b->maxfid;
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) memcpy(a->xy[c][k] + n0, b->xy[c][k], b->n * sizeof(double));
    offmap m = {0};
    for (size_t f = 0; !st && f < a->nfields; f++) {
        col *ca = &a->cols[f];
        const col *cb = &b->cols[f];
        if (ca->type != GW_FT_TEXT) {
            memcpy(ca->nulls + n0, cb->nulls, b->n);
            if (ca->type == GW_FT_REAL) memcpy(ca->d + n0, cb->d, b->n * sizeof *ca->d);
            else memcpy(ca->i + n0, cb->i, b->n * sizeof *ca->i);
            continue;
        }
        for (size_t r = 0; r < b->n && !st; r++) {
            uint32_t off = cb->text[r];
            if (f == 0) st = mdl_arena_add(ctx, a, b->arena + off, &ca->text[n0 + r]); /* ids */
            else st = remap(ctx, &m, a, b, off, &ca->text[n0 + r]);
        }
    }
    free(m.key), free(m.val);
    if (st) return st;
    a->n = n;
    free(a->hash), a->hash = NULL;
    free(a->pg.start), free(a->pg.rows);
    memset(&a->pg, 0, sizeof a->pg);
    st = build_hash(ctx, a);
    return st ? st : build_pgrid(ctx, a);
}
