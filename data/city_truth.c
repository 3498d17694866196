/* city_truth.c — the synthetic city's planted hotspots as something to score against: their time
 * profiles (what the generator draws from) and the ground truth file that says where each one is,
 * how big, how it changes and which trend class an analysis should give it (docs/hotspots.md). */
#include "city_internal.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const profile_names[CITY_NPROFILE] = {"stable",  "emerging", "fading",
                                                         "growing", "seasonal", "burst"};
/* The vocabulary of the cluster analysis' trend classes (issue 16). */
static const char *const profile_trends[CITY_NPROFILE] = {"persistent",   "new",      "diminishing",
                                                          "intensifying", "sporadic", "sporadic"};

const char *city_profile_name(int profile) { return profile_names[profile]; }
const char *city_profile_trend(int profile) { return profile_trends[profile]; }

void city_profile_draw(hotspot *h, int profile, rng *r)
{
    h->profile = profile;
    h->a = 0, h->b = 365;
    switch (profile) {
    case CITY_EMERGING: h->a = rng_uni(r, 240, 290); break;
    case CITY_FADING: h->a = rng_uni(r, 60, 120), h->b = rng_uni(r, 200, 250); break;
    case CITY_BURST: h->a = rng_uni(r, 60, 280), h->b = h->a + rng_uni(r, 14, 28); break;
    default: break;
    }
}

/* Intensity at day d in [0, 365): stable 1; emerging 0 before a, a 7-day ramp, then 1; fading 1
 * until a, linear to 0 at b; growing 0.15 -> 1; seasonal a cosine peaking mid-year (d = 182.5,
 * the middle of day 182), 0 at both ends; burst 1 on [a, b]. */
double city_profile_f(const hotspot *h, double d)
{
    switch (h->profile) {
    case CITY_EMERGING: return d < h->a ? 0 : d < h->a + 7 ? (d - h->a) / 7 : 1;
    case CITY_FADING: return d < h->a ? 1 : d < h->b ? (h->b - d) / (h->b - h->a) : 0;
    case CITY_GROWING: return 0.15 + 0.85 * d / 365;
    case CITY_SEASONAL: return 0.5 - 0.5 * cos(2 * M_PI * d / 365);
    case CITY_BURST: return d >= h->a && d <= h->b ? 1 : 0;
    default: return 1;
    }
}

void city_profile_window(const hotspot *h, double *lo, double *hi)
{
    *lo = 0, *hi = 365;
    if (h->profile == CITY_EMERGING || h->profile == CITY_BURST) *lo = h->a;
    if (h->profile == CITY_FADING || h->profile == CITY_BURST) *hi = h->b;
}

void city_hotspot_quota(hotspot *hs, int nh, long nhot, long least)
{
    if (nh <= 0 || nhot <= 0) return;
    if (least * nh > nhot) least = nhot / nh;
    double wsum = 0;
    for (int i = 0; i < nh; i++) wsum += hs[i].w;
    long rest = nhot - least * nh, given = 0;
    for (int i = 0; i < nh; i++) {
        long q = (long)floor((double)rest * hs[i].w / wsum);
        hs[i].want = least + q, given += q;
    }
    while (given < rest) { /* largest remainder; each hotspot at most one more */
        int best = -1;
        double br = -1;
        for (int i = 0; i < nh; i++) {
            double q = (double)rest * hs[i].w / wsum, fl = floor(q);
            if (hs[i].want == least + (long)fl && q - fl > br) best = i, br = q - fl;
        }
        if (best < 0) break;
        hs[best].want++, given++;
    }
    if (given < rest) hs[0].want += rest - given; /* rounding left a few: the first takes them */
}

/* Local time of t in the generator's +08:00 as ISO 8601: a date, or date and time with offset. */
static void iso(int64_t t, int with_time, char *buf, size_t cap)
{
    time_t s = (time_t)(t + 8 * 3600);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, cap, with_time ? "%Y-%m-%dT%H:%M:%S+08:00" : "%Y-%m-%d", &tm);
}

static json_t *feature(const city *c, const hotspot *h, int i, double lon, double lat, double x,
                       double y)
{
    char id[32], from[16], to[16];
    double lo, hi;
    snprintf(id, sizeof id, "%.4sH%02d", c->pfx, i + 1);
    city_profile_window(h, &lo, &hi);
    int d0 = (int)floor(lo), d1 = (int)ceil(hi) - 1;
    iso(c->year + (int64_t)(d0 < 0 ? 0 : d0) * 86400, 0, from, sizeof from);
    iso(c->year + (int64_t)(d1 > 364 ? 364 : d1) * 86400, 0, to, sizeof to);
    json_t *monthly = json_array();
    for (int m = 0; m < 12; m++) json_array_append_new(monthly, json_integer(h->monthly[m]));
    json_t *p = json_object();
    json_object_set_new(p, "id", json_string(id));
    json_object_set_new(p, "profile", json_string(city_profile_name(h->profile)));
    json_object_set_new(p, "trend", json_string(city_profile_trend(h->profile)));
    json_object_set_new(p, "sigma_m", json_real(round(h->sigma * 10) / 10));
    json_object_set_new(p, "x", json_real(round(x * 100) / 100));
    json_object_set_new(p, "y", json_real(round(y * 100) / 100));
    json_object_set_new(p, "incidents", json_integer(h->n));
    json_object_set_new(p, "category", json_string(city_cat_names[h->cat]));
    json_object_set_new(p, "active_from", json_string(from));
    json_object_set_new(p, "active_to", json_string(to));
    json_object_set_new(p, "monthly", monthly);
    return json_pack("{s:s, s:{s:s, s:[f, f]}, s:o}", "type", "Feature", "geometry", "type",
                     "Point", "coordinates", round(lon * 1e7) / 1e7, round(lat * 1e7) / 1e7,
                     "properties", p);
}

gw_status city_truth_add(city *c, city_truth *t, gw_crs_transform *to_store)
{
    size_t n = (size_t)c->nhs;
    double *lon = malloc(n * sizeof *lon), *lat = malloc(n * sizeof *lat),
           *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    gw_status st = lon && lat && x && y ? GW_OK : city_nomem(c);
    for (size_t i = 0; !st && i < n; i++) {
        lon[i] = x[i] = c->hs[i].x, lat[i] = y[i] = c->hs[i].y;
        t->nhot += c->hs[i].n;
    }
    if (!st) st = gw_crs_transform_points(c->to_ll, lon, lat, n);
    if (!st && to_store) { /* a prefecture in its own CRS: x/y in the store's */
        memcpy(x, lon, n * sizeof *x), memcpy(y, lat, n * sizeof *y);
        st = gw_crs_transform_points(to_store, x, y, n);
    }
    if (!st && !t->feats && !(t->feats = json_array())) st = city_nomem(c);
    for (size_t i = 0; !st && i < n; i++)
        if (json_array_append_new(t->feats,
                                  feature(c, &c->hs[i], (int)i, lon[i], lat[i], x[i], y[i])))
            st = city_nomem(c);
    t->nincidents += c->nincidents;
    free(lon), free(lat), free(x), free(y);
    return st;
}

/* The top-level members (with an empty "features"), or NULL on failure. */
static json_t *truth_json(const gw_city_opts *o, int64_t year, const city_truth *t)
{
    char y0[40], y1[40];
    iso(year, 1, y0, sizeof y0);
    iso(year + YEAR_S, 1, y1, sizeof y1);
    json_t *seed = o->seed <= (uint64_t)INT64_MAX ? json_integer((json_int_t)o->seed) : NULL;
    if (!seed) { /* beyond JSON integers most readers keep exactly: the decimal digits */
        char buf[24];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)o->seed);
        seed = json_string(buf);
    }
    json_t *root = json_pack("{s:s, s:f, s:o, s:s, s:s, s:I, s:I, s:i, s:I, s:I, s:I}", "type",
                             "FeatureCollection", "scale", o->scale, "seed", seed, "year_start", y0,
                             "year_end", y1, "year_start_unix", (json_int_t)year, "year_end_unix",
                             (json_int_t)(year + YEAR_S), "metric_srid", t->srid, "incidents",
                             (json_int_t)t->nincidents, "hotspot_incidents", (json_int_t)t->nhot,
                             "background_incidents", (json_int_t)(t->nincidents - t->nhot));
    if (root && t->prefectures > 1 &&
        json_object_set_new(root, "prefectures", json_integer(t->prefectures)))
        json_decref(root), root = NULL;
    if (root && json_object_set_new(root, "features", json_array())) json_decref(root), root = NULL;
    return root;
}

/* One line for the collection's members, then one line per feature: readable and diffable. */
static int dump(json_t *root, json_t *feats, FILE *f)
{
    const size_t flags = JSON_REAL_PRECISION(12);
    char *head = json_dumps(root, flags);
    size_t n = head ? strlen(head) : 0;
    int bad = n < 3 || strcmp(head + n - 3, "[]}") != 0; /* "features" is last and empty */
    if (!bad) head[n - 3] = 0, bad = fputs(head, f) == EOF || fputs("[\n", f) == EOF;
    free(head);
    for (size_t i = 0; !bad && i < json_array_size(feats); i++) {
        bad = json_dumpf(json_array_get(feats, i), f, flags) != 0 ||
              fputs(i + 1 < json_array_size(feats) ? ",\n" : "\n", f) == EOF;
    }
    return bad || fputs("]}\n", f) == EOF;
}

gw_status city_truth_write(gw_ctx *ctx, const gw_city_opts *o, int64_t year, city_truth *t,
                           const char *path, char **tmp)
{
    *tmp = NULL;
    json_t *root = t->feats ? truth_json(o, year, t) : NULL;
    size_t len = strlen(path) + 8;
    char *name = root ? malloc(len) : NULL;
    if (!name) {
        json_decref(root);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "city: out of memory");
    }
    snprintf(name, len, "%s.XXXXXX", path);
    int fd = mkstemp(name), err = 0;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) err = errno;
    if (f) {
        fchmod(fd, 0644); /* mkstemp's 0600 would hide the truth from the other users of a city */
        errno = 0;
        if (dump(root, t->feats, f) || fflush(f) || fsync(fd)) err = errno ? errno : EIO;
        if (fclose(f) && !err) err = errno;
    } else if (fd >= 0) close(fd);
    json_decref(root);
    if (err) {
        if (fd >= 0) unlink(name);
        gw_status st = gw_ctx_error(ctx, GW_ERR_IO, "city: cannot write the truth file %s: %s",
                                    path, strerror(err));
        free(name);
        return st;
    }
    *tmp = name;
    return GW_OK;
}
