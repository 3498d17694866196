/* web_http.c — static files of the map wall page (web/) and of MapLibre GL JS, served by the
 * same process as the data so a command center needs nothing but gridwatch: content types by
 * extension (module scripts need a JavaScript type), ETag/304, gzip of text, and no way out of
 * the web directory (".." and encoded variants refused, symlinks resolved and checked). */
#include "web_http.h"

#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16u << 20) /* the largest file served (MapLibre's module is ~1.1 MB) */
#define GZ_MIN 1024          /* smaller text is sent as it is */
#define GZ_SLOTS 16          /* compressed copies kept (page files + MapLibre) */

static char g_dir[PATH_MAX];    /* resolved web directory, "" when none */
static char g_vendor[PATH_MAX]; /* resolved MapLibre dist directory, "" when none */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_off; /* --no-wall: the page is not served */

typedef struct gz_slot {
    char path[PATH_MAX];
    char etag[64];
    unsigned char *gz;
    size_t len;
    unsigned long long used;
} gz_slot;

static gz_slot g_gz[GZ_SLOTS];
static unsigned long long g_gz_clock;
static pthread_mutex_t g_gz_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- finding the files --------------------------------------------------------------------- */

static int is_file(const char *dir, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    int n = snprintf(p, sizeof p, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolve `cand` into out when it holds `probe`; 1 on success. */
static int try_dir(const char *cand, const char *probe, char *out)
{
    char real[PATH_MAX];
    if (!cand || !*cand || !realpath(cand, real) || !is_file(real, probe)) return 0;
    snprintf(out, PATH_MAX, "%s", real);
    return 1;
}

/* The source tree's web/ from this file's path (CMake passes absolute source paths): the
 * nearest ancestor directory holding web/index.html, so moving this file into a sub-folder of
 * api/ does not lose the page of a build tree. */
static int find_source_web(char *out)
{
    char cand[PATH_MAX + 16];
    snprintf(cand, sizeof cand, "%s", __FILE__);
    if (cand[0] != '/') return 0;
    for (int up = 0; up < 4; up++) {
        char *slash = strrchr(cand, '/');
        if (!slash) return 0;
        snprintf(slash, sizeof cand - (size_t)(slash - cand), "/web");
        if (try_dir(cand, "index.html", out)) return 1;
        *slash = '\0';
    }
    return 0;
}

static void find_dirs(void)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    if (try_dir(getenv("GRIDWATCH_WEB_DIR"), "index.html", g_dir)) goto vendor;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        /* the installed layout (PREFIX/bin -> PREFIX/share) first, then build trees */
        static const char *const rel[] = {"../share/gridwatch/web", "web", "../web", "../../web"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
            if (try_dir(cand, "index.html", g_dir)) goto vendor;
        }
    }
    if (find_source_web(g_dir)) goto vendor;
    g_dir[0] = '\0';
    return;
vendor:
    snprintf(cand, sizeof cand, "%s/vendor/maplibre-gl", g_dir);
    if (try_dir(cand, "maplibre-gl.mjs", g_vendor)) return;
    snprintf(cand, sizeof cand, "%s/node_modules/maplibre-gl/dist", g_dir);
    if (!try_dir(cand, "maplibre-gl.mjs", g_vendor)) g_vendor[0] = '\0';
}

const char *gw_web_dir(void)
{
    pthread_once(&g_once, find_dirs);
    return g_dir;
}

int gw_web_available(void) { return !g_off && *gw_web_dir() != '\0'; }

void gw_web_disable(void) { g_off = 1; }

int gw_web_check(char *msg, size_t cap)
{
    const char *dir = gw_web_dir();
    if (!*dir) {
        snprintf(msg, cap,
                 "the map wall page (web/index.html) was not found: install gridwatch with "
                 "cmake --install (it goes to PREFIX/share/gridwatch/web), set GRIDWATCH_WEB_DIR "
                 "to a web directory, or pass --no-wall to serve without the wall");
        return -1;
    }
    if (!*g_vendor || !is_file(g_vendor, "maplibre-gl.css")) {
        snprintf(msg, cap,
                 "the map wall's MapLibre files are missing (looked in %s/vendor/maplibre-gl and "
                 "%s/node_modules/maplibre-gl/dist): run `npm ci` in web/ or install gridwatch "
                 "with cmake --install; --no-wall serves without the wall",
                 dir, dir);
        return -1;
    }
    return 0;
}

/* ---- request checks ------------------------------------------------------------------------ */

/* 0 when `seg` may name a file or directory; else the status to answer: 400 for traversal
 * attempts and escapes that survived decoding (".." "%2e" "\"), 404 for hidden names and the
 * npm tree. */
static unsigned check_segment(const char *seg)
{
    if (strcmp(seg, "..") == 0 || strchr(seg, '%') || strchr(seg, '\\') || strstr(seg, ".."))
        return 400;
    for (const unsigned char *p = (const unsigned char *)seg; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 400;
    if (seg[0] == '.' || strcmp(seg, "node_modules") == 0 || strncmp(seg, "package", 7) == 0)
        return 404;
    return 0;
}

static const char *content_type(const char *name, int *text)
{
    static const struct {
        const char *ext, *type;
        int text;
    } types[] = {
        {".html", "text/html; charset=utf-8", 1},
        {".js", "text/javascript; charset=utf-8", 1},
        {".mjs", "text/javascript; charset=utf-8", 1},
        {".css", "text/css; charset=utf-8", 1},
        {".json", "application/json", 1},
        {".map", "application/json", 1},
        {".svg", "image/svg+xml", 1},
        {".txt", "text/plain; charset=utf-8", 1},
        {".png", "image/png", 0},
        {".webp", "image/webp", 0},
        {".ico", "image/x-icon", 0},
        {".woff2", "font/woff2", 0},
    };
    const char *dot = strrchr(name, '.');
    if (!dot) return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0) {
            *text = types[i].text;
            return types[i].type;
        }
    return NULL;
}

/* Answer with the gzip of data, from the slot cache when path+etag match; 0 when answered. */
static int respond_gzip(gw_req *req, const char *path, const char *etag, const char *type,
                        const char *data, size_t len)
{
    pthread_mutex_lock(&g_gz_lock);
    for (int i = 0; i < GZ_SLOTS; i++) {
        gz_slot *s = &g_gz[i];
        if (s->gz && strcmp(s->path, path) == 0 && strcmp(s->etag, etag) == 0) {
            s->used = ++g_gz_clock;
            gw_req_add_header(req, "Content-Encoding", "gzip");
            gw_req_respond(req, 200, type, (const char *)s->gz, s->len); /* copies */
            pthread_mutex_unlock(&g_gz_lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&g_gz_lock);
    size_t gl = 0;
    unsigned char *gz = gw_gzip(data, len, &gl);
    if (!gz) return -1;
    gw_req_add_header(req, "Content-Encoding", "gzip");
    gw_req_respond(req, 200, type, (const char *)gz, gl);
    pthread_mutex_lock(&g_gz_lock);
    gz_slot *victim = &g_gz[0];
    for (int i = 0; i < GZ_SLOTS; i++) {
        if (strcmp(g_gz[i].path, path) == 0) { /* same file, older version */
            victim = &g_gz[i];
            break;
        }
        if (g_gz[i].used < victim->used) victim = &g_gz[i];
    }
    free(victim->gz);
    snprintf(victim->path, sizeof victim->path, "%s", path);
    snprintf(victim->etag, sizeof victim->etag, "%s", etag);
    victim->gz = gz;
    victim->len = gl;
    victim->used = ++g_gz_clock;
    pthread_mutex_unlock(&g_gz_lock);
    return 0;
}

/* ---- serving ------------------------------------------------------------------------------- */

/* Serve root/rel (rel: one or two checked segments) with caching headers `cache`. */
static void serve_file(gw_req *req, const char *root, const char *rel, const char *cache)
{
    char path[PATH_MAX], real[PATH_MAX];
    int text = 0;
    const char *type = content_type(rel, &text);
    int n = snprintf(path, sizeof path, "%s/%s", root, rel);
    if (!type) {
        gw_req_problem(req, 404, NULL, "no file '%s' on the map page (only page files are served)",
                       rel);
        return;
    }
    if (n <= 0 || (size_t)n >= sizeof path || !realpath(path, real)) {
        gw_req_problem(req, 404, NULL, "no file '%s' on the map page", rel);
        return;
    }
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || real[rl] != '/') { /* a symlink out of the tree */
        gw_req_problem(req, 404, NULL, "no file '%s' on the map page", rel);
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE) {
        if (fd >= 0) close(fd);
        gw_req_problem(req, 404, NULL, "no file '%s' on the map page", rel);
        return;
    }
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec,
             (unsigned long)st.st_ino);
    gw_req_add_header(req, "X-Content-Type-Options", "nosniff");
    if (gw_req_cache_check(req, etag, cache, text)) {
        close(fd);
        return;
    }
    size_t len = (size_t)st.st_size, got = 0;
    char *data = malloc(len ? len : 1);
    while (data && got < len) {
        ssize_t r = read(fd, data + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!data || got != len) {
        free(data);
        gw_req_problem(req, 500, NULL, "could not read '%s' of the map page", rel);
        return;
    }
    if (!(text && len >= GZ_MIN && gw_req_accepts_gzip(req) &&
          respond_gzip(req, real, etag, type, data, len) == 0))
        gw_req_respond(req, 200, type, data, len);
    free(data);
}

static int no_page(gw_req *req)
{
    if (g_off) {
        gw_req_problem(req, 404, N_("Map wall turned off"),
                       "this server was started with --no-wall; the data routes answer as usual");
        return 0;
    }
    gw_req_problem(req, 404, N_("Map page not installed"),
                   "the map page (web/index.html) was not found; set GRIDWATCH_WEB_DIR to the web "
                   "directory of the gridwatch sources");
    return 0;
}

static int h_index(gw_req *req)
{
    if (!gw_web_available()) return no_page(req);
    serve_file(req, g_dir, "index.html", "no-cache");
    return 0;
}

static int h_file(gw_req *req)
{
    if (!gw_web_available()) return no_page(req);
    const char *f = gw_req_param(req, "file");
    unsigned bad = check_segment(f);
    if (bad) {
        gw_req_problem(req, bad, NULL, "file name '%s' is not allowed", f);
        return 0;
    }
    serve_file(req, g_dir, f, "no-cache");
    return 0;
}

static int h_file2(gw_req *req)
{
    if (!gw_web_available()) return no_page(req);
    const char *d = gw_req_param(req, "dir"), *f = gw_req_param(req, "file");
    unsigned bad = check_segment(d);
    if (!bad) bad = check_segment(f);
    if (bad) {
        gw_req_problem(req, bad, NULL, "path '%s/%s' is not allowed", d, f);
        return 0;
    }
    if (strcmp(d, "vendor") == 0) {
        if (!*g_vendor) {
            gw_req_problem(req, 404, N_("MapLibre GL JS not installed"),
                           "web/node_modules/maplibre-gl is missing: run 'cd web && npm ci'");
            return 0;
        }
        serve_file(req, g_vendor, f, "public, max-age=86400");
        return 0;
    }
    char rel[2 * 256 + 2];
    snprintf(rel, sizeof rel, "%s/%s", d, f);
    serve_file(req, g_dir, rel, "no-cache");
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/wall", h_index, GW_ROLE_ANON, "wall"},
    {"GET", "/wall/{file}", h_file, GW_ROLE_ANON, "wall_file"},
    {"GET", "/wall/{dir}/{file}", h_file2, GW_ROLE_ANON, "wall_file"},
    {"GET", "/web", h_index, GW_ROLE_ANON, "wall"},
    {"GET", "/web/{file}", h_file, GW_ROLE_ANON, "wall_file"},
    {"GET", "/web/{dir}/{file}", h_file2, GW_ROLE_ANON, "wall_file"},
};

const gw_route *gw_web_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
