/* auth.c — bearer tokens for the HTTP API and the `gridwatch token` command.
 *
 * A token is 32 bytes from getrandom(), shown once as "gw_" + hex; the database keeps only its
 * SHA-256 (nettle), which is enough for high-entropy random secrets: a lookup by hash needs no
 * constant-time compare and a stolen file yields no usable token. */
#include "auth.h"

#include "gridwatch/store_tokens.h"
#include "scope.h"

#include <ctype.h>
#include <nettle/sha2.h>
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
        return layer == GW_LAYER_GRIDS || layer == GW_LAYER_POLICE_ROOMS ||
               layer == GW_LAYER_CAMERAS;
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

/* A fresh token into token[] and its hash into h. */
static gw_status token_new(gw_ctx *ctx, char token[GW_TOKEN_LEN + 1], uint8_t h[SHA256_DIGEST_SIZE])
{
    unsigned char rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return gw_ctx_error(ctx, GW_ERR_IO, "getrandom failed: no random bytes for a token");
    memcpy(token, "gw_", 3);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(token + 3 + 2 * i, 3, "%02x", rnd[i]);
    hash_token(token, h);
    return GW_OK;
}

/* Insert one token and its audit row inside the caller's transaction. */
static gw_status token_insert(gw_store *s, gw_role role, const char *name, const char *jurisdiction,
                              const char *at, char token[GW_TOKEN_LEN + 1], int64_t *rowid)
{
    uint8_t h[SHA256_DIGEST_SIZE];
    gw_status st = token_new(gw_store_ctx(s), token, h);
    if (!st)
        st = gw_store_tokens_insert(s, name, gw_role_name(role), jurisdiction, h, sizeof h, at,
                                    rowid);
    if (!st) {
        char detail[600];
        snprintf(detail, sizeof detail, "token %lld (%s) role %s%s%s", (long long)*rowid,
                 name ? name : "no name", gw_role_name(role),
                 jurisdiction && *jurisdiction ? " jurisdiction " : "",
                 jurisdiction && *jurisdiction ? jurisdiction : "");
        st = gw_store_audit(s, "gridwatch token", "token create", detail);
    }
    return st;
}

gw_status gw_auth_token_create(gw_store *s, gw_role role, const char *name,
                               const char *jurisdiction, char token[GW_TOKEN_LEN + 1], int64_t *id)
{
    if (!s || !token) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    if (role < GW_ROLE_VIEWER || role > GW_ROLE_ADMIN)
        return gw_ctx_error(ctx, GW_ERR_ARG,
                            "a token needs a role: viewer, dispatcher, planner or admin");
    if (jurisdiction && *jurisdiction) {
        gw_status pst = gw_scope_path_check(s, jurisdiction);
        if (pst) return pst;
    }
    char at[32];
    gw_time_format((int64_t)time(NULL), at, sizeof at);
    gw_status st = gw_store_begin(s);
    if (st) return st;
    int64_t rowid = 0;
    st = token_insert(s, role, name, jurisdiction, at, token, &rowid);
    if (!st) st = gw_store_commit(s);
    if (st) {
        gw_store_rollback(s);
        memset(token, 0, GW_TOKEN_LEN + 1);
        return st;
    }
    if (id) *id = rowid;
    return GW_OK;
}

/* The names of the active tokens, for the duplicate check of an import. */
typedef struct active_names {
    const gw_auth_account *a;
    size_t n;
    const char *dup;
    char dup_buf[256];
} active_names;

static int find_active(void *user, const gw_store_token *t)
{
    active_names *an = user;
    if (t->revoked_at || !t->name) return 0;
    for (size_t i = 0; i < an->n; i++)
        if (strcmp(an->a[i].name, t->name) == 0) {
            snprintf(an->dup_buf, sizeof an->dup_buf, "%s", t->name);
            an->dup = an->dup_buf;
            return 1;
        }
    return 0;
}

gw_status gw_auth_accounts_import(gw_store *s, const gw_auth_account *a, size_t n,
                                  char (*tokens)[GW_TOKEN_LEN + 1], size_t *bad)
{
    if (!s || (n && (!a || !tokens))) return GW_ERR_ARG;
    gw_ctx *ctx = gw_store_ctx(s);
    if (bad) *bad = 0;
    for (size_t i = 0; i < n; i++) { /* the rows themselves, and names given twice */
        if (bad) *bad = i;
        if (!a[i].name || !*a[i].name)
            return gw_ctx_error(ctx, GW_ERR_ARG, "account %zu has no name", i + 1);
        if (a[i].role < GW_ROLE_VIEWER || a[i].role > GW_ROLE_ADMIN)
            return gw_ctx_error(ctx, GW_ERR_ARG,
                                "account '%s' needs a role: viewer, dispatcher, "
                                "planner or admin",
                                a[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(a[i].name, a[j].name) == 0)
                return gw_ctx_error(ctx, GW_ERR_CONFLICT, "account '%s' is listed twice",
                                    a[i].name);
        int seen = 0; /* each distinct jurisdiction is checked once */
        for (size_t j = 0; j < i && !seen; j++)
            seen = a[j].jurisdiction && a[i].jurisdiction &&
                   strcmp(a[i].jurisdiction, a[j].jurisdiction) == 0;
        if (!seen && a[i].jurisdiction && *a[i].jurisdiction) {
            gw_status pst = gw_scope_path_check(s, a[i].jurisdiction);
            if (pst) return pst;
        }
    }
    if (bad) *bad = n;
    char at[32];
    gw_time_format((int64_t)time(NULL), at, sizeof at);
    gw_status st = gw_store_begin(s);
    active_names an = {.a = a, .n = n};
    if (!st) st = gw_store_tokens_list(s, find_active, &an);
    if (!st && an.dup)
        st = gw_ctx_error(ctx, GW_ERR_CONFLICT,
                          "account '%s' already has an active token (disable it first, or leave "
                          "it out of the file)",
                          an.dup);
    for (size_t i = 0; !st && i < n; i++) {
        int64_t rowid = 0;
        st = token_insert(s, a[i].role, a[i].name, a[i].jurisdiction, at, tokens[i], &rowid);
    }
    if (!st) st = gw_store_commit(s);
    if (st) {
        gw_store_rollback(s);
        memset(tokens, 0, n * sizeof *tokens);
    }
    return st;
}

gw_status gw_auth_token_lookup(gw_store *s, const char *token, gw_role *role, char *jur,
                               size_t jcap)
{
    if (!s || !role) return GW_ERR_ARG;
    if (!well_formed(token)) return GW_ERR_NOT_FOUND;
    uint8_t h[SHA256_DIGEST_SIZE];
    hash_token(token, h);
    char name[32];
    gw_status st = gw_store_tokens_find(s, h, sizeof h, name, sizeof name, NULL, 0, jur, jcap);
    if (st) return st;
    return gw_role_parse(name, role) == 0 ? GW_OK : GW_ERR_NOT_FOUND;
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
    int changed = 0;
    st = gw_store_tokens_revoke(s, id_or_name, all_digits, at, &changed);
    if (!st && changed == 0)
        st = gw_ctx_error(ctx, GW_ERR_NOT_FOUND,
                          "no active token with id or name '%s' in %s "
                          "(see gridwatch token list)",
                          id_or_name, gw_store_path(s));
    if (!st) {
        char detail[300];
        snprintf(detail, sizeof detail, "'%s' (%d token%s)", id_or_name, changed,
                 changed == 1 ? "" : "s");
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
    *why = N_("this request needs a bearer token (Authorization: Bearer gw_…); an administrator "
              "creates one with 'gridwatch token create DB --role ROLE'");
    if (!h) return NULL;
    while (*h == ' ') h++;
    if (strncasecmp(h, "Bearer ", 7) != 0) {
        *why = N_(
            "the Authorization header must use the Bearer scheme (Authorization: Bearer gw_…)");
        return NULL;
    }
    h += 7;
    while (*h == ' ') h++;
    *why = N_("the bearer token is unknown or revoked");
    return h;
}

/* The request's well-formed bearer token into t[GW_TOKEN_LEN + 1]: 0, or 401 with the reason. */
static int request_token(gw_req *req, char t[GW_TOKEN_LEN + 1], const char **why)
{
    const char *tok = bearer(req, why);
    if (!tok) return 401;
    size_t n = strcspn(tok, " \t");
    if (n != GW_TOKEN_LEN) return 401;
    memcpy(t, tok, n);
    t[n] = '\0';
    return well_formed(t) ? 0 : 401;
}

void gw_auth_request_who(gw_req *req, char *buf, size_t cap)
{
    gw_role role = gw_auth_request_role(req);
    snprintf(buf, cap, "%s", gw_role_name(role));
    char t[GW_TOKEN_LEN + 1], rname[32], name[128];
    const char *why;
    gw_store *s = role != GW_ROLE_ANON ? gw_req_store(req) : NULL;
    if (!s || request_token(req, t, &why)) return;
    uint8_t h[SHA256_DIGEST_SIZE];
    hash_token(t, h);
    if (gw_store_tokens_find(s, h, sizeof h, rname, sizeof rname, name, sizeof name, NULL, 0) ==
            GW_OK &&
        *name)
        snprintf(buf, cap, "%s", name);
}

/* Resolve the request's role: 0 with *role, 401 with the reason, or 503 when the token cannot
 * be checked (the database is unreachable: a PostgreSQL restart) — not the client's fault, so
 * not counted against its address either. */
static int request_role_uncached(gw_req *req, gw_role *role, char *jur, size_t jcap,
                                 const char **why)
{
    char t[GW_TOKEN_LEN + 1];
    if (request_token(req, t, why)) return 401;
    gw_store *s = gw_req_store(req);
    if (!s) {
        *why = N_("the token cannot be checked: the database is unavailable; retry shortly");
        return 503;
    }
    gw_status st = gw_auth_token_lookup(s, t, role, jur, jcap);
    if (st == GW_OK) return 0;
    if (st != GW_ERR_NOT_FOUND) {
        *why = N_("the token cannot be checked: the database is unavailable; retry shortly");
        return 503;
    }
    return 401;
}

/* request_role_uncached once per request: the answer is kept in the request's auth memo. */
static int request_role(gw_req *req, gw_role *role, const char **why)
{
    gw_req_auth *m = gw_req_auth_memo(req);
    if (!m->resolved) {
        m->role = GW_ROLE_ANON;
        m->why = "";
        m->rc = request_role_uncached(req, &m->role, m->jurisdiction, sizeof m->jurisdiction,
                                      &m->why);
        if (m->rc) m->jurisdiction[0] = '\0';
        m->resolved = m->rc != 503; /* a database that was away may be back at the next call */
    }
    *role = m->role;
    *why = m->why;
    return m->rc;
}

const char *gw_auth_request_jurisdiction(gw_req *req)
{
    gw_role role;
    const char *why;
    if (request_role(req, &role, &why)) return "";
    return gw_req_auth_memo(req)->jurisdiction;
}

int gw_auth_hook(void *user, gw_req *req, gw_role need, char *why, size_t cap)
{
    const gw_auth_conf *conf = user;
    gw_role role = GW_ROLE_ANON;
    const char *reason = "";
    int rc = request_role(req, &role, &reason);
    if (rc) {
        snprintf(why, cap, "%s", reason);
        return rc;
    }
    if (role < need) {
        gw_tr_why(why, cap, "a %s token may not do this; it needs at least the %s role",
                  gw_role_name(role), gw_role_name(need));
        return 403;
    }
    const char *jur = gw_req_auth_memo(req)->jurisdiction;
    const gw_route *r = gw_req_route(req);
    if (*jur &&
        (!conf || !conf->scope_rule || !r || conf->scope_rule(r->name) == GW_SCOPE_REFUSE)) {
        gw_tr_why(why, cap,
                  "%s %s is not available to accounts scoped to a jurisdiction (this token is "
                  "scoped to '%s'); ask for an unscoped token",
                  r ? r->method : "", r ? r->pattern : "this route", jur);
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
    int rc = request_role(req, &role, &why);
    if (rc) {
        gw_req_problem(req, (unsigned)rc, NULL, "%s", why);
        gw_req_add_header(req, rc == 401 ? "WWW-Authenticate" : "Retry-After",
                          rc == 401 ? "Bearer realm=\"gridwatch\"" : "1");
        return rc;
    }
    if (!gw_auth_may_write(role, layer)) {
        gw_req_problem(req, 403, NULL,
                       "a %s token may not write %s (dispatchers write incidents "
                       "and teams; planners grids, police_rooms and cameras; admins everything)",
                       gw_role_name(role), gw_layer_name(layer));
        return 403;
    }
    return 0;
}
