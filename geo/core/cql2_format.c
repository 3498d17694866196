/* cql2_format.c — a parsed CQL2 filter written back as CQL2 text (cql2.h), fully parenthesised
 * with its literals normalised (times as TIMESTAMP('…Z'), geometries as GEOS writes them), for
 * logs, tests and the fuzz target's round trip; and a layer's queryables for messages. */
#include "gridwatch/cql2.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct wb {
    char *buf;
    size_t cap, len;
} wb;

static void put(wb *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(wb *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->len < w->cap ? w->buf + w->len : NULL,
                      w->len < w->cap ? w->cap - w->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) w->len += (size_t)n;
}

/* s between quotes q, each q inside doubled. */
static void quoted(wb *w, const char *s, char q)
{
    put(w, "%c", q);
    for (; *s; s++) put(w, *s == q ? "%c%c" : "%c", *s, q);
    put(w, "%c", q);
}

static const char *const cmp_ops[] = {"=", "<>", "<", ">", "<=", ">="};
static const char *const sfn_names[] = {"S_INTERSECTS", "S_DISJOINT", "S_WITHIN",  "S_CONTAINS",
                                        "S_EQUALS",     "S_TOUCHES",  "S_CROSSES", "S_OVERLAPS"};

static void emit(const gw_cql2 *f, int i, wb *w, int depth)
{
    if (i < 0 || i >= f->n || depth > 2 * GW_CQL2_MAX_DEPTH + 8) {
        put(w, "?");
        return;
    }
    const gw_cql2_node *n = &f->nodes[i];
    size_t nf;
    const gw_field *fl = gw_layer_fields(f->layer, &nf);
    switch (n->kind) {
    case GW_CQL2_AND:
    case GW_CQL2_OR:
        put(w, "(");
        emit(f, n->a, w, depth + 1);
        put(w, n->kind == GW_CQL2_AND ? " AND " : " OR ");
        emit(f, n->b, w, depth + 1);
        put(w, ")");
        break;
    case GW_CQL2_NOT:
        put(w, "NOT (");
        emit(f, n->a, w, depth + 1);
        put(w, ")");
        break;
    case GW_CQL2_CONST: put(w, n->num.i ? "TRUE" : "FALSE"); break;
    case GW_CQL2_CMP:
        put(w, "(");
        emit(f, n->a, w, depth + 1);
        put(w, " %s ", cmp_ops[n->cmp]);
        emit(f, n->b, w, depth + 1);
        put(w, ")");
        break;
    case GW_CQL2_LIKE:
    case GW_CQL2_BETWEEN:
    case GW_CQL2_IN:
        put(w, "(");
        emit(f, n->a, w, depth + 1);
        put(w, n->neg ? " NOT" : "");
        put(w, n->kind == GW_CQL2_LIKE ? " LIKE " : n->kind == GW_CQL2_IN ? " IN (" : " BETWEEN ");
        if (n->kind == GW_CQL2_IN)
            for (int v = n->b, k = 0; v >= 0 && v < f->n && k < GW_CQL2_MAX_NODES;
                 v = f->nodes[v].next, k++) {
                if (k) put(w, ", ");
                emit(f, v, w, depth + 1);
            }
        else emit(f, n->b, w, depth + 1);
        if (n->kind == GW_CQL2_IN) put(w, ")");
        if (n->kind == GW_CQL2_BETWEEN) {
            put(w, " AND ");
            emit(f, n->c, w, depth + 1);
        }
        put(w, ")");
        break;
    case GW_CQL2_ISNULL:
        put(w, "(");
        emit(f, n->a, w, depth + 1);
        put(w, n->neg ? " IS NOT NULL)" : " IS NULL)");
        break;
    case GW_CQL2_SPATIAL:
        put(w, "%s(geometry, %s)", sfn_names[n->sfn], n->text ? n->text : "?");
        break;
    case GW_CQL2_PROP:
        if (n->field >= 0 && (size_t)n->field < nf) quoted(w, fl[n->field].name, '"');
        else put(w, "?");
        break;
    case GW_CQL2_GEOM: put(w, "geometry"); break;
    case GW_CQL2_LIT:
        switch (n->type) {
        case GW_CQL2_T_TEXT: quoted(w, n->text ? n->text : "", '\''); break;
        case GW_CQL2_T_INT: put(w, "%lld", (long long)n->num.i); break;
        case GW_CQL2_T_REAL: {
            char d[40];
            snprintf(d, sizeof d, "%.17g", n->num.d);
            put(w, "%s%s", d, strpbrk(d, ".eEn") ? "" : ".0");
            break;
        }
        case GW_CQL2_T_TIME: {
            char t[40];
            gw_time_format(n->num.i, t, sizeof t);
            put(w, "TIMESTAMP('%s')", t);
            break;
        }
        default: put(w, n->num.i ? "TRUE" : "FALSE"); break;
        }
        break;
    }
}

size_t gw_cql2_format(const gw_cql2 *f, char *buf, size_t cap)
{
    wb w = {buf, cap, 0};
    if (cap) buf[0] = 0;
    if (f) emit(f, f->root, &w, 0);
    if (cap) buf[w.len < cap ? w.len : cap - 1] = 0;
    return w.len;
}

const char *gw_cql2_queryables(gw_layer layer, char *buf, size_t cap)
{
    size_t nf, k = 0;
    const gw_field *fl = gw_layer_fields(layer, &nf);
    if (cap) buf[0] = 0;
    for (size_t i = 0; fl && i < nf && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s, ", fl[i].name);
    if (k < cap) snprintf(buf + k, cap - k, "geometry");
    return buf;
}
