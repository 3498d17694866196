/* fuzz_negotiate.c — libFuzzer target for the header parsers of the negotiated routes and the
 * HTML escaper (api/http/negotiate.c): byte 0 picks gw_accept_pick (the Accept header over the
 * OGC routes' offers, and over each offer alone), gw_accept_gzip (Accept-Encoding) or
 * gw_buf_html_n / gw_content_etag (the rest as a property value).  Checked: a pick inside the
 * offers, the same pick when the header is asked twice, an offer picked alone whenever it is
 * picked among several; a gzip answer of 0 or 1, and 0 whenever "gzip;q=0" is appended; escaped
 * text that is valid UTF-8 with no raw markup character, no NUL and no control but tab, newline
 * and carriage return, each '&' starting one of the five references; a quoted 16-digit ETag. */
#include "fuzz_util.h"

#include "negotiate.h"

#include <stdlib.h>
#include <string.h>

static const char *const offers[] = {"application/json", "application/geo+json", "text/html"};

static void check_accept(const char *h)
{
    int i = gw_accept_pick(h, offers, 3);
    if (i < -1 || i > 2) fz_fail("pick %d outside the offers for '%s'", i, h);
    if (gw_accept_pick(h, offers, 3) != i) fz_fail("two picks differ for '%s'", h);
    if (i >= 0 && gw_accept_pick(h, &offers[i], 1) != 0)
        fz_fail("'%s' picks %s among three but not alone", h, offers[i]);
    if (gw_accept_pick(h, offers, 0) != -1) fz_fail("a pick among no offers");
}

static void check_gzip(const char *h, size_t n)
{
    int g = gw_accept_gzip(h);
    if (g != 0 && g != 1) fz_fail("gzip %d for '%s'", g, h);
    char *refused = malloc(n + 16);
    if (!refused) return;
    memcpy(refused, h, n);
    memcpy(refused + n, ",gzip;q=0", 10);
    /* an explicit refusal wins unless an earlier gzip entry is stronger (the highest q counts) */
    if (!strcasestr(h, "gzip") && gw_accept_gzip(refused))
        fz_fail("'%s' refused but taken", refused);
    free(refused);
}

static size_t utf8_ok(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t k = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return k;
}

static void check_html(const uint8_t *data, size_t size)
{
    gw_buf b = {0};
    gw_buf_html_n(&b, (const char *)data, size);
    if (b.oom || !b.data) { /* out of memory, or nothing to escape */
        if (!b.oom && size) fz_fail("%zu bytes escaped to nothing", size);
        gw_buf_free(&b);
        return;
    }
    const unsigned char *p = (const unsigned char *)b.data, *end = p + b.len;
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    while (p < end) {
        if (*p == '<' || *p == '>' || *p == '"' || *p == '\'' || *p == 0)
            fz_fail("raw 0x%02x in the escaped text at %zu", *p,
                    (size_t)(p - (const unsigned char *)b.data));
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') fz_fail("control 0x%02x kept", *p);
        if (*p == '&') {
            int ok = 0;
            for (size_t i = 0; i < 5; i++)
                if ((size_t)(end - p) >= strlen(refs[i]) && !memcmp(p, refs[i], strlen(refs[i])))
                    ok = 1;
            if (!ok) fz_fail("a bare '&' in the escaped text");
        }
        size_t k = utf8_ok(p, (size_t)(end - p));
        if (!k) fz_fail("invalid UTF-8 in the escaped text");
        p += k;
    }
    if (b.len < size) fz_fail("escaped text shorter than the input");
    gw_buf_free(&b);
    char tag[24];
    gw_content_etag((const char *)data, size, tag);
    if (strlen(tag) != 18 || tag[0] != '"' || tag[17] != '"') fz_fail("ETag %s", tag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192) return 0;
    unsigned mode = data[0] % 3;
    data++, size--;
    if (mode == 2) {
        check_html(data, size);
        return 0;
    }
    char *h = fz_strndup(data, size);
    if (mode == 0) check_accept(h);
    else check_gzip(h, strlen(h));
    free(h);
    return 0;
}
