/* fuzz_glyph_path.c — libFuzzer target for the path of GET /fonts/{fontstack}/{range}
 * (api/routes/labels_http.c, tiles/glyphs.c): the input up to its first NUL is the range
 * segment, the rest the fontstack.  A range accepted must be "{start}-{start+255}.pbf" printed
 * back exactly (start a multiple of 256 below 65536); the font picked must be a served name that
 * occurs in the list as one of its comma-separated items. */
#include "fuzz_util.h"

#include "gridwatch/glyphs.h"
#include "labels_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t rl = nul ? (size_t)(nul - data) : size;
    char *range = fz_strndup(data, rl);
    char *stack = fz_strndup(nul ? nul + 1 : data + size, nul ? size - rl - 1 : 0);
    unsigned start = 7;
    if (gw_labels_parse_range(range, &start)) {
        char back[32];
        snprintf(back, sizeof back, "%u-%u.pbf", start, start + 255);
        if (start % 256 || start > 65280 || strcmp(back, range) != 0)
            fz_fail("'%s' accepted as start %u", range, start);
    } else if (start != 7) {
        fz_fail("'%s' refused but start changed", range);
    }
    static const char *const names[] = {"Noto Sans CJK SC Regular", "Noto Sans CJK SC Bold"};
    int i = gw_glyphs_pick(stack, names, 2);
    if (i < -1 || i > 1) fz_fail("picked %d", i);
    if (i >= 0 && !strstr(stack, names[i])) fz_fail("'%s' picked '%s'", stack, names[i]);
    free(range);
    free(stack);
    return 0;
}
