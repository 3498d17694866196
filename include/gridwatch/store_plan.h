/* store_plan.h — what the planning room (geo/plan/) keeps in the store: drafts (a copy-on-write
 * overlay of grid rows over a published version: the draft's own rows are upserts or delete
 * marks), grid versions (publish, rollback, history), the jurisdiction outline, and the
 * incident, camera and police-room reads that validation, balance and suggestion need.
 *
 * Transactions stay with the caller: every write here runs inside the caller's
 * gw_store_begin()/gw_store_commit().  Errors: GW_ERR_DB with the engine's message,
 * GW_ERR_NOT_FOUND where said; the message is on gw_store_ctx(s).  Callbacks return a status:
 * anything but GW_OK stops the read and is returned as it is (its message already set). */
#ifndef GRIDWATCH_STORE_PLAN_H
#define GRIDWATCH_STORE_PLAN_H

#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One grid row: values in gw_layer_fields(GW_LAYER_GRIDS) order (GW_VAL_TEXT, GW_VAL_INT or
 * GW_VAL_NULL as read; GW_VAL_REAL is accepted on writes), the geometry as WKB in EPSG:4326.
 * Read back, everything is borrowed for the callback only. */
typedef struct gw_store_plan_grid {
    const gw_value *values;
    const unsigned char *wkb;
    size_t wkb_len;
    int own; /* reads of a draft: 1 for the draft's own row, 0 for the base version's */
} gw_store_plan_grid;

typedef gw_status (*gw_store_plan_grid_fn)(void *user, const gw_store_plan_grid *g);
/* A source of rows to write: GW_OK with *g filled (borrowed until the next call),
 * GW_ERR_NOT_FOUND at the end (no message needed), another status on failure. */
typedef gw_status (*gw_store_plan_grid_src)(void *user, gw_store_plan_grid *g);

/* A draft as stored. */
typedef struct gw_store_plan_draft {
    int64_t id;
    char name[128];
    int64_t base_version;
    char created_by[128];
    char created_at[32];
    char updated_at[32];
    int64_t edits;             /* edits applied */
    int64_t changed;           /* the draft's own rows (upserts and deletes) */
    char status[16];           /* "open" or "published" */
    int64_t published_version; /* 0 unless published */
} gw_store_plan_draft;

typedef gw_status (*gw_store_plan_draft_fn)(void *user, const gw_store_plan_draft *d);

/* One of a draft's own rows against its base: the grid id (borrowed for the call), whether it
 * is a delete mark, and whether the base version has a grid of that id. */
typedef gw_status (*gw_store_plan_change_fn)(void *user, const char *id, int deleted, int in_base);

/* One grid version as listed (strings borrowed for the call; published_at may be NULL). */
typedef struct gw_store_plan_version {
    int64_t version;
    const char *name, *status, *created_at, *created_by, *published_at;
    int64_t grids;
    int current; /* 1 for the version meta 'grid_version' names */
} gw_store_plan_version;

typedef gw_status (*gw_store_plan_version_fn)(void *user, const gw_store_plan_version *v);
typedef gw_status (*gw_store_plan_box_fn)(void *user, const gw_bbox *box);

/* A camera (x, y lon/lat; azimuth, fov in degrees, range in metres) or a police room (x, y;
 * the rest 0). */
typedef struct gw_store_plan_site {
    double x, y, azimuth, fov, range;
} gw_store_plan_site;
typedef gw_status (*gw_store_plan_site_fn)(void *user, const gw_store_plan_site *site);

/* Incidents: a point of the window (category "" when none), a count per grid (category NULL
 * when not asked for), and the re-resolution of a point's grid (see incidents_regrid). */
typedef gw_status (*gw_store_plan_point_fn)(void *user, double x, double y, const char *category);
typedef gw_status (*gw_store_plan_count_fn)(void *user, const char *grid, const char *category,
                                            int64_t n);
typedef gw_status (*gw_store_plan_regrid_fn)(void *user, double x, double y, const char *grid,
                                             const char **new_grid);
/* Prepared incident reads over one window (incidents_open … incidents_close). */
typedef struct gw_store_plan_incidents gw_store_plan_incidents;

/* Parts of a draft's grid set for gw_store_plan_draft_grids. */
enum {
    GW_STORE_PLAN_BASE = 1, /* the base version's grids the draft has no row for */
    GW_STORE_PLAN_OWN = 2,  /* the draft's own grids (upserts) */
    GW_STORE_PLAN_BY_ID = 4 /* in id order (else the engine's order, base part first) */
};

/* ---- drafts -------------------------------------------------------------------------------- */

/* A new open draft over base_version, no edits, created and updated now; *id its id. */
gw_status gw_store_plan_draft_create(gw_store *s, const char *name, const char *who,
                                     int64_t base_version, int64_t *id);
/* One draft; GW_ERR_NOT_FOUND ("no draft N") when there is none with this id. */
gw_status gw_store_plan_draft_get(gw_store *s, int64_t id, gw_store_plan_draft *out);
/* Every draft, newest first, to fn. */
gw_status gw_store_plan_draft_list(gw_store *s, gw_store_plan_draft_fn fn, void *user);
/* Remove a draft and its rows. */
gw_status gw_store_plan_draft_delete(gw_store *s, int64_t id);
/* Count one more edit and set updated_at to now. */
gw_status gw_store_plan_draft_touch(gw_store *s, int64_t id);
/* Mark a draft published as grid version `version`. */
gw_status gw_store_plan_draft_published(gw_store *s, int64_t id, int64_t version);
/* Copy draft `from`'s own rows (upserts and delete marks) into draft `to`, in one statement. */
gw_status gw_store_plan_draft_copy(gw_store *s, int64_t to, int64_t from);
/* Replace a draft's rows by a whole grid set: every grid of base_version becomes a delete mark,
 * then each row of src an upsert (the same id replaces the mark).  *n (may be NULL) receives
 * the rows written. */
gw_status gw_store_plan_draft_replace(gw_store *s, int64_t id, int64_t base_version,
                                      gw_store_plan_grid_src src, void *user, size_t *n);
/* The draft's own rows in id order, each against base_version, to fn. */
gw_status gw_store_plan_draft_changes(gw_store *s, int64_t id, int64_t base_version,
                                      gw_store_plan_change_fn fn, void *user);
/* The draft's grid set as it sees it, the parts asked for (GW_STORE_PLAN_*), to fn.  bbox (may
 * be NULL) narrows the base part by the spatial index (rows whose box meets it; the own part is
 * not narrowed: test geometries yourself).  *base (may be NULL) receives the draft's base
 * version.  GW_ERR_NOT_FOUND for an unknown draft. */
gw_status gw_store_plan_draft_grids(gw_store *s, int64_t id, unsigned parts, const gw_bbox *bbox,
                                    gw_store_plan_grid_fn fn, void *user, int64_t *base);

/* Grid `grid` as draft `id` sees it (its own row, else base_version's) to fn;
 * GW_ERR_NOT_FOUND when the draft removed it ("grid 'X' was removed in draft N") or neither
 * has it ("no grid 'X' in draft N"). */
gw_status gw_store_plan_grid_get(gw_store *s, int64_t id, int64_t base_version, const char *grid,
                                 gw_store_plan_grid_fn fn, void *user);
/* *exists = 1 when `grid` is a grid of the draft (an upsert, or a base grid it has no row for). */
gw_status gw_store_plan_grid_exists(gw_store *s, int64_t id, int64_t base_version, const char *grid,
                                    int *exists);
/* Write a grid into the draft (an upsert replacing the draft's row of that id). */
gw_status gw_store_plan_grid_put(gw_store *s, int64_t id, const gw_store_plan_grid *g);
/* Remove a grid from the draft: a delete mark when base_version has it, else its row goes. */
gw_status gw_store_plan_grid_remove(gw_store *s, int64_t id, int64_t base_version,
                                    const char *grid);

/* ---- grid versions ------------------------------------------------------------------------- */

/* The grids of a version in id order, to fn; bbox (may be NULL) keeps those whose box meets it
 * (spatial index). */
gw_status gw_store_plan_version_grids(gw_store *s, int64_t version, const gw_bbox *bbox,
                                      gw_store_plan_grid_fn fn, void *user);
/* *exists = 1 when grid_versions has the version. */
gw_status gw_store_plan_version_exists(gw_store *s, int64_t version, int *exists);
/* Add the next version number (archived, created and published_at now); *version receives it. */
gw_status gw_store_plan_version_add(gw_store *s, const char *name, const char *who,
                                    int64_t *version);
/* Write the grid rows of `version`: version `from`'s rows, overlaid by draft `draft`'s (its
 * deletes dropped, its upserts added), or with draft 0 a byte-for-byte copy of `from`.  Set
 * based: one statement per part. */
gw_status gw_store_plan_version_fill(gw_store *s, int64_t version, int64_t from, int64_t draft);
/* Make `version` the published one: the published version becomes archived, meta
 * 'grid_version' names the new one. */
gw_status gw_store_plan_version_publish(gw_store *s, int64_t version);
/* The lon/lat box of every grid row of a or b that has no identical row (same id, same
 * geometry) in the other, to fn. */
gw_status gw_store_plan_version_diff(gw_store *s, int64_t a, int64_t b, gw_store_plan_box_fn fn,
                                     void *user);
/* Every version, newest first, to fn. */
gw_status gw_store_plan_versions(gw_store *s, gw_store_plan_version_fn fn, void *user);

/* ---- the jurisdiction outline -------------------------------------------------------------- */

/* The stored outline as WKB (EPSG:4326); *wkb NULL and *len 0 when none is recorded.  Caller
 * frees *wkb with free(). */
gw_status gw_store_plan_jurisdiction_get(gw_store *s, unsigned char **wkb, size_t *len);
/* *exists = 1 when an outline is recorded. */
gw_status gw_store_plan_jurisdiction_exists(gw_store *s, int *exists);
/* Record the outline (WKB, EPSG:4326) with its source text, set now; GW_ERR_DB when one is
 * recorded already. */
gw_status gw_store_plan_jurisdiction_set(gw_store *s, const unsigned char *wkb, size_t len,
                                         const char *source);

/* ---- incidents, cameras, police rooms ------------------------------------------------------ */

/* The balance window: to = the latest occurred_at, from = 365 days before it (ISO 8601 UTC),
 * both "" when there are no incidents.  Each buffer holds cap bytes. */
gw_status gw_store_plan_incident_window(gw_store *s, char *from, char *to, size_t cap);
/* Incidents at or after `from` with a resolved grid, counted per grid (and per category, ""
 * for none, when by_category), to fn. */
gw_status gw_store_plan_incident_counts(gw_store *s, const char *from, int by_category,
                                        gw_store_plan_count_fn fn, void *user);
/* Prepare reads of the incidents at or after `from` (kept for many incidents_in calls).
 * Caller frees *out with gw_store_plan_incidents_close(). */
gw_status gw_store_plan_incidents_open(gw_store *s, const char *from,
                                       gw_store_plan_incidents **out);
/* The window's incidents whose point lies in bbox (spatial index), to fn. */
gw_status gw_store_plan_incidents_in(gw_store *s, gw_store_plan_incidents *it, const gw_bbox *bbox,
                                     gw_store_plan_point_fn fn, void *user);
/* Free the prepared reads; accepts NULL. */
gw_status gw_store_plan_incidents_close(gw_store *s, gw_store_plan_incidents *it);
/* Re-resolve the grid of every incident in the boxes (spatial index; all time): fn gets the
 * point and its stored grid (NULL when none) and sets *new_grid (NULL for none); the incident is
 * updated when that differs.  *n (may be NULL) receives the incidents updated. */
gw_status gw_store_plan_incidents_regrid(gw_store *s, const gw_bbox *boxes, size_t nboxes,
                                         gw_store_plan_regrid_fn fn, void *user, int64_t *n);
/* The cameras that have a view (not "offline", range > 0, fov > 0 with NULL = 360, azimuth
 * NULL = 0), to fn. */
gw_status gw_store_plan_cameras(gw_store *s, gw_store_plan_site_fn fn, void *user);
/* The police rooms that have a location, to fn. */
gw_status gw_store_plan_rooms(gw_store *s, gw_store_plan_site_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
