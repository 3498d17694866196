/* pg_plan.h — inside the store room only: the PostgreSQL engine's planning reads that
 * pg_plan_reads.c defines and pg_plan.c's table (st_pg_plan_ops) names; the contract of each
 * is its gw_store_plan_* function's in include/gridwatch/store_plan.h. */
#ifndef GW_PG_PLAN_H
#define GW_PG_PLAN_H

#include "ops_plan.h"

gw_status pg_plan_incident_window(gw_store *s, char *from, char *to, size_t cap);
gw_status pg_plan_incident_counts(gw_store *s, const char *from, int by_category,
                                  gw_store_plan_count_fn fn, void *user);
gw_status pg_plan_incidents_open(gw_store *s, const char *from, gw_store_plan_incidents **out);
gw_status pg_plan_incidents_in(gw_store *s, gw_store_plan_incidents *it, const gw_bbox *bbox,
                               gw_store_plan_point_fn fn, void *user);
gw_status pg_plan_incidents_close(gw_store *s, gw_store_plan_incidents *it);
gw_status pg_plan_incidents_regrid(gw_store *s, const gw_bbox *boxes, size_t nboxes,
                                   gw_store_plan_regrid_fn fn, void *user, int64_t *n);
gw_status pg_plan_cameras(gw_store *s, gw_store_plan_site_fn fn, void *user);
gw_status pg_plan_rooms(gw_store *s, gw_store_plan_site_fn fn, void *user);

#endif
