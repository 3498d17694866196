/* cli_config.c — `gridwatch serve --config FILE`: a `key = value` file turned into the
 * command-line options it stands for (cli_config.h), so that `serve` checks its values with
 * the same rules and messages as typed options. */
#include "cli_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 4096

/* The keys: serve's long options that take a value, then its switches. */
static const char *const value_keys[] = {"bind",     "port",          "threads",       "public-url",
                                         "max-body", "tile-cache-mb", "auth-fail-max", NULL};
static const char *const switch_keys[] = {"anonymous-read", "quiet", "no-wall", NULL};

static int find(const char *const *keys, const char *k)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0) return i;
    return -1;
}

static int say(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int push(gw_cli_config *c, const char *s, size_t n)
{
    char **a = realloc(c->argv, (size_t)(c->argc + 2) * sizeof *a);
    if (!a) return -1;
    c->argv = a;
    if (!(a[c->argc] = strndup(s, n))) return -1;
    a[++c->argc] = NULL;
    return 0;
}

/* 1 true, 0 false, -1 neither. */
static int boolean(const char *v)
{
    static const char *const t[] = {"true", "yes", "on", "1"}, *const f[] = {"false", "no", "off",
                                                                             "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, t[i]) == 0) return 1;
        if (strcasecmp(v, f[i]) == 0) return 0;
    }
    return -1;
}

static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t')) (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r')) (*e)--;
}

int gw_cli_config_parse(const char *text, size_t len, gw_cli_config *cfg, char *err, size_t errcap)
{
    gw_cli_config c = {0};
    unsigned seen = 0; /* bit per key: value keys, then switches, then database */
    const char *p = text, *end = text + len;
    int line = 0;
    char key[64], val[LINE_MAX_BYTES + 1];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *b = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        line++;
        if (memchr(b, '\0', (size_t)(e - b))) {
            say(err, errcap, "%d: a NUL byte (not a text file?)", line);
            goto fail;
        }
        if (e - b > LINE_MAX_BYTES) {
            say(err, errcap, "%d: the line is longer than %d bytes", line, LINE_MAX_BYTES);
            goto fail;
        }
        trim(&b, &e);
        if (b == e || *b == '#') continue;
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (!eq) {
            say(err, errcap, "%d: expected 'key = value', found no '='", line);
            goto fail;
        }
        const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
        trim(&kb, &ke), trim(&vb, &ve);
        if (ve - vb >= 2 && *vb == '"' && ve[-1] == '"') vb++, ve--;
        if (ke - kb >= (long)sizeof key || ke == kb) {
            say(err, errcap, "%d: '%.*s' is not a setting", line,
                (int)(ke - kb > 40 ? 40 : ke - kb), kb);
            goto fail;
        }
        memcpy(key, kb, (size_t)(ke - kb)), key[ke - kb] = 0;
        memcpy(val, vb, (size_t)(ve - vb)), val[ve - vb] = 0;
        int vk = find(value_keys, key), sk = find(switch_keys, key);
        int bit = vk >= 0 ? vk : sk >= 0 ? 8 + sk : strcmp(key, "database") == 0 ? 15 : -1;
        if (bit < 0) {
            say(err, errcap,
                "%d: unknown setting '%s' (settings: database, bind, port, threads, public-url, "
                "max-body, tile-cache-mb, auth-fail-max, anonymous-read, quiet, no-wall)",
                line, key);
            goto fail;
        }
        if (seen & (1u << bit)) {
            say(err, errcap, "%d: '%s' is set twice", line, key);
            goto fail;
        }
        seen |= 1u << bit;
        if (!*val) {
            say(err, errcap, "%d: '%s' has no value", line, key);
            goto fail;
        }
        char opt[80];
        if (bit == 15) {
            if (!(c.database = strdup(val))) goto oom;
        } else if (sk >= 0) {
            int on = boolean(val);
            if (on < 0) {
                say(err, errcap, "%d: '%s' must be true or false (yes/no, on/off, 1/0), not '%s'",
                    line, key, val);
                goto fail;
            }
            snprintf(opt, sizeof opt, "--%s", key);
            if (on && push(&c, opt, strlen(opt))) goto oom;
        } else {
            snprintf(opt, sizeof opt, "--%s", key);
            if (push(&c, opt, strlen(opt)) || push(&c, val, strlen(val))) goto oom;
        }
    }
    *cfg = c;
    return 0;
oom:
    say(err, errcap, "out of memory");
fail:
    gw_cli_config_free(&c);
    return -1;
}

int gw_cli_config_load(const char *path, gw_cli_config *cfg, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return say(err, errcap, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= (1u << 20)) { /* a config file, not a database */
                rc = say(err, errcap, "%s: larger than 1 MiB, not a configuration file", path);
                break;
            }
            char *b = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!b) {
                rc = say(err, errcap, "%s: out of memory", path);
                break;
            }
            buf = b;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) rc = say(err, errcap, "%s: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        char inner[512];
        if ((rc = gw_cli_config_parse(buf, n, cfg, inner, sizeof inner)) != 0)
            say(err, errcap, "%s:%s", path, inner);
    }
    free(buf);
    return rc;
}

void gw_cli_config_free(gw_cli_config *cfg)
{
    for (int i = 0; cfg && i < cfg->argc; i++) free(cfg->argv[i]);
    if (cfg) {
        free(cfg->argv);
        free(cfg->database);
        *cfg = (gw_cli_config){0};
    }
}
