/* fuzz_last_event_id.c — libFuzzer target for the SSE reconnect path of GET /events
 * (api/routes/events.c): gw_events_parse_last_id on the Last-Event-ID text, then
 * gw_events_resume with an in-memory window.  With at least 12 bytes, the first 8 give the
 * window's floor (>= 1) and the next 4 its fill; the rest is the header text.  The resumed
 * cursor must lie inside what the subscriber can be sent, and a replay is asked for only below
 * the window. */
#include "fuzz_util.h"

#include "events.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    int64_t floor = 1, fill = 0;
    if (size >= 12) {
        uint64_t f;
        uint32_t n;
        memcpy(&f, data, 8);
        memcpy(&n, data + 8, 4);
        floor = (int64_t)(f >> 2) + 1; /* 1 .. 2^62 */
        fill = n % 4097;               /* the ring holds up to 4096 events */
        data += 12, size -= 12;
    }
    int64_t newest = floor - 1 + fill;
    char *text = fz_strndup(data, size);
    int64_t last = -7;
    int rc = gw_events_parse_last_id(text, &last);
    if (rc != 0 && rc != -1) fz_fail("gw_events_parse_last_id returned %d", rc);
    if (rc == -1 && last != -7) fz_fail("'%s' refused but *last changed", text);
    if (rc == 0) {
        if (last < -1) fz_fail("'%s' parsed to %lld", text, (long long)last);
        int64_t asked = last, cursor = 0;
        int replay = gw_events_resume(&last, floor, newest, &cursor);
        if (cursor < floor - 1 || cursor > newest)
            fz_fail("'%s': cursor %lld outside [%lld, %lld]", text, (long long)cursor,
                    (long long)(floor - 1), (long long)newest);
        if (replay && !(last >= 0 && last < floor - 1))
            fz_fail("'%s': replay asked for from %lld, window floor %lld", text, (long long)last,
                    (long long)floor);
        if (asked >= 0 && asked <= newest && asked >= floor - 1 && cursor != asked)
            fz_fail("'%s': an id inside the window resumes at %lld", text, (long long)cursor);
    }
    free(text);
    return 0;
}
