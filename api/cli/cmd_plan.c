/* cmd_plan.c — `gridwatch plan …` and `gridwatch plan suggest`: drafts of the grid layout on
 * the command line — create, import, edit, validate, balance, diff, publish, roll back. */
#include "cli_util.h"
#include "commands.h"
#include "http_util.h"

#include "gridwatch/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char plan_usage[] = N_(
    "usage: gridwatch plan <sub-command> DB [arguments] [options]\n"
    "\n"
    "Grid planning: drafts of the grid set, edits that keep the tiling whole, validation,\n"
    "publishing a draft as a new grid version and rolling back.\n"
    "\n"
    "  create DB NAME             make a draft of the published grids; prints its id\n"
    "  list DB                    list drafts\n"
    "  show DB ID                 one draft\n"
    "  diff DB ID                 grids the draft added, changed, deleted\n"
    "  edit DB ID EDIT            apply an edit (JSON text, or @file), e.g.\n"
    "                             '{\"op\":\"merge\",\"grids\":[\"A\",\"B\"]}'; ops: split, merge,\n"
    "                             move_boundary, reassign, attributes\n"
    "  import DB ID FILE          replace the draft's grids by a layout from a GIS file\n"
    "                             (GeoPackage, Shapefile, GeoJSON, DXF, or a .zip of one)\n"
    "  validate DB ID             validation report of a draft (GeoJSON on stdout)\n"
    "  validate DB --version N    … of a grid version\n"
    "  balance DB ID              workload per grid and its spread, draft beside base\n"
    "  publish DB ID [--force]    publish the draft as the next grid version (prints the time)\n"
    "  rollback DB N              publish a copy of version N as the next version\n"
    "  versions DB                list grid versions\n"
    "  delete DB ID               delete a draft\n"
    "  suggest DB ID [--target incidents|population] [--max-cv X] [--max-edits N]\n"
    "                             a new draft: ID split and merged toward an even workload\n"
    "                             (see gridwatch plan suggest --help)\n"
    "\n"
    "options: --by NAME (who, for the audit log; default $USER), --min-area M2, --max-area M2,\n"
    "         --map id=FIELD,… (import: source fields for the grid fields; a DXF needs id=…),\n"
    "         --tol M2 (validation thresholds), --summary (validate: only the counts)\n"
    "exit codes: 0 ok (validate: the layout tiles), 1 runtime error, 2 usage, 3 edit refused or\n"
    "            layout does not tile, 4 conflict (published or stale draft)\n");

static char *read_arg(const char *a)
{
    if (a[0] != '@') return strdup(a);
    FILE *f = fopen(a + 1, "rb");
    if (!f) return NULL;
    gw_buf b = {0};
    char tmp[4096];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) gw_buf_add(&b, tmp, k);
    fclose(f);
    gw_buf_add(&b, "", 0);
    return b.data ? b.data : strdup("");
}

static int cli_suggest(int argc, char **argv);

int gw_cmd_plan(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "suggest") == 0) return cli_suggest(argc, argv);
    const char *sub = argc > 1 ? argv[1] : NULL, *pos[4] = {0}, *by = getenv("USER"), *map = NULL;
    int npos = 0, force = 0, summary = 0;
    int64_t version = 0;
    gw_plan_validate_opts vo = {0};
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(_(plan_usage), stdout);
            return GW_EXIT_OK;
        }
    if (!sub) return gw_cli_usage_error("plan", "expected a sub-command (see --help)");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double *num = strcmp(a, "--min-area") == 0   ? &vo.min_area_m2
                      : strcmp(a, "--max-area") == 0 ? &vo.max_area_m2
                      : strcmp(a, "--tol") == 0      ? &vo.tol_m2
                                                     : NULL;
        if (strcmp(a, "--force") == 0) force = 1;
        else if (strcmp(a, "--summary") == 0) summary = 1;
        else if (strcmp(a, "--by") == 0 && v) by = v, i++;
        else if (strcmp(a, "--map") == 0 && v) map = v, i++;
        else if (strcmp(a, "--version") == 0 && v) {
            if (gw_parse_int64(v, &version) || version < 1)
                return gw_cli_usage_error("plan", "--version needs a positive integer, not '%s'",
                                          v);
            i++;
        } else if (num && v) {
            if (gw_parse_double(v, num) || *num < 0)
                return gw_cli_usage_error("plan", "%s needs a non-negative number, not '%s'", a, v);
            i++;
        } else if (a[0] == '-' && a[1]) {
            return gw_cli_usage_error("plan", "unknown or incomplete option '%s' (see --help)", a);
        } else if (npos < 4) {
            pos[npos++] = a;
        } else {
            return gw_cli_usage_error("plan", "unexpected argument '%s' (see --help)", a);
        }
    }
    static const struct {
        const char *name;
        int args; /* positional arguments after DB */
    } subs[] = {{"create", 1},  {"list", 0},     {"show", 1},      {"diff", 1},
                {"edit", 2},    {"import", 2},   {"validate", -1}, {"balance", 1},
                {"publish", 1}, {"rollback", 1}, {"versions", 0},  {"delete", 1}};
    int k = -1;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (strcmp(sub, subs[i].name) == 0) k = (int)i;
    if (k < 0) return gw_cli_usage_error("plan", "unknown sub-command '%s' (see --help)", sub);
    int want = subs[k].args < 0 ? (version ? 0 : 1) : subs[k].args;
    if (npos != 1 + want)
        return gw_cli_usage_error("plan", "plan %s takes DB and %d more argument%s (see --help)",
                                  sub, want, want == 1 ? "" : "s");
    int64_t id = 0;
    if (want >= 1 && strcmp(sub, "create") != 0 && (gw_parse_int64(pos[1], &id) || id < 1))
        return gw_cli_usage_error("plan", "plan %s: '%s' is not a draft id / version number", sub,
                                  pos[1]);
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return GW_EXIT_RUNTIME;
    int ro = strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0 || strcmp(sub, "diff") == 0 ||
             strcmp(sub, "validate") == 0 || strcmp(sub, "balance") == 0 ||
             strcmp(sub, "versions") == 0;
    gw_status st = gw_store_open(ctx, pos[0], ro ? GW_STORE_READONLY : 0, &s);
    if (st == GW_ERR_SCHEMA && ro) { /* an older file: open read-write to migrate it */
        gw_ctx_clear_error(ctx);
        st = gw_store_open(ctx, pos[0], 0, &s);
    }
    int rc = GW_EXIT_OK;
    char *js = NULL;
    if (!st) {
        if (strcmp(sub, "create") == 0) {
            if (!(st = gw_plan_draft_create(s, pos[1], by, &id))) printf("%lld\n", (long long)id);
        } else if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
            gw_plan_draft *d = NULL, one;
            size_t n = 0;
            if (strcmp(sub, "show") == 0) st = gw_plan_draft_get(s, id, &one), d = &one, n = 1;
            else st = gw_plan_draft_list(s, &d, &n);
            for (size_t i = 0; !st && i < n; i++)
                printf("%lld\t%s\tbase %lld\t%s\t%lld edits\t%lld grids changed\t%s\t%s\n",
                       (long long)d[i].id, d[i].name, (long long)d[i].base_version, d[i].status,
                       (long long)d[i].edits, (long long)d[i].changed, d[i].created_by,
                       d[i].updated_at);
            if (d != &one) free(d);
        } else if (strcmp(sub, "diff") == 0) {
            st = gw_plan_draft_diff(s, id, &js);
        } else if (strcmp(sub, "edit") == 0) {
            char *e = read_arg(pos[2]);
            if (!e) st = gw_ctx_error(ctx, GW_ERR_IO, "cannot read the edit file %s", pos[2] + 1);
            else st = gw_plan_edit(s, id, e, strlen(e), by, &js);
            free(e);
        } else if (strcmp(sub, "import") == 0) {
            size_t n = 0;
            if (!(st = gw_plan_draft_import_mapped(s, id, pos[2], map, by, &n)))
                printf("%zu grids in draft %lld\n", n, (long long)id);
        } else if (strcmp(sub, "validate") == 0) {
            gw_plan_report r = {0};
            st = version ? gw_plan_validate_version(s, version, &vo, &r)
                         : gw_plan_validate_draft(s, id, &vo, &r);
            if (!st) {
                if (summary)
                    printf(
                        "%zu grids: %zu invalid, %zu overlaps (%.3f m²), %zu gaps (%.3f m²), %zu "
                        "outside, %zu multipart, %zu slivers, %zu oversize; %s (%.3f s)\n",
                        r.grids, r.invalid, r.overlaps, r.overlap_m2, r.gaps, r.gap_m2, r.outside,
                        r.multipart, r.slivers, r.oversize, r.tiles ? "tiles" : "DOES NOT TILE",
                        r.seconds);
                else puts(r.geojson);
                if (!r.tiles) rc = GW_EXIT_INPUT;
            }
            gw_plan_report_free(&r);
        } else if (strcmp(sub, "balance") == 0) {
            st = gw_plan_balance(s, id, &js);
        } else if (strcmp(sub, "publish") == 0 || strcmp(sub, "rollback") == 0) {
            int64_t v = 0;
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            st = sub[0] == 'p' ? gw_plan_publish(s, id, by, force, &v, NULL)
                               : gw_plan_rollback(s, id, by, &v, NULL);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (!st)
                printf("grid version %lld published (%.3f s)\n", (long long)v,
                       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        } else if (strcmp(sub, "versions") == 0) {
            st = gw_plan_versions(s, &js);
        } else {
            st = gw_plan_draft_delete(s, id, by);
        }
    }
    if (js) puts(js);
    free(js);
    if (st) rc = gw_cli_fail("plan", ctx, st);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}

/* ---- gridwatch plan suggest ---------------------------------------------------------------- */

static const char suggest_usage[] = N_(
    "usage: gridwatch plan suggest DB DRAFT [--target incidents|population] [--max-cv X]\n"
    "                              [--max-edits N] [--min-compactness PP] [--by NAME]\n"
    "\n"
    "Make a NEW draft \"<name> \xe2\x80\x93 suggestion\" from DRAFT (left unchanged) and edit it\n"
    "toward an even workload: split the heaviest grids (a line across the principal axis of their\n"
    "incidents, or of their area for population, at the best-balancing offset) and merge the\n"
    "lightest with their lightest neighbour (same township and village, merged load under the\n"
    "mean, compactness kept), each edit through the ordinary edit engine, until the target's\n"
    "coefficient of variation is at most X, no edit helps, or N edits are made.\n"
    "Prints the new draft id, the CV before and after, and the edits made, as JSON.\n"
    "\n"
    "  --target T          incidents (of the balance window, default) or population\n"
    "  --max-cv X          stop at this CV (default 0.5)\n"
    "  --max-edits N       at most N edits (default 50, up to 100000)\n"
    "  --min-compactness P Polsby-Popper floor for merged grids and split pieces (default 0.2)\n"
    "  --by NAME           who, for the audit log (default $USER)\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage, 3 bad input, 4 conflict (stale draft)\n");

static int cli_suggest(int argc, char **argv)
{
    gw_plan_suggest_opts o = {.target = "incidents",
                              .max_cv = 0.5,
                              .max_edits = 50,
                              .who = getenv("USER")};
    const char *pos[2] = {0};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(_(suggest_usage), stdout);
            return GW_EXIT_OK;
        } else if (strcmp(a, "--target") == 0 && v) {
            if (strcmp(v, "incidents") != 0 && strcmp(v, "population") != 0)
                return gw_cli_usage_error("plan",
                                          "--target must be incidents or population, "
                                          "not '%s'",
                                          v);
            o.target = v, i++;
        } else if (strcmp(a, "--max-cv") == 0 && v) {
            if (gw_parse_double(v, &o.max_cv) || !(o.max_cv >= 0))
                return gw_cli_usage_error("plan", "--max-cv needs a number >= 0, not '%s'", v);
            i++;
        } else if (strcmp(a, "--max-edits") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1 || n > 100000)
                return gw_cli_usage_error("plan",
                                          "--max-edits needs an integer 1 to 100000, "
                                          "not '%s'",
                                          v);
            o.max_edits = (int)n, i++;
        } else if (strcmp(a, "--min-compactness") == 0 && v) {
            if (gw_parse_double(v, &o.min_compactness) || !(o.min_compactness >= 0) ||
                o.min_compactness >= 1)
                return gw_cli_usage_error("plan",
                                          "--min-compactness needs a number in [0, 1), "
                                          "not '%s'",
                                          v);
            i++;
        } else if (strcmp(a, "--by") == 0 && v) {
            o.who = v, i++;
        } else if (a[0] == '-' && a[1]) {
            return gw_cli_usage_error("plan",
                                      "suggest: unknown or incomplete option '%s' (see "
                                      "gridwatch plan suggest --help)",
                                      a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return gw_cli_usage_error("plan", "suggest: unexpected argument '%s'", a);
        }
    }
    int64_t id = 0;
    if (npos != 2) return gw_cli_usage_error("plan", "suggest takes DB and DRAFT (see --help)");
    if (gw_parse_int64(pos[1], &id) || id < 1)
        return gw_cli_usage_error("plan", "suggest: '%s' is not a draft id", pos[1]);
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return GW_EXIT_RUNTIME;
    gw_status st = gw_store_open(ctx, pos[0], 0, &s);
    char *js = NULL;
    if (!st) st = gw_plan_suggest(s, id, &o, &js);
    int rc = GW_EXIT_OK;
    if (js) puts(js);
    free(js);
    if (st) rc = gw_cli_fail("plan", ctx, st);
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
