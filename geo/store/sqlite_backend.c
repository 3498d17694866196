/* sqlite_backend.c — the SQLite/SpatiaLite engine's table of functions (backend.h): one line per
 * topic, each pointing at the table its sqlite_<topic>.c file defines. */
#include "ops_core.h"
#include "sqlite_bulk.h"

static const struct gw_store_core_ops sqlite_core = {
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .count = sq_count,
    .extent = sq_extent,
    .clear = sq_clear,
    .inserter_create = sq_inserter_create,
    .inserter_add = sq_inserter_add,
    .inserter_destroy = sq_inserter_destroy,
    .cursor_create = sq_cursor_create,
    .cursor_next = sq_cursor_next,
    .cursor_destroy = sq_cursor_destroy,
    .log_change = sq_log_change,
    .last_seq = sq_last_seq,
    .audit = sq_audit,
};

const gw_store_backend st_sqlite_backend = {
    .name = "sqlite",
    .core = &sqlite_core,
};

gw_status st_unsupported(gw_store *s, const char *op)
{
    return gw_ctx_error(s->ctx, GW_ERR_UNSUPPORTED, "the %s store does not implement %s",
                        s->be && s->be->name ? s->be->name : "?", op);
}
