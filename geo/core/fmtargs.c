/* fmtargs.c — a printf call kept as its format plus each argument formatted alone, written again
 * later from another format with the same conversions (fmtargs.h).  This is what lets api/
 * translate a message geo/ recorded on the context without geo/ knowing about languages. */
#include "gridwatch/fmtargs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

typedef struct fspec {
    int pos;       /* N of a positional %N$, 0 when sequential */
    int star_w;    /* width given as '*' */
    int star_p;    /* precision given as '*' */
    char mod[3];   /* length modifier: "", "h", "hh", "l", "ll", "L", "z", "j", "t" */
    char conv;     /* conversion letter */
    char text[32]; /* the spec without '*' and positions, for snprintf of one argument */
} fspec;

/* Parse the conversion after a '%' at p; returns the character after it, NULL when unknown. */
static const char *parse_spec(const char *p, fspec *s)
{
    memset(s, 0, sizeof *s);
    const char *q = p;
    int n = 0;
    while (*q >= '0' && *q <= '9') { /* a position past 99999 is no argument anyway */
        if (n < 100000) n = n * 10 + (*q - '0');
        q++;
    }
    if (*q == '$' && n > 0) s->pos = n, p = q + 1;
    size_t t = 0;
    s->text[t++] = '%';
    while (*p && strchr("-+ #0'", *p)) {
        if (t < sizeof s->text - 8) s->text[t++] = *p;
        p++;
    }
    if (*p == '*') {
        s->star_w = 1, p++;
        while (*p >= '0' && *p <= '9') p++; /* a positional *N$ width: not kept */
        if (*p == '$') p++;
    }
    while (*p >= '0' && *p <= '9') {
        if (t < sizeof s->text - 8) s->text[t++] = *p;
        p++;
    }
    if (*p == '.') {
        if (t < sizeof s->text - 8) s->text[t++] = '.';
        p++;
        if (*p == '*') {
            s->star_p = 1, p++;
            while (*p >= '0' && *p <= '9') p++;
            if (*p == '$') p++;
        }
        while (*p >= '0' && *p <= '9') {
            if (t < sizeof s->text - 8) s->text[t++] = *p;
            p++;
        }
    }
    size_t m = 0;
    while (*p && strchr("hlLqjzt", *p) && m < 2) s->mod[m++] = *p++;
    if (!*p || !strchr("diouxXcsfFeEgGaAp", *p)) return NULL;
    s->conv = *p;
    memcpy(s->text + t, s->mod, m);
    t += m;
    s->text[t++] = *p;
    s->text[t] = '\0';
    return p + 1;
}

/* Insert the '*' width and precision as numbers into the spec text. */
static void resolve_stars(const fspec *s, int w, int pr, char *out, size_t cap)
{
    const char *p = s->text + 1;
    size_t flags = strspn(p, "-+ #0'");
    char ws[16] = "", ps[16] = "";
    if (s->star_w) snprintf(ws, sizeof ws, "%d", w);
    const char *rest = p + flags;
    if (s->star_p) {
        /* text is %flags[digits].[digits]mod conv; with a '*' precision the digits after '.'
         * are absent, so the precision goes right after the '.' */
        const char *dot = strchr(rest, '.');
        snprintf(ps, sizeof ps, "%d", pr < 0 ? 0 : pr);
        if (pr < 0) { /* a negative precision means none */
            snprintf(out, cap, "%%%.*s%s%.*s%s", (int)flags, p, ws, (int)(dot - rest), rest,
                     dot + 1);
            return;
        }
        snprintf(out, cap, "%%%.*s%s%.*s.%s%s", (int)flags, p, ws, (int)(dot - rest), rest, ps,
                 dot + 1);
        return;
    }
    snprintf(out, cap, "%%%.*s%s%s", (int)flags, p, ws, rest);
}

/* One %s argument, its width and precision passed as '*' arguments rather than written into the
 * spec: an argument cut by a precision ("%.*s" of a buffer) need not end in a NUL, and the
 * starred form is the one printf checkers bound by the precision, "%.0s" they read to the NUL. */
static int put_str(char *dst, size_t room, const fspec *s, int w, int pr, const char *v)
{
    const char *p = s->text + 1;
    size_t flags = strspn(p, "-+ #0'");
    const char *q = p + flags;
    int width = s->star_w ? w : atoi(q);
    const char *dot = strchr(q, '.');
    int prec = s->star_p ? (pr < 0 ? -1 : pr) : dot ? atoi(dot + 1) : -1;
    char f[48];
    snprintf(f, sizeof f, "%%%.*s*.*s", (int)flags, p);
    return snprintf(dst, room, f, width, prec, v);
}

int gw_fmt_capture(const char *fmt, va_list ap, char *out, size_t cap,
                   const char *(*hook)(void *user, int idx, const char *s), void *user)
{
    if (!fmt || !out || cap == 0) return -1;
    size_t used = 0;
    int n = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        fspec s;
        const char *next = parse_spec(p + 1, &s);
        if (!next || s.pos || n >= GW_FMT_MAX_ARGS) return -1;
        if (!strcmp(s.mod, "L") && !strchr("fFeEgGaA", s.conv)) return -1;
        if (s.conv == 'c' && s.mod[0]) return -1; /* %lc */
        if (s.conv == 's' && s.mod[0]) return -1; /* %ls */
        int w = s.star_w ? va_arg(ap, int) : 0;
        int pr = s.star_p ? va_arg(ap, int) : 0;
        char sp[64];
        resolve_stars(&s, w, pr, sp, sizeof sp);
        char *dst = out + used;
        size_t room = cap - used;
        int len;
        const char *m = s.mod;
        switch (s.conv) {
        case 'd':
        case 'i':
            if (!strcmp(m, "l")) len = snprintf(dst, room, sp, va_arg(ap, long));
            else if (!strcmp(m, "ll") || !strcmp(m, "q"))
                len = snprintf(dst, room, sp, va_arg(ap, long long));
            else if (!strcmp(m, "z")) len = snprintf(dst, room, sp, va_arg(ap, ssize_t));
            else if (!strcmp(m, "j")) len = snprintf(dst, room, sp, va_arg(ap, intmax_t));
            else if (!strcmp(m, "t")) len = snprintf(dst, room, sp, va_arg(ap, ptrdiff_t));
            else len = snprintf(dst, room, sp, va_arg(ap, int)); /* int, h, hh promote */
            break;
        case 'o':
        case 'u':
        case 'x':
        case 'X':
            if (!strcmp(m, "l")) len = snprintf(dst, room, sp, va_arg(ap, unsigned long));
            else if (!strcmp(m, "ll") || !strcmp(m, "q"))
                len = snprintf(dst, room, sp, va_arg(ap, unsigned long long));
            else if (!strcmp(m, "z")) len = snprintf(dst, room, sp, va_arg(ap, size_t));
            else if (!strcmp(m, "j")) len = snprintf(dst, room, sp, va_arg(ap, uintmax_t));
            else if (!strcmp(m, "t")) len = snprintf(dst, room, sp, va_arg(ap, ptrdiff_t));
            else len = snprintf(dst, room, sp, va_arg(ap, unsigned));
            break;
        case 'c': len = snprintf(dst, room, sp, va_arg(ap, int)); break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            const char *rep = hook && str ? hook(user, n, str) : NULL;
            len = put_str(dst, room, &s, w, pr, rep ? rep : str ? str : "(null)");
            break;
        }
        case 'p': len = snprintf(dst, room, sp, va_arg(ap, void *)); break;
        default: /* floating point */
            if (!strcmp(m, "L")) len = snprintf(dst, room, sp, va_arg(ap, long double));
            else len = snprintf(dst, room, sp, va_arg(ap, double));
            break;
        }
        if (len < 0 || (size_t)len + 1 > room) return -1;
        used += (size_t)len + 1;
        n++;
        p = next - 1;
    }
    return n;
}

/* The k-th (0-based) of n NUL-separated strings. */
static const char *nth_arg(const char *args, int k)
{
    while (k-- > 0) args += strlen(args) + 1;
    return args;
}

int gw_fmt_render(const char *fmt, const char *args, int n, char *out, size_t cap)
{
    if (!fmt) return -1;
    size_t len = 0;
    int k = 0;
#define PUT(src, cnt)                                                                              \
    do {                                                                                           \
        size_t c_ = (cnt);                                                                         \
        if (cap > 0 && len < cap - 1) {                                                            \
            size_t fit_ = cap - 1 - len < c_ ? cap - 1 - len : c_;                                 \
            memcpy(out + len, (src), fit_);                                                        \
        }                                                                                          \
        len += c_;                                                                                 \
    } while (0)
    for (const char *p = fmt; *p;) {
        const char *pc = strchr(p, '%');
        if (!pc) {
            PUT(p, strlen(p));
            break;
        }
        PUT(p, (size_t)(pc - p));
        if (pc[1] == '%') {
            PUT("%", 1);
            p = pc + 2;
            continue;
        }
        fspec s;
        const char *next = parse_spec(pc + 1, &s);
        if (!next) { /* not a conversion: write it as it stands */
            PUT(pc, 1);
            p = pc + 1;
            continue;
        }
        int idx = s.pos ? s.pos - 1 : k++;
        if (idx < 0 || idx >= n) {
            if (cap > 0) out[0] = '\0';
            return -1;
        }
        const char *a = nth_arg(args, idx);
        size_t alen = strlen(a);
        /* an explicit precision on %s in the new format still cuts: "%.0s" drops an argument a
         * language has no use for (an English plural "s"); not with a width, whose argument was
         * cut and then padded when it was captured */
        const char *dot = strchr(s.text, '.');
        const char *wd = s.text + 1 + strspn(s.text + 1, "-+ #0'");
        if (s.conv == 's' && dot && !s.star_p && !s.star_w && wd == dot) {
            size_t prec = (size_t)strtoul(dot + 1, NULL, 10);
            if (prec < alen) alen = prec;
        }
        PUT(a, alen);
        p = next;
    }
#undef PUT
    if (cap > 0) out[len < cap ? len : cap - 1] = '\0';
    return (int)len;
}
