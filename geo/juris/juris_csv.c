/* juris_csv.c — `gridwatch jurisdictions import`: a CSV of grid_id, prefecture, county, township,
 * village read whole (RFC 4180 quoting) and written through gw_edit_grid_jurisdictions in one
 * transaction, so the change log, the model, the tiles and the event streams see it. */
#include "gridwatch/edit.h"
#include "gridwatch/juris.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILE (256L << 20)
#define MAX_COLS 64

typedef struct csv {
    gw_ctx *ctx;
    const char *path;
    char *buf; /* the file, unquoted in place */
    size_t len, pos;
    long line;
} csv;

/* One record's fields (pointers into the buffer, NUL-terminated in place); *n fields, or 0 at
 * the end.  A blank line is a record of one empty field. */
static gw_status record(csv *c, char **f, int *n)
{
    *n = 0;
    if (c->pos >= c->len) return GW_OK;
    c->line++;
    for (;;) {
        if (*n == MAX_COLS)
            return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, c->line,
                                   "%s line %ld: more than %d columns", c->path, c->line, MAX_COLS);
        char *out = c->buf + c->pos;
        f[(*n)++] = out;
        size_t w = 0;
        if (c->pos < c->len && c->buf[c->pos] == '"') {
            c->pos++;
            for (;;) {
                if (c->pos >= c->len)
                    return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, c->line,
                                           "%s line %ld: a quoted field is not closed", c->path,
                                           c->line);
                char ch = c->buf[c->pos++];
                if (ch == '"') {
                    if (c->pos < c->len && c->buf[c->pos] == '"') out[w++] = '"', c->pos++;
                    else break;
                } else {
                    if (ch == '\n') c->line++;
                    out[w++] = ch;
                }
            }
            if (c->pos < c->len && !strchr(",\r\n", c->buf[c->pos]))
                return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, c->line,
                                       "%s line %ld: text after a closing quote", c->path, c->line);
        } else {
            while (c->pos < c->len && !strchr(",\r\n", c->buf[c->pos])) out[w++] = c->buf[c->pos++];
        }
        char sep = c->pos < c->len ? c->buf[c->pos] : '\n';
        out[w] = '\0'; /* w <= the bytes consumed, so this never passes the separator */
        c->pos++;
        if (sep == ',') continue;
        if (sep == '\r' && c->pos < c->len && c->buf[c->pos] == '\n') c->pos++;
        return GW_OK;
    }
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    size_t a = strspn(s, " \t");
    if (a) memmove(s, s + a, n - a + 1);
}

static gw_status read_file(csv *c)
{
    FILE *fp = fopen(c->path, "rb");
    if (!fp) return gw_ctx_error(c->ctx, GW_ERR_IO, "cannot open %s: %s", c->path, strerror(errno));
    size_t cap = 1 << 16;
    c->buf = malloc(cap + 1);
    gw_status st = c->buf ? GW_OK : gw_ctx_error(c->ctx, GW_ERR_NOMEM, "out of memory");
    while (!st) {
        if (c->len == cap) {
            char *nb = cap * 2 > (size_t)MAX_FILE ? NULL : realloc(c->buf, cap * 2 + 1);
            if (!nb) {
                st = gw_ctx_error(c->ctx, GW_ERR_NOMEM, "%s is too large (at most %ld MB)", c->path,
                                  MAX_FILE >> 20);
                break;
            }
            c->buf = nb, cap *= 2;
        }
        size_t got = fread(c->buf + c->len, 1, cap - c->len, fp);
        c->len += got;
        if (got == 0) {
            if (ferror(fp)) st = gw_ctx_error(c->ctx, GW_ERR_IO, "cannot read %s", c->path);
            break;
        }
    }
    fclose(fp);
    if (st) return st;
    c->buf[c->len] = '\0';
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
    if (memchr(c->buf, '\0', c->len))
        return gw_ctx_error(c->ctx, GW_ERR_FORMAT, "%s is not a text (CSV) file", c->path);
    return GW_OK;
}

/* Column of each of id and the four parts (-1 when absent) from the header record. */
static gw_status header(csv *c, char **f, int n, int col[5])
{
    static const char *const names[5] = {"grid_id", "prefecture", "county", "township", "village"};
    for (int k = 0; k < 5; k++) col[k] = -1;
    for (int i = 0; i < n; i++) {
        trim(f[i]);
        int k = 0;
        while (k < 5 && strcasecmp(f[i], names[k]) != 0) k++;
        if (k == 5 && strcasecmp(f[i], "id") == 0) k = 0;
        if (k == 5)
            return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, 1,
                                   "%s line 1: unknown column '%.60s' (the columns are grid_id, "
                                   "prefecture, county, township, village)",
                                   c->path, f[i]);
        if (col[k] >= 0)
            return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, 1, "%s line 1: column %s given twice",
                                   c->path, names[k]);
        col[k] = i;
    }
    if (col[0] < 0)
        return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, 1,
                               "%s line 1: no grid_id column (the header must name grid_id and "
                               "some of prefecture, county, township, village)",
                               c->path);
    return GW_OK;
}

gw_status gw_juris_import_csv(gw_store *store, const char *path, const char *who, size_t *n,
                              int64_t *seq)
{
    if (n) *n = 0;
    if (seq) *seq = 0;
    if (!store || !path) return GW_ERR_ARG;
    csv c = {.ctx = gw_store_ctx(store), .path = path};
    gw_edit_juris *rows = NULL;
    size_t nrows = 0, cap = 0;
    char *f[MAX_COLS];
    int nf = 0, col[5];
    gw_status st = read_file(&c);
    if (!st) st = record(&c, f, &nf);
    if (!st && nf == 0)
        st = gw_ctx_error(c.ctx, GW_ERR_FORMAT, "%s is empty (expected a header row)", path);
    if (!st) st = header(&c, f, nf, col);
    while (!st) {
        if ((st = record(&c, f, &nf)) || nf == 0) break;
        if (nf == 1 && !*f[0]) continue; /* a blank line */
        if (nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            gw_edit_juris *nr = realloc(rows, cap * sizeof *nr);
            if (!nr) {
                st = gw_ctx_error(c.ctx, GW_ERR_NOMEM, "out of memory");
                break;
            }
            rows = nr;
        }
        gw_edit_juris *r = &rows[nrows];
        memset(r, 0, sizeof *r);
        for (int k = 0; k < 5; k++) {
            if (col[k] < 0) continue;
            const char *v = col[k] < nf ? f[col[k]] : "";
            if (col[k] < nf) trim(f[col[k]]);
            if (k == 0) r->id = v;
            else r->part[k - 1] = v;
        }
        if (!r->id || !*r->id)
            st = gw_ctx_error_at(c.ctx, GW_ERR_FORMAT, c.line, "%s line %ld: no grid id", path,
                                 c.line);
        nrows++;
    }
    if (!st && nrows == 0)
        st = gw_ctx_error(c.ctx, GW_ERR_FORMAT, "%s has a header but no rows", path);
    gw_edit_result res = {0};
    if (!st) st = gw_edit_grid_jurisdictions(store, rows, nrows, who, &res);
    if (!st) {
        if (n) *n = res.n;
        if (seq) *seq = res.seq;
    }
    gw_edit_result_free(&res);
    free(rows);
    free(c.buf);
    return st;
}
