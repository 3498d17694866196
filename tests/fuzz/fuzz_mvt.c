/* fuzz_mvt.c — libFuzzer target for the MVT encoder (tiles/mvt.c), as a round trip: the input's
 * lines are WKT geometries in EPSG:3857 (read by GEOS; lines GEOS refuses are skipped), encoded
 * with gw_mvt_add_feature into layer "fz" of one tile, and the bytes are decoded with the
 * protobuf-c code generated from the vector tile schema (vector_tile.proto), independently of
 * the encoder.  Checked: the layer is there exactly when a feature was added, with as many
 * features as the encoder said it added, version 2, the extent asked for, valid tag indices and
 * a well-formed command stream; an empty second layer is left out.  Invalid geometries are
 * skipped: the encoder takes valid ones (mvt.h), and GEOS 3.11's rectangle clip leaks on some
 * invalid polygons (the leak a CI run found, now corpus/mvt/leak-clipbyrect-inf).
 * Byte 0: bits 0–1 the zoom (the tile at the origin), bit 2 the clip mode, bit 3 no
 * simplification, bit 4 extent 256 instead of 4096. */
#include "fuzz_util.h"

#include "vector_tile.pb-c.h"

#include "gridwatch/mvt.h"
#include "gridwatch/tile.h"

#include <stdlib.h>
#include <string.h>

#define MAX_GEOMS 16

static gw_mvt *encs[8]; /* one encoder per option set, reset for every tile as the server does */
static GEOSWKTReader *wkt;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    wkt = GEOSWKTReader_create_r(gw_ctx_geos(fz_ctx()));
    return 0;
}

/* A feature's geometry commands: MoveTo (1) / LineTo (2) with count > 0 pairs, ClosePath (7)
 * with count 1; points only MoveTo. */
static void check_geometry(const VectorTile__Tile__Feature *f)
{
    size_t i = 0;
    if (f->n_geometry == 0) fz_fail("a feature without geometry");
    while (i < f->n_geometry) {
        uint32_t cmd = f->geometry[i] & 7, count = f->geometry[i] >> 3;
        i++;
        if (cmd == 7) {
            if (count != 1) fz_fail("ClosePath with count %u", count);
            if (f->type != VECTOR_TILE__TILE__GEOM_TYPE__POLYGON)
                fz_fail("ClosePath off a polygon");
            continue;
        }
        if ((cmd != 1 && cmd != 2) || count == 0) fz_fail("command %u count %u", cmd, count);
        if (f->type == VECTOR_TILE__TILE__GEOM_TYPE__POINT && cmd != 1)
            fz_fail("LineTo in a point");
        if (f->n_geometry - i < 2 * (size_t)count)
            fz_fail("command %u runs past the geometry", cmd);
        i += 2 * (size_t)count;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384) return 0;
    gw_ctx *ctx = fz_ctx();
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    uint32_t z = data[0] & 3, half = z ? 1u << (z - 1) : 0;
    gw_tile_id t = {z, half, half};
    gw_mvt_options o = gw_mvt_defaults();
    o.clip = data[0] & 4 ? GW_MVT_CLIP_INTERSECTION : GW_MVT_CLIP_BY_RECT;
    if (data[0] & 8) o.simplify = 0;
    uint32_t extent = data[0] & 16 ? 256 : 4096;
    gw_mvt **slot = &encs[(data[0] >> 2) & 7], *enc = *slot;
    if (!enc && gw_mvt_create(ctx, t, &o, slot) != GW_OK)
        fz_fail("gw_mvt_create: %s", gw_ctx_errmsg(ctx));
    if (enc && gw_mvt_reset(enc, t) != GW_OK) fz_fail("gw_mvt_reset: %s", gw_ctx_errmsg(ctx));
    enc = *slot;
    if (gw_mvt_add_layer(enc, "empty", 0) != GW_OK) fz_fail("add_layer empty");
    if (gw_mvt_add_layer(enc, "fz", extent) != GW_OK) fz_fail("add_layer fz");
    char *text = fz_strndup(data + 1, size - 1);
    size_t added = 0, n = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && n < MAX_GEOMS;
         line = strtok_r(NULL, "\n", &save), n++) {
        GEOSGeometry *g = GEOSWKTReader_read_r(h, wkt, line);
        if (!g) continue;
        if (GEOSisValid_r(h, g) != 1) { /* the encoder's contract (mvt.h): valid geometries */
            GEOSGeom_destroy_r(h, g);
            continue;
        }
        gw_mvt_prop props[3] = {{"n", {GW_MVT_INT, {.i = (int64_t)n - 2}}},
                                {"name", {GW_MVT_STRING, {.s = n % 2 ? "odd" : "even"}}},
                                {"w", {GW_MVT_DOUBLE, {.d = 0.5 * (double)n}}}};
        bool ok = false;
        gw_status st = fz_check(ctx, gw_mvt_add_feature(enc, n, n % 3 != 0, g, props, 3, &ok),
                                "gw_mvt_add_feature");
        GEOSGeom_destroy_r(h, g);
        if (st == GW_OK && ok) added++;
    }
    free(text);
    if (gw_mvt_layer_feature_count(enc) != added)
        fz_fail("layer count %zu, added %zu", gw_mvt_layer_feature_count(enc), added);
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (gw_mvt_finish(enc, &bytes, &len) != GW_OK) fz_fail("gw_mvt_finish: %s", gw_ctx_errmsg(ctx));
    if (!bytes) fz_fail("gw_mvt_finish returned NULL bytes");
    if (added == 0) {
        if (len != 0) fz_fail("no feature added but %zu bytes", len);
        return 0;
    }
    VectorTile__Tile *tile = vector_tile__tile__unpack(NULL, len, bytes);
    if (!tile) fz_fail("protobuf-c cannot decode the %zu bytes the encoder wrote", len);
    if (tile->n_layers != 1) fz_fail("%zu layers, want only 'fz'", tile->n_layers);
    const VectorTile__Tile__Layer *L = tile->layers[0];
    if (strcmp(L->name, "fz") != 0) fz_fail("layer '%s'", L->name);
    if (L->version != 2) fz_fail("layer version %u", L->version);
    if (L->extent != extent) fz_fail("extent %u, want %u", L->extent, extent);
    if (L->n_features != added) fz_fail("%zu features decoded, %zu added", L->n_features, added);
    for (size_t i = 0; i < L->n_features; i++) {
        const VectorTile__Tile__Feature *f = L->features[i];
        if (f->n_tags % 2) fz_fail("odd tag count");
        for (size_t k = 0; k < f->n_tags; k += 2)
            if (f->tags[k] >= L->n_keys || f->tags[k + 1] >= L->n_values)
                fz_fail("tag index out of the layer's tables");
        if (f->type == VECTOR_TILE__TILE__GEOM_TYPE__UNKNOWN) fz_fail("feature of unknown type");
        check_geometry(f);
    }
    vector_tile__tile__free_unpacked(tile, NULL);
    return 0;
}
