/* sqlite_roads.c — the SQLite engine's road layer (store_roads.h): plain rows with the line as
 * ISO WKB in a BLOB, written in the caller's transaction, read back in fid order for the
 * routing graph (geo/road). */
#include "ops_roads.h"
#include "store_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 1 when wkb is a 2-D ISO WKB LineString (either byte order) with at least two points. */
static int is_linestring(const unsigned char *wkb, size_t len)
{
    if (!wkb || len < 9 || (wkb[0] != 0 && wkb[0] != 1)) return 0;
    uint32_t type, n;
    memcpy(&type, wkb + 1, 4);
    memcpy(&n, wkb + 5, 4);
    if (wkb[0] == 0) type = __builtin_bswap32(type), n = __builtin_bswap32(n);
    return type == 2 && n >= 2 && (size_t)n <= (len - 9) / 16 && len == 9 + (size_t)n * 16;
}

/* The checks both engines make before a write (the schema's CHECKs say the same). */
gw_status st_road_check(gw_store *s, const gw_store_road *r)
{
    if (!r->id || !*r->id) return gw_ctx_error(s->ctx, GW_ERR_ARG, "road: no id");
    if (!r->cls || !*r->cls) return gw_ctx_error(s->ctx, GW_ERR_ARG, "road %s: no class", r->id);
    if (r->oneway < -1 || r->oneway > 1)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "road %s: oneway %d is not -1, 0 or 1", r->id,
                            r->oneway);
    if (!isnan(r->speed_kmh) && r->speed_kmh != 0 && !(r->speed_kmh > 0 && r->speed_kmh <= 300))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "road %s: speed %g km/h is outside (0, 300]", r->id,
                            r->speed_kmh);
    if (!is_linestring(r->wkb, r->wkb_len))
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "road %s: the geometry is not a 2-D LineString",
                            r->id);
    return GW_OK;
}

gw_status sq_roads_insert(gw_store *s, const gw_store_road *roads, size_t n)
{
    if (n && !roads) return gw_ctx_error(s->ctx, GW_ERR_ARG, "roads insert: no roads");
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "INSERT INTO roads (id, name, class, oneway, speed_kmh, geom) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                              0, &q, "cannot prepare the road insert");
    for (size_t i = 0; !st && i < n; i++) {
        const gw_store_road *r = &roads[i];
        if ((st = st_road_check(s, r))) break;
        sqlite3_bind_text(q, 1, r->id, -1, SQLITE_STATIC);
        if (r->name) sqlite3_bind_text(q, 2, r->name, -1, SQLITE_STATIC);
        else sqlite3_bind_null(q, 2);
        sqlite3_bind_text(q, 3, r->cls, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 4, r->oneway);
        if (r->speed_kmh > 0) sqlite3_bind_double(q, 5, r->speed_kmh);
        else sqlite3_bind_null(q, 5);
        sqlite3_bind_blob(q, 6, r->wkb, (int)r->wkb_len, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            st = gw_ctx_error(s->ctx, GW_ERR_CONFLICT, "road %s: %s", r->id, sqlite3_errmsg(s->db));
        else if (rc != SQLITE_DONE) st = st_fail(s, "cannot insert a road");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_roads_clear(gw_store *s, int64_t *n)
{
    gw_status st = st_exec(s, "DELETE FROM roads", "cannot delete the roads");
    if (!st && n) *n = sqlite3_changes64(s->db);
    return st;
}

gw_status sq_roads_log(gw_store *s, const char *op, const gw_bbox *bbox, int64_t *seq)
{
    if (!op || !*op) return gw_ctx_error(s->ctx, GW_ERR_ARG, "change log: no operation given");
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "INSERT INTO changelog (at, layer, op, minx, miny, maxx, maxy) "
                              "VALUES (?1, 'roads', ?2, ?3, ?4, ?5, ?6)",
                              0, &q, "cannot prepare the change-log row");
    if (st) return st;
    char at[32];
    st_now_iso(at, sizeof at);
    sqlite3_bind_text(q, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, op, -1, SQLITE_STATIC);
    if (bbox) st_bind_bbox(q, 3, bbox);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot append to the change log");
    else if (seq) *seq = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_roads_read(gw_store *s, gw_store_road_fn fn, void *user)
{
    if (!fn) return gw_ctx_error(s->ctx, GW_ERR_ARG, "roads read: no callback");
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "SELECT fid, id, name, class, oneway, speed_kmh, geom FROM roads "
                              "ORDER BY fid",
                              0, &q, "cannot read the roads");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_road r = {.fid = sqlite3_column_int64(q, 0),
                           .id = (const char *)sqlite3_column_text(q, 1),
                           .name = (const char *)sqlite3_column_text(q, 2),
                           .cls = (const char *)sqlite3_column_text(q, 3),
                           .oneway = sqlite3_column_int(q, 4),
                           .speed_kmh = sqlite3_column_type(q, 5) == SQLITE_NULL
                                            ? NAN
                                            : sqlite3_column_double(q, 5),
                           .wkb = sqlite3_column_blob(q, 6),
                           .wkb_len = (size_t)sqlite3_column_bytes(q, 6)};
        if (fn(user, &r)) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot read the roads");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_roads_count(gw_store *s, int64_t *n)
{
    if (!n) return GW_ERR_ARG;
    return st_query_int(s, "SELECT count(*) FROM roads", n, NULL);
}
