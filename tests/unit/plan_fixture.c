/* plan_fixture.c — what the planning tests share (test_plan.c, test_plan_random.c): the
 * hand-made 2×2 tiling, SQL on the store's database beside the store (SQLite or PostgreSQL)
 * and the tiling check of a draft. */
#include "plan_fixture.h"

#include "gridwatch/crs.h"
#include "gridwatch/layer.h"
#include "gridwatch/plan.h"
#include "store_sqlite.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gw_ctx *ctx;

/* 2×2 tiling of 0.01° squares: A [115.00,115.01]×[35.00,35.01], B east of A, C north of A,
 * D north-east.  Population 100 each.  Incident I1 at (115.0112, 35.005) in B. */
gw_store *make_db(const char *name)
{
    gw_store *s = NULL;
    const char *path = gw_test_db(name);
    remove(path);
    assert_int_equal(gw_store_open(ctx, path, GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_store_set_metric_srid(s, gw_crs_metric_for(115.01, 35.01)), GW_OK);
    assert_int_equal(gw_store_begin(s), GW_OK);
    gw_inserter *ins;
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_GRIDS, &ins), GW_OK);
    const char *ids[4] = {"A", "B", "C", "D"};
    for (int k = 0; k < 4; k++) {
        double x0 = 115.00 + 0.01 * (k % 2), y0 = 35.00 + 0.01 * (k / 2);
        double xy[10] = {x0, y0, x0 + 0.01, y0, x0 + 0.01, y0 + 0.01, x0, y0 + 0.01, x0, y0};
        unsigned char w[256];
        size_t n = 0;
        uint32_t t = 3, r = 1, np = 5;
        w[n++] = 1;
        memcpy(w + n, &t, 4), n += 4;
        memcpy(w + n, &r, 4), n += 4;
        memcpy(w + n, &np, 4), n += 4;
        memcpy(w + n, xy, 80), n += 80;
        gw_value v[10] = {{GW_VAL_TEXT, ids[k], 0, 0}};
        v[4] = (gw_value){GW_VAL_INT, NULL, 100, 0};
        v[5] = (gw_value){GW_VAL_INT, NULL, 40, 0};
        gw_feature f = {v, w, n, 0, 0};
        assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    }
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_inserter_create(s, GW_LAYER_INCIDENTS, &ins), GW_OK);
    gw_value v[9] = {{GW_VAL_TEXT, "I1", 0, 0}};
    v[1] = (gw_value){GW_VAL_INT, NULL, 1735689600, 0};
    v[2] = (gw_value){GW_VAL_TEXT, "theft", 0, 0};
    v[6] = (gw_value){GW_VAL_TEXT, "B", 0, 0};
    gw_feature f = {v, NULL, 0, 115.0112, 35.005};
    assert_int_equal(gw_inserter_add(ins, &f), GW_OK);
    gw_inserter_destroy(ins);
    assert_int_equal(gw_store_commit(s), GW_OK);
    return s;
}

/* ---- SQL on the store's database, beside the store: SQLite (SpatiaLite) or PostgreSQL -------- */

/* A connection of our own to the PostgreSQL database of s (kept for the next call). */
static PGconn *pg_conn(gw_store *s)
{
    static PGconn *c;
    static char url[600];
    if (c && strcmp(url, gw_store_path(s)) == 0) return c;
    PQfinish(c);
    snprintf(url, sizeof url, "%s", gw_store_path(s));
    c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
    return c;
}

/* Run pg with n text parameters on the PostgreSQL database of s; the caller PQclear()s. */
PGresult *pg_q(gw_store *s, const char *pg, int n, const char *const *v)
{
    PGresult *r = PQexecParams(pg_conn(s), pg, n, NULL, v, NULL, NULL, 0);
    ExecStatusType t = PQresultStatus(r);
    if (t != PGRES_TUPLES_OK && t != PGRES_COMMAND_OK)
        fail_msg("%s: %s", pg, PQresultErrorMessage(r));
    return r;
}

/* One integer: sq on SQLite, pg on PostgreSQL (-1 for no row). */
int64_t q_int2(gw_store *s, const char *sq, const char *pg)
{
    if (gw_test_on_postgres()) {
        PGresult *r = pg_q(s, pg, 0, NULL);
        int64_t v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        return v;
    }
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(st_sqlite_db(s), sq, -1, &q, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    return v;
}

/* One integer from SQL both engines read alike. */
int64_t q_int(gw_store *s, const char *sql) { return q_int2(s, sql, sql); }

void assert_tiles(gw_store *s, int64_t d)
{
    gw_plan_report r = {0};
    assert_int_equal(gw_plan_validate_draft(s, d, NULL, &r), GW_OK);
    if (!r.tiles) fail_msg("draft does not tile: %s", r.geojson);
    if (fabs(r.union_m2 - r.jurisdiction_m2) > 1e-6 * r.jurisdiction_m2)
        fail_msg("union %.6f m² vs jurisdiction %.6f m²", r.union_m2, r.jurisdiction_m2);
    assert_int_equal(r.overlaps + r.gaps + r.invalid + r.outside, 0);
    assert_true(fabs(r.union_m2 - r.jurisdiction_m2) <= 1e-6 * r.jurisdiction_m2);
    assert_true(fabs(r.grids_m2 - r.union_m2) <= 1e-6 * r.union_m2);
    gw_plan_report_free(&r);
}
