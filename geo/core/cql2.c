/* cql2.c — the CQL2 text parser (cql2.h): a hand-written lexer and recursive descent over the
 * OGC grammar's Basic CQL2, advanced comparison, spatial and temporal classes, type-checked as
 * it goes against the layer's fields, so every error names its byte offset.  Geometry literals
 * are read by GEOS's WKT reader and kept as WKB with their envelope; temporal functions on the
 * layer's time field become comparisons here, so the SQL writers only see comparisons. */
#include "cql2_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Record the first error (at byte pos) and return -1. */
int cq_fail(P *p, int pos, gw_status st, const char *fmt, ...)
{
    if (p->st) return -1;
    char m[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    p->st = st, p->err_pos = pos;
    gw_ctx_error_at(p->ctx, st, pos, "at %d: %s", pos, m);
    return -1;
}

void *cq_own(P *p, void *mem)
{
    impl *f = p->f;
    if (!mem) return NULL;
    if (f->nown == f->capown) {
        int cap = f->capown ? f->capown * 2 : 16;
        void **o = realloc(f->own, (size_t)cap * sizeof *o);
        if (!o) return free(mem), NULL;
        f->own = o, f->capown = cap;
    }
    return f->own[f->nown++] = mem;
}

int cq_node(P *p, gw_cql2_kind k, int pos)
{
    gw_cql2 *f = &p->f->pub;
    if (f->n >= GW_CQL2_MAX_NODES)
        return cq_fail(p, pos, GW_ERR_RANGE, "the filter is too long (at most %d terms)",
                       GW_CQL2_MAX_NODES);
    gw_cql2_node *n = &f->nodes[f->n];
    memset(n, 0, sizeof *n);
    n->kind = k, n->a = n->b = n->c = n->next = -1, n->field = -1;
    return f->n++;
}

/* ---- lexer -------------------------------------------------------------------------------- */

static int ident_char(int c) { return isalnum(c) || c == '_' || c == ':' || c == '.'; }

void cq_next(P *p)
{
    const char *s = p->text;
    while (p->at < p->n && isspace((unsigned char)s[p->at])) p->at++;
    tok *t = &p->t;
    t->pos = (int)p->at, t->s = s + p->at, t->len = 0;
    if (p->at >= p->n) {
        t->k = T_END;
        return;
    }
    size_t i = p->at;
    unsigned char c = (unsigned char)s[i];
    if (c == '(' || c == ')' || c == ',') {
        t->k = c == '(' ? T_LP : c == ')' ? T_RP : T_COMMA, t->len = 1;
    } else if (c == '=' || c == '<' || c == '>') {
        t->k = T_OP, t->len = 1;
        t->op = c == '=' ? GW_CQL2_EQ : c == '<' ? GW_CQL2_LT : GW_CQL2_GT;
        if (c == '<' && i + 1 < p->n && s[i + 1] == '>') t->op = GW_CQL2_NE, t->len = 2;
        else if (c != '=' && i + 1 < p->n && s[i + 1] == '=')
            t->op = c == '<' ? GW_CQL2_LE : GW_CQL2_GE, t->len = 2;
    } else if (c == '\'' || c == '"') { /* '' and "" stand for the quote itself */
        size_t j = i + 1;
        for (;;) {
            if (j >= p->n) {
                t->k = T_END;
                cq_fail(p, (int)i, GW_ERR_FORMAT, "unterminated %s",
                        c == '"' ? "quoted name" : "string");
                return;
            }
            if ((unsigned char)s[j] == c) {
                if (j + 1 < p->n && (unsigned char)s[j + 1] == c) j += 2;
                else break;
            } else j++;
        }
        t->k = c == '"' ? T_QIDENT : T_STR, t->len = j + 1 - i;
    } else if (isdigit(c) || ((c == '-' || c == '+' || c == '.') && i + 1 < p->n &&
                              (isdigit((unsigned char)s[i + 1]) || s[i + 1] == '.'))) {
        size_t j = i + (c == '-' || c == '+');
        while (j < p->n && isdigit((unsigned char)s[j])) j++;
        if (j < p->n && s[j] == '.')
            for (j++; j < p->n && isdigit((unsigned char)s[j]);) j++;
        if (j < p->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1 + (j + 1 < p->n && (s[j + 1] == '-' || s[j + 1] == '+'));
            if (k < p->n && isdigit((unsigned char)s[k]))
                for (j = k; j < p->n && isdigit((unsigned char)s[j]);) j++;
        }
        t->k = T_NUM, t->len = j - i;
    } else if (isalpha(c) || c == '_') {
        size_t j = i;
        while (j < p->n && ident_char((unsigned char)s[j])) j++;
        t->k = T_IDENT, t->len = j - i;
    } else {
        t->k = T_END;
        cq_fail(p, (int)i, GW_ERR_FORMAT, "unexpected character '%c'", isprint(c) ? c : '?');
        return;
    }
    p->at = i + t->len;
}

int cq_kw(const P *p, const char *w)
{
    return p->t.k == T_IDENT && p->t.len == strlen(w) && strncasecmp(p->t.s, w, p->t.len) == 0;
}

/* The token after the current one, without consuming anything. */
static tok peek(P *p)
{
    size_t at = p->at;
    const char *s = p->text;
    while (at < p->n && isspace((unsigned char)s[at])) at++;
    tok t = {T_END, (int)at, s + at, 0, GW_CQL2_EQ};
    if (at < p->n) t.k = s[at] == '(' ? T_LP : strchr("=<>", s[at]) ? T_OP : T_IDENT;
    return t;
}

const char *cq_desc(const tok *t)
{
    switch (t->k) {
    case T_END: return "the end of the filter";
    case T_LP: return "'('";
    case T_RP: return "')'";
    case T_COMMA: return "','";
    case T_OP: return "an operator";
    case T_STR: return "a string";
    case T_NUM: return "a number";
    default: return "a name";
    }
}

int cq_expect(P *p, tkind k, const char *what)
{
    if (p->st) return -1;
    if (p->t.k != k)
        return cq_fail(p, p->t.pos, GW_ERR_FORMAT, "expected %s, found %s", what, cq_desc(&p->t));
    cq_next(p);
    return p->st ? -1 : 0;
}

/* The current quoted token's text without quotes, doubled quotes undone; owned by the filter. */
static char *unquote(P *p)
{
    const tok *t = &p->t;
    char *o = cq_own(p, malloc(t->len));
    if (!o) return cq_fail(p, t->pos, GW_ERR_NOMEM, "out of memory"), NULL;
    size_t k = 0;
    for (size_t i = 1; i + 1 < t->len; i++) {
        o[k++] = t->s[i];
        if (t->s[i] == t->s[0]) i++;
    }
    o[k] = 0;
    return o;
}

/* ---- scalars ------------------------------------------------------------------------------ */

static gw_cql2_type field_type(gw_ftype t)
{
    return t == GW_FT_INT    ? GW_CQL2_T_INT
           : t == GW_FT_REAL ? GW_CQL2_T_REAL
           : t == GW_FT_TIME ? GW_CQL2_T_TIME
                             : GW_CQL2_T_TEXT;
}

/* A time literal's text into Unix seconds; -1 (error recorded) when it is none.  Stored times
 * are whole seconds, so a fraction that is not zero is refused: no comparison could be exact. */
int cq_time_text(P *p, int pos, const char *s, int date_only, int64_t *out)
{
    if (p->st) return -1; /* an error already recorded (the lexer's, past the literal) stays */
    size_t len = strlen(s);
    if (date_only && (len != 10 || strchr(s, 'T')))
        return cq_fail(p, pos, GW_ERR_FORMAT, "DATE('%s'): expected YYYY-MM-DD", s);
    const char *dot = strchr(s, '.');
    if (dot)
        for (const char *d = dot + 1; isdigit((unsigned char)*d); d++)
            if (*d != '0')
                return cq_fail(
                    p, pos, GW_ERR_ARG,
                    "'%s': times are stored to the second; a fraction of a second cannot "
                    "be compared exactly",
                    s);
    if (gw_time_parse(p->ctx, s, "UTC", out) != GW_OK) {
        gw_ctx_clear_error(p->ctx);
        return cq_fail(p, pos, GW_ERR_FORMAT, "'%s' is not an RFC 3339 time", s);
    }
    /* Every stored time lies in the window every write checks (GW_TIME_MIN_S..MAX_S), so a
     * literal outside it compares with them as the second just outside it does, which formats
     * as a four-digit year (the SQLite engine compares times as their ISO text). */
    if (*out < GW_TIME_MIN_S) *out = GW_TIME_MIN_S - 1;
    if (*out > GW_TIME_MAX_S) *out = GW_TIME_MAX_S + 1;
    return 0;
}

int cq_is_geom_kw(const P *p)
{
    static const char *const k[] = {
        "POINT",        "LINESTRING",         "POLYGON", "MULTIPOINT", "MULTILINESTRING",
        "MULTIPOLYGON", "GEOMETRYCOLLECTION", "BBOX"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (cq_kw(p, k[i])) return 1;
    return 0;
}

int cq_property(P *p)
{
    int pos = p->t.pos;
    char name[128];
    if (p->t.k == T_QIDENT) {
        const char *u = unquote(p);
        if (!u) return -1;
        snprintf(name, sizeof name, "%s", u);
    } else snprintf(name, sizeof name, "%.*s", (int)(p->t.len < 127 ? p->t.len : 127), p->t.s);
    cq_next(p);
    if (strcmp(name, "geometry") == 0) return cq_node(p, GW_CQL2_GEOM, pos);
    int fi = gw_layer_field_index(p->f->pub.layer, name);
    if (fi < 0) {
        char q[512];
        return cq_fail(p, pos, GW_ERR_ARG, "unknown property '%s'; queryables of %s: %s", name,
                       gw_layer_name(p->f->pub.layer),
                       gw_cql2_queryables(p->f->pub.layer, q, sizeof q));
    }
    size_t nf;
    const gw_field *fl = gw_layer_fields(p->f->pub.layer, &nf);
    int n = cq_node(p, GW_CQL2_PROP, pos);
    if (n >= 0) N(n).field = fi, N(n).type = field_type(fl[fi].type);
    return n;
}

/* TIMESTAMP('…') or DATE('…'), the current token being the keyword. */
static int p_time_lit(P *p)
{
    int pos = p->t.pos, date = cq_kw(p, "DATE");
    cq_next(p);
    if (cq_expect(p, T_LP, "'('")) return -1;
    if (p->t.k != T_STR)
        return cq_fail(p, p->t.pos, GW_ERR_FORMAT, "expected a quoted time, found %s",
                       cq_desc(&p->t));
    const char *s = unquote(p);
    int64_t t;
    if (!s || cq_time_text(p, p->t.pos, s, date, &t)) return -1;
    cq_next(p);
    if (cq_expect(p, T_RP, "')'")) return -1;
    int n = cq_node(p, GW_CQL2_LIT, pos);
    if (n >= 0) N(n).type = GW_CQL2_T_TIME, N(n).num.i = t, N(n).text = s;
    return n;
}

int cq_scalar(P *p)
{
    if (p->st) return -1;
    int pos = p->t.pos, n;
    switch (p->t.k) {
    case T_STR: {
        const char *s = unquote(p);
        if (!s || (n = cq_node(p, GW_CQL2_LIT, pos)) < 0) return -1;
        N(n).type = GW_CQL2_T_TEXT, N(n).text = s;
        cq_next(p);
        return n;
    }
    case T_NUM: {
        char buf[64];
        if (p->t.len >= sizeof buf) return cq_fail(p, pos, GW_ERR_FORMAT, "number too long");
        snprintf(buf, sizeof buf, "%.*s", (int)p->t.len, p->t.s);
        if ((n = cq_node(p, GW_CQL2_LIT, pos)) < 0) return -1;
        char *end;
        errno = 0;
        long long i = strchr(buf, '.') || strpbrk(buf, "eE") ? 0 : strtoll(buf, &end, 10);
        if (!strchr(buf, '.') && !strpbrk(buf, "eE") && errno == 0) {
            N(n).type = GW_CQL2_T_INT, N(n).num.i = i, N(n).num.d = (double)i;
        } else {
            double d = strtod(buf, &end);
            if (!isfinite(d)) return cq_fail(p, pos, GW_ERR_RANGE, "number '%s' out of range", buf);
            N(n).type = GW_CQL2_T_REAL, N(n).num.d = d;
        }
        cq_next(p);
        return n;
    }
    case T_QIDENT: return cq_property(p);
    case T_IDENT:
        if (cq_kw(p, "TIMESTAMP") || cq_kw(p, "DATE")) return p_time_lit(p);
        if (cq_kw(p, "TRUE") || cq_kw(p, "FALSE")) {
            if ((n = cq_node(p, GW_CQL2_LIT, pos)) < 0) return -1;
            N(n).type = GW_CQL2_T_BOOL, N(n).num.i = cq_kw(p, "TRUE");
            cq_next(p);
            return n;
        }
        if (cq_is_geom_kw(p) || cq_kw(p, "INTERVAL"))
            return cq_fail(p, pos, GW_ERR_FORMAT,
                           "%.*s is allowed only inside a spatial or temporal function",
                           (int)p->t.len, p->t.s);
        return cq_property(p);
    default:
        return cq_fail(p, pos, GW_ERR_FORMAT, "expected a property or a literal, found %s",
                       cq_desc(&p->t));
    }
}

static const char *type_name(gw_cql2_type t)
{
    static const char *const n[] = {"text", "integer", "number", "time", "boolean"};
    return n[t];
}

static int numeric(gw_cql2_type t) { return t == GW_CQL2_T_INT || t == GW_CQL2_T_REAL; }

/* Make scalar s usable against a scalar of type `want`: a string literal meeting a time becomes
 * that time (GDAL's OAPIF driver sends 'YYYY-MM-DDTHH:MM:SSZ' strings); then the types must be
 * of one class (numbers with numbers).  -1 with the error recorded at pos. */
static int fit(P *p, int s, gw_cql2_type want, int other, int pos)
{
    gw_cql2_node *a = &N(s);
    if (a->kind == GW_CQL2_GEOM || N(other).kind == GW_CQL2_GEOM)
        return cq_fail(p, pos, GW_ERR_ARG,
                       "the geometry is compared only with spatial functions (S_INTERSECTS …)");
    if (a->kind == GW_CQL2_LIT && a->type == GW_CQL2_T_TEXT && want == GW_CQL2_T_TIME) {
        int64_t t;
        if (cq_time_text(p, pos, a->text, 0, &t)) return -1;
        a->type = GW_CQL2_T_TIME, a->num.i = t;
    }
    if (a->type == want || (numeric(a->type) && numeric(want))) return 0;
    char nm[2][160];
    for (int k = 0; k < 2; k++) {
        const gw_cql2_node *x = k ? &N(other) : a;
        size_t nf;
        const gw_field *fl = gw_layer_fields(p->f->pub.layer, &nf);
        if (x->kind == GW_CQL2_PROP)
            snprintf(nm[k], sizeof nm[k], "%s property '%s'", type_name(x->type),
                     fl[x->field].name);
        else snprintf(nm[k], sizeof nm[k], "a %s literal", type_name(x->type));
    }
    return cq_fail(p, pos, GW_ERR_ARG, "%s cannot be compared with %s", nm[1], nm[0]);
}

/* ---- predicates --------------------------------------------------------------------------- */

static int p_or(P *p);

static int cmp_node(P *p, int l, gw_cql2_cmp op, int r, int pos)
{
    if (fit(p, r, N(l).type, l, pos) || fit(p, l, N(r).type, r, pos)) return -1;
    int n = cq_node(p, GW_CQL2_CMP, pos);
    if (n >= 0) N(n).a = l, N(n).b = r, N(n).cmp = op;
    return n;
}

int cq_two(P *p, gw_cql2_kind k, int a, int b, int pos)
{
    if (a < 0 || b < 0) return -1;
    int n = cq_node(p, k, pos);
    if (n >= 0) N(n).a = a, N(n).b = b;
    return n;
}

static int p_predicate(P *p)
{
    int l = cq_scalar(p);
    if (l < 0) return -1;
    int pos = p->t.pos, neg = 0, n;
    if (p->t.k == T_OP) {
        gw_cql2_cmp op = p->t.op;
        cq_next(p);
        int r = cq_scalar(p);
        return r < 0 ? -1 : cmp_node(p, l, op, r, pos);
    }
    if (cq_kw(p, "NOT")) neg = 1, cq_next(p);
    if (cq_kw(p, "LIKE")) {
        cq_next(p);
        if (N(l).type != GW_CQL2_T_TEXT || N(l).kind == GW_CQL2_GEOM)
            return cq_fail(p, pos, GW_ERR_ARG, "LIKE needs a text property on its left");
        if (p->t.k != T_STR)
            return cq_fail(p, p->t.pos, GW_ERR_FORMAT,
                           "expected a quoted pattern after LIKE, found %s", cq_desc(&p->t));
        int r = cq_scalar(p);
        if (r < 0 || (n = cq_node(p, GW_CQL2_LIKE, pos)) < 0) return -1;
        N(n).a = l, N(n).b = r, N(n).neg = neg;
        return n;
    }
    if (cq_kw(p, "BETWEEN")) {
        cq_next(p);
        int lo = cq_scalar(p);
        if (lo < 0) return -1;
        if (!cq_kw(p, "AND"))
            return cq_fail(p, p->t.pos, GW_ERR_FORMAT, "expected AND in BETWEEN, found %s",
                           cq_desc(&p->t));
        cq_next(p);
        int hi = cq_scalar(p);
        if (hi < 0) return -1;
        if (!numeric(N(l).type) && N(l).type != GW_CQL2_T_TIME)
            return cq_fail(p, pos, GW_ERR_ARG, "BETWEEN needs a number or a time on its left");
        if (fit(p, lo, N(l).type, l, pos) || fit(p, hi, N(l).type, l, pos) ||
            (n = cq_node(p, GW_CQL2_BETWEEN, pos)) < 0)
            return -1;
        N(n).a = l, N(n).b = lo, N(n).c = hi, N(n).neg = neg;
        return n;
    }
    if (cq_kw(p, "IN")) {
        cq_next(p);
        if (cq_expect(p, T_LP, "'(' after IN")) return -1;
        int first = -1, last = -1;
        for (;;) {
            int v = cq_scalar(p);
            if (v < 0 || fit(p, v, N(l).type, l, N(v).kind == GW_CQL2_LIT ? pos : pos)) return -1;
            if (last >= 0) N(last).next = v;
            else first = v;
            last = v;
            if (p->t.k == T_COMMA) {
                cq_next(p);
                continue;
            }
            if (cq_expect(p, T_RP, "',' or ')' in the IN list")) return -1;
            break;
        }
        if ((n = cq_node(p, GW_CQL2_IN, pos)) < 0) return -1;
        N(n).a = l, N(n).b = first, N(n).neg = neg;
        return n;
    }
    if (!neg && cq_kw(p, "IS")) {
        cq_next(p);
        if (cq_kw(p, "NOT")) neg = 1, cq_next(p);
        if (!cq_kw(p, "NULL"))
            return cq_fail(p, p->t.pos, GW_ERR_FORMAT, "expected NULL after IS, found %s",
                           cq_desc(&p->t));
        cq_next(p);
        if (N(l).kind != GW_CQL2_PROP && N(l).kind != GW_CQL2_GEOM)
            return cq_fail(p, pos, GW_ERR_ARG, "IS NULL needs a property");
        if ((n = cq_node(p, GW_CQL2_ISNULL, pos)) < 0) return -1;
        N(n).a = l, N(n).neg = neg;
        return n;
    }
    return cq_fail(p, p->t.pos, GW_ERR_FORMAT,
                   "expected a comparison (= <> < > <= >=), LIKE, BETWEEN, IN or IS NULL, found %s",
                   cq_desc(&p->t));
}

static int p_primary(P *p)
{
    if (p->st) return -1;
    if (p->t.k == T_LP) {
        if (++p->depth > GW_CQL2_MAX_DEPTH)
            return cq_fail(p, p->t.pos, GW_ERR_RANGE, "nested too deep (at most %d)",
                           GW_CQL2_MAX_DEPTH);
        cq_next(p);
        int e = p_or(p);
        if (e < 0 || cq_expect(p, T_RP, "')'")) return -1;
        p->depth--;
        return e;
    }
    if ((cq_kw(p, "TRUE") || cq_kw(p, "FALSE")) && peek(p).k != T_OP) {
        int n = cq_node(p, GW_CQL2_CONST, p->t.pos);
        if (n >= 0) N(n).num.i = cq_kw(p, "TRUE");
        cq_next(p);
        return n;
    }
    if (p->t.k == T_IDENT && p->t.len > 2 && peek(p).k == T_LP) {
        if (strncasecmp(p->t.s, "S_", 2) == 0) return cq_spatial(p);
        if (strncasecmp(p->t.s, "T_", 2) == 0) return cq_temporal(p);
    }
    return p_predicate(p);
}

static int p_not(P *p)
{
    if (cq_kw(p, "NOT")) {
        int pos = p->t.pos;
        if (++p->depth > GW_CQL2_MAX_DEPTH)
            return cq_fail(p, pos, GW_ERR_RANGE, "nested too deep (at most %d)", GW_CQL2_MAX_DEPTH);
        cq_next(p);
        int a = p_not(p);
        p->depth--;
        if (a < 0) return -1;
        int n = cq_node(p, GW_CQL2_NOT, pos);
        if (n >= 0) N(n).a = a;
        return n;
    }
    return p_primary(p);
}

static int p_and(P *p)
{
    int a = p_not(p);
    while (a >= 0 && cq_kw(p, "AND")) {
        int pos = p->t.pos;
        cq_next(p);
        a = cq_two(p, GW_CQL2_AND, a, p_not(p), pos);
    }
    return a;
}

static int p_or(P *p)
{
    int a = p_and(p);
    while (a >= 0 && cq_kw(p, "OR")) {
        int pos = p->t.pos;
        cq_next(p);
        a = cq_two(p, GW_CQL2_OR, a, p_and(p), pos);
    }
    return a;
}

gw_status gw_cql2_parse(gw_ctx *ctx, gw_layer layer, const char *text, const gw_cql2_opts *opts,
                        gw_cql2 **out, int *err_pos)
{
    static const gw_cql2_opts none = {0};
    if (err_pos) *err_pos = -1;
    *out = NULL;
    if (!text || !gw_layer_name(layer))
        return gw_ctx_error(ctx, GW_ERR_ARG, "cql2: no text or no layer");
    impl *f = calloc(1, sizeof *f);
    gw_cql2_node *nodes = malloc(GW_CQL2_MAX_NODES * sizeof *nodes);
    if (!f || !nodes) {
        free(f), free(nodes);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    f->pub.layer = layer, f->pub.nodes = nodes;
    P p = {.ctx = ctx,
           .text = text,
           .n = strlen(text),
           .f = f,
           .o = opts ? opts : &none,
           .err_pos = -1};
    cq_next(&p);
    if (p.t.k == T_END && !p.st) cq_fail(&p, 0, GW_ERR_FORMAT, "empty filter");
    int root = p.st ? -1 : p_or(&p);
    if (root >= 0 && p.t.k != T_END)
        cq_fail(&p, p.t.pos, GW_ERR_FORMAT, "expected AND, OR or the end of the filter, found %s",
                cq_desc(&p.t));
    if (p.st) {
        if (err_pos) *err_pos = p.err_pos;
        gw_cql2_free(&f->pub);
        return p.st;
    }
    f->pub.root = root;
    *out = &f->pub;
    return GW_OK;
}

void gw_cql2_free(gw_cql2 *pub)
{
    if (!pub) return;
    impl *f = (impl *)pub;
    for (int i = 0; i < f->nown; i++) free(f->own[i]);
    free(f->own);
    free(f->pub.nodes);
    free(f);
}
