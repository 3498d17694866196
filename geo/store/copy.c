/* copy.c — the engine-neutral side of the copy topic (gridwatch/store_copy.h): the schema's
 * tables as columns of neutral types, and gw_copy_database, which moves every table from one
 * store to another through the copy topic of each engine (sqlite_copy.c, pg_copy.c).  Nothing
 * here knows an engine: the catalog lists the columns both schemas share (data/schema,
 * data/schema_pg), in the order a reader gives and a writer takes them. */
#include "gridwatch/store_copy.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const gw_copy_column meta_cols[] = {{"key", GW_COPY_TEXT}, {"value", GW_COPY_TEXT}};
static const gw_copy_column versions_cols[] = {
    {"version", GW_COPY_INT},     {"name", GW_COPY_TEXT},       {"status", GW_COPY_TEXT},
    {"created_at", GW_COPY_TIME}, {"created_by", GW_COPY_TEXT}, {"published_at", GW_COPY_TIME}};
static const gw_copy_column grids_cols[] = {
    {"fid", GW_COPY_INT},        {"id", GW_COPY_TEXT},     {"name", GW_COPY_TEXT},
    {"township", GW_COPY_TEXT},  {"county", GW_COPY_TEXT}, {"population", GW_COPY_INT},
    {"households", GW_COPY_INT}, {"worker", GW_COPY_TEXT}, {"phone", GW_COPY_TEXT},
    {"version", GW_COPY_INT},    {"geom", GW_COPY_GEOM},   {"prefecture", GW_COPY_TEXT},
    {"village", GW_COPY_TEXT}};
static const gw_copy_column rooms_cols[] = {{"fid", GW_COPY_INT},      {"id", GW_COPY_TEXT},
                                            {"name", GW_COPY_TEXT},    {"phone", GW_COPY_TEXT},
                                            {"address", GW_COPY_TEXT}, {"geom", GW_COPY_GEOM}};
static const gw_copy_column cameras_cols[] = {{"fid", GW_COPY_INT},     {"id", GW_COPY_TEXT},
                                              {"name", GW_COPY_TEXT},   {"azimuth", GW_COPY_REAL},
                                              {"fov", GW_COPY_REAL},    {"range", GW_COPY_REAL},
                                              {"height", GW_COPY_REAL}, {"status", GW_COPY_TEXT},
                                              {"geom", GW_COPY_GEOM}};
static const gw_copy_column teams_cols[] = {{"fid", GW_COPY_INT},     {"id", GW_COPY_TEXT},
                                            {"name", GW_COPY_TEXT},   {"status", GW_COPY_TEXT},
                                            {"members", GW_COPY_INT}, {"updated_at", GW_COPY_TIME},
                                            {"geom", GW_COPY_GEOM}};
static const gw_copy_column incidents_cols[] = {
    {"fid", GW_COPY_INT},          {"id", GW_COPY_TEXT},      {"occurred_at", GW_COPY_TIME},
    {"category", GW_COPY_TEXT},    {"severity", GW_COPY_INT}, {"status", GW_COPY_TEXT},
    {"description", GW_COPY_TEXT}, {"grid", GW_COPY_TEXT},    {"police_room", GW_COPY_TEXT},
    {"geom", GW_COPY_GEOM}};
static const gw_copy_column audit_cols[] = {{"seq", GW_COPY_INT},
                                            {"at", GW_COPY_TIME},
                                            {"who", GW_COPY_TEXT},
                                            {"action", GW_COPY_TEXT},
                                            {"detail", GW_COPY_TEXT}};
static const gw_copy_column changelog_cols[] = {
    {"seq", GW_COPY_INT},   {"at", GW_COPY_TIME},         {"layer", GW_COPY_TEXT},
    {"op", GW_COPY_TEXT},   {"feature_id", GW_COPY_TEXT}, {"minx", GW_COPY_REAL},
    {"miny", GW_COPY_REAL}, {"maxx", GW_COPY_REAL},       {"maxy", GW_COPY_REAL}};
static const gw_copy_column tokens_cols[] = {
    {"id", GW_COPY_INT},           {"name", GW_COPY_TEXT},       {"role", GW_COPY_TEXT},
    {"hash", GW_COPY_BLOB},        {"created_at", GW_COPY_TIME}, {"revoked_at", GW_COPY_TIME},
    {"jurisdiction", GW_COPY_TEXT}}; /* a copy must not widen a scoped token */
static const gw_copy_column coverage_cols[] = {
    {"grid", GW_COPY_TEXT},       {"seq", GW_COPY_INT},         {"grid_m2", GW_COPY_REAL},
    {"covered_m2", GW_COPY_REAL}, {"ratio", GW_COPY_REAL},      {"cameras", GW_COPY_INT},
    {"incidents", GW_COPY_INT},   {"seen", GW_COPY_INT},        {"incident_share", GW_COPY_REAL},
    {"room_m2", GW_COPY_REAL},    {"room_reach", GW_COPY_REAL}, {"blind_m2", GW_COPY_REAL},
    {"blind_parts", GW_COPY_INT}, {"blind_spots", GW_COPY_GEOM}};
static const gw_copy_column run_cols[] = {{"id", GW_COPY_INT},
                                          {"seq", GW_COPY_INT},
                                          {"metric_srid", GW_COPY_INT},
                                          {"computed_at", GW_COPY_TIME},
                                          {"window_from", GW_COPY_INT},
                                          {"window_to", GW_COPY_INT},
                                          {"min_blind_m2", GW_COPY_REAL},
                                          {"room_dist_m", GW_COPY_REAL}};
static const gw_copy_column assign_cols[] = {
    {"id", GW_COPY_INT},           {"incident", GW_COPY_TEXT},    {"team", GW_COPY_TEXT},
    {"assigned_at", GW_COPY_TIME}, {"assigned_by", GW_COPY_TEXT}, {"released_at", GW_COPY_TIME},
    {"released_by", GW_COPY_TEXT}};
static const gw_copy_column drafts_cols[] = {
    {"id", GW_COPY_INT},          {"name", GW_COPY_TEXT},       {"base_version", GW_COPY_INT},
    {"created_by", GW_COPY_TEXT}, {"created_at", GW_COPY_TIME}, {"updated_at", GW_COPY_TIME},
    {"edits", GW_COPY_INT},       {"status", GW_COPY_TEXT},     {"published_version", GW_COPY_INT}};
static const gw_copy_column draft_grids_cols[] = {
    {"draft_id", GW_COPY_INT},   {"id", GW_COPY_TEXT},        {"op", GW_COPY_TEXT},
    {"name", GW_COPY_TEXT},      {"township", GW_COPY_TEXT},  {"county", GW_COPY_TEXT},
    {"population", GW_COPY_INT}, {"households", GW_COPY_INT}, {"worker", GW_COPY_TEXT},
    {"phone", GW_COPY_TEXT},     {"geom", GW_COPY_GEOM},      {"prefecture", GW_COPY_TEXT},
    {"village", GW_COPY_TEXT}};
static const gw_copy_column flow_cols[] = {
    {"incident", GW_COPY_TEXT},  {"state", GW_COPY_TEXT},         {"level", GW_COPY_INT},
    {"prev_level", GW_COPY_INT}, {"assignee_kind", GW_COPY_TEXT}, {"assignee", GW_COPY_TEXT},
    {"deadline", GW_COPY_TIME},  {"updated_at", GW_COPY_TIME}};
static const gw_copy_column transitions_cols[] = {
    {"seq", GW_COPY_INT},         {"incident", GW_COPY_TEXT},           {"at", GW_COPY_TIME},
    {"actor", GW_COPY_TEXT},      {"actor_jurisdiction", GW_COPY_TEXT}, {"action", GW_COPY_TEXT},
    {"from_state", GW_COPY_TEXT}, {"to_state", GW_COPY_TEXT},           {"from_level", GW_COPY_INT},
    {"to_level", GW_COPY_INT},    {"assignee", GW_COPY_TEXT},           {"note", GW_COPY_TEXT}};
static const gw_copy_column deadlines_cols[] = {{"category", GW_COPY_TEXT},
                                                {"level", GW_COPY_INT},
                                                {"action", GW_COPY_TEXT},
                                                {"seconds", GW_COPY_INT}};
static const gw_copy_column juris_cols[] = {{"id", GW_COPY_INT},
                                            {"geom", GW_COPY_GEOM},
                                            {"source", GW_COPY_TEXT},
                                            {"set_at", GW_COPY_TIME}};

static const gw_copy_column roads_cols[] = {{"fid", GW_COPY_INT},    {"id", GW_COPY_TEXT},
                                            {"name", GW_COPY_TEXT},  {"class", GW_COPY_TEXT},
                                            {"oneway", GW_COPY_INT}, {"speed_kmh", GW_COPY_REAL},
                                            {"geom", GW_COPY_GEOM}};

#define T(name, cols, order, counter)                                                              \
    {                                                                                              \
        name, cols, N(cols), order, counter                                                        \
    }
static const gw_copy_table tables[] = {
    T("meta", meta_cols, "key", NULL),
    T("grid_versions", versions_cols, "version", NULL),
    T("grids", grids_cols, "fid", "fid"),
    T("police_rooms", rooms_cols, "fid", "fid"),
    T("cameras", cameras_cols, "fid", "fid"),
    T("teams", teams_cols, "fid", "fid"),
    T("incidents", incidents_cols, "fid", "fid"),
    T("audit_log", audit_cols, "seq", "seq"),
    T("changelog", changelog_cols, "seq", "seq"),
    T("tokens", tokens_cols, "id", "id"),
    T("coverage", coverage_cols, "grid", NULL),
    T("coverage_run", run_cols, "id", NULL),
    T("assignments", assign_cols, "id", "id"),
    T("plan_drafts", drafts_cols, "id", "id"),
    T("plan_draft_grids", draft_grids_cols, "draft_id, id", NULL),
    T("plan_jurisdiction", juris_cols, "id", NULL),
    T("incident_flow", flow_cols, "incident", NULL),
    T("incident_transitions", transitions_cols, "seq", "seq"),
    T("flow_deadlines", deadlines_cols, "category, level, action", NULL),
    T("roads", roads_cols, "fid", "fid"),
};

const gw_copy_table *gw_copy_tables(size_t *n)
{
    if (n) *n = N(tables);
    return tables;
}

const gw_copy_table *gw_copy_table_find(const char *name)
{
    for (size_t i = 0; name && i < N(tables); i++)
        if (strcmp(tables[i].name, name) == 0) return &tables[i];
    return NULL;
}

/* ---- the whole database -------------------------------------------------------------------- */

typedef struct copy_run {
    gw_store *dst;
    gw_copy_writer *w;
    gw_status st;
    int64_t rows, done, total;
} copy_run;

static int put_row(void *user, const gw_copy_value *row)
{
    copy_run *r = user;
    r->st = gw_store_copy_put(r->dst, r->w, row);
    if (r->st) return 1;
    r->rows++;
    if (++r->done % 4096 == 0 || r->done == r->total)
        gw_ctx_progress(gw_store_ctx(r->dst), "copy", (double)r->done, (double)r->total);
    return 0;
}

/* GW_ERR_CONFLICT unless dst holds nothing but meta and the initial grid version. */
static gw_status check_empty(gw_store *dst)
{
    size_t n;
    const gw_copy_table *t = gw_copy_tables(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, "meta") == 0) continue;
        int64_t rows = 0, allowed = strcmp(t[i].name, "grid_versions") == 0;
        gw_status st = gw_store_copy_count(dst, t[i].name, &rows);
        if (st) return st;
        if (rows > allowed)
            return gw_ctx_error(gw_store_ctx(dst), GW_ERR_CONFLICT,
                                "%s is not empty (table %s holds %lld rows): copy writes only "
                                "into a new or empty database",
                                gw_store_path(dst), t[i].name, (long long)rows);
    }
    return GW_OK;
}

/* st with src's message on dst's context (they may be one context: the message is copied
 * before it is written again). */
static gw_status relay(gw_store *src, gw_store *dst, gw_status st, const char *table)
{
    char m[768];
    snprintf(m, sizeof m, "%s", gw_ctx_errmsg(gw_store_ctx(src)));
    return gw_ctx_error(gw_store_ctx(dst), st, "reading %s from %s: %s", table, gw_store_path(src),
                        *m ? m : gw_status_str(st));
}

static gw_status copy_tables(gw_store *src, gw_store *dst, gw_copy_report *rep)
{
    gw_ctx *ctx = gw_store_ctx(dst);
    size_t n;
    const gw_copy_table *t = gw_copy_tables(&n);
    int64_t counts[N(tables)] = {0};
    copy_run run = {.dst = dst};
    gw_status st = GW_OK;
    for (size_t i = 0; i < n && !st; i++) {
        if ((st = gw_store_copy_count(src, t[i].name, &counts[i])))
            st = relay(src, dst, st, t[i].name);
        run.total += counts[i];
    }
    for (size_t i = 0; i < n && !st; i++) {
        int64_t counter = 0, got = 0;
        if ((st = gw_store_copy_counter(src, t[i].name, &counter)))
            st = relay(src, dst, st, t[i].name);
        if (!st) st = gw_store_copy_writer(dst, t[i].name, &run.w);
        if (st) break;
        run.rows = 0, run.st = GW_OK;
        gw_status rs = gw_store_copy_read(src, t[i].name, put_row, &run);
        if (rs && !run.st) rs = relay(src, dst, rs, t[i].name);
        gw_status fs = gw_store_copy_finish(dst, run.w, counter);
        run.w = NULL;
        st = run.st ? run.st : rs ? rs : fs;
        if (st) break;
        st = gw_store_copy_count(dst, t[i].name, &got);
        if (!st && (strcmp(t[i].name, "meta") == 0 ? got < run.rows : got != run.rows))
            st = gw_ctx_error(ctx, GW_ERR_INTERNAL,
                              "copied %lld rows of %s but %s holds %lld; nothing was written",
                              (long long)run.rows, t[i].name, gw_store_path(dst), (long long)got);
        if (rep && i < N(rep->rows)) rep->rows[i] = run.rows;
        if (rep) rep->total += run.rows;
    }
    int64_t a = 0, b = 0;
    if (!st && (st = gw_store_last_seq(src, &a))) st = relay(src, dst, st, "changelog");
    if (!st) st = gw_store_last_seq(dst, &b);
    if (!st && a != b)
        st = gw_ctx_error(ctx, GW_ERR_INTERNAL,
                          "the change log ends at seq %lld on %s but at %lld on the copy; nothing "
                          "was written",
                          (long long)a, gw_store_path(src), (long long)b);
    if (!st && rep) rep->last_seq = b;
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

gw_status gw_copy_database(gw_store *src, gw_store *dst, gw_copy_report *rep)
{
    if (!src || !dst) return GW_ERR_ARG;
    if (rep) memset(rep, 0, sizeof *rep);
    double t0 = now_s();
    gw_status st = gw_store_read_begin(src);
    if (st) return relay(src, dst, st, "every table");
    st = gw_store_begin(dst);
    if (!st) st = check_empty(dst);
    if (!st) st = copy_tables(src, dst, rep);
    if (!st) st = gw_store_commit(dst);
    if (st) gw_store_rollback(dst);
    gw_store_read_end(src);
    if (rep) rep->seconds = now_s() - t0;
    return st;
}
