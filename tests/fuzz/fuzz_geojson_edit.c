/* fuzz_geojson_edit.c — libFuzzer target for the OGC API write bodies: gw_edit_insert,
 * gw_edit_replace and gw_edit_patch (geo/edit/edit.c: JSON parsing, GEOSGeoJSONReader, the
 * per-layer geometry and field checks, incident grid / police-room resolution) on a small
 * synthetic city made once (gw_city_generate, scale 0.02) in LLVMFuzzerInitialize.
 *
 * Input: byte 0 picks the layer (% 5) and the operation ((/ 5) % 3: insert, replace, patch);
 * byte 1 the coordinate options (EPSG:4326, EPSG:4326 lat/lon, GCJ-02, EPSG:3857); the rest is
 * the request body.  Replace and patch address the layer's first feature.
 *
 * State: each write is a real committed transaction on a database under /dev/shm (about 1 ms);
 * a feature an insert created is deleted again at once, with the insert's options (its delete
 * must succeed: that checks the ids the insert reports, and that a layout owner may remove the
 * grid it added), so the database stays the size of the city.  Replaced and
 * patched features stay changed; a feature whose id a patch changed is then simply not found. */
#include "fuzz_util.h"

#include "gridwatch/city.h"
#include "gridwatch/edit.h"
#include "gridwatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_store *store;
static char first_id[GW_LAYER_COUNT][128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    gw_ctx *ctx = fz_ctx();
    const char *path = fz_path("edit.sqlite");
    gw_city_opts co = {.scale = 0.02, .seed = 1};
    gw_status st = gw_store_open(ctx, path, GW_STORE_CREATE, &store);
    if (!st) st = gw_city_generate(ctx, store, &co, NULL);
    if (st) fz_fail("making the city: %s: %s", gw_status_str(st), gw_ctx_errmsg(ctx));
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        gw_cursor *cur = NULL;
        gw_row row;
        if (gw_store_cursor_create(store, (gw_layer)l, &cur) == GW_OK &&
            gw_cursor_next(cur, &row) == GW_OK && row.values[0].s)
            snprintf(first_id[l], sizeof first_id[l], "%s", row.values[0].s);
        gw_cursor_destroy(cur);
        if (!first_id[l][0]) fz_fail("layer %s is empty", gw_layer_name((gw_layer)l));
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536) return 0;
    gw_ctx *ctx = fz_ctx();
    gw_layer layer = (gw_layer)(data[0] % GW_LAYER_COUNT);
    int op = (data[0] / GW_LAYER_COUNT) % 3;
    gw_edit_opts o = {.crs = {GW_CRS_EPSG, 4326}, .layout = (data[1] >> 2) & 1};
    switch (data[1] % 4) {
    case 1: o.axis_latlon = 1; break;
    case 2: o.crs = (gw_crs){GW_CRS_GCJ02, 0}; break;
    case 3: o.crs = (gw_crs){GW_CRS_EPSG, 3857}; break;
    default: break;
    }
    const char *body = (const char *)data + 2;
    size_t len = size - 2;
    gw_edit_result r = {0};
    gw_status st;
    if (op == 0) st = gw_edit_insert(store, layer, body, len, &o, &r);
    else if (op == 1) st = gw_edit_replace(store, layer, first_id[layer], body, len, &o, &r);
    else st = gw_edit_patch(store, layer, first_id[layer], body, len, &o, &r);
    fz_check(ctx, st, op == 0 ? "gw_edit_insert" : op == 1 ? "gw_edit_replace" : "gw_edit_patch");
    if (gw_store_in_transaction(store)) fz_fail("a write left its transaction open");
    if (st == GW_OK && r.n == 0) fz_fail("a write succeeded without writing a feature");
    if (st == GW_OK && op == 0) {
        for (size_t i = 0; i < r.n; i++) {
            if (!r.ids[i]) fz_fail("insert reported a NULL id");
            gw_edit_result d = {0};
            st = gw_edit_delete(store, layer, r.ids[i], &o, &d);
            /* a FeatureCollection may carry the same id twice only if the insert refused it */
            if (st != GW_OK)
                fz_fail("the inserted %s '%s' cannot be deleted: %s: %s", gw_layer_name(layer),
                        r.ids[i], gw_status_str(st), gw_ctx_errmsg(ctx));
            gw_edit_result_free(&d);
        }
    }
    gw_edit_result_free(&r);
    return 0;
}
