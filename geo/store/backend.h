/* backend.h — inside the store room only: the table of functions an engine implements so that
 * the store interface (gridwatch/store*.h) can stand on it.  SQLite/SpatiaLite is the engine of
 * today (sqlite_backend.c); a PostgreSQL/PostGIS engine fills the same table (decision 0004).
 *
 * The interface is grouped by topic.  For each topic T:
 *   include/gridwatch/store_T.h   the public functions gw_store_T_* and their contract;
 *   geo/store/ops_T.h             struct gw_store_T_ops: one pointer per public function;
 *   geo/store/store_T.c           the public functions, each one line through ST_CALL;
 *   geo/store/sqlite_T.c          the SQLite implementation and its table gw_sqlite_T_ops.
 * The caller-facing functions never see an engine's types: results come back in plain C
 * structs, callbacks or opaque iterators. */
#ifndef GW_STORE_BACKEND_H
#define GW_STORE_BACKEND_H

#include "gridwatch/store.h"

struct gw_store_core_ops;
struct gw_store_changes_ops;
struct gw_store_tokens_ops;
struct gw_store_features_ops;
struct gw_store_coverage_ops;
struct gw_store_edit_ops;
struct gw_store_dispatch_ops;
struct gw_store_model_ops;
struct gw_store_plan_ops;
struct gw_store_copy_ops;
struct gw_store_flow_ops;
struct gw_store_roads_ops;

typedef struct gw_store_backend {
    const char *name;                             /* "sqlite" */
    const struct gw_store_core_ops *core;         /* store.h: transactions, meta, bulk I/O, logs */
    const struct gw_store_changes_ops *changes;   /* change log reads and batch writes */
    const struct gw_store_tokens_ops *tokens;     /* API tokens */
    const struct gw_store_features_ops *features; /* OGC item queries and exports */
    const struct gw_store_coverage_ops *coverage; /* stored coverage rows */
    const struct gw_store_edit_ops *edit;         /* single-feature writes */
    const struct gw_store_dispatch_ops *dispatch; /* team positions and assignments */
    const struct gw_store_model_ops *model;       /* what the in-memory model loads */
    const struct gw_store_plan_ops *plan;         /* drafts, edits, versions */
    const struct gw_store_copy_ops *copy;   /* whole tables as neutral rows (gridwatch copy) */
    const struct gw_store_flow_ops *flow;   /* incident flow states and transitions */
    const struct gw_store_roads_ops *roads; /* the road layer (store_roads.h) */
} gw_store_backend;

extern const gw_store_backend st_sqlite_backend;

/* GW_ERR_UNSUPPORTED naming the operation, for a table slot an engine leaves empty. */
gw_status st_unsupported(gw_store *s, const char *op);

/* The body of a public store function: check the slot, then call the engine.
 *   gw_status gw_store_tokens_find(gw_store *s, const char *h, gw_token *out)
 *   { ST_CALL(s, tokens, find, h, out); } */
#define ST_CALL(s, topic, fn, ...)                                                                 \
    do {                                                                                           \
        if (!(s)) return GW_ERR_ARG;                                                               \
        if (!(s)->be->topic || !(s)->be->topic->fn) return st_unsupported((s), #topic "." #fn);    \
        return (s)->be->topic->fn((s), ##__VA_ARGS__);                                             \
    } while (0)

#endif
