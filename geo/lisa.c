/* lisa.c — Local Moran's I with conditional permutation inference (in progress). */
#include "gridwatch/hotspot.h"
