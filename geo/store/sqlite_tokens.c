/* sqlite_tokens.c — the SQLite engine's token table (store_tokens.h). */
#include "ops_tokens.h"
#include "store_internal.h"

#include <stdio.h>

gw_status sq_tokens_insert(gw_store *s, const char *name, const char *role,
                           const char *jurisdiction, const unsigned char *hash, size_t hash_len,
                           const char *created_at, int64_t *id)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s,
                              "INSERT INTO tokens (name, role, hash, created_at, jurisdiction) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)",
                              0, &q, "cannot store the token");
    if (st) return st;
    if (name) sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (jurisdiction && *jurisdiction) sqlite3_bind_text(q, 5, jurisdiction, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, hash, (int)hash_len, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, created_at, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot store the token");
    else if (id) *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_tokens_find(gw_store *s, const unsigned char *hash, size_t hash_len, char *role,
                         size_t rcap, char *name, size_t ncap, char *jur, size_t jcap)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(
        s,
        "SELECT role, name, jurisdiction FROM tokens WHERE hash = ?1 AND revoked_at IS "
        "NULL",
        0, &q, "cannot check the token");
    if (st) return st;
    sqlite3_bind_blob(q, 1, hash, (int)hash_len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    st = GW_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        snprintf(role, rcap, "%s", (const char *)sqlite3_column_text(q, 0));
        const char *n = (const char *)sqlite3_column_text(q, 1);
        if (name) snprintf(name, ncap, "%s", n ? n : "");
        const char *j = (const char *)sqlite3_column_text(q, 2);
        if (jur) snprintf(jur, jcap, "%s", j ? j : "");
        st = GW_OK;
    } else if (rc != SQLITE_DONE) {
        st = st_fail(s, "cannot check the token");
    }
    sqlite3_finalize(q);
    return st;
}

gw_status sq_tokens_revoke(gw_store *s, const char *id_or_name, int by_id, const char *at, int *n)
{
    sqlite3_stmt *q = NULL;
    /* An all-digit argument is an id; when no such token exists it may still be a name. */
    gw_status st = st_prepare(
        s,
        "UPDATE tokens SET revoked_at = ?2 WHERE revoked_at IS NULL AND "
        "(CASE WHEN ?3 AND EXISTS (SELECT 1 FROM tokens WHERE id = CAST(?1 AS "
        "INTEGER)) THEN id = CAST(?1 AS INTEGER) ELSE name = ?1 END)",
        0, &q, "cannot revoke");
    if (st) return st;
    sqlite3_bind_text(q, 1, id_or_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, by_id);
    if (sqlite3_step(q) != SQLITE_DONE) st = st_fail(s, "cannot revoke");
    else if (n) *n = sqlite3_changes(s->db);
    sqlite3_finalize(q);
    return st;
}

gw_status sq_tokens_list(gw_store *s, gw_store_token_fn fn, void *user)
{
    sqlite3_stmt *q = NULL;
    gw_status st = st_prepare(s,
                              "SELECT id, name, role, created_at, revoked_at, jurisdiction FROM "
                              "tokens ORDER BY id",
                              0, &q, "cannot list tokens");
    if (st) return st;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        gw_store_token t = {sqlite3_column_int64(q, 0),
                            (const char *)sqlite3_column_text(q, 1),
                            (const char *)sqlite3_column_text(q, 2),
                            (const char *)sqlite3_column_text(q, 3),
                            (const char *)sqlite3_column_text(q, 4),
                            (const char *)sqlite3_column_text(q, 5)};
        if (fn(user, &t)) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) st = st_fail(s, "cannot list tokens");
    sqlite3_finalize(q);
    return st;
}
