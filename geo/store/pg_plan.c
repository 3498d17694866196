/* pg_plan.c — the PostgreSQL engine's 'plan' topic (ops_plan.h; the contract is
 * include/gridwatch/store_plan.h): plan_drafts and plan_draft_grids (a draft's own rows:
 * upserts with fields and geometry, or delete marks), grid_versions and the versioned grids
 * rows, and plan_jurisdiction.  The incident, camera and police-room reads are in
 * pg_plan_reads.c.  The SQLite engine (sqlite_plan.c) is the reference: same results, same
 * statuses and messages, the same row order (ids compared byte-wise, COLLATE "C", as SQLite
 * does).  Bulk writes (publish, rollback, copying a draft) are one INSERT … SELECT each. */
#include "ops_plan.h"
#include "pg_internal.h"
#include "pg_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PQ_MAXF 16 /* grid fields a row can carry (gw_layer_fields(GW_LAYER_GRIDS)) */

/* ---- helpers ------------------------------------------------------------------------------- */

/* The grid fields as a quoted column list (prefix before each: "" or "g."); their count. */
static size_t grid_cols(char *buf, size_t cap, const char *prefix)
{
    size_t nf, used = 0;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    buf[0] = '\0';
    for (size_t i = 0; i < nf && i < PQ_MAXF; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s\"%s\"", i ? ", " : "", prefix,
                                 f[i].name);
    return nf < PQ_MAXF ? nf : PQ_MAXF;
}

/* Each row of res (fields 0..nf-1, ST_AsBinary at nf, the own flag at nf + 1 when own < 0) to
 * fn; clears res. */
static gw_status each_grid(gw_store *s, PGresult *res, int own, gw_store_plan_grid_fn fn,
                           void *user)
{
    size_t nf;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    if (nf > PQ_MAXF) nf = PQ_MAXF;
    gw_value v[PQ_MAXF];
    gw_status st = GW_OK;
    int rows = PQntuples(res);
    for (int r = 0; r < rows && !st; r++) {
        for (size_t i = 0; i < nf; i++) {
            memset(&v[i], 0, sizeof v[i]);
            if (PQgetisnull(res, r, (int)i)) {
                v[i].kind = GW_VAL_NULL;
            } else if (f[i].type == GW_FT_INT) {
                v[i].kind = GW_VAL_INT;
                v[i].i = strtoll(PQgetvalue(res, r, (int)i), NULL, 10);
            } else {
                v[i].kind = GW_VAL_TEXT;
                v[i].s = PQgetvalue(res, r, (int)i);
            }
        }
        size_t len = 0;
        unsigned char *wkb = pg_unhex(PQgetvalue(res, r, (int)nf), &len);
        if (!wkb && !PQgetisnull(res, r, (int)nf)) {
            st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "grid '%s': cannot read its geometry",
                              PQgetvalue(res, r, 0));
            break;
        }
        gw_store_plan_grid g = {
            .values = v,
            .wkb = wkb,
            .wkb_len = len,
            .own = own >= 0 ? own : PQgetvalue(res, r, (int)nf + 1)[0] == '1',
        };
        st = fn(user, &g);
        free(wkb);
    }
    PQclear(res);
    return st;
}

/* A box as four text parameters (minx, miny, maxx, maxy). */
static void box_params(char b[4][32], const gw_bbox *box)
{
    pg_f64(b[0], box->minx), pg_f64(b[1], box->miny);
    pg_f64(b[2], box->maxx), pg_f64(b[3], box->maxy);
}

/* ---- drafts -------------------------------------------------------------------------------- */

static gw_status pg_plan_draft_create(gw_store *s, const char *name, const char *who,
                                      int64_t base_version, int64_t *id)
{
    char at[32], bv[24];
    st_now_iso(at, sizeof at);
    pg_i64(bv, base_version);
    const char *v[] = {bv, name, who, at};
    gw_status st;
    PGresult *r = pg_run(s,
                         "INSERT INTO plan_drafts (base_version, edits, name, created_by, "
                         "created_at, updated_at) VALUES ($1::bigint, 0, $2, $3, $4::timestamptz, "
                         "$4::timestamptz) RETURNING id",
                         4, v, NULL, "cannot create the draft", &st);
    if (!r) return st;
    if (id) *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return GW_OK;
}

static const char draft_cols[] =
    "SELECT id, name, base_version, created_by, gw_iso(created_at), gw_iso(updated_at), edits, "
    "(SELECT count(*) FROM plan_draft_grids g WHERE g.draft_id = d.id), status, "
    "published_version FROM plan_drafts d";

static void read_draft(const PGresult *res, int r, gw_store_plan_draft *d)
{
    memset(d, 0, sizeof *d);
    d->id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
    snprintf(d->name, sizeof d->name, "%s", PQgetvalue(res, r, 1));
    d->base_version = strtoll(PQgetvalue(res, r, 2), NULL, 10);
    snprintf(d->created_by, sizeof d->created_by, "%s", PQgetvalue(res, r, 3));
    snprintf(d->created_at, sizeof d->created_at, "%s", PQgetvalue(res, r, 4));
    snprintf(d->updated_at, sizeof d->updated_at, "%s", PQgetvalue(res, r, 5));
    d->edits = strtoll(PQgetvalue(res, r, 6), NULL, 10);
    d->changed = strtoll(PQgetvalue(res, r, 7), NULL, 10);
    snprintf(d->status, sizeof d->status, "%s", PQgetvalue(res, r, 8));
    d->published_version = strtoll(PQgetvalue(res, r, 9), NULL, 10);
}

static gw_status pg_plan_draft_get(gw_store *s, int64_t id, gw_store_plan_draft *out)
{
    char sql[512], a[24];
    snprintf(sql, sizeof sql, "%s WHERE id = $1::bigint", draft_cols);
    pg_i64(a, id);
    const char *v[] = {a};
    gw_status st;
    PGresult *r = pg_run(s, sql, 1, v, NULL, "cannot read drafts", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) read_draft(r, 0, out);
    else st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)id);
    PQclear(r);
    return st;
}

static gw_status pg_plan_draft_list(gw_store *s, gw_store_plan_draft_fn fn, void *user)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s ORDER BY id DESC", draft_cols);
    gw_status st;
    PGresult *r = pg_run(s, sql, 0, NULL, NULL, "cannot list drafts", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++) {
        gw_store_plan_draft d;
        read_draft(r, i, &d);
        st = fn(user, &d);
    }
    PQclear(r);
    return st;
}

static gw_status pg_plan_draft_delete(gw_store *s, int64_t id)
{
    char a[24];
    pg_i64(a, id);
    const char *v[] = {a};
    gw_status st = pg_exec(s, "DELETE FROM plan_draft_grids WHERE draft_id = $1::bigint", 1, v,
                           "cannot delete the draft's grids");
    if (!st)
        st = pg_exec(s, "DELETE FROM plan_drafts WHERE id = $1::bigint", 1, v,
                     "cannot delete the draft");
    return st;
}

static gw_status pg_plan_draft_touch(gw_store *s, int64_t id)
{
    char at[32], a[24];
    st_now_iso(at, sizeof at);
    pg_i64(a, id);
    const char *v[] = {a, at};
    return pg_exec(s,
                   "UPDATE plan_drafts SET edits = edits + 1, updated_at = $2::timestamptz WHERE "
                   "id = $1::bigint",
                   2, v, "cannot count the edit");
}

static gw_status pg_plan_draft_published(gw_store *s, int64_t id, int64_t version)
{
    char a[24], b[24];
    pg_i64(a, version), pg_i64(b, id);
    const char *v[] = {a, b};
    return pg_exec(s,
                   "UPDATE plan_drafts SET status = 'published', published_version = $1::bigint "
                   "WHERE id = $2::bigint",
                   2, v, "cannot mark the draft published");
}

static gw_status pg_plan_draft_copy(gw_store *s, int64_t to, int64_t from)
{
    char cols[256], sql[900], a[24], b[24];
    grid_cols(cols, sizeof cols, "");
    snprintf(sql, sizeof sql,
             "INSERT INTO plan_draft_grids (draft_id, op, %s, geom) SELECT $1::bigint, op, %s, "
             "geom FROM plan_draft_grids WHERE draft_id = $2::bigint",
             cols, cols);
    pg_i64(a, to), pg_i64(b, from);
    const char *v[] = {a, b};
    return pg_exec(s, sql, 2, v, "cannot copy the draft");
}

/* The upsert of one grid row into a draft: $1 the draft, $2.. the fields, then the WKB. */
static void put_sql(char *sql, size_t cap)
{
    char cols[256];
    size_t nf;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    if (nf > PQ_MAXF) nf = PQ_MAXF;
    grid_cols(cols, sizeof cols, "");
    int n = snprintf(sql, cap,
                     "INSERT INTO plan_draft_grids (draft_id, op, %s, geom) VALUES ($1::bigint, "
                     "'upsert'",
                     cols);
    for (size_t i = 0; i < nf; i++)
        n += snprintf(sql + n, cap - (size_t)n, ", $%zu::%s", i + 2,
                      f[i].type == GW_FT_INT ? "bigint" : "text");
    n += snprintf(sql + n, cap - (size_t)n,
                  ", ST_Multi(ST_GeomFromWKB($%zu::bytea, 4326))) ON CONFLICT (draft_id, id) DO "
                  "UPDATE SET op = 'upsert'",
                  nf + 2);
    for (size_t i = 0; i < nf; i++)
        if (strcmp(f[i].name, "id") != 0)
            n += snprintf(sql + n, cap - (size_t)n, ", \"%s\" = excluded.\"%s\"", f[i].name,
                          f[i].name);
    snprintf(sql + n, cap - (size_t)n, ", geom = excluded.geom");
}

/* Write one grid row with the statement of put_sql.  A REAL value reads back as SQLite's
 * engine gives it: truncated for an integer field, "%.15g" text for a text field. */
static gw_status put_row(gw_store *s, const char *sql, int64_t id, const gw_store_plan_grid *g)
{
    size_t nf;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    if (nf > PQ_MAXF) nf = PQ_MAXF;
    char num[PQ_MAXF + 1][32];
    const char *v[PQ_MAXF + 2] = {0};
    int lens[PQ_MAXF + 2] = {0};
    pg_i64(num[PQ_MAXF], id);
    v[0] = num[PQ_MAXF];
    for (size_t i = 0; i < nf; i++) {
        const gw_value *x = &g->values[i];
        if (x->kind == GW_VAL_TEXT) v[i + 1] = x->s;
        else if (x->kind == GW_VAL_INT) pg_i64(num[i], x->i), v[i + 1] = num[i];
        else if (x->kind == GW_VAL_REAL) {
            if (f[i].type == GW_FT_INT) pg_i64(num[i], (int64_t)x->d);
            else snprintf(num[i], sizeof num[i], "%.15g", x->d);
            v[i + 1] = num[i];
        }
    }
    v[nf + 1] = (const char *)g->wkb;
    lens[nf + 1] = (int)g->wkb_len;
    gw_status st;
    PQclear(pg_run(s, sql, (int)nf + 2, v, lens, "cannot write the draft", &st));
    return st;
}

static gw_status pg_plan_draft_replace(gw_store *s, int64_t id, int64_t base_version,
                                       gw_store_plan_grid_src src, void *user, size_t *n)
{
    char a[24], b[24], sql[1600];
    pg_i64(a, id), pg_i64(b, base_version);
    const char *v[] = {a, b};
    size_t k = 0;
    gw_status st = pg_exec(s, "DELETE FROM plan_draft_grids WHERE draft_id = $1::bigint", 1, v,
                           "cannot clear the draft");
    /* Base grids not in the new set are deletes; the set's grids are upserts over them. */
    if (!st)
        st = pg_exec(s,
                     "INSERT INTO plan_draft_grids (draft_id, id, op) SELECT $1::bigint, id, "
                     "'delete' FROM grids WHERE version = $2::bigint",
                     2, v, "cannot clear the draft");
    put_sql(sql, sizeof sql);
    gw_store_plan_grid g;
    while (!st && (st = src(user, &g)) == GW_OK) {
        if ((st = put_row(s, sql, id, &g))) break;
        k++;
    }
    if (st == GW_ERR_NOT_FOUND) st = GW_OK;
    if (!st && n) *n = k;
    return st;
}

static gw_status pg_plan_draft_changes(gw_store *s, int64_t id, int64_t base_version,
                                       gw_store_plan_change_fn fn, void *user)
{
    char a[24], b[24];
    pg_i64(a, id), pg_i64(b, base_version);
    const char *v[] = {a, b};
    gw_status st;
    PGresult *r = pg_run(s,
                         "SELECT g.id, g.op = 'delete', EXISTS (SELECT 1 FROM grids b WHERE "
                         "b.version = $2::bigint AND b.id = g.id) FROM plan_draft_grids g WHERE "
                         "g.draft_id = $1::bigint ORDER BY g.id COLLATE \"C\"",
                         2, v, NULL, "cannot read the draft's changes", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++)
        st = fn(user, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)[0] == 't',
                PQgetvalue(r, i, 2)[0] == 't');
    PQclear(r);
    return st;
}

static gw_status pg_plan_draft_grids(gw_store *s, int64_t id, unsigned parts, const gw_bbox *bbox,
                                     gw_store_plan_grid_fn fn, void *user, int64_t *base)
{
    char a[24], box[4][32];
    pg_i64(a, id);
    const char *v1[] = {a};
    int64_t b = 0;
    int found = 0;
    gw_status st = pg_query_int(s, "SELECT base_version FROM plan_drafts WHERE id = $1::bigint", 1,
                                v1, &b, &found);
    if (st) return st;
    if (!found) return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)id);
    if (base) *base = b;
    if (!(parts & (GW_STORE_PLAN_BASE | GW_STORE_PLAN_OWN))) return GW_OK;
    if ((st = pg_flush_all(s))) return st;
    /* Base grids the draft has no row for (near bbox, by the spatial index), then its upserts;
     * the last column says which side a row came from.  Without BY_ID the base part comes
     * first, each part in id order.  The version and draft are integers written into the
     * statement, the box its only parameters. */
    char cols[256], sql[2000];
    grid_cols(cols, sizeof cols, "");
    int withbox = bbox && (parts & GW_STORE_PLAN_BASE);
    int n = snprintf(sql, sizeof sql, "SELECT * FROM (");
    if (parts & GW_STORE_PLAN_BASE)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "SELECT %s, ST_AsBinary(geom) AS wkb, 0 AS own FROM grids WHERE version = "
                      "%lld AND id NOT IN (SELECT id FROM plan_draft_grids WHERE draft_id = "
                      "%lld)%s",
                      cols, (long long)b, (long long)id,
                      withbox ? " AND geom && ST_MakeEnvelope($1::float8, $2::float8, "
                                "$3::float8, $4::float8, 4326)"
                              : "");
    if (parts & GW_STORE_PLAN_OWN)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "%sSELECT %s, ST_AsBinary(geom) AS wkb, 1 AS own FROM plan_draft_grids "
                      "WHERE draft_id = %lld AND op = 'upsert'",
                      (parts & GW_STORE_PLAN_BASE) ? " UNION ALL " : "", cols, (long long)id);
    snprintf(sql + n, sizeof sql - (size_t)n, ") u ORDER BY %sid COLLATE \"C\"",
             (parts & GW_STORE_PLAN_BY_ID) ? "" : "own, ");
    if (withbox) box_params(box, bbox);
    const char *v[] = {box[0], box[1], box[2], box[3]};
    PGresult *r = pg_run(s, sql, withbox ? 4 : 0, withbox ? v : NULL, NULL,
                         "cannot read the draft's grids", &st);
    return r ? each_grid(s, r, -1, fn, user) : st;
}

static gw_status pg_plan_grid_get(gw_store *s, int64_t id, int64_t base_version, const char *grid,
                                  gw_store_plan_grid_fn fn, void *user)
{
    char cols[256], sql[600], a[24], b[24];
    size_t nf = grid_cols(cols, sizeof cols, "");
    pg_i64(a, id), pg_i64(b, base_version);
    snprintf(sql, sizeof sql,
             "SELECT %s, ST_AsBinary(geom), op FROM plan_draft_grids WHERE draft_id = $1::bigint "
             "AND id = $2",
             cols);
    const char *v[] = {a, grid};
    gw_status st;
    PGresult *r = pg_run(s, sql, 2, v, NULL, "cannot read the draft", &st);
    if (!r) return st;
    if (PQntuples(r) > 0) {
        if (strcmp(PQgetvalue(r, 0, (int)nf + 1), "delete") == 0) {
            PQclear(r);
            return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "grid '%s' was removed in draft %lld",
                                grid, (long long)id);
        }
        return each_grid(s, r, 1, fn, user);
    }
    PQclear(r);
    snprintf(sql, sizeof sql,
             "SELECT %s, ST_AsBinary(geom) FROM grids WHERE version = $1::bigint AND id = $2",
             cols);
    const char *w[] = {b, grid};
    if (!(r = pg_run(s, sql, 2, w, NULL, "cannot read the base grids", &st))) return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no grid '%s' in draft %lld", grid,
                            (long long)id);
    }
    return each_grid(s, r, 0, fn, user);
}

static gw_status pg_plan_grid_exists(gw_store *s, int64_t id, int64_t base_version,
                                     const char *grid, int *exists)
{
    char a[24], b[24];
    pg_i64(a, id), pg_i64(b, base_version);
    const char *v[] = {a, b, grid};
    int64_t x = 0;
    int found = 0;
    gw_status st = pg_query_int(s,
                                "SELECT (EXISTS (SELECT 1 FROM plan_draft_grids WHERE draft_id = "
                                "$1::bigint AND id = $3 AND op = 'upsert') OR (EXISTS (SELECT 1 "
                                "FROM grids WHERE version = $2::bigint AND id = $3) AND NOT EXISTS "
                                "(SELECT 1 FROM plan_draft_grids WHERE draft_id = $1::bigint AND "
                                "id = $3)))::int",
                                3, v, &x, &found);
    if (!st && !found)
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "cannot check grid ids (database %s)", s->path);
    if (!st) *exists = x != 0;
    return st;
}

static gw_status pg_plan_grid_put(gw_store *s, int64_t id, const gw_store_plan_grid *g)
{
    char sql[1600];
    put_sql(sql, sizeof sql);
    return put_row(s, sql, id, g);
}

static gw_status pg_plan_grid_remove(gw_store *s, int64_t id, int64_t base_version,
                                     const char *grid)
{
    char a[24], b[24];
    pg_i64(a, id), pg_i64(b, base_version);
    const char *v[] = {a, grid, b};
    /* A delete mark replaces the draft's row when the base has the grid, else the row goes */
    gw_status st = pg_exec(s,
                           "DELETE FROM plan_draft_grids WHERE draft_id = $1::bigint AND id = $2",
                           2, v, "cannot write the draft");
    if (!st)
        st = pg_exec(s,
                     "INSERT INTO plan_draft_grids (draft_id, id, op) SELECT $1::bigint, $2, "
                     "'delete' WHERE EXISTS (SELECT 1 FROM grids WHERE version = $3::bigint AND "
                     "id = $2)",
                     3, v, "cannot write the draft");
    return st;
}

/* ---- grid versions ------------------------------------------------------------------------- */

static gw_status pg_plan_version_grids(gw_store *s, int64_t version, const gw_bbox *bbox,
                                       gw_store_plan_grid_fn fn, void *user)
{
    char cols[256], sql[800], a[24], box[4][32];
    grid_cols(cols, sizeof cols, "");
    snprintf(sql, sizeof sql,
             "SELECT %s, ST_AsBinary(geom) FROM grids WHERE version = $1::bigint%s ORDER BY id "
             "COLLATE \"C\"",
             cols,
             bbox ? " AND geom && ST_MakeEnvelope($2::float8, $3::float8, $4::float8, $5::float8, "
                    "4326)"
                  : "");
    pg_i64(a, version);
    if (bbox) box_params(box, bbox);
    const char *v[] = {a, box[0], box[1], box[2], box[3]};
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *r = pg_run(s, sql, bbox ? 5 : 1, v, NULL, "cannot read the grids", &st);
    return r ? each_grid(s, r, 0, fn, user) : st;
}

static gw_status pg_plan_version_exists(gw_store *s, int64_t version, int *exists)
{
    char a[24];
    pg_i64(a, version);
    const char *v[] = {a};
    int64_t n = 0;
    gw_status st = pg_query_int(s, "SELECT count(*) FROM grid_versions WHERE version = $1::bigint",
                                1, v, &n, NULL);
    if (!st) *exists = n > 0;
    return st;
}

static gw_status pg_plan_version_add(gw_store *s, const char *name, const char *who,
                                     int64_t *version)
{
    gw_status st = pg_query_int(s, "SELECT COALESCE(max(version), 0) + 1 FROM grid_versions", 0,
                                NULL, version, NULL);
    char at[32], a[24];
    st_now_iso(at, sizeof at);
    if (!st) {
        pg_i64(a, *version);
        const char *v[] = {a, at, name, who};
        st = pg_exec(s,
                     "INSERT INTO grid_versions (version, created_at, name, created_by, "
                     "published_at, status) VALUES ($1::bigint, $2::timestamptz, $3, $4, "
                     "$2::timestamptz, 'archived')",
                     4, v, "cannot add the grid version");
    }
    return st;
}

static gw_status pg_plan_version_fill(gw_store *s, int64_t version, int64_t from, int64_t draft)
{
    char cols[256], sql[1200], a[24], b[24], c[24];
    grid_cols(cols, sizeof cols, "");
    pg_i64(a, version), pg_i64(b, from), pg_i64(c, draft);
    const char *v[] = {a, b, c};
    gw_status st = pg_flush_all(s);
    /* rows in id order, so the new version's fids follow ids as the SQLite engine's do */
    for (int pass = 0; pass < (draft ? 2 : 1) && !st; pass++) {
        if (!draft)
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, $1::bigint, geom FROM "
                     "grids WHERE version = $2::bigint ORDER BY id COLLATE \"C\"",
                     cols, cols);
        else if (pass == 0)
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, $1::bigint, geom FROM "
                     "grids WHERE version = $2::bigint AND id NOT IN (SELECT id FROM "
                     "plan_draft_grids WHERE draft_id = $3::bigint) ORDER BY id COLLATE \"C\"",
                     cols, cols);
        else
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, $1::bigint, "
                     "geom FROM plan_draft_grids WHERE draft_id = $2::bigint AND op = 'upsert' "
                     "ORDER BY id COLLATE \"C\"",
                     cols, cols);
        const char *w[] = {a, c};
        st = pg_exec(s, sql,
                     pass    ? 2
                     : draft ? 3
                             : 2,
                     pass ? w : v, "cannot write the new version");
    }
    return st;
}

static gw_status pg_plan_version_publish(gw_store *s, int64_t version)
{
    char a[24];
    pg_i64(a, version);
    const char *v[] = {a};
    gw_status st = pg_exec(s,
                           "UPDATE grid_versions SET status = 'archived' WHERE status = "
                           "'published'",
                           0, NULL, "cannot archive the version");
    if (!st) st = gw_store_meta_set(s, "grid_version", a);
    if (!st)
        st = pg_exec(s, "UPDATE grid_versions SET status = 'published' WHERE version = $1::bigint",
                     1, v, "cannot publish the version");
    return st;
}

static gw_status pg_plan_version_diff(gw_store *s, int64_t a, int64_t b, gw_store_plan_box_fn fn,
                                      void *user)
{
    char x[24], y[24];
    pg_i64(x, a), pg_i64(y, b);
    const char *v[] = {x, y};
    gw_status st = pg_flush_all(s);
    if (st) return st;
    PGresult *r = pg_run(
        s,
        "SELECT ST_XMin(a.geom), ST_YMin(a.geom), ST_XMax(a.geom), ST_YMax(a.geom) FROM grids a "
        "WHERE a.version IN ($1::bigint, $2::bigint) AND NOT EXISTS (SELECT 1 FROM grids b WHERE "
        "b.version = (CASE a.version WHEN $1::bigint THEN $2::bigint ELSE $1::bigint END) AND "
        "b.id = a.id AND ST_AsEWKB(b.geom) = ST_AsEWKB(a.geom)) ORDER BY a.fid",
        2, v, NULL, "cannot compare grid versions", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++) {
        gw_bbox box = {strtod(PQgetvalue(r, i, 0), NULL), strtod(PQgetvalue(r, i, 1), NULL),
                       strtod(PQgetvalue(r, i, 2), NULL), strtod(PQgetvalue(r, i, 3), NULL)};
        st = fn(user, &box);
    }
    PQclear(r);
    return st;
}

/* A text column, NULL for SQL NULL. */
static const char *col(const PGresult *r, int i, int c)
{
    return PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
}

static gw_status pg_plan_versions(gw_store *s, gw_store_plan_version_fn fn, void *user)
{
    gw_status st;
    PGresult *r = pg_run(s,
                         "SELECT v.version, v.name, v.status, gw_iso(v.created_at), v.created_by, "
                         "gw_iso(v.published_at), (SELECT count(*) FROM grids g WHERE g.version = "
                         "v.version), COALESCE(v.version = (SELECT value::bigint FROM meta WHERE "
                         "key = 'grid_version'), false)::int FROM grid_versions v ORDER BY "
                         "v.version DESC",
                         0, NULL, NULL, "versions", &st);
    if (!r) return st;
    for (int i = 0; i < PQntuples(r) && !st; i++) {
        gw_store_plan_version ver = {
            .version = strtoll(PQgetvalue(r, i, 0), NULL, 10),
            .name = col(r, i, 1),
            .status = col(r, i, 2),
            .created_at = col(r, i, 3),
            .created_by = col(r, i, 4),
            .published_at = col(r, i, 5),
            .grids = strtoll(PQgetvalue(r, i, 6), NULL, 10),
            .current = PQgetvalue(r, i, 7)[0] == '1',
        };
        st = fn(user, &ver);
    }
    PQclear(r);
    return st;
}

/* ---- the jurisdiction outline -------------------------------------------------------------- */

static gw_status pg_plan_jurisdiction_get(gw_store *s, unsigned char **wkb, size_t *len)
{
    *wkb = NULL, *len = 0;
    gw_status st;
    PGresult *r = pg_run(s, "SELECT ST_AsBinary(geom) FROM plan_jurisdiction WHERE id = 1", 0, NULL,
                         NULL, "cannot read the jurisdiction", &st);
    if (!r) return st;
    if (PQntuples(r) > 0 && !(*wkb = pg_unhex(PQgetvalue(r, 0, 0), len)))
        st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
    PQclear(r);
    return st;
}

static gw_status pg_plan_jurisdiction_exists(gw_store *s, int *exists)
{
    int64_t n = 0;
    gw_status st = pg_query_int(s, "SELECT count(*) FROM plan_jurisdiction", 0, NULL, &n, NULL);
    if (!st) *exists = n > 0;
    return st;
}

static gw_status pg_plan_jurisdiction_set(gw_store *s, const unsigned char *wkb, size_t len,
                                          const char *source)
{
    char at[32];
    st_now_iso(at, sizeof at);
    const char *v[] = {(const char *)wkb, source, at};
    int lens[] = {(int)len, 0, 0};
    gw_status st;
    PQclear(pg_run(s,
                   "INSERT INTO plan_jurisdiction (id, geom, source, set_at) VALUES (1, "
                   "ST_GeomFromWKB($1::bytea, 4326), $2, $3::timestamptz)",
                   3, v, lens, "cannot record the jurisdiction", &st));
    /* one recorded already: GW_ERR_DB, as the contract (and the SQLite engine) says */
    if (st == GW_ERR_CONFLICT) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", gw_ctx_errmsg(s->ctx));
        st = gw_ctx_error(s->ctx, GW_ERR_DB, "%s", msg);
    }
    return st;
}

/* ---- the table ----------------------------------------------------------------------------- */

const struct gw_store_plan_ops st_pg_plan_ops = {
    .draft_create = pg_plan_draft_create,
    .draft_get = pg_plan_draft_get,
    .draft_list = pg_plan_draft_list,
    .draft_delete = pg_plan_draft_delete,
    .draft_touch = pg_plan_draft_touch,
    .draft_published = pg_plan_draft_published,
    .draft_copy = pg_plan_draft_copy,
    .draft_replace = pg_plan_draft_replace,
    .draft_changes = pg_plan_draft_changes,
    .draft_grids = pg_plan_draft_grids,
    .grid_get = pg_plan_grid_get,
    .grid_exists = pg_plan_grid_exists,
    .grid_put = pg_plan_grid_put,
    .grid_remove = pg_plan_grid_remove,
    .version_grids = pg_plan_version_grids,
    .version_exists = pg_plan_version_exists,
    .version_add = pg_plan_version_add,
    .version_fill = pg_plan_version_fill,
    .version_publish = pg_plan_version_publish,
    .version_diff = pg_plan_version_diff,
    .versions = pg_plan_versions,
    .jurisdiction_get = pg_plan_jurisdiction_get,
    .jurisdiction_exists = pg_plan_jurisdiction_exists,
    .jurisdiction_set = pg_plan_jurisdiction_set,
    .incident_window = pg_plan_incident_window,
    .incident_counts = pg_plan_incident_counts,
    .incidents_open = pg_plan_incidents_open,
    .incidents_in = pg_plan_incidents_in,
    .incidents_close = pg_plan_incidents_close,
    .incidents_regrid = pg_plan_incidents_regrid,
    .cameras = pg_plan_cameras,
    .rooms = pg_plan_rooms,
};
