#include "gridwatch/clusters.h"
#include "gridwatch/store.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    gw_ctx *ctx;
    gw_store *store;
    gw_model *m;
    gw_ctx_create(&ctx);
    if (gw_store_open(ctx, argv[1], 0, &store) || gw_model_open(ctx, store, &m)) {
        fprintf(stderr, "%s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    gw_model_snapshot *s = gw_model_acquire(m);
    gw_cluster_opts o = {.metric_srid = gw_model_metric_srid(m)};
    if (argc > 2) o.cell = atof(argv[2]);
    if (argc > 3) o.max_radius = atof(argv[3]);
    if (argc > 4) o.bandwidth = atof(argv[4]);
    if (argc > 5) o.replications = atoi(argv[5]);
    gw_cluster_result *r;
    if (gw_clusters_find(ctx, s, NULL, &o, &r)) {
        fprintf(stderr, "%s\n", gw_ctx_errmsg(ctx));
        return 1;
    }
    printf("n=%zu cell=%g radius=%g bw=%g inc=%g secs=%.2f (%s)\n", r->n, r->cell, r->max_radius,
           r->bandwidth, r->incidents, r->seconds, r->scale_reason);
    for (size_t i = 0; i < r->n && i < 60; i++) {
        gw_cluster *c = &r->c[i];
        printf(
            "%2d %.0f %.0f (%.5f %.5f) r=%.0f c=%.0f e=%.1f rr=%.2f llr=%.1f p=%.3f %s mk=%.2f recent=%d grids=%zu\n",
            c->rank, c->x, c->y, c->lon, c->lat, c->radius, c->incidents, c->expected, c->rr,
            c->llr, c->p, gw_cluster_trend_name(c->trend), c->trend_z, c->recent, c->n_grids);
    }
    gw_cluster_result_destroy(r);
    gw_model_release(ctx, s);
    gw_model_close(m);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
}
