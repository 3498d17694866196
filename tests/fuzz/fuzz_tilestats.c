/* fuzz_tilestats.c — libFuzzer target for the MVT reader behind the MBTiles tilestats
 * (tiles/tilestats.c reads every finished tile back).  Byte 0 is the zoom (mod 25), the rest one
 * uncompressed vector tile, added twice (as the same tile at two zooms).  Checked: a tile the
 * reader refuses is GW_ERR_FORMAT, never a crash or a leak; the JSON is always built and says
 * as many layers as it lists; no attribute lists more than GW_TILESTATS_MAX_VALUES values; a
 * tile read at zooms z and z + 1 gives every listed layer the zoom range z..z + 1
 * (corpus/tilestats/zoom-range-not-updated: a layer named with a NUL byte came back as two
 * layers of the cut name, one per zoom; such names are refused now).
 * Seeds (corpus/tilestats) are tiles of the server's grids, city, incidents and blind_spots
 * layers with their zoom byte. */
#include "fuzz_util.h"

#include "gridwatch/tilestats.h"

#include <jansson.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20) return 0;
    gw_ctx *ctx = fz_ctx();
    gw_tilestats *ts = NULL;
    if (gw_tilestats_create(ctx, &ts) != GW_OK) fz_fail("gw_tilestats_create");
    uint32_t z = data[0] % 25;
    gw_status a = gw_tilestats_add(ts, z, data + 1, size - 1);
    gw_status b = gw_tilestats_add(ts, z + 1, data + 1, size - 1);
    if ((a != GW_OK && a != GW_ERR_FORMAT) || (b != GW_OK && b != GW_ERR_FORMAT))
        fz_fail("gw_tilestats_add: status %d, %d (only OK or FORMAT)", (int)a, (int)b);
    if (a != b) fz_fail("the same bytes gave %d, then %d", (int)a, (int)b);
    json_t *j = gw_tilestats_json(ts);
    if (!j) fz_fail("gw_tilestats_json returned NULL");
    json_t *layers = json_object_get(j, "layers");
    if (!json_is_array(layers) ||
        json_integer_value(json_object_get(j, "layerCount")) != (json_int_t)json_array_size(layers))
        fz_fail("layerCount does not count layers");
    size_t i;
    json_t *l;
    json_array_foreach (layers, i, l) {
        const char *name = json_string_value(json_object_get(l, "layer"));
        if (!name) fz_fail("a layer without a name");
        uint32_t zmin = 0, zmax = 0;
        if (a == GW_OK &&
            (!gw_tilestats_zooms(ts, name, &zmin, &zmax) || zmin != z || zmax != z + 1))
            fz_fail("layer '%s' has zooms %u-%u after adds at %u and %u", name, zmin, zmax, z,
                    z + 1);
        json_t *attrs = json_object_get(l, "attributes"), *at;
        size_t k;
        json_array_foreach (attrs, k, at) {
            json_t *vals = json_object_get(at, "values");
            if (json_array_size(vals) > GW_TILESTATS_MAX_VALUES)
                fz_fail("attribute lists %zu values", json_array_size(vals));
        }
    }
    json_decref(j);
    gw_tilestats_destroy(ts);
    return 0;
}
