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

/* Create a token with `role` and an optional name (NULL = none).  The token text is written to
 * token[GW_TOKEN_LEN + 1] and must be shown to the person once: only its SHA-256 is stored.
 * *id (may be NULL) receives the row id.  Runs in its own transaction and writes the audit log. */
gw_status gw_auth_token_create(gw_store *store, gw_role role, const char *name,
                               char token[GW_TOKEN_LEN + 1], int64_t *id);
/* The role of a presented token.  GW_ERR_NOT_FOUND (no message) for a malformed, unknown or
 * revoked token.  Works on a query_only connection. */
gw_status gw_auth_token_lookup(gw_store *store, const char *token, gw_role *role);
/* Revoke the token with this id (all digits) or every active token with this name.  *n (may be
 * NULL) receives how many were revoked; GW_ERR_NOT_FOUND when no active token matched. */
gw_status gw_auth_token_revoke(gw_store *store, const char *id_or_name, int *n);

/* The gw_auth_fn of the server (user unused): checks "Authorization: Bearer <token>" against
 * the tokens of the served database.  401 for a missing, malformed, unknown or revoked token,
 * 403 for a known token whose role is below `need`, 503 when the database cannot be asked (the
 * server counts only 401s against the client's address), 0 to allow. */
int gw_auth_hook(void *user, gw_req *req, gw_role need, char *why, size_t cap);
/* The role of the request's bearer token, GW_ROLE_ANON when there is none or it is not valid. */
gw_role gw_auth_request_role(gw_req *req);
/* Who the request acts as, for audit trails: its token's name, or its role's name when the
 * token is unnamed ("anonymous" without a valid token). */
void gw_auth_request_who(gw_req *req, char *buf, size_t cap);
/* For write handlers: 0 when the request's token may write `layer`; otherwise a 401, 403 or
 * 503 (database unreachable) problem has been answered and the handler must return. */
int gw_auth_require_write(gw_req *req, gw_layer layer);

/* `gridwatch token create DB --role R [--name N]`, `token list DB`, `token revoke DB ID|NAME`;
 * argv[0] is "token".  Exit codes of cli_util.h. */
int gw_cli_token(int argc, char **argv);

#endif
