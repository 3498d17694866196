/* labels_http.h — the glyphs and the sprite of the map styles, served by gridwatch so a wall
 * PC without the Internet draws labels and symbols: GET /fonts/{fontstack}/{start}-{end}.pbf
 * (MapLibre glyph ranges made from the Debian Noto Sans CJK fonts) and GET /sprite.json,
 * /sprite.png, /sprite@2x.json, /sprite@2x.png (made at build time from web/sprite/). */
#ifndef GW_LABELS_HTTP_H
#define GW_LABELS_HTTP_H

#include "server.h"

/* The routes (static storage; *n receives the count); role anon, open to scoped tokens. */
const gw_route *gw_labels_routes(size_t *n);

/* The range part of a glyph path: "{start}-{end}.pbf" with start a multiple of 256 below
 * 65536 and end = start + 255.  1 and *start when it is one, else 0 (the fuzz target's entry). */
int gw_labels_parse_range(const char *s, unsigned *start);

#endif
