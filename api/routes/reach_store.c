/* reach_store.c — the grids' road reach shares in the store's meta table (reach_store.h): a
 * magic number, the row count and the shares as doubles (native byte order), through
 * meta_blob.h. */
#include "reach_store.h"
#include "meta_blob.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define KEY_NAME "reach_shares_key"
#define VAL_NAME "reach_shares"
#define MAGIC UINT64_C(0x31534843414552a1) /* format 1; reads back wrong on another byte order */

static void make_key(const gw_road_graph *g, const gw_model_snapshot *snap, int srid, char *buf,
                     size_t cap)
{
    const gw_layer_data *rooms = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
                        *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    snprintf(buf, cap,
             "gridwatch %s; roads %" PRId64 "/%zu/%zu; rooms %" PRId64 "/%zu; grids %" PRId64
             "/%zu; srid %d; bands 3,5,10 default",
             GW_VERSION, gw_road_graph_seq(g), gw_road_graph_nodes(g), gw_road_graph_edges(g),
             rooms ? gw_layer_data_seq(rooms) : -1, rooms ? gw_layer_data_count(rooms) : 0,
             grids ? gw_layer_data_seq(grids) : -1, grids ? gw_layer_data_count(grids) : 0, srid);
}

gw_status rk_store_load(gw_ctx *ctx, gw_store *store, const gw_road_graph *g,
                        const gw_model_snapshot *snap, int srid, gw_reach_grids **out)
{
    *out = NULL;
    char want[640];
    make_key(g, snap, srid, want, sizeof want);
    uint8_t *bin = NULL;
    size_t len = 0;
    gw_status st = mb_load(ctx, store, KEY_NAME, VAL_NAME, want, &bin, &len);
    if (st) return st;
    mb_rd s = {bin, len, 0, 0};
    uint64_t magic = 0, n = 0;
    mb_get(&s, &magic, sizeof magic);
    mb_get(&s, &n, sizeof n);
    const gw_layer_data *rooms = gw_snapshot_layer(snap, GW_LAYER_POLICE_ROOMS),
                        *grids = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    if (s.bad || magic != MAGIC || n != gw_layer_data_count(grids) ||
        len != s.at + n * GW_REACH_GRID_BANDS * sizeof(double)) {
        free(bin);
        return GW_ERR_NOT_FOUND; /* malformed: compute (and keep what is computed) */
    }
    double *share = malloc((n * GW_REACH_GRID_BANDS + 1) * sizeof *share);
    if (!share) {
        free(bin);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory reading the reach shares");
    }
    mb_get(&s, share, n * GW_REACH_GRID_BANDS * sizeof *share);
    free(bin);
    st = gw_reach_grids_from_shares(ctx, (size_t)n, share, gw_road_graph_seq(g),
                                    rooms ? gw_layer_data_seq(rooms) : 0, gw_layer_data_seq(grids),
                                    out);
    free(share);
    return st;
}

gw_status rk_store_save(gw_ctx *ctx, gw_store *store, const gw_road_graph *g,
                        const gw_model_snapshot *snap, int srid, const gw_reach_grids *t)
{
    char key[640];
    make_key(g, snap, srid, key, sizeof key);
    mb_img b = {0};
    uint64_t magic = MAGIC, n = gw_reach_grids_count(t);
    mb_put(&b, &magic, sizeof magic);
    mb_put(&b, &n, sizeof n);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < GW_REACH_GRID_BANDS; k++)
            mb_put(&b, &gw_reach_grids_share(t, k)[i], sizeof(double));
    gw_status st = b.oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory keeping the reach shares")
                         : mb_save(ctx, store, KEY_NAME, VAL_NAME, key, b.p, b.n);
    free(b.p);
    return st;
}
