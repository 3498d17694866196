/* store.c — the store's engine-neutral side: gw_store_open picks the engine from the location
 * (a file path: SQLite/SpatiaLite; a postgresql:// URL: PostgreSQL/PostGIS, decision 0004), and
 * every other function of store.h goes through the engine's table (backend.h, ops_core.h). */
#include "ops_core.h"
#include "pg_internal.h"
#include "sqlite_bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gw_store_is_postgres(const char *location)
{
    return location && (strncmp(location, "postgresql://", 13) == 0 ||
                        strncmp(location, "postgres://", 11) == 0);
}

gw_status gw_store_open(gw_ctx *ctx, const char *path, int flags, gw_store **out)
{
    if (gw_store_is_postgres(path)) {
        if (!out) return gw_ctx_error(ctx, GW_ERR_ARG, "gw_store_open: no output pointer");
        return pg_open(ctx, path, flags, out);
    }
    return st_sqlite_open(ctx, path, flags, out);
}

/* Call an engine function that returns nothing, when the engine has it. */
#define ST_VOID(s, fn, ...)                                                                        \
    do {                                                                                           \
        if ((s) && (s)->be->core->fn) (s)->be->core->fn(__VA_ARGS__);                              \
    } while (0)

/* Every engine's gw_inserter and gw_cursor begin with their gw_store (sqlite_bulk.h). */
static gw_store *owner(const void *obj) { return obj ? *(gw_store *const *)obj : NULL; }

void gw_store_close(gw_store *s) { ST_VOID(s, close, s); }
gw_status gw_store_begin(gw_store *s) { ST_CALL(s, core, begin); }
gw_status gw_store_commit(gw_store *s) { ST_CALL(s, core, commit); }
void gw_store_rollback(gw_store *s) { ST_VOID(s, rollback, s); }
gw_status gw_store_read_begin(gw_store *s) { ST_CALL(s, core, read_begin); }
void gw_store_read_end(gw_store *s) { ST_VOID(s, read_end, s); }
int gw_store_in_transaction(gw_store *s) { return s && s->be->core->in_transaction(s); }

gw_status gw_store_meta_get(gw_store *s, const char *key, char *buf, size_t cap)
{
    ST_CALL(s, core, meta_get, key, buf, cap);
}

gw_status gw_store_meta_set(gw_store *s, const char *key, const char *value)
{
    ST_CALL(s, core, meta_set, key, value);
}

gw_status gw_store_count(gw_store *s, gw_layer layer, int64_t *n)
{
    ST_CALL(s, core, count, layer, n);
}
gw_status gw_store_extent(gw_store *s, gw_layer layer, gw_bbox *out)
{
    ST_CALL(s, core, extent, layer, out);
}
gw_status gw_store_clear(gw_store *s, gw_layer layer) { ST_CALL(s, core, clear, layer); }

gw_status gw_store_inserter_create(gw_store *s, gw_layer layer, gw_inserter **out)
{
    ST_CALL(s, core, inserter_create, layer, out);
}

gw_status gw_inserter_add(gw_inserter *ins, const gw_feature *f)
{
    gw_store *s = owner(ins);
    if (!s) return GW_ERR_ARG;
    return s->be->core->inserter_add(ins, f);
}

void gw_inserter_destroy(gw_inserter *ins) { ST_VOID(owner(ins), inserter_destroy, ins); }

gw_status gw_store_cursor_create(gw_store *s, gw_layer layer, gw_cursor **out)
{
    ST_CALL(s, core, cursor_create, layer, NULL, NULL, out);
}

gw_status gw_store_cursor_create_range(gw_store *s, gw_layer layer, const char *from_id,
                                       const char *to_id, gw_cursor **out)
{
    ST_CALL(s, core, cursor_create, layer, from_id, to_id, out);
}

gw_status gw_store_nth_id(gw_store *s, gw_layer layer, int64_t k, char *buf, size_t cap)
{
    ST_CALL(s, core, nth_id, layer, k, buf, cap);
}

gw_status gw_cursor_next(gw_cursor *cur, gw_row *row)
{
    gw_store *s = owner(cur);
    if (!s) return GW_ERR_ARG;
    return s->be->core->cursor_next(cur, row);
}

void gw_cursor_destroy(gw_cursor *cur) { ST_VOID(owner(cur), cursor_destroy, cur); }

gw_status gw_store_log_change(gw_store *s, gw_layer layer, const char *op, const char *feature_id,
                              const gw_bbox *bbox, int64_t *seq)
{
    ST_CALL(s, core, log_change, layer, op, feature_id, bbox, seq);
}

gw_status gw_store_last_seq(gw_store *s, int64_t *seq) { ST_CALL(s, core, last_seq, seq); }

gw_status gw_store_audit(gw_store *s, const char *who, const char *action, const char *detail)
{
    ST_CALL(s, core, audit, who, action, detail);
}

gw_ctx *gw_store_ctx(gw_store *s) { return s ? s->ctx : NULL; }
const char *gw_store_path(const gw_store *s) { return s ? s->path : NULL; }
int gw_store_schema_version(const gw_store *s) { return s ? s->schema_version : 0; }

gw_status gw_store_grid_version(gw_store *s, int64_t *version)
{
    if (!s || !version) return GW_ERR_ARG;
    char buf[32];
    *version = 1;
    gw_status st = gw_store_meta_get(s, "grid_version", buf, sizeof buf);
    if (st == GW_ERR_NOT_FOUND) {
        gw_ctx_clear_error(s->ctx);
        return GW_OK;
    }
    if (st) return st;
    long long v = strtoll(buf, NULL, 10);
    if (v > 0) *version = v;
    return GW_OK;
}

/* ---- built on the table -------------------------------------------------------------------- */

gw_status gw_store_metric_srid(gw_store *s, int *srid)
{
    if (!s || !srid) return GW_ERR_ARG;
    char buf[32];
    *srid = 0;
    gw_status st = gw_store_meta_get(s, "metric_srid", buf, sizeof buf);
    if (st == GW_ERR_NOT_FOUND) {
        gw_ctx_clear_error(s->ctx);
        return GW_OK;
    }
    if (st) return st;
    char *end;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end || v < 0 || v > 999999)
        return gw_ctx_error(s->ctx, GW_ERR_FORMAT, "meta 'metric_srid' is '%s', not an EPSG code",
                            buf);
    *srid = (int)v;
    return GW_OK;
}

gw_status gw_store_set_metric_srid(gw_store *s, int srid)
{
    if (!s) return GW_ERR_ARG;
    if (srid <= 0 || srid > 999999)
        return gw_ctx_error(s->ctx, GW_ERR_RANGE, "metric SRID %d is not an EPSG code", srid);
    char buf[16];
    snprintf(buf, sizeof buf, "%d", srid);
    return gw_store_meta_set(s, "metric_srid", buf);
}

const char *st_kind_name(gw_val_kind k)
{
    switch (k) {
    case GW_VAL_NULL: return "null";
    case GW_VAL_TEXT: return "text";
    case GW_VAL_INT: return "integer";
    case GW_VAL_REAL: return "real";
    }
    return "unknown";
}

gw_status st_kind_error(gw_ctx *ctx, gw_layer layer, const char *id, const gw_field *f,
                        const gw_value *v)
{
    return gw_ctx_error(ctx, GW_ERR_ARG, "%s '%s': field %s expects %s, got a %s value",
                        gw_layer_name(layer), id, f->name,
                        f->type == GW_FT_TIME   ? "a time (integer Unix seconds)"
                        : f->type == GW_FT_TEXT ? "text"
                        : f->type == GW_FT_INT  ? "an integer"
                                                : "a number",
                        v->kind == GW_VAL_TEXT && !v->s ? "NULL-text" : st_kind_name(v->kind));
}
