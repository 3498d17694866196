/* plan_import.c — import a whole grid layout (GeoJSON, GeoPackage, a zipped Shapefile …) into a
 * draft: the file is read through the io room and its grids replace the draft's, in one
 * transaction. */
#include "gridwatch/io.h"
#include "plan_internal.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- import of a whole layout -------------------------------------------------------------- */

static int ends_with(const char *s, const char *ext)
{
    size_t n = strlen(s), e = strlen(ext);
    return n > e && strcasecmp(s + n - e, ext) == 0;
}

/* Copy one member of an archive (a /vsizip/ path) to a local file. */
static int vsi_copy(const char *from, const char *to)
{
    VSILFILE *in = VSIFOpenL(from, "rb");
    FILE *out = in ? fopen(to, "wb") : NULL;
    int ok = in && out;
    char buf[65536];
    size_t k;
    while (ok && (k = VSIFReadL(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, k, out) == k;
    if (out && fclose(out) != 0) ok = 0;
    if (in) VSIFCloseL(in);
    return ok;
}

/* A zipped layout: unpack the first vector dataset in the archive (a Shapefile with its
 * sidecar files, else a GeoPackage, GeoJSON or DXF; at any depth) into the private directory
 * dir (made here), and put the path to read into out.  0 when there is none. */
static int unzip_layout(const char *zip, char *dir, size_t dcap, char *out, size_t ocap)
{
    static const char *const kinds[] = {".shp", ".gpkg", ".geojson", ".json", ".dxf"};
    char vsi[4200];
    snprintf(vsi, sizeof vsi, "/vsizip/%s", zip);
    char **names = VSIReadDirRecursive(vsi);
    const char *pick = NULL;
    for (size_t k = 0; !pick && k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; names && names[i] && !pick; i++)
            if (ends_with(names[i], kinds[k]) && !strstr(names[i], "__MACOSX")) pick = names[i];
    int ok = 0;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dcap, "%s/gw-layout-XXXXXX", tmp && *tmp ? tmp : P_tmpdir);
    if (pick && mkdtemp(dir)) {
        ok = 1;
        size_t stem = strlen(pick) - (ends_with(pick, ".shp") ? 4 : strlen(pick));
        for (int i = 0; ok && names[i]; i++) {
            /* the picked file, and for a Shapefile every member with its stem (.shx, .dbf …) */
            if (strcmp(names[i], pick) != 0 &&
                !(stem > 0 && strncmp(names[i], pick, stem) == 0 && names[i][stem] == '.'))
                continue;
            const char *base = strrchr(names[i], '/');
            base = base ? base + 1 : names[i];
            char from[8600], to[4400];
            snprintf(from, sizeof from, "%s/%s", vsi, names[i]);
            snprintf(to, sizeof to, "%s/%s", dir, base);
            ok = vsi_copy(from, to);
            if (strcmp(names[i], pick) == 0) snprintf(out, ocap, "%s", to);
        }
    } else {
        dir[0] = '\0';
    }
    CSLDestroy(names);
    return ok;
}

static void remove_dir(const char *dir)
{
    char **names = dir[0] ? VSIReadDir(dir) : NULL;
    for (int i = 0; names && names[i]; i++) {
        if (strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    CSLDestroy(names);
    if (dir[0]) rmdir(dir);
}

/* The scratch store's grids, one by one, for gw_store_plan_draft_replace. */
typedef struct cursor_src {
    gw_ctx *ctx;
    gw_cursor *cur;
} cursor_src;

static gw_status next_row(void *user, gw_store_plan_grid *g)
{
    cursor_src *c = user;
    gw_row row;
    gw_status st = gw_cursor_next(c->cur, &row);
    if (st == GW_ERR_NOT_FOUND) gw_ctx_clear_error(c->ctx);
    if (st) return st;
    g->values = row.values;
    g->wkb = row.wkb;
    g->wkb_len = row.wkb_len;
    g->own = 1;
    return GW_OK;
}

gw_status gw_plan_draft_import(gw_store *s, int64_t draft, const char *path, const char *who,
                               size_t *n)
{
    return gw_plan_draft_import_mapped(s, draft, path, NULL, who, n);
}

static gw_status import_layout(gw_store *s, int64_t draft, const char *path, const char *map,
                               const char *who, int upload, size_t *n);

gw_status gw_plan_draft_import_mapped(gw_store *s, int64_t draft, const char *path, const char *map,
                                      const char *who, size_t *n)
{
    return import_layout(s, draft, path, map, who, 0, n);
}

gw_status gw_plan_draft_import_upload(gw_store *s, int64_t draft, const char *path, const char *map,
                                      const char *who, size_t *n)
{
    return import_layout(s, draft, path, map, who, 1, n);
}

static gw_status import_layout(gw_store *s, int64_t draft, const char *path, const char *map,
                               const char *who, int upload, size_t *n)
{
    gw_ctx *ctx = gw_store_ctx(s);
    gw_plan_draft d;
    gw_status st = gw_plan_draft_get(s, draft, &d);
    if (st) return st;
    if (strcmp(d.status, "open") != 0)
        return gw_ctx_error(ctx, GW_ERR_CONFLICT, "draft %lld is published", (long long)draft);
    /* A .zip is unpacked first (io.c reads plain files). */
    char zdir[4200] = "", inner[4400] = "";
    if (ends_with(path, ".zip")) {
        if (!unzip_layout(path, zdir, sizeof zdir, inner, sizeof inner)) {
            remove_dir(zdir);
            return gw_ctx_error(ctx, GW_ERR_FORMAT,
                                "%s: no readable Shapefile, GeoPackage, "
                                "GeoJSON or DXF inside the archive",
                                path);
        }
        path = inner;
    }
    /* io.c does the reading (formats, field mapping, CRS, checks) into a scratch SQLite file in
     * the temporary directory, named per process and call so that imports running at once do
     * not meet.  (It was named after the store's path: on PostgreSQL that is a URL, so every
     * import created a database that was never dropped.) */
    static atomic_uint calls;
    const char *tmpdir = getenv("TMPDIR");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/gridwatch-plan-import-%ld-%u.sqlite",
             tmpdir && *tmpdir ? tmpdir : "/tmp", (long)getpid(), atomic_fetch_add(&calls, 1));
    gw_store *t = NULL;
    if ((st = gw_store_open(ctx, tmp, GW_STORE_CREATE, &t))) {
        remove_dir(zdir);
        return st;
    }
    gw_import_opts io = {.map = map, .drivers = upload ? gw_io_upload_drivers : NULL};
    /* grids drawn in CAD are closed polylines: read them as polygons (this thread only) */
    int dxf = ends_with(path, ".dxf");
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", "TRUE");
    st = gw_io_import(ctx, t, GW_LAYER_GRIDS, path, &io, NULL);
    if (dxf) CPLSetThreadLocalConfigOption("DXF_CLOSED_LINE_AS_POLYGON", NULL);
    remove_dir(zdir);
    if (!st && !(st = gw_store_begin(s))) {
        /* Base grids not in the file are deletes; the file's grids are upserts. */
        cursor_src cs = {ctx, NULL};
        size_t k = 0;
        st = gw_store_cursor_create(t, GW_LAYER_GRIDS, &cs.cur);
        if (!st) st = gw_store_plan_draft_replace(s, draft, d.base_version, next_row, &cs, &k);
        gw_cursor_destroy(cs.cur);
        char detail[256];
        if (!st) st = gw_store_plan_draft_touch(s, draft);
        snprintf(detail, sizeof detail, "{\"draft\":%lld,\"grids\":%zu}", (long long)draft, k);
        if (!st) st = gw_store_audit(s, who, "plan.draft.import", detail);
        if (!st) st = gw_store_commit(s);
        if (st) gw_store_rollback(s);
        else if (n) *n = k;
    }
    gw_store_close(t);
    char side[4200];
    unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp), unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp), unlink(side);
    return st;
}
