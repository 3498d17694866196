/* model_delta.c — the incremental refresh of a point layer: its next immutable version built
 * from the previous one plus the store rows of the feature ids the change log names, so one
 * new incident or moved team costs milliseconds instead of a reload of a million rows.
 * The scheme is in docs/decisions/0001-model-concurrency.md ("Incremental refresh"). */
#include "model_internal.h"

#include "gridwatch/store_changes.h"
#include "gridwatch/store_model.h"

#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---------- the change log since a sequence number ---------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void drop_ids(gw_model_changes *c, int l)
{
    for (size_t i = 0; i < c->nids[l]; i++) free(c->ids[l][i]);
    free(c->ids[l]);
    c->ids[l] = NULL;
    c->nids[l] = 0;
}

void mdl_changes_free(gw_model_changes *c)
{
    if (!c) return;
    for (int l = 0; l < GW_LAYER_COUNT; l++) drop_ids(c, l);
}

typedef struct changes_acc {
    gw_ctx *ctx;
    gw_model_changes *out;
    const size_t *limit;
    size_t cap[GW_LAYER_COUNT];
    gw_status st;
} changes_acc;

static int note_change(void *user, const gw_store_change *c)
{
    changes_acc *a = user;
    gw_model_changes *out = a->out;
    gw_layer l;
    if (!c->layer || gw_layer_from_name(c->layer, &l) != GW_OK) return 0;
    unsigned bit = 1u << l;
    out->mask |= bit;
    out->rows[l]++;
    if (out->bulk & bit) return 0;
    const char *fid = c->feature_id;
    if (!fid || !*fid || out->rows[l] > a->limit[l]) {
        out->bulk |= bit;
        drop_ids(out, (int)l);
        return 0;
    }
    if (out->nids[l] == a->cap[l]) {
        size_t nc = a->cap[l] ? a->cap[l] * 2 : 16;
        char **p = realloc(out->ids[l], nc * sizeof *p);
        if (!p) {
            a->st = gw_ctx_error(a->ctx, GW_ERR_NOMEM, "out of memory reading the change log");
            return 1;
        }
        out->ids[l] = p;
        a->cap[l] = nc;
    }
    if (!(out->ids[l][out->nids[l]] = strdup(fid))) {
        a->st = gw_ctx_error(a->ctx, GW_ERR_NOMEM, "out of memory reading the change log");
        return 1;
    }
    out->nids[l]++;
    return 0;
}

gw_status mdl_changes_read(gw_ctx *ctx, gw_store *store, int64_t since,
                           const size_t limit[GW_LAYER_COUNT], gw_model_changes *out)
{
    memset(out, 0, sizeof *out);
    const unsigned all = (1u << GW_LAYER_COUNT) - 1;
    changes_acc a = {.ctx = ctx, .out = out, .limit = limit};
    gw_status rd = gw_store_changes_read(store, since, 0, INT_MAX, note_change, &a, NULL);
    if (a.st) {
        mdl_changes_free(out);
        return a.st;
    }
    if (rd) { /* cannot tell what changed: reload everything */
        gw_ctx_clear_error(gw_store_ctx(store));
        mdl_changes_free(out);
        out->mask = out->bulk = all;
        return GW_OK;
    }
    for (int l = 0; l < GW_LAYER_COUNT; l++) { /* sort, drop repeats */
        if (out->nids[l] < 2) continue;
        qsort(out->ids[l], out->nids[l], sizeof *out->ids[l], cmp_str);
        size_t w = 1;
        for (size_t i = 1; i < out->nids[l]; i++) {
            if (strcmp(out->ids[l][i], out->ids[l][w - 1]) == 0) free(out->ids[l][i]);
            else out->ids[l][w++] = out->ids[l][i];
        }
        out->nids[l] = w;
    }
    return GW_OK;
}

/* ---------- staging: the store's current rows of the changed ids ---------- */

typedef struct stage {
    gw_layer_data *s; /* the fetched rows (own arena), with all three coordinate forms */
    ptrdiff_t *old;   /* per staged row: its row in the previous version, or -1 (new) */
    size_t *dels;     /* rows of the previous version whose id is gone */
    size_t ndel;
} stage;

static void stage_free(gw_ctx *ctx, stage *g)
{
    mdl_layer_free(ctx, g->s);
    free(g->old);
    free(g->dels);
}

/* Staging one fetched row (or a gone id) into the stage. */
typedef struct stage_acc {
    gw_ctx *ctx;
    const gw_layer_data *old;
    char *const *ids;
    stage *g;
    GEOSWKBReader *rd;
    int64_t beyond; /* staged rows past old->maxfid */
    gw_status st;
} stage_acc;

static int stage_one(void *user, size_t i, const gw_row *row)
{
    stage_acc *a = user;
    ptrdiff_t r = gw_layer_data_find(a->old, a->ids[i]);
    if (!row) {
        if (r >= 0) a->g->dels[a->g->ndel++] = (size_t)r;
        return 0;
    }
    if ((a->st = mdl_add_row(a->ctx, a->g->s, a->rd, row))) return 1;
    a->g->old[a->g->s->n - 1] = r;
    a->beyond += row->fid > a->old->maxfid;
    return 0;
}

/* Fetch the ids' rows; *unlogged is set when the store has rows past the previous version's
 * highest fid that the ids do not account for. */
static gw_status stage_rows(gw_ctx *ctx, gw_store *store, const gw_layer_data *old,
                            char *const *ids, size_t nids, int64_t seq, stage *g, int *unlogged)
{
    gw_layer layer = old->layer;
    gw_status st = mdl_layer_new(ctx, layer, seq, &g->s);
    if (st) return st;
    g->old = malloc((nids + 1) * sizeof *g->old);
    g->dels = malloc((nids + 1) * sizeof *g->dels);
    if (!g->old || !g->dels)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if ((st = mdl_reserve(ctx, g->s, nids ? nids : 1))) return st;
    stage_acc a = {ctx, old, ids, g, GEOSWKBReader_create_r(gw_ctx_geos(ctx)), 0, GW_OK};
    if (!a.rd) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    st = mdl_from_store(ctx, store, gw_store_model_rows(store, layer, ids, nids, stage_one, &a));
    GEOSWKBReader_destroy_r(gw_ctx_geos(ctx), a.rd);
    if (!st) st = a.st;
    if (st) return st;

    /* New rows get fids past the highest one (INTEGER PRIMARY KEY): count them to catch a write
     * logged without its feature id. */
    int64_t n = 0;
    st = mdl_from_store(ctx, store, gw_store_model_count_after(store, layer, old->maxfid, &n));
    if (!st) *unlogged = n != a.beyond;
    return st;
}

/* Metric and Mercator forms of the staged points. */
static gw_status stage_project(gw_ctx *ctx, gw_layer_data *s, gw_model_xforms *xf, int srid)
{
    if (s->n == 0) return GW_OK;
    gw_status st = mdl_xforms_ready(ctx, xf, srid);
    for (int c = GW_MODEL_METRIC; !st && c < GW_MODEL_CRS_COUNT; c++) {
        for (int k = 0; k < 2 && !st; k++) {
            s->xy[c][k] = malloc(s->n * sizeof(double));
            if (!s->xy[c][k])
                return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
            memcpy(s->xy[c][k], s->xy[GW_MODEL_LONLAT][k], s->n * sizeof(double));
        }
        st = gw_crs_transform_points(xf->t[c], s->xy[c][0], s->xy[c][1], s->n);
        if (st) st = mdl_xf_fail(ctx, xf, st);
    }
    if (!st) st = mdl_view_factors(ctx, s, xf, 0, s->n);
    return st;
}

/* ---------- building the next version ---------- */

typedef struct ins {
    const char *id;
    size_t srow; /* staged row */
    size_t pos;  /* insert before this row of the previous version */
    size_t row;  /* row in the next version */
} ins;

static int cmp_ins(const void *a, const void *b)
{
    return strcmp(((const ins *)a)->id, ((const ins *)b)->id);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* First row of `d` whose id is not below `id` (rows are in id order). */
static size_t lower_bound(const gw_layer_data *d, const char *id)
{
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d->arena + d->cols[0].text[mid], id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The text of the next version: the previous arena when the staged text fits after its end
 * (appending there leaves every published byte alone), else a copy with room to grow. */
static gw_status share_arena(gw_ctx *ctx, const gw_layer_data *old, size_t need, gw_layer_data *d)
{
    gw_model_arena *a = old->ar;
    free(d->ar->buf);
    free(d->ar->islot);
    free(d->ar);
    d->ar = NULL;
    if (a->used + need <= a->cap) {
        atomic_fetch_add(&a->refs, 1);
        d->ar = a;
        d->arena = a->buf;
        return GW_OK;
    }
    gw_model_arena *b = calloc(1, sizeof *b);
    size_t cap = a->cap * 2 > a->used + need + 65536 ? a->cap * 2 : a->used + need + 65536;
    char *buf = b ? malloc(cap) : NULL;
    if (!buf) {
        free(b);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    }
    if (a->used) memcpy(buf, a->buf, a->used);
    atomic_init(&b->refs, 1);
    b->buf = buf;
    b->used = a->used;
    b->cap = cap;
    /* The intern set moves along (its offsets hold in the copy); the writer is the only user. */
    b->islot = a->islot, b->imask = a->imask, b->iused = a->iused;
    a->islot = NULL, a->imask = 0, a->iused = 0;
    d->ar = b;
    d->arena = buf;
    return GW_OK;
}

/* The per-row arrays of a layer, for copying runs of rows. */
typedef struct arr {
    const char *src;
    char *dst;
    size_t elem;
} arr;

static size_t list_arrays(const gw_layer_data *o, gw_layer_data *d, arr *a)
{
    size_t n = 0;
    a[n++] = (arr){(const char *)o->fid, (char *)d->fid, sizeof *d->fid};
    for (size_t f = 0; f < d->nfields; f++) {
        const gw_model_col *s = &o->cols[f];
        gw_model_col *t = &d->cols[f];
        if (t->text) a[n++] = (arr){(const char *)s->text, (char *)t->text, sizeof *t->text};
        if (t->i) a[n++] = (arr){(const char *)s->i, (char *)t->i, sizeof *t->i};
        if (t->d) a[n++] = (arr){(const char *)s->d, (char *)t->d, sizeof *t->d};
        if (t->nulls) a[n++] = (arr){(const char *)s->nulls, (char *)t->nulls, 1};
    }
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++)
            a[n++] = (arr){(const char *)o->xy[c][k], (char *)d->xy[c][k], sizeof(double)};
    for (int k = 0; k < 2; k++)
        if (o->fac[k] && d->fac[k])
            a[n++] = (arr){(const char *)o->fac[k], (char *)d->fac[k], sizeof(double)};
    return n;
}

/* Staged row `sr` written as row `r` of the next version. */
static gw_status put_staged(gw_ctx *ctx, gw_layer_data *d, size_t r, const gw_layer_data *s,
                            size_t sr)
{
    d->fid[r] = s->fid[sr];
    if (s->fid[sr] > d->maxfid) d->maxfid = s->fid[sr];
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) d->xy[c][k][r] = s->xy[c][k][sr];
    for (int k = 0; k < 2; k++)
        if (d->fac[k] && s->fac[k]) d->fac[k][r] = s->fac[k][sr];
    const char *id = gw_layer_data_id(s, sr);
    for (size_t f = 0; f < d->nfields; f++) {
        gw_value v = gw_layer_data_value(s, sr, (int)f);
        gw_status st = mdl_put_value(ctx, d, r, f, &v, id);
        if (st) return st;
    }
    return GW_OK;
}

/* Row numbers of the previous version in the next one: through a full map when many rows
 * moved, else counted from the few insert positions and deleted rows (no 4-bytes-a-row map to
 * build and read at random). */
typedef struct remap {
    const int32_t *map; /* NULL when the counts below are used */
    const size_t *ipos; /* insert positions (before previous row ipos[k]), ascending */
    size_t nin;
    const size_t *dels; /* deleted previous rows, ascending */
    size_t ndel;
} remap;

#define FEW_EVENTS 64

/* Entries of a (ascending) below / not above v. */
static size_t count_below(const size_t *a, size_t n, size_t v, int inclusive)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v || (inclusive && a[mid] == v)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The next row of surviving previous row r. */
static inline size_t remap_row(const remap *m, size_t r)
{
    if (m->map) return (size_t)m->map[r];
    if (m->nin + m->ndel <= 8) { /* the usual case: a few changes, counted without branches */
        size_t up = 0, down = 0;
        for (size_t k = 0; k < m->nin; k++) up += m->ipos[k] <= r;
        for (size_t k = 0; k < m->ndel; k++) down += m->dels[k] < r;
        return r + up - down;
    }
    return r + count_below(m->ipos, m->nin, r, 1) - count_below(m->dels, m->ndel, r, 0);
}

/* Remove the previous version's row `r` from a copy of its hash (linear probing: the entries
 * after it in the cluster move back so lookups still reach them). */
static void hash_remove(const gw_layer_data *o, uint32_t *h, size_t mask, size_t r)
{
    size_t i = mdl_hash_str(o->arena + o->cols[0].text[r]) & mask;
    while (h[i] && h[i] != r + 1) i = (i + 1) & mask;
    if (!h[i]) return;
    for (size_t j = i;;) {
        j = (j + 1) & mask;
        if (!h[j]) break;
        size_t home = mdl_hash_str(o->arena + o->cols[0].text[h[j] - 1]) & mask;
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        h[i] = h[j];
        i = j;
    }
    h[i] = 0;
}

/* Large arrays on transparent huge pages where the kernel allows it (madvise mode): a new
 * version's columns are ~100 MB at a million rows, and faulting them in 4 KiB pages costs more
 * than copying them.  Freed with free(). */
static void *big_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge) return malloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
    madvise(p, bytes & ~(huge - 1), MADV_HUGEPAGE); /* advice only: failure changes nothing */
    return p;
}

/* ---------- the buffer pool ---------- */

#define POOL_MIN_BYTES ((size_t)1 << 20)        /* smaller buffers are plain malloc/free */
#define POOL_MAX_IDLE_BYTES ((size_t)384 << 20) /* beyond this, released buffers are freed */

typedef struct pbuf {
    void *p;
    size_t bytes;
    int idle;
} pbuf;

struct gw_model_pool {
    atomic_long refs;
    pthread_mutex_t lock;
    pbuf *b; /* every buffer the pool made and has not freed, handed out or idle */
    size_t n, cap, idle_bytes;
};

gw_model_pool *mdl_pool_create(void)
{
    gw_model_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void mdl_pool_ref(gw_model_pool *p)
{
    if (p) atomic_fetch_add(&p->refs, 1);
}

void mdl_pool_unref(gw_model_pool *p)
{
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1) return;
    for (size_t i = 0; i < p->n; i++) free(p->b[i].p); /* all idle: every holder is gone */
    free(p->b);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* A buffer of at least `bytes`: an idle one of about that size, or a new one with ~1.5 % room
 * so the next versions (a few rows longer) fit it too.  NULL when out of memory. */
static void *pool_get(gw_model_pool *p, size_t bytes)
{
    if (!p || bytes < POOL_MIN_BYTES) return malloc(bytes ? bytes : 1);
    pthread_mutex_lock(&p->lock);
    size_t best = p->n;
    for (size_t i = 0; i < p->n; i++)
        if (p->b[i].idle && p->b[i].bytes >= bytes && p->b[i].bytes <= bytes + bytes / 8 &&
            (best == p->n || p->b[i].bytes < p->b[best].bytes))
            best = i;
    void *r = NULL;
    if (best < p->n) {
        p->b[best].idle = 0;
        p->idle_bytes -= p->b[best].bytes;
        r = p->b[best].p;
    } else {
        if (p->n == p->cap) {
            size_t nc = p->cap ? 2 * p->cap : 32;
            pbuf *nb = realloc(p->b, nc * sizeof *nb);
            if (nb) p->b = nb, p->cap = nc;
        }
        size_t want = bytes + bytes / 64;
        if (p->n < p->cap && (r = big_alloc(want))) p->b[p->n++] = (pbuf){r, want, 0};
    }
    pthread_mutex_unlock(&p->lock);
    return r ? r : big_alloc(bytes); /* the pool's list could not grow: an untracked buffer */
}

void mdl_pool_release(gw_model_pool *p, void *buf)
{
    if (!buf) return;
    if (!p) {
        free(buf);
        return;
    }
    pthread_mutex_lock(&p->lock);
    size_t i = 0;
    while (i < p->n && p->b[i].p != buf) i++;
    if (i < p->n && p->idle_bytes + p->b[i].bytes <= POOL_MAX_IDLE_BYTES) {
        p->b[i].idle = 1;
        p->idle_bytes += p->b[i].bytes;
        buf = NULL;
    } else if (i < p->n) {
        p->b[i] = p->b[--p->n];
    }
    pthread_mutex_unlock(&p->lock);
    free(buf);
}

/* The id hash of the next version: the previous one copied, deleted ids taken out, rows
 * renumbered, new ids added; rebuilt when the table would be over 3/4 full. */
static gw_status patch_hash(gw_ctx *ctx, const gw_layer_data *o, gw_layer_data *d, const stage *g,
                            const remap *m, const ins *in, size_t nin)
{
    size_t slots = o->hmask + 1;
    if (!o->hash || d->n * 4 > slots * 3) return mdl_build_hash(ctx, d);
    d->hash = pool_get(d->pool, slots * sizeof *d->hash);
    if (!d->hash) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing ids");
    memcpy(d->hash, o->hash, slots * sizeof *d->hash);
    d->hmask = o->hmask;
    for (size_t k = 0; k < g->ndel; k++) hash_remove(o, d->hash, d->hmask, g->dels[k]);
    if (!m->map && m->nin == 1 && m->ndel == 0) { /* one new row: the rows after it move up */
        uint32_t p = (uint32_t)m->ipos[0] + 1;
        for (size_t j = 0; j < slots; j++) d->hash[j] += d->hash[j] >= p;
    } else if (m->map || m->nin || m->ndel) {
        for (size_t j = 0; j < slots; j++)
            if (d->hash[j]) d->hash[j] = (uint32_t)remap_row(m, d->hash[j] - 1) + 1;
    }
    for (size_t k = 0; k < nin; k++) {
        size_t j = mdl_hash_str(in[k].id) & d->hmask;
        while (d->hash[j]) j = (j + 1) & d->hmask;
        d->hash[j] = (uint32_t)(in[k].row + 1);
    }
    return GW_OK;
}

typedef struct cell_row {
    size_t cell, row;
} cell_row;

static int cmp_cell_row(const void *a, const void *b)
{
    const cell_row *x = a, *y = b;
    if (x->cell != y->cell) return x->cell < y->cell ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Cell of metric point (x, y) in g, or 0 when it lies outside the grid's cells. */
static int cell_of(const gw_model_pgrid *g, double x, double y, size_t *cell)
{
    if (!(x >= g->minx && y >= g->miny)) return 0;
    long cx = (long)((x - g->minx) / g->cell), cy = (long)((y - g->miny) / g->cell);
    if (cx >= g->nx || cy >= g->ny) return 0;
    *cell = (size_t)cy * (size_t)g->nx + (size_t)cx;
    return 1;
}

/* The packed point index of the next version: the previous one with the changed rows taken
 * out, renumbered, and the new and changed rows put in their cells (rows ascending in a cell,
 * as a fresh build has them).  Rebuilt when a point falls outside the grid or the row count
 * has drifted far from the one the cell size was chosen for. */
static gw_status patch_pgrid(gw_ctx *ctx, const gw_layer_data *o, gw_layer_data *d, const stage *g,
                             const remap *m, const ins *in, size_t nin)
{
    const gw_model_pgrid *op = &o->pg;
    size_t nupd = g->s->n - nin, nadd = g->s->n, nskip = g->ndel + nupd;
    if (!op->start || o->n == 0 || d->n > 2 * op->n0 + 1024 || d->n < op->n0 / 2)
        return mdl_build_pgrid(ctx, d);
    cell_row *add = malloc((nadd + 1) * sizeof *add);
    size_t *skip = malloc((nskip + 1) * sizeof *skip);
    gw_status st = add && skip ? GW_OK
                               : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing points");
    const double *ox = o->xy[GW_MODEL_METRIC][0], *oy = o->xy[GW_MODEL_METRIC][1];
    const double *nx = d->xy[GW_MODEL_METRIC][0], *ny = d->xy[GW_MODEL_METRIC][1];
    size_t na = 0, ns = 0;
    int outside = 0;
    /* new rows of inserted and updated features, and previous rows of updated/deleted ones */
    for (size_t k = 0; !st && k < nin; k++) {
        add[na].row = in[k].row;
        outside |= !cell_of(op, nx[in[k].row], ny[in[k].row], &add[na].cell);
        na++;
    }
    for (size_t k = 0; !st && !outside && k < g->s->n + g->ndel; k++) {
        size_t r; /* a previous row leaving its cell */
        if (k < g->s->n) {
            if (g->old[k] < 0) continue;
            r = (size_t)g->old[k];
            add[na].row = remap_row(m, r);
            outside |= !cell_of(op, nx[add[na].row], ny[add[na].row], &add[na].cell);
            na++;
        } else {
            r = g->dels[k - g->s->n];
        }
        size_t c = 0;
        cell_of(op, ox[r], oy[r], &c); /* the previous index holds every previous row */
        size_t p = op->start[c];
        while (p < op->start[c + 1] && op->rows[p] != r) p++;
        outside |= p == op->start[c + 1]; /* not where it should be: rebuild */
        skip[ns++] = p;
    }
    if (st || outside) {
        free(add), free(skip);
        return st ? st : mdl_build_pgrid(ctx, d);
    }
    qsort(add, na, sizeof *add, cmp_cell_row);
    qsort(skip, ns, sizeof *skip, cmp_size);
    gw_model_pgrid *np = &d->pg;
    *np = (gw_model_pgrid){op->minx, op->miny, op->cell, op->nx, op->ny, op->n0, NULL, NULL};
    size_t nc = (size_t)op->nx * (size_t)op->ny;
    np->start = pool_get(d->pool, (nc + 1) * sizeof *np->start);
    np->rows = pool_get(d->pool, (d->n ? d->n : 1) * sizeof *np->rows);
    if (!np->start || !np->rows) {
        free(add), free(skip);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing points");
    }
    size_t w = 0, ka = 0, ks = 0;
    for (size_t c = 0; c < nc; c++) {
        np->start[c] = (uint32_t)w;
        for (size_t p = op->start[c]; p < op->start[c + 1]; p++) {
            if (ks < ns && skip[ks] == p) {
                ks++;
                continue;
            }
            size_t r = remap_row(m, op->rows[p]);
            while (ka < na && add[ka].cell == c && add[ka].row < r)
                np->rows[w++] = (uint32_t)add[ka++].row;
            np->rows[w++] = (uint32_t)r;
        }
        while (ka < na && add[ka].cell == c) np->rows[w++] = (uint32_t)add[ka++].row;
    }
    np->start[nc] = (uint32_t)w;
    free(add), free(skip);
    if (w == d->n) return GW_OK;
    gw_ctx_warn(ctx, "layer %s: patched point index holds %zu of %zu rows; rebuilt",
                gw_layer_name(d->layer), w, d->n);
    mdl_pool_release(d->pool, np->start), mdl_pool_release(d->pool, np->rows);
    np->start = NULL, np->rows = NULL;
    return mdl_build_pgrid(ctx, d);
}

/* How d's rows derive from o's (see gw_layer_data in model_internal.h). */
static gw_status note_lineage(gw_ctx *ctx, const gw_layer_data *o, gw_layer_data *d, const stage *g,
                              const remap *m, const ins *in, size_t nin)
{
    size_t nupd = g->s->n - nin;
    d->lin_ins = malloc((nin ? nin : 1) * sizeof *d->lin_ins);
    d->lin_del = malloc((g->ndel ? g->ndel : 1) * sizeof *d->lin_del);
    d->lin_upd = malloc((nupd ? nupd : 1) * sizeof *d->lin_upd);
    if (!d->lin_ins || !d->lin_del || !d->lin_upd)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    for (size_t k = 0; k < nin; k++) d->lin_ins[k] = in[k].row; /* ascending: in[] is sorted */
    memcpy(d->lin_del, g->dels, g->ndel * sizeof *g->dels);     /* sorted in build_next */
    size_t u = 0;
    for (size_t k = 0; k < g->s->n; k++)
        if (g->old[k] >= 0) d->lin_upd[u++] = remap_row(m, (size_t)g->old[k]);
    qsort(d->lin_upd, u, sizeof *d->lin_upd, cmp_size);
    d->n_ins = nin, d->n_del = g->ndel, d->n_upd = u;
    d->parent_uid = o->uid;
    return GW_OK;
}

/* Every per-row array of the next version (n rows), from the model's pool when large. */
static gw_status alloc_rows(gw_ctx *ctx, gw_layer_data *d, size_t n)
{
    size_t rows = n ? n : 1;
    gw_model_pool *p = d->pool;
    int bad = !(d->fid = pool_get(p, rows * sizeof *d->fid));
    for (size_t f = 0; f < d->nfields; f++) {
        gw_model_col *c = &d->cols[f];
        if (c->type == GW_FT_TEXT) {
            bad |= !(c->text = pool_get(p, rows * sizeof *c->text));
            continue;
        }
        bad |= !(c->nulls = pool_get(p, rows));
        if (c->type == GW_FT_REAL) bad |= !(c->d = pool_get(p, rows * sizeof *c->d));
        else bad |= !(c->i = pool_get(p, rows * sizeof *c->i));
    }
    for (int c = 0; c < GW_MODEL_CRS_COUNT; c++)
        for (int k = 0; k < 2; k++) bad |= !(d->xy[c][k] = pool_get(p, rows * sizeof(double)));
    for (int k = 0; d->layer == GW_LAYER_CAMERAS && k < 2; k++)
        bad |= !(d->fac[k] = pool_get(p, rows * sizeof(double)));
    d->cap = rows;
    return bad ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model") : GW_OK;
}

/* The next version from the previous one and the staged rows. */
static gw_status build_next(gw_ctx *ctx, const gw_layer_data *o, const stage *g, int64_t seq,
                            gw_model_pool *pool, gw_layer_data **out)
{
    const gw_layer_data *s = g->s;
    size_t nin = 0;
    for (size_t k = 0; k < s->n; k++) nin += g->old[k] < 0;
    size_t n = o->n - g->ndel + nin;
    if (n >= UINT32_MAX)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "layer %s: too many rows", gw_layer_name(o->layer));
    int many = nin + g->ndel > FEW_EVENTS;
    ins *in = malloc((nin + 1) * sizeof *in);
    size_t *ipos = malloc((nin + 1) * sizeof *ipos);
    int32_t *map = many ? malloc((o->n + 1) * sizeof *map) : NULL;
    gw_layer_data *d = NULL;
    gw_status st = mdl_layer_new(ctx, o->layer, seq, &d);
    if (!st) {
        mdl_pool_ref(pool);
        d->pool = pool; /* before any pooled buffer: they must go back through it */
    }
    if (!st && (!in || !ipos || (many && !map)))
        st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory refreshing the model");
    if (!st) st = share_arena(ctx, o, s->ar->used, d);
    if (!st) st = alloc_rows(ctx, d, n);
    if (st) {
        free(in), free(ipos), free(map);
        mdl_layer_free(ctx, d);
        return st;
    }
    d->maxfid = o->maxfid;
    nin = 0;
    for (size_t k = 0; k < s->n; k++) {
        if (g->old[k] >= 0) continue;
        in[nin].id = gw_layer_data_id(s, k);
        in[nin].srow = k;
        in[nin].pos = lower_bound(o, in[nin].id);
        nin++;
    }
    qsort(in, nin, sizeof *in, cmp_ins);
    qsort(g->dels, g->ndel, sizeof *g->dels, cmp_size);
    for (size_t k = 0; k < nin; k++) ipos[k] = in[k].pos;
    remap m = {map, ipos, nin, g->dels, g->ndel};

    /* Copy the surviving rows in runs between the insert positions and deleted rows. */
    arr a[4 * GW_MODEL_MAX_FIELDS + 10];
    size_t na = list_arrays(o, d, a);
    size_t from = 0, to = 0, ki = 0, kd = 0;
    for (;;) {
        size_t stop = o->n;
        if (ki < nin && in[ki].pos < stop) stop = in[ki].pos;
        if (kd < g->ndel && g->dels[kd] < stop) stop = g->dels[kd];
        size_t len = stop - from;
        for (size_t i = 0; len && i < na; i++)
            memcpy(a[i].dst + to * a[i].elem, a[i].src + from * a[i].elem, len * a[i].elem);
        for (size_t t = 0; map && t < len; t++) map[from + t] = (int32_t)(to + t);
        from += len, to += len;
        if (ki < nin && in[ki].pos == from) {
            in[ki++].row = to++; /* filled below */
        } else if (kd < g->ndel && g->dels[kd] == from) {
            if (map) map[from] = -1;
            from++, kd++;
        } else if (from == o->n) {
            break;
        }
    }
    d->n = n;
    for (size_t k = 0; !st && k < nin; k++) st = put_staged(ctx, d, in[k].row, s, in[k].srow);
    for (size_t k = 0; !st && k < s->n; k++)
        if (g->old[k] >= 0) st = put_staged(ctx, d, remap_row(&m, (size_t)g->old[k]), s, k);
    if (!st) st = patch_hash(ctx, o, d, g, &m, in, nin);
    if (!st) st = patch_pgrid(ctx, o, d, g, &m, in, nin);
    if (!st) st = note_lineage(ctx, o, d, g, &m, in, nin);
    free(in), free(ipos), free(map);
    if (st) {
        mdl_layer_free(ctx, d);
        return st;
    }
    *out = d;
    return GW_OK;
}

gw_status mdl_delta_apply(gw_ctx *ctx, gw_store *store, const gw_layer_data *old, char *const *ids,
                          size_t nids, gw_model_xforms *xf, int srid, int64_t seq,
                          gw_layer_data **out)
{
    *out = NULL;
    if (!gw_layer_is_point(old->layer)) return GW_OK;
    stage g = {0};
    int unlogged = 0;
    gw_status st = stage_rows(ctx, store, old, ids, nids, seq, &g, &unlogged);
    if (!st && !unlogged) st = stage_project(ctx, g.s, xf, srid);
    if (!st && !unlogged) st = build_next(ctx, old, &g, seq, xf->pool, out);
    stage_free(ctx, &g);
    return st;
}
