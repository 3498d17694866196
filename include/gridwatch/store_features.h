/* store_features.h — reading features for the feature API: filtered pages (bbox, time window,
 * property equality, a CQL2 filter, a sort order, limit/offset) and given ids, streamed through a reader, their count, and a
 * layer's spatial and time extent.  Grids are those of the published version. */
#ifndef GRIDWATCH_STORE_FEATURES_H
#define GRIDWATCH_STORE_FEATURES_H

#include "gridwatch/cql2.h"
#include "gridwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_FEATURE_MAX_PROPS 16
#define GW_FEATURE_MAX_SORT 8

/* Which features.  Zero-initialise and set what applies. */
typedef struct gw_feature_filter {
    gw_layer layer;
    int has_bbox;
    gw_bbox bbox;       /* lon/lat; features whose geometry meets it */
    int has_lo, has_hi; /* the layer's time field within [lo, hi] (Unix seconds) */
    int64_t lo, hi;
    int nprops; /* property equality: field index in gw_layer_fields() and */
    int prop_field[GW_FEATURE_MAX_PROPS]; /* the value (text, or int for GW_FT_INT fields) */
    const char *prop_text[GW_FEATURE_MAX_PROPS];
    int64_t prop_int[GW_FEATURE_MAX_PROPS];
    const gw_cql2 *cql; /* a CQL2 filter of this layer (cql2.h) the rows also pass, or NULL */
    int nsort;          /* order by these fields (index in gw_layer_fields), then storage order */
    int sort_field[GW_FEATURE_MAX_SORT];
    int sort_desc[GW_FEATURE_MAX_SORT]; /* 1: descending (NULLs last), else ascending (first) */
    const char *const *ids; /* n_ids > 0: exactly these ids, in this order (others ignored) */
    size_t n_ids;
} gw_feature_filter;

/* A reader over the features of a filter.  Its rows are gw_row (store.h) with the values as
 * stored: numbers as GW_VAL_INT / GW_VAL_REAL where the field is numeric and the row holds a
 * number, everything else as GW_VAL_TEXT (times as their stored ISO 8601 text). */
typedef struct gw_feature_reader gw_feature_reader;

/* How many features the filter selects (ids, limit and offset aside). */
gw_status gw_store_features_count(gw_store *s, const gw_feature_filter *f, int64_t *n);
/* Open a reader on the filter's features in its sort order (default: storage order), `limit` (<= 0: all) after skipping
 * `offset`.  The filter must outlive the reader.  Caller closes with gw_store_features_close. */
gw_status gw_store_features_open(gw_store *s, const gw_feature_filter *f, int64_t limit,
                                 int64_t offset, gw_feature_reader **out);
/* The next feature: GW_OK with *row (borrowed until the next call), GW_ERR_NOT_FOUND at the end
 * (no message). */
gw_status gw_store_features_next(gw_store *s, gw_feature_reader *r, gw_row *row);
/* Close a reader (accepts NULL); ends its read. */
gw_status gw_store_features_close(gw_store *s, gw_feature_reader *r);
/* The layer's extent in lon/lat, fast where the engine's spatial index holds it (a point
 * layer's R*Tree root), else by scan; GW_ERR_NOT_FOUND when the layer is empty. */
gw_status gw_store_features_extent(gw_store *s, gw_layer layer, gw_bbox *out);
/* The first and last value of the layer's time field (stored ISO 8601 text); GW_ERR_NOT_FOUND
 * when the layer has no time field or no time. */
gw_status gw_store_features_time_extent(gw_store *s, gw_layer layer, char *lo, char *hi,
                                        size_t cap);

/* Figures for `gridwatch stats` beyond counts and extents. */
typedef struct gw_store_summary {
    int64_t population, households, counties, townships; /* of the published grids */
    double area_km2;   /* of the published grids in the metric CRS; NAN when not asked */
    int64_t domes;     /* cameras with a 360° view */
    int has_incidents; /* the incident span below is set */
    char first_incident[40], last_incident[40];
    int64_t outside_grids; /* incidents in no grid */
} gw_store_summary;
/* The summary; area only when metric_srid > 0. */
gw_status gw_store_features_summary(gw_store *s, int metric_srid, gw_store_summary *out);
/* Called per group, largest first (key NULL for rows without a value). */
typedef int (*gw_store_group_fn)(void *user, const char *key, int64_t n);
/* Count the layer's rows by the value of `field` (a text field of the layer), the `limit`
 * largest groups (<= 0: all), to fn. */
gw_status gw_store_features_groups(gw_store *s, gw_layer layer, const char *field, int limit,
                                   gw_store_group_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
