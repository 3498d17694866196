/* fuzz_cql2.c — libFuzzer target for the CQL2 text parser (gw_cql2_parse: every items request's
 * `filter`, geo/core/cql2.c and cql2_fn.c, GEOS's WKT reader behind the geometry literals) and
 * the SQL it becomes (geo/store/cql2_sql.c, both engines).  Byte 0: the layer (low 3 bits, mod
 * 5) and filter-crs EPSG:4326 (bit 3); the rest is the filter text.  An accepted filter must
 * format to text that parses again (or is refused only for its depth or length, which the fully
 * parenthesised form can exceed) and formats the same; its SQL must hold one placeholder per
 * parameter, numbered in order for PostgreSQL. */
#include "fuzz_util.h"

#include "cql2_sql.h"
#include "gridwatch/cql2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_sql(gw_ctx *ctx, const gw_cql2 *f, int pg)
{
    st_cql_sql s = {.pg = pg, .first = 3};
    if (fz_check(ctx, st_cql_where(ctx, f, &s), "st_cql_where") != GW_OK) return;
    int marks = 0, maxk = 0;
    for (const char *c = s.sql; c && *c; c++) {
        if (!pg && *c == '?') marks++;
        if (pg && *c == '$') {
            int k = atoi(c + 1);
            if (k < s.first || k > s.first + s.np - 1)
                fz_fail("$%d outside %d..%d: %s", k, s.first, s.first + s.np - 1, s.sql);
            if (k > maxk) maxk = k;
        }
    }
    if (!pg && marks != s.np) fz_fail("%d placeholders, %d parameters: %s", marks, s.np, s.sql);
    if (pg && s.np && maxk != s.first + s.np - 1)
        fz_fail("last parameter $%d unused: %s", s.first + s.np - 1, s.sql);
    for (int i = 0; i < s.np; i++)
        if (s.p[i].kind == ST_CQL_TEXT && !s.p[i].s) fz_fail("text parameter %d without text", i);
    st_cql_sql_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192) return 0;
    gw_ctx *ctx = fz_ctx();
    gw_layer layer = (gw_layer)((data[0] & 7) % GW_LAYER_COUNT);
    gw_cql2_opts o = {.swap_xy = (data[0] >> 3) & 1};
    char *text = fz_strndup(data + 1, size - 1);
    gw_cql2 *f = NULL;
    int pos = -2;
    gw_status st = fz_check(ctx, gw_cql2_parse(ctx, layer, text, &o, &f, &pos), "gw_cql2_parse");
    if (st != GW_OK) {
        if (f) fz_fail("a refused filter came with a tree");
        if (pos < 0 || (size_t)pos > strlen(text))
            fz_fail("error position %d outside the text (%zu)", pos, strlen(text));
        free(text);
        return 0;
    }
    if (pos != -1 || !f || f->root < 0 || f->root >= f->n) fz_fail("accepted without a root");
    size_t need = gw_cql2_format(f, NULL, 0);
    char *a = malloc(need + 1), *b = NULL;
    gw_cql2_format(f, a, need + 1);
    gw_cql2 *g = NULL;
    st = gw_cql2_parse(ctx, layer, a, NULL, &g, NULL);
    if (st == GW_OK) {
        size_t n2 = gw_cql2_format(g, NULL, 0);
        b = malloc(n2 + 1);
        gw_cql2_format(g, b, n2 + 1);
        if (strcmp(a, b) != 0) fz_fail("'%s' formats as '%s', which formats as '%s'", text, a, b);
    } else if (st != GW_ERR_RANGE) {
        fz_fail("'%s' formats as '%s', refused: %s", text, a, gw_ctx_errmsg(ctx));
    }
    check_sql(ctx, f, 0);
    check_sql(ctx, f, 1);
    gw_cql2_free(g);
    gw_cql2_free(f);
    free(a), free(b), free(text);
    return 0;
}
