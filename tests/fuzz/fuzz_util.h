/* fuzz_util.h — what the libFuzzer targets (tests/fuzz/fuzz_*.c) share: the input as a
 * NUL-terminated string, a per-process context and scratch directory, and the one rule every
 * target checks on the status it gets back (fz_ prefix: not part of the gridwatch API). */
#ifndef GW_FUZZ_UTIL_H
#define GW_FUZZ_UTIL_H

#include "gridwatch/common.h"

#include <stddef.h>
#include <stdint.h>

/* The input as a NUL-terminated copy (bytes after an embedded NUL are cut, as a C string API
 * would see them).  Caller frees with free(). */
char *fz_strndup(const uint8_t *data, size_t size);

/* The process's context, created on first use (never freed: the process ends the run), its
 * warnings discarded; its error is cleared on every call, so call it once per input. */
gw_ctx *fz_ctx(void);

/* A scratch directory for this process, created on first use under $TMPDIR (or /dev/shm when it
 * is writable, so database commits do not wait for a disk), removed at exit.  Returns
 * "<dir>/<name>" in a static buffer rotated 4 deep. */
const char *fz_path(const char *name);

/* The contract every parser keeps on bad input: a status inside the enum, never
 * GW_ERR_INTERNAL (a broken invariant is a bug), and a readable message on the ctx when it is not
 * GW_OK.  Aborts (a libFuzzer crash) when the contract is broken; returns st otherwise.  With
 * FZ_VERBOSE set in the environment, prints every status and message (to see what a seed does). */
gw_status fz_check(gw_ctx *ctx, gw_status st, const char *what);

/* Abort with a message (a finding): printf-style. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
