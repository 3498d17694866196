/* store_model.h — what the in-memory model reads besides whole layers (gw_store_cursor_create):
 * the current rows of given ids, to patch a layer from its changes instead of reloading it. */
#ifndef GRIDWATCH_STORE_MODEL_H
#define GRIDWATCH_STORE_MODEL_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called per id in order: row is the id's current row as a cursor gives it (borrowed for the
 * call), or NULL when the id has no row any more.  Return nonzero to stop. */
typedef int (*gw_store_model_row_fn)(void *user, size_t i, const gw_row *row);

/* The current rows of ids[0..n) of a layer, to fn. */
gw_status gw_store_model_rows(gw_store *s, gw_layer layer, char *const *ids, size_t n,
                              gw_store_model_row_fn fn, void *user);
/* How many rows of the layer have a storage id (gw_row.fid) above `fid`. */
gw_status gw_store_model_count_after(gw_store *s, gw_layer layer, int64_t fid, int64_t *n);

#ifdef __cplusplus
}
#endif
#endif
