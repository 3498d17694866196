/* plan_fixture.h — helpers shared by the planning tests (plan_fixture.c). */
#ifndef GW_TEST_PLAN_FIXTURE_H
#define GW_TEST_PLAN_FIXTURE_H

#include "testutil.h"

#include "gridwatch/store.h"

#include <libpq-fe.h>
#include <stdint.h>

/* the tests' context (set up by each test program's group setup) */
extern gw_ctx *ctx;

/* 2×2 tiling of 0.01° squares A, B (east), C (north), D (north-east) with incident I1 in B,
 * in a new database `name` (gw_test_db: SQLite or PostgreSQL) */
gw_store *make_db(const char *name);
/* text-parameter SQL on the PostgreSQL database of s; the caller PQclear()s */
PGresult *pg_q(gw_store *s, const char *pg, int n, const char *const *v);
/* one integer: sq on SQLite, pg on PostgreSQL (-1 for no row); q_int: the same SQL on both */
int64_t q_int2(gw_store *s, const char *sq, const char *pg);
int64_t q_int(gw_store *s, const char *sql);
/* draft d tiles its jurisdiction: no overlap, gap, invalid grid or piece outside */
void assert_tiles(gw_store *s, int64_t d);

#endif
