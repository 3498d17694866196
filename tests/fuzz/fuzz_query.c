/* fuzz_query.c — libFuzzer target for the HTTP query-value parsers: gw_weights_parse and
 * gw_hotspot_value_parse (hotspot.h), gw_parse_bbox, gw_parse_datetime, gw_parse_int64 and
 * gw_parse_double (api/http/http_util.h: bbox, datetime, limit/offset) and the hot spot
 * routes' option parser hs_query_set (api/routes/hotspot_query.h).  The first byte chooses the
 * parser; for hs_query_set the rest is "key=value".  Accepted values must be sane (a bbox finite
 * with min <= max, an interval with lo <= hi). */
#include "fuzz_util.h"

#include "hotspot_query.h"
#include "http_util.h"

#include "gridwatch/hotspot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_why(int rc, const char *why, const char *what)
{
    if (rc != 0 && rc != -1) fz_fail("%s returned %d", what, rc);
    if (rc && !why[0]) fz_fail("%s refused without a reason", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    gw_ctx *ctx = fz_ctx();
    char *text = fz_strndup(data + 1, size - 1);
    char why[256] = "";
    switch (data[0] % 7) {
    case 0: {
        gw_weights_opts wo;
        memset(&wo, 0, sizeof wo);
        fz_check(ctx, gw_weights_parse(ctx, text, &wo), "gw_weights_parse");
        break;
    }
    case 1: {
        gw_hotspot_value v;
        if (fz_check(ctx, gw_hotspot_value_parse(ctx, text, &v), "gw_hotspot_value_parse") ==
                GW_OK &&
            !gw_hotspot_value_name(v))
            fz_fail("value '%s' parsed to a kind without a name", text);
        break;
    }
    case 2: {
        gw_bbox b;
        int rc = gw_parse_bbox(text, &b, why, sizeof why);
        check_why(rc, why, "gw_parse_bbox");
        if (rc == 0 && (!isfinite(b.minx) || !isfinite(b.miny) || !isfinite(b.maxx) ||
                        !isfinite(b.maxy) || b.minx > b.maxx || b.miny > b.maxy))
            fz_fail("bbox '%s' accepted as %g,%g,%g,%g", text, b.minx, b.miny, b.maxx, b.maxy);
        break;
    }
    case 3: {
        gw_time_filter tf;
        int rc = gw_parse_datetime(ctx, text, &tf, why, sizeof why);
        check_why(rc, why, "gw_parse_datetime");
        if (rc == 0 && ((!tf.has_lo && !tf.has_hi) || (tf.has_lo && tf.has_hi && tf.lo > tf.hi)))
            fz_fail("datetime '%s' accepted as an empty or reversed interval", text);
        break;
    }
    case 4: {
        int64_t i;
        double d;
        if (gw_parse_int64(text, &i) == 0 && gw_parse_double(text, &d) != 0)
            fz_fail("'%s' is an integer but not a number", text);
        if (gw_parse_double(text, &d) == 0 && !isfinite(d))
            fz_fail("'%s' parsed to a non-finite number", text);
        break;
    }
    default: {
        char *eq = strchr(text, '=');
        const char *key = text, *val = "";
        if (eq) *eq = '\0', val = eq + 1;
        hs_query q;
        hs_query_init(&q);
        int rc = hs_query_set(ctx, &q, key, val, data[0] % 7 == 5 ? NULL : "+08:00");
        if (rc < -1 || rc > 1) fz_fail("hs_query_set returned %d", rc);
        if (rc == -1 && fz_check(ctx, gw_ctx_errcode(ctx), "hs_query_set") == GW_OK)
            fz_fail("hs_query_set refused '%s=%s' without an error on the ctx", key, val);
        if (rc == 0 && q.n_levels > 32) fz_fail("%zu levels", q.n_levels);
        break;
    }
    }
    free(text);
    return 0;
}
