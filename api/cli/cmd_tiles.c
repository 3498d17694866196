/* cmd_tiles.c — `gridwatch tiles`: render a pyramid of vector tiles offline into an MBTiles
 * file (SQLite: metadata + tiles, TMS rows, gzip'd MVT), for map walls or CDNs that serve
 * static tiles.  Same rendering as the HTTP tiles (tiles/layers.c); only tiles inside the data
 * extent are visited and empty tiles are not written. */
#include "tiles_http.h"

#include "cli_util.h"
#include "gridwatch/model.h"
#include "gridwatch/tilecache.h"
#include "gridwatch/tilelayers.h"
#include "http_util.h"

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
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
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        gw_tile_layer l;
        if (gw_tile_layer_from_name(NULL, tok, &l) != GW_OK) return -1;
        *parts |= gw_tile_layer_parts(l);
    }
    for (int p = 0; p < GW_TL_CITY; p++)
        if (*parts & (1u << p))
            snprintf(names + strlen(names), cap - strlen(names), "%s%s", *names ? "," : "", gw_tile_layer_name((gw_tile_layer)p));
    return *parts ? 0 : -1;
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) fprintf(stderr, "gridwatch tiles: %s\n", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return rc == SQLITE_OK ? 0 : -1;
}

static void meta(sqlite3_stmt *q, const char *k, const char *v)
{
    sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, v, -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_reset(q);
}

int gw_cli_tiles(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *layers = "city", *zoom = "8-14", *bbox_s = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return fputs(tiles_usage, stdout), GW_EXIT_OK;
        if (strcmp(a, "--layers") == 0 && v) layers = v, i++;
        else if (strcmp(a, "--zoom") == 0 && v) zoom = v, i++;
        else if (strcmp(a, "--bbox") == 0 && v) bbox_s = v, i++;
        else if (a[0] == '-') return gw_cli_usage_error("tiles", "unknown or incomplete option '%s' (see --help)", a);
        else if (!db) db = a;
        else if (!out) out = a;
        else return gw_cli_usage_error("tiles", "unexpected argument '%s' (see --help)", a);
    }
    if (!db || !out) return gw_cli_usage_error("tiles", "expected DB and OUT.mbtiles (see --help)");
    uint32_t parts;
    char names[256];
    if (parse_layers(layers, &parts, names, sizeof names))
        return gw_cli_usage_error("tiles", "--layers '%s': use grids, police_rooms, cameras, teams, incidents, camera_views or city", layers);
    unsigned z0, z1;
    char junk;
    int nz = sscanf(zoom, "%u-%u%c", &z0, &z1, &junk);
    if (nz == 1 || (nz != 2 && sscanf(zoom, "%u%c", &z0, &junk) == 1)) z1 = z0, nz = 2;
    if (nz != 2 || z0 > z1 || z1 > GW_TILE_MAX_ZOOM)
        return gw_cli_usage_error("tiles", "--zoom '%s' must be Z or Z0-Z1 within 0-22", zoom);
    gw_bbox clip = {-180, -90, 180, 90};
    char why[256];
    if (bbox_s && gw_parse_bbox(bbox_s, &clip, why, sizeof why))
        return gw_cli_usage_error("tiles", "--bbox: %s", why);
    if (access(out, F_OK) == 0) {
        fprintf(stderr, "gridwatch tiles: '%s' exists; remove it or choose another name\n", out);
        return GW_EXIT_CONFLICT;
    }

    gw_cli_progress prog;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return fputs("gridwatch tiles: out of memory\n", stderr), GW_EXIT_RUNTIME;
    gw_cli_progress_init(&prog);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, &prog);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, &prog);
    gw_store *st = NULL;
    gw_model *model = NULL;
    gw_tile_source *src = NULL;
    gw_mvt *mvt = NULL;
    sqlite3 *mb = NULL;
    sqlite3_stmt *ins = NULL, *mq = NULL;
    gw_model_snapshot *snap = NULL;
    int rc = GW_EXIT_OK;
    double t0 = gw_mono_s();
    gw_status s = gw_store_open(ctx, db, GW_STORE_READONLY, &st);
    if (!s) s = gw_model_open(ctx, st, &model);
    if (!s) s = gw_tile_source_create(ctx, &src);
    if (!s) s = gw_mvt_create(ctx, (gw_tile_id){0, 0, 0}, NULL, &mvt);
    if (s) {
        rc = gw_cli_fail("tiles", ctx, s);
        goto done;
    }
    snap = gw_model_acquire(model);
    gw_bbox e;
    if (gw_tile_extent(ctx, src, snap, parts, &e) != GW_OK) {
        rc = gw_cli_fail("tiles", ctx, GW_ERR_NOT_FOUND);
        goto done;
    }
    e = (gw_bbox){fmax(e.minx, clip.minx), fmax(e.miny, clip.miny), fmin(e.maxx, clip.maxx), fmin(e.maxy, clip.maxy)};
    if (e.minx > e.maxx || e.miny > e.maxy) {
        fprintf(stderr, "gridwatch tiles: --bbox does not overlap the data\n");
        rc = GW_EXIT_USAGE;
        goto done;
    }
    if (sqlite3_open_v2(out, &mb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK ||
        exec_sql(mb, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                     "CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);"
                     "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);") ||
        sqlite3_prepare_v2(mb, "INSERT INTO tiles VALUES (?, ?, ?, ?)", -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(mb, "INSERT INTO metadata VALUES (?, ?)", -1, &mq, NULL) != SQLITE_OK) {
        fprintf(stderr, "gridwatch tiles: cannot create '%s': %s\n", out, mb ? sqlite3_errmsg(mb) : "out of memory");
        rc = GW_EXIT_RUNTIME;
        goto done;
    }
    /* tile ranges per zoom, and the total for the progress bar */
    gw_tile_id lo[GW_TILE_MAX_ZOOM + 1], hi[GW_TILE_MAX_ZOOM + 1];
    double total = 0, done_n = 0;
    for (unsigned z = z0; z <= z1; z++) {
        gw_tile_from_lonlat(ctx, e.minx, e.maxy, z, &lo[z]);
        gw_tile_from_lonlat(ctx, e.maxx, e.miny, z, &hi[z]);
        total += (double)(hi[z].x - lo[z].x + 1) * (hi[z].y - lo[z].y + 1);
    }
    long long written = 0, bytes = 0;
    exec_sql(mb, "BEGIN");
    for (unsigned z = z0; z <= z1 && rc == GW_EXIT_OK; z++) {
        for (uint32_t x = lo[z].x; x <= hi[z].x && rc == GW_EXIT_OK; x++) {
            for (uint32_t y = lo[z].y; y <= hi[z].y; y++) {
                gw_tile_id t = {z, x, y};
                const uint8_t *raw;
                size_t len;
                gw_tile_blob *b = NULL;
                s = gw_tile_render(ctx, src, mvt, snap, parts, t, NULL, &raw, &len);
                if (!s && len) s = gw_tile_blob_create(ctx, raw, len, 0, &b);
                if (s) {
                    rc = gw_cli_fail("tiles", ctx, s);
                    break;
                }
                done_n++;
                if (b) {
                    sqlite3_bind_int(ins, 1, (int)z);
                    sqlite3_bind_int64(ins, 2, x);
                    sqlite3_bind_int64(ins, 3, ((int64_t)1 << z) - 1 - y); /* TMS: row 0 at the south */
                    sqlite3_bind_blob(ins, 4, b->gz, (int)b->gz_len, SQLITE_STATIC);
                    if (sqlite3_step(ins) != SQLITE_DONE) {
                        fprintf(stderr, "gridwatch tiles: writing '%s': %s\n", out, sqlite3_errmsg(mb));
                        rc = GW_EXIT_RUNTIME;
                    }
                    sqlite3_reset(ins);
                    written++, bytes += (long long)b->gz_len;
                    gw_tile_blob_release(b);
                    if (rc) break;
                }
                if (((long long)done_n & 63) == 0) gw_ctx_progress(ctx, "tiles", done_n, total);
            }
        }
    }
    gw_ctx_progress(ctx, "tiles", done_n, total);
    gw_cli_progress_end(&prog);
    if (rc == GW_EXIT_OK) {
        char v[512];
        meta(mq, "name", "gridwatch");
        meta(mq, "format", "pbf");
        meta(mq, "type", "overlay");
        meta(mq, "version", "1");
        meta(mq, "description", names);
        snprintf(v, sizeof v, "%u", z0), meta(mq, "minzoom", v);
        snprintf(v, sizeof v, "%u", z1), meta(mq, "maxzoom", v);
        snprintf(v, sizeof v, "%.7f,%.7f,%.7f,%.7f", e.minx, e.miny, e.maxx, e.maxy), meta(mq, "bounds", v);
        snprintf(v, sizeof v, "%.7f,%.7f,%u", (e.minx + e.maxx) / 2, (e.miny + e.maxy) / 2, z0), meta(mq, "center", v);
        json_t *vl = json_array();
        for (int p = 0; p < GW_TL_CITY; p++) {
            if (!(parts & (1u << p))) continue;
            const char *fn[24], *ft[24];
            size_t n = gw_tile_layer_props((gw_tile_layer)p, fn, ft, 24);
            json_t *fields = json_object();
            for (size_t i = 0; i < n; i++) json_object_set_new(fields, fn[i], json_string(ft[i]));
            json_array_append_new(vl, json_pack("{s:s,s:o,s:i,s:i}", "id", gw_tile_layer_name((gw_tile_layer)p), "fields",
                                                fields, "minzoom", (int)z0, "maxzoom", (int)z1));
        }
        json_t *j = json_pack("{s:o}", "vector_layers", vl);
        char *js = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        meta(mq, "json", js ? js : "{}");
        free(js);
        if (exec_sql(mb, "COMMIT")) rc = GW_EXIT_RUNTIME;
        else
            fprintf(stderr, "gridwatch tiles: %lld tiles (%.1f MB gzip'd) of %s, zoom %u-%u, into %s in %.1f s\n", written,
                    bytes / 1e6, names, z0, z1, out, gw_mono_s() - t0);
    }
done:
    sqlite3_finalize(ins);
    sqlite3_finalize(mq);
    if (mb) sqlite3_close(mb);
    if (rc != GW_EXIT_OK && mb) unlink(out);
    gw_mvt_destroy(mvt);
    gw_model_release(ctx, snap);
    gw_tile_source_destroy(src);
    gw_model_close(model);
    gw_store_close(st);
    gw_ctx_destroy(ctx);
    return rc;
}
