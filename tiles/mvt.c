/* mvt.c — being written (issue 4). */
#include "gridwatch/common.h"
