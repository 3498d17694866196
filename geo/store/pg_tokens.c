/* pg_tokens.c — the PostgreSQL engine's 'tokens' topic (ops_tokens.h; the contract is
 * include/gridwatch/store_tokens.h): token hashes as bytea (a binary parameter), times as
 * timestamptz printed back as the SQLite schema stores them (gw_iso). */
#include "ops_tokens.h"
#include "pg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static gw_status pg_tokens_insert(gw_store *s, const char *name, const char *role,
                                  const char *jurisdiction, const unsigned char *hash,
                                  size_t hash_len, const char *created_at, int64_t *id)
{
    const char *v[] = {name, role, (const char *)hash, created_at,
                       jurisdiction && *jurisdiction ? jurisdiction : NULL};
    const int lens[] = {0, 0, (int)hash_len, 0, 0};
    gw_status st = pg_write_begin(s);
    if (st) return st;
    PGresult *r = pg_run(s,
                         "INSERT INTO tokens (name, role, hash, created_at, jurisdiction) VALUES "
                         "($1, $2, $3::bytea, $4::timestamptz, $5) RETURNING id",
                         5, v, lens, "cannot store the token", &st);
    if (r && id && PQntuples(r) > 0) *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return pg_write_end(s, st);
}

static gw_status pg_tokens_find(gw_store *s, const unsigned char *hash, size_t hash_len, char *role,
                                size_t rcap, char *name, size_t ncap, char *jur, size_t jcap)
{
    const char *v[] = {(const char *)hash};
    const int lens[] = {(int)hash_len};
    gw_status st;
    PGresult *r = pg_run(
        s,
        "SELECT role, name, jurisdiction FROM tokens WHERE hash = $1::bytea AND revoked_at IS "
        "NULL",
        1, v, lens, "cannot check the token", &st);
    if (!r) return st;
    st = GW_ERR_NOT_FOUND;
    if (PQntuples(r) > 0) {
        snprintf(role, rcap, "%s", PQgetvalue(r, 0, 0));
        if (name) snprintf(name, ncap, "%s", PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
        if (jur) snprintf(jur, jcap, "%s", PQgetisnull(r, 0, 2) ? "" : PQgetvalue(r, 0, 2));
        st = GW_OK;
    }
    PQclear(r);
    return st;
}

static gw_status pg_tokens_revoke(gw_store *s, const char *id_or_name, int by_id, const char *at,
                                  int *n)
{
    /* An all-digit argument is an id; when no such token exists it may still be a name.  The
     * id is parsed here (NULL when it is none), so the server never casts a name. */
    char idbuf[24];
    const char *idp = NULL;
    if (by_id && id_or_name) {
        char *end;
        errno = 0;
        long long v = strtoll(id_or_name, &end, 10);
        if (!errno && end != id_or_name && !*end) pg_i64(idbuf, v), idp = idbuf;
    }
    const char *v[] = {id_or_name, at, idp};
    gw_status st = pg_write_begin(s);
    if (st) return st;
    PGresult *r = pg_run(s,
                         "UPDATE tokens SET revoked_at = $2::timestamptz WHERE revoked_at IS NULL "
                         "AND (CASE WHEN $3::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM tokens "
                         "WHERE id = $3::bigint) THEN id = $3::bigint ELSE name = $1 END)",
                         3, v, NULL, "cannot revoke", &st);
    if (r && n) *n = atoi(PQcmdTuples(r));
    PQclear(r);
    return pg_write_end(s, st);
}

static gw_status pg_tokens_list(gw_store *s, gw_store_token_fn fn, void *user)
{
    gw_status st;
    PGresult *r = pg_run(s,
                         "SELECT id, name, role, gw_iso(created_at), gw_iso(revoked_at), "
                         "jurisdiction FROM tokens ORDER BY id",
                         0, NULL, NULL, "cannot list tokens", &st);
    if (!r) return st;
    for (int i = 0, rows = PQntuples(r); i < rows; i++) {
#define COL(c) (PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c))
        gw_store_token t = {
            .id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
            .name = COL(1),
            .role = COL(2),
            .created_at = COL(3),
            .revoked_at = COL(4),
            .jurisdiction = COL(5),
        };
#undef COL
        if (fn(user, &t)) break;
    }
    PQclear(r);
    return GW_OK;
}

const struct gw_store_tokens_ops st_pg_tokens_ops = {
    .insert = pg_tokens_insert,
    .find = pg_tokens_find,
    .revoke = pg_tokens_revoke,
    .list = pg_tokens_list,
};
