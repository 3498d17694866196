/* test_glyphs.c — map label glyphs (tiles/glyphs.c) from the Debian Noto Sans CJK font: the SC
 * face found in the collection by name, ranges refused when not 256-aligned or past the BMP,
 * fonts picked from a MapLibre font list, the distance field's 0.75 contour against FreeType's
 * coverage bitmap it was made from (inside where coverage is well above one half, outside where
 * well below), and the PBF decoded by protobuf-c's code generated from glyphs.proto (a decoder
 * independent of the hand-written encoder) holding the same glyphs and metrics.  Skipped (77)
 * without fonts-noto-cjk. */
#include "testutil.h"

#include "glyphs.pb-c.h"
#include "gridwatch/glyphs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FONT_FILE "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#define REGULAR "Noto Sans CJK SC Regular"

static gw_ctx *ctx;
static gw_glyphs *g;

static void test_fonts(void **state)
{
    (void)state;
    assert_int_equal(gw_glyphs_count(g), 1);
    assert_string_equal(gw_glyphs_name(g, 0), REGULAR);
    assert_null(gw_glyphs_name(g, 1));
    /* a face the collection does not have, a file that is not there */
    assert_int_equal(gw_glyphs_add_font(ctx, g, FONT_FILE, "Noto Sans CJK XX", "Regular"),
                     GW_ERR_NOT_FOUND);
    assert_int_equal(gw_glyphs_add_font(ctx, g, "/nonexistent/font.ttc", "Noto Sans CJK SC",
                                        "Regular"),
                     GW_ERR_IO);
    assert_int_equal(gw_glyphs_count(g), 1);
    const char *const names[] = {"Noto Sans CJK SC Regular", "Noto Sans CJK SC Bold"};
    assert_int_equal(gw_glyphs_pick("Noto Sans CJK SC Bold", names, 2), 1);
    assert_int_equal(gw_glyphs_pick("Open Sans Regular, Noto Sans CJK SC Regular ", names, 2), 0);
    assert_int_equal(gw_glyphs_pick("Noto Sans CJK SC Bold,Noto Sans CJK SC Regular", names, 2), 1);
    assert_int_equal(gw_glyphs_pick("Noto Sans CJK SC", names, 2), -1);
    assert_int_equal(gw_glyphs_pick("", names, 2), -1);
    assert_int_equal(gw_glyphs_pick(",,", names, 2), -1);
}

static void test_bad_ranges(void **state)
{
    (void)state;
    gw_tile_blob *b = (gw_tile_blob *)1;
    assert_int_equal(gw_glyphs_range(ctx, g, REGULAR, 1, &b), GW_ERR_RANGE);
    assert_null(b);
    assert_int_equal(gw_glyphs_range(ctx, g, REGULAR, 65536, &b), GW_ERR_RANGE);
    assert_int_equal(gw_glyphs_range(ctx, g, "Arial Regular", 0, &b), GW_ERR_NOT_FOUND);
    gw_glyph gl;
    assert_int_equal(gw_glyphs_render(ctx, g, REGULAR, 0xE000, &gl), GW_ERR_NOT_FOUND);
}

/* The SDF's outline (value 191) where FreeType's coverage crosses one half. */
static void check_contour(unsigned cp)
{
    gw_glyph gl;
    assert_int_equal(gw_glyphs_render(ctx, g, REGULAR, cp, &gl), GW_OK);
    assert_true(gl.width > 0 && gl.height > 0 && gl.width <= 40 && gl.height <= 40);
    const unsigned b = GW_GLYPH_BUFFER, W = gl.width + 2 * b, H = gl.height + 2 * b;
    unsigned inside = 0, agree = 0;
    for (unsigned y = 0; y < H; y++)
        for (unsigned x = 0; x < W; x++) {
            unsigned v = gl.sdf[y * W + x];
            int in = x >= b && y >= b && x < b + gl.width && y < b + gl.height;
            unsigned c = in ? gl.coverage[(y - b) * gl.width + (x - b)] : 0;
            if (c >= 140) {
                inside++;
                if (v < 191) fail_msg("U+%04X (%u,%u): coverage %u but SDF %u", cp, x, y, c, v);
                agree++;
            } else if (c <= 115) {
                if (v >= 191) fail_msg("U+%04X (%u,%u): coverage %u but SDF %u", cp, x, y, c, v);
            }
            /* the buffer's corners are far outside: low values */
            if ((x == 0 || x == W - 1) && (y == 0 || y == H - 1)) assert_true(v < 150);
        }
    assert_true(inside > 10 && agree == inside);
    gw_glyph_clear(&gl);
}

static void test_contour(void **state)
{
    (void)state;
    check_contour('A');
    check_contour('g');
    check_contour(0x7F51); /* 网 */
    check_contour(0x683C); /* 格 */
    check_contour(0x8B66); /* 警 */
    /* a space has metrics and no bitmap */
    gw_glyph sp;
    assert_int_equal(gw_glyphs_render(ctx, g, REGULAR, ' ', &sp), GW_OK);
    assert_null(sp.sdf);
    assert_true(sp.width == 0 && sp.advance > 0);
    gw_glyph_clear(&sp);
}

static void test_pbf(void **state)
{
    (void)state;
    gw_tile_blob *b = NULL, *again = NULL;
    assert_int_equal(gw_glyphs_range(ctx, g, "Open Sans Regular," REGULAR, 0x7F00, &b), GW_OK);
    assert_int_equal(gw_glyphs_range(ctx, g, REGULAR, 0x7F00, &again), GW_OK);
    assert_ptr_equal(b, again); /* made once, kept */
    gw_tile_blob_release(again);
    Llmr__Glyphs__Glyphs *d = llmr__glyphs__glyphs__unpack(NULL, b->raw_len, b->raw);
    assert_non_null(d);
    assert_int_equal(d->n_stacks, 1);
    Llmr__Glyphs__Fontstack *s = d->stacks[0];
    assert_string_equal(s->name, REGULAR);
    assert_string_equal(s->range, "32512-32767");
    assert_true(s->n_glyphs > 200 && s->n_glyphs <= 256);
    int seen = 0;
    for (size_t i = 0; i < s->n_glyphs; i++) {
        const Llmr__Glyphs__Glyph *pg = s->glyphs[i];
        assert_true(pg->id >= 0x7F00 && pg->id <= 0x7FFF);
        if (i) assert_true(pg->id > s->glyphs[i - 1]->id);
        if (pg->id != 0x7F51) continue;
        seen = 1;
        gw_glyph gl;
        assert_int_equal(gw_glyphs_render(ctx, g, REGULAR, pg->id, &gl), GW_OK);
        assert_int_equal(pg->width, gl.width);
        assert_int_equal(pg->height, gl.height);
        assert_int_equal(pg->left, gl.left);
        assert_int_equal(pg->top, gl.top);
        assert_int_equal(pg->advance, 24); /* an ideograph is one em wide */
        assert_true(pg->has_bitmap);
        assert_int_equal(pg->bitmap.len, (gl.width + 6) * (gl.height + 6));
        assert_memory_equal(pg->bitmap.data, gl.sdf, pg->bitmap.len);
        gw_glyph_clear(&gl);
    }
    assert_true(seen);
    llmr__glyphs__glyphs__free_unpacked(d, NULL);
    gw_tile_blob_release(b);
}

int main(void)
{
    if (access(FONT_FILE, R_OK) != 0) {
        printf("skipped: %s is missing (Debian: fonts-noto-cjk)\n", FONT_FILE);
        return 77;
    }
    ctx = gw_test_ctx();
    if (gw_glyphs_create(ctx, &g) ||
        gw_glyphs_add_font(ctx, g, FONT_FILE, "Noto Sans CJK SC", "Regular")) {
        printf("could not open %s: %s\n", FONT_FILE, gw_ctx_errmsg(ctx));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fonts),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_contour),
        cmocka_unit_test(test_pbf),
    };
    int rc = cmocka_run_group_tests_name("glyphs", tests, NULL, NULL);
    gw_glyphs_destroy(g);
    gw_ctx_destroy(ctx);
    return rc;
}
