/* pg_tokens.c — the PostgreSQL engine's 'tokens' topic (ops_tokens.h; the contract is
 * include/gridwatch/store_tokens.h).  Slots left NULL answer GW_ERR_UNSUPPORTED naming the
 * operation until they are filled. */
#include "ops_tokens.h"
#include "pg_internal.h"

const struct gw_store_tokens_ops st_pg_tokens_ops = {0};
