/* cql2_sql.h — a CQL2 filter (include/gridwatch/cql2.h) and a sort order as SQL for either
 * engine: the WHERE piece with its parameters in order, and the ORDER BY.  The SQLite engine
 * binds the parameters (sqlite_features.c), the PostgreSQL engine sends them as text
 * (pg_features.c). */
#ifndef GW_CQL2_SQL_H
#define GW_CQL2_SQL_H

#include "gridwatch/cql2.h"
#include "gridwatch/store_features.h"

#include <stddef.h>
#include <stdint.h>

typedef enum st_cql_kind { ST_CQL_TEXT, ST_CQL_INT, ST_CQL_REAL, ST_CQL_BLOB } st_cql_kind;

/* One parameter: SQLite binds it by kind; PostgreSQL gets `pg` (its text form; blobs as hex). */
typedef struct st_cql_param {
    st_cql_kind kind;
    int64_t i;
    double d;
    const char *s; /* TEXT: borrowed from the filter, or `own` */
    const unsigned char *blob;
    size_t n;
    char own[40]; /* times as ISO 8601 text, numbers for PostgreSQL */
    char *hex;    /* PostgreSQL: a blob in hex (freed with the statement) */
} st_cql_param;

typedef struct st_cql_sql {
    int pg;    /* write PostgreSQL ($k with casts), else SQLite (?) */
    int first; /* PostgreSQL: the number of the first parameter ($first) */
    char *sql; /* the WHERE piece (malloc'd, NUL-terminated) */
    size_t len, cap;
    int oom;
    st_cql_param *p; /* the parameters in order */
    int np, capp;
} st_cql_sql;

/* Write f as a parenthesised SQL condition into out (zeroed, with pg and first set).  GW_OK, or
 * GW_ERR_NOMEM; free with st_cql_sql_free. */
gw_status st_cql_where(gw_ctx *ctx, const gw_cql2 *f, st_cql_sql *out);
/* " ORDER BY …" for the filter's sort fields (then fid), or the storage order, into buf. */
void st_cql_order(const gw_feature_filter *f, int pg, char *buf, size_t cap);
void st_cql_sql_free(st_cql_sql *s);

#endif
