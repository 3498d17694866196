/* events.h — GET /events: the change log as Server-Sent Events for map walls and dispatch
 * consoles.  One event per change-log row (id = its seq), fed by a gw_live listener and by a
 * poller reading the change log every 50 ms (started by the first subscriber), whichever sees a
 * change first, so an event never waits for a model reload; a reconnect with Last-Event-ID
 * is answered from the change log first, so nothing is lost.
 * Subscribers wait on suspended connections (no thread each). */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include "live.h"
#include "server.h"

#include "gridwatch/dispatch.h"

typedef struct gw_events gw_events;

/* Create the event hub over `live` (registers its listener; call before the server starts) and
 * start its ticker (heartbeats every 15 s).  Caller frees with gw_events_destroy() after the
 * server is destroyed (which ends every stream) and after gw_live_destroy(). */
gw_status gw_events_create(gw_ctx *ctx, gw_live *live, gw_events **out);
void gw_events_destroy(gw_events *ev);
/* Open /events streams now, and events appended since the start (for /metrics). */
void gw_events_counts(gw_events *ev, size_t *subscribers, int64_t *appended);
/* Give team events the team's newest position and status from `teams` (the dispatch index; it
 * must outlive the hub's streams).  Without it, team events carry the change's bbox only. */
void gw_events_set_teams(gw_events *ev, gw_dispatch *teams);

/* GET /events[?types=incident,team.moved][&bbox=minx,miny,maxx,maxy] (viewer).  Event types:
 * incident.created / .updated / .deleted / .bulk, team.moved / .assigned / .released /
 * .created / .updated / .deleted / .bulk, grid.changed, police_room.changed, camera.changed,
 * and change.<op> for rows of other tables (analysis refreshes).  `types` entries match a type
 * or its prefix ("team").  Data: {"seq","type","layer","op","id","bbox"}; team events other
 * than team.deleted add the team's position and status when the event is sent ("lon", "lat",
 * "status": the newest, not the one of that change).  team.moved is
 * coalesced per team and subscriber: at most one move of a team per second; moves arriving
 * within that second are held, a newer one replacing the held one, and the newest goes out
 * (with its own id, possibly below ids already sent: a reconnect then repeats, never loses)
 * when the second is over.  Hash slots shared by two teams fall back to sending both.
 * A subscriber that falls more than the in-memory window behind gets an "event: reset" (reload
 * the map) instead of a silent gap; on reconnect, Last-Event-ID is replayed from the table. */
const gw_route *gw_events_routes(size_t *n);

/* The Last-Event-ID a client sends (header, or the last_event_id query value): a change seq.
 * Returns 0 with *last the id (-1 for a negative one: no id, start from now), or -1 when the
 * text is not a whole decimal number (*last untouched).  Exposed for tests/fuzz. */
int gw_events_parse_last_id(const char *text, int64_t *last);
/* Where a stream that resumes after *last starts, given the in-memory window: the oldest seq
 * it holds is `floor`, the newest `newest` (floor - 1 when empty).  An id beyond `newest` becomes
 * -1 (start from now).  *cursor receives the last seq the subscriber has seen.  Returns 1 when
 * the rows after *last up to floor must first be replayed from the change-log table. */
int gw_events_resume(int64_t *last, int64_t floor, int64_t newest, int64_t *cursor);

#endif
