/* tilecache.h — an in-memory LRU cache of finished vector tiles with a byte budget, shared by
 * every HTTP worker, and precise invalidation by bounding box driven by the change log.
 *
 * An entry is keyed by (tile layer, z/x/y, normalised filter string) and carries the data
 * version (change-log seq of the snapshot it was built from), the raw MVT bytes, their gzip
 * form (made once, at insert) and an ETag.  A change drops exactly the entries of the named
 * layers whose buffered tile bounds touch the change's box; nothing else.  A tile built from a
 * snapshot older than a change that touches it is refused at insert, so a slow builder racing
 * a refresh cannot put a stale tile back.  Knows nothing about HTTP. */
#ifndef GRIDWATCH_TILECACHE_H
#define GRIDWATCH_TILECACHE_H

#include "gridwatch/common.h"
#include "gridwatch/tile.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_tile_cache gw_tile_cache;

/* A finished tile, reference-counted and immutable; readers hold it with no lock. */
typedef struct gw_tile_blob {
    const uint8_t *raw; /* MVT bytes (len 0 for an empty tile) */
    size_t raw_len;
    const uint8_t *gz; /* the same bytes gzip'd (RFC 1952); NULL when raw_len is 0 */
    size_t gz_len;
    char etag[24];   /* "\"<16 hex>\"": FNV-1a 64 of the raw bytes, quotes included */
    int64_t version; /* change-log seq of the snapshot the tile was built from */
} gw_tile_blob;

/* Make a blob from raw tile bytes (copied): gzips them (zlib level 6) and computes the ETag.
 * Caller releases with gw_tile_blob_release().  Errors: GW_ERR_NOMEM, GW_ERR_INTERNAL (zlib). */
gw_status gw_tile_blob_create(gw_ctx *ctx, const uint8_t *raw, size_t len, int64_t version,
                              gw_tile_blob **out);
/* Take another reference (returns b). */
gw_tile_blob *gw_tile_blob_retain(gw_tile_blob *b);
/* Drop a reference; the last one frees.  Accepts NULL. */
void gw_tile_blob_release(gw_tile_blob *b);

/* Create a cache holding at most budget_bytes of tiles (bytes of raw + gzip + key + ~96 bytes
 * of bookkeeping per entry).  Caller frees with gw_tile_cache_destroy().  GW_ERR_ARG for a
 * zero budget, GW_ERR_NOMEM. */
gw_status gw_tile_cache_create(gw_ctx *ctx, size_t budget_bytes, gw_tile_cache **out);
/* Free the cache; blobs still held by readers stay valid until released.  Accepts NULL. */
void gw_tile_cache_destroy(gw_tile_cache *c);

/* Look up a tile.  layer is a small number chosen by the caller (< 32; see tilelayers.h),
 * filter the normalised filter string ("" for none).  On a hit returns a new reference
 * (release it) and marks the entry most recently used; NULL on a miss.  Thread-safe. */
gw_tile_blob *gw_tile_cache_get(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter);

/* Insert (or replace) a tile; the cache takes its own reference to b.  Least recently used
 * entries are evicted until the budget holds; a blob larger than the whole budget is not kept.
 * Returns true when kept, false when refused: too large, or b->version predates an
 * invalidation that touched this tile (the tile may be stale).  Thread-safe. */
bool gw_tile_cache_put(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter,
                       gw_tile_blob *b);

/* One change to apply: the tile layers it touches (bit mask, 1u << layer) and its box in
 * EPSG:3857 metres; has_box false = the whole layer (bulk import, clear). */
typedef struct gw_tile_change {
    uint32_t layers;
    bool has_box;
    gw_bbox box;
} gw_tile_change;

/* Drop every entry of the changes' layers whose tile bounds, buffered by `buffer` tile units
 * of a 4096-unit tile, intersect a change's box (all of a layer's entries for a change without
 * a box), and remember the changes with their seq so that older tiles are refused by put.
 * Returns the number of entries dropped.  Thread-safe; one pass over the entries. */
size_t gw_tile_cache_invalidate(gw_tile_cache *c, const gw_tile_change *changes, size_t n,
                                int64_t seq, uint32_t buffer);

/* Counters since creation, and the current size. */
typedef struct gw_tile_cache_stats {
    uint64_t hits, misses, inserts, refused, evictions, invalidated;
    size_t entries, bytes, budget;
} gw_tile_cache_stats;
gw_tile_cache_stats gw_tile_cache_get_stats(gw_tile_cache *c);

#ifdef __cplusplus
}
#endif
#endif
