/* cmd_data.c — the data commands: init, import, export, gen-city, stats.
 *
 * Each parses its options, opens the store, calls one engine function and reports. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli_util.h"
#include "commands.h"
#include "gridwatch/city.h"
#include "gridwatch/crs.h"
#include "gridwatch/io.h"
#include "gridwatch/store.h"
#include "gridwatch/store_features.h"

/* A context with the terminal's progress bar and warnings wired in. */
static gw_ctx *cli_ctx(gw_cli_progress *p)
{
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) {
        fprintf(stderr, _("gridwatch: out of memory\n"));
        return NULL;
    }
    gw_cli_progress_init(p);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, p);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, p);
    return ctx;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

/* ---- init ---------------------------------------------------------------------------- */

static const char init_help[] = N_(
    "usage: gridwatch init DB [--tz ZONE]\n"
    "\n"
    "Create an empty gridwatch database: a SpatiaLite file with the five layers (grids,\n"
    "police_rooms, cameras, teams, incidents), grid versions, the audit log and the change log.\n"
    "An existing gridwatch database is migrated to this build's schema and otherwise left as is.\n"
    "\n"
    "options:\n"
    "  --tz ZONE   the database's default zone (Asia/Shanghai, +08:00, UTC): imports read times\n"
    "              without a UTC offset in it when they give no --tz, and say so.  Without it\n"
    "              such a time stops the import.  --tz '' removes the default\n");

int gw_cmd_init(int argc, char **argv)
{
    if (wants_help(argc, argv)) return fputs(_(init_help), stdout), GW_EXIT_OK;
    static const struct option opts[] = {{"tz", required_argument, 0, 't'}, {0, 0, 0, 0}};
    const char *tz = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 't') tz = optarg;
        else
            return gw_cli_usage_error("init", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
    }
    if (argc - optind != 1)
        return gw_cli_usage_error("init", "expected exactly one argument, the database file");
    const char *db = argv[optind];
    gw_cli_progress p;
    gw_ctx *ctx = cli_ctx(&p);
    if (!ctx) return GW_EXIT_RUNTIME;
    gw_store *store = NULL;
    gw_status st = GW_OK;
    int64_t probe;
    if (tz && *tz && gw_time_parse(ctx, "2000-01-01T00:00:00", tz, &probe) != GW_OK)
        st = gw_ctx_error(ctx, GW_ERR_ARG,
                          "--tz '%s' is not a time zone (an IANA name such as Asia/Shanghai, an "
                          "offset such as +08:00, or UTC)",
                          tz);
    if (!st) st = gw_store_open(ctx, db, GW_STORE_CREATE, &store);
    if (!st && tz) st = gw_store_meta_set(store, "default_tz", tz);
    int rc = st == GW_OK ? GW_EXIT_OK : gw_cli_fail("init", ctx, st);
    if (st == GW_OK) {
        printf("%s: gridwatch database, schema %d\n", db, gw_store_schema_version(store));
        if (tz && *tz)
            printf("default time zone: %s (imports read times without a UTC offset in it)\n", tz);
        else if (tz)
            printf("no default time zone: a time without a UTC offset stops an import without "
                   "--tz\n");
    }
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}

/* ---- import -------------------------------------------------------------------------- */

static const char import_help[] = N_(
    "usage: gridwatch import DB LAYER FILE [options]\n"
    "\n"
    "Import a vector file into a layer (grids, police_rooms, cameras, teams, incidents) in one\n"
    "transaction: if any row is refused, nothing is written.  Formats: GeoJSON, GeoPackage,\n"
    "Shapefile (with .prj), KML, CSV with longitude/latitude columns, DXF — anything GDAL reads.\n"
    "The database is created if it does not exist.\n"
    "\n"
    "options:\n"
    "  --source-layer NAME   layer inside the file (default: the first)\n"
    "  --srs SRS             source CRS: EPSG:4326, EPSG:4490, EPSG:4491..4554, EPSG:3857, gcj02, bd09\n"
    "                        (default: the file's own, else EPSG:4326)\n"
    "  --map F=S,...         map canonical field F from source field S (same-named fields map themselves)\n"
    "                        e.g. --map id=beat_num,name=beat\n"
    "  --tz ZONE             zone of times without a UTC offset (Asia/Shanghai, America/Chicago,\n"
    "                        +08:00, UTC); default: the database's (gridwatch init --tz).  With\n"
    "                        neither, a time with no offset stops the import: the zone is your\n"
    "                        choice, not a guess\n"
    "  --encoding NAME       the file's text encoding: GBK, GB18030, UTF-8, Big5 (any iconv name).\n"
    "                        Without it a Shapefile's .cpg decides; a Shapefile without one and a\n"
    "                        CSV are read as UTF-8 when their bytes are, else as GB18030 (a\n"
    "                        superset of GBK), and the import says so.  Text that does not decode\n"
    "                        stops the import, naming the row: nothing is imported as mojibake\n"
    "  --lon NAME --lat NAME CSV coordinate columns (default, in any case: 经度/longitude/long/lon/\n"
    "                        lng/x and 纬度/latitude/lat/y)\n"
    "  --make-valid          repair invalid polygons instead of refusing them\n"
    "  --replace             empty the layer first (in the same transaction)\n"
    "  --skip-bad-rows       skip rows without usable coordinates instead of failing (counted)\n"
    "\n"
    "Polygon features that share an id become one multipart grid (a warning names the ids).\n"
    "Incidents get their grid resolved from the grids already in the database.\n"
    "\n"
    "LAYER roads takes street centre lines (docs/roads.md): OpenStreetMap .osm.pbf / .osm (the\n"
    "drivable highway classes, oneway, junction=roundabout, maxspeed), or a Shapefile/GeoPackage\n"
    "of lines with --map id=F,name=F,class=F,oneway=F,speed=F (oneway yes/no/1/0/-1/F/T/B,\n"
    "speed \"50\", \"30 mph\"; unset speeds take the class's default).\n"
    "\n"
    "example:\n"
    "  gridwatch import city.db grids police_beats.geojson --map id=beat_num,name=beat\n"
    "  gridwatch import city.db roads aguascalientes.osm.pbf --replace\n"
    "  gridwatch import city.db incidents crimes.csv --map occurred_at=date,category=primary_type --tz America/Chicago\n");

int gw_cmd_import(int argc, char **argv)
{
    if (wants_help(argc, argv)) return fputs(_(import_help), stdout), GW_EXIT_OK;
    static const struct option opts[] = {
        {"source-layer", required_argument, 0, 'l'},
        {"srs", required_argument, 0, 's'},
        {"map", required_argument, 0, 'm'},
        {"tz", required_argument, 0, 't'},
        {"lon", required_argument, 0, 'x'},
        {"lat", required_argument, 0, 'y'},
        {"make-valid", no_argument, 0, 'v'},
        {"replace", no_argument, 0, 'r'},
        {"skip-bad-rows", no_argument, 0, 'k'},
        {"encoding", required_argument, 0, 'e'},
        {0, 0, 0, 0},
    };
    gw_import_opts io = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': io.source_layer = optarg; break;
        case 's': io.srs = optarg; break;
        case 'm': io.map = optarg; break;
        case 't': io.tz = optarg; break;
        case 'x': io.lon_field = optarg; break;
        case 'y': io.lat_field = optarg; break;
        case 'v': io.make_valid = 1; break;
        case 'r': io.replace = 1; break;
        case 'k': io.skip_bad_rows = 1; break;
        case 'e': io.encoding = optarg; break;
        default:
            return gw_cli_usage_error("import", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (argc - optind != 3) return gw_cli_usage_error("import", "expected DB LAYER FILE");
    const char *db = argv[optind], *lname = argv[optind + 1], *file = argv[optind + 2];
    gw_layer layer = GW_LAYER_COUNT; /* GW_LAYER_COUNT: the road layer (gw_io_import_roads) */
    int roads = strcmp(lname, "roads") == 0;
    if (!roads && gw_layer_from_name(lname, &layer) != GW_OK)
        return gw_cli_usage_error(
            "import", "unknown layer '%s' (grids, police_rooms, cameras, teams, incidents, roads)",
            lname);
    gw_cli_progress p;
    gw_ctx *ctx = cli_ctx(&p);
    if (!ctx) return GW_EXIT_RUNTIME;
    gw_store *store = NULL;
    gw_import_report rep = {0};
    gw_status st = gw_store_open(ctx, db, GW_STORE_CREATE, &store);
    if (st == GW_OK)
        st = roads ? gw_io_import_roads(ctx, store, file, &io, &rep)
                   : gw_io_import(ctx, store, layer, file, &io, &rep);
    gw_cli_progress_end(&p);
    int rc = GW_EXIT_OK;
    if (st != GW_OK) {
        rc = gw_cli_fail("import", ctx, st);
    } else {
        printf("imported %" PRId64 " %s from %s in %.2f s (%.0f rows/s)", rep.imported, lname, file,
               rep.seconds, rep.seconds > 0 ? (double)rep.read / rep.seconds : 0.0);
        if (rep.merged) printf(", %" PRId64 " features merged into multipart grids", rep.merged);
        if (rep.repaired) printf(", %" PRId64 " polygons repaired", rep.repaired);
        if (rep.skipped) printf(", %" PRId64 " rows skipped", rep.skipped);
        printf("\n");
        if (rep.encoding_note[0]) printf("%s\n", rep.encoding_note);
        if (rep.local_times)
            printf("%" PRId64 " times without a UTC offset read in %s%s\n", rep.local_times, rep.tz,
                   rep.tz_from_db ? ", the database's default zone (gridwatch init --tz; --tz "
                                    "overrides)"
                                  : " (--tz)");
    }
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}

/* ---- export -------------------------------------------------------------------------- */

static const char export_help[] = N_(
    "usage: gridwatch export DB LAYER FILE [--srs SRS] [--encoding NAME] [--format DRIVER]\n"
    "                                      [--legacy-geojson]\n"
    "\n"
    "Export a layer.  The format follows the extension: .geojson/.json (RFC 7946: lon/lat WGS84,\n"
    "no \"crs\" member, 7 decimals), .gpkg, .shp, .csv, .kml, .dxf (outlines and points, no\n"
    "attributes), unless --format names a GDAL driver.  An existing file is replaced.\n"
    "\n"
    "options:\n"
    "  --srs SRS          the file's CRS, as import reads it: EPSG:4326 (default), EPSG:4490,\n"
    "                     a CGCS2000 3-degree zone EPSG:4513..4554 (4547 = 114E, 4548 = 117E),\n"
    "                     EPSG:3857, gcj02, bd09 (these two write no CRS: none describes them).\n"
    "                     GeoJSON and KML are EPSG:4326 only (refused otherwise)\n"
    "  --encoding NAME    Shapefile/CSV text: UTF-8 (default), GBK, GB18030 (a .cpg says which);\n"
    "                     a value with a character GBK lacks stops the export, naming it\n"
    "  --legacy-geojson   GeoJSON 2008 in --srs, with a \"crs\" member (for old tools only)\n");

int gw_cmd_export(int argc, char **argv)
{
    if (wants_help(argc, argv)) return fputs(_(export_help), stdout), GW_EXIT_OK;
    static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                         {"srs", required_argument, 0, 's'},
                                         {"encoding", required_argument, 0, 'e'},
                                         {"legacy-geojson", no_argument, 0, 'L'},
                                         {0, 0, 0, 0}};
    gw_export_opts eo = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f': eo.format = optarg; break;
        case 's': eo.srs = optarg; break;
        case 'e': eo.encoding = optarg; break;
        case 'L': eo.legacy_geojson = 1; break;
        default:
            return gw_cli_usage_error("export", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (argc - optind != 3) return gw_cli_usage_error("export", "expected DB LAYER FILE");
    const char *db = argv[optind], *lname = argv[optind + 1], *file = argv[optind + 2];
    gw_layer layer;
    if (gw_layer_from_name(lname, &layer) != GW_OK)
        return gw_cli_usage_error(
            "export", "unknown layer '%s' (grids, police_rooms, cameras, teams, incidents)", lname);
    gw_cli_progress p;
    gw_ctx *ctx = cli_ctx(&p);
    if (!ctx) return GW_EXIT_RUNTIME;
    gw_store *store = NULL;
    int64_t n = 0;
    gw_status st = gw_store_open(ctx, db, GW_STORE_READONLY, &store);
    if (st == GW_OK) st = gw_io_export_with(ctx, store, layer, file, &eo, &n);
    gw_cli_progress_end(&p);
    int rc = st == GW_OK ? GW_EXIT_OK : gw_cli_fail("export", ctx, st);
    if (st == GW_OK) {
        char cn[32] = "EPSG:4326";
        gw_crs sc;
        if (eo.srs && gw_crs_parse(ctx, eo.srs, &sc) == GW_OK) gw_crs_format(sc, cn, sizeof cn);
        printf("exported %" PRId64 " %s to %s (%s%s%s)\n", n, lname, file, cn,
               eo.encoding ? ", " : "", eo.encoding ? eo.encoding : "");
    }
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}

/* ---- gen-city ------------------------------------------------------------------------ */

static const char gen_help[] = N_(
    "usage: gridwatch gen-city DB [--scale F] [--seed N] [--region FILE] [--prefectures N]\n"
    "                             [--truth FILE | --no-truth]\n"
    "\n"
    "Generate the synthetic Heze-like prefecture into a new or empty database: at scale 1,\n"
    "12,864 grids tiling the region, 250,000 cameras, 1,150 police rooms, 6,136 patrol teams and\n"
    "1,000,000 incidents over one year, a quarter of them in 40 compact planted hotspots that are\n"
    "stable, emerging, fading, growing, seasonal or a short burst.  The same seed and scale give\n"
    "the same city and the same truth.\n"
    "\n"
    "The ground truth of the planted hotspots (centre, spread, profile, expected trend, incidents\n"
    "per month; GeoJSON, see docs/hotspots.md) is written to DB.truth.geojson (for a\n"
    "postgresql://…/NAME database: ./NAME.truth.geojson) once the city is\n"
    "committed.\n"
    "\n"
    "options:\n"
    "  --scale F      size relative to Heze (default 1; 0.05 generates in seconds; at most 4)\n"
    "  --seed N       random seed (default 1)\n"
    "  --region FILE  outline polygons (any GDAL vector file, EPSG:4326); each polygon is a county\n"
    "                 at the top of the grid hierarchy (default: a built-in region around 115.48E 35.24N)\n"
    "  --prefectures N  a province of N prefectures (1-16, default 1), each a copy of the region's\n"
    "                 outline with its own contents at the given scale, side by side without\n"
    "                 touching; ids start with the prefecture (P03-C000001) and so does the grids'\n"
    "                 county (\"P03 牡丹区\"); N = 16 at scale 1: about 206,000 grids, 4,000,000\n"
    "                 cameras and 16,000,000 incidents\n"
    "  --truth FILE   write the ground truth to FILE instead of DB.truth.geojson\n"
    "  --no-truth     do not write the ground truth\n");

int cli_gen_city(const char *db, double scale, int prefectures, uint64_t seed, const char *region,
                 const char *truth, int quiet)
{
    gw_cli_progress p;
    gw_ctx *ctx = cli_ctx(&p);
    if (!ctx) return GW_EXIT_RUNTIME;
    gw_store *store = NULL;
    gw_city_opts o = {
        .scale = scale, .seed = seed, .region = region, .truth = truth, .prefectures = prefectures};
    gw_city_report rep = {0};
    gw_status st = gw_store_open(ctx, db, GW_STORE_CREATE, &store);
    if (st == GW_OK) st = gw_city_generate(ctx, store, &o, &rep);
    gw_cli_progress_end(&p);
    int rc = st == GW_OK ? GW_EXIT_OK : gw_cli_fail("gen-city", ctx, st);
    if (st == GW_OK && !quiet) {
        printf("generated %s in %.1f s: %" PRId64 " grids over %.0f km², %" PRId64
               " police rooms, %" PRId64 " cameras, %" PRId64 " teams, %" PRId64 " incidents\n",
               db, rep.seconds, rep.grids, rep.region_km2, rep.police_rooms, rep.cameras, rep.teams,
               rep.incidents);
        if (truth) printf("ground truth of the planted hotspots: %s\n", truth);
    }
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return rc;
}

int gw_cmd_gen_city(int argc, char **argv)
{
    if (wants_help(argc, argv)) return fputs(_(gen_help), stdout), GW_EXIT_OK;
    static const struct option opts[] = {{"scale", required_argument, 0, 's'},
                                         {"seed", required_argument, 0, 'n'},
                                         {"region", required_argument, 0, 'r'},
                                         {"truth", required_argument, 0, 't'},
                                         {"no-truth", no_argument, 0, 'T'},
                                         {"prefectures", required_argument, 0, 'p'},
                                         {0, 0, 0, 0}};
    double scale = 1.0;
    long prefectures = 1;
    uint64_t seed = 1;
    const char *region = NULL, *truth = NULL;
    int c, no_truth = 0;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scale = strtod(optarg, &end);
            if (*end || !(scale > 0 && scale <= 4))
                return gw_cli_usage_error("gen-city",
                                          "--scale must be a number in (0, 4], not '%s'", optarg);
            break;
        case 'n':
            seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg)
                return gw_cli_usage_error("gen-city", "--seed must be a whole number, not '%s'",
                                          optarg);
            break;
        case 'r': region = optarg; break;
        case 'p':
            prefectures = strtol(optarg, &end, 10);
            if (*end || !*optarg || prefectures < 1 || prefectures > GW_CITY_MAX_PREFECTURES)
                return gw_cli_usage_error("gen-city",
                                          "--prefectures must be a whole number in [1, %d], not "
                                          "'%s'",
                                          GW_CITY_MAX_PREFECTURES, optarg);
            break;
        case 't':
            if (!*optarg) return gw_cli_usage_error("gen-city", "--truth needs a file name");
            truth = optarg;
            break;
        case 'T': no_truth = 1; break;
        default:
            return gw_cli_usage_error("gen-city", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return gw_cli_usage_error("gen-city", "expected exactly one database file");
    if (truth && no_truth)
        return gw_cli_usage_error("gen-city", "--truth and --no-truth exclude each other");
    const char *db = argv[optind];
    char *deflt = NULL;
    if (!truth && !no_truth) {
        size_t len = strlen(db) + sizeof ".truth.geojson";
        if (!(deflt = malloc(len)))
            return fprintf(stderr, _("gridwatch: out of memory\n")), GW_EXIT_RUNTIME;
        snprintf(deflt, len, "%s.truth.geojson", db);
        if (gw_store_is_postgres(db)) { /* no file beside a database server: ./NAME.truth.geojson */
            const char *name = strrchr(db, '/') + 1;
            size_t n = strcspn(name, "?");
            snprintf(deflt, len, "%.*s.truth.geojson", (int)n, n ? name : "gridwatch");
        }
        truth = deflt;
    }
    int rc = cli_gen_city(db, scale, (int)prefectures, seed, region, truth, 0);
    free(deflt);
    return rc;
}

/* ---- stats --------------------------------------------------------------------------- */

static const char stats_help[] = N_(
    "usage: gridwatch stats DB [--json]\n"
    "\n"
    "Print what the database holds: rows per layer, extent, metric CRS, time span of the\n"
    "incidents, top categories, camera and team status, grid area and population.\n");

static int add_group(void *user, const char *key, int64_t n)
{
    json_object_set_new(user, key ? key : "(none)", json_integer(n));
    return 0;
}

static json_t *group_counts(gw_store *store, gw_layer layer, const char *field, int limit)
{
    json_t *o = json_object();
    if (gw_store_features_groups(store, layer, field, limit, add_group, o))
        gw_ctx_clear_error(gw_store_ctx(store));
    return o;
}

static json_t *collect_stats(gw_store *store, const char *path)
{
    json_t *root = json_object();
    struct stat sb;
    json_object_set_new(root, "database", json_string(path));
    json_object_set_new(root, "bytes",
                        json_integer(stat(path, &sb) == 0 ? (json_int_t)sb.st_size : 0));
    json_object_set_new(root, "schema", json_integer(gw_store_schema_version(store)));
    int srid = 0;
    gw_store_metric_srid(store, &srid);
    json_object_set_new(root, "metric_srid", json_integer(srid));
    int64_t seq = 0;
    gw_store_last_seq(store, &seq);
    json_object_set_new(root, "change_seq", json_integer(seq));
    json_t *layers = json_object();
    for (int l = 0; l < GW_LAYER_COUNT; l++) {
        json_t *o = json_object();
        int64_t n = 0;
        gw_store_count(store, (gw_layer)l, &n);
        json_object_set_new(o, "count", json_integer(n));
        gw_bbox b;
        if (n > 0 && gw_store_extent(store, (gw_layer)l, &b) == GW_OK)
            json_object_set_new(o, "bbox", json_pack("[ffff]", b.minx, b.miny, b.maxx, b.maxy));
        json_object_set_new(layers, gw_layer_name((gw_layer)l), o);
    }
    gw_store_summary sum;
    gw_store_features_summary(store, srid, &sum);
    json_t *g = json_object_get(layers, "grids");
    json_object_set_new(g, "population", json_integer(sum.population));
    json_object_set_new(g, "households", json_integer(sum.households));
    json_object_set_new(g, "counties", json_integer(sum.counties));
    json_object_set_new(g, "townships", json_integer(sum.townships));
    if (!isnan(sum.area_km2)) json_object_set_new(g, "area_km2", json_real(sum.area_km2));
    json_t *cams = json_object_get(layers, "cameras");
    json_object_set_new(cams, "by_status", group_counts(store, GW_LAYER_CAMERAS, "status", 0));
    json_object_set_new(cams, "domes", json_integer(sum.domes));
    json_object_set_new(json_object_get(layers, "teams"), "by_status",
                        group_counts(store, GW_LAYER_TEAMS, "status", 0));
    json_t *inc = json_object_get(layers, "incidents");
    json_object_set_new(inc, "by_category", group_counts(store, GW_LAYER_INCIDENTS, "category", 8));
    if (sum.has_incidents) {
        json_object_set_new(inc, "first", json_string(sum.first_incident));
        json_object_set_new(inc, "last", json_string(sum.last_incident));
        json_object_set_new(inc, "outside_grids", json_integer(sum.outside_grids));
    }
    json_object_set_new(root, "layers", layers);
    return root;
}

static void print_groups(json_t *o)
{
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach (o, k, v) {
        printf("%s%s %" JSON_INTEGER_FORMAT, first ? "" : ", ", k, json_integer_value(v));
        first = 0;
    }
}

int gw_cmd_stats(int argc, char **argv)
{
    if (wants_help(argc, argv)) return fputs(_(stats_help), stdout), GW_EXIT_OK;
    int as_json = 0;
    const char *db = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) as_json = 1;
        else if (argv[i][0] == '-')
            return gw_cli_usage_error("stats", "unknown option '%s'", argv[i]);
        else if (!db) db = argv[i];
        else return gw_cli_usage_error("stats", "expected one database file");
    }
    if (!db) return gw_cli_usage_error("stats", "expected a database file");
    gw_cli_progress p;
    gw_ctx *ctx = cli_ctx(&p);
    if (!ctx) return GW_EXIT_RUNTIME;
    gw_store *store = NULL;
    gw_status st = gw_store_open(ctx, db, GW_STORE_READONLY, &store);
    if (st != GW_OK) {
        int rc = gw_cli_fail("stats", ctx, st);
        gw_ctx_destroy(ctx);
        return rc;
    }
    json_t *s = collect_stats(store, db);
    if (as_json) {
        json_dumpf(s, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        json_t *L = json_object_get(s, "layers");
        printf(
            "database   %s  (%.1f MB, schema %d, metric CRS EPSG:%d, change seq %" JSON_INTEGER_FORMAT
            ")\n",
            db, (double)json_integer_value(json_object_get(s, "bytes")) / 1e6,
            (int)json_integer_value(json_object_get(s, "schema")),
            (int)json_integer_value(json_object_get(s, "metric_srid")),
            json_integer_value(json_object_get(s, "change_seq")));
        for (int l = 0; l < GW_LAYER_COUNT; l++) {
            const char *name = gw_layer_name((gw_layer)l);
            json_t *o = json_object_get(L, name);
            printf("%-13s %9" JSON_INTEGER_FORMAT, name,
                   json_integer_value(json_object_get(o, "count")));
            json_t *bb = json_object_get(o, "bbox");
            if (l == GW_LAYER_GRIDS) {
                printf("  %.1f km², population %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
                       " counties, %" JSON_INTEGER_FORMAT " townships",
                       json_real_value(json_object_get(o, "area_km2")),
                       json_integer_value(json_object_get(o, "population")),
                       json_integer_value(json_object_get(o, "counties")),
                       json_integer_value(json_object_get(o, "townships")));
            } else if (json_object_get(o, "by_status")) {
                printf("  ");
                print_groups(json_object_get(o, "by_status"));
                if (l == GW_LAYER_CAMERAS)
                    printf("; %" JSON_INTEGER_FORMAT " domes",
                           json_integer_value(json_object_get(o, "domes")));
            } else if (l == GW_LAYER_INCIDENTS && json_object_get(o, "first")) {
                printf("  %s … %s, outside every grid %" JSON_INTEGER_FORMAT "\n%-13s %9s  ",
                       json_string_value(json_object_get(o, "first")),
                       json_string_value(json_object_get(o, "last")),
                       json_integer_value(json_object_get(o, "outside_grids")), "", "");
                print_groups(json_object_get(o, "by_category"));
            }
            if (bb)
                printf("\n%-13s %9s  extent %.5f,%.5f – %.5f,%.5f", "", "",
                       json_real_value(json_array_get(bb, 0)),
                       json_real_value(json_array_get(bb, 1)),
                       json_real_value(json_array_get(bb, 2)),
                       json_real_value(json_array_get(bb, 3)));
            printf("\n");
        }
    }
    json_decref(s);
    gw_store_close(store);
    gw_ctx_destroy(ctx);
    return GW_EXIT_OK;
}
