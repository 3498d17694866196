/* fuzz_csv_import.c — libFuzzer target for CSV imports (geo/io: gw_io_import through GDAL's CSV
 * driver, the field map, lon/lat columns, time zones, the per-row checks).  The input after two
 * option bytes is written to a .csv file under /dev/shm and imported, replacing the layer, into
 * one database reused for the whole run (each import is one transaction, so a refused import
 * leaves it as it was).  Byte 0: the layer (% 4: incidents, cameras, teams, police_rooms);
 * bit 2 of byte 1: skip bad rows; bits 0–1: the field map and lon/lat columns (none, a map onto
 * common source names, x/y columns, a map naming a missing field); bits 3–4 the zone (none,
 * "+08:00", "Asia/Shanghai", "America/Chicago"); bit 5 uploads' drivers only; bits 6–7 the
 * encoding (none: detected, "GBK", "UTF-8", "GB18030"), so GBK bytes meet both the detection and
 * the explicit conversion. */
#include "fuzz_util.h"

#include "gridwatch/io.h"
#include "gridwatch/store.h"

#include <stdio.h>
#include <stdlib.h>

static gw_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    gw_ctx *ctx = fz_ctx();
    if (gw_store_open(ctx, fz_path("import.sqlite"), GW_STORE_CREATE, &store) != GW_OK)
        fz_fail("gw_store_open: %s", gw_ctx_errmsg(ctx));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536) return 0;
    gw_ctx *ctx = fz_ctx();
    static const gw_layer layers[4] = {GW_LAYER_INCIDENTS, GW_LAYER_CAMERAS, GW_LAYER_TEAMS,
                                       GW_LAYER_POLICE_ROOMS};
    static const char *const maps[4] = {NULL, "id=ID,occurred_at=time,category=type,severity=level",
                                        NULL, "id=no_such_column"};
    static const char *const zones[4] = {NULL, "+08:00", "Asia/Shanghai", "America/Chicago"};
    gw_layer layer = layers[data[0] % 4];
    gw_import_opts o = {0};
    o.map = maps[data[1] & 3];
    if ((data[1] & 3) == 2) o.lon_field = "x", o.lat_field = "y";
    o.skip_bad_rows = (data[1] >> 2) & 1;
    o.tz = zones[(data[1] >> 3) & 3];
    if (data[1] & 32) o.drivers = gw_io_upload_drivers;
    static const char *const encodings[4] = {NULL, "GBK", "UTF-8", "GB18030"};
    o.encoding = encodings[(data[1] >> 6) & 3];
    o.replace = 1;
    const char *path = fz_path("in.csv");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data + 2, 1, size - 2, f) != size - 2 || fclose(f) != 0)
        fz_fail("cannot write %s", path);
    gw_import_report rep = {0};
    gw_status st = fz_check(ctx, gw_io_import(ctx, store, layer, path, &o, &rep), "gw_io_import");
    if (gw_store_in_transaction(store)) fz_fail("gw_io_import left its transaction open");
    if (st == GW_OK) {
        int64_t n = -1;
        if (gw_store_count(store, layer, &n) != GW_OK) fz_fail("count: %s", gw_ctx_errmsg(ctx));
        if (n != rep.imported)
            fz_fail("import reported %lld rows, the layer holds %lld", (long long)rep.imported,
                    (long long)n);
        if (rep.imported + rep.skipped > rep.read + rep.merged)
            fz_fail("imported %lld + skipped %lld of %lld read", (long long)rep.imported,
                    (long long)rep.skipped, (long long)rep.read);
    }
    return 0;
}
