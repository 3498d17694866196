/* web_http.h — the map wall page served by gridwatch itself: the files of web/ at /wall/ (the
 * page, its scripts, styles and strings) and MapLibre GL JS at /wall/vendor/, with content
 * types, ETags (304) and gzip; nothing is fetched from the internet.
 *
 * The web directory is found once: $GRIDWATCH_WEB_DIR, else ../share/gridwatch/web from the
 * binary's directory (what `cmake --install` lays out), else web/ beside or above it
 * (build/gridwatch -> web/), else the source tree this file was compiled from.  MapLibre comes
 * from web/vendor/maplibre-gl/ when present (the installed page has it there), else
 * web/node_modules/maplibre-gl/dist/ (after `cd web && npm ci`). */
#ifndef GW_WEB_HTTP_H
#define GW_WEB_HTTP_H

#include "server.h"

/* The routes (static storage; *n receives the count): GET /wall, /wall/{file},
 * /wall/{dir}/{file} (and the same under /web/); role anon (the page holds no data; the data
 * routes it calls carry their own roles). */
const gw_route *gw_web_routes(size_t *n);

/* 1 when the page is installed (index.html found), so "/" may send browsers to /wall/. */
int gw_web_available(void);

/* The directory the page is served from ("" when none was found). */
const char *gw_web_dir(void);

/* 0 when the page and MapLibre's files (module and stylesheet) are all there; else -1 and a
 * one-line message for the operator in msg (what is missing, where it was looked for, how to
 * get it).  `serve` and `demo` call it before they start, so a broken wall is refused at start
 * instead of showing as 404s in the browser. */
int gw_web_check(char *msg, size_t cap);

/* Turn the wall off (--no-wall): its routes answer a 404 problem saying so, and "/" no longer
 * sends browsers to it.  Call before the server starts. */
void gw_web_disable(void);

#endif
