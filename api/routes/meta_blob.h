/* meta_blob.h — a computed result kept in the store's meta table under a key naming what it was
 * computed from, so a server start or `gridwatch tiles` on unchanged data reads it back instead
 * of computing again (the cluster scan, the grids' road reach shares).
 *
 * Two meta rows per result: `key_name` holds "<what>; <length>" and `val_name` the bytes in
 * base64.  A load succeeds only when the stored key equals the caller's `what` (the data's
 * versions) and the bytes decode to that length; anything else is GW_ERR_NOT_FOUND with no error
 * left on ctx, and the caller computes.  Internal to api/ (mb_ prefix). */
#ifndef GW_META_BLOB_H
#define GW_META_BLOB_H

#include "gridwatch/store.h"

#include <stddef.h>
#include <stdint.h>

/* The bytes kept for `what` into *bin (caller frees), *n their length; key and value read in
 * one read transaction (another process may replace both in between). */
gw_status mb_load(gw_ctx *ctx, gw_store *store, const char *key_name, const char *val_name,
                  const char *what, uint8_t **bin, size_t *n);
/* Keep bytes p[0..n) for `what`, replacing any other, in one write transaction; errors on ctx. */
gw_status mb_save(gw_ctx *ctx, gw_store *store, const char *key_name, const char *val_name,
                  const char *what, const uint8_t *p, size_t n);

/* A growing byte image and a bounds-checked reader of one, native byte order. */
typedef struct mb_img {
    uint8_t *p;
    size_t n, cap;
    int oom;
} mb_img;
void mb_put(mb_img *b, const void *v, size_t len);
typedef struct mb_rd {
    const uint8_t *p;
    size_t n, at;
    int bad; /* set by a read past the end; the value read is then zero */
} mb_rd;
void mb_get(mb_rd *s, void *v, size_t len);

#endif
