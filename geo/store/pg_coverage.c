/* pg_coverage.c — the PostgreSQL engine's 'coverage' topic (ops_coverage.h; the contract is
 * include/gridwatch/store_coverage.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_coverage.h"
#include "pg_internal.h"

const struct gw_store_coverage_ops st_pg_coverage_ops = {0};
