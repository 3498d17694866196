/* i18n.h — messages in the user's language: English (the source text) or Simplified Chinese,
 * from one gettext catalogue (po/zh_CN.po) compiled into the binary as a table.
 *
 * The English text is the key (msgid).  A message is translated where it is formatted: the
 * English format is looked up, and the translation is written with the same arguments.  An
 * error the engine recorded on a gw_ctx is translated the same way from the format and the
 * arguments the context kept (gridwatch/fmtargs.h): geo/ never knows about languages.  The
 * language is a value passed along (per request for HTTP, per process for the CLI), never a
 * libc locale, so no locale needs to be installed and threads do not share one.
 * docs/i18n.md says how to add a message. */
#ifndef GW_I18N_H
#define GW_I18N_H

#include <stdarg.h>
#include <stddef.h>

#include "gridwatch/common.h"

/* Marks a text for the catalogue (tools/i18n_update.sh) where it is not a message function's
 * argument; it is translated where it is used, with gw_tr(). */
#ifndef N_
#define N_(s) s
#endif

typedef enum gw_lang {
    GW_LANG_EN = 0, /* English: the source text */
    GW_LANG_ZH = 1, /* Simplified Chinese (zh-CN) */
} gw_lang;

/* The language an HTTP Accept-Language header asks for (RFC 9110 §12.5.4, q-values honoured):
 * the supported language with the highest weight, the first listed on a tie; English when the
 * header is NULL, malformed, or names nothing we have.  Every zh range (zh, zh-CN, zh-Hans,
 * zh-TW, zh-Hant …) selects zh-CN, the only Chinese we have, as the web page does; "*" and
 * anything else select nothing.  Reads at most 4096 bytes and 64 entries. */
gw_lang gw_lang_from_accept(const char *header);
/* The language of a POSIX locale name ("zh_CN.UTF-8", "zh_SG", "en_US.UTF-8", "C"): Chinese
 * for a zh locale whose codeset is UTF-8 or not given (we write UTF-8 only), else English. */
gw_lang gw_lang_from_locale(const char *name);
/* The language the environment asks for, as gettext reads it: the locale is the first set of
 * LC_ALL, LC_MESSAGES, LANG; "C"/"POSIX" (or none) is English and then LANGUAGE is ignored;
 * otherwise the first en or zh entry of LANGUAGE (a colon list) decides, else the locale. */
gw_lang gw_lang_from_env(void);
/* The BCP 47 tag of a language: "en", "zh-CN". */
const char *gw_lang_tag(gw_lang lang);

/* The translation of `msgid` into `lang`, or msgid itself when it has none (or lang is
 * English).  Borrowed, static. */
const char *gw_tr(gw_lang lang, const char *msgid) __attribute__((format_arg(2)));

/* vsnprintf of fmt translated into `lang`: the arguments are those of the English fmt.  A %s
 * argument that is gw_ctx_errmsg(ctx) (the same pointer) is replaced by that message translated
 * (gw_tr_ctx_msg), so `"parameter 'bbox': %s", gw_ctx_errmsg(ctx)` translates both parts.
 * ctx may be NULL.  Returns what vsnprintf returns. */
int gw_tr_vformat(gw_lang lang, const gw_ctx *ctx, char *out, size_t cap, const char *fmt,
                  va_list ap);
int gw_tr_format(gw_lang lang, const gw_ctx *ctx, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The context's last error message in `lang`, written into buf[cap] (returned): the English
 * message when its format has no translation or its arguments were not kept. */
const char *gw_tr_ctx_msg(gw_lang lang, const gw_ctx *ctx, char *buf, size_t cap);

/* snprintf of an English reason into why[cap] for a caller that formats it later (a parser's
 * "why" buffer, an auth hook's reason), remembered with its format and arguments for this
 * thread: gw_tr_vformat given that buffer (the same pointer, still holding that text) as a %s
 * argument writes the reason translated.  One reason per thread is remembered, the last. */
void gw_tr_why(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* How many messages the catalogue of `lang` translates; *total (may be NULL): how many it
 * lists (translated or not). */
size_t gw_tr_count(gw_lang lang, size_t *total);

#endif
