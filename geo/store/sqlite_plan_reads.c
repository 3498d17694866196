/* sqlite_plan_reads.c — the SQLite engine's reads for planning (store_plan.h) outside the plan
 * tables: the incidents, cameras and police rooms that validation, balance and suggestion count
 * per grid, by bounding box through the R*Tree. */
#include "ops_plan.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- incidents, cameras, police rooms ------------------------------------------------------ */

gw_status sq_plan_incident_window(gw_store *s, char *from, char *to, size_t cap)
{
    from[0] = to[0] = '\0';
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "SELECT max(occurred_at), strftime('%Y-%m-%dT%H:%M:%SZ', "
                              "max(occurred_at), '-365 days') FROM incidents",
                              0, &q, "cannot read the incident window");
    if (st) return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_text(q, 0)) {
        const char *f = (const char *)sqlite3_column_text(q, 1);
        snprintf(to, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(from, cap, "%s", f ? f : "");
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = st_fail(s, "cannot read the incident window");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_incident_counts(gw_store *s, const char *from, int by_category,
                                  gw_store_plan_count_fn fn, void *user)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              by_category
                                  ? "SELECT grid, COALESCE(category, ''), count(*) FROM incidents "
                                    "WHERE occurred_at >= ?1 AND grid IS NOT NULL GROUP BY 1, 2"
                                  : "SELECT grid, NULL, count(*) FROM incidents WHERE "
                                    "occurred_at >= ?1 AND grid IS NOT NULL GROUP BY 1",
                              0, &q, "cannot count incidents");
    if (st) return st;
    sqlite3_bind_text(q, 1, from, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if ((st = fn(user, (const char *)sqlite3_column_text(q, 0),
                     (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2))))
            break;
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot count incidents");
    sqlite3_finalize(q);
    return st;
}

struct gw_store_plan_incidents {
    sqlite3_stmt *q; /* the window's incidents in a box, reset per call */
};

gw_status sq_plan_incidents_open(gw_store *s, const char *from, gw_store_plan_incidents **out)
{
    *out = NULL;
    gw_store_plan_incidents *it = calloc(1, sizeof *it);
    if (!it) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    gw_status st = st_prepare(s,
                              "SELECT X(geom), Y(geom), COALESCE(category, '') FROM incidents "
                              "WHERE occurred_at >= ?1 AND fid IN (SELECT pkid FROM "
                              "idx_incidents_geom WHERE xmax >= ?2 AND ymax >= ?3 AND xmin <= ?4 "
                              "AND ymin <= ?5)",
                              SQLITE_PREPARE_PERSISTENT, &it->q,
                              "cannot prepare the incident query");
    if (st) {
        free(it);
        return st;
    }
    sqlite3_bind_text(it->q, 1, from ? from : "", -1, SQLITE_TRANSIENT);
    *out = it;
    return GW_OK;
}

gw_status sq_plan_incidents_in(gw_store *s, gw_store_plan_incidents *it, const gw_bbox *bbox,
                               gw_store_plan_point_fn fn, void *user)
{
    sqlite3_stmt *q = it->q;
    sqlite3_reset(q);
    st_bind_bbox(q, 2, bbox);
    gw_status st = GW_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if ((st = fn(user, sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                     (const char *)sqlite3_column_text(q, 2))))
            break;
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot read incidents");
    sqlite3_reset(q);
    return st;
}

gw_status sq_plan_incidents_close(gw_store *s, gw_store_plan_incidents *it)
{
    if (!it) return GW_OK;
    sqlite3_finalize(it->q);
    free(it);
    return GW_OK;
}

gw_status sq_plan_incidents_regrid(gw_store *s, const gw_bbox *boxes, size_t nboxes,
                                   gw_store_plan_regrid_fn fn, void *user, int64_t *n)
{
    if (n) *n = 0;
    sqlite3_stmt *inc = NULL, *upd = NULL;
    gw_status st = st_prepare(
        s,
        "SELECT fid, X(geom), Y(geom), grid FROM incidents WHERE fid IN "
        "(SELECT pkid FROM idx_incidents_geom WHERE xmin <= ?3 AND xmax >= ?1 "
        "AND ymin <= ?4 AND ymax >= ?2)",
        0, &inc, "cannot prepare the incident update");
    if (!st)
        st = st_prepare(s, "UPDATE incidents SET grid = ?2 WHERE fid = ?1", 0, &upd,
                        "cannot prepare the incident update");
    for (size_t b = 0; !st && b < nboxes; b++) {
        sqlite3_reset(inc);
        st_bind_bbox(inc, 1, &boxes[b]);
        int rc;
        while (!st && (rc = sqlite3_step(inc)) == SQLITE_ROW) {
            const char *old = (const char *)sqlite3_column_text(inc, 3), *now = NULL;
            if ((st = fn(user, sqlite3_column_double(inc, 1), sqlite3_column_double(inc, 2), old,
                         &now)))
                break;
            if ((now == NULL) == (old == NULL) && (!old || strcmp(old, now) == 0)) continue;
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, sqlite3_column_int64(inc, 0));
            if (now) sqlite3_bind_text(upd, 2, now, -1, SQLITE_STATIC);
            else sqlite3_bind_null(upd, 2);
            if (sqlite3_step(upd) != SQLITE_DONE) st = st_fail(s, "cannot update an incident");
            else if (n) (*n)++;
        }
        if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot read incidents");
    }
    sqlite3_finalize(inc);
    sqlite3_finalize(upd);
    return st;
}

/* Each row of sql (columns x, y and, for cameras, azimuth, fov, range) to fn. */
static gw_status each_site(gw_store *s, const char *sql, int w, gw_store_plan_site_fn fn,
                           void *user)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read cameras / police rooms");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        double v[5] = {0};
        for (int c = 0; c < w; c++) v[c] = sqlite3_column_double(q, c);
        gw_store_plan_site site = {v[0], v[1], v[2], v[3], v[4]};
        if ((st = fn(user, &site))) break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot read cameras / police rooms");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_cameras(gw_store *s, gw_store_plan_site_fn fn, void *user)
{
    return each_site(s,
                     "SELECT X(geom), Y(geom), COALESCE(azimuth, 0), COALESCE(fov, 360), "
                     "\"range\" FROM cameras WHERE geom IS NOT NULL AND \"range\" > 0 AND "
                     "COALESCE(fov, 360) > 0 AND (status IS NULL OR lower(status) <> 'offline')",
                     5, fn, user);
}

gw_status sq_plan_rooms(gw_store *s, gw_store_plan_site_fn fn, void *user)
{
    return each_site(s, "SELECT X(geom), Y(geom) FROM police_rooms WHERE geom IS NOT NULL", 2, fn,
                     user);
}
