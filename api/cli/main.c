/* main.c — the gridwatch command line: one binary, one sub-command per job.
 *
 * Every command has --help, prints errors on stderr as one line a person can act on, and
 * returns the exit codes of cli_util.h.  The commands are thin: the work is in geo/. */
#include <gdal.h>
#include <geos_c.h>
#include <microhttpd.h>
#include <proj.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "cli_util.h"
#include "commands.h"
#include "coverage_http.h"
#include "hotspot_http.h"
#include "plan_http.h"
#include "tiles_http.h"
#include "gridwatch/store.h"

static const char usage[] = N_(
    "gridwatch — grid mapping, camera coverage, hotspots and dispatch for city grid management\n"
    "\n"
    "usage: gridwatch <command> [options]\n"
    "\n"
    "commands:\n"
    "  init DB                     create an empty gridwatch database (SpatiaLite)\n"
    "  import DB LAYER FILE        import a GeoJSON/GeoPackage/Shapefile/KML/CSV/DXF file into a layer\n"
    "  export DB LAYER FILE        export a layer to GeoJSON/GeoPackage/Shapefile/CSV\n"
    "  gen-city DB                 generate the synthetic Heze-like demo city\n"
    "  stats DB                    print what the database holds\n"
    "  copy SRC DST                copy a whole database (SpatiaLite <-> PostgreSQL) into an empty one\n"
    "  serve DB                    serve tiles, features and analysis over HTTP\n"
    "  demo [DB]                   generate the demo city if missing and serve it\n"
    "  token create|list|revoke DB API bearer tokens (create prints a new token once)\n"
    "  tiles DB OUT.mbtiles        render vector tiles offline into MBTiles\n"
    "  hotspots DB                 Gi* hot spots per grid (CSV/JSON) or a kernel density GeoTIFF\n"
    "  coverage DB                 per-grid camera coverage, blind spots and police-room reach\n"
    "  plan <verb> DB              grid planning: drafts, validation, publish, rollback\n"
    "  incident <verb> DB          the incident flow: transition, history, overdue\n"
    "  accounts <verb> DB          scoped accounts: import (CSV), list, disable\n"
    "  roads DB [VERB]             the road graph: stats, nearest (teams by ETA), edges (CSV)\n"
    "  jurisdictions [import] DB   list the prefecture/county/township/village hierarchy, or import it\n"
    "  version, --version          print the version and those of the libraries it runs with\n"
    "\n"
    "layers: grids, police_rooms, cameras, teams, incidents\n"
    "'gridwatch <command> --help' describes a command.\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (database, file), 2 usage error,\n"
    "            3 input refused (format, geometry, range, CRS), 4 conflict (duplicate id, non-empty target)\n");

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"init", gw_cmd_init},         {"import", gw_cmd_import},
    {"export", gw_cmd_export},     {"gen-city", gw_cmd_gen_city},
    {"stats", gw_cmd_stats},       {"serve", gw_cmd_serve},
    {"demo", gw_cmd_demo},         {"token", gw_cmd_token},
    {"tiles", gw_cmd_tiles},       {"hotspots", gw_cmd_hotspots},
    {"coverage", gw_cmd_coverage}, {"plan", gw_cmd_plan},
    {"copy", gw_cmd_copy},         {"jurisdictions", gw_cmd_jurisdictions},
    {"incident", gw_cmd_incident}, {"accounts", gw_cmd_accounts},
    {"roads", gw_cmd_roads},
};

/* The version, then each library's as the library itself reports it at run time (not the
 * headers built against), which is what a bug report needs. */
static int print_version(void)
{
    PJ_INFO pj = proj_info();
    printf("gridwatch %s\n", GW_VERSION);
    printf("GEOS %s\n", GEOSversion());
    printf("PROJ %s\n", pj.version ? pj.version : "?");
    printf("GDAL %s\n", GDALVersionInfo("RELEASE_NAME"));
    char store[256];
    gw_store_engine_versions(store, sizeof store); /* SQLite stays inside the store room */
    fputs(store, stdout);
    printf("libmicrohttpd %s\n", MHD_get_version());
    return GW_EXIT_OK;
}

int main(int argc, char **argv)
{
    gw_cli_lang_init();
    if (argc < 2) {
        fputs(_(usage), stderr);
        return GW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(_(usage), stdout);
        return GW_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) return print_version();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, _("gridwatch: unknown command '%s' (see 'gridwatch --help')\n"), cmd);
    return GW_EXIT_USAGE;
}
