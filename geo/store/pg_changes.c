/* pg_changes.c — the PostgreSQL engine's 'changes' topic (ops_changes.h; the contract is
 * include/gridwatch/store_changes.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_changes.h"
#include "pg_internal.h"

const struct gw_store_changes_ops st_pg_changes_ops = {.wait = pg_changes_wait};
