/* cmd_hotspots.c — `gridwatch hotspots DB`: Gi*, Local Moran's I, kernel density, emerging hot
 * spots, hot spot clusters and their evaluation, on the command line (the same options and runs as the HTTP routes,
 * api/routes/hotspot_query.c). */
#include "cli_util.h"
#include "cluster_query.h"
#include "commands.h"
#include "hotspot_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] = N_(
    "usage: gridwatch hotspots DB [options]\n"
    "\n"
    "Getis-Ord Gi* hot spots per grid (as R spdep::localG with self-included binary weights,\n"
    "two-sided p, Benjamini-Hochberg classes), or a kernel density raster.\n"
    "\n"
    "  --method gistar|lisa|kde|emerging|clusters\n"
    "                            statistic (default gistar); lisa: Local Moran's I, CSV\n"
    "                            id,count,value,I,p,quadrant,class (--permutations 999 --seed 0);\n"
    "                            emerging: ArcGIS's emerging hot spot categories per grid, CSV\n"
    "                            id,category,trend_z,trend_p,hot_steps,cold_steps\n"
    "                            clusters: Kulldorff scan of a fine lattice against a smoothed\n"
    "                            background (docs/hotspots.md): a ranked table, or GeoJSON with\n"
    "                            --format geojson (as GET /analysis/hotspots/clusters)\n"
    "  --cell M --max-radius M --bandwidth M --min-rr R --alpha A --replications N --seed S\n"
    "  --steps N --recent-days D\n"
    "                            clusters: lattice cell, largest radius, background sigma (metres;\n"
    "                            default from the data), least relative risk (1.5), p threshold\n"
    "                            (0.05), Monte-Carlo replicas (99), seed (1), trend slices (12),\n"
    "                            space-time permutation window (30 days; 0 = off)\n"
    "  --step week|day           emerging: time step of the space-time cube (default week)\n"
    "  --time-neighbours K       emerging: previous steps in each bin's neighbourhood (default 1)\n"
    "  --weights W               queen | rook (',snap:M' tolerance, default 0.01 m) | distance:M | knn:K\n"
    "  --value V                 per_km2 (default) | count | per_10k (per 10,000 residents)\n"
    "  --from T --to T           time window (ISO 8601, inclusive); --tz ZONE for times without offset\n"
    "  --category C[,C…]         incident categories\n"
    "  --severity-min N --severity-max N\n"
    "  --no-fdr                  classes from raw p-values instead of BH-adjusted ones\n"
    "  --format csv|json         gistar output (default csv: id,count,value,z,p,class)\n"
    "  --out FILE, -o FILE       write there instead of stdout (kde: a GeoTIFF, required)\n"
    "  --neighbours FILE         also write the weights as CSV pairs id,neighbour (for R cross-checks)\n"
    "  --cell M --bandwidth M    kde cell size (default 100 m) and radius (default: ArcGIS rule)\n"
    "  --evaluate --train FROM/TO --test FROM/TO [--top 0.05]\n"
    "                            Prediction Accuracy Index of Gi* hot grids (each value, 99/95/90 %)\n"
    "                            and of the top share of KDE cells, trained on one period, scored on\n"
    "                            the next (table; --format json for JSON)\n");

static gw_status write_neighbours(gw_ctx *ctx, const char *path, const gw_layer_data *g,
                                  const gw_weights *w)
{
    FILE *f = fopen(path, "w");
    if (!f) return gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", path);
    fputs("id,neighbour\n", f);
    for (size_t i = 0; i < gw_weights_count(w); i++) {
        size_t k;
        const uint32_t *nb = gw_weights_neighbours(w, i, &k);
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%s,%s\n", gw_layer_data_id(g, i), gw_layer_data_id(g, nb[j]));
    }
    return fclose(f) ? gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", path) : GW_OK;
}

int gw_cmd_hotspots(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *nbout = NULL, *tz = NULL, *method = "gistar";
    hs_query q;
    hs_query_init(&q);
    q.csv = 1;
    int evaluate = 0, json_fmt = 0;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK)
        return fputs(_("gridwatch hotspots: out of memory\n"), stderr), GW_EXIT_RUNTIME;
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, NULL);
    for (int i = 1; i < argc; i++) { /* --tz and --method first: they apply wherever they are */
        if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc) tz = argv[i + 1];
        if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) method = argv[i + 1];
    }
    int clusters = strcmp(method, "clusters") == 0;
    gw_cluster_opts co = {0};
    int rc = GW_EXIT_OK;
    for (int i = 1; i < argc && rc == GW_EXIT_OK; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(_(usage), stdout);
            gw_ctx_destroy(ctx);
            return GW_EXIT_OK;
        }
        if (strcmp(a, "--no-fdr") == 0) q.ho.no_fdr = 1;
        else if (strcmp(a, "--evaluate") == 0) evaluate = 1;
        else if (strcmp(a, "--format") == 0 && v &&
                 (strcmp(v, "json") == 0 || (clusters && strcmp(v, "geojson") == 0)))
            json_fmt = 1, q.csv = 0, i++;
        else if (strcmp(a, "--method") == 0 && v) method = v, i++;
        else if ((strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) && v) out = v, i++;
        else if (strcmp(a, "--neighbours") == 0 && v) nbout = v, i++;
        else if (strcmp(a, "--tz") == 0 && v) i++;
        else if (strncmp(a, "--", 2) == 0 && v) {
            int r = clusters ? cq_set(ctx, &co, &q, a + 2, v, tz) : 1;
            if (r > 0 && !clusters) r = hs_query_set(ctx, &q, a + 2, v, tz);
            if (r < 0) rc = gw_cli_usage_error("hotspots", "%s: %s", a, gw_ctx_errmsg(ctx));
            else if (r > 0)
                rc = gw_cli_usage_error("hotspots", "unknown option '%s' (see --help)", a);
            i++;
        } else if (a[0] == '-')
            rc = gw_cli_usage_error("hotspots", "unknown or incomplete option '%s' (see --help)",
                                    a);
        else if (!db) db = a;
        else rc = gw_cli_usage_error("hotspots", "unexpected argument '%s' (see --help)", a);
    }
    int kde = strcmp(method, "kde") == 0;
    q.lisa = strcmp(method, "lisa") == 0;
    q.emerging = strcmp(method, "emerging") == 0;
    if (!rc && !db) rc = gw_cli_usage_error("hotspots", "expected DB (see --help)");
    if (!rc && !kde && !q.lisa && !q.emerging && !clusters && strcmp(method, "gistar") != 0)
        rc = gw_cli_usage_error(
            "hotspots",
            "--method '%s' is not available; use gistar, lisa, kde, emerging or clusters", method);
    if (!rc && clusters && evaluate)
        rc = gw_cli_usage_error("hotspots", "--evaluate scores Gi* and KDE, not --method clusters");
    if (!rc && evaluate && (!q.has_train || !q.has_test))
        rc = gw_cli_usage_error("hotspots", "--evaluate needs --train FROM/TO and --test FROM/TO");
    if (!rc && kde && !out)
        rc = gw_cli_usage_error("hotspots", "--method kde needs --out FILE.tif");
    if (rc) {
        gw_ctx_destroy(ctx);
        return rc;
    }
    gw_store *store = NULL;
    gw_model *m = NULL;
    gw_model_snapshot *snap = NULL;
    gw_weights *w = NULL;
    gw_hotspot_result *r = NULL;
    gw_emerging_result *er = NULL;
    gw_raster *ras = NULL;
    gw_cluster_result *cr = NULL;
    gw_buf b = {0};
    unsigned char *tif = NULL;
    size_t len = 0;
    double t0 = gw_mono_s(), tw = 0;
    gw_status st = gw_store_open(ctx, db, GW_STORE_READONLY, &store);
    if (!st) st = gw_model_open(ctx, store, &m);
    if (!st) {
        snap = gw_model_acquire(m);
        double t1 = gw_mono_s();
        if (evaluate) {
            gw_pai_row rows[GW_PAI_ROWS];
            const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
            st = gw_weights_from_grids(ctx, g, &q.wo, &w);
            if (!st) st = hs_run_evaluate(ctx, snap, w, NULL, &q, NULL, rows);
            if (!st) hs_write_pai(&b, rows, &q, json_fmt);
            kde = 0;
        } else if (clusters) {
            co.metric_srid = gw_model_metric_srid(m);
            st = gw_clusters_find(ctx, snap, NULL, &co, &cr);
            if (!st && json_fmt)
                cq_write_geojson(ctx, &b, cr, gw_snapshot_layer(snap, GW_LAYER_GRIDS), 48, NULL,
                                 NULL);
            else if (!st) cq_write_table(&b, cr);
            if (!st && b.oom) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        } else if (kde) {
            if (q.has_ll_bbox)
                st = hs_bbox_to_metric(ctx, gw_model_metric_srid(m), &q.ll_bbox, &q.ko.bbox);
            q.ko.has_bbox = q.has_ll_bbox;
            if (!st) st = gw_kde_incidents(ctx, snap, &q.ho.filter, &q.ko, &ras);
            if (!st) st = gw_raster_to_geotiff(ctx, ras, gw_model_metric_srid(m), &tif, &len);
        } else {
            const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
            st = gw_weights_from_grids(ctx, g, &q.wo, &w);
            tw = gw_mono_s() - t1;
            if (!st && nbout) st = write_neighbours(ctx, nbout, g, w);
            if (!st && q.emerging) {
                st = hs_run_emerging(ctx, &b, snap, g, w, NULL, &q, NULL, &er);
            } else if (!st) {
                st = gw_hotspot_gistar(ctx, snap, w, NULL, &q.ho, &r);
                if (!st && q.lisa) st = hs_run_lisa(ctx, &b, g, r, &q, w, NULL);
                else if (!st) hs_write_result(&b, g, r, &q, w, tw, gw_snapshot_seq(snap), NULL);
            }
            if (!st && b.oom) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    if (!st) {
        FILE *f = out ? fopen(out, "wb") : stdout;
        const void *data = kde ? (const void *)tif : (const void *)b.data;
        size_t n = kde ? len : b.len;
        if (!f || fwrite(data, 1, n, f) != n || (out && fclose(f)))
            st = gw_ctx_error(ctx, GW_ERR_IO, "cannot write '%s'", out ? out : "stdout");
    }
    if (st) {
        rc = gw_cli_fail("hotspots", ctx, st);
    } else if (evaluate) {
        fprintf(stderr, "evaluate: %.2f s\n", gw_mono_s() - t0);
    } else if (cr) {
        fprintf(stderr, "clusters: %zu of %.0f incidents, scan %.3f s (total %.2f s)\n", cr->n,
                cr->incidents, cr->seconds, gw_mono_s() - t0);
    } else if (er) {
        fprintf(
            stderr,
            "emerging: %zu grids x %zu steps of %lld s from %lld, %zu incidents (%zu left out), weights %.3f s, "
            "statistics %.3f s (total %.2f s)\n",
            er->n, er->steps, (long long)er->step, (long long)er->start, er->incidents,
            er->left_out, tw, er->seconds, gw_mono_s() - t0);
        for (int c = 0; c < GW_EHS_CATEGORY_COUNT; c++)
            if (er->n_category[c])
                fprintf(stderr, "  %-24s %zu\n", gw_ehs_category_name((gw_ehs_category)c),
                        er->n_category[c]);
    } else if (kde) {
        fprintf(
            stderr,
            "kde: %zu incidents, bandwidth %.1f m, %zu x %zu cells of %g m, %.3f s (total %.2f s)\n",
            ras->n_points, ras->bandwidth, ras->nx, ras->ny, ras->cell, ras->seconds,
            gw_mono_s() - t0);
    } else {
        fprintf(
            stderr,
            "gistar: %zu grids, %zu links, %zu hot, %zu cold, %zu without neighbours, %zu without value; "
            "weights %.3f s, statistic %.3f s (total %.2f s)\n",
            r->n, gw_weights_links(w), r->n_hot, r->n_cold, r->n_no_neighbours, r->n_no_value, tw,
            r->seconds, gw_mono_s() - t0);
    }
    free(tif);
    gw_buf_free(&b);
    gw_raster_destroy(ras);
    gw_cluster_result_destroy(cr);
    gw_hotspot_result_destroy(r);
    gw_emerging_result_destroy(er);
    gw_weights_destroy(w);
    gw_model_release(ctx, snap);
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}
