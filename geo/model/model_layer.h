/* model_layer.h — what model.c and model_layer.c share: the snapshot and model structs, short
 * names of the shared helpers (mdl_ prefix; not installed). */
#ifndef GW_MODEL_LAYER_H
#define GW_MODEL_LAYER_H

#include "model_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTEXT GW_MODEL_NOTEXT
#define MAX_FIELDS GW_MODEL_MAX_FIELDS
#define PG_PER_CELL 4 /* target points per cell of the packed point index */

typedef gw_model_col col;
typedef gw_model_pgrid pgrid;
typedef gw_model_xforms xforms;

/* Short names for the helpers model_delta.c shares (model_internal.h). */
#define reserve mdl_reserve
#define build_hash mdl_build_hash
#define build_pgrid mdl_build_pgrid
#define xf_fail mdl_xf_fail
#define xforms_ready mdl_xforms_ready
#define from_store mdl_from_store
#define layer_free mdl_layer_free

struct gw_model_snapshot {
    atomic_long refs;
    int64_t seq;
    gw_layer_data *layers[GW_LAYER_COUNT];
};

struct gw_model {
    pthread_mutex_t lock;       /* guards `current` for acquire and swap; held for a few ns */
    pthread_mutex_t write_lock; /* one refresh at a time */
    gw_model_snapshot *current;
    int srid;
    gw_ctx *own;   /* frees the model's last reference at close; owns xf */
    xforms xf;     /* used under write_lock (or during open) only */
    int inc_parts; /* gw_model_incident_parts */
};

void mdl_snap_unref(gw_ctx *ctx, gw_model_snapshot *s);
/* Append s to d's text arena (*off its offset); mdl_intern_add stores a repeated value once. */
gw_status mdl_arena_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off);
gw_status mdl_intern_add(gw_ctx *ctx, gw_layer_data *d, const char *s, uint32_t *off);
/* Append point layer b's rows to a (both finished by mdl_finish_layer on the same CRSs, b's
 * ids all after a's), then rebuild a's id hash and point index: the halves of a layer loaded
 * on two threads.  b is left as it was (the caller frees it). */
gw_status mdl_layer_append(gw_ctx *ctx, gw_layer_data *a, const gw_layer_data *b);
void mdl_xforms_clear(xforms *xf);
gw_status mdl_finish_layer(gw_ctx *ctx, gw_layer_data *d, xforms *xf, int srid);

#endif
