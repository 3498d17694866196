/* cmd_accounts.c — `gridwatch accounts import|list|disable`: scoped accounts for a roll-out (one
 * prefecture deployed 1,940 across four levels).  An account is a named bearer token with a role
 * and a jurisdiction (api/service/auth.c); the import creates hundreds from a CSV in one
 * transaction and writes their tokens once to a file only its owner can read. */
#include "auth.h"
#include "cli_util.h"
#include "commands.h"
#include "scope.h"

#include "gridwatch/csv.h"
#include "gridwatch/store_flow.h"
#include "gridwatch/store_tokens.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char usage[] = N_(
    "usage: gridwatch accounts import DB FILE.csv [--out TOKENS.csv]\n"
    "       gridwatch accounts list DB [--jurisdiction PATH] [--all]\n"
    "       gridwatch accounts disable DB NAME\n"
    "       gridwatch accounts audit DB NAME\n"
    "\n"
    "Accounts for a roll-out: each is a named API token with a role and a jurisdiction.\n"
    "'import' reads a CSV with a header naming the columns name, role and jurisdiction (any\n"
    "order; 账号/姓名 for name, 角色 for role, 辖区 for jurisdiction are accepted too): role is\n"
    "viewer, dispatcher, planner or admin; jurisdiction is a path of the grids' prefecture/\n"
    "county/township/village names joined by '/' (empty: the whole database).  All accounts are\n"
    "created in one transaction, or none: a bad role, an unknown jurisdiction, a name listed twice\n"
    "or already active refuses the file.  The new tokens are written once, as CSV\n"
    "(name,role,jurisdiction,token), to --out (created with mode 0600; it must not exist) or to\n"
    "stdout; the database keeps only their hashes.\n"
    "'list' shows the active accounts whose jurisdiction lies within PATH (all with --all,\n"
    "revoked ones included).  'disable' revokes every active token of the account NAME.\n"
    "'audit' lists every incident transition the account made (time, incident, action, states,\n"
    "levels, note), oldest first per incident; an incident's whole history is\n"
    "'gridwatch incident history DB ID'.\n"
    "\n"
    "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 refused input, 4 name conflict\n");

static int open_db(const char *db, gw_ctx **ctx, gw_store **s)
{
    if (gw_ctx_create(ctx) != GW_OK) return GW_EXIT_RUNTIME;
    gw_status st = gw_store_open(*ctx, db, 0, s);
    if (st) {
        int rc = gw_cli_fail("accounts", *ctx, st);
        gw_ctx_destroy(*ctx);
        return rc == GW_EXIT_OK ? GW_EXIT_RUNTIME : rc;
    }
    return GW_EXIT_OK;
}

/* The column of name, role and jurisdiction in the header (-1 when absent). */
static int header(char **f, int n, int col[3])
{
    static const char *const names[3][3] = {{"name", "账号", "姓名"},
                                            {"role", "角色", NULL},
                                            {"jurisdiction", "辖区", NULL}};
    col[0] = col[1] = col[2] = -1;
    for (int i = 0; i < n; i++) {
        gw_csv_trim(f[i]);
        int k = -1;
        for (int c = 0; c < 3 && k < 0; c++)
            for (int a = 0; a < 3 && k < 0; a++)
                if (names[c][a] && strcasecmp(f[i], names[c][a]) == 0) k = c;
        if (k < 0) {
            fprintf(stderr,
                    "gridwatch accounts: unknown column '%.60s' (the columns are name, role, "
                    "jurisdiction)\n",
                    f[i]);
            return -1;
        }
        col[k] = i;
    }
    if (col[0] < 0 || col[1] < 0) {
        fprintf(stderr, _("gridwatch accounts: the header must name the columns name and role\n"));
        return -1;
    }
    return 0;
}

static int cmd_import(gw_store *s, const char *file, const char *out)
{
    gw_ctx *ctx = gw_store_ctx(s);
    gw_csv *c = NULL;
    char *f[GW_CSV_MAX_COLS];
    int nf = 0, col[3];
    gw_auth_account *a = NULL;
    long *line = NULL;
    size_t n = 0, cap = 0;
    int rc = GW_EXIT_OK;
    gw_status st = gw_csv_open(ctx, file, &c);
    if (!st) st = gw_csv_next(c, f, &nf);
    if (st) return gw_cli_fail("accounts", ctx, st);
    if (nf == 0 || header(f, nf, col)) rc = GW_EXIT_INPUT;
    while (rc == GW_EXIT_OK && !(st = gw_csv_next(c, f, &nf)) && nf) {
        if (nf == 1 && !*f[0]) continue; /* a blank line */
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            gw_auth_account *na = realloc(a, cap * sizeof *na);
            long *nl = realloc(line, cap * sizeof *nl);
            if (na) a = na;
            if (nl) line = nl;
            if (!na || !nl) {
                rc = gw_cli_fail("accounts", ctx, gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory"));
                break;
            }
        }
        for (int k = 0; k < 3; k++)
            if (col[k] >= 0 && col[k] < nf) gw_csv_trim(f[col[k]]);
        const char *role = col[1] < nf ? f[col[1]] : "";
        a[n] = (gw_auth_account){.name = col[0] < nf ? f[col[0]] : "",
                                 .jurisdiction = col[2] >= 0 && col[2] < nf ? f[col[2]] : NULL};
        line[n] = gw_csv_line(c);
        if (gw_role_parse(role, &a[n].role) || a[n].role == GW_ROLE_ANON) {
            fprintf(stderr,
                    "gridwatch accounts: %s line %ld: role '%.40s' is not viewer, dispatcher, "
                    "planner or admin; nothing was created\n",
                    file, line[n], role);
            rc = GW_EXIT_INPUT;
        }
        n++;
    }
    if (rc == GW_EXIT_OK && st) rc = gw_cli_fail("accounts", ctx, st);
    if (rc == GW_EXIT_OK && n == 0) {
        fprintf(stderr, _("gridwatch accounts: %s has no accounts\n"), file);
        rc = GW_EXIT_INPUT;
    }
    char(*tok)[GW_TOKEN_LEN + 1] = rc ? NULL : calloc(n, sizeof *tok);
    FILE *fp = NULL;
    if (rc == GW_EXIT_OK && out) { /* before the import: a file we cannot write loses tokens */
        int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0 || !(fp = fdopen(fd, "w"))) {
            perror(out);
            if (fd >= 0) close(fd);
            rc = GW_EXIT_RUNTIME;
        }
    }
    size_t bad = 0;
    if (rc == GW_EXIT_OK) {
        st = gw_auth_accounts_import(s, a, n, tok, &bad);
        if (st) {
            if (bad < n) fprintf(stderr, _("gridwatch accounts: %s line %ld:\n"), file, line[bad]);
            fprintf(stderr, _("gridwatch accounts: nothing was created\n"));
            rc = gw_cli_fail("accounts", ctx, st);
            if (fp) fclose(fp), fp = NULL, unlink(out);
        }
    }
    if (rc == GW_EXIT_OK) {
        FILE *w = fp ? fp : stdout;
        fprintf(w, "name,role,jurisdiction,token\n");
        for (size_t i = 0; i < n; i++)
            fprintf(w, "\"%s\",%s,\"%s\",%s\n", a[i].name, gw_role_name(a[i].role),
                    a[i].jurisdiction ? a[i].jurisdiction : "", tok[i]);
        if (fp && fclose(fp) != 0) perror(out), rc = GW_EXIT_RUNTIME;
        fprintf(stderr, _("gridwatch accounts: %zu accounts created%s%s\n"), n,
                out ? ", tokens in " : "", out ? out : "");
    }
    if (tok) memset(tok, 0, n * sizeof *tok);
    free(tok), free(a), free(line);
    gw_csv_close(c);
    return rc;
}

typedef struct list_ctx {
    const char *within;
    int all;
    size_t n;
} list_ctx;

static int print_one(void *user, const gw_store_token *t)
{
    list_ctx *l = user;
    const char *j = t->jurisdiction ? t->jurisdiction : "";
    if (!l->all && t->revoked_at) return 0;
    if (*l->within && !(*j && gw_scope_path_contains(l->within, j))) return 0;
    printf("%-24s %-10s %-20s %-20s %s\n", t->name ? t->name : "-", t->role, t->created_at,
           t->revoked_at ? t->revoked_at : "-", *j ? j : "-");
    l->n++;
    return 0;
}

typedef struct audit_ctx {
    const char *name;
    size_t n;
} audit_ctx;

static int print_step(void *user, int64_t seq, const gw_store_flow_step *t)
{
    audit_ctx *a = user;
    (void)seq;
    if (!t->actor || strcmp(t->actor, a->name) != 0) return 0;
    printf("%-20s %-24s %-10s %s->%s  level %d->%d%s%s\n", t->at ? t->at : "-", t->incident,
           t->action, t->from_state ? t->from_state : "-", t->to_state ? t->to_state : "-",
           t->from_level, t->to_level, t->note ? "  " : "", t->note ? t->note : "");
    a->n++;
    return 0;
}

int gw_cmd_accounts(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(_(usage), stdout);
        return GW_EXIT_OK;
    }
    if (argc < 3) return gw_cli_usage_error("accounts", "a verb and a database\n%s", _(usage));
    const char *verb = argv[1], *db = argv[2], *file = NULL, *out = NULL, *within = "";
    int all = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(_(usage), stdout);
            return GW_EXIT_OK;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(argv[i], "--jurisdiction") == 0 && i + 1 < argc) within = argv[++i];
        else if (strcmp(argv[i], "--all") == 0) all = 1;
        else if (argv[i][0] != '-' && !file) file = argv[i];
        else
            return gw_cli_usage_error("accounts", "unexpected argument '%s'\n%s", argv[i],
                                      _(usage));
    }
    int is_import = strcmp(verb, "import") == 0, is_list = strcmp(verb, "list") == 0,
        is_disable = strcmp(verb, "disable") == 0, is_audit = strcmp(verb, "audit") == 0;
    if (!is_import && !is_list && !is_disable && !is_audit)
        return gw_cli_usage_error("accounts", "unknown verb '%s'\n%s", verb, _(usage));
    if ((is_import || is_disable || is_audit) && !file)
        return gw_cli_usage_error("accounts", "%s needs %s\n%s", verb,
                                  is_import ? "a CSV file" : "an account name", _(usage));
    gw_ctx *ctx = NULL;
    gw_store *s = NULL;
    int rc = open_db(db, &ctx, &s);
    if (rc) return rc;
    if (is_import) rc = cmd_import(s, file, out);
    else if (is_list) {
        list_ctx l = {.within = within, .all = all};
        printf("%-24s %-10s %-20s %-20s %s\n", "name", "role", "created", "revoked",
               "jurisdiction");
        gw_status st = gw_store_tokens_list(s, print_one, &l);
        if (st) rc = gw_cli_fail("accounts", ctx, st);
        else fprintf(stderr, "%zu accounts\n", l.n);
    } else if (is_audit) {
        audit_ctx a = {.name = file};
        gw_status st = gw_store_flow_history(s, NULL, print_step, &a);
        if (st) rc = gw_cli_fail("accounts", ctx, st);
        else fprintf(stderr, "%zu transitions by '%s'\n", a.n, file);
    } else {
        int n = 0;
        gw_status st = gw_auth_token_revoke(s, file, &n);
        if (st) rc = gw_cli_fail("accounts", ctx, st);
        else
            fprintf(stderr, _("gridwatch accounts: '%s' disabled (%d token%s)\n"), file, n,
                    n == 1 ? "" : "s");
    }
    gw_store_close(s);
    gw_ctx_destroy(ctx);
    return rc;
}
