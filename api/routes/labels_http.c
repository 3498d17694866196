/* labels_http.c — what a MapLibre style needs to draw labels and symbols without the Internet:
 * the glyph ranges of the served fonts (GET /fonts/{fontstack}/{start}-{end}.pbf, made by
 * tiles/glyphs.c from the Debian font files on first request and kept) and the sprite
 * (GET /sprite.json, /sprite.png, /sprite@2x.json, /sprite@2x.png, made at build time from the
 * SVGs of web/sprite/ by tools/gen_sprite.py).
 *
 * Fonts: Noto Sans CJK SC Regular and Bold from fonts-noto-cjk (GRIDWATCH_FONT_DIR overrides
 * /usr/share/fonts/opentype/noto).  The sprite directory: GRIDWATCH_SPRITE_DIR, else sprite/
 * beside the binary (a build tree), else ../share/gridwatch/sprite from it (an install).
 * Neither says anything about features: open to every token. */
#include "labels_http.h"

#include "cache.h"
#include "gridwatch/glyphs.h"
#include "problem.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FONT_DIR "/usr/share/fonts/opentype/noto"
#define SPRITE_MAX (4u << 20)

static const struct {
    const char *file, *family, *style;
} fonts[] = {
    {"NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "Regular"},
    {"NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "Bold"},
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static gw_glyphs *g_glyphs; /* the fonts found (none: every range is a 404) */
static char g_font_dir[PATH_MAX];
static char g_sprite[PATH_MAX]; /* resolved sprite directory, "" when none */

static int has_sprite(const char *dir) /* dir: at most PATH_MAX + 64 bytes */
{
    char p[PATH_MAX + 96];
    struct stat st;
    snprintf(p, sizeof p, "%s/sprite.json", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void setup(void)
{
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx)) ctx = NULL;
    const char *dir = getenv("GRIDWATCH_FONT_DIR");
    snprintf(g_font_dir, sizeof g_font_dir, "%s", dir && *dir ? dir : FONT_DIR);
    if (ctx && gw_glyphs_create(ctx, &g_glyphs) == GW_OK)
        for (size_t i = 0; i < sizeof fonts / sizeof fonts[0]; i++) {
            char path[PATH_MAX + 64];
            snprintf(path, sizeof path, "%s/%s", g_font_dir, fonts[i].file);
            if (gw_glyphs_add_font(ctx, g_glyphs, path, fonts[i].family, fonts[i].style))
                gw_ctx_clear_error(ctx);
        }
    gw_ctx_destroy(ctx);

    char exe[PATH_MAX], cand[PATH_MAX + 64];
    const char *env = getenv("GRIDWATCH_SPRITE_DIR");
    if (env && *env && has_sprite(env) && realpath(env, g_sprite)) return;
    g_sprite[0] = '\0';
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = '\0';
    static const char *const rel[] = {"sprite", "../share/gridwatch/sprite"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        if (has_sprite(cand) && realpath(cand, g_sprite)) return;
    }
    g_sprite[0] = '\0';
}

static void blob_release(void *b) { gw_tile_blob_release(b); }

/* "{start}-{end}.pbf" with end = start + 255; 1 and *start on success. */
static int parse_range(const char *s, unsigned *start)
{
    unsigned long a = 0, b = 0;
    size_t i = 0, da = 0, db = 0;
    for (; s[i] >= '0' && s[i] <= '9' && da < 6; i++, da++)
        a = a * 10 + (unsigned long)(s[i] - '0');
    if (!da || s[i++] != '-') return 0;
    for (; s[i] >= '0' && s[i] <= '9' && db < 6; i++, db++)
        b = b * 10 + (unsigned long)(s[i] - '0');
    if (!db || strcmp(s + i, ".pbf") != 0) return 0;
    if ((s[0] == '0' && da > 1) || (s[da + 1] == '0' && db > 1)) return 0; /* leading zeros */
    if (a % 256 || b != a + 255 || a > 65280) return 0;
    *start = (unsigned)a;
    return 1;
}

int gw_labels_parse_range(const char *s, unsigned *start) { return s && parse_range(s, start); }

static int h_glyphs(gw_req *req)
{
    pthread_once(&g_once, setup);
    const char *stack = gw_req_param(req, "fontstack"), *file = gw_req_param(req, "range");
    unsigned start;
    if (!parse_range(file, &start)) {
        gw_req_problem(req, 404, "No such glyph range",
                       "'%s' is not a glyph range: {start}-{start+255}.pbf with start a multiple "
                       "of 256 below 65536",
                       file);
        return 0;
    }
    if (!gw_glyphs_count(g_glyphs)) {
        gw_req_problem(req, 404, "No fonts installed",
                       "no font was found in %s: install the Debian package fonts-noto-cjk (or "
                       "set GRIDWATCH_FONT_DIR)",
                       g_font_dir);
        return 0;
    }
    gw_ctx *ctx = NULL;
    if (gw_ctx_create(&ctx)) {
        gw_req_problem(req, 503, NULL, "out of memory");
        return 0;
    }
    gw_tile_blob *b = NULL;
    gw_status st = gw_glyphs_range(ctx, g_glyphs, stack, start, &b);
    if (st == GW_ERR_NOT_FOUND) {
        char served[512] = "";
        for (size_t i = 0; i < gw_glyphs_count(g_glyphs); i++)
            snprintf(served + strlen(served), sizeof served - strlen(served), "%s'%s'",
                     i ? ", " : "", gw_glyphs_name(g_glyphs, i));
        gw_req_problem(req, 404, "No such font", "no font of '%s' is served; fonts: %s", stack,
                       served);
    } else if (st) {
        gw_req_fail(req, ctx, st, "glyph range %s of '%s'", file, stack);
    } else {
        if (!gw_req_cache_check(req, b->etag, "public, max-age=86400", 1)) {
            gw_tile_blob_retain(b);
            if (b->gz && gw_req_accepts_gzip(req)) {
                gw_req_add_header(req, "Content-Encoding", "gzip");
                gw_req_respond_shared(req, 200, "application/x-protobuf", b->gz, b->gz_len,
                                      blob_release, b);
            } else {
                gw_req_respond_shared(req, 200, "application/x-protobuf", b->raw, b->raw_len,
                                      blob_release, b);
            }
        }
    }
    gw_tile_blob_release(b);
    gw_ctx_destroy(ctx);
    return 0;
}

static void send_sprite(gw_req *req, const char *name, const char *type)
{
    pthread_once(&g_once, setup);
    if (!*g_sprite) {
        gw_req_problem(req, 404, "Sprite not built",
                       "the map sprite (sprite.json) was not found beside the binary: build "
                       "gridwatch with rsvg-convert (librsvg2-bin) installed, or set "
                       "GRIDWATCH_SPRITE_DIR");
        return;
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", g_sprite, name);
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || (unsigned long long)st.st_size > SPRITE_MAX) {
        if (f) fclose(f);
        gw_req_problem(req, 404, "Sprite not built", "the sprite file %s is missing", name);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    if (gw_req_cache_check(req, etag, "public, max-age=3600", 0)) {
        fclose(f);
        return;
    }
    size_t len = (size_t)st.st_size;
    char *data = malloc(len ? len : 1);
    size_t got = data ? fread(data, 1, len, f) : 0;
    fclose(f);
    if (!data || got != len) {
        free(data);
        gw_req_problem(req, 500, NULL, "could not read the sprite file %s", name);
        return;
    }
    gw_req_respond_take(req, 200, type, data, len);
}

static int h_sprite_json(gw_req *req)
{
    send_sprite(req, "sprite.json", "application/json");
    return 0;
}

static int h_sprite_png(gw_req *req)
{
    send_sprite(req, "sprite.png", "image/png");
    return 0;
}

static int h_sprite2_json(gw_req *req)
{
    send_sprite(req, "sprite@2x.json", "application/json");
    return 0;
}

static int h_sprite2_png(gw_req *req)
{
    send_sprite(req, "sprite@2x.png", "image/png");
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/fonts/{fontstack}/{range}", h_glyphs, GW_ROLE_ANON, "glyphs"},
    {"GET", "/sprite.json", h_sprite_json, GW_ROLE_ANON, "sprite"},
    {"GET", "/sprite.png", h_sprite_png, GW_ROLE_ANON, "sprite"},
    {"GET", "/sprite@2x.json", h_sprite2_json, GW_ROLE_ANON, "sprite"},
    {"GET", "/sprite@2x.png", h_sprite2_png, GW_ROLE_ANON, "sprite"},
};

const gw_route *gw_labels_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
