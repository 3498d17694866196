/* csv.h — one small CSV reader for the tables people keep in spreadsheets (the jurisdiction
 * import, the accounts import): RFC 4180 quoting ("" inside quotes, newlines in quoted fields),
 * comma separated, LF or CRLF, UTF-8 with an optional BOM, read whole (at most 256 MB) and cut
 * in place.  GDAL's CSV driver reads point layers for `gridwatch import`; these tables have no
 * geometry and need exact line numbers in their errors, which this reader gives. */
#ifndef GRIDWATCH_CSV_H
#define GRIDWATCH_CSV_H

#include "gridwatch/common.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GW_CSV_MAX_COLS 64

typedef struct gw_csv gw_csv;

/* Read the file `path` (errors on ctx name it: GW_ERR_IO, GW_ERR_NOMEM, GW_ERR_FORMAT for a
 * file with a NUL byte).  Close with gw_csv_close. */
gw_status gw_csv_open(gw_ctx *ctx, const char *path, gw_csv **out);
/* The same over a copy of data[0..len) (`name` in messages). */
gw_status gw_csv_open_mem(gw_ctx *ctx, const char *name, const void *data, size_t len,
                          gw_csv **out);
/* The next record: fields[0..*n) point into the reader (valid until close, NUL-terminated);
 * *n == 0 at the end.  A blank line is one empty field.  GW_ERR_FORMAT (with the line) for an
 * unclosed quote, text after a closing quote or more than GW_CSV_MAX_COLS fields. */
gw_status gw_csv_next(gw_csv *c, char *fields[GW_CSV_MAX_COLS], int *n);
/* The line the last record ended on (1-based). */
long gw_csv_line(const gw_csv *c);
/* The name given at open. */
const char *gw_csv_name(const gw_csv *c);
/* Accepts NULL. */
void gw_csv_close(gw_csv *c);
/* Remove leading and trailing blanks and tabs in place. */
void gw_csv_trim(char *s);

#ifdef __cplusplus
}
#endif
#endif
