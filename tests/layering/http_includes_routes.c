/* http_includes_routes.c — a probe compiled as part of api/http: the HTTP machinery sits below
 * the routes, so the app's header must not be found. */
#include "app.h"

int gw_probe_http_up(void) { return 0; }
