/* cmd_tiles.c — `gridwatch tiles`: render a pyramid of vector tiles offline into an MBTiles
 * file (SQLite: metadata + tiles, TMS rows, gzip'd MVT), for map walls or CDNs that serve
 * static tiles.  Same rendering as the HTTP tiles (tiles/layers.c); only tiles inside the data
 * extent are visited and empty tiles are not written. */
#include "cli_util.h"
#include "commands.h"
#include "gridwatch/mbtiles.h"
#include "gridwatch/model.h"
#include "gridwatch/tilecache.h"
#include "gridwatch/tilelayers.h"
#include "http_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char tiles_usage[] =
    "usage: gridwatch tiles DB OUT.mbtiles [--layers grids,incidents] [--zoom 8-16] [--bbox W,S,E,N]\n"
    "\n"
    "Render vector tiles of DB into a new MBTiles file: one tile per z/x/y holding the chosen\n"
    "layers (grids, police_rooms, cameras, teams, incidents, camera_views, or city = all), gzip'd,\n"
    "for every zoom of the range, over the data extent (clipped to --bbox, lon/lat).\n"
    "Defaults: --layers city --zoom 8-14.\n";

static int parse_layers(const char *s, uint32_t *parts, char *names, size_t cap)
{
    *parts = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    names[0] = '\0';
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        gw_tile_layer l;
        if (gw_tile_layer_from_name(NULL, tok, &l) != GW_OK) return -1;
        *parts |= gw_tile_layer_parts(l);
    }
    for (int p = 0; p < GW_TL_CITY; p++)
        if (*parts & (1u << p))
            snprintf(names + strlen(names), cap - strlen(names), "%s%s", *names ? "," : "",
                     gw_tile_layer_name((gw_tile_layer)p));
    return *parts ? 0 : -1;
}

/* What to render: the parsed command line. */
typedef struct pyramid {
    const char *db, *out;
    uint32_t parts;
    char names[256];
    unsigned z0, z1;
    gw_bbox clip, extent;
} pyramid;

static int parse_args(int argc, char **argv, pyramid *p)
{
    const char *layers = "city", *zoom = "8-14", *bbox_s = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return fputs(tiles_usage, stdout), -1;
        if (strcmp(a, "--layers") == 0 && v) layers = v, i++;
        else if (strcmp(a, "--zoom") == 0 && v) zoom = v, i++;
        else if (strcmp(a, "--bbox") == 0 && v) bbox_s = v, i++;
        else if (a[0] == '-')
            return gw_cli_usage_error("tiles", "unknown or incomplete option '%s' (see --help)", a);
        else if (!p->db) p->db = a;
        else if (!p->out) p->out = a;
        else return gw_cli_usage_error("tiles", "unexpected argument '%s' (see --help)", a);
    }
    if (!p->db || !p->out)
        return gw_cli_usage_error("tiles", "expected DB and OUT.mbtiles (see --help)");
    if (parse_layers(layers, &p->parts, p->names, sizeof p->names))
        return gw_cli_usage_error(
            "tiles",
            "--layers '%s': use grids, police_rooms, cameras, teams, incidents, camera_views or city",
            layers);
    char junk;
    int nz = sscanf(zoom, "%u-%u%c", &p->z0, &p->z1, &junk);
    if (nz == 1 || (nz != 2 && sscanf(zoom, "%u%c", &p->z0, &junk) == 1)) p->z1 = p->z0, nz = 2;
    if (nz != 2 || p->z0 > p->z1 || p->z1 > GW_TILE_MAX_ZOOM)
        return gw_cli_usage_error("tiles", "--zoom '%s' must be Z or Z0-Z1 within 0-22", zoom);
    p->clip = (gw_bbox){-180, -90, 180, 90};
    char why[256];
    if (bbox_s && gw_parse_bbox(bbox_s, &p->clip, why, sizeof why))
        return gw_cli_usage_error("tiles", "--bbox: %s", why);
    if (access(p->out, F_OK) == 0) {
        fprintf(stderr, "gridwatch tiles: '%s' exists; remove it or choose another name\n", p->out);
        return GW_EXIT_CONFLICT;
    }
    return GW_EXIT_OK;
}

/* Render every tile of the pyramid over p->extent into mb; *written and *bytes count them. */
static gw_status render_all(gw_ctx *ctx, const pyramid *p, gw_tile_source *src, gw_mvt *mvt,
                            gw_model_snapshot *snap, gw_mbtiles *mb, long long *written,
                            long long *bytes)
{
    gw_tile_id lo[GW_TILE_MAX_ZOOM + 1], hi[GW_TILE_MAX_ZOOM + 1];
    double total = 0, done_n = 0;
    for (unsigned z = p->z0; z <= p->z1; z++) {
        gw_tile_from_lonlat(ctx, p->extent.minx, p->extent.maxy, z, &lo[z]);
        gw_tile_from_lonlat(ctx, p->extent.maxx, p->extent.miny, z, &hi[z]);
        total += (double)(hi[z].x - lo[z].x + 1) * (hi[z].y - lo[z].y + 1);
    }
    gw_status s = GW_OK;
    for (unsigned z = p->z0; z <= p->z1 && !s; z++)
        for (uint32_t x = lo[z].x; x <= hi[z].x && !s; x++)
            for (uint32_t y = lo[z].y; y <= hi[z].y && !s; y++) {
                const uint8_t *raw;
                size_t len;
                gw_tile_blob *b = NULL;
                s = gw_tile_render(ctx, src, mvt, snap, p->parts, (gw_tile_id){z, x, y}, NULL, &raw,
                                   &len);
                if (!s && len) s = gw_tile_blob_create(ctx, raw, len, 0, &b);
                if (!s && b) {
                    s = gw_mbtiles_put(mb, z, x, y, b->gz, b->gz_len);
                    (*written)++, *bytes += (long long)b->gz_len;
                }
                gw_tile_blob_release(b);
                if (((long long)++done_n & 63) == 0) gw_ctx_progress(ctx, "tiles", done_n, total);
            }
    gw_ctx_progress(ctx, "tiles", done_n, total);
    return s;
}

/* The MBTiles metadata: name, format, zooms, bounds, center and the vector layers' fields. */
static gw_status write_meta(gw_mbtiles *mb, const pyramid *p)
{
    char v[512];
    const gw_bbox *e = &p->extent;
    gw_status s = gw_mbtiles_meta(mb, "name", "gridwatch");
    if (!s) s = gw_mbtiles_meta(mb, "format", "pbf");
    if (!s) s = gw_mbtiles_meta(mb, "type", "overlay");
    if (!s) s = gw_mbtiles_meta(mb, "version", "1");
    if (!s) s = gw_mbtiles_meta(mb, "description", p->names);
    snprintf(v, sizeof v, "%u", p->z0);
    if (!s) s = gw_mbtiles_meta(mb, "minzoom", v);
    snprintf(v, sizeof v, "%u", p->z1);
    if (!s) s = gw_mbtiles_meta(mb, "maxzoom", v);
    snprintf(v, sizeof v, "%.7f,%.7f,%.7f,%.7f", e->minx, e->miny, e->maxx, e->maxy);
    if (!s) s = gw_mbtiles_meta(mb, "bounds", v);
    snprintf(v, sizeof v, "%.7f,%.7f,%u", (e->minx + e->maxx) / 2, (e->miny + e->maxy) / 2, p->z0);
    if (!s) s = gw_mbtiles_meta(mb, "center", v);
    json_t *vl = json_array();
    for (int l = 0; l < GW_TL_CITY; l++) {
        if (!(p->parts & (1u << l))) continue;
        const char *fn[24], *ft[24];
        size_t n = gw_tile_layer_props((gw_tile_layer)l, fn, ft, 24);
        json_t *fields = json_object();
        for (size_t i = 0; i < n; i++) json_object_set_new(fields, fn[i], json_string(ft[i]));
        json_array_append_new(vl, json_pack("{s:s,s:o,s:i,s:i}", "id",
                                            gw_tile_layer_name((gw_tile_layer)l), "fields", fields,
                                            "minzoom", (int)p->z0, "maxzoom", (int)p->z1));
    }
    json_t *j = json_pack("{s:o}", "vector_layers", vl);
    char *js = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) s = gw_mbtiles_meta(mb, "json", js ? js : "{}");
    free(js);
    return s;
}

int gw_cmd_tiles(int argc, char **argv)
{
    pyramid p = {0};
    int rc = parse_args(argc, argv, &p);
    if (rc) return rc < 0 ? GW_EXIT_OK : rc;
    gw_cli_progress prog;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK)
        return fputs("gridwatch tiles: out of memory\n", stderr), GW_EXIT_RUNTIME;
    gw_cli_progress_init(&prog);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, &prog);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, &prog);
    gw_store *st = NULL;
    gw_model *model = NULL;
    gw_tile_source *src = NULL;
    gw_mvt *mvt = NULL;
    gw_mbtiles *mb = NULL;
    gw_model_snapshot *snap = NULL;
    double t0 = gw_mono_s();
    long long written = 0, bytes = 0;
    gw_status s = gw_store_open(ctx, p.db, GW_STORE_READONLY, &st);
    if (!s) s = gw_model_open(ctx, st, &model);
    if (!s) s = gw_tile_source_create(ctx, &src);
    if (!s) s = gw_mvt_create(ctx, (gw_tile_id){0, 0, 0}, NULL, &mvt);
    if (!s &&
        gw_tile_extent(ctx, src, (snap = gw_model_acquire(model)), p.parts, &p.extent) != GW_OK)
        s = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no features of %s in %s", p.names, p.db);
    gw_bbox e = p.extent, c = p.clip;
    p.extent = (gw_bbox){fmax(e.minx, c.minx), fmax(e.miny, c.miny), fmin(e.maxx, c.maxx),
                         fmin(e.maxy, c.maxy)};
    if (!s && (p.extent.minx > p.extent.maxx || p.extent.miny > p.extent.maxy)) {
        fprintf(stderr, "gridwatch tiles: --bbox does not overlap the data\n");
        rc = GW_EXIT_USAGE;
    }
    if (!s && !rc) s = gw_mbtiles_create(ctx, p.out, &mb);
    if (!s && !rc) s = render_all(ctx, &p, src, mvt, snap, mb, &written, &bytes);
    gw_cli_progress_end(&prog);
    if (!s && !rc) s = write_meta(mb, &p);
    if (!s && !rc) s = gw_mbtiles_finish(mb);
    if (s) rc = gw_cli_fail("tiles", ctx, s);
    else if (!rc)
        fprintf(
            stderr,
            "gridwatch tiles: %lld tiles (%.1f MB gzip'd) of %s, zoom %u-%u, into %s in %.1f s\n",
            written, bytes / 1e6, p.names, p.z0, p.z1, p.out, gw_mono_s() - t0);
    gw_mbtiles_destroy(mb);
    gw_mvt_destroy(mvt);
    gw_model_release(ctx, snap);
    gw_tile_source_destroy(src);
    gw_model_close(model);
    gw_store_close(st);
    gw_ctx_destroy(ctx);
    return rc;
}
