/* core_includes_store.c — a probe the 'layering' test compiles as if it were part of the core
 * room: core is the bottom of the engine, so the store's header must not be found. */
#include "gridwatch/store.h"

int gw_probe_core_up(void) { return GW_SCHEMA_VERSION; }
