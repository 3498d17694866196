/* plan.c — grid planning drafts and versions: copy-on-write drafts over a published grid
 * version, publish (a new version in one transaction, incidents re-resolved where grids
 * changed), rollback (a byte-for-byte copy of an earlier version as the next one), diff, list,
 * import of a whole layout, and the grid-set loaders plan_edit.c and plan_validate.c share. */
#include "gridwatch/io.h"
#include "plan_internal.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- working context ----------------------------------------------------------------------- */

gw_status pl_db_fail(pl *p, const char *what)
{
    return gw_ctx_error(p->ctx, GW_ERR_DB, "%s: %s (database %s)", what, sqlite3_errmsg(p->db),
                        gw_store_path(p->s));
}

gw_status pl_geos_fail(pl *p, const char *what)
{
    const char *m = gw_ctx_geos_errmsg(p->ctx);
    return gw_ctx_error(p->ctx, GW_ERR_GEOMETRY, "%s failed%s%s", what, *m ? ": " : "", m);
}

void pl_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

gw_status pl_query_int(pl *p, const char *sql, int64_t a, int64_t b, int64_t *out, int *found)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    int np = sqlite3_bind_parameter_count(q);
    if (np >= 1) sqlite3_bind_int64(q, 1, a);
    if (np >= 2) sqlite3_bind_int64(q, 2, b);
    int rc = sqlite3_step(q);
    if (found) *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GW_OK : pl_db_fail(p, sql);
}

gw_status pl_current_version(pl *p, int64_t *v)
{
    int found = 0;
    gw_status st = pl_query_int(p, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
                                   "'grid_version'", 0, 0, v, &found);
    if (!st && (!found || *v < 1)) *v = 1;
    return st;
}

gw_status pl_open(gw_store *s, pl *p)
{
    memset(p, 0, sizeof *p);
    if (!s) return GW_ERR_ARG;
    p->s = s;
    p->ctx = gw_store_ctx(s);
    p->h = gw_ctx_geos(p->ctx);
    p->db = gw_store_db(s);
    p->rd = GEOSWKBReader_create_r(p->h);
    p->wr = GEOSWKBWriter_create_r(p->h);
    if (!p->rd || !p->wr) {
        pl_close(p);
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    }
    GEOSWKBWriter_setOutputDimension_r(p->h, p->wr, 2);
    size_t nf, used = 0;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    if (nf != PL_NF) {
        pl_close(p);
        return gw_ctx_error(p->ctx, GW_ERR_INTERNAL, "plan: grids have %zu fields, expected %d",
                            nf, PL_NF);
    }
    for (size_t i = 0; i < nf; i++)
        used += (size_t)snprintf(p->cols + used, sizeof p->cols - used, "%s\"%s\"", i ? ", " : "",
                                 f[i].name);
    gw_status st = gw_store_metric_srid(s, &p->srid);
    if (!st && p->srid <= 0) {
        gw_bbox b;
        st = gw_store_extent(s, GW_LAYER_GRIDS, &b);
        if (st == GW_ERR_NOT_FOUND) {
            gw_ctx_clear_error(p->ctx);
            b = (gw_bbox){0, 0, 0, 0};
            st = GW_OK;
        }
        if (!st) p->srid = gw_crs_metric_for((b.minx + b.maxx) / 2, (b.miny + b.maxy) / 2);
    }
    if (!st) {
        gw_crs ll = {GW_CRS_EPSG, 4326}, m = {GW_CRS_EPSG, p->srid};
        st = gw_crs_transform_create(p->ctx, ll, m, &p->to_m);
    }
    if (st) pl_close(p);
    return st;
}

void pl_close(pl *p)
{
    if (!p || !p->h) return;
    if (p->rd) GEOSWKBReader_destroy_r(p->h, p->rd);
    if (p->wr) GEOSWKBWriter_destroy_r(p->h, p->wr);
    gw_crs_transform_destroy(p->to_m);
    memset(p, 0, sizeof *p);
}

/* Area on the WGS84 ellipsoid of a polygon whose edges are straight in lon/lat:
 * A = -∮ G(φ) dλ with G(φ) = ∫ M(φ)N(φ)cos φ dφ from the ring's first latitude (Green's theorem),
 * each edge by 2-point Gauss–Legendre, G by 3-point Gauss–Legendre.  Unlike the area after a
 * vertex-wise transform to the metric CRS (where a straight lon/lat edge becomes a chord and
 * the area depends on how many vertices lie along it), this integral is additive: pieces that
 * tile a polygon exactly in lon/lat sum to its area, so tolerances can be tight. */
static double ell_f(double phi)
{
    static const double a = 6378137.0, f = 1 / 298.257223563;
    const double e2 = f * (2 - f), s = sin(phi), w = 1 - e2 * s * s;
    return a * a * (1 - e2) * cos(phi) / (w * w);
}

static double ell_g(double phi0, double phi)
{
    static const double x[3] = {-0.7745966692414834, 0, 0.7745966692414834};
    static const double wt[3] = {5.0 / 9, 8.0 / 9, 5.0 / 9};
    double h = (phi - phi0) / 2, m = (phi + phi0) / 2, sum = 0;
    for (int i = 0; i < 3; i++) sum += wt[i] * ell_f(m + h * x[i]);
    return sum * h;
}

static double ring_area(GEOSContextHandle_t h, const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 4) return 0;
    const double d2r = M_PI / 180, t1 = 0.5 - 0.5 / sqrt(3.0), t2 = 0.5 + 0.5 / sqrt(3.0);
    double x0, y0, sum = 0, phi0;
    GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
    phi0 = y0 * d2r;
    for (unsigned i = 1; i < n; i++) {
        double x1, y1;
        GEOSCoordSeq_getXY_r(h, cs, i, &x1, &y1);
        double dl = (x1 - x0) * d2r, pa = y0 * d2r, dp = (y1 - y0) * d2r;
        if (dl != 0) sum -= dl * (ell_g(phi0, pa + t1 * dp) + ell_g(phi0, pa + t2 * dp)) / 2;
        x0 = x1, y0 = y1;
    }
    return fabs(sum);
}

double pl_area_m2(pl *p, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(p->h, g);
    if (t == GEOS_POLYGON) {
        double a = ring_area(p->h, GEOSGetExteriorRing_r(p->h, g));
        int nh = GEOSGetNumInteriorRings_r(p->h, g);
        for (int i = 0; i < nh; i++) a -= ring_area(p->h, GEOSGetInteriorRingN_r(p->h, g, i));
        return a;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        double a = 0;
        int n = GEOSGetNumGeometries_r(p->h, g);
        for (int i = 0; i < n; i++) a += pl_area_m2(p, GEOSGetGeometryN_r(p->h, g, i));
        return a;
    }
    return 0;
}

GEOSGeometry *pl_union(pl *p, GEOSGeometry *const *g, size_t n)
{
    GEOSGeometry **cl = malloc((n ? n : 1) * sizeof *cl);
    if (!cl) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (g[i] && (cl[k] = GEOSGeom_clone_r(p->h, g[i]))) k++;
    GEOSGeometry *c = GEOSGeom_createCollection_r(p->h, GEOS_GEOMETRYCOLLECTION, cl, (unsigned)k);
    free(cl);
    if (!c) return NULL;
    GEOSGeometry *u = GEOSUnaryUnion_r(p->h, c);
    GEOSGeom_destroy_r(p->h, c);
    return u;
}

/* ---- grid sets ----------------------------------------------------------------------------- */

void pl_grid_clear(pl *p, pl_grid *g)
{
    for (int i = 0; i < PL_NF; i++) free(g->text[i]);
    if (g->g) GEOSGeom_destroy_r(p->h, g->g);
    memset(g, 0, sizeof *g);
}

void pl_set_free(pl *p, pl_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) pl_grid_clear(p, &set->g[i]);
    free(set->g);
    memset(set, 0, sizeof *set);
}

gw_status pl_read_row(pl *p, sqlite3_stmt *q, pl_grid *g)
{
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, NULL);
    memset(g, 0, sizeof *g);
    for (int i = 0; i < PL_NF; i++) {
        g->null[i] = sqlite3_column_type(q, i) == SQLITE_NULL;
        if (g->null[i]) continue;
        if (f[i].type == GW_FT_INT) {
            g->num[i] = sqlite3_column_int64(q, i);
        } else if (!(g->text[i] = strdup((const char *)sqlite3_column_text(q, i)))) {
            pl_grid_clear(p, g);
            return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
        }
    }
    const void *wkb = sqlite3_column_blob(q, PL_NF);
    int len = sqlite3_column_bytes(q, PL_NF);
    if (wkb && len > 0) g->g = GEOSWKBReader_read_r(p->h, p->rd, wkb, (size_t)len);
    if (!g->g) {
        gw_status st = gw_ctx_error(p->ctx, GW_ERR_GEOMETRY, "grid '%s': stored geometry cannot "
                                    "be read", g->text[0] ? g->text[0] : "?");
        pl_grid_clear(p, g);
        return st;
    }
    return GW_OK;
}

static gw_status load(pl *p, sqlite3_stmt *q, pl_set *out)
{
    memset(out, 0, sizeof *out);
    gw_status st = GW_OK;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 256;
            pl_grid *ng = realloc(out->g, cap * sizeof *ng);
            if (!ng) {
                st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            out->g = ng, out->cap = cap;
        }
        if ((st = pl_read_row(p, q, &out->g[out->n]))) break;
        out->n++;
    }
    if (!st && rc != SQLITE_DONE) st = pl_db_fail(p, "cannot read the grids");
    sqlite3_finalize(q);
    if (st) pl_set_free(p, out);
    return st;
}

gw_status pl_draft_grid(pl *p, int64_t draft, int64_t base, const char *id, pl_grid *g)
{
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT %s, geom, op FROM plan_draft_grids WHERE draft_id = ?1 AND "
             "id = ?2", p->cols);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    sqlite3_bind_int64(q, 1, draft);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    gw_status st = GW_OK;
    if (rc == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(q, PL_NF + 1), "delete") == 0)
            st = gw_ctx_error(p->ctx, GW_ERR_NOT_FOUND, "grid '%s' was removed in draft %lld",
                              id, (long long)draft);
        else
            st = pl_read_row(p, q, g);
        sqlite3_finalize(q);
        return st;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return pl_db_fail(p, "cannot read the draft");
    snprintf(sql, sizeof sql, "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1 AND id = "
             "?2", p->cols);
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    sqlite3_bind_int64(q, 1, base);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        st = pl_read_row(p, q, g);
    else if (rc == SQLITE_DONE)
        st = gw_ctx_error(p->ctx, GW_ERR_NOT_FOUND, "no grid '%s' in draft %lld", id,
                          (long long)draft);
    else
        st = pl_db_fail(p, "cannot read the base grids");
    sqlite3_finalize(q);
    return st;
}

gw_status pl_load_version(pl *p, int64_t version, pl_set *out)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1 ORDER BY id",
             p->cols);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    sqlite3_bind_int64(q, 1, version);
    return load(p, q, out);
}

gw_status pl_load_draft(pl *p, int64_t draft, pl_set *out, int64_t *base)
{
    int64_t b = 0;
    int found = 0;
    gw_status st = pl_query_int(p, "SELECT base_version FROM plan_drafts WHERE id = ?1", draft, 0,
                                &b, &found);
    if (st) return st;
    if (!found) return gw_ctx_error(p->ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)draft);
    if (base) *base = b;
    char sql[1200];
    snprintf(sql, sizeof sql, "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1 AND id NOT "
             "IN (SELECT id FROM plan_draft_grids WHERE draft_id = ?2) UNION ALL SELECT %s, geom "
             "FROM plan_draft_grids WHERE draft_id = ?2 AND op = 'upsert' ORDER BY 1", p->cols,
             p->cols);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    sqlite3_bind_int64(q, 1, b);
    sqlite3_bind_int64(q, 2, draft);
    return load(p, q, out);
}

gw_status pl_jurisdiction(pl *p, GEOSGeometry **out)
{
    *out = NULL;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, "SELECT geom FROM plan_jurisdiction WHERE id = 1", -1, &q,
                           NULL) != SQLITE_OK)
        return pl_db_fail(p, "cannot read the jurisdiction");
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *out = GEOSWKBReader_read_r(p->h, p->rd, sqlite3_column_blob(q, 0),
                                    (size_t)sqlite3_column_bytes(q, 0));
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW && !*out) return pl_geos_fail(p, "reading the jurisdiction outline");
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GW_OK : pl_db_fail(p, "jurisdiction");
}

/* Record the union of the published grids as the jurisdiction when none is recorded yet. */
static gw_status ensure_jurisdiction(pl *p, int64_t version)
{
    int64_t n = 0;
    int found = 0;
    gw_status st = pl_query_int(p, "SELECT count(*) FROM plan_jurisdiction", 0, 0, &n, &found);
    if (st || n > 0) return st;
    pl_set set;
    if ((st = pl_load_version(p, version, &set))) return st;
    if (set.n == 0) {
        pl_set_free(p, &set);
        return GW_OK;
    }
    GEOSGeometry **gs = malloc(set.n * sizeof *gs);
    if (!gs) {
        pl_set_free(p, &set);
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < set.n; i++) gs[i] = set.g[i].g;
    GEOSGeometry *u = pl_union(p, gs, set.n);
    free(gs);
    pl_set_free(p, &set);
    if (!u) return pl_geos_fail(p, "union of the published grids (jurisdiction)");
    size_t len = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(p->h, p->wr, u, &len);
    GEOSGeom_destroy_r(p->h, u);
    if (!wkb) return pl_geos_fail(p, "writing the jurisdiction");
    sqlite3_stmt *q;
    char at[32], src[64];
    pl_now(at, sizeof at);
    snprintf(src, sizeof src, "union of grid version %lld", (long long)version);
    if (sqlite3_prepare_v2(p->db, "INSERT INTO plan_jurisdiction (id, geom, source, set_at) "
                           "VALUES (1, ?1, ?2, ?3)", -1, &q, NULL) != SQLITE_OK) {
        GEOSFree_r(p->h, wkb);
        return pl_db_fail(p, "cannot record the jurisdiction");
    }
    sqlite3_bind_blob(q, 1, wkb, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, src, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, at, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = pl_db_fail(p, "cannot record the jurisdiction");
    sqlite3_finalize(q);
    GEOSFree_r(p->h, wkb);
    return st;
}

/* ---- drafts -------------------------------------------------------------------------------- */

static gw_status exec_sql(pl *p, const char *sql, int64_t a, int64_t b, const char *t1,
                          const char *t2, const char *t3)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) return pl_db_fail(p, sql);
    int np = sqlite3_bind_parameter_count(q);
    if (np >= 1) sqlite3_bind_int64(q, 1, a);
    if (np >= 2) sqlite3_bind_int64(q, 2, b);
    const char *t[3] = {t1, t2, t3};
    for (int i = 0; i < 3 && 3 + i <= np; i++)
        if (t[i]) sqlite3_bind_text(q, 3 + i, t[i], -1, SQLITE_STATIC);
    gw_status st = sqlite3_step(q) == SQLITE_DONE ? GW_OK : pl_db_fail(p, "plan write failed");
    sqlite3_finalize(q);
    return st;
}

static void audit_detail(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void audit_detail(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

gw_status gw_plan_draft_create(gw_store *s, const char *name, const char *who, int64_t *id)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    if (!name || !*name || strlen(name) >= sizeof ((gw_plan_draft *)0)->name) {
        pl_close(&p);
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_ARG, "a draft needs a name of 1 to 127 bytes");
    }
    int64_t v = 0;
    if (!(st = gw_store_begin(s))) {
        char at[32], detail[256];
        pl_now(at, sizeof at);
        if (!(st = pl_current_version(&p, &v)))
            st = exec_sql(&p, "INSERT INTO plan_drafts (base_version, edits, name, created_by, "
                          "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)", v, 0, name,
                          who, at);
        int64_t nid = sqlite3_last_insert_rowid(p.db);
        if (!st) st = ensure_jurisdiction(&p, v);
        audit_detail(detail, sizeof detail, "{\"draft\":%lld,\"base_version\":%lld}",
                     (long long)nid, (long long)v);
        if (!st) st = gw_store_audit(s, who, "plan.draft.create", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (id) *id = nid;
    }
    pl_close(&p);
    return st;
}

static const char draft_cols[] =
    "SELECT id, name, base_version, created_by, created_at, updated_at, edits, (SELECT count(*) "
    "FROM plan_draft_grids g WHERE g.draft_id = d.id), status, published_version FROM plan_drafts d";

static void read_draft(sqlite3_stmt *q, gw_plan_draft *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(q, 0);
    snprintf(d->name, sizeof d->name, "%s", (const char *)sqlite3_column_text(q, 1));
    d->base_version = sqlite3_column_int64(q, 2);
    if (sqlite3_column_text(q, 3))
        snprintf(d->created_by, sizeof d->created_by, "%s", (const char *)sqlite3_column_text(q, 3));
    snprintf(d->created_at, sizeof d->created_at, "%s", (const char *)sqlite3_column_text(q, 4));
    snprintf(d->updated_at, sizeof d->updated_at, "%s", (const char *)sqlite3_column_text(q, 5));
    d->edits = sqlite3_column_int64(q, 6);
    d->changed = sqlite3_column_int64(q, 7);
    snprintf(d->status, sizeof d->status, "%s", (const char *)sqlite3_column_text(q, 8));
    d->published_version = sqlite3_column_int64(q, 9);
}

gw_status gw_plan_draft_list(gw_store *s, gw_plan_draft **out, size_t *n)
{
    if (!s || !out || !n) return GW_ERR_ARG;
    *out = NULL, *n = 0;
    sqlite3 *db = gw_store_db(s);
    char sql[512];
    snprintf(sql, sizeof sql, "%s ORDER BY id DESC", draft_cols);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_DB, "cannot list drafts: %s", sqlite3_errmsg(db));
    size_t cap = 0;
    gw_status st = GW_OK;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            gw_plan_draft *nd = realloc(*out, cap * sizeof *nd);
            if (!nd) {
                st = gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
                break;
            }
            *out = nd;
        }
        read_draft(q, &(*out)[(*n)++]);
    }
    sqlite3_finalize(q);
    if (st) free(*out), *out = NULL, *n = 0;
    return st;
}

gw_status gw_plan_draft_get(gw_store *s, int64_t id, gw_plan_draft *out)
{
    if (!s || !out) return GW_ERR_ARG;
    sqlite3 *db = gw_store_db(s);
    char sql[512];
    snprintf(sql, sizeof sql, "%s WHERE id = ?1", draft_cols);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_DB, "cannot read drafts: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(q, 1, id);
    gw_status st = GW_OK;
    if (sqlite3_step(q) == SQLITE_ROW)
        read_draft(q, out);
    else
        st = gw_ctx_error(gw_store_ctx(s), GW_ERR_NOT_FOUND, "no draft %lld", (long long)id);
    sqlite3_finalize(q);
    return st;
}

gw_status gw_plan_draft_delete(gw_store *s, int64_t id, const char *who)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return st;
    pl p;
    if ((st = pl_open(s, &p))) return st;
    if (!(st = gw_store_begin(s))) {
        char detail[256];
        st = exec_sql(&p, "DELETE FROM plan_draft_grids WHERE draft_id = ?1", id, 0, 0, 0, 0);
        if (!st) st = exec_sql(&p, "DELETE FROM plan_drafts WHERE id = ?1", id, 0, 0, 0, 0);
        audit_detail(detail, sizeof detail, "{\"draft\":%lld,\"changed\":%lld}", (long long)id,
                     (long long)d.changed);
        if (!st) st = gw_store_audit(s, who, "plan.draft.delete", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
    }
    pl_close(&p);
    return st;
}

static char *dump(json_t *doc)
{
    char *t = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return t;
}

gw_status gw_plan_draft_diff(gw_store *s, int64_t id, char **json)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, id, &d);
    if (st) return st;
    sqlite3 *db = gw_store_db(s);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT g.id, g.op, EXISTS (SELECT 1 FROM grids b WHERE b.version "
                           "= ?2 AND b.id = g.id) FROM plan_draft_grids g WHERE g.draft_id = ?1 "
                           "ORDER BY g.id", -1, &q, NULL) != SQLITE_OK)
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_DB, "diff: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, d.base_version);
    json_t *doc = json_object(), *add = json_array(), *chg = json_array(), *del = json_array();
    json_object_set_new(doc, "draft", json_integer(id));
    json_object_set_new(doc, "base_version", json_integer(d.base_version));
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *gid = (const char *)sqlite3_column_text(q, 0);
        const char *op = (const char *)sqlite3_column_text(q, 1);
        json_t *to = strcmp(op, "delete") == 0 ? del : sqlite3_column_int(q, 2) ? chg : add;
        json_array_append_new(to, json_string(gid));
    }
    sqlite3_finalize(q);
    json_object_set_new(doc, "added", add);
    json_object_set_new(doc, "changed", chg);
    json_object_set_new(doc, "deleted", del);
    json_object_set_new(doc, "edits", json_integer(d.edits));
    if (!(*json = dump(doc))) return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* ---- publish, rollback --------------------------------------------------------------------- */

/* An incident resolver over the grids of one version near the changed area. */
typedef struct resolver {
    pl *p;
    GEOSSTRtree *tree;
    pl_set set;
    const GEOSPreparedGeometry **prep;
    const GEOSGeometry *pt;
    const char *best;
} resolver;

static void resolve_cb(void *item, void *user)
{
    resolver *r = user;
    size_t i = (size_t)(uintptr_t)item - 1;
    const char *id = r->set.g[i].text[0];
    if (r->best && strcmp(id, r->best) >= 0) return;
    if (GEOSPreparedIntersects_r(r->p->h, r->prep[i], r->pt) == 1) r->best = id;
}

/* Re-resolve incidents.grid wherever the grids of `newv` differ from those of `oldv`, the same
 * way incident writes resolve it (the lowest id among grids intersecting the point).  *box
 * receives the lon/lat box of the changes; *n the incidents whose grid changed. */
static gw_status reresolve(pl *p, int64_t oldv, int64_t newv, gw_bbox *box, int64_t *n)
{
    *n = 0;
    *box = (gw_bbox){INFINITY, INFINITY, -INFINITY, -INFINITY};
    sqlite3_stmt *q = NULL, *inc = NULL, *upd = NULL;
    gw_bbox *boxes = NULL;
    size_t nb = 0, cb = 0;
    gw_status st = GW_OK;
    if (sqlite3_prepare_v2(p->db,
            "SELECT MbrMinX(a.geom), MbrMinY(a.geom), MbrMaxX(a.geom), MbrMaxY(a.geom) FROM grids "
            "a WHERE a.version IN (?1, ?2) AND NOT EXISTS (SELECT 1 FROM grids b WHERE b.version "
            "= (CASE a.version WHEN ?1 THEN ?2 ELSE ?1 END) AND b.id = a.id AND b.geom = a.geom)",
            -1, &q, NULL) != SQLITE_OK)
        return pl_db_fail(p, "cannot compare grid versions");
    sqlite3_bind_int64(q, 1, oldv);
    sqlite3_bind_int64(q, 2, newv);
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (nb == cb) {
            cb = cb ? cb * 2 : 64;
            gw_bbox *nbx = realloc(boxes, cb * sizeof *nbx);
            if (!nbx) {
                st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            boxes = nbx;
        }
        gw_bbox b = {sqlite3_column_double(q, 0), sqlite3_column_double(q, 1),
                     sqlite3_column_double(q, 2), sqlite3_column_double(q, 3)};
        boxes[nb++] = b;
        box->minx = fmin(box->minx, b.minx), box->miny = fmin(box->miny, b.miny);
        box->maxx = fmax(box->maxx, b.maxx), box->maxy = fmax(box->maxy, b.maxy);
    }
    sqlite3_finalize(q);
    if (st || nb == 0) {
        free(boxes);
        return st;
    }
    /* The new version's grids near the changes, with prepared geometries and an STRtree. */
    resolver r = {p, NULL, {0}, NULL, NULL, NULL};
    char sql[700];
    snprintf(sql, sizeof sql, "SELECT %s, AsBinary(geom) FROM grids WHERE version = ?1 AND fid IN "
             "(SELECT pkid FROM idx_grids_geom WHERE xmin <= ?4 AND xmax >= ?2 AND ymin <= ?5 AND "
             "ymax >= ?3) ORDER BY id", p->cols);
    if (sqlite3_prepare_v2(p->db, sql, -1, &q, NULL) != SQLITE_OK) {
        free(boxes);
        return pl_db_fail(p, "cannot read the new grids");
    }
    sqlite3_bind_int64(q, 1, newv);
    sqlite3_bind_double(q, 2, box->minx), sqlite3_bind_double(q, 3, box->miny);
    sqlite3_bind_double(q, 4, box->maxx), sqlite3_bind_double(q, 5, box->maxy);
    if ((st = load(p, q, &r.set))) {
        free(boxes);
        return st;
    }
    r.tree = GEOSSTRtree_create_r(p->h, 10);
    r.prep = calloc(r.set.n ? r.set.n : 1, sizeof *r.prep);
    if (!r.tree || !r.prep) st = gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < r.set.n; i++) {
        r.prep[i] = GEOSPrepare_r(p->h, r.set.g[i].g);
        if (!r.prep[i]) st = pl_geos_fail(p, "preparing a grid");
        else GEOSSTRtree_insert_r(p->h, r.tree, r.set.g[i].g, (void *)(uintptr_t)(i + 1));
    }
    if (!st && (sqlite3_prepare_v2(p->db, "SELECT fid, X(geom), Y(geom), grid FROM incidents WHERE "
                "fid IN (SELECT pkid FROM idx_incidents_geom WHERE xmin <= ?3 AND xmax >= ?1 AND "
                "ymin <= ?4 AND ymax >= ?2)", -1, &inc, NULL) != SQLITE_OK ||
                sqlite3_prepare_v2(p->db, "UPDATE incidents SET grid = ?2 WHERE fid = ?1", -1,
                                   &upd, NULL) != SQLITE_OK))
        st = pl_db_fail(p, "cannot prepare the incident update");
    GEOSGeometry *pt = NULL;
    for (size_t b = 0; !st && b < nb; b++) {
        sqlite3_reset(inc);
        sqlite3_bind_double(inc, 1, boxes[b].minx), sqlite3_bind_double(inc, 2, boxes[b].miny);
        sqlite3_bind_double(inc, 3, boxes[b].maxx), sqlite3_bind_double(inc, 4, boxes[b].maxy);
        int rc;
        while (!st && (rc = sqlite3_step(inc)) == SQLITE_ROW) {
            double x = sqlite3_column_double(inc, 1), y = sqlite3_column_double(inc, 2);
            const char *old = (const char *)sqlite3_column_text(inc, 3);
            if (pt) GEOSGeom_destroy_r(p->h, pt);
            pt = GEOSGeom_createPointFromXY_r(p->h, x, y);
            if (!pt) {
                st = pl_geos_fail(p, "making a point");
                break;
            }
            r.pt = pt, r.best = NULL;
            GEOSSTRtree_query_r(p->h, r.tree, pt, resolve_cb, &r);
            if ((r.best == NULL) == (old == NULL) && (!old || strcmp(old, r.best) == 0)) continue;
            sqlite3_reset(upd);
            sqlite3_bind_int64(upd, 1, sqlite3_column_int64(inc, 0));
            if (r.best) sqlite3_bind_text(upd, 2, r.best, -1, SQLITE_STATIC);
            else sqlite3_bind_null(upd, 2);
            if (sqlite3_step(upd) != SQLITE_DONE) st = pl_db_fail(p, "cannot update an incident");
            else (*n)++;
        }
        if (!st && rc != SQLITE_DONE) st = pl_db_fail(p, "cannot read incidents");
    }
    if (pt) GEOSGeom_destroy_r(p->h, pt);
    sqlite3_finalize(inc);
    sqlite3_finalize(upd);
    for (size_t i = 0; r.prep && i < r.set.n; i++)
        if (r.prep[i]) GEOSPreparedGeom_destroy_r(p->h, r.prep[i]);
    free(r.prep);
    if (r.tree) GEOSSTRtree_destroy_r(p->h, r.tree);
    pl_set_free(p, &r.set);
    free(boxes);
    return st;
}

/* The second half of publish and rollback: the rows of `newv` are in; make it current, mark the
 * old one archived, re-resolve incidents, log and audit. */
static gw_status make_current(pl *p, int64_t oldv, int64_t newv, const char *who,
                              const char *action, const char *what, int64_t *seq)
{
    char buf[32], detail[512];
    snprintf(buf, sizeof buf, "%lld", (long long)newv);
    gw_status st = exec_sql(p, "UPDATE grid_versions SET status = 'archived' WHERE status = "
                            "'published'", 0, 0, 0, 0, 0);
    if (!st) st = gw_store_meta_set(p->s, "grid_version", buf);
    if (!st) st = exec_sql(p, "UPDATE grid_versions SET status = 'published' WHERE version = ?1",
                           newv, 0, 0, 0, 0);
    gw_bbox box;
    int64_t moved = 0, s1 = 0;
    if (!st) st = reresolve(p, oldv, newv, &box, &moved);
    if (!st) st = gw_store_log_change(p->s, GW_LAYER_GRIDS, "publish", NULL, NULL, &s1);
    if (!st && moved > 0)
        st = gw_store_log_change(p->s, GW_LAYER_INCIDENTS, "update", NULL, &box, &s1);
    snprintf(detail, sizeof detail, "{\"version\":%lld,\"previous\":%lld,%s,"
             "\"incidents_reassigned\":%lld}", (long long)newv, (long long)oldv, what,
             (long long)moved);
    if (!st) st = gw_store_audit(p->s, who, action, detail);
    if (!st && seq) *seq = s1;
    return st;
}

static gw_status add_version(pl *p, const char *name, const char *who, int64_t *v)
{
    int found = 0;
    gw_status st = pl_query_int(p, "SELECT COALESCE(max(version), 0) + 1 FROM grid_versions", 0,
                                0, v, &found);
    char at[32];
    pl_now(at, sizeof at);
    if (!st) st = exec_sql(p, "INSERT INTO grid_versions (version, created_at, name, created_by, "
                           "published_at, status) VALUES (?1, ?3, ?4, ?5, ?3, 'archived')", *v, 0,
                           at, name, who);
    return st;
}

gw_status gw_plan_publish(gw_store *s, int64_t draft, const char *who, int force,
                          int64_t *version, int64_t *seq)
{
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, draft, &d);
    if (st) return st;
    pl p;
    if ((st = pl_open(s, &p))) return st;
    if ((st = gw_store_begin(s))) {
        pl_close(&p);
        return st;
    }
    int64_t cur = 0, newv = 0;
    st = pl_current_version(&p, &cur);
    if (!st) st = gw_plan_draft_get(s, draft, &d); /* again, under the write lock */
    if (!st && strcmp(d.status, "open") != 0)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "draft %lld was already published as version "
                          "%lld", (long long)draft, (long long)d.published_version);
    if (!st && d.base_version != cur)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "draft %lld is based on grid version %lld but "
                          "version %lld has been published since; make a new draft",
                          (long long)draft, (long long)d.base_version, (long long)cur);
    if (!st && !force) {
        /* Refuse a draft that tiles worse than its base: data imported with slivers (or the
         * synthetic city, built in metric and stored in lon/lat) can still be improved. */
        gw_plan_report rep = {0}, br = {0};
        st = gw_plan_validate_draft(s, draft, NULL, &rep);
        if (!st && !rep.tiles) st = gw_plan_validate_version(s, cur, NULL, &br);
        double tol = 1e-3 + 1e-9 * br.union_m2;
        if (!st && !rep.tiles &&
            (rep.invalid > br.invalid || rep.outside_m2 > br.outside_m2 + tol ||
             rep.overlap_m2 > br.overlap_m2 + tol || rep.gap_m2 > br.gap_m2 + tol))
            st = gw_ctx_error(p.ctx, GW_ERR_GEOMETRY, "draft %lld does not tile the jurisdiction "
                              "(%zu invalid, %zu overlaps %.3f m², %zu gaps %.3f m², %zu outside; "
                              "version %lld has %zu, %.3f m², %.3f m²): see its validation report",
                              (long long)draft, rep.invalid, rep.overlaps, rep.overlap_m2, rep.gaps,
                              rep.gap_m2, rep.outside, (long long)cur, br.overlaps, br.overlap_m2,
                              br.gap_m2);
        gw_plan_report_free(&rep);
        gw_plan_report_free(&br);
    }
    if (!st) st = add_version(&p, d.name, who, &newv);
    char sql[1200];
    snprintf(sql, sizeof sql, "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, geom FROM "
             "grids WHERE version = ?2 AND id NOT IN (SELECT id FROM plan_draft_grids WHERE "
             "draft_id = ?3) ORDER BY id", p.cols, p.cols);
    sqlite3_stmt *q = NULL;
    for (int pass = 0; pass < 2 && !st; pass++) {
        if (pass == 1)
            snprintf(sql, sizeof sql, "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, "
                     "CastToMultiPolygon(GeomFromWKB(geom, 4326)) FROM plan_draft_grids WHERE "
                     "draft_id = ?3 AND op = 'upsert' AND ?2 = ?2 ORDER BY id", p.cols, p.cols);
        if (sqlite3_prepare_v2(p.db, sql, -1, &q, NULL) != SQLITE_OK) {
            st = pl_db_fail(&p, "cannot prepare the publish");
            break;
        }
        sqlite3_bind_int64(q, 1, newv);
        sqlite3_bind_int64(q, 2, cur);
        sqlite3_bind_int64(q, 3, draft);
        if (sqlite3_step(q) != SQLITE_DONE) st = pl_db_fail(&p, "cannot write the new version");
        sqlite3_finalize(q);
    }
    if (!st) st = exec_sql(&p, "UPDATE plan_drafts SET status = 'published', published_version = "
                           "?1 WHERE id = ?2", newv, draft, 0, 0, 0);
    char what[160];
    snprintf(what, sizeof what, "\"draft\":%lld,\"changed\":%lld", (long long)draft,
             (long long)d.changed);
    if (!st) st = make_current(&p, cur, newv, who, "plan.publish", what, seq);
    if (!st) st = gw_store_commit(s);
    if (st) gw_store_rollback(s);
    else if (version) *version = newv;
    pl_close(&p);
    return st;
}

gw_status gw_plan_rollback(gw_store *s, int64_t version, const char *who, int64_t *new_version,
                           int64_t *seq)
{
    pl p;
    gw_status st = pl_open(s, &p);
    if (st) return st;
    if ((st = gw_store_begin(s))) {
        pl_close(&p);
        return st;
    }
    int64_t cur = 0, newv = 0, n = 0;
    int found = 0;
    st = pl_current_version(&p, &cur);
    if (!st) st = pl_query_int(&p, "SELECT count(*) FROM grid_versions WHERE version = ?1",
                               version, 0, &n, &found);
    if (!st && n == 0)
        st = gw_ctx_error(p.ctx, GW_ERR_NOT_FOUND, "no grid version %lld", (long long)version);
    if (!st && version == cur)
        st = gw_ctx_error(p.ctx, GW_ERR_CONFLICT, "grid version %lld is already the published "
                          "one", (long long)version);
    char name[64];
    snprintf(name, sizeof name, "rollback to version %lld", (long long)version);
    if (!st) st = add_version(&p, name, who, &newv);
    char sql[800];
    snprintf(sql, sizeof sql, "INSERT INTO grids (%s, version, geom) SELECT %s, ?1, geom FROM "
             "grids WHERE version = ?2 ORDER BY id", p.cols, p.cols);
    if (!st) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(p.db, sql, -1, &q, NULL) != SQLITE_OK) {
            st = pl_db_fail(&p, "cannot prepare the rollback");
        } else {
            sqlite3_bind_int64(q, 1, newv);
            sqlite3_bind_int64(q, 2, version);
            if (sqlite3_step(q) != SQLITE_DONE) st = pl_db_fail(&p, "cannot copy the version");
            sqlite3_finalize(q);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "\"rollback_to\":%lld", (long long)version);
    if (!st) st = make_current(&p, cur, newv, who, "plan.rollback", what, seq);
    if (!st) st = gw_store_commit(s);
    if (st) gw_store_rollback(s);
    else if (new_version) *new_version = newv;
    pl_close(&p);
    return st;
}

gw_status gw_plan_versions(gw_store *s, char **json)
{
    sqlite3 *db = gw_store_db(s);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db, "SELECT v.version, v.name, v.status, v.created_at, v.created_by, "
                           "v.published_at, (SELECT count(*) FROM grids g WHERE g.version = "
                           "v.version), v.version = (SELECT CAST(value AS INTEGER) FROM meta WHERE "
                           "key = 'grid_version') FROM grid_versions v ORDER BY v.version DESC",
                           -1, &q, NULL) != SQLITE_OK)
        return gw_ctx_error(gw_store_ctx(s), GW_ERR_DB, "versions: %s", sqlite3_errmsg(db));
    json_t *arr = json_array();
    while (sqlite3_step(q) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "version", json_integer(sqlite3_column_int64(q, 0)));
        static const char *keys[] = {NULL, "name", "status", "created_at", "created_by",
                                     "published_at"};
        for (int k = 1; k <= 5; k++)
            json_object_set_new(o, keys[k], sqlite3_column_text(q, k)
                                    ? json_string((const char *)sqlite3_column_text(q, k))
                                    : json_null());
        json_object_set_new(o, "grids", json_integer(sqlite3_column_int64(q, 6)));
        json_object_set_new(o, "current", json_boolean(sqlite3_column_int(q, 7)));
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(q);
    if (!(*json = dump(arr))) return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOMEM, "out of memory");
    return GW_OK;
}

/* ---- import of a whole layout -------------------------------------------------------------- */

static int ends_with(const char *s, const char *ext)
{
    size_t n = strlen(s), e = strlen(ext);
    return n > e && strcasecmp(s + n - e, ext) == 0;
}

/* Copy one member of an archive (a /vsizip/ path) to a local file. */
static int vsi_copy(const char *from, const char *to)
{
    VSILFILE *in = VSIFOpenL(from, "rb");
    FILE *out = in ? fopen(to, "wb") : NULL;
    int ok = in && out;
    char buf[65536];
    size_t k;
    while (ok && (k = VSIFReadL(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, k, out) == k;
    if (out && fclose(out) != 0) ok = 0;
    if (in) VSIFCloseL(in);
    return ok;
}

/* A zipped layout: unpack the first vector dataset in the archive (a Shapefile with its
 * sidecar files, else a GeoPackage, GeoJSON or DXF; at any depth) into the private directory
 * dir (made here), and put the path to read into out.  0 when there is none. */
static int unzip_layout(const char *zip, char *dir, size_t dcap, char *out, size_t ocap)
{
    static const char *const kinds[] = {".shp", ".gpkg", ".geojson", ".json", ".dxf"};
    char vsi[4200];
    snprintf(vsi, sizeof vsi, "/vsizip/%s", zip);
    char **names = VSIReadDirRecursive(vsi);
    const char *pick = NULL;
    for (size_t k = 0; !pick && k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; names && names[i] && !pick; i++)
            if (ends_with(names[i], kinds[k]) && !strstr(names[i], "__MACOSX")) pick = names[i];
    int ok = 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dcap, "%s/gw-layout-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (pick && mkdtemp(dir)) {
        ok = 1;
        size_t stem = strlen(pick) - (ends_with(pick, ".shp") ? 4 : strlen(pick));
        for (int i = 0; ok && names[i]; i++) {
            /* the picked file, and for a Shapefile every member with its stem (.shx, .dbf …) */
            if (strcmp(names[i], pick) != 0 &&
                !(stem > 0 && strncmp(names[i], pick, stem) == 0 && names[i][stem] == '.'))
                continue;
            const char *base = strrchr(names[i], '/');
            base = base ? base + 1 : names[i];
            char from[8600], to[4400];
            snprintf(from, sizeof from, "%s/%s", vsi, names[i]);
            snprintf(to, sizeof to, "%s/%s", dir, base);
            ok = vsi_copy(from, to);
            if (strcmp(names[i], pick) == 0) snprintf(out, ocap, "%s", to);
        }
    } else {
        dir[0] = '\0';
    }
    CSLDestroy(names);
    return ok;
}

static void remove_dir(const char *dir)
{
    char **names = dir[0] ? VSIReadDir(dir) : NULL;
    for (int i = 0; names && names[i]; i++) {
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    CSLDestroy(names);
    if (dir[0]) rmdir(dir);
}

gw_status gw_plan_draft_import(gw_store *s, int64_t draft, const char *path, const char *who,
                               size_t *n)
{
    return gw_plan_draft_import_mapped(s, draft, path, NULL, who, n);
}

gw_status gw_plan_draft_import_mapped(gw_store *s, int64_t draft, const char *path,
                                      const char *map, const char *who, size_t *n)
{
    gw_ctx *ctx = gw_store_ctx(s);
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, draft, &d);
    if (st) return st;
    if (strcmp(d.status, "open") != 0)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "draft %lld is published", (long long)draft);
    /* A .zip is unpacked first (io.c reads plain files). */
    char zdir[4200] = "", inner[4400] = "";
    if (ends_with(path, ".zip")) {
        if (!unzip_layout(path, zdir, sizeof zdir, inner, sizeof inner)) {
            remove_dir(zdir);
            return gw_ctx_error(ctx, GW_ERR_FORMAT, "%s: no readable Shapefile, GeoPackage, "
                                "GeoJSON or DXF inside the archive", path);
        }
        path = inner;
    }
    /* io.c does the reading (formats, field mapping, CRS, checks) into a scratch store, named
     * per process and call so that imports running at once do not meet. */
    static atomic_uint calls;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.plan-import-%ld-%u.sqlite", gw_store_path(s), (long)getpid(),
             atomic_fetch_add(&calls, 1));
    gw_store *t = NULL;
    if ((st = gw_store_open(ctx, tmp, GW_STORE_CREATE, &t))) {
        remove_dir(zdir);
        return st;
    }
    gw_import_opts io = {.map = map};
    /* grids drawn in CAD are closed polylines: read them as polygons (this thread only) */
    int dxf = ends_with(path, ".dxf");
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", "TRUE");
    st = gw_io_import(ctx, t, GW_LAYER_GRIDS, path, &io, NULL);
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", NULL);
    remove_dir(zdir);
    pl p;
    int opened = 0;
    if (!st && !(st = pl_open(s, &p))) opened = 1;
    if (!st && !(st = gw_store_begin(s))) {
        char sql[900];
        st = exec_sql(&p, "DELETE FROM plan_draft_grids WHERE draft_id = ?1", draft, 0, 0, 0, 0);
        /* Base grids not in the file are deletes; the file's grids are upserts. */
        if (!st) st = exec_sql(&p, "INSERT INTO plan_draft_grids (draft_id, id, op) SELECT ?1, "
                               "id, 'delete' FROM grids WHERE version = ?2", draft,
                               d.base_version, 0, 0, 0);
        gw_cursor *cur = NULL;
        sqlite3_stmt *q = NULL;
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO plan_draft_grids (draft_id, op, %s, geom) "
                 "VALUES (?1, 'upsert', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", p.cols);
        if (!st && sqlite3_prepare_v2(p.db, sql, -1, &q, NULL) != SQLITE_OK)
            st = pl_db_fail(&p, "cannot prepare the import");
        if (!st) st = gw_store_cursor_create(t, GW_LAYER_GRIDS, &cur);
        size_t k = 0;
        gw_row row;
        while (!st && (st = gw_cursor_next(cur, &row)) == GW_OK) {
            sqlite3_reset(q);
            sqlite3_bind_int64(q, 1, draft);
            for (int i = 0; i < PL_NF; i++) {
                const gw_value *v = &row.values[i];
                if (v->kind == GW_VAL_TEXT) sqlite3_bind_text(q, i + 2, v->s, -1, SQLITE_STATIC);
                else if (v->kind == GW_VAL_INT) sqlite3_bind_int64(q, i + 2, v->i);
                else if (v->kind == GW_VAL_REAL) sqlite3_bind_double(q, i + 2, v->d);
                else sqlite3_bind_null(q, i + 2);
            }
            sqlite3_bind_blob(q, PL_NF + 2, row.wkb, (int)row.wkb_len, SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_DONE) st = pl_db_fail(&p, "cannot write the draft");
            k++;
        }
        if (st == GW_ERR_NOT_FOUND) gw_ctx_clear_error(ctx), st = GW_OK;
        gw_cursor_destroy(cur);
        sqlite3_finalize(q);
        char at[32], detail[256];
        pl_now(at, sizeof at);
        if (!st) st = exec_sql(&p, "UPDATE plan_drafts SET edits = edits + 1, updated_at = ?3 "
                               "WHERE id = ?1", draft, 0, at, 0, 0);
        snprintf(detail, sizeof detail, "{\"draft\":%lld,\"grids\":%zu}", (long long)draft, k);
        if (!st) st = gw_store_audit(s, who, "plan.draft.import", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (n) *n = k;
    }
    if (opened) pl_close(&p);
    gw_store_close(t);
    char side[4200];
    unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp), unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp), unlink(side);
    return st;
}

/* ---- a draft's grids for a map ------------------------------------------------------------- */

/* One grid as a GeoJSON Feature into f (id, every grid field, changed, area_m2). */
static void write_feature(pl *p, GEOSGeoJSONWriter *gw, const pl_grid *g, int changed, int first,
                          FILE *f)
{
    size_t nf;
    const gw_field *fl = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    json_t *props = json_object();
    for (size_t i = 0; i < nf && i < PL_NF; i++)
        json_object_set_new(props, fl[i].name, g->null[i] ? json_null()
                                               : fl[i].type == GW_FT_INT ? json_integer(g->num[i])
                                                                         : json_string(g->text[i]));
    json_object_set_new(props, "changed", json_boolean(changed));
    json_object_set_new(props, "area_m2", json_real(pl_area_m2(p, g->g)));
    char *pt = json_dumps(props, JSON_COMPACT), *id = json_dumps(json_object_get(props, "id"),
                                                                  JSON_ENCODE_ANY);
    char *gt = GEOSGeoJSONWriter_writeGeometry_r(p->h, gw, g->g, -1);
    fprintf(f, "%s{\"type\":\"Feature\",\"id\":%s,\"geometry\":%s,\"properties\":%s}",
            first ? "" : ",", id ? id : "null", gt ? gt : "null", pt ? pt : "{}");
    free(pt);
    free(id);
    if (gt) GEOSFree_r(p->h, gt);
    json_decref(props);
}

/* pl_open without the metric transform, which this route does not use: creating it (PROJ) took
 * 0.7–1.0 s a call on the loaded 2-core box, and the page asks for the draft's grids on every
 * pan. */
static gw_status open_light(gw_store *s, pl *p)
{
    memset(p, 0, sizeof *p);
    if (!s) return GW_ERR_ARG;
    p->s = s, p->ctx = gw_store_ctx(s), p->h = gw_ctx_geos(p->ctx), p->db = gw_store_db(s);
    if (!(p->rd = GEOSWKBReader_create_r(p->h)))
        return gw_ctx_error(p->ctx, GW_ERR_NOMEM, "out of memory");
    size_t nf, used = 0;
    const gw_field *f = gw_layer_fields(GW_LAYER_GRIDS, &nf);
    for (size_t i = 0; i < nf && i < PL_NF; i++)
        used += (size_t)snprintf(p->cols + used, sizeof p->cols - used, "%s\"%s\"", i ? ", " : "",
                                 f[i].name);
    return GW_OK;
}

gw_status gw_plan_draft_grids(gw_store *s, int64_t draft, const gw_bbox *bbox, int changed_only,
                              char **json)
{
    *json = NULL;
    pl p;
    gw_status st = open_light(s, &p);
    if (st) return st;
    int64_t base = 0;
    int found = 0;
    st = pl_query_int(&p, "SELECT base_version FROM plan_drafts WHERE id = ?1", draft, 0, &base,
                      &found);
    if (!st && !found) st = gw_ctx_error(p.ctx, GW_ERR_NOT_FOUND, "no draft %lld", (long long)draft);
    /* Base grids the draft did not touch (near bbox, by the spatial index), then its upserts;
     * the last column says which side a row came from. */
    char sql[1600];
    int n = 0;
    if (!changed_only)
        n = snprintf(sql, sizeof sql, "SELECT %s, AsBinary(geom), 0 FROM grids WHERE version = ?1 "
                     "AND id NOT IN (SELECT id FROM plan_draft_grids WHERE draft_id = ?2)%s UNION "
                     "ALL ", p.cols, bbox ? " AND fid IN (SELECT pkid FROM idx_grids_geom WHERE "
                     "xmin <= ?5 AND xmax >= ?3 AND ymin <= ?6 AND ymax >= ?4)" : "");
    snprintf(sql + n, sizeof sql - (size_t)n, "SELECT %s, geom, 1 FROM plan_draft_grids WHERE "
             "draft_id = ?2 AND op = 'upsert' ORDER BY 1", p.cols);
    sqlite3_stmt *q = NULL;
    if (!st && sqlite3_prepare_v2(p.db, sql, -1, &q, NULL) != SQLITE_OK)
        st = pl_db_fail(&p, "cannot read the draft's grids");
    GEOSGeometry *rect = NULL;
    const GEOSPreparedGeometry *prep = NULL;
    GEOSGeoJSONWriter *gw = GEOSGeoJSONWriter_create_r(p.h);
    if (!st && bbox) {
        rect = GEOSGeom_createRectangle_r(p.h, bbox->minx, bbox->miny, bbox->maxx, bbox->maxy);
        prep = rect ? GEOSPrepare_r(p.h, rect) : NULL;
        if (!prep) st = pl_geos_fail(&p, "the bbox rectangle");
    }
    char *text = NULL;
    size_t len = 0, k = 0;
    FILE *f = NULL;
    if (!st && (!gw || !(f = open_memstream(&text, &len))))
        st = gw_ctx_error(p.ctx, GW_ERR_NOMEM, "out of memory");
    if (!st) {
        sqlite3_bind_int64(q, 1, base);
        sqlite3_bind_int64(q, 2, draft);
        if (bbox) {
            sqlite3_bind_double(q, 3, bbox->minx), sqlite3_bind_double(q, 4, bbox->miny);
            sqlite3_bind_double(q, 5, bbox->maxx), sqlite3_bind_double(q, 6, bbox->maxy);
        }
        fprintf(f, "{\"type\":\"FeatureCollection\",\"draft\":%lld,\"base_version\":%lld,"
                "\"features\":[", (long long)draft, (long long)base);
        int rc = SQLITE_DONE;
        while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
            pl_grid g;
            if ((st = pl_read_row(&p, q, &g))) break;
            int changed = sqlite3_column_int(q, PL_NF + 1);
            char hit = prep ? GEOSPreparedIntersects_r(p.h, prep, g.g) : 1;
            if (hit == 2) st = pl_geos_fail(&p, "bbox test");
            else if (hit) write_feature(&p, gw, &g, changed, k++ == 0, f);
            pl_grid_clear(&p, &g);
        }
        if (!st && rc != SQLITE_DONE) st = pl_db_fail(&p, "cannot read the draft's grids");
        fprintf(f, "],\"numberReturned\":%zu}", k);
    }
    if (f && fclose(f) != 0 && !st) st = gw_ctx_error(p.ctx, GW_ERR_NOMEM, "out of memory");
    if (st) free(text);
    else *json = text;
    sqlite3_finalize(q);
    if (prep) GEOSPreparedGeom_destroy_r(p.h, prep);
    if (rect) GEOSGeom_destroy_r(p.h, rect);
    if (gw) GEOSGeoJSONWriter_destroy_r(p.h, gw);
    pl_close(&p);
    return st;
}
