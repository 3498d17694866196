/* mbtiles.c — the MBTiles writer (mbtiles.h): one SQLite file, no journal (a failed run removes
 * the file instead), tiles and metadata tables as the 1.3 spec has them. */
#include "gridwatch/mbtiles.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gw_mbtiles {
    gw_ctx *ctx;
    sqlite3 *db;
    sqlite3_stmt *tile, *meta;
    char *path;
    int finished;
};

static gw_status mb_fail(gw_mbtiles *m, const char *what)
{
    return gw_ctx_error(m->ctx, GW_ERR_IO, "%s '%s': %s", what, m->path,
                        m->db ? sqlite3_errmsg(m->db) : "out of memory");
}

gw_status gw_mbtiles_create(gw_ctx *ctx, const char *path, gw_mbtiles **out)
{
    *out = NULL;
    if (access(path, F_OK) == 0)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "'%s' exists; remove it or choose another name",
                            path);
    gw_mbtiles *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    m->ctx = ctx;
    gw_status st = GW_OK;
    if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(
            m->db,
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
            "tile_data BLOB);"
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
            "BEGIN",
            NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(m->db, "INSERT INTO tiles VALUES (?, ?, ?, ?)", -1, &m->tile, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(m->db, "INSERT INTO metadata VALUES (?, ?)", -1, &m->meta, NULL) !=
            SQLITE_OK)
        st = mb_fail(m, "cannot create");
    if (st) {
        gw_mbtiles_destroy(m);
        return st;
    }
    *out = m;
    return GW_OK;
}

gw_status gw_mbtiles_put(gw_mbtiles *m, uint32_t z, uint32_t x, uint32_t y, const void *data,
                         size_t len)
{
    if (!m || z > 30) return GW_ERR_ARG;
    sqlite3_bind_int(m->tile, 1, (int)z);
    sqlite3_bind_int64(m->tile, 2, x);
    sqlite3_bind_int64(m->tile, 3, ((int64_t)1 << z) - 1 - y); /* TMS: row 0 at the south */
    sqlite3_bind_blob(m->tile, 4, data, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(m->tile);
    sqlite3_reset(m->tile);
    return rc == SQLITE_DONE ? GW_OK : mb_fail(m, "writing");
}

gw_status gw_mbtiles_meta(gw_mbtiles *m, const char *name, const char *value)
{
    if (!m || !name || !value) return GW_ERR_ARG;
    sqlite3_bind_text(m->meta, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(m->meta, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(m->meta);
    sqlite3_reset(m->meta);
    return rc == SQLITE_DONE ? GW_OK : mb_fail(m, "writing metadata to");
}

gw_status gw_mbtiles_finish(gw_mbtiles *m)
{
    if (!m) return GW_ERR_ARG;
    if (sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return mb_fail(m, "cannot commit");
    m->finished = 1;
    return GW_OK;
}

void gw_mbtiles_destroy(gw_mbtiles *m)
{
    if (!m) return;
    sqlite3_finalize(m->tile);
    sqlite3_finalize(m->meta);
    if (m->db) sqlite3_close(m->db);
    if (!m->finished && m->db) unlink(m->path);
    free(m->path);
    free(m);
}
