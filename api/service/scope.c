/* scope.c — jurisdictions as sets of published grids (scope.h): grid paths from the grids'
 * prefecture/county/township/village fields, a small shared cache of built scopes, membership
 * of grids and points, and the check of a token's path against the published grids. */
#include "scope.h"

#include "gridwatch/juris.h"
#include "gridwatch/layer.h"
#include "gridwatch/store_features.h"

#include <geos_c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_scope {
    int refs;                   /* under cache_lock */
    int cached;                 /* still in the cache (under cache_lock) */
    const gw_layer_data *grids; /* the grids layer version it was built on */
    int64_t grids_seq;
    char *path;
    size_t n_rows, n_in;
    uint8_t *in; /* n_rows bits */
    int has_bbox;
    gw_bbox lonlat, metric;
};

#define CACHE_SLOTS 16
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_scope *cache[CACHE_SLOTS];
static unsigned cache_next;

/* ---- paths --------------------------------------------------------------------------------- */

int gw_scope_row_path(const gw_layer_data *g, size_t row, char *buf, size_t cap)
{
    int level = 0;
    gw_juris_grid_path(g, row, buf, cap, &level);
    return level;
}

int gw_scope_path_contains(const char *outer, const char *inner)
{
    return gw_juris_contains(outer, inner);
}

int gw_scope_grid_path(gw_live *live, const char *grid, char *buf, size_t cap)
{
    if (cap) buf[0] = '\0';
    if (!live || !grid) return -1;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return -1;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    ptrdiff_t row = g ? gw_layer_data_find(g, grid) : -1;
    int level = row >= 0 ? gw_scope_row_path(g, (size_t)row, buf, cap) : -1;
    gw_model_release(ctx, snap);
    gw_ctx_destroy(ctx);
    return level;
}

/* ---- building and caching ------------------------------------------------------------------ */

static void scope_free(gw_scope *sc)
{
    if (!sc) return;
    free(sc->in);
    free(sc->path);
    free(sc);
}

static void bbox_add(gw_bbox *b, int *has, const gw_bbox *e)
{
    if (!*has) *b = *e, *has = 1;
    if (e->minx < b->minx) b->minx = e->minx;
    if (e->miny < b->miny) b->miny = e->miny;
    if (e->maxx > b->maxx) b->maxx = e->maxx;
    if (e->maxy > b->maxy) b->maxy = e->maxy;
}

static int geom_bbox(gw_ctx *ctx, const GEOSGeometry *g, gw_bbox *out)
{
    GEOSContextHandle_t h = gw_ctx_geos(ctx);
    if (!g) return 0;
    return GEOSGeom_getXMin_r(h, g, &out->minx) == 1 && GEOSGeom_getYMin_r(h, g, &out->miny) == 1 &&
           GEOSGeom_getXMax_r(h, g, &out->maxx) == 1 && GEOSGeom_getYMax_r(h, g, &out->maxy) == 1;
}

static gw_status scope_build(gw_ctx *ctx, const gw_layer_data *g, const char *path, gw_scope **out)
{
    gw_scope *sc = calloc(1, sizeof *sc);
    size_t n = g ? gw_layer_data_count(g) : 0;
    if (sc) sc->path = strdup(path), sc->in = calloc(n / 8 + 1, 1);
    if (!sc || !sc->path || !sc->in) {
        scope_free(sc);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory building the scope of '%s'", path);
    }
    sc->grids = g;
    sc->grids_seq = g ? gw_layer_data_seq(g) : 0;
    sc->n_rows = n;
    char p[GW_JURISDICTION_MAX];
    int hl = 0, hm = 0;
    for (size_t r = 0; r < n; r++) {
        gw_scope_row_path(g, r, p, sizeof p);
        if (!gw_scope_path_contains(path, p)) continue;
        sc->in[r / 8] |= (uint8_t)(1u << (r % 8));
        sc->n_in++;
        gw_bbox e;
        if (geom_bbox(ctx, gw_layer_data_geom(g, r, GW_MODEL_LONLAT), &e))
            bbox_add(&sc->lonlat, &hl, &e);
        if (geom_bbox(ctx, gw_layer_data_geom(g, r, GW_MODEL_METRIC), &e))
            bbox_add(&sc->metric, &hm, &e);
    }
    sc->has_bbox = hl && hm;
    *out = sc;
    return GW_OK;
}

gw_status gw_scope_get(gw_ctx *ctx, const gw_model_snapshot *snap, const char *path, gw_scope **out)
{
    if (!path) path = "";
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS);
    int64_t seq = g ? gw_layer_data_seq(g) : 0;
    *out = NULL;
    pthread_mutex_lock(&cache_lock);
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        gw_scope *c = cache[i];
        if (c && c->grids == g && c->grids_seq == seq && strcmp(c->path, path) == 0) {
            c->refs++;
            *out = c;
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    if (*out) return GW_OK;
    gw_scope *sc = NULL;
    gw_status st = scope_build(ctx, g, path, &sc);
    if (st) return st;
    /* Two threads may build the same scope at once: both are correct; the later one replaces
     * nothing of the other's, it only takes the next slot. */
    pthread_mutex_lock(&cache_lock);
    sc->refs = 2; /* the caller's and the cache's */
    sc->cached = 1;
    gw_scope *old = cache[cache_next];
    cache[cache_next] = sc;
    cache_next = (cache_next + 1) % CACHE_SLOTS;
    int free_old = 0;
    if (old) {
        old->cached = 0;
        free_old = --old->refs == 0;
    }
    pthread_mutex_unlock(&cache_lock);
    if (free_old) scope_free(old);
    *out = sc;
    return GW_OK;
}

void gw_scope_release(gw_scope *sc)
{
    if (!sc) return;
    pthread_mutex_lock(&cache_lock);
    int last = --sc->refs == 0;
    pthread_mutex_unlock(&cache_lock);
    if (last) scope_free(sc);
}

/* ---- membership ---------------------------------------------------------------------------- */

const char *gw_scope_path(const gw_scope *sc) { return sc ? sc->path : ""; }
int gw_scope_is_root(const gw_scope *sc) { return !sc || !sc->path[0]; }
size_t gw_scope_grid_count(const gw_scope *sc) { return sc ? sc->n_in : 0; }

int gw_scope_has_grid_row(const gw_scope *sc, size_t row)
{
    if (gw_scope_is_root(sc)) return 1;
    return row < sc->n_rows && (sc->in[row / 8] >> (row % 8) & 1);
}

int gw_scope_has_grid_id(const gw_scope *sc, const char *grid_id)
{
    if (gw_scope_is_root(sc)) return 1;
    ptrdiff_t r = grid_id && sc->grids ? gw_layer_data_find(sc->grids, grid_id) : -1;
    return r >= 0 && gw_scope_has_grid_row(sc, (size_t)r);
}

int gw_scope_has_point(gw_ctx *ctx, const gw_scope *sc, double x, double y)
{
    if (gw_scope_is_root(sc)) return 1;
    if (!sc->has_bbox || x < sc->metric.minx || x > sc->metric.maxx || y < sc->metric.miny ||
        y > sc->metric.maxy)
        return 0;
    ptrdiff_t r = -1;
    if (gw_layer_data_grid_at(ctx, sc->grids, x, y, &r) != GW_OK || r < 0) return 0;
    return gw_scope_has_grid_row(sc, (size_t)r);
}

/* ---- the grid of every point of a layer version ------------------------------------------ */

typedef struct pg_entry {
    const gw_layer_data *d, *grids;
    int64_t dseq, gseq;
    size_t n;
    int32_t *g; /* n grid rows, -1: in none */
    int refs;   /* under pg_lock; the cache holds one */
} pg_entry;

#define PG_SLOTS 4
static pthread_mutex_t pg_lock = PTHREAD_MUTEX_INITIALIZER;
static pg_entry *pg_cache[PG_SLOTS];
static unsigned pg_next;

static void pg_unref(pg_entry *e)
{
    if (e && --e->refs == 0) {
        free(e->g);
        free(e);
    }
}

/* The cached entry of (d, grids) with a reference, or NULL (under no lock). */
static pg_entry *pg_find(const gw_layer_data *grids, const gw_layer_data *d)
{
    pg_entry *hit = NULL;
    pthread_mutex_lock(&pg_lock);
    for (unsigned i = 0; i < PG_SLOTS && !hit; i++) {
        pg_entry *e = pg_cache[i];
        if (e && e->d == d && e->grids == grids && e->dseq == gw_layer_data_seq(d) &&
            e->gseq == gw_layer_data_seq(grids) && e->n == gw_layer_data_count(d))
            e->refs++, hit = e;
    }
    pthread_mutex_unlock(&pg_lock);
    return hit;
}

const int32_t *gw_scope_point_grids(gw_ctx *ctx, const gw_layer_data *grids, const gw_layer_data *d,
                                    void **hold)
{
    *hold = NULL;
    if (!grids || !d) return NULL;
    pg_entry *e = pg_find(grids, d);
    if (!e) {
        size_t n = gw_layer_data_count(d);
        const double *x = gw_layer_data_x(d, GW_MODEL_METRIC),
                     *y = gw_layer_data_y(d, GW_MODEL_METRIC);
        e = calloc(1, sizeof *e);
        if (e) e->g = malloc((n ? n : 1) * sizeof *e->g);
        if (!e || !e->g || !x || !y) {
            if (e) free(e->g);
            free(e);
            return NULL;
        }
        for (size_t r = 0; r < n; r++) {
            ptrdiff_t g = -1;
            if (gw_layer_data_grid_at(ctx, grids, x[r], y[r], &g) != GW_OK)
                g = -1, gw_ctx_clear_error(ctx);
            e->g[r] = (int32_t)g;
        }
        e->d = d, e->grids = grids, e->n = n;
        e->dseq = gw_layer_data_seq(d), e->gseq = gw_layer_data_seq(grids);
        e->refs = 2; /* the cache's and the caller's */
        pthread_mutex_lock(&pg_lock);
        pg_entry *old = pg_cache[pg_next];
        pg_cache[pg_next] = e;
        pg_next = (pg_next + 1) % PG_SLOTS;
        pg_unref(old);
        pthread_mutex_unlock(&pg_lock);
    }
    *hold = e;
    return e->g;
}

void gw_scope_point_grids_release(void *hold)
{
    if (!hold) return;
    pthread_mutex_lock(&pg_lock);
    pg_unref(hold);
    pthread_mutex_unlock(&pg_lock);
}

int gw_scope_has_row(gw_ctx *ctx, const gw_scope *sc, const gw_layer_data *d, size_t row)
{
    if (gw_scope_is_root(sc)) return 1;
    if (!d || row >= gw_layer_data_count(d)) return 0;
    if (gw_layer_data_layer(d) == GW_LAYER_GRIDS)
        return d == sc->grids ? gw_scope_has_grid_row(sc, row)
                              : gw_scope_has_grid_id(sc, gw_layer_data_id(d, row));
    pg_entry *e = pg_find(sc->grids, d); /* a whole-layer pass built it: one lookup */
    if (e) {
        int32_t g = e->g[row];
        gw_scope_point_grids_release(e);
        return g >= 0 && gw_scope_has_grid_row(sc, (size_t)g);
    }
    const double *x = gw_layer_data_x(d, GW_MODEL_METRIC), *y = gw_layer_data_y(d, GW_MODEL_METRIC);
    return x && y && gw_scope_has_point(ctx, sc, x[row], y[row]);
}

int gw_scope_bbox(const gw_scope *sc, gw_bbox *lonlat, gw_bbox *metric)
{
    if (!sc || !sc->has_bbox) return 0;
    if (lonlat) *lonlat = sc->lonlat;
    if (metric) *metric = sc->metric;
    return 1;
}

/* ---- checking a token's path --------------------------------------------------------------- */

typedef struct path_list {
    char **p;
    size_t n, cap;
} path_list;

static void list_free(path_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->p[i]);
    free(l->p);
}

/* Append part to buf (joined by "/"); the text of the path so far is buf[0..*len). */
static void add_part(char *buf, size_t cap, size_t *len, const char *part)
{
    if (!part || !*part) return;
    int n = snprintf(buf + *len, *len < cap ? cap - *len : 0, "%s%s", *len ? "/" : "", part);
    if (n > 0) *len += (size_t)n;
    if (*len >= cap) *len = cap ? cap - 1 : 0;
}

/* The published grids' paths, from the store. */
static gw_status read_paths(gw_store *s, path_list *l)
{
    gw_feature_filter f = {.layer = GW_LAYER_GRIDS};
    gw_feature_reader *rd = NULL;
    gw_status st = gw_store_features_open(s, &f, 0, 0, &rd);
    gw_row row;
    int fi[GW_SCOPE_LEVELS];
    for (int i = 0; i < GW_SCOPE_LEVELS; i++)
        fi[i] = gw_layer_field_index(GW_LAYER_GRIDS, gw_juris_field(i + 1));
    while (!st && !(st = gw_store_features_next(s, rd, &row))) {
        char p[GW_JURISDICTION_MAX];
        size_t len = 0;
        p[0] = '\0';
        for (int i = 0; i < GW_SCOPE_LEVELS; i++)
            if (fi[i] >= 0 && row.values[fi[i]].kind == GW_VAL_TEXT)
                add_part(p, sizeof p, &len, row.values[fi[i]].s);
        if (l->n == l->cap) {
            size_t nc = l->cap ? 2 * l->cap : 256;
            char **np = realloc(l->p, nc * sizeof *np);
            if (!np) break;
            l->p = np, l->cap = nc;
        }
        if (!(l->p[l->n] = strdup(p))) break;
        l->n++;
    }
    if (st == GW_ERR_NOT_FOUND) st = GW_OK;
    gw_store_features_close(s, rd);
    return st;
}

/* The names that follow `prefix` ("" = top level) in the paths, comma-separated, a few. */
static void children(const path_list *l, const char *prefix, char *buf, size_t cap)
{
    size_t len = 0, pl = strlen(prefix), shown = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < l->n && shown < 8; i++) {
        const char *p = l->p[i];
        if (pl && !gw_scope_path_contains(prefix, p)) continue;
        const char *c = p + pl + (pl && p[pl] == '/');
        if (!*c || (pl && p[pl] == '\0')) continue;
        size_t cl = strcspn(c, "/");
        char name[GW_JURISDICTION_MAX];
        snprintf(name, sizeof name, "%.*s", (int)cl, c);
        char quoted[GW_JURISDICTION_MAX + 4];
        snprintf(quoted, sizeof quoted, "'%s'", name);
        if (strstr(buf, quoted)) continue;
        int n = snprintf(buf + len, len < cap ? cap - len : 0, "%s%s", len ? ", " : "", quoted);
        if (n > 0) len += (size_t)n;
        if (len >= cap) break;
        shown++;
    }
}

gw_status gw_scope_path_check(gw_store *s, const char *path)
{
    gw_ctx *ctx = gw_store_ctx(s);
    size_t len = path ? strlen(path) : 0;
    if (!len) return GW_OK;
    if (len >= GW_JURISDICTION_MAX)
        return gw_ctx_error(ctx, GW_ERR_ARG, "jurisdiction '%.40s…' is too long (at most %d bytes)",
                            path, GW_JURISDICTION_MAX - 1);
    int parts = 1;
    for (const char *p = path; *p; p++) parts += *p == '/';
    if (path[0] == '/' || path[len - 1] == '/' || strstr(path, "//") || parts > GW_SCOPE_LEVELS)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "jurisdiction '%s' is not a path: it must be 1 to %d non-empty names "
                            "joined by '/' (prefecture/county/township/village, those the grids "
                            "have), with no leading or trailing '/'",
                            path, GW_SCOPE_LEVELS);
    path_list l = {0};
    gw_status st = read_paths(s, &l);
    if (st) {
        list_free(&l);
        return st;
    }
    size_t hits = 0;
    for (size_t i = 0; i < l.n; i++) hits += gw_scope_path_contains(path, l.p[i]);
    if (!hits) { /* name the first part that matches nothing */
        char prefix[GW_JURISDICTION_MAX] = "", known[400];
        const char *p = path;
        int part = 1;
        for (;; part++) {
            size_t pl = strcspn(p, "/");
            char next[GW_JURISDICTION_MAX]; /* the path's first `part` parts */
            size_t nl = (size_t)(p - path) + pl;
            if (nl >= sizeof next) nl = sizeof next - 1;
            memcpy(next, path, nl);
            next[nl] = '\0';
            size_t m = 0;
            for (size_t i = 0; i < l.n && !m; i++) m += gw_scope_path_contains(next, l.p[i]);
            if (!m) {
                children(&l, prefix, known, sizeof known);
                st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                                  "jurisdiction '%s': part %d '%.*s' matches no grid of the "
                                  "published version %s%s (names there: %s)",
                                  path, part, (int)pl, p, *prefix ? "under " : "at the top level",
                                  prefix, *known ? known : "none");
                break;
            }
            memcpy(prefix, next, nl + 1);
            p += pl + (p[pl] == '/');
            if (!*p) break; /* cannot happen: the whole path would have matched */
        }
    }
    list_free(&l);
    return st;
}
