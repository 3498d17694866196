/* fuzz_tile.c — libFuzzer target for gw_tile_parse, the z/x/y piece of every tile URL.  The
 * input is passed as exactly its bytes (no NUL), as the router passes a path piece, so a read
 * past the length is an ASan finding.  A parsed tile must pass gw_tile_check, print back to the
 * same text when the input was canonical, and have finite bounds. */
#include "fuzz_util.h"

#include "gridwatch/tile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_ctx *ctx = fz_ctx();
    gw_tile_id t;
    if (fz_check(ctx, gw_tile_parse(ctx, (const char *)data, size, &t), "gw_tile_parse") != GW_OK)
        return 0;
    if (fz_check(ctx, gw_tile_check(ctx, t), "gw_tile_check") != GW_OK)
        fz_fail("gw_tile_parse accepted %u/%u/%u, gw_tile_check refuses it", t.z, t.x, t.y);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%u/%u/%u", t.z, t.x, t.y);
    gw_tile_id back;
    if (gw_tile_parse(ctx, buf, (size_t)n, &back) != GW_OK || back.z != t.z || back.x != t.x ||
        back.y != t.y)
        fz_fail("%s does not parse back", buf);
    gw_bbox b = gw_tile_bounds(t);
    if (!isfinite(b.minx) || !isfinite(b.maxy) || !(b.minx < b.maxx) || !(b.miny < b.maxy))
        fz_fail("tile %s has bounds %g %g %g %g", buf, b.minx, b.miny, b.maxx, b.maxy);
    return 0;
}
