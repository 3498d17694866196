/* sqlite_backend.c — the SQLite/SpatiaLite engine's table of functions (backend.h): one line per
 * topic, each pointing at the table its sqlite_<topic>.c file defines. */
#include "store_internal.h"

const gw_store_backend gw_sqlite_backend = {
    .name = "sqlite",
};

gw_status st_unsupported(gw_store *s, const char *op)
{
    return gw_ctx_error(s->ctx, GW_ERR_UNSUPPORTED, "the %s store does not implement %s",
                        s->be && s->be->name ? s->be->name : "?", op);
}
