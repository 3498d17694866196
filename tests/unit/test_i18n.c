/* test_i18n.c — messages in the user's language (api/http/i18n.c, geo/core/fmtargs.c): the
 * Accept-Language and locale choices, the catalogue lookup, a printf call kept as format plus
 * arguments and written again from a translation, and an engine error recorded on a gw_ctx in
 * English and read back in Chinese. */
#include "testutil.h"

#include "gridwatch/fmtargs.h"
#include "i18n.h"
#include "problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_accept_language(void **state)
{
    (void)state;
    static const struct {
        const char *h;
        gw_lang want;
    } cases[] = {
        {NULL, GW_LANG_EN},
        {"", GW_LANG_EN},
        {"en", GW_LANG_EN},
        {"zh-CN,zh;q=0.9,en;q=0.8", GW_LANG_ZH},
        {"en-US,en;q=0.9,zh-CN;q=0.8", GW_LANG_EN},
        {"fr, zh;q=0.5", GW_LANG_ZH}, /* the only language we have, at a low weight */
        {"fr, de;q=0.5", GW_LANG_EN}, /* nothing we have: the default */
        {"zh;q=0, en", GW_LANG_EN},   /* q=0: not acceptable */
        {"en;q=0, zh", GW_LANG_ZH},
        {"zh-TW", GW_LANG_ZH}, /* Traditional asked: Simplified is what we have */
        {"zh-Hant-HK", GW_LANG_ZH},
        {"ZH-cn", GW_LANG_ZH}, /* ranges are case-insensitive */
        {"*", GW_LANG_EN},
        {"*;q=0.9, zh;q=0.1", GW_LANG_ZH},
        {"zh;q=1.5", GW_LANG_EN}, /* malformed weights drop their element */
        {"zh;q=0.1234", GW_LANG_EN},
        {"zh;q=", GW_LANG_EN},
        {"zhx", GW_LANG_EN},
        {"zh_CN", GW_LANG_EN},              /* '_' is no language-range */
        {"en;q=0.5, zh;q=0.5", GW_LANG_EN}, /* a tie: the first listed */
        {"zh;q=0.5, en;q=0.5", GW_LANG_ZH},
        {" zh-CN ; q=0.8 , en ; q=0.7 ", GW_LANG_ZH},
        {"zh-CN;foo=bar;q=0.9,en;q=0.95", GW_LANG_EN},
        {",,, zh ,,", GW_LANG_ZH},
        {"en-GB-oxendict, zh", GW_LANG_EN},
        {"toolongtag-zh, zh;q=0.2", GW_LANG_ZH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_lang got = gw_lang_from_accept(cases[i].h);
        if (got != cases[i].want) fprintf(stderr, "Accept-Language '%s'\n", cases[i].h);
        assert_int_equal(got, cases[i].want);
    }
}

static void test_locale(void **state)
{
    (void)state;
    assert_int_equal(gw_lang_from_locale("zh_CN.UTF-8"), GW_LANG_ZH);
    assert_int_equal(gw_lang_from_locale("zh_CN.utf8"), GW_LANG_ZH);
    assert_int_equal(gw_lang_from_locale("zh_CN"), GW_LANG_ZH);
    assert_int_equal(gw_lang_from_locale("zh_TW.UTF-8"), GW_LANG_ZH);
    assert_int_equal(gw_lang_from_locale("zh_SG.UTF-8@stroke"), GW_LANG_ZH);
    assert_int_equal(gw_lang_from_locale("zh_CN.GB18030"), GW_LANG_EN); /* we write UTF-8 */
    assert_int_equal(gw_lang_from_locale("en_US.UTF-8"), GW_LANG_EN);
    assert_int_equal(gw_lang_from_locale("C"), GW_LANG_EN);
    assert_int_equal(gw_lang_from_locale(NULL), GW_LANG_EN);

    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    unsetenv("LANG");
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    setenv("LANG", "zh_CN.UTF-8", 1);
    assert_int_equal(gw_lang_from_env(), GW_LANG_ZH);
    setenv("LC_MESSAGES", "en_GB.UTF-8", 1); /* LC_MESSAGES before LANG */
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    setenv("LC_ALL", "zh_CN.UTF-8", 1); /* LC_ALL before both */
    assert_int_equal(gw_lang_from_env(), GW_LANG_ZH);
    setenv("LANGUAGE", "fr:en:zh", 1); /* its first language we have */
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    setenv("LANGUAGE", "zh_CN:en", 1);
    setenv("LC_ALL", "en_US.UTF-8", 1);
    assert_int_equal(gw_lang_from_env(), GW_LANG_ZH);
    setenv("LC_ALL", "C", 1); /* as gettext: LANGUAGE is ignored under the C locale */
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    setenv("LC_ALL", "en_US.ISO-8859-1", 1); /* zh asked, but the terminal is not UTF-8 */
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANGUAGE");
    setenv("LANG", "C.UTF-8", 1);
    assert_int_equal(gw_lang_from_env(), GW_LANG_EN);
    assert_string_equal(gw_lang_tag(GW_LANG_ZH), "zh-CN");
    assert_string_equal(gw_lang_tag(GW_LANG_EN), "en");
}

static void test_catalogue(void **state)
{
    (void)state;
    size_t total = 0, n = gw_tr_count(GW_LANG_ZH, &total);
    assert_true(n > 200);
    assert_true(total >= n);
    assert_string_equal(gw_tr(GW_LANG_ZH, "Not Found"), "未找到");
    const char *m = "Not Found";
    assert_ptr_equal(gw_tr(GW_LANG_EN, m), m);
    const char *u = "no such message in any catalogue";
    assert_ptr_equal(gw_tr(GW_LANG_ZH, u), u);
    /* every problem title has its translation */
    for (int st = GW_ERR_NOMEM; st < GW_STATUS_COUNT; st++) {
        const char *t = gw_http_title((gw_status)st);
        assert_string_not_equal(gw_tr(GW_LANG_ZH, t), t);
    }
}

/* vsnprintf and capture + render of the same format give the same text. */
static void same(const char *fmt, ...)
{
    char want[512], args[512], got[512];
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    vsnprintf(want, sizeof want, fmt, ap);
    int n = gw_fmt_capture(fmt, cp, args, sizeof args, NULL, NULL);
    va_end(cp);
    va_end(ap);
    assert_true(n >= 0);
    assert_true(gw_fmt_render(fmt, args, n, got, sizeof got) >= 0);
    assert_string_equal(got, want);
}

static int capture(char *args, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = gw_fmt_capture(fmt, ap, args, cap, NULL, NULL);
    va_end(ap);
    return n;
}

static void test_fmtargs(void **state)
{
    (void)state;
    same("%s has %d items (%.1f%%) of %zu, %5.2f|%-4s|%.*s|%lld|%x|%c|%g|%04d", "grid", 7, 12.345,
         (size_t)99, 3.14159, "ab", 3, "abcdef", -5LL, 255u, 'Q', 1e-7, 42);
    same("no arguments at all %%");
    same("%*d|%-*.*s|%ld|%lu|%hd|%p", 6, 42, 8, 2, "xyz", -7L, 7UL, (short)3, (void *)0);
    same("%s", (const char *)NULL);
    char args[256], out[256];
    int n = capture(args, sizeof args, "%s then %s, %d token%s", "A", "B", 2, "s");
    assert_int_equal(n, 4);
    /* a translation may reorder (positional) and drop an English plural with %.0s */
    assert_true(gw_fmt_render("%2$s 在 %1$s 之后，%3$d 个令牌%4$.0s", args, n, out, sizeof out) >=
                0);
    assert_string_equal(out, "B 在 A 之后，2 个令牌");
    assert_int_equal(gw_fmt_render("%s %s %s %s %s", args, n, out, sizeof out), -1);
    /* truncation keeps a terminated prefix and reports the whole length */
    assert_int_equal(gw_fmt_render("%s-%s", args, n, out, 3), 3);
    assert_string_equal(out, "A-");
    /* a buffer cut by a precision need not end in a NUL (a tile path inside a URL): only the
     * precision's bytes are read, for a '*' precision and a written one, zero included
     * (the ASan build reads past a heap copy of the bytes otherwise) */
    char *cut = malloc(3);
    assert_non_null(cut);
    memcpy(cut, "9/x", 3);
    same("'%.*s' in '%.*s'|%.2s|%-5.1s|", 0, cut, 3, cut, cut, cut);
    free(cut);
    /* what is not handled is refused, not guessed */
    assert_int_equal(capture(args, sizeof args, "%1$s", "x"), -1);
    assert_int_equal(capture(args, sizeof args, "%ls", L"x"), -1);
    assert_int_equal(capture(args, 4, "%s", "too long for four bytes"), -1);
}

static void test_ctx_message(void **state)
{
    (void)state;
    gw_ctx *ctx = NULL;
    assert_int_equal(gw_ctx_create(&ctx), GW_OK);
    int64_t t;
    assert_int_not_equal(gw_time_parse(ctx, "2000-01-01T00:00:00", "Mars/Olympus", &t), GW_OK);
    char buf[1024];
    /* English: the message as recorded */
    assert_string_equal(gw_tr_ctx_msg(GW_LANG_EN, ctx, buf, sizeof buf), gw_ctx_errmsg(ctx));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "unknown time zone 'Mars/Olympus'"));
    /* Chinese: the format the context kept, translated, with the same argument */
    gw_tr_ctx_msg(GW_LANG_ZH, ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "未知时区“Mars/Olympus”"));
    /* an outer format with the context's message as argument translates both parts */
    gw_tr_format(GW_LANG_ZH, ctx, buf, sizeof buf, "parameter 'datetime': %s", gw_ctx_errmsg(ctx));
    assert_non_null(strstr(buf, "参数 'datetime'：未知时区“Mars/Olympus”"));
    gw_tr_format(GW_LANG_EN, ctx, buf, sizeof buf, "parameter 'datetime': %s", gw_ctx_errmsg(ctx));
    assert_non_null(strstr(buf, "parameter 'datetime': unknown time zone 'Mars/Olympus'"));
    /* an error recorded around the previous one keeps that one's format (one level): the
     * outer format stays English when it has no translation, the inner one is translated */
    gw_ctx_error(ctx, GW_ERR_ARG, "import %s: %s", "f.csv", gw_ctx_errmsg(ctx));
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "import f.csv: unknown time zone 'Mars/Olympus'"));
    gw_tr_ctx_msg(GW_LANG_ZH, ctx, buf, sizeof buf);
    assert_non_null(strstr(buf, "import f.csv: 未知时区“Mars/Olympus”"));
    gw_tr_ctx_msg(GW_LANG_EN, ctx, buf, sizeof buf);
    assert_string_equal(buf, gw_ctx_errmsg(ctx));
    /* a message without translation stays English */
    gw_ctx_error(ctx, GW_ERR_ARG, "an engine message nobody translated (%d)", 5);
    assert_string_equal(gw_tr_ctx_msg(GW_LANG_ZH, ctx, buf, sizeof buf),
                        "an engine message nobody translated (5)");
    /* a cleared context keeps no format */
    gw_ctx_clear_error(ctx);
    assert_string_equal(gw_ctx_errfmt(ctx), "");
    assert_string_equal(gw_tr_ctx_msg(GW_LANG_ZH, ctx, buf, sizeof buf), "");
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_language), cmocka_unit_test(test_locale),
        cmocka_unit_test(test_catalogue),       cmocka_unit_test(test_fmtargs),
        cmocka_unit_test(test_ctx_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
