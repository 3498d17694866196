/* testutil.h — helpers shared by the unit tests: temporary files, the real-data directory,
 * a context that collects warnings, and the groups a test binary runs as separate ctest entries
 * (the real-data or external-tool group exits 77, ctest's "skipped", when what it needs is absent). */
#ifndef GW_TESTUTIL_H
#define GW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gridwatch/common.h"

/* A fresh temporary directory for this test process (created once, removed at exit). */
const char *gw_test_tmpdir(void);
/* Path of a new file name inside the temp dir: "<tmp>/<name>"; static buffer rotated 8 deep. */
const char *gw_test_path(const char *name);
/* A database location for the store under test: a file path in the temp dir ("<tmp>/<name>")
 * by default; when the environment's GW_TEST_STORE is a PostgreSQL URL prefix
 * ("postgresql:///" or "postgresql://user@host:port/"), that prefix followed by a database
 * name made of this process's id and `name`, dropped first if it exists and dropped at exit.
 * Static buffer rotated 8 deep.  The `_pg` ctest entries run the same binaries with
 * GW_TEST_STORE set (CMakeLists.txt, gw_pg_test). */
const char *gw_test_db(const char *name);
/* 1 when gw_test_db gives PostgreSQL locations (tests skip what reads a SQLite file directly). */
int gw_test_on_postgres(void);

/* Path under <shared>/data/real, or NULL (and a message) when the file is absent.  <shared> is
 * the environment's GW_SHARED_DIR when set (to hide the data: GW_SHARED_DIR=/nonexistent), else
 * the build's GW_SHARED_DIR (CMake cache variable, default ../shared beside the checkout). */
const char *gw_test_real(const char *rel);
/* The same path inside a group gated by gw_test_need_real(): fails the running test when the
 * file is absent instead of returning NULL. */
const char *gw_test_real_file(const char *rel);

/* ctest's skip code: the entries of gated groups carry SKIP_RETURN_CODE 77. */
#define GW_TEST_SKIPPED 77
/* The group a test binary was asked to run: argv[1] ("--real", "--spdep", ...) or "" for the
 * main group, which never needs the real data nor an optional tool. */
const char *gw_test_group(int argc, char **argv);
/* 1 when every file of the NULL-terminated list is under the real data; else prints
 * "skipped: real data not found: <path>" and returns 0 (the caller returns GW_TEST_SKIPPED). */
int gw_test_need_real(const char *const *rels);
/* 1 when `sh -c cmd` exits 0 (cmd checks that a tool is there, quietly); else prints
 * "skipped: <what>" and returns 0 (the caller returns GW_TEST_SKIPPED). */
int gw_test_need_tool(const char *cmd, const char *what);
/* For an argument no group answers to: a message, and 2 to return from main. */
int gw_test_bad_group(const char *group);
/* A context whose warnings are appended to a buffer readable with gw_test_warnings(). */
gw_ctx *gw_test_ctx(void);
const char *gw_test_warnings(void);
void gw_test_clear_warnings(void);
/* Write a string to a file; returns the path. */
const char *gw_test_write(const char *name, const char *content);

#endif
