/* fuzz_wkb.c — libFuzzer target for the geometry blob readers: arbitrary bytes as WKB into
 *   - gw_geojson_write (api/http/http_util.c), the ISO WKB → GeoJSON writer of every read route:
 *     what it accepts must come out as JSON that jansson can read back;
 *   - mdl_add_row (geo/model/model_layer.c), the model's row loader: GEOSWKBReader for a grid,
 *     its own point reader for an incident;
 *   - the store's bulk inserter (geo/store/sqlite_insert.c: its WKB header and point readers on
 *     every input, SpatiaLite's GeomFromWKB for grids on WKB GEOS reads) inside transactions
 *     that are rolled back; a row it
 *     accepts is read back through the store's cursor (SpatiaLite blob → ISO WKB), and when GEOS
 *     could read the input, that WKB must be readable by GEOS and by gw_geojson_write.
 * Byte 0: bit 0 the axis swap, bits 1–3 the decimals, bit 4 grids (else incidents) for the
 * model and the store.  The rest is the WKB. */
#include "fuzz_util.h"

#include "http_util.h"
#include "model_internal.h"

#include "gridwatch/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_store *store;
static GEOSWKBReader *rd;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    gw_ctx *ctx = fz_ctx();
    gw_status st = gw_store_open(ctx, fz_path("wkb.sqlite"), GW_STORE_CREATE, &store);
    if (st) fz_fail("gw_store_open: %s", gw_ctx_errmsg(ctx));
    rd = GEOSWKBReader_create_r(gw_ctx_geos(ctx));
    return 0;
}

/* gw_geojson_write on wkb: -1, or JSON jansson reads.  Returns the writer's result. */
static int to_geojson(const unsigned char *wkb, size_t len, int swap, int prec)
{
    gw_geojson_writer w = {NULL, swap, prec, NULL, NULL, 0};
    gw_buf b = {0};
    gw_buf_str(&b, "{\"g\":");
    size_t before = b.len;
    int rc = gw_geojson_write(&w, wkb, len, &b);
    if (rc != 0 && rc != -1) fz_fail("gw_geojson_write returned %d", rc);
    if (rc == -1 && b.len != before) fz_fail("gw_geojson_write failed but appended output");
    if (rc == 0 && !b.oom) {
        gw_buf_str(&b, "}");
        json_error_t err;
        /* a 300-digit integer is JSON; jansson reads it only as a real */
        json_t *j = json_loadb(b.data, b.len, JSON_DECODE_INT_AS_REAL, &err);
        if (!j) fz_fail("gw_geojson_write wrote invalid JSON (%s): %.300s", err.text, b.data);
        json_decref(j);
    }
    gw_buf_free(&b);
    gw_geojson_writer_free(&w);
    return rc;
}

static void values_for(gw_layer layer, gw_value *v)
{
    memset(v, 0, 16 * sizeof *v);
    v[0] = (gw_value){GW_VAL_TEXT, "fz-1", 0, 0};
    if (layer == GW_LAYER_GRIDS) {
        v[4] = (gw_value){GW_VAL_INT, NULL, 100, 0};
        v[5] = (gw_value){GW_VAL_INT, NULL, 40, 0};
    } else {
        v[1] = (gw_value){GW_VAL_INT, NULL, 1735689600, 0};
        v[2] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
        v[3] = (gw_value){GW_VAL_INT, NULL, 3, 0};
        v[4] = (gw_value){GW_VAL_TEXT, "open", 0, 0};
    }
}

static void model_row(gw_ctx *ctx, gw_layer layer, const unsigned char *wkb, size_t len)
{
    gw_layer_data *d = NULL;
    if (mdl_layer_new(ctx, layer, 1, &d) != GW_OK) fz_fail("mdl_layer_new");
    gw_value v[16];
    values_for(layer, v);
    gw_row row = {1, v, wkb, len};
    fz_check(ctx, mdl_add_row(ctx, d, rd, &row), "mdl_add_row");
    mdl_layer_free(ctx, d);
}

/* The store part batches: one transaction and one inserter per layer serve BATCH inputs (each
 * row under its own id), then everything is rolled back.  An inserter per input made the
 * target crawl at 15 exec/s (the inserter turns the layer's triggers off and on each time). */
#define BATCH 64
static gw_inserter *inserters[GW_LAYER_COUNT];
static int in_batch;
static unsigned char readable_in[BATCH]; /* per row of the batch: GEOS read its input */

static void batch_end(void)
{
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        gw_inserter_destroy(inserters[l]);
        inserters[l] = NULL;
    }
    gw_store_rollback(store);
    in_batch = 0;
}

/* Read back the layer's rows of this batch: those from WKB GEOS read must be WKB GEOS and
 * gw_geojson_write read. */
static void read_back(gw_ctx *ctx, gw_layer layer)
{
    gw_cursor *cur = NULL;
    gw_row row;
    gw_status st;
    if (gw_store_cursor_create(store, layer, &cur) != GW_OK)
        fz_fail("cursor: %s", gw_ctx_errmsg(ctx));
    while ((st = gw_cursor_next(cur, &row)) == GW_OK) {
        int k = row.values[0].s ? atoi(row.values[0].s + 3) : -1;
        if (!row.wkb || k < 0 || k >= BATCH || !readable_in[k]) continue;
        GEOSGeometry *g = GEOSWKBReader_read_r(gw_ctx_geos(ctx), rd, row.wkb, row.wkb_len);
        if (!g) {
            char hex[129] = "";
            for (size_t i = 0; i < row.wkb_len && i < 64; i++)
                snprintf(hex + 2 * i, 3, "%02x", row.wkb[i]);
            fz_fail("GEOS cannot read the %zu-byte WKB the store returned (%s): %s…", row.wkb_len,
                    gw_ctx_geos_errmsg(ctx), hex);
        }
        GEOSGeom_destroy_r(gw_ctx_geos(ctx), g);
        if (to_geojson(row.wkb, row.wkb_len, 0, 7) != 0)
            fz_fail("gw_geojson_write refuses the WKB the store returned");
    }
    if (st != GW_ERR_NOT_FOUND) fz_check(ctx, st, "gw_cursor_next");
    gw_cursor_destroy(cur);
}

static void store_row(gw_ctx *ctx, gw_layer layer, const unsigned char *wkb, size_t len)
{
    /* The inserter's callers (imports, the city, plan publishing) hand it WKB that GEOS wrote or
     * read; SpatiaLite stores some WKB GEOS refuses (an unclosed ring) as it is, and its
     * GeomFromWKB allocates what a ring count says before checking the length (6.7 GB for a
     * forged count).  So grids get only WKB GEOS reads; incidents, read by the store's own
     * point reader, get every input. */
    GEOSGeometry *in = GEOSWKBReader_read_r(gw_ctx_geos(ctx), rd, wkb, len);
    int readable = in != NULL;
    if (in) GEOSGeom_destroy_r(gw_ctx_geos(ctx), in);
    if (layer == GW_LAYER_GRIDS && !readable) return;
    if (in_batch == 0 && gw_store_begin(store) != GW_OK) fz_fail("begin: %s", gw_ctx_errmsg(ctx));
    if (!inserters[layer] && gw_store_inserter_create(store, layer, &inserters[layer]) != GW_OK)
        fz_fail("inserter: %s", gw_ctx_errmsg(ctx));
    gw_value v[16];
    values_for(layer, v);
    char id[16];
    snprintf(id, sizeof id, "fz-%d", in_batch);
    v[0].s = id;
    gw_feature f = {v, wkb, len, 0, 0};
    gw_status st = fz_check(ctx, gw_inserter_add(inserters[layer], &f), "gw_inserter_add");
    readable_in[in_batch] = readable; /* GEOS-readable in, GEOS-readable out */
    if (st == GW_OK && readable_in[in_batch]) read_back(ctx, layer);
    if (++in_batch == BATCH) batch_end();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    gw_ctx *ctx = fz_ctx();
    int swap = data[0] & 1, prec = (data[0] >> 1) & 7;
    gw_layer layer = data[0] & 16 ? GW_LAYER_GRIDS : GW_LAYER_INCIDENTS;
    const unsigned char *wkb = data + 1;
    size_t len = size - 1;
    to_geojson(len ? wkb : NULL, len, swap, prec * 2);
    model_row(ctx, layer, wkb, len);
    store_row(ctx, layer, wkb, len);
    return 0;
}
