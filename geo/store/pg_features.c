/* pg_features.c — the PostgreSQL engine's 'features' topic (ops_features.h; the contract is
 * include/gridwatch/store_features.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_features.h"
#include "pg_internal.h"

const struct gw_store_features_ops st_pg_features_ops = {0};
