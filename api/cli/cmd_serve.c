/* cmd_serve.c — `serve` and `demo`: the HTTP side of the CLI.
 *
 * `demo` is the one-command experience: generate the demo city when the file is missing, print
 * what it holds, and serve it on localhost with anonymous reads. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_config.h"
#include "cli_util.h"
#include "commands.h"
#include "app.h"
#include "http_util.h"
#include "server.h"
#include "web_http.h"

/* ---- serve ---------------------------------------------------------------------------------- */

static const char serve_usage[] = N_(
    "usage: gridwatch serve DB [--bind 127.0.0.1] [--port 8080] [--threads N]\n"
    "                          [--anonymous-read] [--max-body BYTES] [--tile-cache-mb N] [--quiet]\n"
    "                          [--public-url URL] [--auth-fail-max N]\n"
    "       gridwatch serve --config FILE [DB] [options] [--check]\n"
    "\n"
    "Serve DB over HTTP until SIGINT/SIGTERM: OGC API - Features at /collections (reads and,\n"
    "with a bearer token, writes), vector tiles at /tiles, analysis and dispatch routes, ops at\n"
    "/healthz /metrics /openapi.json.  The database's in-memory model follows every committed\n"
    "change, also changes made by other processes (e.g. gridwatch import) while it runs.\n"
    "\n"
    "options:\n"
    "  --bind ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
    "  --port N             port (default 8080; 0 = any free port)\n"
    "  --threads N          worker threads (default 8); writes, which may wait up to 30 s for\n"
    "                       another writer such as an import, use at most N - 2 of them\n"
    "  --public-url URL     the URL clients reach this server at (https://gw.example.org,\n"
    "                       behind a proxy): every link and Location is built on it.  Without\n"
    "                       it links follow the Host header, which must then name localhost or\n"
    "                       an IP address of this machine (421 otherwise)\n"
    "  --anonymous-read     reads need no token (writes always do; see gridwatch token)\n"
    "  --auth-fail-max N    refused bearer tokens a client address may present per minute\n"
    "                       before it is answered 429 for the rest of the minute (default 20)\n"
    "  --max-body BYTES     request body limit (default 8 MiB; 413 past it)\n"
    "  --tile-cache-mb N    vector tile cache budget (default 256); heat map tiles get a\n"
    "                       quarter of it on top\n"
    "  --quiet              no request log lines\n"
    "  --no-wall            serve without the map wall page (/wall/ answers 404 saying so)\n"
    "  --config FILE        read settings from FILE first (the Debian package's\n"
    "                       /etc/gridwatch/gridwatch.conf): one 'key = value' per line, the\n"
    "                       options above without their dashes plus 'database'; switches take\n"
    "                       true/false; '#' comments.  Options given here win over the file\n"
    "  --check              check the settings, print them as JSON and exit (0 when they are\n"
    "                       good) without serving\n"
    "\n"
    "The map wall (/wall/) needs its page and MapLibre GL's files: from PREFIX/share/gridwatch/web\n"
    "after cmake --install, or web/ with web/node_modules (npm ci) in a build tree, or\n"
    "$GRIDWATCH_WEB_DIR.  When they are missing, serve refuses to start (exit 1) and says what is\n"
    "missing, unless --no-wall is given.\n");

static int serve_main(int argc, char **argv, const char *cfg_db);

/* The settings as JSON on stdout (--check). */
static void print_settings(const gw_server_opts *o, const gw_app_opts *ao, int no_wall)
{
    gw_buf b = {0};
    gw_buf_str(&b, "{\"database\":");
    gw_buf_json_str(&b, o->db_path);
    gw_buf_str(&b, ",\"bind\":");
    gw_buf_json_str(&b, o->bind ? o->bind : "127.0.0.1");
    gw_buf_printf(&b, ",\"port\":%u,\"threads\":%d,\"anonymous_read\":%s,\"quiet\":%s",
                  (unsigned)o->port, o->threads ? o->threads : 8,
                  o->anonymous_read ? "true" : "false", o->quiet ? "true" : "false");
    gw_buf_printf(&b, ",\"max_body\":%zu,\"tile_cache_mb\":%zu,\"auth_fail_max\":%d",
                  o->max_body ? o->max_body : (size_t)8 << 20,
                  ao->tile_cache_bytes ? ao->tile_cache_bytes >> 20 : (size_t)256,
                  o->auth_fail_max ? o->auth_fail_max : 20);
    gw_buf_str(&b, ",\"public_url\":");
    if (o->public_url) gw_buf_json_str(&b, o->public_url);
    else gw_buf_str(&b, "null");
    gw_buf_str(&b, ",\"wall\":");
    if (no_wall) gw_buf_str(&b, "null");
    else gw_buf_json_str(&b, gw_web_dir());
    gw_buf_str(&b, "}\n");
    fputs(b.data ? b.data : "{}\n", stdout);
    gw_buf_free(&b);
}

int gw_cmd_serve(int argc, char **argv)
{
    /* --config FILE: the file's settings go before the command line's, which win */
    gw_cli_config cfg = {0};
    const char *cfg_path = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || cfg_path)
                return gw_cli_usage_error("serve", "--config takes one FILE, given once");
            cfg_path = argv[i + 1];
        }
    if (cfg_path) {
        char err[1024];
        if (gw_cli_config_load(cfg_path, &cfg, err, sizeof err) != 0) {
            fprintf(stderr, _("gridwatch serve: %s\n"), err);
            return GW_EXIT_USAGE;
        }
    }
    char **args = malloc((size_t)(argc + cfg.argc + 1) * sizeof *args);
    if (!args) {
        gw_cli_config_free(&cfg);
        fprintf(stderr, _("gridwatch serve: out of memory\n"));
        return GW_EXIT_RUNTIME;
    }
    int nargs = 0;
    args[nargs++] = argv[0];
    for (int i = 0; i < cfg.argc; i++) args[nargs++] = cfg.argv[i];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    int rc = serve_main(nargs, args, cfg.database);
    if (rc == GW_EXIT_USAGE && cfg_path)
        fprintf(stderr, _("gridwatch serve: (settings read from %s, then the command line)\n"),
                cfg_path);
    free(args);
    gw_cli_config_free(&cfg);
    return rc;
}

static int serve_main(int argc, char **argv, const char *cfg_db)
{
    gw_server_opts o = {0};
    gw_app_opts ao = {0};
    int no_wall = 0, check = 0;
    o.port = 8080;
    o.db_path = cfg_db; /* a DB on the command line replaces the file's */
    int db_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(_(serve_usage), stdout);
            return 0;
        } else if (strcmp(a, "--check") == 0) {
            check = 1;
        } else if (strcmp(a, "--anonymous-read") == 0) {
            o.anonymous_read = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else if (strcmp(a, "--no-wall") == 0) {
            no_wall = 1;
        } else if (strcmp(a, "--bind") == 0 && v) {
            o.bind = v, i++;
        } else if (strcmp(a, "--port") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 0 || n > 65535) {
                fprintf(stderr, _("gridwatch serve: --port '%s' is not a port number (0-65535)\n"),
                        v);
                return 2;
            }
            o.port = (uint16_t)n, i++;
        } else if (strcmp(a, "--threads") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1 || n > 256) {
                fprintf(stderr, _("gridwatch serve: --threads '%s' must be 1-256\n"), v);
                return 2;
            }
            o.threads = (int)n, i++;
        } else if (strcmp(a, "--public-url") == 0 && v) {
            size_t k = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 "-._~:/[]%@!$&'()*+,;=");
            if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || v[k] ||
                strlen(v) > 512) {
                fprintf(stderr,
                        "gridwatch serve: --public-url '%s' must be an http:// or https:// URL "
                        "without spaces or quotes\n",
                        v);
                return 2;
            }
            o.public_url = v, i++;
        } else if (strcmp(a, "--auth-fail-max") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1 || n > 1000000) {
                fprintf(stderr, _("gridwatch serve: --auth-fail-max '%s' must be 1-1000000\n"), v);
                return 2;
            }
            o.auth_fail_max = (int)n, i++;
        } else if (strcmp(a, "--tile-cache-mb") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1 || n > 65536) {
                fprintf(stderr, _("gridwatch serve: --tile-cache-mb '%s' must be 1-65536\n"), v);
                return 2;
            }
            ao.tile_cache_bytes = (size_t)n << 20, i++;
        } else if (strcmp(a, "--max-body") == 0 && v) {
            if (gw_parse_int64(v, &n) || n < 1) {
                fprintf(stderr,
                        _("gridwatch serve: --max-body '%s' must be a positive byte count\n"), v);
                return 2;
            }
            o.max_body = (size_t)n, i++;
        } else if (a[0] == '-') {
            fprintf(stderr, _("gridwatch serve: unknown or incomplete option '%s' (see --help)\n"),
                    a);
            return 2;
        } else if (!db_given) {
            o.db_path = a, db_given = 1;
        } else {
            fprintf(stderr, _("gridwatch serve: unexpected argument '%s' (see --help)\n"), a);
            return 2;
        }
    }
    if (!o.db_path) {
        fprintf(stderr, _("gridwatch serve: no database given (see --help)\n"));
        return 2;
    }
    char wall_msg[2 * PATH_MAX + 512];
    if (no_wall) {
        gw_web_disable();
    } else if (gw_web_check(wall_msg, sizeof wall_msg) != 0) { /* fail at start, not as 404s */
        fprintf(stderr, _("gridwatch serve: %s\n"), wall_msg);
        return 1;
    }
    if (check) {
        print_settings(&o, &ao, no_wall);
        return 0;
    }
    /* Block the stop signals before the workers start, so only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) {
        fprintf(stderr, _("gridwatch serve: out of memory\n"));
        return 1;
    }
    gw_app *app = NULL;
    if (gw_app_create(ctx, o.db_path, &ao, &app) != GW_OK) {
        gw_cli_eprintf(ctx, "gridwatch serve: %s\n", gw_ctx_errmsg(ctx));
        gw_ctx_destroy(ctx);
        return 1;
    }
    gw_app_configure(app, &o);
    gw_server *srv = NULL;
    if (gw_server_create(ctx, &o, &srv) != GW_OK) {
        gw_cli_eprintf(ctx, "gridwatch serve: %s\n", gw_ctx_errmsg(ctx));
        gw_app_destroy(app);
        gw_ctx_destroy(ctx);
        return 1;
    }
    fprintf(stderr, "{\"event\":\"listening\",\"url\":\"http://%s:%u/\",\"db\":",
            o.bind ? o.bind : "127.0.0.1", (unsigned)gw_server_port(srv));
    gw_buf b = {0};
    gw_buf_json_str(&b, o.db_path);
    fprintf(stderr, "%s,\"threads\":%d,\"wall\":", b.data ? b.data : "\"\"",
            o.threads ? o.threads : 8);
    gw_buf_reset(&b);
    if (no_wall) gw_buf_str(&b, "null");
    else gw_buf_json_str(&b, gw_web_dir());
    fprintf(stderr, "%s}\n", b.data ? b.data : "null");
    gw_buf_free(&b);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "{\"event\":\"shutdown\",\"signal\":%d}\n", sig);
    gw_server_destroy(srv);
    gw_app_destroy(app);
    gw_ctx_destroy(ctx);
    return 0;
}

/* ---- demo ----------------------------------------------------------------------------------- */

static const char demo_help[] = N_(
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
    "                install gridwatch with cmake --install)\n");

int gw_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"scale", required_argument, 0, 's'},
                                         {"port", required_argument, 0, 'p'},
                                         {"bind", required_argument, 0, 'b'},
                                         {"help", no_argument, 0, 'h'},
                                         {"no-wall", no_argument, 0, 'W'},
                                         {0, 0, 0, 0}};
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
                return gw_cli_usage_error("demo", "--scale must be a number in (0, 4], not '%s'",
                                          optarg);
            break;
        case 'p': port = optarg; break;
        case 'b': bind = optarg; break;
        case 'W': no_wall = 1; break;
        case 'h': return fputs(_(demo_help), stdout), GW_EXIT_OK;
        default:
            return gw_cli_usage_error("demo", "unknown or incomplete option '%s'",
                                      argv[optind - 1]);
        }
    }
    if (argc - optind > 1) return gw_cli_usage_error("demo", "expected at most one database file");
    const char *db = argc - optind == 1 ? argv[optind] : "gridwatch-demo.db";
    char wall_msg[2 * PATH_MAX + 512];
    if (!no_wall && gw_web_check(wall_msg, sizeof wall_msg) != 0) { /* before a long generation */
        fprintf(stderr, _("gridwatch demo: %s\n"), wall_msg);
        return GW_EXIT_RUNTIME;
    }
    if (access(db, F_OK) != 0) {
        fprintf(stderr, _("gridwatch demo: generating the demo city (scale %g) into %s …\n"), scale,
                db);
        int rc = cli_gen_city(db, scale, 1, 1, NULL, NULL, 0); /* the demo needs no truth */
        if (rc != GW_EXIT_OK) return rc;
    }
    char *stats_argv[] = {"stats", (char *)db, NULL};
    int rc = gw_cmd_stats(2, stats_argv);
    if (rc != GW_EXIT_OK) return rc;
    char *serve_argv[] = {"serve",  (char *)db,   "--bind",           (char *)bind,
                          "--port", (char *)port, "--anonymous-read", no_wall ? "--no-wall" : NULL,
                          NULL};
    fprintf(stderr, _("gridwatch demo: serving %s on http://%s:%s/ (Ctrl-C stops)\n"), db, bind,
            port);
    return gw_cmd_serve(no_wall ? 8 : 7, serve_argv);
}
