/* ctx.c — the per-thread context: GEOS handle, PROJ context, the last error, callbacks.
 *
 * GEOS and PROJ report errors through handlers; both land here, on the context of the thread
 * that called them, so that the one boundary per library can turn them into a gw_status. */
#include "gridwatch/common.h"
#include "gridwatch/fmtargs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    gw_status code;
    long offset;
    char msg[1024];
    char fmt[512];   /* the English format of msg, "" when its arguments could not be kept */
    char args[1024]; /* msg's arguments, each formatted alone (gw_fmt_capture) */
    int nargs;
    int inner_idx;       /* the argument that was the previous message, -1 when none */
    char inner_fmt[512]; /* that message's format and arguments */
    char inner_args[1024];
    int inner_n;
    char geos_msg[512];
    gw_progress_fn progress;
    void *progress_user;
    gw_warn_fn warn;
    void *warn_user;
    struct {
        int src, dst;
        PJ *op;
    } ops[8]; /* gw_ctx_proj_op's cache, filled in order; the oldest is replaced when full */
    unsigned n_ops;
};

static const char *const status_names[GW_STATUS_COUNT] = {
    "GW_OK",           "GW_ERR_NOMEM",  "GW_ERR_ARG",         "GW_ERR_IO",       "GW_ERR_FORMAT",
    "GW_ERR_GEOMETRY", "GW_ERR_RANGE",  "GW_ERR_CRS",         "GW_ERR_DB",       "GW_ERR_NOT_FOUND",
    "GW_ERR_CONFLICT", "GW_ERR_SCHEMA", "GW_ERR_UNSUPPORTED", "GW_ERR_INTERNAL",
};

const char *gw_status_str(gw_status st)
{
    if ((int)st < 0 || st >= GW_STATUS_COUNT) return "GW_ERR_UNKNOWN";
    return status_names[st];
}

static void geos_message(const char *message, void *user)
{
    gw_ctx *ctx = user;
    snprintf(ctx->geos_msg, sizeof ctx->geos_msg, "%s", message ? message : "");
}

static void proj_log(void *user, int level, const char *message)
{
    (void)user;
    (void)level;
    (void)message; /* PROJ errors are read back with proj_context_errno(); keep stderr quiet */
}

gw_status gw_ctx_create(gw_ctx **out)
{
    if (!out) return GW_ERR_ARG;
    *out = NULL;
    gw_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return GW_ERR_NOMEM;
    ctx->offset = -1;
    ctx->inner_idx = -1;
    ctx->geos = GEOS_init_r();
    ctx->proj = proj_context_create();
    if (!ctx->geos || !ctx->proj) {
        gw_ctx_destroy(ctx);
        return GW_ERR_NOMEM;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message, ctx);
    proj_log_func(ctx->proj, ctx, proj_log);
    *out = ctx;
    return GW_OK;
}

void gw_ctx_destroy(gw_ctx *ctx)
{
    if (!ctx) return;
    if (ctx->geos) GEOS_finish_r(ctx->geos);
    for (unsigned i = 0; i < ctx->n_ops && i < 8; i++) proj_destroy(ctx->ops[i].op);
    if (ctx->proj) proj_context_destroy(ctx->proj);
    free(ctx);
}

GEOSContextHandle_t gw_ctx_geos(gw_ctx *ctx) { return ctx->geos; }
PJ_CONTEXT *gw_ctx_proj(gw_ctx *ctx) { return ctx->proj; }

PJ *gw_ctx_proj_op(gw_ctx *ctx, int src, int dst)
{
    const unsigned cap = sizeof ctx->ops / sizeof ctx->ops[0];
    for (unsigned i = 0; i < ctx->n_ops && i < cap; i++)
        if (ctx->ops[i].src == src && ctx->ops[i].dst == dst)
            return proj_clone(ctx->proj, ctx->ops[i].op);
    char a[32], b[32];
    snprintf(a, sizeof a, "EPSG:%d", src);
    snprintf(b, sizeof b, "EPSG:%d", dst);
    PJ *raw = proj_create_crs_to_crs(ctx->proj, a, b, NULL);
    if (!raw) return NULL;
    PJ *op = proj_normalize_for_visualization(ctx->proj, raw);
    proj_destroy(raw);
    if (!op) return NULL;
    unsigned slot = ctx->n_ops++ % cap;
    if (ctx->n_ops > cap) proj_destroy(ctx->ops[slot].op);
    ctx->ops[slot].src = src, ctx->ops[slot].dst = dst, ctx->ops[slot].op = op;
    return proj_clone(ctx->proj, op);
}
const char *gw_ctx_errmsg(const gw_ctx *ctx) { return ctx ? ctx->msg : ""; }
gw_status gw_ctx_errcode(const gw_ctx *ctx) { return ctx ? ctx->code : GW_OK; }
long gw_ctx_erroffset(const gw_ctx *ctx) { return ctx ? ctx->offset : -1; }
const char *gw_ctx_geos_errmsg(const gw_ctx *ctx) { return ctx ? ctx->geos_msg : ""; }
const char *gw_ctx_errfmt(const gw_ctx *ctx) { return ctx ? ctx->fmt : ""; }
int gw_ctx_errinner(const gw_ctx *ctx, const char **fmt, const char **args, int *n)
{
    if (!ctx || ctx->inner_idx < 0 || !ctx->fmt[0]) return -1;
    *fmt = ctx->inner_fmt, *args = ctx->inner_args, *n = ctx->inner_n;
    return ctx->inner_idx;
}
const char *gw_ctx_errargs(const gw_ctx *ctx, int *n)
{
    if (n) *n = ctx ? ctx->nargs : 0;
    return ctx ? ctx->args : "";
}

/* gw_fmt_capture's hook: notes which argument is the context's own (previous) message. */
static const char *own_msg(void *user, int idx, const char *s)
{
    gw_ctx *ctx = user;
    if (s == ctx->msg) ctx->inner_idx = idx;
    return NULL;
}

static gw_status record(gw_ctx *ctx, gw_status st, long offset, const char *fmt, va_list ap)
{
    if (!ctx) return st;
    ctx->code = st;
    ctx->offset = offset;
    if (st == GW_OK) {
        ctx->msg[0] = ctx->fmt[0] = '\0';
        ctx->nargs = 0;
        ctx->inner_idx = -1;
        return st;
    }
    /* The format and its arguments first (an argument may be ctx->msg itself), so that api/
     * can write the message again in another language (fmtargs.h).  An argument that is the
     * previous message keeps that message's own format and arguments (one level). */
    char args[sizeof ctx->args];
    va_list cp;
    va_copy(cp, ap);
    ctx->inner_idx = -1;
    int n = gw_fmt_capture(fmt, cp, args, sizeof args, own_msg, ctx);
    va_end(cp);
    if (ctx->inner_idx >= 0 && ctx->fmt[0]) {
        memcpy(ctx->inner_fmt, ctx->fmt, sizeof ctx->fmt);
        memcpy(ctx->inner_args, ctx->args, sizeof ctx->args);
        ctx->inner_n = ctx->nargs;
    } else {
        ctx->inner_idx = -1;
    }
    if (n >= 0 && strlen(fmt) < sizeof ctx->fmt) {
        memcpy(ctx->fmt, fmt, strlen(fmt) + 1);
        memcpy(ctx->args, args, sizeof args);
        ctx->nargs = n;
    } else {
        ctx->fmt[0] = '\0';
        ctx->nargs = 0;
        ctx->inner_idx = -1;
    }
    /* through a copy: an argument may be ctx->msg itself ("export %s: --srs: %s" around the
     * message of the call that failed), and vsnprintf must not write over what it reads */
    char msg[sizeof ctx->msg];
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(ctx->msg, msg, strlen(msg) + 1);
    return st;
}

gw_status gw_ctx_error(gw_ctx *ctx, gw_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, st, -1, fmt, ap);
    va_end(ap);
    return st;
}

gw_status gw_ctx_error_at(gw_ctx *ctx, gw_status st, long offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(ctx, st, offset, fmt, ap);
    va_end(ap);
    return st;
}

void gw_ctx_clear_error(gw_ctx *ctx)
{
    if (!ctx) return;
    ctx->code = GW_OK;
    ctx->offset = -1;
    ctx->msg[0] = '\0';
    ctx->fmt[0] = '\0';
    ctx->nargs = 0;
    ctx->inner_idx = -1;
    ctx->geos_msg[0] = '\0';
}

void gw_ctx_set_progress(gw_ctx *ctx, gw_progress_fn fn, void *user)
{
    ctx->progress = fn;
    ctx->progress_user = user;
}

void gw_ctx_set_warn(gw_ctx *ctx, gw_warn_fn fn, void *user)
{
    ctx->warn = fn;
    ctx->warn_user = user;
}

void gw_ctx_progress(gw_ctx *ctx, const char *what, double done, double total)
{
    if (ctx && ctx->progress) ctx->progress(ctx->progress_user, what, done, total);
}

void gw_ctx_warn(gw_ctx *ctx, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* a warning is never silent: without a callback it goes to stderr */
    if (ctx && ctx->warn) ctx->warn(ctx->warn_user, buf);
    else fprintf(stderr, "gridwatch: warning: %s\n", buf);
}
