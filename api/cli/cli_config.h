/* cli_config.h — the server's configuration file (`gridwatch serve --config FILE`, the Debian
 * package's /etc/gridwatch/gridwatch.conf) read as the command-line options it stands for.
 *
 * The format: one `key = value` per line; `#` starts a comment line; blank lines are skipped;
 * keys are the long options of `gridwatch serve` without their dashes (`port = 8080`,
 * `tile-cache-mb = 512`), plus `database` for the DB argument; the switches
 * (`anonymous-read`, `quiet`, `no-wall`) take true/false/yes/no/on/off/1/0.  A value may be
 * quoted with "…" to keep spaces at its ends.  Every line is checked here (unknown key, missing
 * `=`, empty value, a switch that is not a boolean, a key given twice, a NUL byte, a line over
 * 4 KiB); the values themselves are checked by `serve` as if typed, so the rules and messages
 * are one.  Options on the command line come after the file's and win. */
#ifndef GW_CLI_CONFIG_H
#define GW_CLI_CONFIG_H

#include <stddef.h>

typedef struct gw_cli_config {
    int argc;       /* the options the file stands for, without argv[0] */
    char **argv;    /* argc strings, then NULL */
    char *database; /* the `database` value or NULL */
} gw_cli_config;

/* Parse `len` bytes of config text.  0 on success (cfg filled; free with gw_cli_config_free);
 * -1 with "LINE: reason" (1-based line) in err[errcap] when the text is refused, or "out of
 * memory". */
int gw_cli_config_parse(const char *text, size_t len, gw_cli_config *cfg, char *err, size_t errcap);
/* Read and parse a file: as above, err then starts with "PATH:" (or says why the file could
 * not be read). */
int gw_cli_config_load(const char *path, gw_cli_config *cfg, char *err, size_t errcap);
/* Accepts a zeroed config. */
void gw_cli_config_free(gw_cli_config *cfg);

#endif
