/* fuzz_crs.c — libFuzzer target for gw_crs_parse, the CRS names of the crs / bbox-crs query
 * parameters and of import options ("EPSG:4326", OGC URIs, "gcj02" …).  A parsed CRS must
 * format to a name that parses back to the same CRS. */
#include "fuzz_util.h"

#include "gridwatch/crs.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    gw_ctx *ctx = fz_ctx();
    char *text = fz_strndup(data, size);
    gw_crs crs = {GW_CRS_EPSG, 0};
    if (fz_check(ctx, gw_crs_parse(ctx, text, &crs), "gw_crs_parse") == GW_OK) {
        char buf[64];
        gw_crs_format(crs, buf, sizeof buf);
        gw_crs back = {GW_CRS_EPSG, -1};
        if (gw_crs_parse(ctx, buf, &back) != GW_OK || back.kind != crs.kind ||
            (crs.kind == GW_CRS_EPSG && back.epsg != crs.epsg))
            fz_fail("'%s' -> '%s' does not parse back (%s)", text, buf, gw_ctx_errmsg(ctx));
        (void)gw_crs_is_geographic(ctx, crs);
    }
    free(text);
    return 0;
}
