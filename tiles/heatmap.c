/* heatmap.c — kernel density of incidents on one Web Mercator tile, coloured and encoded as a
 * PNG for the wall's heat layer.  Fast by construction: incidents are linearly binned into the
 * pixel grid (plus a margin of one bandwidth), then two 1-D passes of a quartic kernel
 * (separable product kernel, see heatmap.h); at high zooms, where the bandwidth spans more than
 * 64 pixels, the density is computed on a coarser grid and upsampled bilinearly. */
#include "gridwatch/heatmap.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MERC_MAX 20037508.342789244
#define N GW_HEATMAP_SIZE

double gw_heatmap_bandwidth(unsigned z, double lat)
{
    double mpp = 2 * MERC_MAX / ((double)(1u << (z > 30 ? 30 : z)) * N); /* Mercator m/px */
    double r = GW_HEATMAP_RADIUS_PX * mpp * cos(lat * M_PI / 180);       /* ground metres */
    return r < GW_HEATMAP_MIN_BW   ? GW_HEATMAP_MIN_BW
           : r > GW_HEATMAP_MAX_BW ? GW_HEATMAP_MAX_BW
                                   : r;
}

static void ramp_range(const gw_heatmap_opts *o, double *lo, double *hi)
{
    *lo = o && o->min > 0 ? o->min : 1;
    *hi = o && o->max > *lo ? o->max : (*lo < 1000 ? 1000 : *lo * 1000);
}

/* viridis at t = 0, 1/8, …, 1 (matplotlib's table), interpolated linearly in sRGB. */
static const uint8_t viridis[9][3] = {
    {0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b},
    {0x2c, 0x72, 0x8e}, {0x21, 0x91, 0x8c}, {0x28, 0xae, 0x80},
    {0x5e, 0xc9, 0x62}, {0xad, 0xdc, 0x30}, {0xfd, 0xe7, 0x25},
};

static void colour_t(double t, uint8_t rgba[4])
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double f = t * 8;
    int k = (int)f;
    if (k > 7) k = 7;
    f -= k;
    for (int c = 0; c < 3; c++)
        rgba[c] = (uint8_t)lround(viridis[k][c] + f * (viridis[k + 1][c] - viridis[k][c]));
    rgba[3] = (uint8_t)lround(255 * (0.45 + 0.5 * t));
}

void gw_heatmap_colour(const gw_heatmap_opts *opts, double density, uint8_t rgba[4])
{
    double lo, hi;
    ramp_range(opts, &lo, &hi);
    if (!(density >= lo)) {
        memset(rgba, 0, 4);
        return;
    }
    colour_t(log(density / lo) / log(hi / lo), rgba);
}

/* Latitude (degrees) of Mercator y. */
static double merc_lat(double my) { return atan(sinh(my / 6378137.0)) * 180 / M_PI; }

gw_status gw_heatmap_density(gw_ctx *ctx, gw_model_snapshot *snap, unsigned z, unsigned x,
                             unsigned y, const gw_heatmap_opts *opts, float *out, size_t *n_points)
{
    if (n_points) *n_points = 0;
    if (z > GW_HEATMAP_MAX_ZOOM || x >= (1u << z) || y >= (1u << z))
        return gw_ctx_error(
            ctx, GW_ERR_RANGE,
            "heatmap tile %u/%u/%u is outside the pyramid (z 0-%d, x and y below 2^z)", z, x, y,
            GW_HEATMAP_MAX_ZOOM);
    const gw_layer_data *inc = gw_snapshot_layer(snap, GW_LAYER_INCIDENTS);
    if (!inc) return gw_ctx_error(ctx, GW_ERR_ARG, "heatmap: the model has no incidents layer");
    double size = 2 * MERC_MAX / (double)(1u << z);
    double minx = -MERC_MAX + x * size, maxy = MERC_MAX - y * size;
    double mpp = size / N;
    double latc = merc_lat(maxy - size / 2);
    double r_px = gw_heatmap_bandwidth(z, latc) / cos(latc * M_PI / 180) / mpp;
    /* coarse grid when the kernel is wide: s screen pixels per computed pixel */
    int s = 1;
    while (r_px / s > 64 && s < N) s *= 2;
    int nc = N / s;
    double cmpp = mpp * s, rc = r_px / s;
    int H = (int)floor(rc);
    if (H >= (int)ceil(rc)) H = (int)ceil(rc) - 1; /* weights vanish at |j| = rc */
    if (H < 0) H = 0;
    int W = nc + 2 * H;
    float *bin = calloc((size_t)W * (size_t)W, sizeof *bin);
    float *tmp = calloc((size_t)W * (size_t)nc, sizeof *tmp);
    float *coarse = s > 1 ? malloc((size_t)nc * (size_t)nc * sizeof *coarse) : NULL;
    double *kw = malloc((size_t)(2 * H + 1) * sizeof *kw);
    if (!bin || !tmp || !kw || (s > 1 && !coarse)) {
        free(bin), free(tmp), free(coarse), free(kw);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (heatmap tile %u/%u/%u)", z, x, y);
    }
    double ksum = 0;
    for (int j = -H; j <= H; j++) {
        double u = rc > 0 ? j / rc : 0, v = 1 - u * u;
        kw[j + H] = H ? v * v : 1;
        ksum += kw[j + H];
    }
    for (int j = 0; j <= 2 * H; j++) kw[j] /= ksum;
    /* linear binning of the incidents within one bandwidth of the tile */
    size_t n = gw_layer_data_count(inc), got = 0;
    const double *mx = gw_layer_data_x(inc, GW_MODEL_MERCATOR),
                 *my = gw_layer_data_y(inc, GW_MODEL_MERCATOR);
    double ox = minx - H * cmpp, oy = maxy + H * cmpp; /* outer grid top-left */
    double bx0 = ox - cmpp, bx1 = ox + (W + 1) * cmpp, by0 = oy - (W + 1) * cmpp, by1 = oy + cmpp;
    const gw_incident_filter *f = opts ? &opts->filter : NULL;
    for (size_t i = 0; i < n; i++) {
        if (!(mx[i] > bx0 && mx[i] < bx1 && my[i] > by0 && my[i] < by1)) continue;
        if (!gw_incident_filter_match(inc, i, f)) continue;
        if (opts && opts->keep && !opts->keep(opts->keep_user, inc, i)) continue;
        double fx = (mx[i] - ox) / cmpp - 0.5, fy = (oy - my[i]) / cmpp - 0.5;
        int i0 = (int)floor(fx), j0 = (int)floor(fy);
        double ax = fx - i0, ay = fy - j0;
        got++;
        for (int dj = 0; dj < 2; dj++) {
            int jj = j0 + dj;
            if (jj < 0 || jj >= W) continue;
            double wy = dj ? ay : 1 - ay;
            for (int di = 0; di < 2; di++) {
                int ii = i0 + di;
                if (ii < 0 || ii >= W) continue;
                bin[(size_t)jj * W + ii] += (float)(wy * (di ? ax : 1 - ax));
            }
        }
    }
    /* rows: tmp[row][c] = Σ_j bin[row][c + H + j] w_j, for the nc central columns */
    for (int row = 0; row < W && got; row++) {
        const float *b = bin + (size_t)row * W;
        float *t = tmp + (size_t)row * nc;
        int any = 0;
        for (int c = 0; c < W && !any; c++) any = b[c] != 0;
        if (!any) continue;
        for (int c = 0; c < nc; c++) {
            double acc = 0;
            for (int j = 0; j <= 2 * H; j++) acc += b[c + j] * kw[j];
            t[c] = (float)acc;
        }
    }
    /* columns, then incidents per pixel → per km² of ground (Mercator scale per row) */
    float *dst = s > 1 ? coarse : out;
    for (int row = 0; row < nc; row++) {
        double lat = merc_lat(maxy - (row + 0.5) * cmpp), g = cmpp * cos(lat * M_PI / 180);
        double to_km2 = 1e6 / (g * g);
        float *o = dst + (size_t)row * nc;
        for (int c = 0; c < nc; c++) o[c] = 0;
        if (!got) continue;
        for (int j = 0; j <= 2 * H; j++) {
            const float *t = tmp + (size_t)(row + j) * nc;
            double wj = kw[j];
            for (int c = 0; c < nc; c++) o[c] += (float)(t[c] * wj);
        }
        for (int c = 0; c < nc; c++) o[c] = (float)(o[c] * to_km2);
    }
    if (s > 1) { /* bilinear upsampling from coarse pixel centres */
        for (int row = 0; row < N; row++) {
            double fy = (row + 0.5) / s - 0.5;
            int y0 = (int)floor(fy);
            double ay = fy - y0;
            int ya = y0 < 0 ? 0 : y0, yb = y0 + 1 >= nc ? nc - 1 : y0 + 1;
            for (int c = 0; c < N; c++) {
                double fx = (c + 0.5) / s - 0.5;
                int x0 = (int)floor(fx);
                double ax = fx - x0;
                int xa = x0 < 0 ? 0 : x0, xb = x0 + 1 >= nc ? nc - 1 : x0 + 1;
                double top = coarse[(size_t)ya * nc + xa] * (1 - ax) +
                             coarse[(size_t)ya * nc + xb] * ax;
                double bot = coarse[(size_t)yb * nc + xa] * (1 - ax) +
                             coarse[(size_t)yb * nc + xb] * ax;
                out[(size_t)row * N + c] = (float)(top * (1 - ay) + bot * ay);
            }
        }
    }
    free(bin), free(tmp), free(coarse), free(kw);
    if (n_points) *n_points = got;
    return GW_OK;
}

gw_status gw_heatmap_tile_png(gw_ctx *ctx, gw_model_snapshot *snap, unsigned z, unsigned x,
                              unsigned y, const gw_heatmap_opts *opts, unsigned char **png,
                              size_t *len)
{
    *png = NULL, *len = 0;
    float *d = malloc((size_t)N * N * sizeof *d);
    uint8_t *px = malloc((size_t)N * N * 4);
    if (!d || !px) {
        free(d), free(px);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (heatmap tile)");
    }
    gw_status st = gw_heatmap_density(ctx, snap, z, x, y, opts, d, NULL);
    if (st) {
        free(d), free(px);
        return st;
    }
    for (size_t k = 0; k < (size_t)N * N; k++) gw_heatmap_colour(opts, d[k], px + 4 * k);
    free(d);
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = N, im.height = N;
    im.format = PNG_FORMAT_RGBA;
    png_alloc_size_t cap = PNG_IMAGE_PNG_SIZE_MAX(im);
    unsigned char *buf = malloc(cap);
    if (!buf) {
        free(px);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (PNG of a heatmap tile)");
    }
    png_alloc_size_t n = cap;
    int ok = png_image_write_to_memory(&im, buf, &n, 0, px, 0, NULL);
    free(px);
    if (!ok) {
        free(buf);
        gw_status e = gw_ctx_error(ctx, GW_ERR_INTERNAL, "libpng: %s", im.message);
        png_image_free(&im);
        return e;
    }
    *png = buf, *len = n;
    return GW_OK;
}

gw_status gw_heatmap_legend_json(gw_ctx *ctx, const gw_heatmap_opts *opts, char **json)
{
    double lo, hi;
    ramp_range(opts, &lo, &hi);
    size_t cap = 2048;
    char *b = malloc(cap);
    if (!b) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (legend)");
    int k = snprintf(
        b, cap,
        "{\"unit\":\"incidents/km2\",\"scale\":\"log\",\"min\":%.10g,\"max\":%.10g,"
        "\"below_min\":\"transparent\",\"ramp\":\"viridis\","
        "\"kernel\":\"product quartic (biweight), separable\","
        "\"bandwidth\":{\"pixels\":%d,\"min_m\":%g,\"max_m\":%g,"
        "\"rule\":\"r = clamp(%d px x ground metres per pixel at the zoom, %g m, %g m)\"},"
        "\"stops\":[",
        lo, hi, GW_HEATMAP_RADIUS_PX, GW_HEATMAP_MIN_BW, GW_HEATMAP_MAX_BW, GW_HEATMAP_RADIUS_PX,
        GW_HEATMAP_MIN_BW, GW_HEATMAP_MAX_BW);
    for (int i = 0; i <= 8; i++) {
        uint8_t c[4];
        double t = i / 8.0;
        colour_t(t, c);
        k += snprintf(b + k, cap - (size_t)k,
                      "%s{\"density\":%.6g,\"color\":\"#%02x%02x%02x\",\"alpha\":%.3f}",
                      i ? "," : "", lo * pow(hi / lo, t), c[0], c[1], c[2], c[3] / 255.0);
    }
    snprintf(b + k, cap - (size_t)k, "]}\n");
    *json = b;
    return GW_OK;
}
