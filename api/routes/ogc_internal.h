/* ogc_internal.h — what the OGC API – Features read side (ogc.c) shares with its OpenAPI
 * document (ogc_openapi.c): the paging limits, the CRSs offered and the document's handler. */
#ifndef GRIDWATCH_OGC_INTERNAL_H
#define GRIDWATCH_OGC_INTERNAL_H

#include "gridwatch/crs.h"
#include "server.h"

#include <stddef.h>

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 10000

/* The CRSs offered for output and bbox-crs.  swap: the CRS's axis order is lat/lon. */
typedef struct crs_opt {
    const char *uri;
    gw_crs crs;
    int swap, prec;
} crs_opt;
extern const crs_opt ogc_crs_opts[];
extern const size_t ogc_n_crs;
#define N_CRS ogc_n_crs
#define crs_opts ogc_crs_opts

/* GET /openapi.json: the OpenAPI 3.0 document of every route the server holds. */
int ogc_h_openapi(gw_req *req);

#endif
