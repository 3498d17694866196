/* pg_dispatch.c — the PostgreSQL engine's 'dispatch' topic (ops_dispatch.h; the contract is
 * include/gridwatch/store_dispatch.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_dispatch.h"
#include "pg_internal.h"

const struct gw_store_dispatch_ops st_pg_dispatch_ops = {0};
