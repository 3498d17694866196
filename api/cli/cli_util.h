/* cli_util.h — what every gridwatch command shares: exit codes, one-line errors, a progress
 * bar on stderr, and the mapping from gw_status to an exit code a script can act on. */
#ifndef GW_CLI_UTIL_H
#define GW_CLI_UTIL_H

#include "gridwatch/common.h"
#include "i18n.h"

/* Exit codes (documented in `gridwatch --help` and docs/cli.md). */
enum {
    GW_EXIT_OK = 0,
    GW_EXIT_RUNTIME = 1, /* the database or a file could not be used */
    GW_EXIT_USAGE = 2,   /* wrong command line */
    GW_EXIT_INPUT = 3,   /* the input data was refused (format, geometry, range, CRS) */
    GW_EXIT_CONFLICT = 4 /* duplicate id, non-empty target, lost race */
};

/* The language of the command line's messages (i18n.h): read from the environment (LANGUAGE,
 * LC_ALL, LC_MESSAGES, LANG) once by main() before any thread starts; English until then. */
void gw_cli_lang_init(void);
gw_lang gw_cli_lang(void);
/* A message text in the command line's language: _("…") where it is printed; N_("…") marks a
 * text kept in a variable for the catalogue (tools/i18n_update.sh). */
#define _(s) gw_tr(gw_cli_lang(), s)

/* Exit code for a status. */
int gw_cli_exit_code(gw_status st);
/* Print "gridwatch <cmd>: <message>" on stderr, one line, from the ctx (or st's name). */
int gw_cli_fail(const char *cmd, gw_ctx *ctx, gw_status st);
/* fprintf(stderr, fmt, …) in the command line's language; a %s argument that is
 * gw_ctx_errmsg(ctx) is translated too. */
void gw_cli_eprintf(const gw_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "gridwatch <cmd>: <fmt…>" on stderr (fmt translated) and return GW_EXIT_USAGE. */
int gw_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Progress bar state for gw_ctx_set_progress(): draws on stderr when it is a terminal (or when
 * GW_PROGRESS=1), at most ~10 times a second; silent otherwise. */
typedef struct gw_cli_progress {
    int enabled;
    double last_draw;
    double started;
    char last_what[32];
} gw_cli_progress;
void gw_cli_progress_init(gw_cli_progress *p);
void gw_cli_progress_cb(void *user, const char *what, double done, double total);
/* Finish the bar line (newline) if one was drawn. */
void gw_cli_progress_end(gw_cli_progress *p);
/* Warning callback printing "gridwatch: warning: …" on stderr. */
void gw_cli_warn_cb(void *user, const char *msg);

#endif
