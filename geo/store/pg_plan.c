/* pg_plan.c — the PostgreSQL engine's 'plan' topic (ops_plan.h; the contract is
 * include/gridwatch/store_plan.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_plan.h"
#include "pg_internal.h"

const struct gw_store_plan_ops st_pg_plan_ops = {0};
