/* hotspot_state.c — one Gi* run followed from snapshot to snapshot (see hotspot.h): a new
 * incident costs a merge over the incident rows and a Gi* over the grids, not the assignment of
 * a million incidents to their grids, so the grid tiles' hot spot fields catch up within a
 * frame or two of a write instead of seconds later. */
#include "gridwatch/hotspot.h"
#include "stats_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_hotspot_state {
    gw_hotspot_opts opts;
    char *category;
    int incremental;
    gw_model_snapshot *snap; /* the version inc_grid and count are of (held) */
    int32_t *inc_grid;       /* per incident of snap */
    size_t n_inc;
    double *count; /* per grid of snap, filtered */
    size_t n;
    uint32_t fields; /* the incident fields an incident's grid and the filter read */
    gw_hotspot_state_stats stats;
};

/* The field bit of an incident field (0 when the layer has no such field). */
static uint32_t field_bit(const char *name)
{
    int f = gw_layer_field_index(GW_LAYER_INCIDENTS, name);
    return f > 0 && f < 32 ? 1u << f : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

gw_status gw_hotspot_state_create(gw_ctx *ctx, const gw_hotspot_opts *opts, gw_hotspot_state **out)
{
    *out = NULL;
    gw_hotspot_state *s = calloc(1, sizeof *s);
    if (!s) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (opts) s->opts = *opts;
    if (opts && opts->filter.category && !(s->category = strdup(opts->filter.category))) {
        free(s);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    s->opts.filter.category = s->category;
    s->incremental = 1;
    const gw_incident_filter *f = &s->opts.filter;
    s->fields = field_bit("grid");
    if (f->has_from || f->has_to) s->fields |= field_bit("occurred_at");
    if (f->category && *f->category) s->fields |= field_bit("category");
    if (f->severity_min > 0 || f->severity_max > 0) s->fields |= field_bit("severity");
    *out = s;
    return GW_OK;
}

/* Drop what the state keeps: the next update runs in full. */
static void forget(gw_ctx *ctx, gw_hotspot_state *s)
{
    gw_model_release(ctx, s->snap);
    free(s->inc_grid), free(s->count);
    s->snap = NULL, s->inc_grid = NULL, s->count = NULL, s->n_inc = s->n = 0;
}

void gw_hotspot_state_destroy(gw_ctx *ctx, gw_hotspot_state *s)
{
    if (!s) return;
    forget(ctx, s);
    free(s->category);
    free(s);
}

void gw_hotspot_state_set_incremental(gw_hotspot_state *s, int on)
{
    if (s) s->incremental = on != 0;
}

/* Every incident's grid and the counts from scratch. */
static gw_status full(gw_ctx *ctx, gw_hotspot_state *s, const gw_layer_data *grids,
                      const gw_layer_data *inc)
{
    size_t n = gw_layer_data_count(grids), ni = gw_layer_data_count(inc);
    int32_t *rows = malloc((ni ? ni : 1) * sizeof *rows);
    double *count = malloc((n ? n : 1) * sizeof *count);
    gw_status st = rows && count ? GW_OK
                                 : gw_ctx_error(ctx, GW_ERR_NOMEM,
                                                "out of memory (hotspots over %zu incidents)", ni);
    if (!st) st = gw_hotspot_incident_grids(ctx, grids, inc, rows);
    if (!st) st = gw_hotspot_counts(ctx, grids, inc, rows, &s->opts.filter, count);
    if (st) {
        free(rows), free(count);
        return st;
    }
    free(s->inc_grid), free(s->count);
    s->inc_grid = rows, s->n_inc = ni, s->count = count, s->n = n;
    return GW_OK;
}

/* The counts moved from incidents `oi` (the kept version) to `ni` by the rows that differ;
 * *done = 0 (nothing changed) when too many differ for that to pay. */
static gw_status delta(gw_ctx *ctx, gw_hotspot_state *s, const gw_layer_data *grids,
                       const gw_layer_data *oi, const gw_layer_data *ni, int *done)
{
    *done = 0;
    size_t nn = gw_layer_data_count(ni), no = s->n_inc, changed = 0;
    int32_t *map = malloc((nn ? nn : 1) * sizeof *map),
            *rows = malloc((nn ? nn : 1) * sizeof *rows);
    uint8_t *kept = calloc(no ? no : 1, 1);
    if (!map || !rows || !kept) {
        free(map), free(rows), free(kept);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (hotspots over %zu incidents)", nn);
    }
    /* Past about 1/16 of the rows the merge and the lookups cost as much as the full run. */
    gw_status st = gw_layer_data_match(ctx, oi, ni, s->fields, nn / 16 + 64, map, &changed);
    if (st == GW_ERR_RANGE) {
        gw_ctx_clear_error(ctx);
        free(map), free(rows), free(kept);
        return GW_OK;
    }
    const gw_incident_filter *f = &s->opts.filter;
    for (size_t j = 0; !st && j < nn; j++)
        if (map[j] >= 0) rows[j] = s->inc_grid[map[j]], kept[map[j]] = 1;
    for (size_t i = 0; !st && i < no; i++) {
        int32_t g = s->inc_grid[i];
        if (!kept[i] && g >= 0 && (size_t)g < s->n && gw_incident_filter_match(oi, i, f))
            s->count[g] -= 1;
    }
    for (size_t j = 0; !st && j < nn; j++) {
        if (map[j] >= 0) continue;
        st = stats_incident_grid(ctx, grids, ni, j, &rows[j]);
        int32_t g = rows[j];
        if (!st && g >= 0 && (size_t)g < s->n && gw_incident_filter_match(ni, j, f))
            s->count[g] += 1;
    }
    free(map), free(kept);
    if (st) { /* the counts are half moved: the caller forgets them */
        free(rows);
        return st;
    }
    free(s->inc_grid);
    s->inc_grid = rows, s->n_inc = nn;
    s->stats.last_changed = changed;
    *done = 1;
    return GW_OK;
}

gw_status gw_hotspot_state_update(gw_ctx *ctx, gw_hotspot_state *s, gw_model_snapshot *snap,
                                  const gw_weights *w, gw_hotspot_result **out)
{
    *out = NULL;
    double t0 = now_s();
    const gw_layer_data *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!s || !grids || !inc || !w)
        return gw_ctx_error(ctx, GW_ERR_ARG, "hotspots: no state, grids/incidents or weights");
    size_t n = gw_layer_data_count(grids);
    if (stats_weights_check(ctx, w, n)) return GW_ERR_CONFLICT;
    int done = 0;
    gw_status st = GW_OK;
    /* A layer version is shared by pointer between snapshots until it changes, and the kept
     * snapshot keeps the old one alive, so pointer equality means the same version. */
    if (s->incremental && s->snap && gw_snapshot_layer(s->snap, GW_LAYER_GRIDS) == grids &&
        s->n == n) {
        const gw_layer_data *oi = gw_snapshot_layer(s->snap, GW_LAYER_INCIDENTS);
        if (oi == inc) done = 1, s->stats.last_changed = 0;
        else st = delta(ctx, s, grids, oi, inc, &done);
    }
    if (!st && !done) st = full(ctx, s, grids, inc);
    if (st) {
        forget(ctx, s);
        return st;
    }
    gw_model_release(ctx, s->snap);
    s->snap = gw_snapshot_retain(snap);
    if (done) s->stats.incremental++;
    else s->stats.full++;
    gw_hotspot_result *r = NULL;
    st = stats_result_alloc(ctx, n, &r);
    if (!st) {
        memcpy(r->count, s->count, n * sizeof *r->count);
        st = stats_hotspot_finish(ctx, grids, w, &s->opts, r);
    }
    s->stats.last_seconds = now_s() - t0;
    if (st) {
        gw_hotspot_result_destroy(r);
        if (st != GW_ERR_RANGE) forget(ctx, s);
        return st;
    }
    r->seconds = s->stats.last_seconds;
    *out = r;
    return GW_OK;
}

const int32_t *gw_hotspot_state_incident_grids(const gw_hotspot_state *s, size_t *n)
{
    if (n) *n = s && s->snap ? s->n_inc : 0;
    return s && s->snap ? s->inc_grid : NULL;
}

gw_hotspot_state_stats gw_hotspot_state_get_stats(const gw_hotspot_state *s)
{
    gw_hotspot_state_stats z = {0};
    return s ? s->stats : z;
}
