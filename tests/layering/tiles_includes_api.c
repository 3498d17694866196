/* tiles_includes_api.c — a probe compiled as part of the tiles room: tiles/ sits below api/, so
 * the HTTP server's header must not be found. */
#include "server.h"

int gw_probe_tiles_up(void) { return 0; }
