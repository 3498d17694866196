/* edit_juris.c — setting the jurisdiction fields (prefecture, county, township, village) of many
 * published grids at once, all or nothing: what `gridwatch jurisdictions import` writes. */
#include "gridwatch/edit.h"
#include "gridwatch/store_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOW 5 /* unknown ids named in the refusal */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* GW_ERR_ARG naming an id given twice. */
static gw_status check_duplicates(gw_ctx *ctx, const gw_edit_juris *rows, size_t n)
{
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) ids[i] = rows[i].id;
    qsort(ids, n, sizeof *ids, cmp_str);
    gw_status st = GW_OK;
    for (size_t i = 1; !st && i < n; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0)
            st = gw_ctx_error(ctx, GW_ERR_ARG,
                              "grid '%s' is given twice; each grid may appear once; nothing was "
                              "changed",
                              ids[i]);
    free(ids);
    return st;
}

static gw_status check_rows(gw_ctx *ctx, const gw_edit_juris *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].id || !*rows[i].id)
            return gw_ctx_error(ctx, GW_ERR_ARG, "row %zu: no grid id; nothing was changed", i + 1);
        for (int k = 0; k < 4; k++) {
            const char *why = gw_juris_name_problem(rows[i].part[k]);
            if (why)
                return gw_ctx_error(ctx, GW_ERR_RANGE,
                                    "grid '%s': %s '%.60s': %s; nothing was "
                                    "changed",
                                    rows[i].id, gw_juris_field(k + 1), rows[i].part[k], why);
        }
    }
    return check_duplicates(ctx, rows, n);
}

/* Every id must be a published grid: GW_ERR_NOT_FOUND with the count and the first few. */
static gw_status check_known(gw_store *s, int64_t gv, const gw_edit_juris *rows, size_t n,
                             gw_bbox *boxes)
{
    size_t missing = 0;
    char list[512] = "";
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        gw_status st = gw_store_edit_lookup(s, GW_LAYER_GRIDS, gv, rows[i].id, &found, &boxes[i]);
        if (st) return st;
        if (found) continue;
        if (missing++ < SHOW)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%.60s'",
                     missing > 1 ? ", " : "", rows[i].id);
    }
    if (!missing) return GW_OK;
    return gw_ctx_error(gw_store_ctx(s), GW_ERR_NOT_FOUND,
                        "%zu grid id%s not in the published grid version: %s%s; nothing was "
                        "changed",
                        missing, missing == 1 ? " is" : "s are", list, missing > SHOW ? ", …" : "");
}

static gw_status push(gw_ctx *ctx, gw_edit_result *out, const char *id)
{
    char **ids = realloc(out->ids, (out->n + 1) * sizeof *ids);
    if (!ids) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    out->ids = ids;
    if (!(ids[out->n] = strdup(id))) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    out->n++;
    return GW_OK;
}

static gw_status write_rows(gw_store *s, int64_t gv, const gw_edit_juris *rows, size_t n,
                            const gw_bbox *boxes, gw_edit_result *out)
{
    gw_ctx *ctx = gw_store_ctx(s);
    size_t nf;
    gw_layer_fields(GW_LAYER_GRIDS, &nf);
    int ix[4];
    for (int k = 0; k < 4; k++)
        if ((ix[k] = gw_layer_field_index(GW_LAYER_GRIDS, gw_juris_field(k + 1))) < 0)
            return gw_ctx_error(ctx, GW_ERR_INTERNAL, "the grids layer has no field %s",
                                gw_juris_field(k + 1));
    gw_value v[16];
    unsigned char given[16];
    if (nf > 16) return gw_ctx_error(ctx, GW_ERR_INTERNAL, "too many grid fields");
    gw_status st = GW_OK;
    for (size_t i = 0; !st && i < n; i++) {
        memset(v, 0, sizeof v);
        memset(given, 0, sizeof given);
        v[0] = (gw_value){.kind = GW_VAL_TEXT, .s = rows[i].id};
        for (int k = 0; k < 4; k++) {
            const char *p = rows[i].part[k];
            if (!p) continue;
            given[ix[k]] = 1;
            v[ix[k]] = p && *p ? (gw_value){.kind = GW_VAL_TEXT, .s = p}
                               : (gw_value){.kind = GW_VAL_NULL};
        }
        char label[96];
        snprintf(label, sizeof label, "grid '%.60s'", rows[i].id);
        gw_store_edit_row r = {.label = label, .id = rows[i].id, .values = v, .given = given};
        st = gw_store_edit_update(s, GW_LAYER_GRIDS, gv, &r);
        if (!st)
            st = gw_store_log_change(s, GW_LAYER_GRIDS, "update", rows[i].id, &boxes[i], &out->seq);
        if (!st) st = push(ctx, out, rows[i].id);
    }
    return st;
}

gw_status gw_edit_grid_jurisdictions(gw_store *store, const gw_edit_juris *rows, size_t n,
                                     const char *who, gw_edit_result *out)
{
    if (!store || !out || (n && !rows)) return GW_ERR_ARG;
    memset(out, 0, sizeof *out);
    gw_ctx *ctx = gw_store_ctx(store);
    if (!n) return gw_ctx_error(ctx, GW_ERR_ARG, "no grids given; nothing was changed");
    gw_status st = check_rows(ctx, rows, n);
    if (st) return st;
    gw_bbox *boxes = calloc(n, sizeof *boxes);
    if (!boxes) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    st = gw_store_begin(store);
    if (st) {
        free(boxes);
        return st;
    }
    int64_t gv = 1;
    char buf[32];
    st = gw_store_meta_get(store, "grid_version", buf, sizeof buf);
    if (st == GW_ERR_NOT_FOUND) st = GW_OK, gw_ctx_clear_error(ctx);
    else if (!st && atoll(buf) > 0) gv = atoll(buf);
    if (!st) st = check_known(store, gv, rows, n, boxes);
    if (!st) st = write_rows(store, gv, rows, n, boxes, out);
    if (!st) {
        char detail[64];
        snprintf(detail, sizeof detail, "{\"grids\":%zu}", n);
        st = gw_store_audit(store, who ? who : "", "jurisdictions.import", detail);
    }
    if (!st) st = gw_store_commit(store);
    if (st) {
        gw_store_rollback(store);
        gw_edit_result_free(out);
        out->seq = 0;
    }
    free(boxes);
    return st;
}
