/* layers_filter.c — the attribute filters of vector tiles (gridwatch/tilelayers.h): which
 * fields a tile may be filtered on, the filter's part of the tile cache key, and the per-row
 * test (time window, equal values, the caller's keep function such as a jurisdiction). */
#include "gridwatch/tilelayers.h"

#include "layers_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int filterable(gw_layer layer, const char *name)
{
    int fi = gw_layer_field_index(layer, name);
    if (fi <= 0) return 0;
    gw_ftype t = gw_layer_fields(layer, NULL)[fi].type;
    return t == GW_FT_TEXT || t == GW_FT_INT ? fi : 0;
}

gw_status gw_tile_filter_add(gw_ctx *ctx, gw_tile_filter *f, uint32_t parts, const char *name,
                             const char *value)
{
    int found = 0, is_int = 0;
    char names[512] = "";
    for (int p = 0; p < GW_TL_CITY; p++) {
        if (!(parts & (1u << p))) continue;
        gw_layer l = tl_part_layer(p);
        int fi = filterable(l, name);
        if (fi) {
            found = 1;
            is_int |= gw_layer_fields(l, NULL)[fi].type == GW_FT_INT;
        }
        size_t nf;
        const gw_field *fs = gw_layer_fields(l, &nf);
        for (size_t i = 1; i < nf; i++)
            if ((fs[i].type == GW_FT_TEXT || fs[i].type == GW_FT_INT) &&
                !strstr(names, fs[i].name) && strlen(names) + strlen(fs[i].name) + 3 < sizeof names)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         *names ? ", " : "", fs[i].name);
    }
    if (!found)
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                            "unknown filter '%s'; these tiles take datetime and %s", name, names);
    if (is_int) {
        char *end;
        strtoll(value, &end, 10);
        if (!*value || *end)
            return gw_ctx_error(ctx, GW_ERR_FORMAT, "filter '%s': '%s' is not an integer", name,
                                value);
    }
    if (f->n >= GW_TILE_MAX_FILTERS)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "too many filters (at most %d)",
                            GW_TILE_MAX_FILTERS);
    if (strlen(name) >= sizeof f->prop[0].name || strlen(value) >= sizeof f->prop[0].value)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "filter '%s': value longer than %zu bytes", name,
                            sizeof f->prop[0].value - 1);
    snprintf(f->prop[f->n].name, sizeof f->prop[0].name, "%s", name);
    snprintf(f->prop[f->n].value, sizeof f->prop[0].value, "%s", value);
    f->n++;
    return GW_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void gw_tile_filter_key(const gw_tile_filter *f, char *buf, size_t cap)
{
    if (!cap) return;
    buf[0] = '\0';
    if (!f) return;
    char parts[GW_TILE_MAX_FILTERS + 1][200];
    const char *ptr[GW_TILE_MAX_FILTERS + 1];
    int n = 0;
    for (int i = 0; i < f->n; i++, n++) {
        snprintf(parts[n], sizeof parts[n], "%s=%s", f->prop[i].name, f->prop[i].value);
        ptr[n] = parts[n];
    }
    if (f->has_lo || f->has_hi) {
        char lo[24] = "..", hi[24] = "..";
        if (f->has_lo) snprintf(lo, sizeof lo, "%lld", (long long)f->lo);
        if (f->has_hi) snprintf(hi, sizeof hi, "%lld", (long long)f->hi);
        snprintf(parts[n], sizeof parts[n], "datetime=%s/%s", lo, hi);
        ptr[n] = parts[n];
        n++;
    }
    qsort(ptr, (size_t)n, sizeof *ptr, cmp_str);
    size_t len = 0;
    for (int i = 0; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "&" : "", ptr[i]);
    if (len >= cap) buf[cap - 1] = '\0';
}

void tl_cfilt_init(tl_cfilt *c, const gw_layer_data *d, const gw_tile_filter *f)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    if (!f) return;
    gw_layer layer = gw_layer_data_layer(d);
    size_t nf;
    const gw_field *fs = gw_layer_fields(layer, &nf);
    for (int i = 0; i < f->n; i++) {
        int fi = filterable(layer, f->prop[i].name);
        if (!fi) continue;
        c->field[c->n] = fi;
        if (fs[fi].type == GW_FT_INT) {
            c->ints[c->n] = gw_layer_data_ints(d, fi);
            c->nulls[c->n] = gw_layer_data_nulls(d, fi);
            c->iv[c->n] = strtoll(f->prop[i].value, NULL, 10);
        }
        c->sv[c->n] = f->prop[i].value;
        c->n++;
    }
    if (f->has_lo || f->has_hi)
        for (size_t i = 0; i < nf; i++)
            if (fs[i].type == GW_FT_TIME) {
                c->tcol = gw_layer_data_ints(d, (int)i);
                c->tnull = gw_layer_data_nulls(d, (int)i);
                c->has_lo = f->has_lo, c->has_hi = f->has_hi, c->lo = f->lo, c->hi = f->hi;
            }
}

int tl_cfilt_pass(const tl_cfilt *c, size_t row)
{
    if (c->keep && !c->keep(c->keep_user, c->d, row)) return 0;
    if (c->tcol) {
        if (c->tnull && c->tnull[row]) return 0;
        if (c->has_lo && c->tcol[row] < c->lo) return 0;
        if (c->has_hi && c->tcol[row] > c->hi) return 0;
    }
    for (int i = 0; i < c->n; i++) {
        if (c->ints[i]) {
            if ((c->nulls[i] && c->nulls[i][row]) || c->ints[i][row] != c->iv[i]) return 0;
        } else {
            const char *s = gw_layer_data_text(c->d, row, c->field[i]);
            if (!s || strcmp(s, c->sv[i]) != 0) return 0;
        }
    }
    return 1;
}
