/* testutil.h — helpers shared by the unit tests: temporary files, the real-data directory,
 * a context that collects warnings. */
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
/* Path under ../shared/data/real, or NULL (and a message) when the real data is absent. */
const char *gw_test_real(const char *rel);
/* A context whose warnings are appended to a buffer readable with gw_test_warnings(). */
gw_ctx *gw_test_ctx(void);
const char *gw_test_warnings(void);
void gw_test_clear_warnings(void);
/* Write a string to a file; returns the path. */
const char *gw_test_write(const char *name, const char *content);

#endif
