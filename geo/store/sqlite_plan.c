/* sqlite_plan.c — the SQLite engine's planning tables (store_plan.h): plan_drafts and
 * plan_draft_grids (a draft's own rows: upserts with fields and WKB, or delete marks),
 * grid_versions and the versioned grids rows, and plan_jurisdiction (the incident, camera and
 * police-room reads of validation, balance and suggestion are in sqlite_plan_reads.c).  Bulk
 * writes (publish, rollback, copying a draft) are one INSERT … SELECT each. */
#include "ops_plan.h"
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PQ_MAXF 16 /* grid fields a row can carry (gw_layer_fields(GW_LAYER_GRIDS)) */

/* How many grid fields a row carries. */
static size_t grid_nf(void)
{
    size_t nf;
    gw_layer_fields(GW_LAYER_GRIDS, &nf);
    return nf < PQ_MAXF ? nf : PQ_MAXF;
}

/* The grid fields as a quoted column list ("\"id\", \"name\", …"); their count. */
static size_t grid_cols(char *buf, size_t cap)
{
    size_t nf, used = 0;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    buf[0] = '\0';
    for (size_t i = 0; i < nf && i < PQ_MAXF; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s\"%s\"", i ? ", " : "", f[i].name);
    return nf < PQ_MAXF ? nf : PQ_MAXF;
}

/* Columns 0..nf-1 as values (integers for integer fields, text otherwise), wkb_col the WKB. */
static void read_grid(sqlite3_stmt *q, gw_value *v, int wkb_col, int own, gw_store_plan_grid *g)
{
    size_t nf;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    for (size_t i = 0; i < nf && i < PQ_MAXF; i++) {
        memset(&v[i], 0, sizeof v[i]);
        if (sqlite3_column_type(q, (int)i) == SQLITE_NULL) {
            v[i].kind = GW_VAL_NULL;
        } else if (f[i].type == GW_FT_INT) {
            v[i].kind = GW_VAL_INT;
            v[i].i = sqlite3_column_int64(q, (int)i);
        } else {
            v[i].kind = GW_VAL_TEXT;
            v[i].s = (const char *)sqlite3_column_text(q, (int)i);
        }
    }
    g->values = v;
    g->wkb = sqlite3_column_blob(q, wkb_col);
    g->wkb_len = (size_t)sqlite3_column_bytes(q, wkb_col);
    g->own = own;
}

/* Step q to the end, each row (fields, WKB at column nf, own flag at nf + 1 when own < 0) to
 * fn; finalizes q. */
static gw_status each_grid(gw_store *s, sqlite3_stmt *q, int own, gw_store_plan_grid_fn fn,
                           void *user, const char *what)
{
    size_t nf = grid_nf();
    gw_value v[PQ_MAXF];
    gw_status st = GW_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_plan_grid g;
        read_grid(q, v, (int)nf, own >= 0 ? own : sqlite3_column_int(q, (int)nf + 1), &g);
        if ((st = fn(user, &g))) break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, what);
    sqlite3_finalize(q);
    return st;
}

void st_bind_bbox(sqlite3_stmt *q, int first, const gw_bbox *b)
{
    sqlite3_bind_double(q, first, b->minx), sqlite3_bind_double(q, first + 1, b->miny);
    sqlite3_bind_double(q, first + 2, b->maxx), sqlite3_bind_double(q, first + 3, b->maxy);
}

/* A one-row, one-integer query with int64 parameters ?1, ?2 and text ?3; *found 0 when none. */
static gw_status query_int(gw_store *s, const char *sql, int64_t a, int64_t b, const char *t,
                           int64_t *out, int *found, const char *what)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, what);
    if (st) return st;
    int np = sqlite3_bind_parameter_count(q);
    if (np >= 1) sqlite3_bind_int64(q, 1, a);
    if (np >= 2) sqlite3_bind_int64(q, 2, b);
    if (np >= 3 && t) sqlite3_bind_text(q, 3, t, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (found) *found = rc == SQLITE_ROW;
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, what);
    sqlite3_finalize(q);
    return st;
}

/* Run one write with int64 parameters ?1, ?2 and text ?3, ?4, ?5 (NULL: unbound). */
static gw_status exec_w(gw_store *s, const char *sql, int64_t a, int64_t b, const char *t1,
                        const char *t2, const char *t3, const char *what)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, what);
    if (st) return st;
    int np = sqlite3_bind_parameter_count(q);
    if (np >= 1) sqlite3_bind_int64(q, 1, a);
    if (np >= 2) sqlite3_bind_int64(q, 2, b);
    const char *t[3] = {t1, t2, t3};
    for (int i = 0; i < 3 && 3 + i <= np; i++)
        if (t[i]) sqlite3_bind_text(q, 3 + i, t[i], -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, what);
    sqlite3_finalize(q);
    return st;
}

/* ---- drafts -------------------------------------------------------------------------------- */

gw_status sq_plan_draft_create(gw_store *s, const char *name, const char *who, int64_t base_version,
                               int64_t *id)
{
    char at[32];
    st_now_iso(at, sizeof at);
    gw_status st = exec_w(s,
                          "INSERT INTO plan_drafts (base_version, edits, name, created_by, "
                          "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                          base_version, 0, name, who, at, "cannot create the draft");
    if (!st && id) *id = sqlite3_last_insert_rowid(s->db);
    return st;
}

static const char draft_cols[] =
    "SELECT id, name, base_version, created_by, created_at, updated_at, edits, (SELECT count(*) "
    "FROM plan_draft_grids g WHERE g.draft_id = d.id), status, published_version FROM plan_drafts d";

static void read_draft(sqlite3_stmt *q, gw_store_plan_draft *d)
{
    const char *t;
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(q, 0);
    snprintf(d->name, sizeof d->name, "%s", (t = (const char *)sqlite3_column_text(q, 1)) ? t : "");
    d->base_version = sqlite3_column_int64(q, 2);
    if ((t = (const char *)sqlite3_column_text(q, 3)))
        snprintf(d->created_by, sizeof d->created_by, "%s", t);
    if ((t = (const char *)sqlite3_column_text(q, 4)))
        snprintf(d->created_at, sizeof d->created_at, "%s", t);
    if ((t = (const char *)sqlite3_column_text(q, 5)))
        snprintf(d->updated_at, sizeof d->updated_at, "%s", t);
    d->edits = sqlite3_column_int64(q, 6);
    d->changed = sqlite3_column_int64(q, 7);
    if ((t = (const char *)sqlite3_column_text(q, 8)))
        snprintf(d->status, sizeof d->status, "%s", t);
    d->published_version = sqlite3_column_int64(q, 9);
}

gw_status sq_plan_draft_get(gw_store *s, int64_t id, gw_store_plan_draft *out)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE id = ?1", draft_cols);
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read drafts");
    if (st) return st;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) read_draft(q, out);
    else if (rc == SQLITE_DONE)
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)id);
    else st = st_fail(s, "cannot read drafts");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_draft_list(gw_store *s, gw_store_plan_draft_fn fn, void *user)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s ORDER BY id DESC", draft_cols);
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot list drafts");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_plan_draft d;
        read_draft(q, &d);
        if ((st = fn(user, &d))) break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot list drafts");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_draft_delete(gw_store *s, int64_t id)
{
    gw_status st = exec_w(s, "DELETE FROM plan_draft_grids WHERE draft_id = ?1", id, 0, NULL, NULL,
                          NULL, "cannot delete the draft's grids");
    if (!st)
        st = exec_w(s, "DELETE FROM plan_drafts WHERE id = ?1", id, 0, NULL, NULL, NULL,
                    "cannot delete the draft");
    return st;
}

gw_status sq_plan_draft_touch(gw_store *s, int64_t id)
{
    char at[32];
    st_now_iso(at, sizeof at);
    return exec_w(s, "UPDATE plan_drafts SET edits = edits + 1, updated_at = ?3 WHERE id = ?1", id,
                  0, at, NULL, NULL, "cannot count the edit");
}

gw_status sq_plan_draft_published(gw_store *s, int64_t id, int64_t version)
{
    return exec_w(s,
                  "UPDATE plan_drafts SET status = 'published', published_version = ?1 WHERE "
                  "id = ?2",
                  version, id, NULL, NULL, NULL, "cannot mark the draft published");
}

gw_status sq_plan_draft_copy(gw_store *s, int64_t to, int64_t from)
{
    char cols[256], sql[900];
    grid_cols(cols, sizeof cols);
    snprintf(sql, sizeof sql,
             "INSERT INTO plan_draft_grids (draft_id, op, %s, geom) SELECT ?1, "
             "op, %s, geom FROM plan_draft_grids WHERE draft_id = ?2",
             cols, cols);
    return exec_w(s, sql, to, from, NULL, NULL, NULL, "cannot copy the draft");
}

/* The upsert of one grid row into a draft, prepared (caller finalizes). */
static gw_status put_prepare(gw_store *s, sqlite3_stmt **q)
{
    char cols[256], sql[900];
    size_t nf = grid_cols(cols, sizeof cols);
    int n = snprintf(sql, sizeof sql,
                     "INSERT OR REPLACE INTO plan_draft_grids (draft_id, op, %s, "
                     "geom) VALUES (?1, 'upsert'",
                     cols);
    for (size_t i = 0; i <= nf; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", ?%zu", i + 2);
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    return st_prepare(s, sql, 0, q, "cannot prepare the draft write");
}

static gw_status put_row(gw_store *s, sqlite3_stmt *q, int64_t id, const gw_store_plan_grid *g)
{
    size_t nf = grid_nf();
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    sqlite3_bind_int64(q, 1, id);
    for (size_t i = 0; i < nf; i++) {
        const gw_value *v = &g->values[i];
        int k = (int)i + 2;
        if (v->kind == GW_VAL_TEXT) sqlite3_bind_text(q, k, v->s, -1, SQLITE_STATIC);
        else if (v->kind == GW_VAL_INT) sqlite3_bind_int64(q, k, v->i);
        else if (v->kind == GW_VAL_REAL) sqlite3_bind_double(q, k, v->d);
    }
    sqlite3_bind_blob(q, (int)nf + 2, g->wkb, (int)g->wkb_len, SQLITE_STATIC);
    return sqlite3_step(q) == SQLITE_DONE ? GW_OK : st_fail(s, "cannot write the draft");
}

gw_status sq_plan_draft_replace(gw_store *s, int64_t id, int64_t base_version,
                                gw_store_plan_grid_src src, void *user, size_t *n)
{
    size_t k = 0;
    gw_status st = exec_w(s, "DELETE FROM plan_draft_grids WHERE draft_id = ?1", id, 0, NULL, NULL,
                          NULL, "cannot clear the draft");
    /* Base grids not in the new set are deletes; the set's grids are upserts over them. */
    if (!st)
        st = exec_w(s,
                    "INSERT INTO plan_draft_grids (draft_id, id, op) SELECT ?1, id, "
                    "'delete' FROM grids WHERE version = ?2",
                    id, base_version, NULL, NULL, NULL, "cannot clear the draft");
    sqlite3_stmt *q = NULL;
    if (!st) st = put_prepare(s, &q);
    gw_store_plan_grid g;
    while (!st && (st = src(user, &g)) == GW_OK) {
        if ((st = put_row(s, q, id, &g))) break;
        k++;
    }
    if (st == GW_ERR_NOT_FOUND) st = GW_OK;
    sqlite3_finalize(q);
    if (!st && n) *n = k;
    return st;
}

gw_status sq_plan_draft_changes(gw_store *s, int64_t id, int64_t base_version,
                                gw_store_plan_change_fn fn, void *user)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "SELECT g.id, g.op, EXISTS (SELECT 1 FROM grids b WHERE b.version "
                              "= ?2 AND b.id = g.id) FROM plan_draft_grids g WHERE g.draft_id = ?1 "
                              "ORDER BY g.id",
                              0, &q, "cannot read the draft's changes");
    if (st) return st;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, base_version);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(q, 1);
        if ((st = fn(user, (const char *)sqlite3_column_text(q, 0), op && strcmp(op, "delete") == 0,
                     sqlite3_column_int(q, 2))))
            break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot read the draft's changes");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_draft_grids(gw_store *s, int64_t id, unsigned parts, const gw_bbox *bbox,
                              gw_store_plan_grid_fn fn, void *user, int64_t *base)
{
    int64_t b = 0;
    int found = 0;
    gw_status st = query_int(s, "SELECT base_version FROM plan_drafts WHERE id = ?1", id, 0, NULL,
                             &b, &found, "cannot read drafts");
    if (st) return st;
    if (!found) return gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)id);
    if (base) *base = b;
    if (!(parts & (GW_STORE_PLAN_BASE | GW_STORE_PLAN_OWN))) return GW_OK;
    /* Base grids the draft has no row for (near bbox, by the spatial index), then its upserts;
     * the last column says which side a row came from. */
    char cols[256], sql[1600];
    grid_cols(cols, sizeof cols);
    int n = 0;
    if (parts & GW_STORE_PLAN_BASE)
        n = snprintf(sql, sizeof sql,
                     "SELECT %s, AsBinary(geom), 0 FROM grids WHERE version = ?1 "
                     "AND id NOT IN (SELECT id FROM plan_draft_grids WHERE draft_id = ?2)%s",
                     cols,
                     bbox
                         ? " AND fid IN (SELECT pkid FROM idx_grids_geom WHERE xmin <= ?5 AND xmax "
                           ">= ?3 AND ymin <= ?6 AND ymax >= ?4)"
                         : "");
    if (parts & GW_STORE_PLAN_OWN)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      "%sSELECT %s, geom, 1 FROM plan_draft_grids "
                      "WHERE draft_id = ?2 AND op = 'upsert'",
                      n ? " UNION ALL " : "", cols);
    if (parts & GW_STORE_PLAN_BY_ID) snprintf(sql + n, sizeof sql - (size_t)n, " ORDER BY 1");
    sqlite3_stmt *q;
    if ((st = st_prepare(s, sql, 0, &q, "cannot read the draft's grids"))) return st;
    sqlite3_bind_int64(q, 1, b);
    sqlite3_bind_int64(q, 2, id);
    if (bbox && (parts & GW_STORE_PLAN_BASE)) st_bind_bbox(q, 3, bbox);
    return each_grid(s, q, -1, fn, user, "cannot read the draft's grids");
}

gw_status sq_plan_grid_get(gw_store *s, int64_t id, int64_t base_version, const char *grid,
                           gw_store_plan_grid_fn fn, void *user)
{
    char cols[256], sql[600];
    size_t nf = grid_cols(cols, sizeof cols);
    snprintf(sql, sizeof sql,
             "SELECT %s, geom, op FROM plan_draft_grids WHERE draft_id = ?1 AND "
             "id = ?2",
             cols);
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read the draft");
    if (st) return st;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, grid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const char *op = (const char *)sqlite3_column_text(q, (int)nf + 1);
        if (op && strcmp(op, "delete") == 0) {
            st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "grid '%s' was removed in draft %lld", grid,
                              (long long)id);
        } else {
            gw_value v[PQ_MAXF];
            gw_store_plan_grid g;
            read_grid(q, v, (int)nf, 1, &g);
            st = fn(user, &g);
        }
        sqlite3_finalize(q);
        return st;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return st_fail(s, "cannot read the draft");
    snprintf(sql, sizeof sql,
             "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1 AND id = "
             "?2",
             cols);
    if ((st = st_prepare(s, sql, 0, &q, "cannot read the base grids"))) return st;
    sqlite3_bind_int64(q, 1, base_version);
    sqlite3_bind_text(q, 2, grid, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        gw_value v[PQ_MAXF];
        gw_store_plan_grid g;
        read_grid(q, v, (int)nf, 0, &g);
        st = fn(user, &g);
    } else if (rc == SQLITE_DONE) {
        st = gw_ctx_error(s->ctx, GW_ERR_NOT_FOUND, "no grid '%s' in draft %lld", grid,
                          (long long)id);
    } else {
        st = st_fail(s, "cannot read the base grids");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_grid_exists(gw_store *s, int64_t id, int64_t base_version, const char *grid,
                              int *exists)
{
    int64_t v = 0;
    int found = 0;
    gw_status st = query_int(s,
                             "SELECT EXISTS (SELECT 1 FROM plan_draft_grids WHERE draft_id = ?1 "
                             "AND id = ?3 AND op = 'upsert') OR (EXISTS (SELECT 1 FROM grids WHERE "
                             "version = ?2 AND id = ?3) AND NOT EXISTS (SELECT 1 FROM "
                             "plan_draft_grids WHERE draft_id = ?1 AND id = ?3))",
                             id, base_version, grid, &v, &found, "cannot check grid ids");
    if (!st && !found) st = st_fail(s, "cannot check grid ids");
    if (!st) *exists = v != 0;
    return st;
}

gw_status sq_plan_grid_put(gw_store *s, int64_t id, const gw_store_plan_grid *g)
{
    sqlite3_stmt *q = NULL;
    gw_status st = put_prepare(s, &q);
    if (!st) st = put_row(s, q, id, g);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_grid_remove(gw_store *s, int64_t id, int64_t base_version, const char *grid)
{
    int64_t inbase = 0;
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, "SELECT count(*) FROM grids WHERE version = ?1 AND id = ?2", 0, &q,
                              "cannot read the base grids");
    if (st) return st;
    sqlite3_bind_int64(q, 1, base_version);
    sqlite3_bind_text(q, 2, grid, -1, SQLITE_STATIC);
    inbase = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_finalize(q);
    const char *sql = inbase ? "INSERT OR REPLACE INTO plan_draft_grids (draft_id, id, op) VALUES "
                               "(?1, ?2, 'delete')"
                             : "DELETE FROM plan_draft_grids WHERE draft_id = ?1 AND id = ?2";
    if ((st = st_prepare(s, sql, 0, &q, "cannot write the draft"))) return st;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, grid, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write the draft");
    sqlite3_finalize(q);
    return st;
}

/* ---- grid versions ------------------------------------------------------------------------- */

gw_status sq_plan_version_grids(gw_store *s, int64_t version, const gw_bbox *bbox,
                                gw_store_plan_grid_fn fn, void *user)
{
    char cols[256], sql[800];
    grid_cols(cols, sizeof cols);
    snprintf(sql, sizeof sql,
             "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1%s ORDER BY "
             "id",
             cols,
             bbox ? " AND fid IN (SELECT pkid FROM idx_grids_geom WHERE xmin <= ?4 AND "
                    "xmax >= ?2 AND ymin <= ?5 AND ymax >= ?3)"
                  : "");
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, sql, 0, &q, "cannot read the grids");
    if (st) return st;
    sqlite3_bind_int64(q, 1, version);
    if (bbox) st_bind_bbox(q, 2, bbox);
    return each_grid(s, q, 0, fn, user, "cannot read the grids");
}

gw_status sq_plan_version_exists(gw_store *s, int64_t version, int *exists)
{
    int64_t n = 0;
    gw_status st = query_int(s, "SELECT count(*) FROM grid_versions WHERE version = ?1", version, 0,
                             NULL, &n, NULL, "cannot read the grid versions");
    if (!st) *exists = n > 0;
    return st;
}

gw_status sq_plan_version_add(gw_store *s, const char *name, const char *who, int64_t *version)
{
    gw_status st = query_int(s, "SELECT COALESCE(max(version), 0) + 1 FROM grid_versions", 0, 0,
                             NULL, version, NULL, "cannot read the grid versions");
    char at[32];
    st_now_iso(at, sizeof at);
    if (!st)
        st = exec_w(s,
                    "INSERT INTO grid_versions (version, created_at, name, created_by, "
                    "published_at, status) VALUES (?1, ?3, ?4, ?5, ?3, 'archived')",
                    *version, 0, at, name, who, "cannot add the grid version");
    return st;
}

gw_status sq_plan_version_fill(gw_store *s, int64_t version, int64_t from, int64_t draft)
{
    char cols[256], sql[1200];
    grid_cols(cols, sizeof cols);
    gw_status st = GW_OK;
    for (int pass = 0; pass < (draft ? 2 : 1) && !st; pass++) {
        if (!draft)
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, geom "
                     "FROM grids WHERE version = ?2 ORDER BY id",
                     cols, cols);
        else if (pass == 0)
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, geom "
                     "FROM grids WHERE version = ?2 AND id NOT IN (SELECT id FROM plan_draft_grids "
                     "WHERE draft_id = ?3) ORDER BY id",
                     cols, cols);
        else
            snprintf(sql, sizeof sql,
                     "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, "
                     "CastToMultiPolygon(GeomFromWKB(geom, 4326)) FROM plan_draft_grids WHERE "
                     "draft_id = ?3 AND op = 'upsert' ORDER BY id",
                     cols, cols);
        sqlite3_stmt *q;
        if ((st = st_prepare(s, sql, 0, &q, "cannot prepare the new version"))) break;
        sqlite3_bind_int64(q, 1, version);
        if (sqlite3_bind_parameter_count(q) >= 2) sqlite3_bind_int64(q, 2, from);
        if (sqlite3_bind_parameter_count(q) >= 3) sqlite3_bind_int64(q, 3, draft);
        if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot write the new version");
        sqlite3_finalize(q);
    }
    return st;
}

gw_status sq_plan_version_publish(gw_store *s, int64_t version)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)version);
    gw_status st = exec_w(s,
                          "UPDATE grid_versions SET status = 'archived' WHERE status = "
                          "'published'",
                          0, 0, NULL, NULL, NULL, "cannot archive the version");
    if (!st) st = gw_store_meta_set(s, "grid_version", buf);
    if (!st)
        st = exec_w(s, "UPDATE grid_versions SET status = 'published' WHERE version = ?1", version,
                    0, NULL, NULL, NULL, "cannot publish the version");
    return st;
}

gw_status sq_plan_version_diff(gw_store *s, int64_t a, int64_t b, gw_store_plan_box_fn fn,
                               void *user)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(
        s,
        "SELECT MbrMinX(a.geom), MbrMinY(a.geom), MbrMaxX(a.geom), MbrMaxY(a.geom) FROM grids a "
        "WHERE a.version IN (?1, ?2) AND NOT EXISTS (SELECT 1 FROM grids b WHERE b.version = "
        "(CASE a.version WHEN ?1 THEN ?2 ELSE ?1 END) AND b.id = a.id AND b.geom = a.geom)",
        0, &q, "cannot compare grid versions");
    if (st) return st;
    sqlite3_bind_int64(q, 1, a);
    sqlite3_bind_int64(q, 2, b);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_bbox box = {sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                       sqlite3_column_double(q, 2), sqlite3_column_double(q, 3)};
        if ((st = fn(user, &box))) break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "cannot compare grid versions");
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_versions(gw_store *s, gw_store_plan_version_fn fn, void *user)
{
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "SELECT v.version, v.name, v.status, v.created_at, v.created_by, "
                              "v.published_at, (SELECT count(*) FROM grids g WHERE g.version = "
                              "v.version), v.version = (SELECT CAST(value AS INTEGER) FROM meta "
                              "WHERE key = 'grid_version') FROM grid_versions v ORDER BY v.version "
                              "DESC",
                              0, &q, "versions");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_plan_version v = {
            .version = sqlite3_column_int64(q, 0),
            .name = (const char *)sqlite3_column_text(q, 1),
            .status = (const char *)sqlite3_column_text(q, 2),
            .created_at = (const char *)sqlite3_column_text(q, 3),
            .created_by = (const char *)sqlite3_column_text(q, 4),
            .published_at = (const char *)sqlite3_column_text(q, 5),
            .grids = sqlite3_column_int64(q, 6),
            .current = sqlite3_column_int(q, 7),
        };
        if ((st = fn(user, &v))) break;
    }
    if (!st && rc != SQLITE_DONE) st = st_fail(s, "versions");
    sqlite3_finalize(q);
    return st;
}

/* ---- the jurisdiction outline -------------------------------------------------------------- */

gw_status sq_plan_jurisdiction_get(gw_store *s, unsigned char **wkb, size_t *len)
{
    *wkb = NULL, *len = 0;
    sqlite3_stmt *q;
    gw_status st = st_prepare(s, "SELECT geom FROM plan_jurisdiction WHERE id = 1", 0, &q,
                              "cannot read the jurisdiction");
    if (st) return st;
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        const void *b = sqlite3_column_blob(q, 0);
        if (!(*wkb = malloc(n ? n : 1))) {
            st = gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory");
        } else {
            if (n) memcpy(*wkb, b, n);
            *len = n;
        }
    } else if (rc != SQLITE_DONE) {
        st = st_fail(s, "jurisdiction");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_plan_jurisdiction_exists(gw_store *s, int *exists)
{
    int64_t n = 0;
    gw_status st = query_int(s, "SELECT count(*) FROM plan_jurisdiction", 0, 0, NULL, &n, NULL,
                             "cannot read the jurisdiction");
    if (!st) *exists = n > 0;
    return st;
}

gw_status sq_plan_jurisdiction_set(gw_store *s, const unsigned char *wkb, size_t len,
                                   const char *source)
{
    char at[32];
    st_now_iso(at, sizeof at);
    sqlite3_stmt *q;
    gw_status st = st_prepare(s,
                              "INSERT INTO plan_jurisdiction (id, geom, source, set_at) VALUES "
                              "(1, ?1, ?2, ?3)",
                              0, &q, "cannot record the jurisdiction");
    if (st) return st;
    sqlite3_bind_blob(q, 1, wkb, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, at, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot record the jurisdiction");
    sqlite3_finalize(q);
    return st;
}
