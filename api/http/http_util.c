/* http_util.c — buffers, escaping, number formatting, query-value parsers and the WKB to
 * GeoJSON writer of the HTTP side.  The writer is the hot path of every items response, so it
 * formats numbers by hand and reuses one coordinate scratch area per response. */
#include "http_util.h"
#include "i18n.h"

#include "gridwatch/layer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- buffer ---------------------------------------------------------------------------- */

void gw_buf_free(gw_buf *b)
{
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void gw_buf_reset(gw_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

static int buf_grow(gw_buf *b, size_t extra)
{
    if (b->oom) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void gw_buf_add(gw_buf *b, const char *s, size_t n)
{
    if (buf_grow(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void gw_buf_str(gw_buf *b, const char *s) { gw_buf_add(b, s, strlen(s)); }

void gw_buf_printf(gw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

size_t gw_utf8_seq(const unsigned char *p)
{
    if (p[0] < 0x80) return 1;
    size_t n = p[0] >= 0xc2 && p[0] <= 0xdf   ? 2
               : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                              : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    /* overlong, surrogate and beyond-U+10FFFF forms */
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return n;
}

void gw_buf_json_str(gw_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_grow(b, strlen(s) + 2)) return;
    gw_buf_add(b, "\"", 1);
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char u[7];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (*p >= 0x80) {
                size_t n = gw_utf8_seq(p);
                if (n) {
                    p += n - 1; /* a whole character, copied with the run */
                    continue;
                }
                esc = "\\ufffd"; /* not UTF-8: the JSON stays valid */
            } else if (*p < 0x20) {
                u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
                u[4] = hex[*p >> 4], u[5] = hex[*p & 15], u[6] = '\0';
                esc = u;
            }
        }
        if (esc) {
            gw_buf_add(b, run, (size_t)((const char *)p - run));
            gw_buf_str(b, esc);
            run = (const char *)p + 1;
        }
    }
    gw_buf_add(b, run, strlen(run));
    gw_buf_add(b, "\"", 1);
}

void gw_buf_url(gw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            gw_buf_add(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            gw_buf_add(b, e, 3);
        }
    }
}

void gw_buf_num(gw_buf *b, double v, int prec)
{
    if (!isfinite(v)) {
        gw_buf_add(b, "null", 4);
        return;
    }
    if (prec < 0) prec = 0;
    if (prec > 12) prec = 12;
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    double scaled = fabs(v) * p10[prec];
    if (scaled > 9e15) { /* beyond exact int64 arithmetic: let printf do it */
        gw_buf_printf(b, "%.*f", prec, v);
        return;
    }
    uint64_t n = (uint64_t)llround(scaled);
    uint64_t ip = n / (uint64_t)p10[prec], fp = n % (uint64_t)p10[prec];
    char tmp[48];
    int pos = (int)sizeof tmp;
    int fd = prec;
    while (fd > 0 && fp % 10 == 0) { /* drop trailing zeros */
        fp /= 10;
        fd--;
    }
    if (fd > 0) {
        for (int i = 0; i < fd; i++) {
            tmp[--pos] = (char)('0' + fp % 10);
            fp /= 10;
        }
        tmp[--pos] = '.';
    }
    do {
        tmp[--pos] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    if (v < 0 && n != 0) tmp[--pos] = '-';
    gw_buf_add(b, tmp + pos, sizeof tmp - (size_t)pos);
}

char *gw_buf_take(gw_buf *b, size_t *len)
{
    char *d = b->data;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return d;
}

/* ---- query values ------------------------------------------------------------------------ */

int gw_parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || end == s) return -1;
    *out = v;
    return 0;
}

int gw_parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return -1;
    *out = (int64_t)v;
    return 0;
}

int gw_parse_bbox(const char *s, gw_bbox *out, char *why, size_t cap)
{
    double v[7];
    int n = 0;
    const char *p = s;
    while (p && n < 7) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char tmp[64];
        if (len == 0 || len >= sizeof tmp) {
            gw_tr_why(why, cap, "bbox value %d is empty or too long", n + 1);
            return -1;
        }
        memcpy(tmp, p, len);
        tmp[len] = '\0';
        if (gw_parse_double(tmp, &v[n])) {
            gw_tr_why(why, cap, "bbox value %d ('%s') is not a number", n + 1, tmp);
            return -1;
        }
        n++;
        p = comma ? comma + 1 : NULL;
    }
    if (n != 4 && n != 6) {
        gw_tr_why(why, cap, "bbox needs 4 numbers (minx,miny,maxx,maxy) or 6, got %s%d",
                  n == 7 ? "more than " : "", n == 7 ? 6 : n);
        return -1;
    }
    if (n == 4) *out = (gw_bbox){v[0], v[1], v[2], v[3]};
    else *out = (gw_bbox){v[0], v[1], v[3], v[4]};
    if (out->minx > out->maxx || out->miny > out->maxy) {
        gw_tr_why(why, cap, "bbox minimum exceeds maximum (%g,%g,%g,%g)", out->minx, out->miny,
                  out->maxx, out->maxy);
        return -1;
    }
    return 0;
}

static int parse_instant(gw_ctx *ctx, const char *s, size_t len, int *has, int64_t *t, char *why,
                         size_t cap)
{
    char tmp[80];
    if (len == 0 || (len == 2 && memcmp(s, "..", 2) == 0)) {
        *has = 0;
        return 0;
    }
    if (len >= sizeof tmp) {
        gw_tr_why(why, cap, "datetime part is too long");
        return -1;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    /* RFC 3339 needs a date with a dash; refuse bare numbers gw_time_parse might take. */
    if (len < 10 || tmp[4] != '-' || gw_time_parse(ctx, tmp, "UTC", t) != GW_OK) {
        gw_tr_why(why, cap, "datetime '%s' is not an RFC 3339 instant (e.g. 2025-03-01T08:00:00Z)",
                  tmp);
        return -1;
    }
    *has = 1;
    return 0;
}

int gw_parse_datetime(gw_ctx *ctx, const char *s, gw_time_filter *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    const char *slash = strchr(s, '/');
    if (!slash) {
        if (parse_instant(ctx, s, strlen(s), &out->has_lo, &out->lo, why, cap)) return -1;
        if (!out->has_lo) {
            gw_tr_why(why, cap, "datetime '%s' is empty; give an instant or an interval a/b", s);
            return -1;
        }
        out->has_hi = 1;
        out->hi = out->lo;
        return 0;
    }
    if (strchr(slash + 1, '/')) {
        gw_tr_why(why, cap, "datetime '%s' has more than one '/'", s);
        return -1;
    }
    if (parse_instant(ctx, s, (size_t)(slash - s), &out->has_lo, &out->lo, why, cap) ||
        parse_instant(ctx, slash + 1, strlen(slash + 1), &out->has_hi, &out->hi, why, cap))
        return -1;
    if (!out->has_lo && !out->has_hi) {
        gw_tr_why(why, cap, "datetime '%s' is open at both ends", s);
        return -1;
    }
    if (out->has_lo && out->has_hi && out->lo > out->hi) {
        gw_tr_why(why, cap, "datetime '%s' starts after it ends", s);
        return -1;
    }
    return 0;
}

/* ---- WKB to GeoJSON ---------------------------------------------------------------------- */

typedef struct wkb_rd {
    const unsigned char *p, *end;
    int le;
} wkb_rd;

static int rd_u32(wkb_rd *r, uint32_t *v)
{
    if (r->end - r->p < 4) return -1;
    const unsigned char *p = r->p;
    *v = r->le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
               : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
    r->p += 4;
    return 0;
}

static int rd_f64(wkb_rd *r, double *v)
{
    if (r->end - r->p < 8) return -1;
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = r->le ? r->p[i] : r->p[7 - i];
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--) u = u << 8 | b[i];
    memcpy(v, &u, 8);
    r->p += 8;
    return 0;
}

static int w_reserve(gw_geojson_writer *w, size_t n)
{
    if (n <= w->cap) return 0;
    size_t cap = w->cap ? w->cap : 64;
    while (cap < n) cap *= 2;
    double *xs = realloc(w->xs, cap * sizeof *xs);
    if (!xs) return -1;
    w->xs = xs;
    double *ys = realloc(w->ys, cap * sizeof *ys);
    if (!ys) return -1;
    w->ys = ys;
    w->cap = cap;
    return 0;
}

/* Read n points of `dims` ordinates into the scratch arrays and transform them. */
static int read_points(gw_geojson_writer *w, wkb_rd *r, uint32_t n, int dims)
{
    if ((size_t)(r->end - r->p) / (8u * (unsigned)dims) < n || w_reserve(w, n ? n : 1)) return -1;
    for (uint32_t i = 0; i < n; i++) {
        double skip;
        if (rd_f64(r, &w->xs[i]) || rd_f64(r, &w->ys[i])) return -1;
        for (int d = 2; d < dims; d++)
            if (rd_f64(r, &skip)) return -1;
    }
    if (w->tr && n && gw_crs_transform_points(w->tr, w->xs, w->ys, n) != GW_OK) return -1;
    return 0;
}

static void put_pos(gw_geojson_writer *w, gw_buf *out, size_t i)
{
    gw_buf_add(out, "[", 1);
    gw_buf_num(out, w->swap_xy ? w->ys[i] : w->xs[i], w->prec);
    gw_buf_add(out, ",", 1);
    gw_buf_num(out, w->swap_xy ? w->xs[i] : w->ys[i], w->prec);
    gw_buf_add(out, "]", 1);
}

/* A ring or line; orient: 0 keep, 1 make CCW, -1 make CW (in output axis order). */
static int put_line(gw_geojson_writer *w, wkb_rd *r, int dims, int orient, gw_buf *out)
{
    uint32_t n;
    if (rd_u32(r, &n) || read_points(w, r, n, dims)) return -1;
    int reverse = 0;
    if (orient && n >= 3) {
        double a = 0;
        for (uint32_t i = 0; i + 1 < n; i++) a += w->xs[i] * w->ys[i + 1] - w->xs[i + 1] * w->ys[i];
        if (w->swap_xy) a = -a; /* writing (y, x) mirrors the ring */
        reverse = (orient > 0 && a < 0) || (orient < 0 && a > 0);
    }
    gw_buf_add(out, "[", 1);
    for (uint32_t k = 0; k < n; k++) {
        if (k) gw_buf_add(out, ",", 1);
        put_pos(w, out, reverse ? n - 1 - k : k);
    }
    gw_buf_add(out, "]", 1);
    return 0;
}

static int put_polygon_rings(gw_geojson_writer *w, wkb_rd *r, int dims, gw_buf *out)
{
    uint32_t nr;
    if (rd_u32(r, &nr)) return -1;
    gw_buf_add(out, "[", 1);
    for (uint32_t i = 0; i < nr; i++) {
        if (i) gw_buf_add(out, ",", 1);
        if (put_line(w, r, dims, i == 0 ? 1 : -1, out)) return -1;
    }
    gw_buf_add(out, "]", 1);
    return 0;
}

/* Reads one geometry header: byte order and type; returns base type (1..7) and dims. */
static int rd_header(wkb_rd *r, uint32_t *base, int *dims)
{
    if (r->p >= r->end || *r->p > 1) return -1;
    r->le = *r->p++ == 1;
    uint32_t t;
    if (rd_u32(r, &t)) return -1;
    int z = 0, m = 0;
    if (t & 0x80000000u) z = 1; /* EWKB flags */
    if (t & 0x40000000u) m = 1;
    if (t & 0x20000000u) return -1; /* EWKB with SRID: not expected here */
    t &= 0x0fffffffu;
    uint32_t thousands = t / 1000;
    if (thousands == 1 || thousands == 3) z = 1;
    if (thousands == 2 || thousands == 3) m = 1;
    *base = t % 1000;
    *dims = 2 + z + m;
    return *base >= 1 && *base <= 7 ? 0 : -1;
}

static const char *type_names[] = {
    "",           "Point",           "LineString",   "Polygon",
    "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"};

static int put_geometry(gw_geojson_writer *w, wkb_rd *r, gw_buf *out, int depth)
{
    uint32_t base, n;
    int dims;
    if (depth > 8 || rd_header(r, &base, &dims)) return -1;
    gw_buf_str(out, "{\"type\":\"");
    gw_buf_str(out, type_names[base]);
    gw_buf_str(out, base == 7 ? "\",\"geometries\":" : "\",\"coordinates\":");
    switch (base) {
    case 1:
        if (read_points(w, r, 1, dims)) return -1;
        if (isnan(w->xs[0])) gw_buf_add(out, "[]", 2); /* POINT EMPTY */
        else put_pos(w, out, 0);
        break;
    case 2:
        if (put_line(w, r, dims, 0, out)) return -1;
        break;
    case 3:
        if (put_polygon_rings(w, r, dims, out)) return -1;
        break;
    default: /* collections: each member carries its own header */
        if (rd_u32(r, &n)) return -1;
        gw_buf_add(out, "[", 1);
        for (uint32_t i = 0; i < n; i++) {
            if (i) gw_buf_add(out, ",", 1);
            if (base == 7) {
                if (put_geometry(w, r, out, depth + 1)) return -1;
                continue;
            }
            uint32_t mb;
            int md;
            if (rd_header(r, &mb, &md) || mb != base - 3) return -1;
            if (mb == 1) {
                if (read_points(w, r, 1, md)) return -1;
                put_pos(w, out, 0);
            } else if (mb == 2) {
                if (put_line(w, r, md, 0, out)) return -1;
            } else if (put_polygon_rings(w, r, md, out)) {
                return -1;
            }
        }
        gw_buf_add(out, "]", 1);
    }
    gw_buf_add(out, "}", 1);
    return 0;
}

int gw_geojson_write(gw_geojson_writer *w, const unsigned char *wkb, size_t len, gw_buf *out)
{
    if (!wkb || !len) {
        gw_buf_add(out, "null", 4);
        return 0;
    }
    wkb_rd r = {wkb, wkb + len, 1};
    size_t mark = out->len;
    if (put_geometry(w, &r, out, 0) || out->oom) {
        out->len = mark;
        if (out->data) out->data[mark] = '\0';
        return -1;
    }
    return 0;
}

void gw_geojson_writer_free(gw_geojson_writer *w)
{
    if (!w) return;
    free(w->xs);
    free(w->ys);
    w->xs = w->ys = NULL;
    w->cap = 0;
}

double gw_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
