/* juris_csv.c — `gridwatch jurisdictions import`: a CSV of grid_id, prefecture, county, township,
 * village read whole (RFC 4180 quoting) and written through gw_edit_grid_jurisdictions in one
 * transaction, so the change log, the model, the tiles and the event streams see it. */
#include "gridwatch/csv.h"
#include "gridwatch/edit.h"
#include "gridwatch/juris.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Column of each of id and the four parts (-1 when absent) from the header record. */
static gw_status header(gw_csv *c, gw_ctx *ctx, char **f, int n, int col[5])
{
    static const char *const names[5] = {"grid_id", "prefecture", "county", "township", "village"};
    for (int k = 0; k < 5; k++) col[k] = -1;
    for (int i = 0; i < n; i++) {
        gw_csv_trim(f[i]);
        int k = 0;
        while (k < 5 && strcasecmp(f[i], names[k]) != 0) k++;
        if (k == 5 && strcasecmp(f[i], "id") == 0) k = 0;
        if (k == 5)
            return gw_ctx_error_at(ctx, GW_ERR_FORMAT, 1,
                                   "%s line 1: unknown column '%.60s' (the columns are grid_id, "
                                   "prefecture, county, township, village)",
                                   gw_csv_name(c), f[i]);
        if (col[k] >= 0)
            return gw_ctx_error_at(ctx, GW_ERR_FORMAT, 1, "%s line 1: column %s given twice",
                                   gw_csv_name(c), names[k]);
        col[k] = i;
    }
    if (col[0] < 0)
        return gw_ctx_error_at(ctx, GW_ERR_FORMAT, 1,
                               "%s line 1: no grid_id column (the header must name grid_id and "
                               "some of prefecture, county, township, village)",
                               gw_csv_name(c));
    return GW_OK;
}

gw_status gw_juris_import_csv(gw_store *store, const char *path, const char *who, size_t *n,
                              int64_t *seq)
{
    if (n) *n = 0;
    if (seq) *seq = 0;
    if (!store || !path) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(store);
    gw_csv *c = NULL;
    gw_edit_juris *rows = NULL;
    size_t nrows = 0, cap = 0;
    char *f[GW_CSV_MAX_COLS];
    int nf = 0, col[5];
    gw_status st = gw_csv_open(ctx, path, &c);
    if (!st) st = gw_csv_next(c, f, &nf);
    if (!st && nf == 0)
        st = gw_ctx_error(ctx, GW_ERR_FORMAT, "%s is empty (expected a header row)", path);
    if (!st) st = header(c, ctx, f, nf, col);
    while (!st) {
        if ((st = gw_csv_next(c, f, &nf)) || nf == 0) break;
        if (nf == 1 && !*f[0]) continue; /* a blank line */
        if (nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            gw_edit_juris *nr = realloc(rows, cap * sizeof *nr);
            if (!nr) {
                st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            rows = nr;
        }
        gw_edit_juris *r = &rows[nrows];
        memset(r, 0, sizeof *r);
        for (int k = 0; k < 5; k++) {
            if (col[k] < 0) continue;
            const char *v = col[k] < nf ? f[col[k]] : "";
            if (col[k] < nf) gw_csv_trim(f[col[k]]);
            if (k == 0) r->id = v;
            else r->part[k - 1] = v;
        }
        if (!r->id || !*r->id)
            st = gw_ctx_error_at(ctx, GW_ERR_FORMAT, gw_csv_line(c), "%s line %ld: no grid id",
                                 path, gw_csv_line(c));
        nrows++;
    }
    if (!st && nrows == 0)
        st = gw_ctx_error(ctx, GW_ERR_FORMAT, "%s has a header but no rows", path);
    gw_edit_result res = {0};
    if (!st) st = gw_edit_grid_jurisdictions(store, rows, nrows, who, &res);
    if (!st) {
        if (n) *n = res.n;
        if (seq) *seq = res.seq;
    }
    gw_edit_result_free(&res);
    free(rows);
    gw_csv_close(c);
    return st;
}
