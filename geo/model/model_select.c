/* model_select.c — a feature API page answered from a point layer in memory: the rows a store
 * filter (store_features.h) selects, counted, and the ones of a page in storage (fid) order, so
 * the items route asks the store only for the page's rows by id instead of counting thousands
 * of matches through the R*Tree on every page (issue 19 item 5b). */
#include "model_internal.h"

#include "gridwatch/store_features.h"

#include <stdlib.h>
#include <string.h>

typedef struct fid_row {
    int64_t fid;
    uint32_t row;
} fid_row;

static int cmp_fid(const void *a, const void *b)
{
    const fid_row *x = a, *y = b;
    return x->fid < y->fid ? -1 : x->fid > y->fid;
}

/* 1 when row r passes the property filters. */
static int props_pass(const gw_layer_data *d, const gw_feature_filter *f, size_t r)
{
    for (int i = 0; i < f->nprops; i++) {
        const gw_model_col *c = &d->cols[f->prop_field[i]];
        if (c->type == GW_FT_TEXT) {
            uint32_t off = c->text[r];
            if (off == GW_MODEL_NOTEXT || strcmp(d->arena + off, f->prop_text[i]) != 0) return 0;
        } else if (c->nulls[r] || c->i[r] != f->prop_int[i]) {
            return 0;
        }
    }
    return 1;
}

gw_status gw_layer_data_select(gw_ctx *ctx, const gw_layer_data *d,
                               const struct gw_feature_filter *f, int64_t offset, int64_t limit,
                               size_t *rows, size_t *n, int64_t *matched)
{
    *n = 0, *matched = 0;
    if (!d || !f || f->layer != d->layer || !gw_layer_is_point(d->layer))
        return gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "select: not a point layer of this filter");
    if (f->has_lo || f->has_hi || f->n_ids > 0 || f->cql || f->nsort || f->nprops < 0 ||
        f->nprops > GW_FEATURE_MAX_PROPS)
        return gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "select: the filter needs the store");
    for (int i = 0; i < f->nprops; i++) {
        int fi = f->prop_field[i];
        if (fi < 0 || (size_t)fi >= d->nfields ||
            (d->cols[fi].type != GW_FT_TEXT && d->cols[fi].type != GW_FT_INT) ||
            (d->cols[fi].type == GW_FT_TEXT && !f->prop_text[i]))
            return gw_ctx_error(ctx, GW_ERR_UNSUPPORTED, "select: property filter on field %d", fi);
    }
    if (offset < 0) offset = 0;
    const double *x = d->xy[GW_MODEL_LONLAT][0], *y = d->xy[GW_MODEL_LONLAT][1];
    const gw_bbox b = f->bbox;
    fid_row *m = malloc((d->n + 1) * sizeof *m);
    if (!m) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory selecting features");
    size_t k = 0;
    int sorted = 1;
    for (size_t r = 0; r < d->n; r++) {
        /* the store's test: X(geom) BETWEEN minx AND maxx AND Y(geom) BETWEEN miny AND maxy */
        if (f->has_bbox && !(x[r] >= b.minx && x[r] <= b.maxx && y[r] >= b.miny && y[r] <= b.maxy))
            continue;
        if (f->nprops && !props_pass(d, f, r)) continue;
        if (k && d->fid[r] < m[k - 1].fid) sorted = 0;
        m[k].fid = d->fid[r], m[k].row = (uint32_t)r;
        k++;
    }
    if (!sorted) qsort(m, k, sizeof *m, cmp_fid);
    *matched = (int64_t)k;
    size_t from = (uint64_t)offset < k ? (size_t)offset : k;
    size_t cnt = k - from;
    if (limit <= 0) cnt = 0;
    else if ((uint64_t)limit < cnt) cnt = (size_t)limit;
    for (size_t i = 0; i < cnt; i++) rows[i] = m[from + i].row;
    *n = cnt;
    free(m);
    return GW_OK;
}
