/* cmd_coverage.c — `gridwatch coverage DB`: compute (or reuse the stored) camera coverage per
 * grid and print it as CSV or JSON. */
#include "cli_util.h"
#include "commands.h"
#include "http_util.h"

#include "gridwatch/coverage.h"
#include "gridwatch/store_coverage.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] = N_(
    "usage: gridwatch coverage DB [--grid ID] [--format csv|json] [--recompute] [--from T] [--to T]\n"
    "                             [--min-blind M2] [--room-dist M] [--threads N] [--no-blind]\n"
    "\n"
    "Camera coverage per grid: covered area and ratio (grid ∩ union of the online cameras' view\n"
    "sectors), cameras whose view reaches the grid, blind-spot area, the share of the grid's\n"
    "incidents inside some view, and the share within --room-dist of a police room.\n"
    "Results are stored in DB (table coverage, with the change-log seq they were computed from);\n"
    "they are computed when absent or stale, or always with --recompute.\n"
    "\n"
    "options:\n"
    "  --grid ID        print one grid only\n"
    "  --format F       csv (default) or json\n"
    "  --recompute      compute even when the stored results are current\n"
    "  --from T --to T  incident window (ISO 8601; default: every incident)\n"
    "  --min-blind M2   drop blind-spot pieces and holes below M2 square metres from the polygons\n"
    "                   (built on request: tiles, GET /analysis/coverage/{grid}; default 100)\n"
    "  --room-dist M    police-room reach distance in metres (default 1000)\n"
    "  --threads N      worker threads (default 2)\n"
    "  --no-blind       accepted, no effect (blind-spot polygons are only built on request)\n");

/* CPU seconds of the process (every thread): the work done, whatever else runs on the box. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 1 with the seq of the stored run, 0 when none is stored. */
static int stored_seq(gw_store *store, int64_t *seq)
{
    gw_store_coverage_run run;
    if (gw_store_coverage_run_get(store, &run) != GW_OK) {
        gw_ctx_clear_error(gw_store_ctx(store));
        return 0;
    }
    *seq = run.seq;
    return 1;
}

typedef struct printer {
    int json, n;
} printer;

static int print_row(void *user, const gw_store_coverage_row *r)
{
    printer *p = user;
    char share[32] = "";
    if (!isnan(r->incident_share)) snprintf(share, sizeof share, "%.9g", r->incident_share);
    if (p->json) {
        json_t *o = json_pack("{s:s,s:f,s:f,s:f,s:i,s:i,s:i,s:o,s:f,s:f,s:i,s:I}", "id", r->grid,
                              "ratio", r->ratio, "covered_m2", r->covered_m2, "grid_m2", r->grid_m2,
                              "cameras", r->cameras, "incidents", r->incidents, "incidents_seen",
                              r->seen, "incident_share",
                              *share ? json_real(r->incident_share) : json_null(), "room_reach",
                              r->room_reach, "blind_m2", r->blind_m2, "blind_parts", r->blind_parts,
                              "seq", (json_int_t)r->seq);
        char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
        printf("%s\n%s", p->n ? "," : "", t ? t : "null");
        free(t);
        json_decref(o);
    } else {
        printf("%s,%.9g,%.3f,%.3f,%d,%d,%d,%s,%.9g,%.3f,%d,%lld\n", r->grid, r->ratio,
               r->covered_m2, r->grid_m2, r->cameras, r->incidents, r->seen, share, r->room_reach,
               r->blind_m2, r->blind_parts, (long long)r->seq);
    }
    p->n++;
    return 0;
}

static int print_rows(gw_store *store, const char *grid, int json)
{
    printer p = {json, 0};
    if (json) fputs("[", stdout);
    else
        puts(
            "id,ratio,covered_m2,grid_m2,cameras,incidents,incidents_seen,incident_share,room_reach,blind_m2,blind_parts,seq");
    gw_status st = gw_store_coverage_read(store, grid, 0, print_row, &p, NULL);
    if (json) fputs("]\n", stdout);
    if (st) return gw_cli_fail("coverage", gw_store_ctx(store), st);
    if (grid && !p.n) {
        fprintf(stderr, _("gridwatch coverage: no coverage for grid '%s' in %s\n"), grid,
                gw_store_path(store));
        return GW_EXIT_INPUT;
    }
    return GW_EXIT_OK;
}

int gw_cmd_coverage(int argc, char **argv)
{
    const char *db = NULL, *grid = NULL, *format = "csv", *from = NULL, *to = NULL;
    int recompute = 0;
    gw_coverage_opts o = {.min_blind_m2 = -1, .blind_spots = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return fputs(_(usage), stdout), GW_EXIT_OK;
        if (strcmp(a, "--recompute") == 0) recompute = 1;
        else if (strcmp(a, "--no-blind") == 0) o.blind_spots = 0;
        else if (strcmp(a, "--grid") == 0 && v) grid = v, i++;
        else if (strcmp(a, "--format") == 0 && v) format = v, i++;
        else if (strcmp(a, "--from") == 0 && v) from = v, i++;
        else if (strcmp(a, "--to") == 0 && v) to = v, i++;
        else if (strcmp(a, "--min-blind") == 0 && v && !gw_parse_double(v, &o.min_blind_m2) &&
                 o.min_blind_m2 >= 0)
            i++;
        else if (strcmp(a, "--room-dist") == 0 && v && !gw_parse_double(v, &o.room_dist_m) &&
                 o.room_dist_m > 0)
            i++;
        else if (strcmp(a, "--threads") == 0 && v && (o.threads = atoi(v)) > 0 && o.threads <= 64)
            i++;
        else if (a[0] == '-')
            return gw_cli_usage_error("coverage",
                                      "unknown, incomplete or invalid option '%s' (see --help)", a);
        else if (!db) db = a;
        else return gw_cli_usage_error("coverage", "unexpected argument '%s' (see --help)", a);
    }
    if (!db) return gw_cli_usage_error("coverage", "expected DB (see --help)");
    if (strcmp(format, "csv") && strcmp(format, "json"))
        return gw_cli_usage_error("coverage", "--format must be csv or json, not '%s'", format);
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx)) return gw_cli_fail("coverage", NULL, GW_ERR_NOMEM);
    gw_cli_progress prog;
    gw_cli_progress_init(&prog);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, &prog);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, NULL);
    gw_status st = GW_OK;
    if (from) st = gw_time_parse(ctx, from, NULL, &o.t_from);
    if (!st && to) st = gw_time_parse(ctx, to, NULL, &o.t_to);
    if (!st && (from || to) && !to) o.t_to = INT64_MAX / 2;
    if (st) {
        int rc = gw_cli_usage_error("coverage", "%s", gw_ctx_errmsg(ctx));
        gw_ctx_destroy(ctx);
        return rc;
    }
    gw_store *store = NULL;
    st = gw_store_open(ctx, db, 0, &store);
    int64_t last = 0, have = -1;
    if (!st) st = gw_store_last_seq(store, &last);
    if (!st && (recompute || !stored_seq(store, &have) || have != last || from || to)) {
        gw_model *model = NULL;
        gw_coverage *cov = NULL;
        double t0 = gw_mono_s();
        st = gw_model_open(ctx, store, &model);
        double t1 = gw_mono_s(), c1 = cpu_now();
        if (!st) st = gw_coverage_compute(ctx, model, gw_model_acquire(model), &o, &cov);
        double t2 = gw_mono_s(), c2 = cpu_now();
        gw_cli_progress_end(&prog);
        if (!st) st = gw_coverage_save(ctx, cov, store, NULL);
        double t3 = gw_mono_s();
        if (!st)
            fprintf(
                stderr,
                "gridwatch coverage: %zu grids: model %.2f s, coverage %.2f s (%d threads; cpu %.2f s), "
                "saved %.2f s\n",
                gw_coverage_count(cov), t1 - t0, t2 - t1, gw_coverage_get_opts(cov)->threads,
                c2 - c1, t3 - t2);
        gw_coverage_destroy(ctx, cov);
        gw_model_close(model);
    }
    int rc = st ? gw_cli_fail("coverage", ctx, st)
                : print_rows(store, grid, strcmp(format, "json") == 0);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}
