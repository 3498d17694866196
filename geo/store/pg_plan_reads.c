/* pg_plan_reads.c — the PostgreSQL engine's reads for planning (store_plan.h) outside the plan
 * tables: the incidents, cameras and police rooms that validation, balance and suggestion count
 * per grid, by bounding box through the GiST indexes (geom && envelope, as the SQLite engine
 * asks its R*Trees).  The table that names these functions is in pg_plan.c; the reference is
 * sqlite_plan_reads.c.  Instants are compared as timestamptz; a window start of "" (no
 * incidents) takes every dated incident, as SQLite's text comparison does. */
#include "ops_plan.h"
#include "pg_internal.h"
#include "pg_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The window condition on occurred_at, the start being text parameter $1. */
#define PG_PLAN_SINCE "occurred_at >= COALESCE(NULLIF($1::text, '')::timestamptz, '-infinity')"

gw_status pg_plan_incident_window(gw_store *s, char *from, char *to, size_t cap)
{
    from[0] = to[0] = '\0';
    gw_status st = pg_flush_all(s);
    if (st) return st;
    /* 365 days of 24 hours, whatever the session's time zone */
    PGresult *r = pg_run(s,
                         "SELECT gw_iso(max(occurred_at)), gw_iso(max(occurred_at) - interval "
                         "'8760 hours') FROM incidents",
                         0, NULL, NULL, "cannot read the incident window", &st);
    if (!r) return st;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        snprintf(to, cap, "%s", PQgetvalue(r, 0, 0));
        snprintf(from, cap, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return GW_OK;
}

gw_status pg_plan_incident_counts(gw_store *s, const char *from, int by_category,
                                  gw_store_plan_count_fn fn, void *user)
{
    const char *v[] = {from ? from : ""};
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *r = pg_run(s,
                         by_category ? "SELECT grid, COALESCE(category, ''), count(*) FROM "
                                       "incidents WHERE " PG_PLAN_SINCE " AND grid IS NOT NULL "
                                       "GROUP BY 1, 2 ORDER BY grid COLLATE \"C\", "
                                       "COALESCE(category, '') COLLATE \"C\""
                                     : "SELECT grid, NULL, count(*) FROM incidents WHERE "
                                       "" PG_PLAN_SINCE " AND grid IS NOT NULL GROUP BY 1 "
                                       "ORDER BY grid COLLATE \"C\"",
                         1, v, NULL, "cannot count incidents", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++)
        st = fn(user, PQgetvalue(r, i, 0), PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1),
                strtoll(PQgetvalue(r, i, 2), NULL, 10));
    PQclear(r);
    return st;
}

struct gw_store_plan_incidents {
    char *from; /* the window's start, the first parameter of each box query */
};

gw_status pg_plan_incidents_open(gw_store *s, const char *from, gw_store_plan_incidents **out)
{
    *out = NULL;
    gw_store_plan_incidents *it = calloc(1, sizeof *it);
    if (it) it->from = strdup(from ? from : "");
    if (!it || !it->from) {
        free(it);
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    }
    *out = it;
    return GW_OK;
}

gw_status pg_plan_incidents_in(gw_store *s, gw_store_plan_incidents *it, const gw_bbox *bbox,
                               gw_store_plan_point_fn fn, void *user)
{
    char b[4][32];
    pg_f64(b[0], bbox->minx), pg_f64(b[1], bbox->miny);
    pg_f64(b[2], bbox->maxx), pg_f64(b[3], bbox->maxy);
    const char *v[] = {it->from, b[0], b[1], b[2], b[3]};
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *r = pg_run(s,
                         "SELECT ST_X(geom), ST_Y(geom), COALESCE(category, '') FROM incidents "
                         "WHERE " PG_PLAN_SINCE " AND geom && ST_MakeEnvelope($2::float8, "
                         "$3::float8, $4::float8, $5::float8, 4326) ORDER BY fid",
                         5, v, NULL, "cannot read incidents", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++)
        st = fn(user, strtod(PQgetvalue(r, i, 0), NULL), strtod(PQgetvalue(r, i, 1), NULL),
                PQgetvalue(r, i, 2));
    PQclear(r);
    return st;
}

gw_status pg_plan_incidents_close(gw_store *s, gw_store_plan_incidents *it)
{
    if (!it) return GW_OK;
    free(it->from);
    free(it);
    return GW_OK;
}

gw_status pg_plan_incidents_regrid(gw_store *s, const gw_bbox *boxes, size_t nboxes,
                                   gw_store_plan_regrid_fn fn, void *user, int64_t *n)
{
    if (n) *n = 0;
    gw_status st = pg_flush_all(s);
    /* per box: its incidents read whole, then the ones whose grid changes updated one by one
     * (a later box sees what an earlier one wrote, as with the SQLite engine) */
    for (size_t k = 0; !st && k < nboxes; k++) {
        char b[4][32];
        pg_f64(b[0], boxes[k].minx), pg_f64(b[1], boxes[k].miny);
        pg_f64(b[2], boxes[k].maxx), pg_f64(b[3], boxes[k].maxy);
        const char *v[] = {b[0], b[1], b[2], b[3]};
        PGresult *r = pg_run(s,
                             "SELECT fid, ST_X(geom), ST_Y(geom), grid FROM incidents WHERE geom "
                             "&& ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, "
                             "4326) ORDER BY fid",
                             4, v, NULL, "cannot read incidents", &st);
        if (!r) break;
        for (int i = 0; i < PQntuples(r) && !st; i++) {
            const char *old = PQgetisnull(r, i, 3) ? NULL : PQgetvalue(r, i, 3), *now = NULL;
            if ((st = fn(user, strtod(PQgetvalue(r, i, 1), NULL), strtod(PQgetvalue(r, i, 2), NULL),
                         old, &now)))
                break;
            if ((now == NULL) == (old == NULL) && (!old || strcmp(old, now) == 0)) continue;
            const char *u[] = {PQgetvalue(r, i, 0), now};
            st = pg_exec(s, "UPDATE incidents SET grid = $2 WHERE fid = $1::bigint", 2, u,
                         "cannot update an incident");
            if (!st && n) (*n)++;
        }
        PQclear(r);
    }
    return st;
}

/* Each row of sql (columns x, y and, for cameras, azimuth, fov, range) to fn. */
static gw_status each_site(gw_store *s, const char *sql, int w, gw_store_plan_site_fn fn,
                           void *user)
{
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, "cannot read cameras / police rooms", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++) {
        double v[5] = {0};
        for (int c = 0; c < w; c++) v[c] = strtod(PQgetvalue(r, i, c), NULL);
        gw_store_plan_site site = {
            .x = v[0], .y = v[1], .azimuth = v[2], .fov = v[3], .range = v[4]};
        st = fn(user, &site);
    }
    PQclear(r);
    return st;
}

gw_status pg_plan_cameras(gw_store *s, gw_store_plan_site_fn fn, void *user)
{
    return each_site(s,
                     "SELECT ST_X(geom), ST_Y(geom), COALESCE(azimuth, 0), COALESCE(fov, 360), "
                     "\"range\" FROM cameras WHERE geom IS NOT NULL AND \"range\" > 0 AND "
                     "COALESCE(fov, 360) > 0 AND (status IS NULL OR lower(status) <> 'offline') "
                     "ORDER BY fid",
                     5, fn, user);
}

gw_status pg_plan_rooms(gw_store *s, gw_store_plan_site_fn fn, void *user)
{
    return each_site(s,
                     "SELECT ST_X(geom), ST_Y(geom) FROM police_rooms WHERE geom IS NOT NULL "
                     "ORDER BY fid",
                     2, fn, user);
}
