/* store_includes_core.c — the control of the 'layering' test: the store room may include the
 * core's header (down the direction), so this probe must compile. */
#include "gridwatch/common.h"

int gw_probe_store_down(void) { return GW_OK; }
