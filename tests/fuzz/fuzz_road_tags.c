/* fuzz_road_tags.c — libFuzzer target for the OpenStreetMap tag readers of the roads import
 * (geo/road/road_tags.c): gw_road_tag over the input as an other_tags text (keys oneway,
 * maxspeed, junction, and the input's first line as a key), gw_road_parse_maxspeed,
 * gw_road_parse_oneway, gw_road_default_speed / gw_road_speeds_check with the input as the
 * override list.  A found tag value is shorter than the buffer and NUL-terminated; an accepted
 * speed is in (0, 300] km/h or 0 (no limit); a direction is -1, 0 or 1; an override list the
 * check accepts gives speeds in (0, 300]. */
#include "fuzz_util.h"

#include "gridwatch/road.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void speed(const char *text)
{
    double kmh = -1;
    if (gw_road_parse_maxspeed(text, &kmh) == GW_OK && !(kmh == 0 || (kmh > 0 && kmh <= 300)))
        fz_fail("maxspeed '%s' -> %g", text, kmh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    gw_ctx *ctx = fz_ctx();
    char *text = fz_strndup(data, size);
    static const char *const keys[] = {"oneway", "maxspeed", "junction", "highway"};
    char buf[16], ow[16], jn[16];
    for (size_t i = 0; i < 4; i++) {
        memset(buf, 'x', sizeof buf);
        if (gw_road_tag(text, keys[i], buf, sizeof buf)) {
            if (!memchr(buf, 0, sizeof buf)) fz_fail("tag %s not terminated", keys[i]);
            speed(buf);
        }
    }
    int has_ow = gw_road_tag(text, "oneway", ow, sizeof ow);
    int has_jn = gw_road_tag(text, "junction", jn, sizeof jn);
    int d = gw_road_parse_oneway(has_ow ? ow : NULL, has_jn ? jn : NULL);
    if (d < -1 || d > 1) fz_fail("oneway %d", d);
    d = gw_road_parse_oneway(text, text);
    if (d < -1 || d > 1) fz_fail("oneway %d", d);
    char *nl = strchr(text, '\n');
    if (nl) {
        *nl = 0;
        char val[64];
        if (gw_road_tag(nl + 1, text, val, sizeof val) && !memchr(val, 0, sizeof val))
            fz_fail("tag '%s' not terminated", text);
    }
    speed(text);
    if (gw_road_speeds_check(ctx, text) == GW_OK) {
        double v = gw_road_default_speed("primary", text);
        if (!(v > 0 && v <= 300)) fz_fail("override gives %g", v);
    }
    double v = gw_road_default_speed(text, NULL);
    if (!(v > 0 && v <= 300)) fz_fail("class speed %g", v);
    free(text);
    return 0;
}
