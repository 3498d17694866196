/* pg_model.c — the PostgreSQL engine's 'model' topic (ops_model.h; the contract is
 * include/gridwatch/store_model.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_model.h"
#include "pg_internal.h"

const struct gw_store_model_ops st_pg_model_ops = {0};
