/* pg_backend.c — the PostgreSQL/PostGIS engine's tables (backend.h): the core table here, one
 * table per topic in its pg_<topic>.c file.  A topic not yet filled answers GW_ERR_UNSUPPORTED
 * naming the operation (ST_CALL). */
#include "ops_changes.h"
#include "ops_copy.h"
#include "ops_core.h"
#include "ops_coverage.h"
#include "ops_dispatch.h"
#include "ops_edit.h"
#include "ops_features.h"
#include "ops_flow.h"
#include "ops_roads.h"
#include "ops_model.h"
#include "ops_plan.h"
#include "ops_tokens.h"
#include "pg_internal.h"

static const struct gw_store_core_ops pg_core = {
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .read_begin = pg_read_begin,
    .read_end = pg_read_end,
    .in_transaction = pg_in_transaction,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .count = pg_count,
    .extent = pg_extent,
    .clear = pg_clear,
    .inserter_create = pg_inserter_create,
    .inserter_add = pg_inserter_add,
    .inserter_destroy = pg_inserter_destroy,
    .cursor_create = pg_cursor_create,
    .nth_id = pg_nth_id,
    .cursor_next = pg_cursor_next,
    .cursor_destroy = pg_cursor_destroy,
    .log_change = pg_log_change,
    .last_seq = pg_last_seq,
    .audit = pg_audit,
};

const gw_store_backend st_pg_backend = {
    .name = "postgresql",
    .core = &pg_core,
    .changes = &st_pg_changes_ops,
    .tokens = &st_pg_tokens_ops,
    .features = &st_pg_features_ops,
    .coverage = &st_pg_coverage_ops,
    .edit = &st_pg_edit_ops,
    .dispatch = &st_pg_dispatch_ops,
    .model = &st_pg_model_ops,
    .plan = &st_pg_plan_ops,
    .copy = &st_pg_copy_ops,
    .flow = &st_pg_flow_ops,
    .roads = &st_pg_roads_ops,
};
