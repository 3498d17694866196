/* csv.c — the CSV reader of gridwatch/csv.h: the whole file in one buffer, records cut in place
 * (a field is never longer than the bytes it was read from, so unquoting fits). */
#include "gridwatch/csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE (256L << 20)

struct gw_csv {
    gw_ctx *ctx;
    char *path;
    char *buf; /* the file, unquoted in place */
    size_t len, pos;
    long line;
};

gw_status gw_csv_next(gw_csv *c, char *f[GW_CSV_MAX_COLS], int *n)
{
    *n = 0;
    if (c->pos >= c->len) return GW_OK;
    c->line++;
    for (;;) {
        if (*n == GW_CSV_MAX_COLS)
            return gw_ctx_error_at(c->ctx, GW_ERR_FORMAT, c->line,
                                   "%s line %ld: more than %d columns", c->path, c->line,
                                   GW_CSV_MAX_COLS);
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

void gw_csv_trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
    size_t a = strspn(s, " \t");
    if (a) memmove(s, s + a, n - a + 1);
}

static gw_status read_file(gw_csv *c)
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
    return GW_OK;
}

static gw_status finish_open(gw_csv *c, gw_status st, gw_csv **out)
{
    if (!st && c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
    if (!st && memchr(c->buf, '\0', c->len))
        st = gw_ctx_error(c->ctx, GW_ERR_FORMAT, "%s is not a text (CSV) file", c->path);
    if (st) {
        gw_csv_close(c);
        return st;
    }
    *out = c;
    return GW_OK;
}

gw_status gw_csv_open(gw_ctx *ctx, const char *path, gw_csv **out)
{
    if (!out || !path) return GW_ERR_ARG;
    *out = NULL;
    gw_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    c->ctx = ctx;
    return finish_open(c, read_file(c), out);
}

gw_status gw_csv_open_mem(gw_ctx *ctx, const char *name, const void *data, size_t len, gw_csv **out)
{
    if (!out || !name || (len && !data)) return GW_ERR_ARG;
    *out = NULL;
    gw_csv *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(name)) || !(c->buf = malloc(len + 1))) {
        if (c) free(c->path);
        free(c);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    c->ctx = ctx;
    if (len) memcpy(c->buf, data, len);
    c->buf[len] = '\0';
    c->len = len;
    return finish_open(c, GW_OK, out);
}

long gw_csv_line(const gw_csv *c) { return c ? c->line : 0; }
const char *gw_csv_name(const gw_csv *c) { return c ? c->path : ""; }

void gw_csv_close(gw_csv *c)
{
    if (!c) return;
    free(c->buf);
    free(c->path);
    free(c);
}
