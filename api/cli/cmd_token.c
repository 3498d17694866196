/* cmd_token.c — `gridwatch token create|list|revoke`: API bearer tokens for the server
 * (the tokens themselves and the roles are api/service/auth.c; their storage the store). */
#include "auth.h"
#include "cli_util.h"
#include "commands.h"

#include "gridwatch/store_tokens.h"

#include <stdio.h>
#include <string.h>

static const char token_usage[] = N_(
    "usage: gridwatch token create DB --role viewer|dispatcher|planner|admin [--name NAME]\n"
    "                              [--jurisdiction PATH]\n"
    "       gridwatch token list DB\n"
    "       gridwatch token revoke DB ID|NAME\n"
    "\n"
    "API bearer tokens for 'gridwatch serve'.  'create' prints a new token once on stdout: keep it,\n"
    "the database stores only its SHA-256.  Clients send 'Authorization: Bearer <token>'.\n"
    "Roles: viewer reads; dispatcher writes incidents and teams; planner writes grids, police_rooms\n"
    "and cameras; admin writes everything.  Reads need a token unless the server runs with\n"
    "--anonymous-read.  'list' shows id, name, role, created and revoked times (never the token).\n"
    "'revoke' takes a token id, or a name (then every active token of that name is revoked).\n"
    "--jurisdiction scopes the token to a part of the city: the path of the grids' prefecture,\n"
    "county, township and village names joined by '/' (those the grids have), e.g.\n"
    "'Mudan/Dongcheng'.  It must name grids of the published version; the token then sees only\n"
    "what lies in them (docs/scoping.md).  'list' shows each token's jurisdiction ('-': all).\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 no such token\n");

static int open_db(const char *db, gw_ctx **ctx, gw_store **s)
{
    if (gw_ctx_create(ctx) != GW_OK) {
        fprintf(stderr, _("gridwatch token: out of memory\n"));
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

static int print_token(void *user, const gw_store_token *t)
{
    (void)user;
    printf("%-5lld %-24s %-10s %-20s %-20s %s\n", (long long)t->id, t->name ? t->name : "-",
           t->role, t->created_at, t->revoked_at ? t->revoked_at : "-",
           t->jurisdiction && *t->jurisdiction ? t->jurisdiction : "-");
    return 0;
}

static int cmd_list(gw_store *s)
{
    printf("%-5s %-24s %-10s %-20s %-20s %s\n", "id", "name", "role", "created", "revoked",
           "jurisdiction");
    gw_status st = gw_store_tokens_list(s, print_token, NULL);
    return st ? gw_cli_fail("token", gw_store_ctx(s), st) : GW_EXIT_OK;
}

int gw_cmd_token(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL, *db = NULL, *role_s = NULL, *name = NULL,
               *arg = NULL, *jur = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(_(token_usage), stdout);
            return GW_EXIT_OK;
        }
    if (!sub) return gw_cli_usage_error("token", "expected create, list or revoke (see --help)");
    if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "revoke"))
        return gw_cli_usage_error("token",
                                  "unknown sub-command '%s'; expected create, list or revoke", sub);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--role") == 0 && v && strcmp(sub, "create") == 0) {
            role_s = v, i++;
        } else if (strcmp(a, "--name") == 0 && v && strcmp(sub, "create") == 0) {
            name = v, i++;
        } else if (strcmp(a, "--jurisdiction") == 0 && v && strcmp(sub, "create") == 0) {
            jur = v, i++;
        } else if (a[0] == '-' && a[1]) {
            return gw_cli_usage_error("token",
                                      "unknown or incomplete option '%s' for token %s (see --help)",
                                      a, sub);
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
        return gw_cli_usage_error(
            "token", "token create needs --role viewer, dispatcher, planner or admin%s%s%s",
            role_s ? " (not '" : "", role_s ? role_s : "", role_s ? "')" : "");
    if (strcmp(sub, "revoke") == 0 && !arg)
        return gw_cli_usage_error(
            "token", "token revoke needs the token's id or name (see gridwatch token list)");
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    int rc = open_db(db, &ctx, &s);
    if (rc) return rc;
    if (strcmp(sub, "create") == 0) {
        char tok[GW_TOKEN_LEN + 1];
        int64_t id = 0;
        gw_status st = gw_auth_token_create(s, role, name, jur, tok, &id);
        if (st) {
            rc = gw_cli_fail("token", ctx, st);
        } else {
            printf("%s\n", tok);
            fprintf(stderr,
                    "gridwatch token: created token %lld (%s, role %s, %s%s); it is shown "
                    "only this once\n",
                    (long long)id, name ? name : "no name", gw_role_name(role),
                    jur && *jur ? "jurisdiction " : "unscoped", jur && *jur ? jur : "");
        }
    } else if (strcmp(sub, "list") == 0) {
        rc = cmd_list(s);
    } else {
        int n = 0;
        gw_status st = gw_auth_token_revoke(s, arg, &n);
        if (st) rc = gw_cli_fail("token", ctx, st);
        else fprintf(stderr, _("gridwatch token: revoked %d token%s\n"), n, n == 1 ? "" : "s");
    }
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
