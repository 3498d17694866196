/* negotiate.c — content negotiation (Accept, Accept-Encoding), HTML escaping and the one
 * conditional, compressed answer of the negotiated routes (negotiate.h).  The parsers read
 * untrusted header text in place, without allocating (tests/fuzz/fuzz_negotiate.c). */
#include "negotiate.h"

#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define GZ_MIN 256 /* smaller bodies are sent as they are */

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* One element of a comma-separated header list: [s, e) with the whitespace trimmed, and the end
 * of its first token (the media range or coding, before any ';'). */
typedef struct elem {
    const char *s, *tok_end, *e;
} elem;

/* The next element at or after *p; 0 at the end of the header. */
static int next_elem(const char **p, elem *out)
{
    const char *c = *p;
    for (;;) {
        while (*c == ',' || is_ows(*c)) c++;
        if (!*c) return 0;
        const char *s = c;
        while (*c && *c != ',') c++;
        const char *e = c;
        while (e > s && is_ows(e[-1])) e--;
        *p = c;
        if (e == s) continue;
        const char *t = s;
        while (t < e && *t != ';' && !is_ows(*t)) t++;
        *out = (elem){s, t, e};
        return 1;
    }
}

/* q of an element in thousandths (0..1000): 1000 when absent or malformed. */
static int elem_q(const elem *el)
{
    const char *c = el->tok_end;
    while (c < el->e) {
        while (c < el->e && (*c == ';' || is_ows(*c))) c++;
        if (c + 1 < el->e && (*c == 'q' || *c == 'Q') && c[1] == '=') {
            c += 2;
            if (c >= el->e || (*c != '0' && *c != '1')) return 1000;
            int v = (*c++ - '0') * 1000;
            if (c < el->e && *c == '.') {
                c++;
                for (int scale = 100; c < el->e && *c >= '0' && *c <= '9'; c++, scale /= 10)
                    v += (*c - '0') * scale;
            }
            return v > 1000 ? 1000 : v;
        }
        while (c < el->e && *c != ';') c++;
    }
    return 1000;
}

static int tok_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int gw_accept_pick(const char *accept, const char *const *offers, size_t n)
{
    if (n == 0) return -1;
    const char *p = accept;
    elem el;
    if (!accept || !next_elem(&p, &el)) return 0;
    int best = -1, best_q = 0;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(offers[i], '/');
        if (!slash) continue;
        size_t tl = (size_t)(slash - offers[i]);
        int spec = 0, q = 0;
        p = accept;
        while (next_elem(&p, &el)) {
            size_t len = (size_t)(el.tok_end - el.s);
            const char *sl = memchr(el.s, '/', len);
            int s;
            if (!sl) {
                if (!tok_eq(el.s, len, "*")) continue; /* "*" alone: as the full wildcard */
                s = 1;
            } else {
                size_t a = (size_t)(sl - el.s), b = len - a - 1;
                if (a == 1 && el.s[0] == '*' && b == 1 && sl[1] == '*') s = 1;
                else if (a != tl || strncasecmp(el.s, offers[i], tl) != 0) continue;
                else if (b == 1 && sl[1] == '*') s = 2;
                else if (tok_eq(sl + 1, b, slash + 1)) s = 3;
                else continue;
            }
            if (s > spec) spec = s, q = elem_q(&el);
        }
        if (spec && q > best_q) best = (int)i, best_q = q;
    }
    return best;
}

int gw_accept_gzip(const char *ae)
{
    if (!ae) return 0;
    int gz = -1, star = -1; /* q of the entries, -1 when absent */
    const char *p = ae;
    elem el;
    while (next_elem(&p, &el)) {
        size_t len = (size_t)(el.tok_end - el.s);
        if (tok_eq(el.s, len, "gzip") || tok_eq(el.s, len, "x-gzip")) {
            int q = elem_q(&el);
            if (q > gz) gz = q;
        } else if (tok_eq(el.s, len, "*")) {
            star = elem_q(&el);
        }
    }
    if (gz >= 0) return gz > 0;
    return star > 0;
}

/* ---- HTML ------------------------------------------------------------------------------ */

/* The length of the valid UTF-8 character at p (of at most n bytes), 0 when it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are not valid. */
static size_t utf8_len(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    size_t k;
    unsigned min;
    if (c < 0x80) return *cp = c, 1;
    if (c >= 0xc2 && c <= 0xdf) k = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) k = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) k = 4, c &= 0x07, min = 0x10000;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return k;
}

/* Code points HTML's parser reports as errors in text: controls and noncharacters. */
static int html_bad_cp(unsigned c)
{
    if (c < 0x20) return c != '\t' && c != '\n' && c != '\r';
    if (c >= 0x7f && c <= 0x9f) return 1;
    if (c >= 0xfdd0 && c <= 0xfdef) return 1;
    return (c & 0xfffe) == 0xfffe;
}

void gw_buf_html_n(gw_buf *b, const char *s, size_t n)
{
    if (!s) return;
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    while (p < end) {
        const char *rep = NULL;
        unsigned cp = 0;
        size_t k = utf8_len(p, (size_t)(end - p), &cp);
        if (!k || html_bad_cp(cp)) rep = "\xef\xbf\xbd"; /* U+FFFD */
        else if (cp == '&') rep = "&amp;";
        else if (cp == '<') rep = "&lt;";
        else if (cp == '>') rep = "&gt;";
        else if (cp == '"') rep = "&quot;";
        else if (cp == '\'') rep = "&#39;";
        if (!rep) {
            p += k;
            continue;
        }
        if (p > run) gw_buf_add(b, (const char *)run, (size_t)(p - run));
        gw_buf_str(b, rep);
        p += k ? k : 1;
        run = p;
    }
    if (p > run) gw_buf_add(b, (const char *)run, (size_t)(p - run));
}

void gw_buf_html(gw_buf *b, const char *s)
{
    if (s) gw_buf_html_n(b, s, strlen(s));
}

/* ---- answers ----------------------------------------------------------------------------- */

static void digest(uLong *crc, uLong *ad, const char *p, size_t n)
{
    while (n) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        *crc = crc32(*crc, (const Bytef *)p, k);
        *ad = adler32(*ad, (const Bytef *)p, k);
        p += k, n -= k;
    }
}

void gw_content_etag(const char *body, size_t len, char out[24])
{
    static const char key[] = "\"timeStamp\":\"";
    uLong crc = crc32(0L, Z_NULL, 0), ad = adler32(0L, Z_NULL, 0);
    size_t skip_at = len, skip_to = len;
    /* raw only where the page's writer put it: inside JSON strings a quote is escaped, and
     * in HTML text it is a character reference (the map's data block holds the raw one) */
    const char *ts = body ? memmem(body, len, key, sizeof key - 1) : NULL;
    if (ts) {
        const char *v = ts + sizeof key - 1, *q = memchr(v, '"', len - (size_t)(v - body));
        if (q) skip_at = (size_t)(v - body), skip_to = (size_t)(q - body);
    }
    if (body) {
        digest(&crc, &ad, body, skip_at);
        if (skip_to < len) digest(&crc, &ad, body + skip_to, len - skip_to);
    }
    snprintf(out, 24, "\"%08lx%08lx\"", (unsigned long)(crc & 0xffffffffUL),
             (unsigned long)((ad ^ (uLong)len) & 0xffffffffUL));
}

void gw_req_respond_negotiated(gw_req *req, const char *content_type, char *body, size_t len,
                               int vary_accept)
{
    char tag[24], gztag[32];
    gw_content_etag(body, len, tag);
    snprintf(gztag, sizeof gztag, "%.*s-gz\"", (int)strlen(tag) - 1, tag);
    int gz = len >= GZ_MIN && gw_accept_gzip(gw_req_header(req, "Accept-Encoding"));
    gw_req_add_header(req, "Vary", vary_accept ? "Accept, Accept-Encoding" : "Accept-Encoding");
    gw_req_add_header(req, "Cache-Control", "no-cache");
    const char *inm = gw_req_header(req, "If-None-Match");
    if (inm && (gw_etag_matches(inm, tag) || gw_etag_matches(inm, gztag))) {
        free(body);
        gw_req_add_header(req, "ETag", gz ? gztag : tag);
        gw_req_respond(req, 304, NULL, "", 0);
        return;
    }
    size_t gl = 0;
    unsigned char *z = gz ? gw_gzip(body, len, &gl) : NULL;
    gw_req_add_header(req, "ETag", z ? gztag : tag);
    if (z) {
        free(body);
        gw_req_add_header(req, "Content-Encoding", "gzip");
        gw_req_respond_take(req, 200, content_type, (char *)z, gl);
        return;
    }
    gw_req_respond_take(req, 200, content_type, body, len);
}
