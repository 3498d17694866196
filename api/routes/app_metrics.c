/* app_metrics.c — what /metrics adds for the assembled service (gw_server_opts.metrics): the
 * vector tile and heat map caches (hits, misses, bytes, evictions), the /events streams, the
 * model's sync with the change log (seq, lag, rounds) and the rows of each layer in the model.
 * Names follow Prometheus conventions (base units, _total for counters); docs/metrics.md lists
 * them and docs/grafana-gridwatch.json draws them. */
#include "app.h"
#include "events.h"
#include "gridwatch/layer.h"
#include "gridwatch/model.h"
#include "heatmap_http.h"
#include "hotspot_http.h"
#include "http_util.h"
#include "ogc_query.h"
#include "tiles_http.h"

#include <time.h>

/* One family with a sample per cache: the vector tiles' and the heat map's. */
static void cache_family(gw_buf *b, const char *name, const char *help, const char *type,
                         unsigned long long vec, unsigned long long heat)
{
    gw_buf_printf(b,
                  "# HELP gridwatch_tile_cache_%s %s\n# TYPE gridwatch_tile_cache_%s %s\n"
                  "gridwatch_tile_cache_%s{cache=\"vector\"} %llu\n"
                  "gridwatch_tile_cache_%s{cache=\"heatmap\"} %llu\n",
                  name, help, name, type, name, vec, name, heat);
}

void gw_app_metrics(void *user, gw_ctx *ctx, gw_buf *b)
{
    gw_app *app = user;
    gw_tile_cache_stats v = gw_tiles_cache_stats(app->tiles);
    gw_tile_cache_stats h = gw_heat_cache_stats(gw_hotspots_heat(app->modules[GW_APP_HOTSPOTS]));
    cache_family(b, "hits_total", "Tiles answered from the cache.", "counter", v.hits, h.hits);
    cache_family(b, "misses_total", "Tiles rendered because the cache did not hold them.",
                 "counter", v.misses, h.misses);
    cache_family(b, "refused_total",
                 "Rendered tiles not kept (rendered before a change or the analysis they carry).",
                 "counter", v.refused, h.refused);
    cache_family(b, "evictions_total", "Tiles dropped to keep the cache within its budget.",
                 "counter", v.evictions, h.evictions);
    cache_family(b, "invalidations_total", "Tiles dropped because a change touched them.",
                 "counter", v.invalidated, h.invalidated);
    cache_family(b, "entries", "Tiles held.", "gauge", v.entries, h.entries);
    cache_family(b, "bytes", "Bytes of tiles held.", "gauge", v.bytes, h.bytes);
    cache_family(b, "budget_bytes", "The cache's byte budget.", "gauge", v.budget, h.budget);
    size_t subs = 0;
    int64_t appended = 0;
    gw_events_counts(app->modules[GW_APP_EVENTS], &subs, &appended);
    gw_buf_printf(b,
                  "# HELP gridwatch_events_subscribers Open /events streams.\n"
                  "# TYPE gridwatch_events_subscribers gauge\n"
                  "gridwatch_events_subscribers %zu\n"
                  "# HELP gridwatch_events_appended_total Events put on the /events feed.\n"
                  "# TYPE gridwatch_events_appended_total counter\n"
                  "gridwatch_events_appended_total %lld\n",
                  subs, (long long)appended);
    gw_buf_printf(b,
                  "# HELP gridwatch_ogc_filters_total Items requests whose CQL2 filter (filter=) "
                  "was accepted and handed to the store.\n"
                  "# TYPE gridwatch_ogc_filters_total counter\n"
                  "gridwatch_ogc_filters_total %llu\n",
                  ogc_query_filters_total());
    gw_live_stats ls = gw_live_get_stats(app->live);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double stale = (double)now.tv_sec + now.tv_nsec / 1e9 - ls.current_at;
    gw_buf_printf(
        b,
        "# HELP gridwatch_model_seq Change-log seq the in-memory model has applied.\n"
        "# TYPE gridwatch_model_seq gauge\n"
        "gridwatch_model_seq %lld\n"
        "# HELP gridwatch_model_lag_changes Change-log rows committed but not yet in the model.\n"
        "# TYPE gridwatch_model_lag_changes gauge\n"
        "gridwatch_model_lag_changes %lld\n"
        "# HELP gridwatch_model_staleness_seconds Seconds since the model was last seen current "
        "with the change log (the poll interval when idle).\n"
        "# TYPE gridwatch_model_staleness_seconds gauge\n"
        "gridwatch_model_staleness_seconds %.3f\n"
        "# HELP gridwatch_model_sync_rounds_total Sync rounds that applied changes.\n"
        "# TYPE gridwatch_model_sync_rounds_total counter\n"
        "gridwatch_model_sync_rounds_total %llu\n"
        "# HELP gridwatch_model_sync_seconds_total Time spent applying changes (model refresh "
        "and listeners).\n"
        "# TYPE gridwatch_model_sync_seconds_total counter\n"
        "gridwatch_model_sync_seconds_total %.6f\n",
        (long long)ls.seq, (long long)(ls.store_seq > ls.seq ? ls.store_seq - ls.seq : 0),
        stale > 0 ? stale : 0, (unsigned long long)ls.rounds, ls.refresh_seconds);
    gw_model *m = gw_live_model(app->live);
    gw_model_snapshot *snap = m ? gw_model_acquire(m) : NULL;
    if (!snap) return;
    gw_buf_str(b, "# HELP gridwatch_layer_features Features of each layer in the model (grids: "
                  "the published version).\n"
                  "# TYPE gridwatch_layer_features gauge\n");
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        const gw_layer_data *d = gw_snapshot_layer(snap, (gw_layer)l);
        gw_buf_printf(b, "gridwatch_layer_features{layer=\"%s\"} %zu\n", gw_layer_name((gw_layer)l),
                      d ? gw_layer_data_count(d) : (size_t)0);
    }
    gw_model_release(ctx, snap);
}
