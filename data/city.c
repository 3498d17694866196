/* city.c — being written (see issue 2). */
#include "gridwatch/city.h"
