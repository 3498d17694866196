/* model_internal.h — what geo/model.c (loading, snapshots, queries) and geo/model_delta.c
 * (incremental refresh of point layers from the change log) share: the layer data layout, the
 * shared text arena and the load helpers both paths use. */
#ifndef GW_MODEL_INTERNAL_H
#define GW_MODEL_INTERNAL_H

#include "gridwatch/crs.h"
#include "gridwatch/model.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define GW_MODEL_NOTEXT UINT32_MAX /* text offset meaning SQL NULL */
#define GW_MODEL_MAX_FIELDS 16

/* Large buffers of patched layer versions, kept when a version is freed and handed to the next
 * one: a fresh 100 MB of columns costs more in page faults than in copying.  Shared by the
 * model and the layers built from it (refcounted: snapshots may outlive the model). */
typedef struct gw_model_pool gw_model_pool;

typedef struct gw_model_col {
    gw_ftype type;
    uint32_t *text; /* arena offsets (GW_FT_TEXT) */
    int64_t *i;     /* GW_FT_INT / GW_FT_TIME */
    double *d;      /* GW_FT_REAL */
    uint8_t *nulls; /* for i / d */
} gw_model_col;

/* A static packed grid over the metric points: cell c holds rows[start[c] .. start[c+1]). */
typedef struct gw_model_pgrid {
    double minx, miny, cell;
    long nx, ny;
    size_t n0; /* rows the cell size was chosen for (a patched index keeps it) */
    uint32_t *start;
    uint32_t *rows;
} gw_model_pgrid;

/* The text of a layer: one append-only buffer, shared (refcounted) by the successive versions
 * of a layer that the incremental refresh derives from one another.  Bytes below `used` never
 * change once a layer referencing them is published; the writer appends new text after `used`
 * (never reallocating a shared buffer: it copies into a new arena instead), so readers of older
 * versions are unaffected.  The intern set (offset + 1 per slot) is the writer's, used to store
 * repeated values once; it may be NULL (then values are appended without interning). */
typedef struct gw_model_arena {
    atomic_long refs;
    char *buf;
    size_t used, cap;
    uint32_t *islot;
    size_t imask, iused;
} gw_model_arena;

struct gw_layer_data {
    atomic_long refs;
    gw_layer layer;
    size_t n, cap, nfields;
    int64_t seq;
    int64_t maxfid; /* highest fid loaded (an upper bound after deletes) */
    int64_t *fid;
    gw_model_col cols[GW_MODEL_MAX_FIELDS];
    gw_model_arena *ar;
    const char *arena; /* ar->buf, for the accessors */
    uint32_t *hash;    /* row + 1, 0 = empty; hmask + 1 slots */
    size_t hmask;
    double *xy[GW_MODEL_CRS_COUNT][2];
    /* Cameras only (NULL otherwise): per row the metric CRS's meridian convergence (degrees)
     * and point scale at the camera, what turns its true azimuth and ground range into the
     * metric ones (gw_layer_data_view_factors). */
    double *fac[2];
    GEOSGeometry **geom[GW_MODEL_CRS_COUNT];
    const GEOSPreparedGeometry **prep;
    GEOSSTRtree *tree;
    gw_model_pgrid pg;
    gw_model_pool *pool; /* where the large buffers go back (NULL: plain free) */
    /* Lineage: a version patched from the change log (model_delta.c) records how its rows
     * derive from its parent's, so gw_layer_data_match needs no merge by id.  uid is unique
     * per layer data in the process (never reused, unlike an address); parent_uid 0 = none. */
    uint64_t uid, parent_uid;
    size_t *lin_ins; /* rows of this version that are new (ascending) */
    size_t *lin_del; /* rows of the parent that are gone (ascending) */
    size_t *lin_upd; /* rows of this version rewritten from the store (ascending) */
    size_t n_ins, n_del, n_upd;
};

/* The lon/lat -> metric and -> Mercator transforms, made once per model (creating one costs
 * ~0.1 s of PROJ database work) and used only by the thread that holds the write lock; and
 * the model's buffer pool (NULL for a loader without one). */
typedef struct gw_model_xforms {
    gw_ctx *ctx; /* the transforms' own context */
    int srid;
    gw_crs_transform *t[GW_MODEL_CRS_COUNT];
    gw_crs_factors *fac; /* of the metric CRS */
    gw_model_pool *pool;
} gw_model_xforms;

/* ---- model.c helpers used by model_delta.c ---- */

uint64_t mdl_hash_str(const char *s);
/* A new empty layer data (refs 1, its own empty arena).  Free with mdl_layer_free(). */
gw_status mdl_layer_new(gw_ctx *ctx, gw_layer layer, int64_t seq, gw_layer_data **out);
void mdl_layer_free(gw_ctx *ctx, gw_layer_data *d);
/* Grow the per-row arrays (fid, columns, lon/lat or lon/lat geometries) to cap rows. */
gw_status mdl_reserve(gw_ctx *ctx, gw_layer_data *d, size_t cap);
/* Append one store row (as the store cursor returns it). */
gw_status mdl_add_row(gw_ctx *ctx, gw_layer_data *d, GEOSWKBReader *rd, const gw_row *r);
/* Store value v as field f of `row` (text into d's arena; id not interned, other text is). */
gw_status mdl_put_value(gw_ctx *ctx, gw_layer_data *d, size_t row, size_t f, const gw_value *v,
                        const char *id);
gw_status mdl_build_hash(gw_ctx *ctx, gw_layer_data *d);
gw_status mdl_build_pgrid(gw_ctx *ctx, gw_layer_data *d);
/* Make the transforms ready for srid (no-op when they are). */
gw_status mdl_xforms_ready(gw_ctx *ctx, gw_model_xforms *xf, int srid);
/* Cameras: d->fac[] of rows [from, to) from their lon/lat (allocated for d->cap rows when
 * missing; other layers: nothing).  The transforms must be ready. */
gw_status mdl_view_factors(gw_ctx *ctx, gw_layer_data *d, gw_model_xforms *xf, size_t from,
                           size_t to);
/* A failure on the transforms' context, reported on the caller's. */
gw_status mdl_xf_fail(gw_ctx *ctx, const gw_model_xforms *xf, gw_status st);
/* Store calls report on the store's own context; carry the message over to the caller's. */
gw_status mdl_from_store(gw_ctx *ctx, gw_store *store, gw_status st);

/* ---- model_delta.c: the buffer pool ---- */

/* A new pool (refs 1), or NULL when out of memory (the model then works without one). */
gw_model_pool *mdl_pool_create(void);
/* Take a reference / drop one (the last frees every idle buffer).  Accept NULL. */
void mdl_pool_ref(gw_model_pool *p);
void mdl_pool_unref(gw_model_pool *p);
/* Free buf, or keep it for reuse when the pool made it.  Any thread.  Accepts NULL buf/pool. */
void mdl_pool_release(gw_model_pool *p, void *buf);

/* ---- model_delta.c: the change log since a sequence number, per layer ---- */

typedef struct gw_model_changes {
    unsigned mask; /* layers with any change */
    unsigned bulk; /* layers with a change that names no feature, or too many to patch */
    size_t rows[GW_LAYER_COUNT]; /* change-log rows per layer */
    /* distinct feature ids per layer (for the layers not in `bulk`), sorted */
    char **ids[GW_LAYER_COUNT];
    size_t nids[GW_LAYER_COUNT];
} gw_model_changes;

/* Read the change log after `since` (inside the caller's read transaction).  A layer whose
 * rows exceed limit[layer] is put in `bulk` and its ids are not kept.  On a read error every
 * layer is marked changed and bulk.  Free with mdl_changes_free(). */
gw_status mdl_changes_read(gw_ctx *ctx, gw_store *store, int64_t since,
                           const size_t limit[GW_LAYER_COUNT], gw_model_changes *out);
void mdl_changes_free(gw_model_changes *c);

/* Derive the next version of point layer `old` from the store's current rows for `ids`
 * (inside the caller's read transaction, which is at change-log `seq`): changed rows are
 * overwritten in place, new ids inserted at their id-order position, vanished ids removed;
 * the hash and point index are patched or rebuilt.  `old` is not modified.  *out is NULL and
 * GW_OK returned when the store holds rows the change log did not name (a write logged without
 * its feature id): the caller then reloads the layer.  Free *out with mdl_layer_free(). */
gw_status mdl_delta_apply(gw_ctx *ctx, gw_store *store, const gw_layer_data *old, char *const *ids,
                          size_t nids, gw_model_xforms *xf, int srid, int64_t seq,
                          gw_layer_data **out);

#endif
