/* scope_leak_reach.c — the scope leak test's response-time areas (scope_leak.h): isochrones
 * asked from a room, a team or a point, and the isochrones tile layer, for a token of each level
 * against the root's answer. */
#include "testutil.h"

#include "gridwatch/tile.h"
#include "scope_leak.h"

#include <gdal.h>
#include <ogr_api.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A feature of layer l inside path and one outside it (NULL when none). */
static void in_and_out(gw_layer l, const char *path, const feat **in, const feat **out)
{
    *in = *out = NULL;
    for (size_t i = 0; i < sl_n_feats[l] && !(*in && *out); i++) {
        const feat *f = &sl_feats[l][i];
        if (f->path[0] == '\x01') continue;
        if (sl_in_path(path, f->path)) *in = *in ? *in : f;
        else *out = *out ? *out : f;
    }
}

/* url answers token lv 200 with the root's body, byte for byte. */
static void same_as_root(const char *url, int lv)
{
    hf_resp r = sl_get(url, 0), s = sl_get(url, lv);
    assert_int_equal(r.status, 200);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.body.len, r.body.len);
    assert_memory_equal(s.body.data, r.body.data, r.body.len);
    hf_resp_free(&r), hf_resp_free(&s);
}

/* /analysis/isochrones: from its own rooms, teams and points the root's answer byte for byte,
 * from another's room or team 404, from a point outside 403. */
void sl_check_isochrones(void)
{
    static const struct {
        gw_layer l;
        const char *param;
    } src[] = {{GW_LAYER_POLICE_ROOMS, "room"}, {GW_LAYER_TEAMS, "team"}};
    for (int lv = 0; lv < sl_n_levels; lv++) {
        long same = 0, outs = 0;
        for (size_t k = 0; k < sizeof src / sizeof src[0]; k++) {
            const feat *in, *out;
            in_and_out(src[k].l, sl_lv_path[lv], &in, &out);
            if (!in) continue; /* a village may hold no team */
            char url[256];
            snprintf(url, sizeof url, "/analysis/isochrones?%s=%s&minutes=3,5", src[k].param,
                     in->id);
            same_as_root(url, lv);
            same++;
            if (lv && out) { /* not there for this token */
                snprintf(url, sizeof url, "/analysis/isochrones?%s=%s&minutes=3", src[k].param,
                         out->id);
                hf_resp s = sl_get(url, lv);
                assert_int_equal(s.status, 404);
                hf_resp_free(&s);
                outs++;
            }
        }
        const feat *in, *out; /* a point: a camera's place */
        in_and_out(GW_LAYER_CAMERAS, sl_lv_path[lv], &in, &out);
        assert_non_null(in);
        char url[256];
        snprintf(url, sizeof url, "/analysis/isochrones?lon=%.7f&lat=%.7f&minutes=3", in->lon,
                 in->lat);
        same_as_root(url, lv);
        same++;
        if (lv && out) {
            snprintf(url, sizeof url, "/analysis/isochrones?lon=%.7f&lat=%.7f&minutes=3", out->lon,
                     out->lat);
            hf_resp s = sl_get(url, lv);
            assert_int_equal(s.status, 403);
            hf_resp_free(&s);
            outs++;
        }
        sl_cell("isochrones", lv, outs ? "same %ld, out 404/403" : "same %ld", same);
    }
}

/* The "grid" values of the tile's isochrones layer. */
static idset tile_grids(const hf_resp *r, gw_tile_id t)
{
    idset s = {0};
    assert_int_equal(r->status, 200);
    if (!r->body.len) return s; /* no feature */
    GDALDatasetH ds = hf_mvt_open(r, t.z, t.x, t.y, "scope-iso.pbf");
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "isochrones");
    OGRFeatureH ft;
    for (OGR_L_ResetReading(l); l && (ft = OGR_L_GetNextFeature(l)) != NULL; OGR_F_Destroy(ft)) {
        int i = OGR_F_GetFieldIndex(ft, "grid");
        assert_true(i >= 0);
        if (!sl_set_has(&s, OGR_F_GetFieldAsString(ft, i))) {
            sl_set_add(&s, OGR_F_GetFieldAsString(ft, i));
            sl_set_sort(&s);
        }
    }
    GDALClose(ds);
    return s;
}

/* One isochrones tile: the root's grids filtered by each scope; the root's count. */
static long tile_check(gw_tile_id t, const char *what)
{
    char url[128], cc[64];
    snprintf(url, sizeof url, "/tiles/isochrones/%u/%u/%u.mvt", t.z, t.x, t.y);
    hf_resp r = {0};
    for (int tries = 0; tries < 600; tries++) { /* the shares are computed in the background */
        r = sl_get(url, 0);
        assert_int_equal(r.status, 200);
        if (!hf_header(&r, "Cache-Control", cc, sizeof cc) || strcmp(cc, "no-store") != 0) break;
        hf_resp_free(&r);
        usleep(200000);
    }
    idset root = tile_grids(&r, t);
    hf_resp_free(&r);
    for (int lv = 0; lv < sl_n_levels; lv++) {
        hf_resp s = sl_get(url, lv);
        idset got = tile_grids(&s, t), want = sl_set_filter(&root, GW_LAYER_GRIDS, sl_lv_path[lv]);
        if (lv) assert_string_equal(hf_header(&s, "Cache-Control", cc, sizeof cc), "private");
        hf_resp_free(&s);
        assert_true(sl_set_equal(&got, &want, url));
        sl_cell(what, lv, "same %ld", (long)got.n);
        sl_set_free(&got), sl_set_free(&want);
    }
    long n = (long)root.n;
    sl_set_free(&root);
    return n;
}

/* /tiles/isochrones: a z12 tile at a police room (the pieces lie around rooms; in the test's
 * sparse city the smallest scopes may hold none) and a z10 tile over the smallest scope. */
void sl_check_isochrones_tile(void)
{
    assert_true(sl_n_feats[GW_LAYER_POLICE_ROOMS] > 0);
    const feat *room = &sl_feats[GW_LAYER_POLICE_ROOMS][0];
    gw_tile_id t;
    assert_int_equal(gw_tile_from_lonlat(sl_tctx, room->lon, room->lat, 12, &t), GW_OK);
    long n = tile_check(t, "isochrones_tile z12 at a room");
    assert_true(n > 0); /* something to filter */
    double lon, lat;
    sl_path_centre(sl_lv_path[sl_n_levels - 1], &lon, &lat);
    assert_int_equal(gw_tile_from_lonlat(sl_tctx, lon, lat, 10, &t), GW_OK);
    tile_check(t, "isochrones_tile z10 smallest");
}
