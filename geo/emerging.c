/* emerging.c — emerging hot spot analysis (in progress). */
#include "gridwatch/hotspot.h"
