/* pg_open.c — opening a gridwatch database on PostgreSQL/PostGIS: connect (creating the
 * database when asked to create and it does not exist), identify it, and bring its schema to
 * this build's version in one transaction under the write lock, so that several servers
 * starting at once migrate it once. */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct gw_migration st_pg_migrations[];
extern const size_t st_pg_migrations_count;

/* The location without its password, for messages and gw_store_path. */
static char *redact(const char *url)
{
    char *out = strdup(url);
    if (!out) return NULL;
    char *scheme = strstr(out, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at) memmove(colon, at, strlen(at) + 1); /* user:pw@ -> user@ */
    return out;
}

/* Connect to `url`, or with dbname replaced (NULL: as given). */
static PGconn *connect_to(const char *url, const char *dbname, char **err)
{
    *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, err);
    if (!opts) return NULL;
    const char *kw[64], *val[64];
    int n = 0;
    for (PQconninfoOption *o = opts; o->keyword && n < 60; o++) {
        if (strcmp(o->keyword, "dbname") == 0 && dbname) continue;
        if (!o->val) continue;
        kw[n] = o->keyword, val[n] = o->val, n++;
    }
    if (dbname) kw[n] = "dbname", val[n] = dbname, n++;
    kw[n] = "application_name", val[n] = "gridwatch", n++;
    kw[n] = NULL, val[n] = NULL;
    PGconn *c = PQconnectdbParams(kw, val, 0);
    PQconninfoFree(opts);
    return c;
}

/* The database name of url (malloc'ed), or NULL. */
static char *db_name(const char *url)
{
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &err);
    PQfreemem(err);
    char *name = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val) name = strdup(o->val);
    PQconninfoFree(opts);
    return name;
}

/* CREATE DATABASE name, connected to the maintenance database "postgres". */
static gw_status create_database(gw_ctx *ctx, const char *url, const char *shown)
{
    char *name = db_name(url), *err = NULL;
    if (!name) return gw_ctx_error(ctx, GW_ERR_ARG, "%s names no database", shown);
    PGconn *c = connect_to(url, "postgres", &err);
    gw_status st = GW_OK;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create database %s: %s", name,
                          c     ? PQerrorMessage(c)
                          : err ? err
                                : "out of memory");
    } else {
        char *q = PQescapeIdentifier(c, name, strlen(name));
        char sql[512];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", q ? q : "\"\"");
        PQfreemem(q);
        PGresult *r = PQexec(c, sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !(state && strcmp(state, "42P04") == 0))
            st = gw_ctx_error(ctx, GW_ERR_IO, "cannot create database %s: %s", name,
                              PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    PQfreemem(err);
    free(name);
    return st;
}

/* The schema version recorded in the database: 0 for an empty database, -1 (with an error)
 * for one that holds tables but is not gridwatch's. */
static gw_status identify(gw_store *s, int *version)
{
    *version = 0;
    int64_t has_meta = 0, tables = 0;
    gw_status st = pg_query_int(s, "SELECT (to_regclass('meta') IS NOT NULL)::int", 0, NULL,
                                &has_meta, NULL);
    if (st) return st;
    if (!has_meta) {
        st = pg_query_int(s,
                          "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                          "c.relnamespace WHERE c.relkind = 'r' AND n.nspname = "
                          "current_schema() AND c.relname NOT IN ('spatial_ref_sys')",
                          0, NULL, &tables, NULL);
        if (!st && tables > 0)
            st = gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                              "%s holds %lld tables but no gridwatch meta table; not a gridwatch "
                              "database",
                              s->path, (long long)tables);
        return st;
    }
    PGresult *r = pg_run(s, "SELECT key, value FROM meta WHERE key IN ('format', 'schema_version')",
                         0, NULL, NULL, "cannot read the meta table", &st);
    if (!r) return st;
    int fmt = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), "format") == 0)
            fmt = strcmp(PQgetvalue(r, i, 1), "gridwatch") == 0;
        else *version = atoi(PQgetvalue(r, i, 1));
    }
    PQclear(r);
    if (!fmt)
        return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                            "%s has a meta table but is not a gridwatch "
                            "database",
                            s->path);
    if (*version > GW_SCHEMA_VERSION)
        return gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                            "%s has schema version %d, newer than this build's %d; upgrade "
                            "gridwatch",
                            s->path, *version, GW_SCHEMA_VERSION);
    return GW_OK;
}

/* Apply every embedded migration above the database's version, in one transaction under the
 * write lock (read again under it: another server may have migrated meanwhile). */
static gw_status migrate(gw_store *s)
{
    gw_status st = pg_begin(s);
    int version = 0;
    if (!st) st = identify(s, &version);
    for (size_t i = 0; !st && i < st_pg_migrations_count; i++) {
        const struct gw_migration *m = &st_pg_migrations[i];
        if (m->version <= version) continue;
        if (version > 0 && m->version == GW_SCHEMA_VERSION && strstr(m->name, "_init"))
            continue; /* the squashed start is for empty databases only */
        PGresult *r = PQexec(PG(s)->conn, m->sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
            st = pg_fail(s, r, m->name);
        PQclear(r);
        char v[24];
        pg_i64(v, m->version);
        const char *p[] = {v};
        if (!st)
            st = pg_exec(s, "UPDATE meta SET value = $1 WHERE key = 'schema_version'", 1, p,
                         "cannot record the schema version");
        if (!st) version = m->version;
    }
    if (!st && version != GW_SCHEMA_VERSION)
        st = gw_ctx_error(s->ctx, GW_ERR_SCHEMA,
                          "%s: the PostgreSQL migrations reach schema version %d, not %d", s->path,
                          version, GW_SCHEMA_VERSION);
    if (st) {
        pg_rollback(s);
        return st;
    }
    return pg_commit(s);
}

gw_status pg_open(gw_ctx *ctx, const char *url, int flags, gw_store **out)
{
    *out = NULL;
    int ro = (flags & GW_STORE_READONLY) != 0;
    if (ro && (flags & GW_STORE_CREATE))
        return gw_ctx_error(ctx, GW_ERR_ARG, "cannot create a database read-only");
    gw_store *s = calloc(1, sizeof *s);
    pg_state *p = calloc(1, sizeof *p);
    if (!s || !p || !(s->path = redact(url))) {
        free(s), free(p);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory opening a database");
    }
    s->ctx = ctx, s->be = &st_pg_backend, s->pg = p, s->readonly = ro;
    p->ro = ro || (flags & GW_STORE_QUERY_ONLY);
    char *err = NULL;
    p->conn = connect_to(url, NULL, &err);
    if (p->conn && PQstatus(p->conn) != CONNECTION_OK && (flags & GW_STORE_CREATE) &&
        strstr(PQerrorMessage(p->conn), "does not exist")) {
        PQfinish(p->conn);
        p->conn = NULL;
        gw_status st = create_database(ctx, url, s->path);
        if (st) {
            pg_close(s);
            return st;
        }
        p->conn = connect_to(url, NULL, &err);
    }
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        gw_status st = gw_ctx_error(ctx, GW_ERR_IO, "cannot connect to %s: %s", s->path,
                                    p->conn ? PQerrorMessage(p->conn)
                                    : err   ? err
                                            : "out of memory");
        PQfreemem(err);
        pg_close(s);
        return st;
    }
    int version = 0;
    int ro_flag = p->ro;
    p->ro = 0; /* read-write until migrated */
    gw_status st = pg_session_setup(s);
    if (!st) st = identify(s, &version);
    if (!st && version == 0 && !(flags & GW_STORE_CREATE))
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA,
                          "database %s is empty, not initialised (run gridwatch init)", s->path);
    if (!st && ro && version < GW_SCHEMA_VERSION)
        st = gw_ctx_error(ctx, GW_ERR_SCHEMA,
                          "database %s has schema version %d and needs a migration to %d; open "
                          "it read-write once",
                          s->path, version, GW_SCHEMA_VERSION);
    if (!st && !ro && version < GW_SCHEMA_VERSION) st = migrate(s);
    s->schema_version = GW_SCHEMA_VERSION;
    p->ro = ro_flag;
    if (!st && p->ro)
        st = pg_exec(s, "SET default_transaction_read_only = on", 0, NULL,
                     "cannot make the connection read-only");
    if (st) {
        pg_close(s);
        return st;
    }
    *out = s;
    return GW_OK;
}
