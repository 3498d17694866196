/* cql2_sql.c — CQL2 trees as SQL for both engines (cql2_sql.h).  Comparisons are SQL's, NULLs
 * included (a comparison with a NULL is unknown, so NOT does not select it), and read the same
 * on both engines: text compares byte by byte (SQLite's BINARY, PostgreSQL's COLLATE "C"),
 * LIKE is case-sensitive (SQLite: the pattern as a GLOB, since its LIKE ignores ASCII case),
 * times compare as instants (PostgreSQL: timestamptz; SQLite: the stored text, which every
 * write formats as "YYYY-MM-DDTHH:MM:SSZ" (gw_time_format), against the literal formatted the
 * same way, so text order is time order).  A spatial relation other than S_DISJOINT implies
 * that the envelopes meet, so the SQLite engine first asks the layer's R*Tree for the
 * literal's envelope; PostgreSQL's GiST index takes `geom && literal`. */
#include "cql2_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(st_cql_sql *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(st_cql_sql *s, const char *fmt, ...)
{
    if (s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = s->cap - s->len;
        int n = vsnprintf(s->sql ? s->sql + s->len : NULL, s->sql ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            s->oom = 1;
            return;
        }
        if (s->sql && (size_t)n < room) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap ? s->cap * 2 : 1024) + (size_t)n;
        char *m = realloc(s->sql, cap);
        if (!m) {
            s->oom = 1;
            return;
        }
        s->sql = m, s->cap = cap;
    }
}

/* A new parameter; writes its placeholder ("?", or "$k::cast" when cast is not NULL). */
static st_cql_param *param(st_cql_sql *s, st_cql_kind k, const char *cast)
{
    if (s->oom) return NULL;
    if (s->np == s->capp) {
        int cap = s->capp ? s->capp * 2 : 16;
        st_cql_param *m = realloc(s->p, (size_t)cap * sizeof *m);
        if (!m) {
            s->oom = 1;
            return NULL;
        }
        s->p = m, s->capp = cap;
    }
    st_cql_param *p = &s->p[s->np++];
    memset(p, 0, sizeof *p);
    p->kind = k;
    if (s->pg && cast) put(s, "$%d::%s", s->first + s->np - 1, cast);
    else if (!s->pg) put(s, "?");
    return p;
}

static const char *const cmp_sql[] = {"=", "<>", "<", ">", "<=", ">="};
static const char *const sfn_sql[] = {"ST_Intersects", "ST_Disjoint", "ST_Within",  "ST_Contains",
                                      "ST_Equals",     "ST_Touches",  "ST_Crosses", "ST_Overlaps"};

static void scalar(st_cql_sql *s, const gw_cql2 *f, const gw_cql2_node *n)
{
    if (n->kind == GW_CQL2_GEOM) {
        put(s, "geom");
        return;
    }
    if (n->kind == GW_CQL2_PROP) {
        size_t nf;
        const gw_field *fl = gw_layer_fields(f->layer, &nf);
        put(s, "\"%s\"%s", fl[n->field].name,
            s->pg && n->type == GW_CQL2_T_TEXT ? " COLLATE \"C\"" : "");
        return;
    }
    st_cql_param *p;
    switch (n->type) {
    case GW_CQL2_T_TEXT:
        if ((p = param(s, ST_CQL_TEXT, "text"))) p->s = n->text ? n->text : "";
        if (s->pg) put(s, " COLLATE \"C\"");
        break;
    case GW_CQL2_T_INT:
        if ((p = param(s, ST_CQL_INT, "bigint"))) p->i = n->num.i;
        break;
    case GW_CQL2_T_REAL:
        if ((p = param(s, ST_CQL_REAL, "float8"))) p->d = n->num.d;
        break;
    case GW_CQL2_T_TIME:
        if ((p = param(s, ST_CQL_TEXT, "timestamptz"))) {
            gw_time_format(n->num.i, p->own, sizeof p->own);
            p->s = p->own;
        }
        break;
    default:
        if ((p = param(s, ST_CQL_INT, "boolean"))) p->i = n->num.i;
        break;
    }
    if (p && s->pg && p->kind != ST_CQL_TEXT) {
        if (p->kind == ST_CQL_REAL) snprintf(p->own, sizeof p->own, "%.17g", p->d);
        else if (n->type == GW_CQL2_T_BOOL) snprintf(p->own, sizeof p->own, "%s", p->i ? "t" : "f");
        else snprintf(p->own, sizeof p->own, "%lld", (long long)p->i);
        p->s = p->own;
    }
}

/* A CQL2 LIKE pattern (%, _, \ escapes) as a SQLite GLOB pattern, which is case-sensitive. */
static char *glob_of(const char *like)
{
    size_t n = strlen(like);
    char *g = malloc(3 * n + 1), *o = g;
    if (!g) return NULL;
    for (const char *c = like; *c; c++) {
        char lit = *c;
        if (*c == '%') {
            *o++ = '*';
            continue;
        }
        if (*c == '_') {
            *o++ = '?';
            continue;
        }
        if (*c == '\\' && c[1]) lit = *++c;
        if (lit == '*' || lit == '?' || lit == '[') *o++ = '[', *o++ = lit, *o++ = ']';
        else *o++ = lit;
    }
    *o = 0;
    return g;
}

static void emit(st_cql_sql *s, const gw_cql2 *f, int i, int depth)
{
    if (s->oom) return;
    if (i < 0 || i >= f->n || depth > 4 * GW_CQL2_MAX_DEPTH + 16) {
        put(s, "(1 = 0)");
        return;
    }
    const gw_cql2_node *n = &f->nodes[i];
    switch (n->kind) {
    case GW_CQL2_AND:
    case GW_CQL2_OR:
        put(s, "(");
        emit(s, f, n->a, depth + 1);
        put(s, n->kind == GW_CQL2_AND ? " AND " : " OR ");
        emit(s, f, n->b, depth + 1);
        put(s, ")");
        break;
    case GW_CQL2_NOT:
        put(s, "(NOT ");
        emit(s, f, n->a, depth + 1);
        put(s, ")");
        break;
    case GW_CQL2_CONST: put(s, n->num.i ? "(1 = 1)" : "(1 = 0)"); break;
    case GW_CQL2_CMP:
        put(s, "(");
        scalar(s, f, &f->nodes[n->a]);
        put(s, " %s ", cmp_sql[n->cmp]);
        scalar(s, f, &f->nodes[n->b]);
        put(s, ")");
        break;
    case GW_CQL2_LIKE: {
        put(s, "(");
        scalar(s, f, &f->nodes[n->a]);
        put(s, n->neg ? " NOT" : "");
        const char *pat = f->nodes[n->b].text ? f->nodes[n->b].text : "";
        st_cql_param *p;
        if (s->pg) {
            put(s, " LIKE ");
            if ((p = param(s, ST_CQL_TEXT, "text"))) p->s = pat;
        } else {
            put(s, " GLOB ");
            char *g = glob_of(pat);
            if (!g) s->oom = 1;
            else if ((p = param(s, ST_CQL_TEXT, "text"))) p->s = p->hex = g;
            else free(g);
        }
        put(s, ")");
        break;
    }
    case GW_CQL2_BETWEEN:
        put(s, "(");
        scalar(s, f, &f->nodes[n->a]);
        put(s, n->neg ? " NOT BETWEEN " : " BETWEEN ");
        scalar(s, f, &f->nodes[n->b]);
        put(s, " AND ");
        scalar(s, f, &f->nodes[n->c]);
        put(s, ")");
        break;
    case GW_CQL2_IN:
        put(s, "(");
        scalar(s, f, &f->nodes[n->a]);
        put(s, n->neg ? " NOT IN (" : " IN (");
        for (int v = n->b, k = 0; v >= 0 && v < f->n && k < GW_CQL2_MAX_NODES;
             v = f->nodes[v].next, k++) {
            if (k) put(s, ", ");
            scalar(s, f, &f->nodes[v]);
        }
        put(s, "))");
        break;
    case GW_CQL2_ISNULL:
        put(s, "(");
        scalar(s, f, &f->nodes[n->a]);
        put(s, n->neg ? " IS NOT NULL)" : " IS NULL)");
        break;
    case GW_CQL2_SPATIAL: {
        st_cql_param *p;
        put(s, "(");
        if (s->pg) { /* one parameter, the WKB in hex, used twice */
            p = param(s, ST_CQL_BLOB, NULL);
            if (!p) break;
            int k = s->first + s->np - 1;
            p->blob = n->wkb, p->n = n->wkb_len;
            if (!(p->hex = malloc(2 * n->wkb_len + 1))) {
                s->oom = 1;
                break;
            }
            for (size_t b = 0; b < n->wkb_len; b++) sprintf(p->hex + 2 * b, "%02x", n->wkb[b]);
            p->hex[2 * n->wkb_len] = 0;
            p->s = p->hex;
            char g[80];
            snprintf(g, sizeof g, "ST_GeomFromWKB(decode($%d::text, 'hex'), 4326)", k);
            if (n->sfn != GW_CQL2_S_DISJOINT) put(s, "geom && %s AND ", g);
            put(s, "%s(geom, %s)", sfn_sql[n->sfn], g);
        } else {
            if (n->sfn != GW_CQL2_S_DISJOINT) {
                put(s, "fid IN (SELECT pkid FROM \"idx_%s_geom\" WHERE xmin <= ",
                    gw_layer_name(f->layer));
                if ((p = param(s, ST_CQL_REAL, NULL))) p->d = n->env.maxx;
                put(s, " AND xmax >= ");
                if ((p = param(s, ST_CQL_REAL, NULL))) p->d = n->env.minx;
                put(s, " AND ymin <= ");
                if ((p = param(s, ST_CQL_REAL, NULL))) p->d = n->env.maxy;
                put(s, " AND ymax >= ");
                if ((p = param(s, ST_CQL_REAL, NULL))) p->d = n->env.miny;
                put(s, ") AND ");
            }
            put(s, "%s(geom, GeomFromWKB(", sfn_sql[n->sfn]);
            if ((p = param(s, ST_CQL_BLOB, NULL))) p->blob = n->wkb, p->n = n->wkb_len;
            put(s, ", 4326)) = 1");
        }
        put(s, ")");
        break;
    }
    default: put(s, "(1 = 0)"); break;
    }
}

gw_status st_cql_where(gw_ctx *ctx, const gw_cql2 *f, st_cql_sql *out)
{
    if (!f || f->root < 0) return gw_ctx_error(ctx, GW_ERR_ARG, "cql2: no filter");
    emit(out, f, f->root, 0);
    if (out->oom) {
        st_cql_sql_free(out);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory writing the filter's SQL");
    }
    return GW_OK;
}

void st_cql_order(const gw_feature_filter *f, int pg, char *buf, size_t cap)
{
    size_t nf, k = 0;
    const gw_field *fl = gw_layer_fields(f->layer, &nf);
    k += (size_t)snprintf(buf, cap, " ORDER BY ");
    for (int i = 0; i < f->nsort && i < GW_FEATURE_MAX_SORT && k < cap; i++) {
        int fi = f->sort_field[i];
        if (fi < 0 || (size_t)fi >= nf) continue;
        /* SQLite puts NULLs first going up and last going down; PostgreSQL is told to */
        k += (size_t)snprintf(buf + k, cap - k, "\"%s\"%s %s%s, ", fl[fi].name,
                              pg && fl[fi].type == GW_FT_TEXT ? " COLLATE \"C\"" : "",
                              f->sort_desc[i] ? "DESC" : "ASC",
                              pg ? (f->sort_desc[i] ? " NULLS LAST" : " NULLS FIRST") : "");
    }
    if (k < cap) snprintf(buf + k, cap - k, "fid");
}

void st_cql_sql_free(st_cql_sql *s)
{
    if (!s) return;
    for (int i = 0; i < s->np; i++) free(s->p[i].hex);
    free(s->p);
    free(s->sql);
    s->p = NULL, s->sql = NULL, s->np = s->capp = 0, s->len = s->cap = 0;
}
