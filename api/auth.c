/* auth.c — being written (issue 3). */
#include "gridwatch/common.h"
