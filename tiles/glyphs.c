/* glyphs.c — MapLibre glyph ranges (include/gridwatch/glyphs.h): FreeType renders each glyph of
 * a 256-codepoint range at 24 px, TinySDF's distance transform turns its coverage into a signed
 * distance field, and the range is encoded as glyphs.proto by hand (four field types: varint,
 * zigzag varint, bytes, string) and kept for later requests.
 *
 * FreeType faces are not thread-safe: each font has a mutex held while one of its ranges is
 * made (about 256 glyph renders); a range already made is handed out under that lock only. */
#include "gridwatch/glyphs.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_RANGES 256 /* 65536 / 256: the Basic Multilingual Plane, which MapLibre asks for */
#define GL_INF 1e20

typedef struct gl_font {
    char name[128];
    FT_Face face;
    pthread_mutex_t lock;
    gw_tile_blob *ranges[GL_RANGES];
} gl_font;

struct gw_glyphs {
    FT_Library lib;
    gl_font *fonts;
    size_t n;
};

gw_status gw_glyphs_create(gw_ctx *ctx, gw_glyphs **out)
{
    *out = NULL;
    gw_glyphs *g = calloc(1, sizeof *g);
    if (!g) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    if (FT_Init_FreeType(&g->lib)) {
        free(g);
        return gw_ctx_error(ctx, GW_ERR_INTERNAL, "FreeType could not be initialised");
    }
    *out = g;
    return GW_OK;
}

void gw_glyphs_destroy(gw_glyphs *g)
{
    if (!g) return;
    for (size_t i = 0; i < g->n; i++) {
        for (int r = 0; r < GL_RANGES; r++) gw_tile_blob_release(g->fonts[i].ranges[r]);
        FT_Done_Face(g->fonts[i].face);
        pthread_mutex_destroy(&g->fonts[i].lock);
    }
    free(g->fonts);
    FT_Done_FreeType(g->lib);
    free(g);
}

gw_status gw_glyphs_add_font(gw_ctx *ctx, gw_glyphs *g, const char *file, const char *family,
                             const char *style)
{
    FT_Face face = NULL;
    if (FT_New_Face(g->lib, file, -1, &face))
        return gw_ctx_error(ctx, GW_ERR_IO, "font file '%s' could not be opened", file);
    long nfaces = face->num_faces;
    FT_Done_Face(face);
    face = NULL;
    for (long i = 0; i < nfaces && !face; i++) {
        FT_Face f;
        if (FT_New_Face(g->lib, file, i, &f)) continue;
        if (f->family_name && f->style_name && strcmp(f->family_name, family) == 0 &&
            strcmp(f->style_name, style) == 0)
            face = f;
        else FT_Done_Face(f);
    }
    if (!face)
        return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "font file '%s' has no face '%s %s'", file,
                            family, style);
    if (FT_Set_Pixel_Sizes(face, 0, GW_GLYPH_SIZE)) {
        FT_Done_Face(face);
        return gw_ctx_error(ctx, GW_ERR_INTERNAL, "FreeType could not size '%s'", family);
    }
    gl_font *nf = realloc(g->fonts, (g->n + 1) * sizeof *nf);
    if (!nf) {
        FT_Done_Face(face);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    g->fonts = nf;
    gl_font *f = &g->fonts[g->n];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s %s", family, style);
    f->face = face;
    pthread_mutex_init(&f->lock, NULL);
    g->n++;
    return GW_OK;
}

size_t gw_glyphs_count(const gw_glyphs *g) { return g ? g->n : 0; }

const char *gw_glyphs_name(const gw_glyphs *g, size_t i)
{
    return g && i < g->n ? g->fonts[i].name : NULL;
}

/* ---- the signed distance field (TinySDF 2) ------------------------------------------------- */

/* 1D squared distance transform (Felzenszwalb & Huttenlocher) of `len` values at stride. */
static void edt1d(double *grid, size_t off, size_t stride, size_t len, double *f, size_t *v,
                  double *z)
{
    v[0] = 0;
    z[0] = -GL_INF;
    z[1] = GL_INF;
    f[0] = grid[off];
    long k = 0;
    for (size_t q = 1; q < len; q++) {
        f[q] = grid[off + q * stride];
        double q2 = (double)q * (double)q, s;
        do {
            size_t r = v[k];
            s = (f[q] - f[r] + q2 - (double)r * (double)r) / (double)(q - r) / 2;
        } while (s <= z[k] && --k > -1);
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = GL_INF;
    }
    k = 0;
    for (size_t q = 0; q < len; q++) {
        while (z[k + 1] < (double)q) k++;
        size_t r = v[k];
        double qr = (double)q - (double)r;
        grid[off + q * stride] = f[r] + qr * qr;
    }
}

static void edt(double *data, size_t x0, size_t y0, size_t w, size_t h, size_t grid, double *f,
                size_t *v, double *z)
{
    for (size_t x = x0; x < x0 + w; x++) edt1d(data, y0 * grid + x, grid, h, f, v, z);
    for (size_t y = y0; y < y0 + h; y++) edt1d(data, y * grid + x0, 1, w, f, v, z);
}

/* The SDF of a w x h coverage bitmap (pitch bytes a row) into out ((w+2b) x (h+2b)). */
static int sdf(const unsigned char *cov, int pitch, size_t w, size_t h, unsigned char *out)
{
    const size_t b = GW_GLYPH_BUFFER, W = w + 2 * b, H = h + 2 * b, len = W * H;
    size_t side = W > H ? W : H;
    double *outer = malloc(len * sizeof *outer), *inner = malloc(len * sizeof *inner);
    double *f = malloc(side * sizeof *f), *z = malloc((side + 1) * sizeof *z);
    size_t *v = malloc(side * sizeof *v);
    int ok = outer && inner && f && z && v;
    if (ok) {
        for (size_t i = 0; i < len; i++) outer[i] = GL_INF, inner[i] = 0;
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++) {
                unsigned c = cov[(long)y * pitch + (long)x];
                if (!c) continue;
                size_t j = (y + b) * W + x + b;
                if (c == 255) {
                    outer[j] = 0, inner[j] = GL_INF;
                } else {
                    double d = 0.5 - c / 255.0;
                    outer[j] = d > 0 ? d * d : 0;
                    inner[j] = d < 0 ? d * d : 0;
                }
            }
        edt(outer, 0, 0, W, H, W, f, v, z);
        edt(inner, b, b, w, h, W, f, v, z);
        for (size_t i = 0; i < len; i++) {
            double d = sqrt(outer[i]) - sqrt(inner[i]);
            double val = round(255 - 255 * (d / GW_GLYPH_RADIUS + GW_GLYPH_CUTOFF));
            out[i] = (unsigned char)(val < 0 ? 0 : val > 255 ? 255 : val);
        }
    }
    free(outer), free(inner), free(f), free(z), free(v);
    return ok;
}

/* Render cp of f (its lock held).  1 done, 0 no glyph, -1 out of memory / FreeType. */
static int render(gl_font *f, unsigned cp, gw_glyph *out, int keep_cov)
{
    memset(out, 0, sizeof *out);
    FT_UInt gi = FT_Get_Char_Index(f->face, cp);
    if (!gi) return 0;
    if (FT_Load_Glyph(f->face, gi, FT_LOAD_NO_HINTING | FT_LOAD_RENDER)) return -1;
    FT_GlyphSlot s = f->face->glyph;
    const FT_Bitmap *bm = &s->bitmap;
    if (bm->pixel_mode != FT_PIXEL_MODE_GRAY && bm->rows && bm->width) return -1;
    long asc = (f->face->size->metrics.ascender + 63) / 64;
    out->advance = (unsigned)((s->metrics.horiAdvance + 32) / 64);
    out->left = s->bitmap_left;
    out->top = (int)(s->bitmap_top - asc);
    if (!bm->rows || !bm->width) return 1;
    out->width = bm->width;
    out->height = bm->rows;
    size_t W = bm->width + 2 * GW_GLYPH_BUFFER, H = bm->rows + 2 * GW_GLYPH_BUFFER;
    if (!(out->sdf = malloc(W * H))) return -1;
    if (!sdf(bm->buffer, bm->pitch, bm->width, bm->rows, out->sdf)) return -1;
    if (keep_cov) {
        if (!(out->coverage = malloc((size_t)bm->width * bm->rows))) return -1;
        for (unsigned y = 0; y < bm->rows; y++)
            memcpy(out->coverage + (size_t)y * bm->width, bm->buffer + (long)y * bm->pitch,
                   bm->width);
    }
    return 1;
}

void gw_glyph_clear(gw_glyph *gl)
{
    free(gl->sdf);
    free(gl->coverage);
    memset(gl, 0, sizeof *gl);
}

/* ---- protobuf by hand ------------------------------------------------------------------------ */

typedef struct gl_buf {
    unsigned char *p;
    size_t n, cap;
    int bad;
} gl_buf;

static void put(gl_buf *b, const void *src, size_t n)
{
    if (b->bad) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->bad = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void varint(gl_buf *b, unsigned long long v)
{
    unsigned char t[10];
    size_t n = 0;
    do {
        t[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) t[n] |= 0x80;
        n++;
    } while (v);
    put(b, t, n);
}

static void field_varint(gl_buf *b, unsigned tag, unsigned long long v)
{
    varint(b, (unsigned long long)tag << 3);
    varint(b, v);
}

static void field_sint(gl_buf *b, unsigned tag, long long v)
{
    field_varint(b, tag, ((unsigned long long)v << 1) ^ (unsigned long long)(v >> 63));
}

static void field_bytes(gl_buf *b, unsigned tag, const void *p, size_t n)
{
    varint(b, (unsigned long long)tag << 3 | 2);
    varint(b, n);
    put(b, p, n);
}

/* Make the PBF of f's range r (f's lock held). */
static gw_status make_range(gw_ctx *ctx, gl_font *f, unsigned r, gw_tile_blob **out)
{
    gl_buf stack = {0}, gb = {0};
    char range[24];
    snprintf(range, sizeof range, "%u-%u", r * 256, r * 256 + 255);
    field_bytes(&stack, 1, f->name, strlen(f->name));
    field_bytes(&stack, 2, range, strlen(range));
    for (unsigned cp = r * 256; cp < r * 256 + 256; cp++) {
        gw_glyph gl;
        int rc = render(f, cp, &gl, 0);
        if (rc < 0) {
            gw_glyph_clear(&gl);
            free(stack.p), free(gb.p);
            return gw_ctx_error(ctx, GW_ERR_INTERNAL, "glyph U+%04X of '%s' could not be made", cp,
                                f->name);
        }
        if (rc == 0) continue;
        gb.n = 0;
        field_varint(&gb, 1, cp);
        if (gl.sdf)
            field_bytes(&gb, 2, gl.sdf,
                        (gl.width + 2 * GW_GLYPH_BUFFER) * (gl.height + 2 * GW_GLYPH_BUFFER));
        field_varint(&gb, 3, gl.width);
        field_varint(&gb, 4, gl.height);
        field_sint(&gb, 5, gl.left);
        field_sint(&gb, 6, gl.top);
        field_varint(&gb, 7, gl.advance);
        gw_glyph_clear(&gl);
        if (!gb.bad) field_bytes(&stack, 3, gb.p, gb.n);
    }
    gl_buf doc = {0};
    if (!stack.bad && !gb.bad) field_bytes(&doc, 1, stack.p, stack.n);
    int bad = stack.bad || gb.bad || doc.bad;
    free(stack.p), free(gb.p);
    if (bad) {
        free(doc.p);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    gw_status st = gw_tile_blob_create(ctx, doc.p, doc.n, 0, out);
    free(doc.p);
    return st;
}

int gw_glyphs_pick(const char *fontstack, const char *const *names, size_t n)
{
    const char *p = fontstack;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && *p == ' ') p++, len--;
        while (len && p[len - 1] == ' ') len--;
        for (size_t i = 0; i < n; i++)
            if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0) return (int)i;
        p = e ? e + 1 : NULL;
    }
    return -1;
}

/* The first font of the comma-separated list that is served, or NULL. */
static gl_font *find_font(gw_glyphs *g, const char *stack)
{
    const char *names[16];
    size_t n = g->n < 16 ? g->n : 16;
    for (size_t i = 0; i < n; i++) names[i] = g->fonts[i].name;
    int i = gw_glyphs_pick(stack, names, n);
    return i < 0 ? NULL : &g->fonts[i];
}

gw_status gw_glyphs_range(gw_ctx *ctx, gw_glyphs *g, const char *fontstack, unsigned start,
                          gw_tile_blob **out)
{
    *out = NULL;
    if (start % 256 || start >= 256u * GL_RANGES)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "glyph range start %u is not a multiple of 256 below 65536", start);
    gl_font *f = find_font(g, fontstack);
    if (!f) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no font of '%s' is served", fontstack);
    unsigned r = start / 256;
    gw_status st = GW_OK;
    pthread_mutex_lock(&f->lock);
    if (!f->ranges[r]) st = make_range(ctx, f, r, &f->ranges[r]);
    if (!st) *out = gw_tile_blob_retain(f->ranges[r]);
    pthread_mutex_unlock(&f->lock);
    return st;
}

gw_status gw_glyphs_render(gw_ctx *ctx, gw_glyphs *g, const char *font, unsigned cp, gw_glyph *out)
{
    memset(out, 0, sizeof *out);
    gl_font *f = find_font(g, font);
    if (!f) return gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "no font '%s' is served", font);
    pthread_mutex_lock(&f->lock);
    int rc = render(f, cp, out, 1);
    pthread_mutex_unlock(&f->lock);
    if (rc == 1) return GW_OK;
    gw_glyph_clear(out);
    return rc == 0 ? gw_ctx_error(ctx, GW_ERR_NOT_FOUND, "'%s' has no glyph U+%04X", font, cp)
                   : gw_ctx_error(ctx, GW_ERR_INTERNAL, "glyph U+%04X could not be made", cp);
}
