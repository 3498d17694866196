/* cli_util.c */
#include "gridwatch/common.h"
