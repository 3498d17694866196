/* cmd_juris.c — `gridwatch jurisdictions`: list the prefecture/county/township/village hierarchy
 * of the published grids (geo/juris over the model), and `jurisdictions import` a CSV table of
 * grid -> jurisdiction onto them in one transaction. */
#include "cli_util.h"
#include "commands.h"

#include "gridwatch/juris.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char juris_usage[] = N_(
    "usage: gridwatch jurisdictions DB [--level N] [--parent PATH] [--json]\n"
    "       gridwatch jurisdictions import DB FILE.csv\n"
    "\n"
    "A grid's jurisdiction is its prefecture, county, township and village fields; its path is\n"
    "the non-empty ones joined by '/' (菏泽市/牡丹区/城关街道/和平社区), its level the number of\n"
    "parts (1 prefecture, 2 county, 3 township, 4 village).  Without a verb, list every\n"
    "jurisdiction of the published grids by path: level, grids, population, area (km², planar in\n"
    "the database's metric CRS) and path; --json prints the same as GET /jurisdictions.\n"
    "  --level N      only jurisdictions of level N (1-4)\n"
    "  --parent PATH  only the jurisdictions directly under PATH ('' = the level-1 ones)\n"
    "\n"
    "'import' sets the fields of the published grids from a CSV file with a header row naming\n"
    "grid_id (or id) and any of prefecture, county, township, village.  A column left out keeps\n"
    "that field; an empty cell clears it.  One transaction: an unknown grid id (the first few are\n"
    "named), a name containing '/', a grid listed twice or a malformed file refuses the whole\n"
    "file and nothing changes.  A running server sees the change like any grid edit.\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 file refused (format, unknown grid, name)\n");

static int open_db(const char *db, int flags, gw_ctx **ctx, gw_store **s)
{
    if (gw_ctx_create(ctx) != GW_OK) {
        fprintf(stderr, _("gridwatch jurisdictions: out of memory\n"));
        return GW_EXIT_RUNTIME;
    }
    gw_ctx_set_warn(*ctx, gw_cli_warn_cb, NULL);
    gw_status st = gw_store_open(*ctx, db, flags, s);
    if (st) {
        int rc = gw_cli_fail("jurisdictions", *ctx, st);
        gw_ctx_destroy(*ctx);
        return rc == GW_EXIT_OK ? GW_EXIT_RUNTIME : rc;
    }
    return GW_EXIT_OK;
}

static int run_import(const char *db, const char *file)
{
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    int rc = open_db(db, 0, &ctx, &s);
    if (rc) return rc;
    size_t n = 0;
    gw_status st = gw_juris_import_csv(s, file, "gridwatch jurisdictions import", &n, NULL);
    if (st) {
        rc = gw_cli_fail("jurisdictions", ctx, st);
        if (st == GW_ERR_NOT_FOUND || st == GW_ERR_ARG) rc = GW_EXIT_INPUT;
    } else {
        fprintf(stderr, _("gridwatch jurisdictions: set the jurisdiction of %zu grid%s\n"), n,
                n == 1 ? "" : "s");
    }
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}

static json_t *juris_json(const gw_juris *j)
{
    return json_pack("{s:s,s:i,s:s,s:s,s:I,s:I,s:f}", "path", j->path, "level", j->level, "name",
                     j->name, "parent", j->parent, "grids", (json_int_t)j->grids, "population",
                     (json_int_t)j->population, "area_km2", round(j->area_km2 * 1e4) / 1e4);
}

static void print_list(const gw_juris_list *l, int level, const char *parent, int as_json)
{
    if (as_json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < l->n; i++)
            if (gw_juris_match(&l->items[i], level, parent))
                json_array_append_new(arr, juris_json(&l->items[i]));
        char crs[32];
        snprintf(crs, sizeof crs, "EPSG:%d", l->metric_srid);
        json_t *doc = json_pack("{s:o,s:s,s:s,s:I}", "jurisdictions", arr, "metric_crs", crs,
                                "area", "planar area of the grids in the metric CRS, km²",
                                "unassigned_grids", (json_int_t)l->unassigned);
        json_dumpf(doc, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(doc);
        return;
    }
    printf("%-5s %8s %12s %12s  %s\n", "level", "grids", "population", "area_km2", "path");
    for (size_t i = 0; i < l->n; i++) {
        const gw_juris *j = &l->items[i];
        if (gw_juris_match(j, level, parent))
            printf("%-5d %8lld %12lld %12.3f  %s\n", j->level, (long long)j->grids,
                   (long long)j->population, j->area_km2, j->path);
    }
    if (l->unassigned)
        fprintf(stderr, _("gridwatch jurisdictions: %lld grid%s no jurisdiction field set\n"),
                (long long)l->unassigned, l->unassigned == 1 ? " has" : "s have");
}

static int run_list(const char *db, int level, const char *parent, int as_json)
{
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    int rc = open_db(db, GW_STORE_READONLY, &ctx, &s);
    if (rc) return rc;
    gw_model *m = NULL;
    gw_juris_list list = {0};
    gw_status st = gw_model_open(ctx, s, &m);
    if (!st) {
        gw_model_snapshot *snap = gw_model_acquire(m);
        st = gw_juris_list_build(ctx, snap, gw_model_metric_srid(m), &list);
        gw_model_release(ctx, snap);
    }
    int known = !parent || !*parent;
    for (size_t i = 0; !st && !known && i < list.n; i++)
        known = strcmp(list.items[i].path, parent) == 0;
    if (st) {
        rc = gw_cli_fail("jurisdictions", ctx, st);
    } else if (!known) {
        fprintf(stderr,
                _("gridwatch jurisdictions: no jurisdiction '%s' among the published grids\n"),
                parent);
        rc = GW_EXIT_INPUT;
    } else {
        print_list(&list, level, parent, as_json);
    }
    gw_juris_list_free(&list);
    gw_model_close(m);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}

int gw_cmd_jurisdictions(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(_(juris_usage), stdout);
            return GW_EXIT_OK;
        }
    if (argc > 1 && strcmp(argv[1], "import") == 0) {
        if (argc != 4)
            return gw_cli_usage_error("jurisdictions",
                                      "jurisdictions import takes DB and FILE (see --help)");
        return run_import(argv[2], argv[3]);
    }
    const char *db = NULL, *parent = NULL;
    int level = 0, as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--level") == 0 && v) {
            char *end = NULL;
            long l = strtol(v, &end, 10);
            if (!*v || *end || l < 1 || l > 4)
                return gw_cli_usage_error("jurisdictions",
                                          "--level must be 1 (prefecture), 2 (county), 3 "
                                          "(township) or 4 (village), not '%s'",
                                          v);
            level = (int)l, i++;
        } else if (strcmp(a, "--parent") == 0 && v) {
            parent = v, i++;
        } else if (strcmp(a, "--json") == 0) {
            as_json = 1;
        } else if (a[0] == '-' && a[1]) {
            return gw_cli_usage_error("jurisdictions",
                                      "unknown or incomplete option '%s' (see "
                                      "--help)",
                                      a);
        } else if (!db) {
            db = a;
        } else {
            return gw_cli_usage_error("jurisdictions", "unexpected argument '%s' (see --help)", a);
        }
    }
    if (!db) return gw_cli_usage_error("jurisdictions", "no database given (see --help)");
    return run_list(db, level, parent, as_json);
}
