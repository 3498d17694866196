/* mbtiles.h — writing an MBTiles 1.3 file (a SQLite container of z/x/y tiles and metadata): the
 * offline pyramid of `gridwatch tiles`.  It belongs to the store room because it is the other
 * SQLite file gridwatch writes; it is not a gw_store. */
#ifndef GRIDWATCH_MBTILES_H
#define GRIDWATCH_MBTILES_H

#include "gridwatch/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gw_mbtiles gw_mbtiles;

/* Create a new MBTiles file at path (which must not exist) and start its one transaction.
 * Caller frees with gw_mbtiles_destroy(). */
gw_status gw_mbtiles_create(gw_ctx *ctx, const char *path, gw_mbtiles **out);
/* Store tile z/x/y (XYZ row order; the file keeps TMS rows) with its bytes. */
gw_status gw_mbtiles_put(gw_mbtiles *m, uint32_t z, uint32_t x, uint32_t y, const void *data,
                         size_t len);
/* Add a metadata row. */
gw_status gw_mbtiles_meta(gw_mbtiles *m, const char *name, const char *value);
/* Commit what was written. */
gw_status gw_mbtiles_finish(gw_mbtiles *m);
/* Close; a file not finished is removed.  Accepts NULL. */
void gw_mbtiles_destroy(gw_mbtiles *m);

#ifdef __cplusplus
}
#endif
#endif
