/* road_includes_dispatch.c — a probe that must NOT compile: geo/road sits below geo/dispatch
 * (dispatch ranks teams with the road graph), so dispatch.h is not visible from the road room. */
#include "gridwatch/dispatch.h"

int probe_road_up(void) { return 0; }
