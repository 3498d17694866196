/* juris.c — the jurisdiction hierarchy of the published grids (include/gridwatch/juris.h): each
 * grid's path from its prefecture/county/township/village fields, and the listing of every
 * path prefix with its grids, population and area.  Reads a model snapshot only. */
#include "gridwatch/juris.h"

#include <stdlib.h>
#include <string.h>

int gw_juris_match(const gw_juris *j, int level, const char *parent)
{
    if (!j) return 0;
    if (level > 0 && j->level != level) return 0;
    return !parent || strcmp(j->parent, parent) == 0;
}

size_t gw_juris_grid_path(const gw_layer_data *grids, size_t row, char *buf, size_t cap, int *level)
{
    size_t len = 0;
    int lv = 0;
    if (buf && cap) buf[0] = '\0';
    for (int k = 1; gw_juris_field(k); k++) {
        int fi = gw_layer_field_index(GW_LAYER_GRIDS, gw_juris_field(k));
        const char *s = fi < 0 ? NULL : gw_layer_data_text(grids, row, fi);
        if (!s || !*s) continue;
        size_t sl = strlen(s);
        if (lv > 0) {
            if (buf && len + 1 < cap) buf[len] = '/', buf[len + 1] = '\0';
            len++;
        }
        if (buf && len < cap) {
            size_t room = cap - len - 1, c = sl < room ? sl : room;
            memcpy(buf + len, s, c);
            buf[len + c] = '\0';
        }
        len += sl;
        lv++;
    }
    if (level) *level = lv;
    return len;
}

/* One path prefix of one grid: the grid's path text and the prefix's length. */
typedef struct pref {
    const char *p;
    uint32_t len, row;
    int level;
} pref;

static int pref_cmp(const void *a, const void *b)
{
    const pref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

void gw_juris_list_free(gw_juris_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].path);
        free(list->items[i].parent);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n), d[n] = '\0';
    return d;
}

/* The list's entry for the group g[0..k) of equal prefixes. */
static gw_status add_group(gw_ctx *ctx, gw_juris_list *out, const pref *g, size_t k,
                           const int64_t *pop, const uint8_t *pop_null, const double *area)
{
    gw_juris *j = &out->items[out->n];
    memset(j, 0, sizeof *j);
    size_t cut = g->len;
    while (cut > 0 && g->p[cut - 1] != '/') cut--;
    j->path = dup_n(g->p, g->len);
    j->parent = dup_n(g->p, cut ? cut - 1 : 0);
    if (!j->path || !j->parent) {
        free(j->path), free(j->parent);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory listing jurisdictions");
    }
    j->name = j->path + cut;
    j->level = g->level;
    for (size_t i = 0; i < k; i++) {
        uint32_t r = g[i].row;
        j->grids++;
        if (pop && !(pop_null && pop_null[r])) j->population += pop[r];
        j->area_km2 += area[r];
    }
    out->n++;
    return GW_OK;
}

gw_status gw_juris_list_build(gw_ctx *ctx, const gw_model_snapshot *snap, int metric_srid,
                              gw_juris_list *out)
{
    memset(out, 0, sizeof *out);
    out->metric_srid = metric_srid;
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    size_t n = d ? gw_layer_data_count(d) : 0;
    if (!n) return GW_OK;
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    int pi = gw_layer_field_index(GW_LAYER_GRIDS, "population");
    const int64_t *pop = pi >= 0 ? gw_layer_data_ints(d, pi) : NULL;
    const uint8_t *pop_null = pi >= 0 ? gw_layer_data_nulls(d, pi) : NULL;
    char **paths = calloc(n, sizeof *paths);
    double *area = calloc(n, sizeof *area);
    pref *pf = malloc(n * 4 * sizeof *pf);
    gw_status st = paths && area && pf
                       ? GW_OK
                       : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory listing jurisdictions");
    size_t np = 0;
    for (size_t r = 0; !st && r < n; r++) {
        const GEOSGeometry *g = gw_layer_data_geom(d, r, GW_MODEL_METRIC);
        double a = 0;
        if (g && GEOSArea_r(h, g, &a) != 1)
            st = gw_ctx_error(ctx, GW_ERR_GEOMETRY, "grid '%s': its area cannot be measured",
                              gw_layer_data_id(d, r));
        area[r] = a / 1e6;
        int lv = 0;
        size_t len = gw_juris_grid_path(d, r, NULL, 0, &lv);
        if (st || !lv) {
            if (!lv) out->unassigned++;
            continue;
        }
        if (!(paths[r] = malloc(len + 1))) {
            st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory listing jurisdictions");
            break;
        }
        gw_juris_grid_path(d, r, paths[r], len + 1, NULL);
        int level = 0; /* one entry per prefix: cut at each "/" and at the end */
        for (size_t i = 0; i <= len; i++)
            if (i == len || paths[r][i] == '/')
                pf[np++] = (pref){paths[r], (uint32_t)i, (uint32_t)r, ++level};
    }
    if (!st) qsort(pf, np, sizeof *pf, pref_cmp);
    size_t groups = 0;
    for (size_t i = 0; !st && i < np; i++) groups += i == 0 || pref_cmp(&pf[i - 1], &pf[i]) != 0;
    if (!st && groups && !(out->items = calloc(groups, sizeof *out->items)))
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory listing jurisdictions");
    for (size_t i = 0; !st && i < np;) {
        size_t k = 1;
        while (i + k < np && pref_cmp(&pf[i], &pf[i + k]) == 0) k++;
        st = add_group(ctx, out, &pf[i], k, pop, pop_null, area);
        i += k;
    }
    for (size_t r = 0; paths && r < n; r++) free(paths[r]);
    free(paths);
    free(area);
    free(pf);
    if (st) {
        int64_t un = out->unassigned;
        gw_juris_list_free(out);
        out->unassigned = un, out->metric_srid = metric_srid;
    }
    return st;
}
