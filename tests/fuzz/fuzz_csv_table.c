/* fuzz_csv_table.c — libFuzzer target for the CSV reader of the spreadsheet tables
 * (gridwatch/csv.h: `gridwatch jurisdictions import`, `gridwatch accounts import`).  Every
 * record's fields must lie inside the reader's copy and be NUL-terminated, the line number must
 * never go backwards, and a field must never be longer than the input. */
#include "fuzz_util.h"

#include "gridwatch/csv.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20) return 0;
    gw_ctx *ctx = fz_ctx();
    gw_csv *c = NULL;
    if (fz_check(ctx, gw_csv_open_mem(ctx, "fuzz.csv", data, size, &c), "gw_csv_open_mem"))
        return 0;
    char *f[GW_CSV_MAX_COLS];
    int n = 0;
    long line = 0;
    for (;;) {
        gw_status st = fz_check(ctx, gw_csv_next(c, f, &n), "gw_csv_next");
        if (st || n == 0) break;
        if (n < 0 || n > GW_CSV_MAX_COLS) fz_fail("%d fields", n);
        if (gw_csv_line(c) < line) fz_fail("line went back: %ld after %ld", gw_csv_line(c), line);
        line = gw_csv_line(c);
        for (int i = 0; i < n; i++) {
            if (strlen(f[i]) > size) fz_fail("field %d longer than the input", i);
            gw_csv_trim(f[i]);
        }
    }
    gw_csv_close(c);
    return 0;
}
