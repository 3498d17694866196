/* cmd_serve.c — `serve` and `demo`: the HTTP side of the CLI.
 *
 * `demo` is the one-command experience: generate the demo city when the file is missing, print
 * what it holds, and serve it on localhost with anonymous reads. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "server.h"
#include "web_http.h"

int gw_gen_city_run(const char *db, double scale, uint64_t seed, const char *region, int quiet);

int gw_cmd_serve(int argc, char **argv) { return gw_cli_serve(argc, argv); }

static const char demo_help[] =
    "usage: gridwatch demo [DB] [--scale F] [--port N] [--bind ADDR] [--no-wall]\n"
    "\n"
    "Generate the synthetic demo city into DB (default gridwatch-demo.db) if the file does not\n"
    "exist yet, print its statistics and serve it on http://127.0.0.1:8080 with anonymous reads.\n"
    "\n"
    "options:\n"
    "  --scale F     size of a newly generated city relative to Heze (default 0.25; 1 = 12,864 grids,\n"
    "                1,000,000 incidents, about a minute to generate)\n"
    "  --port N      port (default 8080)\n"
    "  --bind ADDR   address (default 127.0.0.1)\n"
    "  --no-wall     serve without the map wall page; without it, demo refuses to start (exit 1)\n"
    "                when the page or MapLibre's files are missing (run npm ci in web/, or\n"
    "                install gridwatch with cmake --install)\n";

int gw_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"scale", required_argument, 0, 's'}, {"port", required_argument, 0, 'p'},
                                         {"bind", required_argument, 0, 'b'},  {"help", no_argument, 0, 'h'},
                                         {"no-wall", no_argument, 0, 'W'},     {0, 0, 0, 0}};
    double scale = 0.25;
    const char *port = "8080", *bind = "127.0.0.1";
    int c, no_wall = 0;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            scale = strtod(optarg, &end);
            if (*end || !(scale > 0 && scale <= 4))
                return gw_cli_usage_error("demo", "--scale must be a number in (0, 4], not '%s'", optarg);
            break;
        case 'p': port = optarg; break;
        case 'b': bind = optarg; break;
        case 'W': no_wall = 1; break;
        case 'h': return fputs(demo_help, stdout), GW_EXIT_OK;
        default: return gw_cli_usage_error("demo", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind > 1) return gw_cli_usage_error("demo", "expected at most one database file");
    const char *db = argc - optind == 1 ? argv[optind] : "gridwatch-demo.db";
    char wall_msg[2 * PATH_MAX + 512];
    if (!no_wall && gw_web_check(wall_msg, sizeof wall_msg) != 0) { /* before a long generation */
        fprintf(stderr, "gridwatch demo: %s\n", wall_msg);
        return GW_EXIT_RUNTIME;
    }
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "gridwatch demo: generating the demo city (scale %g) into %s …\n", scale, db);
        int rc = gw_gen_city_run(db, scale, 1, NULL, 0);
        if (rc != GW_EXIT_OK) return rc;
    }
    char *stats_argv[] = {"stats", (char *)db, NULL};
    int rc = gw_cmd_stats(2, stats_argv);
    if (rc != GW_EXIT_OK) return rc;
    char *serve_argv[] = {"serve", (char *)db, "--bind", (char *)bind, "--port", (char *)port, "--anonymous-read",
                          no_wall ? "--no-wall" : NULL, NULL};
    fprintf(stderr, "gridwatch demo: serving %s on http://%s:%s/ (Ctrl-C stops)\n", db, bind, port);
    return gw_cli_serve(no_wall ? 8 : 7, serve_argv);
}
