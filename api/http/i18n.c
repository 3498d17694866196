/* i18n.c — the language choice (Accept-Language, the locale environment), the catalogue lookup
 * and translation at the point of formatting (i18n.h).
 *
 * The table generated from po/zh_CN.po is sorted once, on first use, by the English text as the
 * compiler spelled it (a "%" PRId64 in a msgid is expanded there), then searched by bsearch. */
#include "i18n.h"

#include "i18n_catalog.h"

#include "gridwatch/fmtargs.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- choosing the language -------------------------------------------------------------- */

static int ieq_prefix(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l) return 0;
    for (size_t i = 0; i < l; i++)
        if (tolower((unsigned char)s[i]) != lit[i]) return 0;
    return 1;
}

/* The language of a range of n bytes: 1 en, 2 zh, 0 other (also "*"). */
static int range_lang(const char *r, size_t n)
{
    if (ieq_prefix(r, n, "zh") && (n == 2 || r[2] == '-')) return 2;
    if (ieq_prefix(r, n, "en") && (n == 2 || r[2] == '-')) return 1;
    return 0;
}

/* A language-range: "*" or 1*8ALPHA *("-" 1*8alphanum). */
static int valid_range(const char *r, size_t n)
{
    if (n == 1 && r[0] == '*') return 1;
    size_t part = 0, i = 0;
    int first = 1;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)r[i];
        if (c == '-') {
            if (part == 0) return 0;
            part = 0, first = 0;
            continue;
        }
        if (!(first ? isalpha(c) : isalnum(c)) || ++part > 8) return 0;
    }
    return part > 0;
}

/* A qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")], as thousandths; -1 when malformed. */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1')) return -1;
    int v = (s[0] - '0') * 1000;
    if (n == 1) return v;
    if (s[1] != '.' || n > 5) return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v += (s[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

static int ows(char c) { return c == ' ' || c == '\t'; }

gw_lang gw_lang_from_accept(const char *header)
{
    if (!header) return GW_LANG_EN;
    size_t len = strnlen(header, 4096);
    int best = 0, best_q = 0, entries = 0;
    size_t i = 0;
    while (i < len && entries < 64) {
        size_t end = i;
        while (end < len && header[end] != ',') end++;
        /* one element: range *( OWS ";" OWS parameter ) */
        size_t a = i, b = end;
        while (a < b && ows(header[a])) a++;
        while (b > a && ows(header[b - 1])) b--;
        i = end + 1;
        if (a == b) continue; /* empty list elements are allowed */
        entries++;
        size_t r_end = a;
        while (r_end < b && header[r_end] != ';' && !ows(header[r_end])) r_end++;
        if (!valid_range(header + a, r_end - a)) continue;
        int q = 1000, ok = 1;
        size_t p = r_end;
        while (p < b && ok) {
            while (p < b && ows(header[p])) p++;
            if (p >= b) break;
            if (header[p] != ';') {
                ok = 0;
                break;
            }
            p++;
            while (p < b && ows(header[p])) p++;
            size_t pe = p;
            while (pe < b && header[pe] != ';' && !ows(header[pe])) pe++;
            if (pe - p >= 2 && (header[p] == 'q' || header[p] == 'Q') && header[p + 1] == '=') {
                q = parse_q(header + p + 2, pe - p - 2);
                if (q < 0) ok = 0;
            }
            p = pe;
        }
        if (!ok) continue;
        int l = range_lang(header + a, r_end - a);
        if (l && q > best_q) best = l, best_q = q;
    }
    return best == 2 ? GW_LANG_ZH : GW_LANG_EN;
}

gw_lang gw_lang_from_locale(const char *name)
{
    if (!name || !ieq_prefix(name, strlen(name), "zh")) return GW_LANG_EN;
    const char *c = name + 2;
    if (*c && *c != '_' && *c != '.' && *c != '@' && *c != '-') return GW_LANG_EN; /* "zha" */
    const char *dot = strchr(name, '.');
    if (!dot) return GW_LANG_ZH;
    size_t n = strcspn(dot + 1, "@");
    if ((n == 5 && ieq_prefix(dot + 1, n, "utf-8")) || (n == 4 && ieq_prefix(dot + 1, n, "utf8")))
        return GW_LANG_ZH;
    return GW_LANG_EN; /* GB18030, GBK …: the terminal would show our UTF-8 as mojibake */
}

/* 1 for an English name of n bytes (en, en_US, en-GB, en.UTF-8), 2 for a Chinese one, else 0. */
static int name_lang(const char *p, size_t n)
{
    int sep_ok = n == 2 || (n > 2 && strchr("_-.@", p[2]));
    if (!sep_ok) return 0;
    if (ieq_prefix(p, n, "en")) return 1;
    if (ieq_prefix(p, n, "zh")) return 2;
    return 0;
}

gw_lang gw_lang_from_env(void)
{
    const char *loc = NULL;
    const char *names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (int i = 0; i < 3 && !loc; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) loc = v;
    }
    if (!loc || !strcmp(loc, "C") || !strcmp(loc, "POSIX") || !strncmp(loc, "C.", 2))
        return GW_LANG_EN;
    const char *language = getenv("LANGUAGE");
    for (const char *p = language ? language : ""; *p;) {
        size_t n = strcspn(p, ":");
        int l = name_lang(p, n);
        if (l == 1) return GW_LANG_EN;
        if (l == 2) {
            /* LANGUAGE names no codeset: the locale's must be UTF-8 (or none) */
            const char *dot = strchr(loc, '.');
            char probe[64];
            snprintf(probe, sizeof probe, "zh%.40s", dot ? dot : "");
            return gw_lang_from_locale(probe);
        }
        p += n;
        if (*p == ':') p++;
    }
    return gw_lang_from_locale(loc);
}

const char *gw_lang_tag(gw_lang lang) { return lang == GW_LANG_ZH ? "zh-CN" : "en"; }

/* ---- the catalogue ---------------------------------------------------------------------- */

static const i18n_entry **zh_sorted;
static size_t zh_n;
static pthread_once_t zh_once = PTHREAD_ONCE_INIT;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp((*(const i18n_entry *const *)a)->id, (*(const i18n_entry *const *)b)->id);
}

static void zh_sort(void)
{
    zh_sorted = malloc((i18n_zh_count ? i18n_zh_count : 1) * sizeof *zh_sorted);
    if (!zh_sorted) return; /* out of memory at start: every message stays English */
    for (size_t i = 0; i < i18n_zh_count; i++) zh_sorted[i] = &i18n_zh_entries[i];
    qsort(zh_sorted, i18n_zh_count, sizeof *zh_sorted, entry_cmp);
    zh_n = i18n_zh_count;
}

static int key_cmp(const void *key, const void *elem)
{
    return strcmp(key, (*(const i18n_entry *const *)elem)->id);
}

/* The translation of msgid, NULL when there is none. */
static const char *lookup(gw_lang lang, const char *msgid)
{
    if (lang != GW_LANG_ZH || !msgid || !*msgid) return NULL;
    pthread_once(&zh_once, zh_sort);
    const i18n_entry *const *e = zh_n ? bsearch(msgid, zh_sorted, zh_n, sizeof *zh_sorted, key_cmp)
                                      : NULL;
    return e ? (*e)->str : NULL;
}

const char *gw_tr(gw_lang lang, const char *msgid)
{
    const char *t = lookup(lang, msgid);
    return t ? t : msgid;
}

size_t gw_tr_count(gw_lang lang, size_t *total)
{
    if (total) *total = lang == GW_LANG_ZH ? i18n_zh_total : 0;
    return lang == GW_LANG_ZH ? i18n_zh_count : 0;
}

/* ---- translation at the point of formatting --------------------------------------------- */

const char *gw_tr_ctx_msg(gw_lang lang, const gw_ctx *ctx, char *buf, size_t cap)
{
    if (!buf || cap == 0) return "";
    const char *en = gw_ctx_errmsg(ctx), *fmt = gw_ctx_errfmt(ctx);
    int n = 0;
    const char *args = gw_ctx_errargs(ctx, &n);
    const char *ifmt, *iargs;
    int in = 0, idx = lang == GW_LANG_EN ? -1 : gw_ctx_errinner(ctx, &ifmt, &iargs, &in);
    if (idx >= 0) {
        /* the message around the previous one: that one translated first, then the outer */
        char inner[1024], outer_args[2048];
        if (gw_fmt_render(gw_tr(lang, ifmt), iargs, in, inner, sizeof inner) >= 0) {
            size_t used = 0;
            const char *a = args;
            for (int k = 0; k < n && used < sizeof outer_args; k++, a += strlen(a) + 1) {
                const char *v = k == idx ? inner : a;
                size_t l = strlen(v) + 1;
                if (used + l > sizeof outer_args) break;
                memcpy(outer_args + used, v, l);
                used += l;
            }
            if (gw_fmt_render(gw_tr(lang, fmt), outer_args, n, buf, cap) >= 0) return buf;
        }
    }
    const char *t = lookup(lang, fmt);
    if (!t || gw_fmt_render(t, args, n, buf, cap) < 0) snprintf(buf, cap, "%s", en);
    return buf;
}

/* The last reason gw_tr_why wrote on this thread. */
static __thread struct {
    const char *buf; /* where it was written */
    char text[512];  /* what was written there (the buffer may have been reused since) */
    char fmt[256];
    char args[512];
    int n;
} last_why;

void gw_tr_why(char *why, size_t cap, const char *fmt, ...)
{
    if (!why || cap == 0) return;
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    last_why.n = gw_fmt_capture(fmt, cp, last_why.args, sizeof last_why.args, NULL, NULL);
    va_end(cp);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    int keep = last_why.n >= 0 && strlen(fmt) < sizeof last_why.fmt &&
               strlen(why) < sizeof last_why.text;
    last_why.buf = keep ? why : NULL;
    if (keep) {
        memcpy(last_why.fmt, fmt, strlen(fmt) + 1);
        memcpy(last_why.text, why, strlen(why) + 1);
    }
}

/* The remembered reason translated into out, when s is it; NULL otherwise. */
static const char *why_translated(gw_lang lang, const char *s, char *out, size_t cap)
{
    if (!last_why.buf || s != last_why.buf || strcmp(s, last_why.text) != 0) return NULL;
    const char *t = lookup(lang, last_why.fmt);
    if (!t || gw_fmt_render(t, last_why.args, last_why.n, out, cap) < 0) return NULL;
    return out;
}

typedef struct ctx_hook {
    gw_lang lang;
    const gw_ctx *ctx;
    int whole; /* fmt is "%s": the argument is the whole message */
    char msg[1024];
} ctx_hook;

static const char *hook_ctx_msg(void *user, int idx, const char *s)
{
    ctx_hook *h = user;
    (void)idx;
    if (h->ctx && s == gw_ctx_errmsg(h->ctx))
        return gw_tr_ctx_msg(h->lang, h->ctx, h->msg, sizeof h->msg);
    const char *w = why_translated(h->lang, s, h->msg, sizeof h->msg);
    if (w) return w;
    /* a whole "%s" message passed through (an auth hook's reason, marked N_() where it is
     * written) is looked up as it stands */
    return h->whole ? lookup(h->lang, s) : NULL;
}

int gw_tr_vformat(gw_lang lang, const gw_ctx *ctx, char *out, size_t cap, const char *fmt,
                  va_list ap)
{
    if (lang == GW_LANG_EN) return vsnprintf(out, cap, fmt, ap);
    const char *t = gw_tr(lang, fmt);
    char args[2048];
    ctx_hook h = {lang, ctx, strcmp(fmt, "%s") == 0, ""};
    va_list cp;
    va_copy(cp, ap);
    int n = gw_fmt_capture(fmt, cp, args, sizeof args, hook_ctx_msg, &h);
    va_end(cp);
    int len = n >= 0 ? gw_fmt_render(t, args, n, out, cap) : -1;
    if (len < 0) len = vsnprintf(out, cap, fmt, ap); /* not capturable: the English text */
    return len;
}

int gw_tr_format(gw_lang lang, const gw_ctx *ctx, char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = gw_tr_vformat(lang, ctx, out, cap, fmt, ap);
    va_end(ap);
    return len;
}
