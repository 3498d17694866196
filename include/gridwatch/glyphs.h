/* glyphs.h — map label glyphs for MapLibre: the signed distance fields of a font's glyphs in
 * 256-codepoint ranges, encoded as the glyphs.proto PBF that every MapLibre client fetches
 * from a style's "glyphs" URL (/fonts/{fontstack}/{start}-{end}.pbf).
 *
 * Each glyph is rasterised by FreeType at 24 px (no hinting), and its anti-aliased bitmap
 * turned into a signed distance field with TinySDF's method (Felzenszwalb-Huttenlocher squared
 * Euclidean distance transforms outside and inside the glyph, buffer 3, radius 8, cutoff 0.25:
 * the outline is the value 191, i.e. 0.75).  Metrics follow fontnik: left = bitmap left bearing,
 * top = bitmap top above the baseline less the font's ascender, advance in whole pixels.
 *
 * A range is made on its first request and kept (made once per font and range: at most 256
 * ranges of the Basic Multilingual Plane per font).  Knows nothing about HTTP. */
#ifndef GRIDWATCH_GLYPHS_H
#define GRIDWATCH_GLYPHS_H

#include "gridwatch/common.h"
#include "gridwatch/tilecache.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GW_GLYPH_SIZE 24  /* the font size glyphs are rendered at (MapLibre's ONE_EM) */
#define GW_GLYPH_BUFFER 3 /* the border around each bitmap (MapLibre expects 3) */
#define GW_GLYPH_RADIUS 8 /* the distance, in pixels, that spans the value range */
#define GW_GLYPH_CUTOFF 0.25

typedef struct gw_glyphs gw_glyphs;

/* An empty set of served fonts. */
gw_status gw_glyphs_create(gw_ctx *ctx, gw_glyphs **out);
void gw_glyphs_destroy(gw_glyphs *g);

/* Serve the face of `file` (a TrueType/OpenType font or collection) whose family is `family`
 * and style `style` (e.g. "Noto Sans CJK SC", "Regular") under the fontstack name
 * "<family> <style>".  The file is opened now: GW_ERR_IO when it cannot be, GW_ERR_NOT_FOUND
 * when no face of it has that family and style. */
gw_status gw_glyphs_add_font(gw_ctx *ctx, gw_glyphs *g, const char *file, const char *family,
                             const char *style);

/* The number of fonts served and the name of the i-th ("Noto Sans CJK SC Regular"). */
size_t gw_glyphs_count(const gw_glyphs *g);
const char *gw_glyphs_name(const gw_glyphs *g, size_t i);

/* The font a fontstack names: the index in names[n] of the first name of the comma-separated
 * list (spaces around a name ignored) that is among them, or -1. */
int gw_glyphs_pick(const char *fontstack, const char *const *names, size_t n);

/* The PBF of the range starting at `start` (a multiple of 256 below 65536) for `fontstack`, a
 * comma-separated list of font names as MapLibre sends it: the first name served is used.
 * The blob (raw PBF, its gzip form, ETag) is the caller's to release.  Errors: GW_ERR_RANGE
 * (start), GW_ERR_NOT_FOUND (no name served), GW_ERR_NOMEM, GW_ERR_INTERNAL (FreeType). */
gw_status gw_glyphs_range(gw_ctx *ctx, gw_glyphs *g, const char *fontstack, unsigned start,
                          gw_tile_blob **out);

/* One glyph's SDF, for tests: the codepoint's bitmap ((width + 2 * buffer) x (height + 2 *
 * buffer) bytes, row-major, malloc'd, NULL for an empty glyph) and its metrics; also the
 * FreeType coverage bitmap it was made from (width x height, malloc'd).  GW_ERR_NOT_FOUND when
 * the font has no glyph for cp. */
typedef struct gw_glyph {
    unsigned width, height, advance;
    int left, top;
    unsigned char *sdf;
    unsigned char *coverage;
} gw_glyph;
gw_status gw_glyphs_render(gw_ctx *ctx, gw_glyphs *g, const char *font, unsigned cp, gw_glyph *out);
void gw_glyph_clear(gw_glyph *gl);

#ifdef __cplusplus
}
#endif
#endif
