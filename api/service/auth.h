/* auth.h — API bearer tokens: creation (printed once, only a SHA-256 kept), lookup, revocation,
 * the server's auth hook (401 vs 403) and the per-layer write rules (`gridwatch token` is
 * api/cli/cmd_token.c).
 *
 * Roles: viewer reads; dispatcher writes incidents and teams; planner writes grids, police
 * rooms and cameras; admin writes everything.  Roles are not a ladder for writes (a planner
 * may not write incidents), so write routes use GW_ROLE_DISPATCHER as their floor in the route
 * table and the handler checks the layer with gw_auth_require_write(). */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include "gridwatch/layer.h"
#include "gridwatch/store.h"
#include "server.h"

/* "gw_" + 64 lowercase hex digits (32 random bytes). */
#define GW_TOKEN_LEN 67

/* "viewer", "dispatcher", "planner", "admin" ("anonymous" for GW_ROLE_ANON). */
const char *gw_role_name(gw_role role);
/* Parse a role name; 0 on success, -1 for an unknown one. */
int gw_role_parse(const char *name, gw_role *out);
/* 1 when `role` may write `layer`. */
int gw_auth_may_write(gw_role role, gw_layer layer);

/* Create a token with `role`, an optional name (NULL = none) and an optional jurisdiction path
 * (NULL or "" = unscoped; else "County/Township[/Village]" as docs/scoping.md describes).  A
 * path with an empty part, a trailing "/" or more than four parts is GW_ERR_ARG, one that names
 * no grid of the published version GW_ERR_NOT_FOUND; the message says which part did not match.
 * The token text is written to token[GW_TOKEN_LEN + 1] and must be shown to the person once:
 * only its SHA-256 is stored.  *id (may be NULL) receives the row id.  Runs in its own
 * transaction and writes the audit log. */
gw_status gw_auth_token_create(gw_store *store, gw_role role, const char *name,
                               const char *jurisdiction, char token[GW_TOKEN_LEN + 1], int64_t *id);
/* One account of an import (gridwatch accounts import): a named token with a role and an
 * optional jurisdiction path (NULL or "" = unscoped). */
typedef struct gw_auth_account {
    const char *name;
    gw_role role;
    const char *jurisdiction;
} gw_auth_account;
/* Create a token for every account in ONE transaction: all or none.  Refused before anything is
 * written: a row without a name or role (GW_ERR_ARG), a name listed twice or one that already
 * has an active token (GW_ERR_CONFLICT), a jurisdiction that names no published grid (as
 * gw_scope_path_check; each distinct path checked once).  tokens[i] receives account i's token
 * (shown once, only hashes are kept); *bad (may be NULL) the index of the refused row (n when
 * the refusal is not one row's). */
gw_status gw_auth_accounts_import(gw_store *store, const gw_auth_account *a, size_t n,
                                  char (*tokens)[GW_TOKEN_LEN + 1], size_t *bad);

/* The role of a presented token and its jurisdiction path into jur[jcap] ("" when unscoped;
 * jur may be NULL).  GW_ERR_NOT_FOUND (no message) for a malformed, unknown or revoked token.
 * Works on a query_only connection. */
gw_status gw_auth_token_lookup(gw_store *store, const char *token, gw_role *role, char *jur,
                               size_t jcap);
/* Revoke the token with this id (all digits) or every active token with this name.  *n (may be
 * NULL) receives how many were revoked; GW_ERR_NOT_FOUND when no active token matched. */
gw_status gw_auth_token_revoke(gw_store *store, const char *id_or_name, int *n);

/* How a route treats a token scoped to a jurisdiction (docs/scoping.md). */
typedef enum gw_scope_rule {
    GW_SCOPE_REFUSE = 0, /* 403 for a scoped token: the route cannot restrict what it shows */
    GW_SCOPE_FILTERS,    /* the handler restricts its answer to the jurisdiction */
    GW_SCOPE_OPEN        /* the answer tells nothing about features (styles, legends) */
} gw_scope_rule;
/* What the auth hook needs from the routes: the rule of a route by its name (gw_route.name);
 * an unknown name must give GW_SCOPE_REFUSE, so a route nobody classified cannot leak. */
typedef struct gw_auth_conf {
    gw_scope_rule (*scope_rule)(const char *route_name);
} gw_auth_conf;

/* The gw_auth_fn of the server (user: a const gw_auth_conf *, or NULL): checks
 * "Authorization: Bearer <token>" against the tokens of the served database.  401 for a
 * missing, malformed, unknown or revoked token, 403 for a known token whose role is below
 * `need` or, for a token scoped to a jurisdiction, on a route whose rule is GW_SCOPE_REFUSE
 * (every route when user is NULL), 503 when the database cannot be asked (the server counts
 * only 401s against the client's address), 0 to allow. */
int gw_auth_hook(void *user, gw_req *req, gw_role need, char *why, size_t cap);
/* The jurisdiction path of the request's bearer token: "" when it is unscoped, or when there is
 * no valid token (anonymous reads see what anonymous reads see).  Borrowed for the request. */
const char *gw_auth_request_jurisdiction(gw_req *req);
/* The role of the request's bearer token, GW_ROLE_ANON when there is none or it is not valid. */
gw_role gw_auth_request_role(gw_req *req);
/* Who the request acts as, for audit trails: its token's name, or its role's name when the
 * token is unnamed ("anonymous" without a valid token). */
void gw_auth_request_who(gw_req *req, char *buf, size_t cap);
/* For write handlers: 0 when the request's token may write `layer`; otherwise a 401, 403 or
 * 503 (database unreachable) problem has been answered and the handler must return. */
int gw_auth_require_write(gw_req *req, gw_layer layer);

/* `gridwatch token create DB --role R [--name N] [--jurisdiction PATH]`, `token list DB`, `token revoke DB ID|NAME`;
 * argv[0] is "token".  Exit codes of cli_util.h. */
int gw_cli_token(int argc, char **argv);

#endif
