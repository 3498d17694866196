/* fuzz_dbf_import.c — libFuzzer target for the text encoding of a shapefile's .dbf (geo/io:
 * io_encoding.c reads the header, field descriptors and records to decide UTF-8 or GB18030 when
 * there is no .cpg, or to check an explicit --encoding, then GDAL's DBF reader with the ENCODING
 * open option).  The input after one option byte is written as in.dbf under /dev/shm (a .dbf
 * alone is a layer without geometry, so an import ends refused after both readers ran) and
 * imported as police_rooms.  Byte 0 % 4: the encoding (none: detected, "GBK", "UTF-8",
 * "GB18030"); bit 2: --map name=名称. */
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
    if (gw_store_open(ctx, fz_path("dbf.sqlite"), GW_STORE_CREATE, &store) != GW_OK)
        fz_fail("gw_store_open: %s", gw_ctx_errmsg(ctx));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    gw_ctx *ctx = fz_ctx();
    static const char *const encodings[4] = {NULL, "GBK", "UTF-8", "GB18030"};
    gw_import_opts o = {0};
    o.encoding = encodings[data[0] & 3];
    if (data[0] & 4) o.map = "name=名称";
    o.replace = 1;
    const char *path = fz_path("in.dbf");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        fz_fail("cannot write %s", path);
    gw_import_report rep = {0};
    fz_check(ctx, gw_io_import(ctx, store, GW_LAYER_POLICE_ROOMS, path, &o, &rep), "gw_io_import");
    if (gw_store_in_transaction(store)) fz_fail("gw_io_import left its transaction open");
    return 0;
}
