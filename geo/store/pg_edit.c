/* pg_edit.c — the PostgreSQL engine's 'edit' topic (ops_edit.h; the contract is
 * include/gridwatch/store_edit.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_edit.h"
#include "pg_internal.h"

const struct gw_store_edit_ops st_pg_edit_ops = {0};
