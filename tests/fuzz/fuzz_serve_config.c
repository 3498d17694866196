/* fuzz_serve_config.c — libFuzzer target for the server's configuration file parser
 * (api/cli/cli_config.c, `gridwatch serve --config`).  Checked: a refused text gives a message
 * starting with its line number; an accepted one gives options that are all known `serve`
 * options (a value after each option that takes one), at most one of each; and writing the
 * result back as a config file parses to the same options (the parser keeps what it read).
 * Seeds: corpus/serve_config (the Debian package's file and hand-made cases). */
#include "fuzz_util.h"

#include "cli_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_switch(const char *o)
{
    return !strcmp(o, "--anonymous-read") || !strcmp(o, "--quiet") || !strcmp(o, "--no-wall");
}

static int is_value_opt(const char *o)
{
    static const char *const k[] = {"--bind",         "--port",     "--threads",
                                    "--public-url",   "--max-body", "--tile-cache-mb",
                                    "--auth-fail-max"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(o, k[i])) return 1;
    return 0;
}

/* Write c back as a config file and parse it again: the same database and options. */
static void round_trip(const gw_cli_config *c, size_t size)
{
    size_t cap = 64 + size * 2 + 64 * (size_t)c->argc;
    char *out = malloc(cap), err[512] = "";
    if (!out) return;
    size_t n = 0;
    if (c->database) n += (size_t)snprintf(out + n, cap - n, "database = \"%s\"\n", c->database);
    for (int i = 0; i < c->argc; i++) {
        if (is_switch(c->argv[i]))
            n += (size_t)snprintf(out + n, cap - n, "%s = true\n", c->argv[i] + 2);
        else
            n += (size_t)snprintf(out + n, cap - n, "%s = \"%s\"\n", c->argv[i] + 2,
                                  c->argv[i + 1]),
                i++;
    }
    gw_cli_config d = {0};
    if (gw_cli_config_parse(out, n, &d, err, sizeof err) != 0)
        fz_fail("the options written back are refused: %s\n%s", err, out);
    if (d.argc != c->argc || (!c->database) != (!d.database) ||
        (c->database && strcmp(c->database, d.database)))
        fz_fail("written back and read again, the options differ");
    for (int i = 0; i < c->argc; i++)
        if (strcmp(c->argv[i], d.argv[i]))
            fz_fail("option %d: '%s' then '%s'", i, c->argv[i], d.argv[i]);
    free(out);
    gw_cli_config_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) return 0;
    gw_cli_config c = {0};
    char err[512] = "";
    if (gw_cli_config_parse((const char *)data, size, &c, err, sizeof err) != 0) {
        if (!isdigit((unsigned char)err[0]) && strcmp(err, "out of memory") != 0)
            fz_fail("a refusal without its line number: '%s'", err);
        if (c.argv || c.argc || c.database) fz_fail("a refused text left options behind");
        return 0;
    }
    /* every option known, values where they belong, none twice */
    const char *seen[16];
    int nseen = 0;
    for (int i = 0; i < c.argc; i++) { /* option positions only: a value may look like one */
        const char *o = c.argv[i];
        if (!o) fz_fail("argv[%d] is NULL", i);
        if (!is_switch(o) && !is_value_opt(o)) fz_fail("unknown option '%s'", o);
        for (int j = 0; j < nseen; j++)
            if (!strcmp(seen[j], o)) fz_fail("option %s given twice", o);
        if (nseen < 16) seen[nseen++] = o;
        if (is_switch(o)) continue;
        if (++i >= c.argc || !c.argv[i] || !c.argv[i][0]) fz_fail("%s without its value", o);
    }
    if (c.argv && c.argv[c.argc]) fz_fail("argv is not NULL-terminated");
    /* written back and read again: the same (values near the line limit would not fit once
     * quoted, so those are left out of this check) */
    int fits = !c.database || strlen(c.database) <= 4000;
    for (int i = 0; i < c.argc; i++)
        if (strlen(c.argv[i]) > 4000) fits = 0;
    if (fits) round_trip(&c, size);
    gw_cli_config_free(&c);
    return 0;
}
