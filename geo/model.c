/* model.c — being written (see issue 2). */
#include "gridwatch/common.h"
