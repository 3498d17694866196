/* fuzz_util.c — shared helpers of the libFuzzer targets (fuzz_util.h): input copies, the
 * per-process context, a scratch directory removed at exit, and the status contract check. */
#include "fuzz_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) fz_fail("out of memory copying %zu bytes", size);
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void fz_quiet(void *user, const char *msg) { (void)user, (void)msg; }

gw_ctx *fz_ctx(void)
{
    static gw_ctx *ctx;
    if (!ctx) {
        if (gw_ctx_create(&ctx) != GW_OK) fz_fail("gw_ctx_create failed");
        gw_ctx_set_warn(ctx, fz_quiet, NULL);
    }
    gw_ctx_clear_error(ctx);
    return ctx;
}

static char fz_dir[256];

static void fz_cleanup(void)
{
    if (!fz_dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
}

const char *fz_path(const char *name)
{
    static char bufs[4][512];
    static int next;
    if (!fz_dir[0]) {
        const char *base = getenv("TMPDIR");
        if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fz_dir, sizeof fz_dir, "%s/gwfuzz.XXXXXX", base);
        if (!mkdtemp(fz_dir)) fz_fail("cannot create a scratch directory under %s", base);
        atexit(fz_cleanup);
    }
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", fz_dir, name);
    return b;
}

gw_status fz_check(gw_ctx *ctx, gw_status st, const char *what)
{
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("FZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "fuzz: %s: %s %s\n", what, gw_status_str(st), gw_ctx_errmsg(ctx));
    if ((int)st < 0 || st >= GW_STATUS_COUNT) fz_fail("%s: status %d outside gw_status", what, st);
    if (st == GW_ERR_INTERNAL)
        fz_fail("%s: GW_ERR_INTERNAL (a broken invariant): %s", what, gw_ctx_errmsg(ctx));
    if (st != GW_OK) {
        const char *m = gw_ctx_errmsg(ctx);
        if (!m || !*m) fz_fail("%s: %s without a message", what, gw_status_str(st));
    }
    return st;
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz finding: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
