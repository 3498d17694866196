/* auth.c — bearer tokens for the HTTP API and the `gridwatch token` command.
 *
 * A token is 32 bytes from getrandom(), shown once as "gw_" + hex; the database keeps only its
 * SHA-256 (nettle), which is enough for high-entropy random secrets: a lookup by hash needs no
 * constant-time compare and a stolen file yields no usable token. */
#include "auth.h"

#include "cli_util.h"

#include <ctype.h>
#include <nettle/sha2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

static const char *const role_names[] = {"anonymous", "viewer", "dispatcher", "planner", "admin"};

const char *gw_role_name(gw_role role)
{
    return (int)role >= 0 && role <= GW_ROLE_ADMIN ? role_names[role] : "unknown";
}

int gw_role_parse(const char *name, gw_role *out)
{
    for (int r = GW_ROLE_VIEWER; name && r <= GW_ROLE_ADMIN; r++)
        if (strcmp(name, role_names[r]) == 0) {
            *out = (gw_role)r;
            return 0;
        }
    return -1;
}

int gw_auth_may_write(gw_role role, gw_layer layer)
{
    switch (role) {
    case GW_ROLE_ADMIN: return 1;
    case GW_ROLE_DISPATCHER: return layer == GW_LAYER_INCIDENTS || layer == GW_LAYER_TEAMS;
    case GW_ROLE_PLANNER:
        return layer == GW_LAYER_GRIDS || layer == GW_LAYER_POLICE_ROOMS || layer == GW_LAYER_CAMERAS;
    default: return 0;
    }
}

/* ---- tokens -------------------------------------------------------------------------------- */

static void hash_token(const char *token, uint8_t out[SHA256_DIGEST_SIZE])
{
    struct sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, strlen(token), (const uint8_t *)token);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

static int well_formed(const char *t)
{
    if (!t || strncmp(t, "gw_", 3) != 0 || strlen(t) != GW_TOKEN_LEN) return 0;
    for (const char *p = t + 3; *p; p++)
        if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f')) return 0;
    return 1;
}

static gw_status db_fail(gw_store *s, const char *what)
{
    return gw_ctx_error(gw_store_ctx(s), GW_ERR_DB, "%s: %s (database %s)", what,
                        sqlite3_errmsg(gw_store_db(s)), gw_store_path(s));
}

gw_status gw_auth_token_create(gw_store *s, gw_role role, const char *name,
                               char token[GW_TOKEN_LEN + 1], int64_t *id)
{
    if (!s || !token) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    if (role < GW_ROLE_VIEWER || role > GW_ROLE_ADMIN)
        return gw_ctx_error(ctx, GW_ERR_ARG, "a token needs a role: viewer, dispatcher, planner or admin");
    unsigned char rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return gw_ctx_error(ctx, GW_ERR_IO, "getrandom failed: no random bytes for a token");
    memcpy(token, "gw_", 3);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(token + 3 + 2 * i, 3, "%02x", rnd[i]);
    uint8_t h[SHA256_DIGEST_SIZE];
    hash_token(token, h);
    char at[32];
    gw_time_format((int64_t)time(NULL), at, sizeof at);
    gw_status st = gw_store_begin(s);
    if (st) return st;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(gw_store_db(s), "INSERT INTO tokens (name, role, hash, created_at) "
                           "VALUES (?1, ?2, ?3, ?4)", -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(s, "cannot store the token");
    } else {
        if (name) sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, gw_role_name(role), -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, h, sizeof h, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, at, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, "cannot store the token");
    }
    sqlite3_finalize(q);
    int64_t rowid = sqlite3_last_insert_rowid(gw_store_db(s));
    if (!st) {
        char detail[300];
        snprintf(detail, sizeof detail, "token %lld (%s) role %s", (long long)rowid,
                 name ? name : "no name", gw_role_name(role));
        st = gw_store_audit(s, "gridwatch token", "token create", detail);
    }
    if (!st) st = gw_store_commit(s);
    if (st) {
        gw_store_rollback(s);
        memset(token, 0, GW_TOKEN_LEN + 1);
        return st;
    }
    if (id) *id = rowid;
    return GW_OK;
}

gw_status gw_auth_token_lookup(gw_store *s, const char *token, gw_role *role)
{
    if (!s || !role) return GW_ERR_ARG;
    if (!well_formed(token)) return GW_ERR_NOT_FOUND;
    uint8_t h[SHA256_DIGEST_SIZE];
    hash_token(token, h);
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(gw_store_db(s), "SELECT role FROM tokens WHERE hash = ?1 AND "
                           "revoked_at IS NULL", -1, &q, NULL) != SQLITE_OK)
        return db_fail(s, "cannot check the token");
    sqlite3_bind_blob(q, 1, h, sizeof h, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    gw_status st = GW_ERR_NOT_FOUND;
    if (rc == SQLITE_ROW && gw_role_parse((const char *)sqlite3_column_text(q, 0), role) == 0)
        st = GW_OK;
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        st = db_fail(s, "cannot check the token");
    sqlite3_finalize(q);
    return st;
}

gw_status gw_auth_token_revoke(gw_store *s, const char *id_or_name, int *n)
{
    if (!s || !id_or_name || !*id_or_name) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    int all_digits = 1;
    for (const char *p = id_or_name; *p; p++) all_digits &= isdigit((unsigned char)*p) != 0;
    char at[32];
    gw_time_format((int64_t)time(NULL), at, sizeof at);
    gw_status st = gw_store_begin(s);
    if (st) return st;
    sqlite3_stmt *q;
    /* An all-digit argument is an id; when no such token exists it may still be a name. */
    if (sqlite3_prepare_v2(gw_store_db(s),
                           "UPDATE tokens SET revoked_at = ?2 WHERE revoked_at IS NULL AND "
                           "(CASE WHEN ?3 AND EXISTS (SELECT 1 FROM tokens WHERE id = CAST(?1 AS INTEGER)) "
                           "THEN id = CAST(?1 AS INTEGER) ELSE name = ?1 END)", -1, &q, NULL) != SQLITE_OK) {
        st = db_fail(s, "cannot revoke");
        gw_store_rollback(s);
        return st;
    }
    sqlite3_bind_text(q, 1, id_or_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, at, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, all_digits);
    int changed = 0;
    if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(s, "cannot revoke");
    else changed = sqlite3_changes(gw_store_db(s));
    sqlite3_finalize(q);
    if (!st && changed == 0)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no active token with id or name '%s' in %s "
                          "(see gridwatch token list)", id_or_name, gw_store_path(s));
    if (!st) {
        char detail[300];
        snprintf(detail, sizeof detail, "'%s' (%d token%s)", id_or_name, changed, changed == 1 ? "" : "s");
        st = gw_store_audit(s, "gridwatch token", "token revoke", detail);
    }
    if (!st) st = gw_store_commit(s);
    if (st) {
        gw_store_rollback(s);
        return st;
    }
    if (n) *n = changed;
    return GW_OK;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

/* The bearer token of the request, or NULL; *why says what is wrong with the header. */
static const char *bearer(gw_req *req, const char **why)
{
    const char *h = gw_req_header(req, "Authorization");
    *why = "this request needs a bearer token (Authorization: Bearer gw_…); an administrator "
           "creates one with 'gridwatch token create DB --role ROLE'";
    if (!h) return NULL;
    while (*h == ' ') h++;
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        *why = "the Authorization header must use the Bearer scheme (Authorization: Bearer gw_…)";
        return NULL;
    }
    h += 7;
    while (*h == ' ') h++;
    *why = "the bearer token is unknown or revoked";
    return h;
}

/* Resolve the request's role: 0 with *role, or 401 with the reason. */
static int request_role(gw_req *req, gw_role *role, const char **why)
{
    const char *tok = bearer(req, why);
    if (!tok) return 401;
    char t[GW_TOKEN_LEN + 1];
    size_t n = strcspn(tok, " \t");
    if (n != GW_TOKEN_LEN) return 401;
    memcpy(t, tok, n);
    t[n] = '\0';
    gw_store *s = gw_req_store(req);
    if (!s) {
        *why = "the token cannot be checked: the database is unavailable";
        return 401;
    }
    gw_status st = gw_auth_token_lookup(s, t, role);
    if (st == GW_OK) return 0;
    if (st != GW_ERR_NOT_FOUND) *why = "the token cannot be checked: the database is unavailable";
    return 401;
}

int gw_auth_hook(void *user, gw_req *req, gw_role need, char *why, size_t cap)
{
    (void)user;
    gw_role role = GW_ROLE_ANON;
    const char *reason = "";
    int rc = request_role(req, &role, &reason);
    if (rc) {
        snprintf(why, cap, "%s", reason);
        return rc;
    }
    if (role < need) {
        snprintf(why, cap, "a %s token may not do this; it needs at least the %s role", gw_role_name(role),
                 gw_role_name(need));
        return 403;
    }
    return 0;
}

gw_role gw_auth_request_role(gw_req *req)
{
    gw_role role = GW_ROLE_ANON;
    const char *why;
    return request_role(req, &role, &why) == 0 ? role : GW_ROLE_ANON;
}

int gw_auth_require_write(gw_req *req, gw_layer layer)
{
    gw_role role = GW_ROLE_ANON;
    const char *why = "";
    if (request_role(req, &role, &why)) {
        gw_req_problem(req, 401, NULL, "%s", why);
        gw_req_add_header(req, "WWW-Authenticate", "Bearer realm=\"gridwatch\"");
        return 401;
    }
    if (!gw_auth_may_write(role, layer)) {
        gw_req_problem(req, 403, NULL, "a %s token may not write %s (dispatchers write incidents "
                       "and teams; planners grids, police_rooms and cameras; admins everything)",
                       gw_role_name(role), gw_layer_name(layer));
        return 403;
    }
    return 0;
}

/* ---- CLI ----------------------------------------------------------------------------------- */

static const char token_usage[] =
    "usage: gridwatch token create DB --role viewer|dispatcher|planner|admin [--name NAME]\n"
    "       gridwatch token list DB\n"
    "       gridwatch token revoke DB ID|NAME\n"
    "\n"
    "API bearer tokens for 'gridwatch serve'.  'create' prints a new token once on stdout: keep it,\n"
    "the database stores only its SHA-256.  Clients send 'Authorization: Bearer <token>'.\n"
    "Roles: viewer reads; dispatcher writes incidents and teams; planner writes grids, police_rooms\n"
    "and cameras; admin writes everything.  Reads need a token unless the server runs with\n"
    "--anonymous-read.  'list' shows id, name, role, created and revoked times (never the token).\n"
    "'revoke' takes a token id, or a name (then every active token of that name is revoked).\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 no such token\n";

static int open_db(const char *db, gw_ctx **ctx, gw_store **s)
{
    if (gw_ctx_create(ctx) != GW_OK) {
        fprintf(stderr, "gridwatch token: out of memory\n");
        return GW_EXIT_RUNTIME;
    }
    gw_status st = gw_store_open(*ctx, db, 0, s);
    if (st) {
        int rc = gw_cli_fail("token", *ctx, st);
        gw_ctx_destroy(*ctx);
        return rc == GW_EXIT_OK ? GW_EXIT_RUNTIME : rc;
    }
    return GW_EXIT_OK;
}

static int cmd_list(gw_store *s)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(gw_store_db(s), "SELECT id, coalesce(name, '-'), role, created_at, "
                           "coalesce(revoked_at, '-') FROM tokens ORDER BY id", -1, &q, NULL) != SQLITE_OK)
        return gw_cli_fail("token", gw_store_ctx(s), db_fail(s, "cannot list tokens"));
    printf("%-5s %-24s %-10s %-20s %s\n", "id", "name", "role", "created", "revoked");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        printf("%-5lld %-24s %-10s %-20s %s\n", (long long)sqlite3_column_int64(q, 0),
               sqlite3_column_text(q, 1), sqlite3_column_text(q, 2), sqlite3_column_text(q, 3),
               sqlite3_column_text(q, 4));
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return gw_cli_fail("token", gw_store_ctx(s), db_fail(s, "cannot list tokens"));
    return GW_EXIT_OK;
}

int gw_cli_token(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL, *db = NULL, *role_s = NULL, *name = NULL, *arg = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(token_usage, stdout);
            return GW_EXIT_OK;
        }
    if (!sub) return gw_cli_usage_error("token", "expected create, list or revoke (see --help)");
    if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke"))
        return gw_cli_usage_error("token", "unknown sub-command '%s'; expected create, list or revoke", sub);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--role") == 0 && v && strcmp(sub, "create") == 0) {
            role_s = v, i++;
        } else if (strcmp(a, "--name") == 0 && v && strcmp(sub, "create") == 0) {
            name = v, i++;
        } else if (a[0] == '-' && a[1]) {
            return gw_cli_usage_error("token", "unknown or incomplete option '%s' for token %s (see --help)", a, sub);
        } else if (!db) {
            db = a;
        } else if (!arg && strcmp(sub, "revoke") == 0) {
            arg = a;
        } else {
            return gw_cli_usage_error("token", "unexpected argument '%s' (see --help)", a);
        }
    }
    if (!db) return gw_cli_usage_error("token", "token %s: no database given (see --help)", sub);
    gw_role role = GW_ROLE_ANON;
    if (strcmp(sub, "create") == 0 && (!role_s || gw_role_parse(role_s, &role) != 0))
        return gw_cli_usage_error("token", "token create needs --role viewer, dispatcher, planner or admin%s%s%s",
                                  role_s ? " (not '" : "", role_s ? role_s : "", role_s ? "')" : "");
    if (strcmp(sub, "revoke") == 0 && !arg)
        return gw_cli_usage_error("token", "token revoke needs the token's id or name (see gridwatch token list)");
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    int rc = open_db(db, &ctx, &s);
    if (rc) return rc;
    if (strcmp(sub, "create") == 0) {
        char tok[GW_TOKEN_LEN + 1];
        int64_t id = 0;
        gw_status st = gw_auth_token_create(s, role, name, tok, &id);
        if (st) {
            rc = gw_cli_fail("token", ctx, st);
        } else {
            printf("%s\n", tok);
            fprintf(stderr, "gridwatch token: created token %lld (%s, role %s); it is shown only "
                    "this once\n", (long long)id, name ? name : "no name", gw_role_name(role));
        }
    } else if (strcmp(sub, "list") == 0) {
        rc = cmd_list(s);
    } else {
        int n = 0;
        gw_status st = gw_auth_token_revoke(s, arg, &n);
        if (st) rc = gw_cli_fail("token", ctx, st);
        else fprintf(stderr, "gridwatch token: revoked %d token%s\n", n, n == 1 ? "" : "s");
    }
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
