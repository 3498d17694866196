/* meta_blob.c — results kept in the meta table (meta_blob.h): the key check, base64 and the
 * byte image helpers. */
#include "meta_blob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mb_put(mb_img *b, const void *v, size_t len)
{
    if (b->oom) return;
    if (b->n + len > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + len) nc *= 2;
        uint8_t *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = nc;
    }
    if (len) memcpy(b->p + b->n, v, len);
    b->n += len;
}

void mb_get(mb_rd *s, void *v, size_t len)
{
    if (s->bad || len > s->n - s->at) {
        s->bad = 1;
        memset(v, 0, len);
        return;
    }
    memcpy(v, s->p + s->at, len);
    s->at += len;
}

/* ---- base64 ------------------------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *enc64(const uint8_t *p, size_t n)
{
    char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
    if (!o) return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *q++ = b64[v >> 18], *q++ = b64[(v >> 12) & 63];
        *q++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *q++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *q = '\0';
    return o;
}

/* Decoded bytes of s into a new buffer (*n its length), NULL when s is not base64. */
static uint8_t *dec64(const char *s, size_t len, size_t *n)
{
    int8_t val[256];
    memset(val, -1, sizeof val);
    for (int i = 0; i < 64; i++) val[(uint8_t)b64[i]] = (int8_t)i;
    if (len % 4) return NULL;
    uint8_t *o = malloc(len / 4 * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; o && i < len; i += 4) {
        int a = val[(uint8_t)s[i]], b = val[(uint8_t)s[i + 1]];
        int c = s[i + 2] == '=' ? 0 : val[(uint8_t)s[i + 2]];
        int d = s[i + 3] == '=' ? 0 : val[(uint8_t)s[i + 3]];
        if (a < 0 || b < 0 || c < 0 || d < 0) return free(o), NULL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        o[k++] = (uint8_t)(v >> 16);
        if (s[i + 2] != '=') o[k++] = (uint8_t)(v >> 8);
        if (s[i + 3] != '=') o[k++] = (uint8_t)v;
    }
    *n = k;
    return o;
}

/* ---- load and save ----------------------------------------------------------------------------- */

/* mb_load's reads, inside the read transaction it opens. */
static gw_status load_locked(gw_ctx *ctx, gw_store *store, const char *key_name,
                             const char *val_name, const char *what, uint8_t **out, size_t *n)
{
    char have[640], want[640];
    if (gw_store_meta_get(store, key_name, have, sizeof have) != GW_OK)
        return gw_ctx_clear_error(gw_store_ctx(store)), GW_ERR_NOT_FOUND;
    size_t len = 0;
    const char *semi = strrchr(have, ';');
    if (!semi || sscanf(semi + 1, "%zu", &len) != 1 || len == 0 || len > ((size_t)1 << 31))
        return GW_ERR_NOT_FOUND;
    snprintf(want, sizeof want, "%s; %zu", what, len);
    if (strcmp(have, want) != 0) return GW_ERR_NOT_FOUND; /* another version of the data */
    size_t elen = (len + 2) / 3 * 4;
    char *text = malloc(elen + 1);
    if (!text) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory reading %s", val_name);
    gw_status st = gw_store_meta_get(store, val_name, text, elen + 1);
    uint8_t *bin = NULL;
    size_t k = 0;
    if (!st && strlen(text) == elen) bin = dec64(text, elen, &k);
    free(text);
    if (st || !bin || k != len) {
        free(bin);
        gw_ctx_clear_error(gw_store_ctx(store));
        return GW_ERR_NOT_FOUND; /* malformed: the caller computes (and keeps its result) */
    }
    *out = bin, *n = k;
    return GW_OK;
}

gw_status mb_load(gw_ctx *ctx, gw_store *store, const char *key_name, const char *val_name,
                  const char *what, uint8_t **bin, size_t *n)
{
    *bin = NULL, *n = 0;
    if (gw_store_read_begin(store) != GW_OK)
        return gw_ctx_clear_error(gw_store_ctx(store)), GW_ERR_NOT_FOUND;
    gw_status st = load_locked(ctx, store, key_name, val_name, what, bin, n);
    gw_store_read_end(store);
    return st;
}

gw_status mb_save(gw_ctx *ctx, gw_store *store, const char *key_name, const char *val_name,
                  const char *what, const uint8_t *p, size_t n)
{
    char key[640];
    snprintf(key, sizeof key, "%s; %zu", what, n);
    char *text = enc64(p, n);
    if (!text) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory keeping %s", val_name);
    gw_status st = gw_store_begin(store);
    if (!st) st = gw_store_meta_set(store, key_name, key);
    if (!st) st = gw_store_meta_set(store, val_name, text);
    if (!st) st = gw_store_commit(store);
    if (st) {
        gw_store_rollback(store);
        if (gw_store_ctx(store) != ctx)
            gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(gw_store_ctx(store)));
    }
    free(text);
    return st;
}
