/* fuzz_accept_language.c — libFuzzer target for gw_lang_from_accept (the Accept-Language header
 * of every request that gets a problem answer: untrusted), gw_lang_from_locale, and
 * gw_fmt_render over the input as a format (what renders a translation with the arguments an
 * English message kept).  Checks: the language is one of ours; an input without "zh" in any
 * case is English; the header read again with an empty element appended gives the same answer;
 * render stays inside its buffer (ASan) and terminates it. */
#include "fuzz_util.h"

#include "gridwatch/fmtargs.h"
#include "i18n.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int has_zh(const char *s)
{
    for (; s[0] && s[1]; s++)
        if (tolower((unsigned char)s[0]) == 'z' && tolower((unsigned char)s[1]) == 'h') return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) return 0;
    char *text = fz_strndup(data, size);
    gw_lang l = gw_lang_from_accept(text);
    if (l != GW_LANG_EN && l != GW_LANG_ZH) fz_fail("language %d out of the enum", (int)l);
    if (l == GW_LANG_ZH && !has_zh(text)) fz_fail("'%.200s' chose zh without naming it", text);
    size_t n = strlen(text);
    if (n < 4000) { /* below the 4096-byte read limit, an empty list element changes nothing */
        char *more = malloc(n + 3);
        if (more) {
            memcpy(more, text, n);
            memcpy(more + n, ", ", 3);
            if (gw_lang_from_accept(more) != l)
                fz_fail("'%.200s' and the same with ', ' differ", text);
            free(more);
        }
    }
    gw_lang loc = gw_lang_from_locale(text);
    if (loc != GW_LANG_EN && loc != GW_LANG_ZH) fz_fail("locale language %d", (int)loc);
    static const char args[] = "one\0two\0three";
    char out[64];
    memset(out, 'x', sizeof out);
    int len = gw_fmt_render(text, args, 3, out, sizeof out);
    if (memchr(out, '\0', sizeof out) == NULL) fz_fail("render left its buffer unterminated");
    if (len >= 0 && len < (int)sizeof out && strlen(out) != (size_t)len)
        fz_fail("render said %d bytes, wrote %zu", len, strlen(out));
    free(text);
    return 0;
}
