/* point_agg.c — cluster points of a dense tile, two ways that give the same bytes: the sums of
 * the cluster grid's cells from a scan of the tile's rows (any filter), or read from an
 * aggregate index of a whole point layer version (unfiltered tiles), and the encoder of those
 * cells as cluster features.
 *
 * Positions are fixed point: 2^32 units across the Web Mercator world on each axis (~0.93 cm),
 * x from the west edge, y from the north edge, so a tile at zoom z holds the points whose
 * coordinates shifted right by 32 - z equal its x and y, and a cluster cell at zoom z + c
 * (c = 7 for a 128 cell grid, 6 for 64) likewise.  Integer sums make a cell's mean position
 * independent of the order its points are added in.
 *
 * The index: the points sorted by (Morton code of their fixed-point position, category id),
 * so any tile and any cell of any zoom is one contiguous run, plus counts per category and
 * coordinate sums before every TL_AGG_BLOCK-th point; a run's sums are two such prefixes and at
 * most 2 * TL_AGG_BLOCK points added up.  A later version of the layer (gw_layer_data_match)
 * is made by merging the few removed and added points into the sorted run instead of sorting
 * every point again. */
#include "layers_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double tl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

#define TL_AGG_BLOCK 32
#define FIX_SCALE (4294967296.0 / (2 * GW_MERC_MAX)) /* fixed-point units per metre */

void tl_fix(double mx, double my, uint32_t *ix, uint32_t *iy)
{
    double fx = floor((mx + GW_MERC_MAX) * FIX_SCALE), fy = floor((GW_MERC_MAX - my) * FIX_SCALE);
    *ix = fx <= 0 ? 0 : fx >= 4294967295.0 ? UINT32_MAX : (uint32_t)fx;
    *iy = fy <= 0 ? 0 : fy >= 4294967295.0 ? UINT32_MAX : (uint32_t)fy;
}

static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | x << 16) & 0x0000ffff0000ffffull;
    x = (x | x << 8) & 0x00ff00ff00ff00ffull;
    x = (x | x << 4) & 0x0f0f0f0f0f0f0f0full;
    x = (x | x << 2) & 0x3333333333333333ull;
    x = (x | x << 1) & 0x5555555555555555ull;
    return x;
}

static uint32_t squeeze(uint64_t x)
{
    x &= 0x5555555555555555ull;
    x = (x | x >> 1) & 0x3333333333333333ull;
    x = (x | x >> 2) & 0x0f0f0f0f0f0f0f0full;
    x = (x | x >> 4) & 0x00ff00ff00ff00ffull;
    x = (x | x >> 8) & 0x0000ffff0000ffffull;
    x = (x | x >> 16) & 0x00000000ffffffffull;
    return (uint32_t)x;
}

static uint64_t morton(uint32_t ix, uint32_t iy) { return spread(ix) | spread(iy) << 1; }

/* ---- the cells of one tile and their encoding ------------------------------------------------ */

gw_status tl_cellsum_init(gw_ctx *ctx, tl_cellsum *cs, int cells, int ncat)
{
    memset(cs, 0, sizeof *cs);
    size_t nc = (size_t)cells * cells;
    cs->cells = cells, cs->ncat = ncat;
    cs->tot = calloc(nc, sizeof *cs->tot);
    cs->cnt = calloc(nc * (size_t)(ncat ? ncat : 1), sizeof *cs->cnt);
    cs->sum = calloc(nc * 2, sizeof *cs->sum);
    if (!cs->tot || !cs->cnt || !cs->sum) {
        tl_cellsum_free(cs);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory for a %d x %d cluster grid", cells,
                            cells);
    }
    return GW_OK;
}

void tl_cellsum_free(tl_cellsum *cs)
{
    free(cs->tot), free(cs->cnt), free(cs->sum);
    cs->tot = NULL, cs->cnt = NULL, cs->sum = NULL;
}

static int cmp_name(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

gw_status tl_cellsum_emit(gw_ctx *ctx, gw_mvt *mvt, const tl_cellsum *cs, int counted)
{
    int cells = cs->cells, ncat = cs->ncat;
    size_t nc = (size_t)cells * cells;
    /* the categories present, by name: the first TL_CLUSTER_CATS their own count, the rest (and
     * rows without a category, and one named "other") count_other */
    uint64_t *seen = calloc((size_t)(ncat ? ncat : 1), sizeof *seen);
    const char *names[TL_AGG_MAX_CATS];
    int slot[TL_AGG_MAX_CATS], nn = 0;
    if (!seen) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory encoding clusters");
    for (size_t c = 0; counted && c < nc; c++)
        if (cs->tot[c])
            for (int k = 0; k < ncat; k++) seen[k] += cs->cnt[c * ncat + k];
    for (int k = 0; k < ncat; k++) {
        if (!seen[k]) continue;
        if (cs->cat[k] && strcmp(cs->cat[k], "other") != 0) names[nn++] = cs->cat[k];
    }
    qsort(names, (size_t)nn, sizeof *names, cmp_name);
    if (nn > TL_CLUSTER_CATS) nn = TL_CLUSTER_CATS;
    char keys[TL_CLUSTER_CATS + 1][64];
    for (int j = 0; j < nn; j++) snprintf(keys[j], sizeof keys[j], "count_%s", names[j]);
    snprintf(keys[TL_CLUSTER_CATS], sizeof keys[0], "count_other");
    for (int k = 0; k < ncat; k++) {
        slot[k] = TL_CLUSTER_CATS;
        for (int j = 0; cs->cat[k] && j < nn; j++)
            if (strcmp(names[j], cs->cat[k]) == 0) slot[k] = j;
    }
    free(seen);
    gw_mvt_prop p[TL_CLUSTER_CATS + 3];
    uint32_t per[TL_CLUSTER_CATS + 1];
    const double unit = 1.0 / FIX_SCALE;
    gw_status st = GW_OK;
    for (size_t c = 0; c < nc && !st; c++) {
        uint32_t n = cs->tot[c];
        if (!n) continue;
        size_t np = 0;
        p[np++] = (gw_mvt_prop){"cluster", {.type = GW_MVT_BOOL, .u.b = true}};
        p[np++] = (gw_mvt_prop){"count", {.type = GW_MVT_INT, .u.i = n}};
        if (counted) {
            memset(per, 0, sizeof per);
            for (int k = 0; k < ncat; k++) per[slot[k]] += cs->cnt[c * ncat + k];
            for (int j = 0; j <= TL_CLUSTER_CATS; j++)
                if (per[j] && (j < nn || j == TL_CLUSTER_CATS))
                    p[np++] = (gw_mvt_prop){keys[j], {.type = GW_MVT_INT, .u.i = per[j]}};
        }
        double mx = ((double)cs->sum[2 * c] / n + 0.5) * unit - GW_MERC_MAX;
        double my = GW_MERC_MAX - ((double)cs->sum[2 * c + 1] / n + 0.5) * unit;
        st = gw_mvt_add_point(mvt, 0, false, mx, my, p, np, NULL);
    }
    return st;
}

size_t tl_keep_in_tile(const gw_layer_data *d, size_t *rows, size_t n, gw_tile_id t)
{
    const double *mx = gw_layer_data_x(d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(d, GW_MODEL_MERCATOR);
    int s = 32 - (int)t.z;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t ix, iy;
        tl_fix(mx[rows[i]], my[rows[i]], &ix, &iy);
        if ((uint64_t)ix >> s == t.x && (uint64_t)iy >> s == t.y) rows[k++] = rows[i];
    }
    return k;
}

gw_status tl_scan_cells(gw_ctx *ctx, const gw_layer_data *d, int fcat, const size_t *rows, size_t n,
                        gw_tile_id t, int cells, tl_cellsum *cs)
{
    uint8_t *id = malloc(n ? n : 1);
    if (!id) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory clustering %zu points", n);
    const char *names[TL_AGG_MAX_CATS] = {NULL}, *last = NULL;
    int ncat = 1, last_id = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = fcat >= 0 ? gw_layer_data_text(d, rows[i], fcat) : NULL;
        int k = 0;
        if (s && i && s == last) k = last_id;
        else if (s) {
            for (k = 1; k < ncat && strcmp(names[k], s) != 0; k++) continue;
            if (k == ncat && ncat < TL_AGG_MAX_CATS) names[ncat++] = s;
            else if (k == ncat) k = 0; /* past the limit: counted as other */
        }
        id[i] = (uint8_t)k, last = s, last_id = k;
    }
    gw_status st = tl_cellsum_init(ctx, cs, cells, ncat);
    if (st) {
        free(id);
        return st;
    }
    memcpy(cs->names, names, sizeof names);
    cs->cat = cs->names;
    const double *mx = gw_layer_data_x(d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(d, GW_MODEL_MERCATOR);
    int c = cells == 64 ? 6 : 7, s = 32 - (int)t.z - c;
    uint32_t bx = t.x << c, by = t.y << c;
    for (size_t i = 0; i < n; i++) {
        uint32_t ix, iy;
        tl_fix(mx[rows[i]], my[rows[i]], &ix, &iy);
        size_t ci = (size_t)((iy >> s) - by) * cells + ((ix >> s) - bx);
        cs->tot[ci]++;
        cs->cnt[ci * ncat + id[i]]++;
        cs->sum[2 * ci] += ix, cs->sum[2 * ci + 1] += iy;
    }
    free(id);
    return GW_OK;
}

/* ---- the aggregate index ------------------------------------------------------------------ */

struct tl_agg {
    int refs;
    gw_model_snapshot *snap; /* holds the version counted, for the next version's match */
    const gw_layer_data *d;
    int fcat;
    size_t n;
    uint64_t *key; /* n, ascending by (key, cat) */
    uint8_t *cat;  /* n, category ids */
    int ncat;      /* ids 0 .. ncat-1; id 0 = no category */
    char *names[TL_AGG_MAX_CATS];
    uint32_t *pcnt; /* (n / TL_AGG_BLOCK + 1) * ncat: counts before each block */
    int64_t *psum;  /* (n / TL_AGG_BLOCK + 1) * 2: fixed-point sums before each block */
};

typedef struct entry {
    uint64_t key;
    uint8_t cat;
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->cat > y->cat) - (x->cat < y->cat);
}

static void agg_free(gw_ctx *ctx, tl_agg *a)
{
    if (!a) return;
    gw_model_release(ctx, a->snap);
    for (int k = 0; k < TL_AGG_MAX_CATS; k++) free(a->names[k]);
    free(a->key), free(a->cat), free(a->pcnt), free(a->psum);
    free(a);
}

void tl_agg_release(gw_ctx *ctx, tl_agg *a)
{
    if (a && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0) agg_free(ctx, a);
}

/* The id of category text s in a (added when new); -1 when a holds TL_AGG_MAX_CATS already. */
static int cat_id(tl_agg *a, const char *s)
{
    if (!s) return 0;
    for (int k = 1; k < a->ncat; k++)
        if (strcmp(a->names[k], s) == 0) return k;
    if (a->ncat >= TL_AGG_MAX_CATS || !(a->names[a->ncat] = strdup(s))) return -1;
    return a->ncat++;
}

/* Entries of rows [0, n) of d, or of the rows listed in rows[0..n) when rows is not NULL. */
static int entries(tl_agg *a, const gw_layer_data *d, const size_t *rows, size_t n, entry *out)
{
    const double *mx = gw_layer_data_x(d, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(d, GW_MODEL_MERCATOR);
    const char *last = NULL;
    int last_id = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        uint32_t ix, iy;
        tl_fix(mx[r], my[r], &ix, &iy);
        const char *s = a->fcat >= 0 ? gw_layer_data_text(d, r, a->fcat) : NULL;
        int id = s == last && i ? last_id : cat_id(a, s);
        if (id < 0) return -1;
        last = s, last_id = id;
        out[i] = (entry){morton(ix, iy), (uint8_t)id};
    }
    return 0;
}

/* The prefix sums of blocks from `from` on. */
static void prefixes(tl_agg *a, size_t from)
{
    size_t nb = a->n / TL_AGG_BLOCK + 1, K = (size_t)a->ncat;
    if (from == 0) {
        memset(a->pcnt, 0, K * sizeof *a->pcnt);
        a->psum[0] = a->psum[1] = 0;
        from = 1;
    }
    for (size_t b = from; b < nb; b++) {
        uint32_t *pc = a->pcnt + b * K;
        int64_t *ps = a->psum + 2 * b;
        memcpy(pc, pc - K, K * sizeof *pc);
        ps[0] = ps[-2], ps[1] = ps[-1];
        for (size_t i = (b - 1) * TL_AGG_BLOCK; i < b * TL_AGG_BLOCK; i++) {
            pc[a->cat[i]]++;
            ps[0] += squeeze(a->key[i]), ps[1] += squeeze(a->key[i] >> 1);
        }
    }
}

static gw_status agg_alloc(gw_ctx *ctx, tl_agg *a, size_t n)
{
    size_t nb = n / TL_AGG_BLOCK + 1;
    a->n = n;
    a->key = malloc((n ? n : 1) * sizeof *a->key);
    a->cat = malloc(n ? n : 1);
    a->pcnt = malloc(nb * TL_AGG_MAX_CATS * sizeof *a->pcnt);
    a->psum = malloc(nb * 2 * sizeof *a->psum);
    if (!a->key || !a->cat || !a->pcnt || !a->psum)
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory indexing %zu points", n);
    return GW_OK;
}

/* A new index over every row of d (*out NULL, no error, when d has too many categories). */
static gw_status agg_build(gw_ctx *ctx, const gw_layer_data *d, int fcat, tl_agg **out)
{
    *out = NULL;
    size_t n = gw_layer_data_count(d);
    tl_agg *a = calloc(1, sizeof *a);
    entry *e = malloc((n ? n : 1) * sizeof *e);
    gw_status st = a && e ? GW_OK : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (!st) a->refs = 1, a->d = d, a->fcat = fcat, a->ncat = 1;
    if (!st) st = agg_alloc(ctx, a, n);
    if (!st && entries(a, d, NULL, n, e) != 0) {
        free(e);
        agg_free(ctx, a);
        return GW_OK;
    }
    if (!st) {
        qsort(e, n, sizeof *e, cmp_entry);
        for (size_t i = 0; i < n; i++) a->key[i] = e[i].key, a->cat[i] = e[i].cat;
        prefixes(a, 0);
        *out = a;
    } else {
        agg_free(ctx, a);
    }
    free(e);
    return st;
}

/* The index of d derived from o (the index of an earlier version of the layer) by the rows
 * that differ; *out NULL (no error) when too many differ or they do not add up. */
static gw_status agg_update(gw_ctx *ctx, const tl_agg *o, const gw_layer_data *d, tl_agg **out)
{
    *out = NULL;
    const gw_layer_data *od = o->d;
    size_t nn = gw_layer_data_count(d), no = o->n, changed = 0;
    uint32_t fields = o->fcat >= 0 ? 1u << o->fcat : 0;
    int32_t *map = malloc((nn ? nn : 1) * sizeof *map);
    uint8_t *kept = calloc(no ? no : 1, 1);
    size_t *rrem = NULL, *radd = NULL, nrem = 0, nadd = 0;
    entry *erem = NULL, *eadd = NULL;
    tl_agg *a = calloc(1, sizeof *a);
    gw_status st = map && kept && a ? GW_OK : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (!st && gw_layer_data_match(ctx, od, d, fields, nn / 8 + 64, map, &changed) != GW_OK) {
        gw_ctx_clear_error(ctx); /* too many differ (or not comparable): build anew */
        free(map), free(kept), free(a);
        return GW_OK;
    }
    if (!st) {
        rrem = malloc((no ? no : 1) * sizeof *rrem), radd = malloc((nn ? nn : 1) * sizeof *radd);
        if (!rrem || !radd) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    if (!st) {
        for (size_t j = 0; j < nn; j++)
            if (map[j] >= 0) kept[map[j]] = 1;
            else radd[nadd++] = j;
        for (size_t i = 0; i < no; i++)
            if (!kept[i]) rrem[nrem++] = i;
        a->refs = 1, a->d = d, a->fcat = o->fcat, a->ncat = o->ncat;
        for (int k = 1; k < o->ncat && !st; k++)
            if (!(a->names[k] = strdup(o->names[k])))
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        erem = malloc((nrem ? nrem : 1) * sizeof *erem);
        eadd = malloc((nadd ? nadd : 1) * sizeof *eadd);
        if (!st && (!erem || !eadd)) st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    int ok = !st && no - nrem + nadd == nn;
    if (ok && entries(a, od, rrem, nrem, erem) == 0 && entries(a, d, radd, nadd, eadd) == 0 &&
        !(st = agg_alloc(ctx, a, nn))) {
        qsort(erem, nrem, sizeof *erem, cmp_entry);
        qsort(eadd, nadd, sizeof *eadd, cmp_entry);
        /* old - removed + added, all in (key, cat) order */
        size_t i = 0, r = 0, k = 0, w = 0, first = SIZE_MAX;
        while (ok && (i < no || k < nadd)) {
            entry oe = i < no ? (entry){o->key[i], o->cat[i]} : (entry){UINT64_MAX, 255};
            if (r < nrem && i < no && cmp_entry(&erem[r], &oe) == 0) {
                if (first == SIZE_MAX) first = w;
                i++, r++;
                continue;
            }
            if (r < nrem && (i == no || cmp_entry(&erem[r], &oe) < 0)) {
                ok = 0; /* a removed point the old index does not hold */
                break;
            }
            if (k < nadd && (i == no || cmp_entry(&eadd[k], &oe) < 0)) {
                if (first == SIZE_MAX) first = w;
                a->key[w] = eadd[k].key, a->cat[w++] = eadd[k++].cat;
            } else {
                a->key[w] = oe.key, a->cat[w++] = oe.cat, i++;
            }
        }
        ok = ok && r == nrem && w == nn;
        if (ok) {
            /* the blocks before the first change keep their sums */
            size_t keep = first == SIZE_MAX ? nn / TL_AGG_BLOCK : first / TL_AGG_BLOCK;
            size_t K = (size_t)a->ncat, Ko = (size_t)o->ncat;
            if (keep > no / TL_AGG_BLOCK) keep = no / TL_AGG_BLOCK;
            for (size_t b = 0; b <= keep; b++) {
                memset(a->pcnt + b * K, 0, K * sizeof *a->pcnt);
                memcpy(a->pcnt + b * K, o->pcnt + b * Ko, Ko * sizeof *a->pcnt);
                a->psum[2 * b] = o->psum[2 * b], a->psum[2 * b + 1] = o->psum[2 * b + 1];
            }
            prefixes(a, keep + 1);
        }
    } else {
        ok = 0;
    }
    free(map), free(kept), free(rrem), free(radd), free(erem), free(eadd);
    if (st || !ok) {
        agg_free(ctx, a);
        return st;
    }
    *out = a;
    return GW_OK;
}

gw_status tl_agg_get(gw_ctx *ctx, tl_agg_slot *slot, const gw_model_snapshot *snap, gw_layer layer,
                     int fcat, tl_agg **out)
{
    *out = NULL;
    const gw_layer_data *d = gw_snapshot_layer(snap, layer);
    if (!d) return GW_OK;
    pthread_mutex_lock(&slot->lock); /* one build at a time; the others wait for it */
    tl_agg *o = slot->agg, *a = NULL;
    gw_status st = GW_OK;
    if (o && o->d == d && o->fcat == fcat) {
        a = o;
    } else {
        double t0 = tl_now_ms();
        int inc = 0;
        if (o && o->fcat == fcat && gw_layer_data_layer(o->d) == layer) {
            st = agg_update(ctx, o, d, &a);
            inc = a != NULL;
        }
        if (!st && !a) st = agg_build(ctx, d, fcat, &a);
        if (a) {
            a->snap = gw_snapshot_retain((gw_model_snapshot *)snap);
            slot->agg = a;
            slot->last_ms = tl_now_ms() - t0;
            if (inc) slot->updates++;
            else slot->builds++;
            tl_agg_release(ctx, o);
        }
    }
    if (a) __atomic_fetch_add(&a->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&slot->lock);
    *out = a;
    return st;
}

/* First index in [lo, hi) of a->key whose key is >= k, galloping from lo. */
static size_t seek(const tl_agg *a, size_t lo, size_t hi, uint64_t k)
{
    size_t step = 1, b = lo;
    while (b < hi && a->key[b] < k) lo = b + 1, b = lo + step, step *= 2;
    if (b > hi) b = hi;
    while (lo < b) {
        size_t m = lo + (b - lo) / 2;
        if (a->key[m] < k) lo = m + 1;
        else b = m;
    }
    return lo;
}

/* The run of a tile at zoom z (key range of its prefix). */
static void run(const tl_agg *a, gw_tile_id t, size_t *i0, size_t *i1)
{
    int s = 2 * (32 - (int)t.z);
    uint64_t p = morton(t.x, t.y);
    uint64_t k0 = s >= 64 ? 0 : p << s;
    *i0 = seek(a, 0, a->n, k0);
    *i1 = s >= 64 || p + 1 >= (1ull << (64 - s)) ? a->n : seek(a, *i0, a->n, (p + 1) << s);
}

size_t tl_agg_tile_count(const tl_agg *a, gw_tile_id t)
{
    size_t i0, i1;
    run(a, t, &i0, &i1);
    return i1 - i0;
}

/* Counts and sums of [i, j) added into cnt (ncat) and sum (2). */
static void add_range(const tl_agg *a, size_t i, size_t j, uint32_t *cnt, int64_t *sum)
{
    for (; i < j; i++) {
        cnt[a->cat[i]]++;
        sum[0] += squeeze(a->key[i]), sum[1] += squeeze(a->key[i] >> 1);
    }
}

/* Counts and sums before index i. */
static void prefix_at(const tl_agg *a, size_t i, uint32_t *cnt, int64_t *sum)
{
    size_t b = i / TL_AGG_BLOCK;
    memcpy(cnt, a->pcnt + b * (size_t)a->ncat, (size_t)a->ncat * sizeof *cnt);
    sum[0] = a->psum[2 * b], sum[1] = a->psum[2 * b + 1];
    add_range(a, b * TL_AGG_BLOCK, i, cnt, sum);
}

gw_status tl_agg_cells(gw_ctx *ctx, const tl_agg *a, gw_tile_id t, int cells, tl_cellsum *cs)
{
    int c = cells == 64 ? 6 : 7, L = (int)t.z + c, s = 2 * (32 - L);
    gw_status st = tl_cellsum_init(ctx, cs, cells, a->ncat);
    if (st) return st;
    memcpy(cs->names, a->names, sizeof cs->names);
    cs->cat = cs->names;
    size_t i0, i1, K = (size_t)a->ncat;
    run(a, t, &i0, &i1);
    uint32_t pc0[TL_AGG_MAX_CATS], pc1[TL_AGG_MAX_CATS];
    int64_t ps0[2], ps1[2];
    int have = 0; /* pc0/ps0 hold the prefix at p */
    uint32_t bx = t.x << c, by = t.y << c;
    for (size_t p = i0; p < i1;) {
        uint64_t cell = a->key[p] >> s;
        size_t q = (cell + 1) >> (2 * L) ? i1 : seek(a, p, i1, (cell + 1) << s);
        uint32_t cx = squeeze(cell) - bx, cy = squeeze(cell >> 1) - by;
        size_t ci = (size_t)cy * cells + cx;
        uint32_t *cc = cs->cnt + ci * K;
        int64_t *sc = cs->sum + 2 * ci;
        if (q - p <= 2 * TL_AGG_BLOCK) {
            add_range(a, p, q, cc, sc);
            have = 0;
        } else {
            if (!have) prefix_at(a, p, pc0, ps0);
            prefix_at(a, q, pc1, ps1);
            for (size_t k = 0; k < K; k++) cc[k] += pc1[k] - pc0[k];
            sc[0] += ps1[0] - ps0[0], sc[1] += ps1[1] - ps0[1];
            memcpy(pc0, pc1, K * sizeof *pc0), ps0[0] = ps1[0], ps0[1] = ps1[1];
            have = 1;
        }
        cs->tot[ci] += (uint32_t)(q - p);
        p = q;
    }
    return GW_OK;
}
