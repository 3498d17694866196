/* store_coverage.h — stored camera coverage: one row per grid (figures and blind spots) and the
 * parameters of the run that computed them, so a restart can reuse a current result and the
 * CLI can print it.  Computing coverage is geo/coverage/; this is only its storage. */
#ifndef GRIDWATCH_STORE_COVERAGE_H
#define GRIDWATCH_STORE_COVERAGE_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One grid's stored figures (see gridwatch/coverage.h for their meaning).  Read back, grid and
 * blind are borrowed for the callback only. */
typedef struct gw_store_coverage_row {
    const char *grid;
    int64_t seq; /* the change-log seq the figures were computed at */
    double grid_m2, covered_m2, ratio;
    int32_t cameras, incidents, seen;
    double incident_share; /* NAN when the grid had no incident in the window */
    double room_m2, room_reach, blind_m2;
    int32_t blind_parts;
    const unsigned char *blind; /* blind spots as WKB in the metric CRS, or NULL */
    size_t blind_len;
} gw_store_coverage_row;

/* The parameters of the stored run. */
typedef struct gw_store_coverage_run {
    int64_t seq;
    int metric_srid;
    int has_window;
    int64_t window_from, window_to;
    double min_blind_m2, room_dist_m;
} gw_store_coverage_run;

/* A source of rows to write: fills *row and returns 1, or returns 0 when there are no more. */
typedef int (*gw_store_coverage_src)(void *user, gw_store_coverage_row *row);
/* Called for each stored row; return nonzero to stop. */
typedef int (*gw_store_coverage_fn)(void *user, const gw_store_coverage_row *row);

/* Write rows (inside the caller's transaction): with replace_all the table is emptied first,
 * else each row replaces the grid's stored one; then the run's parameters. */
gw_status gw_store_coverage_write(gw_store *s, int replace_all, gw_store_coverage_src src,
                                  void *user, const gw_store_coverage_run *run);
/* The stored run; GW_ERR_NOT_FOUND (with the reason) when none is stored. */
gw_status gw_store_coverage_run_get(gw_store *s, gw_store_coverage_run *run);
/* The stored rows (one grid when grid is not NULL) in grid order, to fn (blind spots only when
 * with_blind).  *n (may be NULL) receives how many were given. */
gw_status gw_store_coverage_read(gw_store *s, const char *grid, int with_blind,
                                 gw_store_coverage_fn fn, void *user, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
