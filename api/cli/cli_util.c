/* cli_util.c — exit codes, one-line errors and the progress bar shared by the commands.
 *
 * The library reports progress and warnings through callbacks on the gw_ctx; this is the
 * terminal end of those callbacks. */
#include "cli_util.h"

#include "http_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int gw_cli_exit_code(gw_status st)
{
    switch (st) {
    case GW_OK: return GW_EXIT_OK;
    case GW_ERR_ARG: return GW_EXIT_USAGE;
    case GW_ERR_FORMAT:
    case GW_ERR_GEOMETRY:
    case GW_ERR_RANGE:
    case GW_ERR_CRS:
    case GW_ERR_NOT_FOUND: return GW_EXIT_INPUT;
    case GW_ERR_CONFLICT: return GW_EXIT_CONFLICT;
    default: return GW_EXIT_RUNTIME;
    }
}

static gw_lang cli_lang = GW_LANG_EN;

void gw_cli_lang_init(void) { cli_lang = gw_lang_from_env(); }
gw_lang gw_cli_lang(void) { return cli_lang; }

int gw_cli_fail(const char *cmd, gw_ctx *ctx, gw_status st)
{
    char msg[1024];
    if (ctx && *gw_ctx_errmsg(ctx)) gw_tr_ctx_msg(cli_lang, ctx, msg, sizeof msg);
    else snprintf(msg, sizeof msg, "%s", gw_status_str(st));
    fprintf(stderr, "gridwatch %s: %s\n", cmd, msg);
    return gw_cli_exit_code(st);
}

void gw_cli_eprintf(const gw_ctx *ctx, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    gw_tr_vformat(cli_lang, ctx, buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs(buf, stderr);
}

int gw_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    gw_tr_vformat(cli_lang, NULL, buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "gridwatch %s: %s", cmd, buf);
    fprintf(stderr, _(" (see 'gridwatch %s --help')\n"), cmd);
    return GW_EXIT_USAGE;
}

void gw_cli_progress_init(gw_cli_progress *p)
{
    memset(p, 0, sizeof *p);
    const char *force = getenv("GW_PROGRESS");
    p->enabled = force ? strcmp(force, "0") != 0 : isatty(STDERR_FILENO);
    p->started = gw_mono_s();
}

static void human(double v, char *buf, size_t cap)
{
    if (v >= 1e6) snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, cap, "%.1fk", v / 1e3);
    else snprintf(buf, cap, "%.0f", v);
}

void gw_cli_progress_cb(void *user, const char *what, double done, double total)
{
    gw_cli_progress *p = user;
    if (!p || !p->enabled) return;
    double now = gw_mono_s();
    int phase_changed = strncmp(p->last_what, what, sizeof p->last_what - 1) != 0;
    int finished = total > 0 && done >= total;
    if (!phase_changed && !finished && now - p->last_draw < 0.1) return;
    if (phase_changed) {
        if (p->last_what[0]) fputc('\n', stderr);
        snprintf(p->last_what, sizeof p->last_what, "%s", what);
        p->started = now;
    }
    p->last_draw = now;
    char d[32], t[32], r[32];
    human(done, d, sizeof d);
    double el = now - p->started;
    human(el > 0 ? done / el : 0, r, sizeof r);
    if (total > 0) {
        int width = 30, fill = (int)(width * (done / total));
        if (fill > width) fill = width;
        human(total, t, sizeof t);
        fprintf(stderr, "\r%-10s [%.*s%*s] %3.0f%%  %s/%s  %s/s   ", what, fill,
                "##############################", width - fill, "", 100.0 * done / total, d, t, r);
    } else {
        fprintf(stderr, "\r%-10s %s  %s/s   ", what, d, r);
    }
    fflush(stderr);
}

void gw_cli_progress_end(gw_cli_progress *p)
{
    if (p && p->enabled && p->last_what[0]) {
        fputc('\n', stderr);
        p->last_what[0] = '\0';
    }
}

void gw_cli_warn_cb(void *user, const char *msg)
{
    gw_cli_progress *p = user;
    if (p && p->enabled && p->last_what[0]) fputc('\n', stderr);
    fprintf(stderr, _("gridwatch: warning: %s\n"), msg);
}
