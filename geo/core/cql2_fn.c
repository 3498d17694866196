/* cql2_fn.c — the CQL2 parser's functions (cql2.h): S_INTERSECTS and the other spatial
 * relations on a WKT or BBOX literal, read by GEOS and kept as WKB with its envelope; T_AFTER,
 * T_BEFORE, T_DISJOINT, T_EQUALS, T_INTERSECTS and T_DURING on the layer's time field (an
 * instant), lowered to comparisons so the SQL writers see no temporal function. */
#include "cql2_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sfn_names[] = {"S_INTERSECTS", "S_DISJOINT", "S_WITHIN",  "S_CONTAINS",
                                        "S_EQUALS",     "S_TOUCHES",  "S_CROSSES", "S_OVERLAPS"};

static int swap_cb(double *x, double *y, void *u)
{
    (void)u;
    double t = *x;
    *x = *y, *y = t;
    return 1;
}

/* BBOX(x0, y0, x1, y1) (or with heights: six numbers), the current token being BBOX. */
static GEOSGeometry *p_bbox(P *p)
{
    int pos = p->t.pos, k = 0;
    double v[6];
    cq_next(p);
    if (cq_expect(p, T_LP, "'(' after BBOX")) return NULL;
    for (;;) {
        if (p->t.k != T_NUM || k == 6) {
            cq_fail(p, p->t.pos, GW_ERR_FORMAT, "BBOX takes 4 or 6 numbers");
            return NULL;
        }
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(p->t.len < 63 ? p->t.len : 63), p->t.s);
        v[k++] = strtod(buf, NULL);
        cq_next(p);
        if (p->t.k == T_COMMA) {
            cq_next(p);
            continue;
        }
        if (cq_expect(p, T_RP, "',' or ')' in BBOX")) return NULL;
        break;
    }
    if (k != 4 && k != 6) {
        cq_fail(p, pos, GW_ERR_FORMAT, "BBOX takes 4 or 6 numbers, not %d", k);
        return NULL;
    }
    double x0 = v[0], y0 = v[1], x1 = v[k / 2], y1 = v[k / 2 + 1];
    if (p->o->swap_xy) {
        double t = x0;
        x0 = y0, y0 = t, t = x1, x1 = y1, y1 = t;
    }
    if (!(x0 <= x1 && y0 <= y1)) {
        cq_fail(p, pos, GW_ERR_ARG,
                "BBOX: the lower corner comes first (a box across the antimeridian is two boxes)");
        return NULL;
    }
    return GEOSGeom_createRectangle_r(gw_ctx_geos(p->ctx), x0, y0, x1, y1);
}

/* A geometry literal at the current token: BBOX(…) or WKT, which GEOS reads; checked to be a
 * lon/lat geometry of a sane size.  NULL with the error recorded. */
static GEOSGeometry *p_geom_lit(P *p)
{
    GEOSContextHandle_t h = gw_ctx_geos(p->ctx);
    int pos = p->t.pos;
    GEOSGeometry *g = NULL;
    if (cq_kw(p, "BBOX")) {
        if (!(g = p_bbox(p))) return NULL;
    } else {
        size_t j = p->at, depth = 0;
        while (j < p->n &&
               (isspace((unsigned char)p->text[j]) || isalpha((unsigned char)p->text[j])))
            j++;
        if (j >= p->n || p->text[j] != '(') {
            cq_fail(p, pos, GW_ERR_FORMAT,
                    "expected '(' and coordinates (empty geometries are not accepted)");
            return NULL;
        }
        for (; j < p->n; j++) {
            if (p->text[j] == '(') depth++;
            else if (p->text[j] == ')' && --depth == 0) break;
        }
        if (j >= p->n) {
            cq_fail(p, pos, GW_ERR_FORMAT, "unterminated geometry: missing ')'");
            return NULL;
        }
        char *wkt = strndup(p->text + pos, j + 1 - (size_t)pos);
        GEOSWKTReader *rd = wkt ? GEOSWKTReader_create_r(h) : NULL;
        g = rd ? GEOSWKTReader_read_r(h, rd, wkt) : NULL;
        GEOSWKTReader_destroy_r(h, rd);
        free(wkt);
        if (!g) {
            cq_fail(p, pos, GW_ERR_FORMAT, "not a WKT geometry: %s", gw_ctx_geos_errmsg(p->ctx));
            return NULL;
        }
        p->at = j + 1;
        cq_next(p);
        if (p->st) { /* the lexer's error after the literal */
            GEOSGeom_destroy_r(h, g);
            return NULL;
        }
        if (p->o->swap_xy) {
            GEOSGeometry *s = GEOSGeom_transformXY_r(h, g, swap_cb, NULL);
            GEOSGeom_destroy_r(h, g);
            if (!(g = s)) {
                cq_fail(p, pos, GW_ERR_GEOMETRY, "cannot swap the axes: %s",
                        gw_ctx_geos_errmsg(p->ctx));
                return NULL;
            }
        }
    }
    if (!g) {
        cq_fail(p, pos, GW_ERR_GEOMETRY, "cannot make the box: %s", gw_ctx_geos_errmsg(p->ctx));
        return NULL;
    }
    if (GEOSisEmpty_r(h, g) != 0) {
        GEOSGeom_destroy_r(h, g);
        cq_fail(p, pos, GW_ERR_ARG, "empty geometries are not accepted");
        return NULL;
    }
    if (gw_geom_check(p->ctx, "the filter's geometry", g, 1) != GW_OK) {
        char m[300];
        snprintf(m, sizeof m, "%s", gw_ctx_errmsg(p->ctx));
        GEOSGeom_destroy_r(h, g);
        cq_fail(p, pos, GW_ERR_RANGE,
                "%s (coordinates are CRS84 lon/lat unless filter-crs says otherwise)", m);
        return NULL;
    }
    return g;
}

/* The literal g into node n: ISO WKB (2D, little endian), its WKT and envelope, owned by the
 * filter.  Destroys g. */
static int keep_geom(P *p, int n, GEOSGeometry *g, int pos)
{
    GEOSContextHandle_t h = gw_ctx_geos(p->ctx);
    GEOSWKBWriter *ww = GEOSWKBWriter_create_r(h);
    GEOSWKTWriter *tw = GEOSWKTWriter_create_r(h);
    size_t len = 0;
    unsigned char *wkb = NULL, *copy = NULL;
    char *wkt = NULL, *tcopy = NULL;
    if (ww && tw) {
        GEOSWKBWriter_setOutputDimension_r(h, ww, 2);
        GEOSWKBWriter_setByteOrder_r(h, ww, GEOS_WKB_NDR);
        GEOSWKTWriter_setTrim_r(h, tw, 1);
        GEOSWKTWriter_setOutputDimension_r(h, tw, 2);
        wkb = GEOSWKBWriter_write_r(h, ww, g, &len);
        wkt = GEOSWKTWriter_write_r(h, tw, g);
    }
    if (wkb && (copy = cq_own(p, malloc(len)))) memcpy(copy, wkb, len);
    if (wkt) tcopy = cq_own(p, strdup(wkt));
    double e[4] = {0, 0, 0, 0};
    GEOSGeom_getXMin_r(h, g, &e[0]), GEOSGeom_getYMin_r(h, g, &e[1]);
    GEOSGeom_getXMax_r(h, g, &e[2]), GEOSGeom_getYMax_r(h, g, &e[3]);
    GEOSFree_r(h, wkb), GEOSFree_r(h, wkt);
    GEOSWKBWriter_destroy_r(h, ww), GEOSWKTWriter_destroy_r(h, tw);
    GEOSGeom_destroy_r(h, g);
    if (!copy || !tcopy) return cq_fail(p, pos, GW_ERR_NOMEM, "cannot write the filter's geometry");
    N(n).wkb = copy, N(n).wkb_len = len, N(n).text = tcopy;
    N(n).env = (gw_bbox){e[0], e[1], e[2], e[3]};
    return n;
}

int cq_spatial(P *p)
{
    int pos = p->t.pos, fn = -1, geom_first = 0, props = 0;
    for (size_t i = 0; i < sizeof sfn_names / sizeof sfn_names[0]; i++)
        if (cq_kw(p, sfn_names[i])) fn = (int)i;
    if (fn < 0)
        return cq_fail(
            p, pos, GW_ERR_FORMAT,
            "unknown spatial function '%.*s'; known: S_INTERSECTS, S_DISJOINT, S_WITHIN, "
            "S_CONTAINS, S_EQUALS, S_TOUCHES, S_CROSSES, S_OVERLAPS",
            (int)p->t.len, p->t.s);
    cq_next(p);
    if (cq_expect(p, T_LP, "'('")) return -1;
    GEOSGeometry *g = NULL;
    for (int arg = 0; arg < 2 && !p->st; arg++) {
        if (arg && cq_expect(p, T_COMMA, "','")) break;
        if (cq_is_geom_kw(p) && !g) {
            g = p_geom_lit(p);
            continue;
        }
        int s = cq_scalar(p);
        if (s >= 0 && N(s).kind != GW_CQL2_GEOM)
            cq_fail(p, N(s).kind == GW_CQL2_LIT ? pos : pos, GW_ERR_ARG,
                    "%s takes the geometry property and a geometry literal (WKT or BBOX)",
                    sfn_names[fn]);
        geom_first |= arg == 0, props++;
    }
    int n = -1;
    if (!p->st && (props != 1 || !g))
        cq_fail(p, pos, GW_ERR_ARG, "%s takes the geometry property and one geometry literal",
                sfn_names[fn]);
    if (!p->st && !cq_expect(p, T_RP, "')'") && (n = cq_node(p, GW_CQL2_SPATIAL, pos)) >= 0) {
        gw_cql2_sfn f = (gw_cql2_sfn)fn;
        if (!geom_first && f == GW_CQL2_S_WITHIN) f = GW_CQL2_S_CONTAINS;
        else if (!geom_first && f == GW_CQL2_S_CONTAINS) f = GW_CQL2_S_WITHIN;
        N(n).sfn = f;
        return keep_geom(p, n, g, pos);
    }
    if (g) GEOSGeom_destroy_r(gw_ctx_geos(p->ctx), g);
    return -1;
}

/* t kept within a second of the stored window, as cq_time_text keeps literals (the end of a
 * DATE's day can pass it). */
static int64_t window(int64_t t)
{
    return t < GW_TIME_MIN_S ? GW_TIME_MIN_S - 1 : t > GW_TIME_MAX_S ? GW_TIME_MAX_S + 1 : t;
}

/* A time bound of an INTERVAL: '..' (open: def), a quoted time, TIMESTAMP(…) or DATE(…) (a
 * date as the end of an interval is the end of its day). */
static int p_bound(P *p, int64_t def, int end, int64_t *out)
{
    if (p->t.k == T_STR && p->t.len == 4 && strncmp(p->t.s, "'..'", 4) == 0) {
        *out = def;
        cq_next(p);
        return 0;
    }
    int date = cq_kw(p, "DATE"), pos = p->t.pos;
    int s = p->t.k == T_STR || cq_kw(p, "TIMESTAMP") || date ? cq_scalar(p) : -1;
    if (s < 0)
        return p->st ? -1
                     : cq_fail(p, p->t.pos, GW_ERR_FORMAT,
                               "expected a time or '..' in INTERVAL, found %s", cq_desc(&p->t));
    if (N(s).type == GW_CQL2_T_TEXT && cq_time_text(p, pos, N(s).text, 0, &N(s).num.i)) return -1;
    *out = window(N(s).num.i + (date && end ? 86399 : 0));
    return 0;
}

/* A temporal literal: an instant (lo == hi, *iv 0) or an interval (*iv 1): TIMESTAMP, a quoted
 * time, DATE (the day) or INTERVAL(a, b).  Open ends are just outside the stored window. */
static int p_temporal_lit(P *p, int64_t *lo, int64_t *hi, int *iv)
{
    *iv = 0;
    if (cq_kw(p, "INTERVAL")) {
        *iv = 1;
        cq_next(p);
        if (cq_expect(p, T_LP, "'(' after INTERVAL") || p_bound(p, GW_TIME_MIN_S - 1, 0, lo) ||
            cq_expect(p, T_COMMA, "','") || p_bound(p, GW_TIME_MAX_S + 1, 1, hi) ||
            cq_expect(p, T_RP, "')'"))
            return -1;
        return 0;
    }
    *iv = cq_kw(p, "DATE");
    if (p_bound(p, 0, 0, lo)) return -1;
    *hi = window(*lo + (*iv ? 86399 : 0));
    return 0;
}

static int tcmp(P *p, int t, gw_cql2_cmp op, int64_t v, int pos)
{
    int l = cq_node(p, GW_CQL2_LIT, pos);
    if (l < 0) return -1;
    N(l).type = GW_CQL2_T_TIME, N(l).num.i = v;
    int n = cq_node(p, GW_CQL2_CMP, pos);
    if (n >= 0) N(n).a = t, N(n).b = l, N(n).cmp = op;
    return n;
}

int cq_temporal(P *p)
{
    static const char *const names[] = {"T_AFTER",  "T_BEFORE",     "T_DISJOINT",
                                        "T_EQUALS", "T_INTERSECTS", "T_DURING"};
    int pos = p->t.pos, fn = -1, t = -1, iv = 0, lit_first = 0, nlit = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (cq_kw(p, names[i])) fn = (int)i;
    if (fn < 0)
        return cq_fail(
            p, pos, GW_ERR_FORMAT,
            "unknown or unsupported temporal function '%.*s'; on the instants of the time "
            "field: T_AFTER, T_BEFORE, T_DISJOINT, T_EQUALS, T_INTERSECTS, T_DURING",
            (int)p->t.len, p->t.s);
    cq_next(p);
    int64_t lo = 0, hi = 0;
    if (cq_expect(p, T_LP, "'('")) return -1;
    for (int arg = 0; arg < 2; arg++) {
        if (arg && cq_expect(p, T_COMMA, "','")) return -1;
        if ((p->t.k == T_IDENT && !cq_kw(p, "INTERVAL") && !cq_kw(p, "TIMESTAMP") &&
             !cq_kw(p, "DATE")) ||
            p->t.k == T_QIDENT) {
            if (t >= 0)
                return cq_fail(p, p->t.pos, GW_ERR_ARG,
                               "%s takes one property and one time literal", names[fn]);
            if ((t = cq_property(p)) < 0) return -1;
            if (N(t).type != GW_CQL2_T_TIME || N(t).kind != GW_CQL2_PROP)
                return cq_fail(p, N(t).kind == GW_CQL2_PROP ? pos : pos, GW_ERR_ARG,
                               "%s needs a time property", names[fn]);
        } else {
            if (arg == 0) lit_first = 1;
            nlit++;
            if (p_temporal_lit(p, &lo, &hi, &iv)) return -1;
        }
    }
    if (cq_expect(p, T_RP, "')'")) return -1;
    if (t < 0 || nlit != 1)
        return cq_fail(p, pos, GW_ERR_ARG, "%s takes one time property and one time literal",
                       names[fn]);
    if (lit_first && fn <= 1) fn = !fn; /* T_AFTER(lit, t) is T_BEFORE(t, lit) */
    if (lit_first && fn == 5)
        return cq_fail(
            p, pos, GW_ERR_ARG,
            "T_DURING(literal, instant) never holds; write T_DURING(property, INTERVAL(…))");
    if (lo > hi) return cq_fail(p, pos, GW_ERR_ARG, "the interval ends before it starts");
    switch (fn) {
    case 0: return tcmp(p, t, GW_CQL2_GT, hi, pos);
    case 1: return tcmp(p, t, GW_CQL2_LT, lo, pos);
    case 2:
        return cq_two(p, GW_CQL2_OR, tcmp(p, t, GW_CQL2_LT, lo, pos),
                      tcmp(p, t, GW_CQL2_GT, hi, pos), pos);
    case 3:
        if (!iv) return tcmp(p, t, GW_CQL2_EQ, lo, pos);
        /* an instant never equals an interval: false, and unknown where the time is NULL */
        return cq_two(p, GW_CQL2_AND, tcmp(p, t, GW_CQL2_LT, lo, pos),
                      tcmp(p, t, GW_CQL2_GT, hi, pos), pos);
    case 4:
        if (!iv) return tcmp(p, t, GW_CQL2_EQ, lo, pos);
        return cq_two(p, GW_CQL2_AND, tcmp(p, t, GW_CQL2_GE, lo, pos),
                      tcmp(p, t, GW_CQL2_LE, hi, pos), pos);
    default:
        if (!iv) return cq_fail(p, pos, GW_ERR_ARG, "T_DURING needs an INTERVAL");
        return cq_two(p, GW_CQL2_AND, tcmp(p, t, GW_CQL2_GT, lo, pos),
                      tcmp(p, t, GW_CQL2_LT, hi, pos), pos);
    }
}
