/* io_internal.h — the import state and the helpers the files of geo/io share (io_ prefix; not
 * installed). */
#ifndef GW_IO_INTERNAL_H
#define GW_IO_INTERNAL_H

#include "gridwatch/io.h"
#include "gridwatch/crs.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define MAXF 16 /* more than any layer's field count */
#define PROGRESS_EVERY 4096
#define FID_SOURCE (-2) /* --map id=FID: the OGR feature id */
#define TZ_SLOTS 8192   /* cached local hours (about a year) */
#define CAM_DEFAULT_AZIMUTH 0.0
#define CAM_DEFAULT_FOV 360.0
#define CAM_DEFAULT_RANGE 50.0
#define CAM_DEFAULT_STATUS "online"

/* ---- import state ------------------------------------------------------------------------ */

typedef struct pgrid { /* a grid waiting for its other parts (features sharing its id) */
    char *text[MAXF];
    gw_value vals[MAXF];
    GEOSGeometry **parts;
    int nparts, cap;
} pgrid;

typedef struct gridref { /* a current grid, for resolving incidents' grid */
    char *id;
    GEOSGeometry *g;
    const GEOSPreparedGeometry *pg;
} gridref;

typedef struct imp {
    gw_ctx *ctx;
    GEOSContextHandle_t h;
    gw_store *store;
    gw_layer layer;
    gw_import_opts o;
    const char *path;
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureDefnH defn;
    int is_shp;
    const gw_field *fields;
    size_t nf;
    int src[MAXF];
    OGRFieldType stype[MAXF];
    gw_value vals[MAXF];
    char *tbuf[MAXF];
    size_t tcap[MAXF];
    /* CRS */
    int no_srs;
    OGRCoordinateTransformationH oct;
    gw_crs_transform *gtr;
    /* geometry */
    unsigned char *wkb;
    size_t wkbcap;
    GEOSWKBReader *rd;
    GEOSWKBWriter *wr;
    /* times in an IANA zone: UTC offset cached per local hour */
    int tz_iana;
    long tz_fixed; /* seconds east of UTC when opts->tz is UTC or an offset */
    int64_t tzc_key[TZ_SLOTS], tzc_off[TZ_SLOTS];
    /* pending grids, by id (open addressing) */
    pgrid *pg;
    size_t npg, cappg;
    int32_t *hash;
    size_t hcap;
    /* current grids for incidents */
    gridref *gr;
    size_t ngr;
    char *
        *room_id; /* police rooms, for an incident's nearest room (lon/lat, x scaled by cos lat) */
    double *room_x, *room_y, room_cos;
    size_t nroom;
    GEOSSTRtree *tree;
    gridref **cand;
    size_t ncand, capcand;
    /* swapped lat/lon detection */
    int64_t npts, polar, in_ext, swap_in_ext, first_swap_row;
    double swx, swy;
    char swid[64];
    int have_ext;
    gw_bbox gext;
    int have_aou; /* --srs's area of use (lon/lat, widened by AOU_MARGIN), for a sanity check */
    gw_bbox aou;
    gw_inserter *ins;
    gw_bbox bbox;
    int have_bbox;
    int64_t row;
    gw_import_report rep;
    /* encoding: a CSV converted to UTF-8 is read from open_path in tmpdir; recode_values when
     * --encoding names the text of a format whose driver cannot (recoded value by value) */
    char *open_path;
    char tmpdir[512];
    int recode_values;
    char dbtz[64]; /* the database's default zone (init --tz), when the import names none */
} imp;

void io_gdal_enter(void);
void io_gdal_leave(void);
const char *io_gdal_msg(void);
int io_has_ext(const char *path, const char *ext);
void io_grow_bbox(imp *m, double x0, double y0, double x1, double y1);
const char *io_row_id(const imp *m);
gw_status io_read_values(imp *m, OGRFeatureH f);
gw_status io_setup_crs(imp *m);
gw_status io_load_grids(imp *m);
gw_status io_load_rooms(imp *m);
void io_imp_free(imp *m);
gw_status io_import_rows(imp *m);

/* io_encoding.c */
int io_is_utf8_name(const char *enc);
gw_status io_encoding_check_name(gw_ctx *ctx, const char *enc);
size_t io_utf8_check(const unsigned char *s, size_t n, int *nonascii);
gw_status io_csv_encoding(imp *m);
gw_status io_shp_encoding(imp *m, char *oo, size_t cap);
char *io_recode_value(const char *s, const char *enc);
char *io_encode_value(const char *s, const char *enc);
gw_status io_encode_file(gw_ctx *ctx, const char *path, const char *enc);
void io_tmp_cleanup(imp *m);

#endif
