/* bench_glyphs.c — how long a glyph range takes to make (tiles/glyphs.c: FreeType at 24 px and the
 * distance transform for each of 256 code points, then the PBF and its gzip), which decides that
 * ranges are made on first request rather than at build time.  Makes the Latin range and N CJK
 * ranges from U+4E00 of Noto Sans CJK SC Regular, each in a fresh glyph set (nothing cached), and
 * prints per range: ms (wall clock: quote the load average), glyphs, raw and gzip bytes; then
 * ROW lines (no peer: fontnik, the usual generator, is not on this machine).
 * usage: bench_glyphs [N=16] [FONT_FILE] */
#include "gridwatch/glyphs.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 16;
    const char *file = argc > 2 ? argv[2]
                                : "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
    if (n < 1 || n > 80) n = 16;
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx)) return 1;
    double ms[81];
    size_t raw = 0, gz = 0;
    for (int i = 0; i <= n; i++) {
        unsigned start = i == 0 ? 0 : 0x4E00 + (unsigned)(i - 1) * 256;
        gw_glyphs *g = NULL;
        if (gw_glyphs_create(ctx, &g) ||
            gw_glyphs_add_font(ctx, g, file, "Noto Sans CJK SC", "Regular")) {
            fprintf(stderr, "bench_glyphs: %s\n", gw_ctx_errmsg(ctx));
            return 1;
        }
        gw_tile_blob *b = NULL;
        double t0 = now_ms();
        if (gw_glyphs_range(ctx, g, "Noto Sans CJK SC Regular", start, &b)) {
            fprintf(stderr, "bench_glyphs: %s\n", gw_ctx_errmsg(ctx));
            return 1;
        }
        ms[i] = now_ms() - t0;
        printf("range %5u-%5u  %7.1f ms  raw %7zu B  gzip %7zu B\n", start, start + 255, ms[i],
               b->raw_len, b->gz_len);
        if (i) raw += b->raw_len, gz += b->gz_len;
        gw_tile_blob_release(b);
        gw_glyphs_destroy(g);
    }
    qsort(ms + 1, (size_t)n, sizeof ms[0], cmp);
    printf("ROW|glyph range, CJK (256 glyphs, median ms)|%.1f|-|-|-\n", ms[1 + n / 2]);
    printf("ROW|glyph range, CJK (mean gzip KB)|%.1f|-|-|-\n", gz / 1024.0 / n);
    printf("ROW|glyph range, CJK (mean raw KB)|%.1f|-|-|-\n", raw / 1024.0 / n);
    gw_ctx_destroy(ctx);
    return 0;
}
