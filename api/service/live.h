/* live.h — the server's live view of the database: one in-memory model shared by every
 * handler, kept in step with the change log by a background thread, and a fan-out of each new
 * batch of changes to listeners (tile-cache invalidation, incremental coverage, SSE events).
 *
 * Writers (this process or any other: a CLI import while the server runs) only commit to
 * SQLite; the sync thread notices the new change-log rows within ~100 ms (at once after
 * gw_live_kick), refreshes the model and calls the listeners in seq order. */
#ifndef GW_LIVE_H
#define GW_LIVE_H

#include "gridwatch/model.h"
#include "gridwatch/store.h"

typedef struct gw_live gw_live;

/* One change-log row. */
typedef struct gw_change {
    int64_t seq;
    gw_layer layer;         /* GW_LAYER_COUNT when the row names no layer of ours */
    const char *op;         /* "insert", "update", "delete", "import", "clear", … */
    const char *feature_id; /* NULL for bulk changes */
    int has_bbox;
    gw_bbox bbox; /* lon/lat, old and new geometry together */
} gw_change;

/* Called on the sync thread after the model was refreshed to include `changes` (n ≥ 1, in seq
 * order); `snap` is the new snapshot (borrowed for the call), `ctx` the sync thread's context.
 * Listeners must be quick or hand work off; they must not call gw_live_wait. */
typedef void (*gw_live_listener)(void *user, gw_ctx *ctx, const gw_change *changes, size_t n,
                                 gw_model_snapshot *snap);

/* Load the model of db_path and start the sync thread (poll every poll_ms; 0 = 100).
 * Caller frees with gw_live_destroy(). */
gw_status gw_live_create(gw_ctx *ctx, const char *db_path, unsigned poll_ms, gw_live **out);
/* The model of db_path's layers in `layers` (gw_model_open_layers) as it is now, without the
 * sync thread: no listener is ever called and the model stays at this version (`gridwatch
 * tiles`: one version of the data for the whole pyramid). */
gw_status gw_live_create_frozen(gw_ctx *ctx, const char *db_path, unsigned layers, gw_live **out);
/* Stop the sync thread and free the model.  Accepts NULL. */
void gw_live_destroy(gw_live *live);

/* Register a listener; call before the server starts (not thread-safe against sync). */
gw_status gw_live_listen(gw_live *live, gw_live_listener fn, void *user);
/* The same, called before every listener registered so far: for a listener that only wakes
 * its own worker, which then runs beside the listeners that work on the sync thread. */
gw_status gw_live_listen_first(gw_live *live, gw_live_listener fn, void *user);

/* The shared model (borrowed).  Readers: gw_model_acquire / gw_model_release. */
gw_model *gw_live_model(gw_live *live);
/* The database it follows (a path or a postgresql:// URI), for modules that open their own
 * store connection. */
const char *gw_live_db_path(const gw_live *live);
/* Wake the sync thread now (after a commit). */
void gw_live_kick(gw_live *live);
/* Wait until the model and the listeners have seen change `seq` (or timeout_ms passed);
 * returns 1 when they have.  Writers call it so that their response reflects the write. */
int gw_live_wait(gw_live *live, int64_t seq, unsigned timeout_ms);
/* The change-log seq the listeners have seen. */
int64_t gw_live_seq(gw_live *live);

/* What /metrics tells about the sync thread. */
typedef struct gw_live_stats {
    int64_t seq;            /* the change-log seq the model and listeners have seen */
    int64_t store_seq;      /* the store's last seq at the sync thread's last look */
    double current_at;      /* Unix time of the last look that found the model current */
    uint64_t rounds;        /* sync rounds that applied changes */
    double refresh_seconds; /* time spent in those rounds (model refresh and listeners) */
} gw_live_stats;
gw_live_stats gw_live_get_stats(gw_live *live);

#endif
