#include "gridwatch/common.h"
#include <stdio.h>
int main(int argc, char **argv) { (void)argc; (void)argv; puts("gridwatch"); return 0; }
