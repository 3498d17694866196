/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];
static char warnings[65536];

static void cleanup(void)
{
    if (tmpdir[0] && !getenv("GW_TEST_KEEP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

const char *gw_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/gwtest.XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(cleanup);
    }
    return tmpdir;
}

const char *gw_test_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", gw_test_tmpdir(), name);
    return b;
}

/* ---- the store under test: a file, or a PostgreSQL database ---- */

static char pg_dbs[32][64];
static int n_pg_dbs;
static pid_t pg_owner;

int gw_test_on_postgres(void)
{
    const char *p = getenv("GW_TEST_STORE");
    return p && (strncmp(p, "postgresql://", 13) == 0 || strncmp(p, "postgres://", 11) == 0);
}

static void quiet(void *arg, const char *message) { (void)arg, (void)message; }

/* Run one statement on the maintenance database "postgres" of GW_TEST_STORE's server. */
static int pg_admin(const char *sql)
{
    char url[512];
    snprintf(url, sizeof url, "%spostgres", getenv("GW_TEST_STORE"));
    PGconn *c = PQconnectdb(url);
    PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
    int ok = PQstatus(c) == CONNECTION_OK;
    if (!ok) {
        fprintf(stderr, "GW_TEST_STORE: cannot connect to %s: %s", url, PQerrorMessage(c));
    } else {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "GW_TEST_STORE: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return ok;
}

static void pg_cleanup(void)
{
    if (getpid() != pg_owner || getenv("GW_TEST_KEEP")) return;
    for (int i = 0; i < n_pg_dbs; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%.63s\" WITH (FORCE)", pg_dbs[i]);
        pg_admin(sql);
    }
}

const char *gw_test_db(const char *name)
{
    if (!gw_test_on_postgres()) return gw_test_path(name);
    static char bufs[8][600];
    static int next;
    char *b = bufs[next++ % 8];
    char db[64];
    int k = snprintf(db, sizeof db, "gwt_%d_", (int)getpid());
    for (const char *p = name; *p && k < (int)sizeof db - 1; p++)
        db[k++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    db[k] = '\0';
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%.63s\" WITH (FORCE)", db);
    if (!pg_admin(sql)) exit(2);
    if (!n_pg_dbs) pg_owner = getpid(), atexit(pg_cleanup);
    int known = 0;
    for (int i = 0; i < n_pg_dbs; i++) known |= strcmp(pg_dbs[i], db) == 0;
    if (!known && n_pg_dbs < 32) snprintf(pg_dbs[n_pg_dbs++], sizeof pg_dbs[0], "%s", db);
    snprintf(b, 600, "%s%s", getenv("GW_TEST_STORE"), db);
    return b;
}

static const char *shared_dir(void)
{
    const char *env = getenv("GW_SHARED_DIR");
    return env && *env ? env : GW_SHARED_DIR;
}

const char *gw_test_real(const char *rel)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 1024, "%s/data/real/%s", shared_dir(), rel);
    if (access(b, R_OK) != 0) {
        fprintf(stderr, "real data not found: %s\n", b);
        return NULL;
    }
    return b;
}

const char *gw_test_real_file(const char *rel)
{
    const char *p = gw_test_real(rel);
    if (!p) fail_msg("real data file %s is absent although the group's gate found it", rel);
    return p;
}

const char *gw_test_group(int argc, char **argv) { return argc > 1 ? argv[1] : ""; }

int gw_test_need_real(const char *const *rels)
{
    int ok = 1;
    for (size_t i = 0; rels[i]; i++)
        if (!gw_test_real(rels[i])) ok = 0;
    if (!ok)
        printf("skipped: the real data under %s/data/real is absent (see its README)\n",
               shared_dir());
    return ok;
}

int gw_test_need_tool(const char *cmd, const char *what)
{
    char sh[1024];
    snprintf(sh, sizeof sh, "%s >/dev/null 2>&1", cmd);
    if (system(sh) == 0) return 1;
    printf("skipped: %s\n", what);
    return 0;
}

int gw_test_bad_group(const char *group)
{
    fprintf(stderr, "unknown test group '%s'\n", group);
    return 2;
}

static void collect(void *user, const char *msg)
{
    (void)user;
    size_t len = strlen(warnings);
    snprintf(warnings + len, sizeof warnings - len, "%s\n", msg);
}

gw_ctx *gw_test_ctx(void)
{
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx) != GW_OK) return NULL;
    gw_ctx_set_warn(ctx, collect, NULL);
    return ctx;
}

const char *gw_test_warnings(void) { return warnings; }
void gw_test_clear_warnings(void) { warnings[0] = '\0'; }

const char *gw_test_write(const char *name, const char *content)
{
    const char *p = gw_test_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) return NULL;
    fputs(content, f);
    fclose(f);
    return p;
}
