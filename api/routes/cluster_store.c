/* cluster_store.c — the default cluster scan's result in the store's meta table (see
 * cluster_store.h): a binary image of gw_cluster_result (native byte order, checked by a magic
 * number), kept through meta_blob.h. */
#include "cluster_store.h"
#include "meta_blob.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_NAME "cluster_scan_key"
#define VAL_NAME "cluster_scan"
#define MAGIC UINT64_C(0x31534c4357470a01) /* format 1; reads back wrong on another byte order */

/* ---- the key ---------------------------------------------------------------------------------- */

static void make_key(const gw_model_snapshot *snap, int srid, char *buf, size_t cap)
{
    const gw_layer_data *g = gw_snapshot_layer(snap, GW_LAYER_GRIDS),
                        *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    snprintf(buf, cap, "gridwatch %s; grids %" PRId64 "/%zu; incidents %" PRId64 "/%zu; srid %d",
             GW_VERSION, g ? gw_layer_data_seq(g) : -1, g ? gw_layer_data_count(g) : 0,
             inc ? gw_layer_data_seq(inc) : -1, inc ? gw_layer_data_count(inc) : 0, srid);
}

/* ---- the image -------------------------------------------------------------------------------- */

static void put_u64(mb_img *b, uint64_t v) { mb_put(b, &v, sizeof v); }
static void put_i64(mb_img *b, int64_t v) { mb_put(b, &v, sizeof v); }
static void put_dbl(mb_img *b, double v) { mb_put(b, &v, sizeof v); }

static void image(mb_img *b, const gw_cluster_result *r)
{
    const char *why = r->scale_reason ? r->scale_reason : "";
    put_u64(b, MAGIC);
    put_u64(b, r->n), put_u64(b, r->grid_count);
    put_i64(b, r->steps), put_i64(b, r->replications), put_i64(b, r->population);
    put_i64(b, r->metric_srid), put_i64(b, r->from), put_i64(b, r->to);
    put_dbl(b, r->cell), put_dbl(b, r->max_radius), put_dbl(b, r->bandwidth);
    put_dbl(b, r->incidents), put_dbl(b, r->seconds);
    put_u64(b, strlen(why)), mb_put(b, why, strlen(why));
    size_t steps = r->steps > 0 ? (size_t)r->steps : 0;
    for (size_t i = 0; i < r->n; i++) {
        const gw_cluster *c = &r->c[i];
        put_i64(b, c->rank), put_i64(b, c->trend), put_i64(b, c->recent);
        const double d[] = {c->x,
                            c->y,
                            c->lon,
                            c->lat,
                            c->radius,
                            c->incidents,
                            c->expected,
                            c->rr,
                            c->llr,
                            c->p,
                            c->trend_z,
                            c->recent_p,
                            c->recent_incidents,
                            c->recent_expected};
        mb_put(b, d, sizeof d);
        put_u64(b, c->series ? 1 : 0);
        if (c->series) mb_put(b, c->series, steps * sizeof *c->series);
        put_u64(b, c->n_grids), mb_put(b, c->grids, c->n_grids * sizeof *c->grids);
    }
    mb_put(b, r->grid_clusters, r->grid_count * sizeof *r->grid_clusters);
    mb_put(b, r->grid_max_rr, r->grid_count * sizeof *r->grid_max_rr);
}

static uint64_t get_u64(mb_rd *s)
{
    uint64_t v;
    mb_get(s, &v, sizeof v);
    return v;
}

static int64_t get_i64(mb_rd *s)
{
    int64_t v;
    mb_get(s, &v, sizeof v);
    return v;
}

static double get_dbl(mb_rd *s)
{
    double v;
    mb_get(s, &v, sizeof v);
    return v;
}

/* scale_reason is static text in a scan's result: the texts read back live as long as the
 * process (few distinct ones: one per way the scale is chosen). */
static const char *keep_reason(const char *s, size_t len)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char *kept[8];
    const char *out = "";
    pthread_mutex_lock(&mu);
    for (int i = 0; i < 8; i++) {
        if (kept[i] && strlen(kept[i]) == len && memcmp(kept[i], s, len) == 0) {
            out = kept[i];
            break;
        }
        if (!kept[i] && (kept[i] = malloc(len + 1))) {
            memcpy(kept[i], s, len), kept[i][len] = '\0';
            out = kept[i];
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    return out;
}

/* The result of an image (NULL when it is malformed or memory runs out). */
static gw_cluster_result *unimage(const uint8_t *p, size_t n)
{
    mb_rd s = {p, n, 0, 0};
    if (get_u64(&s) != MAGIC) return NULL;
    gw_cluster_result *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    uint64_t nc = get_u64(&s), ng = get_u64(&s);
    r->steps = (int)get_i64(&s), r->replications = (int)get_i64(&s);
    r->population = (int)get_i64(&s), r->metric_srid = (int)get_i64(&s);
    r->from = get_i64(&s), r->to = get_i64(&s);
    r->cell = get_dbl(&s), r->max_radius = get_dbl(&s), r->bandwidth = get_dbl(&s);
    r->incidents = get_dbl(&s), r->seconds = get_dbl(&s);
    uint64_t wl = get_u64(&s);
    if (s.bad || wl > n - s.at || nc > n || ng > n || r->steps < 0 || r->steps > 100000)
        return gw_cluster_result_destroy(r), NULL;
    r->scale_reason = keep_reason((const char *)p + s.at, (size_t)wl);
    s.at += (size_t)wl;
    size_t steps = (size_t)r->steps;
    r->c = calloc(nc ? nc : 1, sizeof *r->c);
    r->grid_clusters = malloc((ng ? ng : 1) * sizeof *r->grid_clusters);
    r->grid_max_rr = malloc((ng ? ng : 1) * sizeof *r->grid_max_rr);
    if (!r->c || !r->grid_clusters || !r->grid_max_rr) return gw_cluster_result_destroy(r), NULL;
    for (size_t i = 0; i < nc && !s.bad; i++) {
        gw_cluster *c = &r->c[i];
        r->n = i + 1;
        c->rank = (int)get_i64(&s), c->trend = (gw_cluster_trend)get_i64(&s);
        c->recent = (int)get_i64(&s);
        double d[14];
        mb_get(&s, d, sizeof d);
        c->x = d[0], c->y = d[1], c->lon = d[2], c->lat = d[3], c->radius = d[4];
        c->incidents = d[5], c->expected = d[6], c->rr = d[7], c->llr = d[8], c->p = d[9];
        c->trend_z = d[10], c->recent_p = d[11], c->recent_incidents = d[12];
        c->recent_expected = d[13];
        if (get_u64(&s)) {
            if (!(c->series = malloc((steps ? steps : 1) * sizeof *c->series))) s.bad = 1;
            else mb_get(&s, c->series, steps * sizeof *c->series);
        }
        uint64_t k = get_u64(&s);
        if (s.bad || k > n) break;
        c->n_grids = (size_t)k;
        if (!(c->grids = malloc((k ? k : 1) * sizeof *c->grids))) s.bad = 1;
        else mb_get(&s, c->grids, c->n_grids * sizeof *c->grids);
    }
    r->grid_count = (size_t)ng;
    mb_get(&s, r->grid_clusters, r->grid_count * sizeof *r->grid_clusters);
    mb_get(&s, r->grid_max_rr, r->grid_count * sizeof *r->grid_max_rr);
    if (s.bad || s.at != n) return gw_cluster_result_destroy(r), NULL;
    return r;
}

/* ---- public ---------------------------------------------------------------------------------- */

gw_status cq_store_load(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        gw_cluster_result **out)
{
    *out = NULL;
    char want[512];
    make_key(snap, srid, want, sizeof want);
    uint8_t *bin = NULL;
    size_t n = 0;
    gw_status st = mb_load(ctx, store, KEY_NAME, VAL_NAME, want, &bin, &n);
    if (st) return st;
    *out = unimage(bin, n);
    free(bin);
    return *out ? GW_OK : GW_ERR_NOT_FOUND; /* malformed: scan (and keep the scan's) */
}

gw_status cq_store_save(gw_ctx *ctx, gw_store *store, const gw_model_snapshot *snap, int srid,
                        const gw_cluster_result *r)
{
    mb_img b = {0};
    image(&b, r);
    char key[512];
    make_key(snap, srid, key, sizeof key);
    gw_status st = b.oom ? gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory keeping the cluster scan")
                         : mb_save(ctx, store, KEY_NAME, VAL_NAME, key, b.p, b.n);
    free(b.p);
    return st;
}
