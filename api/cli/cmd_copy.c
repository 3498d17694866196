/* cmd_copy.c — `gridwatch copy SRC DST`: a whole gridwatch database from one store to another
 * (SpatiaLite file <-> PostgreSQL/PostGIS, either way, or within one engine), through the
 * store's copy topic (gridwatch/store_copy.h): every table, every id and change-log seq. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "gridwatch/store.h"
#include "gridwatch/store_copy.h"

static const char copy_help[] = N_(
    "usage: gridwatch copy SRC DST\n"
    "\n"
    "Copy a whole gridwatch database from SRC to DST: the five layers with every grid version\n"
    "(published, draft and archived), grid versions, meta, API tokens, the change log with the\n"
    "same seq numbers (so an event stream's Last-Event-ID keeps its meaning), the audit log,\n"
    "coverage results, assignments and plan drafts — every id kept.  SRC and DST are each a\n"
    "SpatiaLite file or a PostgreSQL URL (postgresql://[user@]host[:port]/dbname), in any\n"
    "combination.\n"
    "\n"
    "DST must be new or empty: a missing file or PostgreSQL database is created; a DST holding\n"
    "any row (beyond a fresh 'gridwatch init') is refused with exit code 4 and left untouched.\n"
    "The copy is one transaction on DST: when it fails DST is as it was (a file the copy created\n"
    "is removed; a PostgreSQL database it created stays, empty).  SRC is read in one snapshot and\n"
    "never written.  A progress bar goes to stderr when it is a terminal (GW_PROGRESS=1 forces it).\n"
    "\n"
    "examples:\n"
    "  gridwatch copy city.db postgresql:///heze\n"
    "  gridwatch copy postgresql://gw@db.example/heze backup.db\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error (database), 2 usage error, 4 DST not empty\n");

/* Remove a SpatiaLite file the copy created (and its WAL files). */
static void remove_file(const char *path)
{
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void print_report(const char *src, const char *dst, const gw_copy_report *rep)
{
    size_t n;
    const gw_copy_table *t = gw_copy_tables(&n);
    printf("copied %s to %s: %" PRId64 " rows in %.2f s, change log at seq %" PRId64 "\n", src, dst,
           rep->total, rep->seconds, rep->last_seq);
    for (size_t i = 0; i < n && i < sizeof rep->rows / sizeof rep->rows[0]; i++)
        printf("  %-18s %" PRId64 "\n", t[i].name, rep->rows[i]);
}

int gw_cmd_copy(int argc, char **argv)
{
    const char *pos[2];
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return fputs(_(copy_help), stdout), GW_EXIT_OK;
        if (argv[i][0] == '-' && argv[i][1])
            return gw_cli_usage_error("copy", "unknown option '%s'", argv[i]);
        if (npos == 2) return gw_cli_usage_error("copy", "expected SRC DST, got more arguments");
        pos[npos++] = argv[i];
    }
    if (npos != 2) return gw_cli_usage_error("copy", "expected SRC DST");
    const char *src = pos[0], *dst = pos[1];
    if (strcmp(src, dst) == 0)
        return gw_cli_usage_error("copy", "SRC and DST are the same database (%s)", src);
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) {
        fprintf(stderr, _("gridwatch copy: out of memory\n"));
        return GW_EXIT_RUNTIME;
    }
    gw_cli_progress p;
    gw_cli_progress_init(&p);
    gw_ctx_set_progress(ctx, gw_cli_progress_cb, &p);
    gw_ctx_set_warn(ctx, gw_cli_warn_cb, &p);
    struct stat sb;
    int created = !gw_store_is_postgres(dst) && stat(dst, &sb) != 0 && errno == ENOENT;
    gw_store *s = NULL, *d = NULL;
    gw_copy_report rep;
    /* SRC: migrated if an older build wrote it, then read-only on this connection */
    gw_status st = gw_store_open(ctx, src, GW_STORE_QUERY_ONLY, &s);
    if (!st) st = gw_store_open(ctx, dst, GW_STORE_CREATE, &d);
    if (!st) st = gw_copy_database(s, d, &rep);
    gw_cli_progress_end(&p);
    int rc = GW_EXIT_OK;
    if (st) rc = gw_cli_fail("copy", ctx, st);
    else print_report(gw_store_path(s), gw_store_path(d), &rep); /* passwords left out */
    gw_store_close(d);
    gw_store_close(s);
    if (st && created) remove_file(dst);
    gw_ctx_destroy(ctx);
    return rc;
}
