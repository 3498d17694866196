/* fmtargs.h — a printf call kept as its format and its arguments, each already formatted, so
 * that the same message can be written again later from another format with the same
 * conversions (a translation), after the arguments themselves are gone.
 *
 * The context keeps the English format and the arguments of its last error this way
 * (gw_ctx_errfmt / gw_ctx_errargs): geo/ stays free of languages, and api/ writes the message
 * in the language a request or a terminal asks for (api/http/i18n.h). */
#ifndef GW_FMTARGS_H
#define GW_FMTARGS_H

#include <stdarg.h>
#include <stddef.h>

#include "gridwatch/common.h"

/* How many arguments a captured call keeps at most. */
#define GW_FMT_MAX_ARGS 16

/* Format each argument of `fmt` alone with its own conversion ("%5.1f" of 3.14159 → "  3.1")
 * into out[cap] as consecutive NUL-terminated strings, in the order of the conversions.  `hook`
 * (may be NULL) sees every %s argument first, with its index among the arguments, and may
 * return a replacement for it (NULL: keep it).  Returns the number of arguments, or -1 when fmt has a conversion this does not handle
 * (%n, %ls, positional %1$s), more than GW_FMT_MAX_ARGS conversions, or out is too small.  `ap`
 * is consumed: pass a va_copy when the caller still needs the arguments. */
int gw_fmt_capture(const char *fmt, va_list ap, char *out, size_t cap,
                   const char *(*hook)(void *user, int idx, const char *s), void *user);

/* Write `fmt` into out[cap] (always NUL-terminated when cap > 0) with its k-th conversion
 * replaced by the k-th captured argument (or the N-th for a positional %N$…); "%%" is "%".
 * Width and precision were applied at capture and are ignored here.  Returns the length of the
 * whole text (as snprintf), or -1 when fmt asks for an argument beyond n. */
int gw_fmt_render(const char *fmt, const char *args, int n, char *out, size_t cap);

/* The English format of the context's last error ("" when none or when its arguments could not
 * be kept), and its arguments as gw_fmt_capture() wrote them (*n their count).  Borrowed until
 * the next error is recorded. */
const char *gw_ctx_errfmt(const gw_ctx *ctx);
const char *gw_ctx_errargs(const gw_ctx *ctx, int *n);
/* When the last error was recorded around the context's previous message ("export %s: --srs:
 * %s", …, gw_ctx_errmsg(ctx)): the index of that argument, with the previous message's format
 * and arguments in *fmt, *args, *n; -1 otherwise.  One level is kept. */
int gw_ctx_errinner(const gw_ctx *ctx, const char **fmt, const char **args, int *n);

#endif
