/* fuzz_time.c — libFuzzer target for gw_time_parse (ISO 8601 / RFC 3339 times in every query,
 * import and write body) and gw_time_check.  The input is the time text, read with no default
 * zone, "UTC" and "+08:00"; when it holds a newline, the text after it is tried as the default
 * zone too (an IANA name or an offset).  A parsed time inside the stored window must format and
 * parse back to the same second. */
#include "fuzz_util.h"

#include "gridwatch/layer.h"

#include <stdlib.h>
#include <string.h>

static void one(gw_ctx *ctx, const char *text, const char *tz)
{
    int64_t t = 0;
    gw_status st = fz_check(ctx, gw_time_parse(ctx, text, tz, &t), "gw_time_parse");
    if (st != GW_OK) return;
    if (fz_check(ctx, gw_time_check(ctx, "t", t), "gw_time_check") != GW_OK) return;
    char buf[64], buf2[64];
    gw_time_format(t, buf, sizeof buf);
    int64_t back = 0;
    if (gw_time_parse(ctx, buf, NULL, &back) != GW_OK || back != t)
        fz_fail("'%s' (tz %s) -> %lld -> '%s' -> %lld", text, tz ? tz : "NULL", (long long)t, buf,
                (long long)back);
    gw_time_format(back, buf2, sizeof buf2);
    if (strcmp(buf, buf2) != 0) fz_fail("format not stable: '%s' vs '%s'", buf, buf2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    gw_ctx *ctx = fz_ctx();
    char *text = fz_strndup(data, size);
    char *nl = strchr(text, '\n');
    if (nl) *nl = '\0';
    one(ctx, text, NULL);
    one(ctx, text, "UTC");
    one(ctx, text, "+08:00");
    if (nl) one(ctx, text, nl + 1);
    free(text);
    return 0;
}
