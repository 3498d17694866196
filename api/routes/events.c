/* events.c — Server-Sent Events over the change log: a ring of recent changes filled by the
 * live listener, one cursor per subscriber, suspended connections woken on new changes and by a
 * heartbeat ticker, and Last-Event-ID replay from the changelog table (see events.h). */
#include "events.h"

#include "app.h"
#include "auth.h"
#include "http_util.h"
#include "problem.h"
#include "scope_http.h"

#include "gridwatch/dispatch.h"
#include "gridwatch/store_changes.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 16384 /* recent changes kept in memory (power of two) */
#define HEARTBEAT_MS 15000
#define COALESCE_MS 1000
#define MOVE_SLOTS 8192   /* per subscriber: last sent and held move per team (hashed) */
#define MAX_REPLAY 200000 /* rows a Last-Event-ID replay reads at most */
#define MAX_TYPES 8

typedef struct ev {
    int64_t seq;
    char type[32], op[48]; /* op: a flow transition's "flow:<action>:<state>:<level>" fits */
    gw_layer layer;
    char *id;
    int has_bbox;
    gw_bbox bbox;
    uint64_t idh; /* hash of id (team moves) */
} ev;

typedef struct sub {
    struct sub *prev, *next;
    gw_events *hub;
    gw_stream *stream;
    int64_t cursor; /* last seq handled */
    char types[MAX_TYPES][32];
    int n_types, has_bbox, started;
    gw_bbox bbox;
    gw_buf backlog; /* replayed rows, sent first */
    size_t backlog_off;
    int64_t last_write_ms;
    struct {
        uint64_t h;
        int64_t ms;
    } sent[MOVE_SLOTS];
    struct {
        uint64_t h;
        int64_t seq;
    } held[MOVE_SLOTS]; /* newest move not sent yet (window) */
    size_t n_held;
    /* a token scoped to a jurisdiction: its path, a context of its own for the checks (reads
     * of one stream never overlap) and, while events are chosen, the scope on the current
     * model (NULL otherwise, and always for an unscoped subscriber) */
    char jur[GW_JURISDICTION_MAX];
    gw_ctx *ctx;
    gw_scope *sc;
    gw_model_snapshot *snap; /* the model the scope was taken on (with sc) */
} sub;

struct gw_events {
    pthread_mutex_t lock;
    ev ring[RING];
    int64_t n;     /* events ever appended; ring[i % RING] */
    int64_t floor; /* lowest seq the ring may still hold; older ones come from the table */
    int64_t last;  /* highest seq appended (the two feeds below append only above it) */
    size_t polled; /* rows the poller appended in its current round (under lock) */
    sub *subs;
    size_t n_subs;
    pthread_t ticker, poller;
    char db_path[1024]; /* set by the first subscriber: the poller reads the change log there */
    int polling;
    pthread_cond_t stop_cv;
    int stop, running;
    gw_dispatch *teams; /* optional: team events then carry the team's position and status */
    gw_live *live;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h | 1; /* 0 = empty slot */
}

/* The event type of a change. */
static void type_of(gw_layer layer, const char *op, char *buf, size_t cap)
{
    int ins = strcmp(op, "insert") == 0, del = strcmp(op, "delete") == 0;
    int bulk = strcmp(op, "import") == 0 || strcmp(op, "clear") == 0;
    switch (layer) {
    case GW_LAYER_INCIDENTS:
        snprintf(buf, cap, "incident.%s",
                 strncmp(op, "flow:", 5) == 0 ? "transition" /* geo/flow: a flow transition */
                 : ins                        ? "created"
                 : del                        ? "deleted"
                 : bulk                       ? "bulk"
                                              : "updated");
        break;
    case GW_LAYER_TEAMS:
        snprintf(buf, cap, "team.%s",
                 strcmp(op, "move") == 0      ? "moved"
                 : strcmp(op, "assign") == 0  ? "assigned"
                 : strcmp(op, "release") == 0 ? "released"
                 : ins                        ? "created"
                 : del                        ? "deleted"
                 : bulk                       ? "bulk"
                                              : "updated");
        break;
    case GW_LAYER_GRIDS: snprintf(buf, cap, "grid.changed"); break;
    case GW_LAYER_POLICE_ROOMS: snprintf(buf, cap, "police_room.changed"); break;
    case GW_LAYER_CAMERAS: snprintf(buf, cap, "camera.changed"); break;
    default: snprintf(buf, cap, "change.%.20s", op); break;
    }
}

static void fill_ev(ev *e, int64_t seq, gw_layer layer, const char *op, const char *id,
                    const gw_bbox *bbox)
{
    free(e->id);
    e->seq = seq;
    e->layer = layer;
    snprintf(e->op, sizeof e->op, "%s", op ? op : "");
    type_of(layer, e->op, e->type, sizeof e->type);
    e->id = id ? strdup(id) : NULL;
    e->has_bbox = bbox != NULL;
    if (bbox) e->bbox = *bbox;
    e->idh = hash_str(id);
}

/* 1 when lon/lat lies in the subscriber's scope (projected by the dispatch module). */
static int lonlat_in(const sub *s, const gw_events *h, double lon, double lat)
{
    double x, y;
    if (!h->teams || gw_dispatch_to_metric(s->ctx, h->teams, lon, lat, &x, &y) != GW_OK) {
        gw_ctx_clear_error(s->ctx);
        return 0;
    }
    return gw_scope_has_point(s->ctx, s->sc, x, y);
}

/* For a scoped subscriber (docs/scoping.md): a change with neither a feature nor a place (an
 * import, a clear, a publish) tells nothing about a place and passes; a grid's passes when the
 * grid lies in the jurisdiction; any other needs its bounding box (old and new place together)
 * wholly in it — all four corners — and a team's also its current place.  A feature change
 * without a box (a step of an incident's flow, a change of properties only) passes when the
 * feature lies in it on the current model; one no longer there is held back. */
static int in_scope(const sub *s, const gw_events *h, const ev *e)
{
    if (!s->jur[0]) return 1;
    if (!s->sc) return 0; /* no scope could be built: show nothing */
    if (!e->id && !e->has_bbox) return 1;
    if (e->layer == GW_LAYER_GRIDS && e->id) return gw_scope_has_grid_id(s->sc, e->id);
    if (!e->has_bbox) {
        const gw_layer_data *d = e->id && s->snap && e->layer < GW_LAYER_COUNT
                                     ? gw_snapshot_layer(s->snap, e->layer)
                                     : NULL;
        ptrdiff_t r = d ? gw_layer_data_find(d, e->id) : -1;
        return r >= 0 && gw_scope_has_row(s->ctx, s->sc, d, (size_t)r);
    }
    const gw_bbox *b = &e->bbox;
    if (!lonlat_in(s, h, b->minx, b->miny) || !lonlat_in(s, h, b->maxx, b->maxy) ||
        !lonlat_in(s, h, b->minx, b->maxy) || !lonlat_in(s, h, b->maxx, b->miny))
        return 0;
    gw_team_hit t;
    if (e->layer == GW_LAYER_TEAMS && e->id && h->teams &&
        gw_dispatch_team(NULL, h->teams, e->id, 0, &t) == GW_OK && !isnan(t.lon) && !isnan(t.lat))
        return lonlat_in(s, h, t.lon, t.lat);
    return 1;
}

/* Take (or drop: sc NULL after) the scope of a scoped subscriber on the current model. */
static void scope_take(sub *s, const gw_events *h)
{
    if (!s->jur[0] || !h->live || !s->ctx) return;
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(h->live));
    if (gw_scope_get(s->ctx, snap, s->jur, &s->sc) != GW_OK) {
        s->sc = NULL;
        gw_model_release(s->ctx, snap);
        return;
    }
    s->snap = snap;
}
static void scope_drop(sub *s)
{
    gw_scope_release(s->sc);
    gw_model_release(s->ctx, s->snap);
    s->sc = NULL, s->snap = NULL;
}

static int wanted(const sub *s, const ev *e)
{
    if (!in_scope(s, s->hub, e)) return 0;
    if (s->n_types) {
        int ok = 0;
        for (int i = 0; i < s->n_types && !ok; i++) {
            size_t n = strlen(s->types[i]);
            ok = strncmp(e->type, s->types[i], n) == 0 && (e->type[n] == 0 || e->type[n] == '.');
        }
        if (!ok) return 0;
    }
    if (s->has_bbox && e->has_bbox &&
        (e->bbox.maxx < s->bbox.minx || e->bbox.minx > s->bbox.maxx ||
         e->bbox.maxy < s->bbox.miny || e->bbox.miny > s->bbox.maxy))
        return 0;
    return 1;
}

static void format_ev(gw_buf *b, const gw_events *h, const ev *e)
{
    gw_buf_printf(b, "id: %lld\nevent: %s\ndata: {\"seq\":%lld,\"type\":\"%s\",\"layer\":",
                  (long long)e->seq, e->type, (long long)e->seq, e->type);
    const char *ln = gw_layer_name(e->layer);
    if (ln) gw_buf_json_str(b, ln);
    else gw_buf_str(b, "null");
    gw_buf_str(b, ",\"op\":");
    /* An incident flow transition's op is "flow:<action>:<state>:<level>" (geo/flow): the
     * event says them as members, so a wall updates the incident without a request. */
    char action[24], state[24];
    int level = 0;
    if (e->layer == GW_LAYER_INCIDENTS &&
        sscanf(e->op, "flow:%23[^:]:%23[^:]:%d", action, state, &level) == 3) {
        gw_buf_str(b, "\"transition\",\"action\":");
        gw_buf_json_str(b, action);
        gw_buf_str(b, ",\"state\":");
        gw_buf_json_str(b, state);
        gw_buf_printf(b, ",\"level\":%d", level);
    } else {
        gw_buf_json_str(b, e->op);
    }
    gw_buf_str(b, ",\"id\":");
    if (e->id) gw_buf_json_str(b, e->id);
    else gw_buf_str(b, "null");
    if (e->has_bbox) {
        gw_buf_str(b, ",\"bbox\":[");
        gw_buf_num(b, e->bbox.minx, 7), gw_buf_str(b, ","), gw_buf_num(b, e->bbox.miny, 7),
            gw_buf_str(b, ",");
        gw_buf_num(b, e->bbox.maxx, 7), gw_buf_str(b, ","), gw_buf_num(b, e->bbox.maxy, 7),
            gw_buf_str(b, "]");
    }
    /* A team event says where the team is and what it is doing now (the newest position, which
     * is what a map wants: a move's bbox spans the old and the new place), so a wall can draw it
     * without a request per event. */
    gw_team_hit t;
    if (h->teams && e->layer == GW_LAYER_TEAMS && e->id && strcmp(e->op, "delete") != 0 &&
        gw_dispatch_team(NULL, h->teams, e->id, 0, &t) == GW_OK && !isnan(t.lon) && !isnan(t.lat)) {
        gw_buf_str(b, ",\"lon\":"), gw_buf_num(b, t.lon, 7);
        gw_buf_str(b, ",\"lat\":"), gw_buf_num(b, t.lat, 7);
        gw_buf_str(b, ",\"status\":"), gw_buf_json_str(b, gw_team_status_name(t.status));
    }
    gw_buf_str(b, "}\n\n");
}

/* ---- hub: listener and ticker -------------------------------------------------------------- */

/* Two feeds fill the ring, whichever sees a change first: the live listener (after the model
 * was refreshed) and a poller reading the change log every POLL_MS, so an event does not wait
 * for a model reload (seconds for a million incidents).  Commits are serial and seqs are taken
 * inside them, so the change log grows in seq order and "above the last seq" loses nothing. */
static void on_changes(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                       gw_model_snapshot *snap)
{
    gw_events *h = user;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        if (ch[i].seq <= h->last) continue;
        h->last = ch[i].seq;
        ev *e = &h->ring[h->n % RING];
        if (h->n >= RING) h->floor = e->seq + 1; /* evicting it */
        fill_ev(e, ch[i].seq, ch[i].layer, ch[i].op, ch[i].feature_id,
                ch[i].has_bbox ? &ch[i].bbox : NULL);
        h->n++;
    }
    for (sub *s = h->subs; s; s = s->next) gw_stream_wake(s->stream);
    pthread_mutex_unlock(&h->lock);
}

#define POLL_MS 50
#define POLL_ROWS 1024

/* One polled row into the hub's ring (under the hub's lock). */
static int poll_row(void *user, const gw_store_change *c)
{
    gw_events *h = user;
    gw_layer l;
    if (!c->layer || gw_layer_from_name(c->layer, &l) != GW_OK) l = GW_LAYER_COUNT;
    pthread_mutex_lock(&h->lock);
    if (c->seq > h->last) {
        ev *e = &h->ring[h->n % RING];
        if (h->n >= RING) h->floor = e->seq + 1; /* evicting it */
        fill_ev(e, c->seq, l, c->op, c->feature_id, c->has_bbox ? &c->bbox : NULL);
        h->last = c->seq;
        h->n++;
        h->polled++;
    }
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static void *poller_main(void *arg)
{
    gw_events *h = arg;
    gw_ctx *ctx = NULL;
    gw_store *st = NULL;
    if (gw_ctx_create(&ctx) != GW_OK ||
        gw_store_open(ctx, h->db_path, GW_STORE_READONLY, &st) != GW_OK) {
        fprintf(stderr,
                "gridwatch events: cannot poll the change log of %s (%s); events follow model "
                "refreshes only\n",
                h->db_path, ctx ? gw_ctx_errmsg(ctx) : "out of memory");
        goto out;
    }
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        int64_t after = h->last;
        h->polled = 0;
        pthread_mutex_unlock(&h->lock);
        size_t read = 0;
        gw_store_changes_read(st, after, 0, POLL_ROWS, poll_row, h, &read);
        pthread_mutex_lock(&h->lock);
        if (h->polled)
            for (sub *s = h->subs; s; s = s->next) gw_stream_wake(s->stream);
        if (read < POLL_ROWS && !h->stop) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&h->stop_cv, &h->lock, &ts);
        }
    }
    pthread_mutex_unlock(&h->lock);
out:
    gw_store_close(st);
    gw_ctx_destroy(ctx);
    return NULL;
}

static void *ticker_main(void *arg)
{
    gw_events *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L; /* held team moves go out within ~250 ms of their window */
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&h->stop_cv, &h->lock, &ts);
        int64_t t = now_ms();
        for (sub *s = h->subs; s; s = s->next)
            if (s->n_held ||
                t - __atomic_load_n(&s->last_write_ms, __ATOMIC_RELAXED) >= HEARTBEAT_MS)
                gw_stream_wake(s->stream);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

gw_status gw_events_create(gw_ctx *ctx, gw_live *live, gw_events **out)
{
    *out = NULL;
    gw_events *h = calloc(1, sizeof *h);
    if (!h) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->stop_cv, NULL);
    h->live = live;
    h->floor = gw_live_seq(live) + 1;
    h->last = h->floor - 1;
    gw_status st = gw_live_listen(live, on_changes, h);
    if (!st && pthread_create(&h->ticker, NULL, ticker_main, h) != 0)
        st = gw_ctx_error(ctx, GW_ERR_INTERNAL, "cannot start the events ticker");
    else if (st) gw_ctx_error(ctx, st, "cannot register the events listener");
    h->running = !st;
    if (st) {
        gw_events_destroy(h);
        return st;
    }
    *out = h;
    return GW_OK;
}

void gw_events_set_teams(gw_events *h, gw_dispatch *teams)
{
    pthread_mutex_lock(&h->lock);
    h->teams = teams;
    pthread_mutex_unlock(&h->lock);
}

void gw_events_counts(gw_events *h, size_t *subscribers, int64_t *appended)
{
    size_t s = 0;
    int64_t n = 0;
    if (h) {
        pthread_mutex_lock(&h->lock);
        s = h->n_subs, n = h->n;
        pthread_mutex_unlock(&h->lock);
    }
    if (subscribers) *subscribers = s;
    if (appended) *appended = n;
}

void gw_events_destroy(gw_events *h)
{
    if (!h) return;
    if (h->running) {
        pthread_mutex_lock(&h->lock);
        h->stop = 1;
        pthread_cond_broadcast(&h->stop_cv);
        int polling = h->polling;
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->ticker, NULL);
        if (polling) pthread_join(h->poller, NULL);
    }
    for (int i = 0; i < RING; i++) free(h->ring[i].id);
    pthread_cond_destroy(&h->stop_cv);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* ---- the stream ------------------------------------------------------------------------------ */

/* Copy out of b from *off; returns bytes. */
static long drain(const gw_buf *b, size_t *off, char *buf, size_t max)
{
    size_t n = b->len - *off < max ? b->len - *off : max;
    memcpy(buf, b->data + *off, n);
    *off += n;
    return (long)n;
}

/* Ring position of the event with `seq`, or -1 when it left the ring.  Caller holds the lock. */
static int64_t ring_find(const gw_events *h, int64_t seq)
{
    int64_t lo = h->n > RING ? h->n - RING : 0, hi = h->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (h->ring[mid % RING].seq < seq) lo = mid + 1;
        else hi = mid;
    }
    return lo < h->n && h->ring[lo % RING].seq == seq ? lo : -1;
}

/* Send the held moves whose window has passed (the newest move of each such team). */
static void flush_held(sub *s, const gw_events *h, int64_t t, gw_buf *out, size_t max)
{
    for (size_t k = 0; k < MOVE_SLOTS && s->n_held && out->len + 512 < max; k++) {
        if (!s->held[k].h || t - s->sent[k].ms < COALESCE_MS) continue;
        int64_t i = ring_find(h, s->held[k].seq);
        if (i >= 0 && in_scope(s, h, &h->ring[i % RING])) /* else: gone (the reset said so) */
            format_ev(out, h, &h->ring[i % RING]);        /* or moved out of the scope */
        s->sent[k].h = s->held[k].h, s->sent[k].ms = t;
        s->held[k].h = 0;
        s->n_held--;
    }
}

static long sub_read(void *cls, char *buf, size_t max)
{
    sub *s = cls;
    gw_events *h = s->hub;
    if (s->backlog_off < s->backlog.len) {
        __atomic_store_n(&s->last_write_ms, now_ms(), __ATOMIC_RELAXED);
        return drain(&s->backlog, &s->backlog_off, buf, max);
    }
    gw_buf out = {0};
    scope_take(s, h);
    pthread_mutex_lock(&h->lock);
    int64_t t = now_ms();
    if (!s->started) {
        gw_buf_str(&out, "retry: 2000\n: gridwatch events\n\n");
        s->started = 1;
    }
    if (s->cursor < h->floor - 1) { /* fell out of the window: say so rather than skip silently */
        gw_buf_printf(&out, "event: reset\ndata: {\"from\":%lld,\"to\":%lld}\n\n",
                      (long long)s->cursor, (long long)(h->floor - 1));
        s->cursor = h->floor - 1;
    }
    /* ring entries are in seq order: start after the cursor */
    int64_t first = h->n > RING ? h->n - RING : 0;
    int64_t lo = first, hi = h->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (h->ring[mid % RING].seq <= s->cursor) lo = mid + 1;
        else hi = mid;
    }
    for (int64_t i = lo; i < h->n && out.len + 512 < max; i++) {
        const ev *e = &h->ring[i % RING];
        s->cursor = e->seq;
        if (!wanted(s, e)) continue;
        if (e->layer == GW_LAYER_TEAMS && strcmp(e->op, "move") == 0) {
            /* A move of a team this subscriber got a move of less than a second ago is held
             * (a newer one replaces it) and goes out when the window ends. */
            size_t k = e->idh & (MOVE_SLOTS - 1);
            if (s->sent[k].h == e->idh && t - s->sent[k].ms < COALESCE_MS &&
                (!s->held[k].h ||
                 s->held[k].h == e->idh)) { /* a slot taken by another team: send */
                if (!s->held[k].h) s->n_held++;
                s->held[k].h = e->idh, s->held[k].seq = e->seq;
                continue;
            }
            if (s->held[k].h == e->idh) s->held[k].h = 0, s->n_held--;
            s->sent[k].h = e->idh, s->sent[k].ms = t;
        }
        format_ev(&out, h, e);
    }
    if (s->n_held) flush_held(s, h, t, &out, max);
    if (!out.len && t - __atomic_load_n(&s->last_write_ms, __ATOMIC_RELAXED) >= HEARTBEAT_MS)
        gw_buf_str(&out, ": heartbeat\n\n");
    pthread_mutex_unlock(&h->lock);
    scope_drop(s);
    if (out.oom) {
        gw_buf_free(&out);
        return -1;
    }
    if (!out.len) return GW_STREAM_WAIT;
    /* the ticker reads it under the hub's lock, this stream writes it outside: atomic */
    __atomic_store_n(&s->last_write_ms, t, __ATOMIC_RELAXED);
    size_t off = 0;
    long n = drain(&out, &off, buf, max);
    if (off < out.len) { /* an event longer than the room left: the rest goes first next time */
        gw_buf_reset(&s->backlog);
        s->backlog_off = 0;
        gw_buf_add(&s->backlog, out.data + off, out.len - off);
    }
    gw_buf_free(&out);
    return n;
}

static void sub_free(void *cls)
{
    sub *s = cls;
    gw_events *h = s->hub;
    if (s->stream) { /* registered (an unregistered one is freed under h_events' lock) */
        pthread_mutex_lock(&h->lock);
        if (s->prev) s->prev->next = s->next;
        else h->subs = s->next;
        if (s->next) s->next->prev = s->prev;
        h->n_subs--;
        pthread_mutex_unlock(&h->lock);
    }
    gw_buf_free(&s->backlog);
    gw_ctx_destroy(s->ctx);
    free(s);
}

typedef struct replay_state {
    sub *s;
    ev e;
    int64_t last;
} replay_state;

static int replay_row(void *user, const gw_store_change *c)
{
    replay_state *r = user;
    gw_layer l;
    if (!c->layer || gw_layer_from_name(c->layer, &l) != GW_OK) l = GW_LAYER_COUNT;
    fill_ev(&r->e, c->seq, l, c->op, c->feature_id, c->has_bbox ? &c->bbox : NULL);
    r->last = r->e.seq;
    if (wanted(r->s, &r->e)) format_ev(&r->s->backlog, r->s->hub, &r->e);
    return 0;
}

/* Replay changelog rows after `after` and before `until` into the backlog.  0 or -1. */
static int replay(gw_req *req, sub *s, int64_t after, int64_t until)
{
    gw_store *st = gw_req_store(req);
    if (!st) return -1;
    replay_state r = {.s = s, .last = after};
    gw_status rc = gw_store_changes_read(st, after, until, MAX_REPLAY, replay_row, &r, NULL);
    if (rc) {
        free(r.e.id);
        gw_req_fail(req, gw_store_ctx(st), rc, "cannot read the change log: %s",
                    gw_ctx_errmsg(gw_store_ctx(st)));
        return -1;
    }
    ev e = r.e;
    int64_t last = r.last;
    free(e.id);
    if (last < until - 1 && last - after >= MAX_REPLAY) /* too far behind to replay all */
        gw_buf_printf(&s->backlog, "event: reset\ndata: {\"from\":%lld,\"to\":%lld}\n\n",
                      (long long)last, (long long)(until - 1));
    return s->backlog.oom ? -1 : 0;
}

int gw_events_parse_last_id(const char *text, int64_t *last)
{
    int64_t v;
    if (!text || gw_parse_int64(text, &v)) return -1;
    *last = v < 0 ? -1 : v;
    return 0;
}

int gw_events_resume(int64_t *last, int64_t floor, int64_t newest, int64_t *cursor)
{
    /* An id beyond the newest event (a restored or another database, a client's typo) would
     * wait for a seq that may never come: the subscriber then starts from now. */
    if (*last > newest) *last = -1;
    *cursor = *last >= 0 ? (*last < floor - 1 ? floor - 1 : *last) : newest;
    return *last >= 0 && *last < floor - 1;
}

static int h_events(gw_req *req)
{
    gw_app *app = gw_req_app(req);
    gw_events *h = app ? app->modules[GW_APP_EVENTS] : NULL;
    if (!h) {
        gw_req_problem(req, 503, NULL, "events are not enabled on this server");
        return 0;
    }
    sub *s = calloc(1, sizeof *s);
    if (!s) {
        gw_req_problem(req, 503, NULL, "out of memory");
        return 0;
    }
    s->hub = h;
    snprintf(s->jur, sizeof s->jur, "%s", gw_auth_request_jurisdiction(req));
    if (s->jur[0] && gw_ctx_create(&s->ctx) != GW_OK) {
        gw_req_problem(req, 503, NULL, "out of memory");
        free(s);
        return 0;
    }
    const char *tv = gw_req_query(req, "types"), *bv = gw_req_query(req, "bbox");
    if (tv) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", tv);
        for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && s->n_types < MAX_TYPES;
             t = strtok_r(NULL, ",", &save))
            snprintf(s->types[s->n_types++], sizeof s->types[0], "%s", t);
    }
    char why[128];
    if (bv && gw_parse_bbox(bv, &s->bbox, why, sizeof why)) {
        gw_req_problem(req, 400, NULL, "parameter 'bbox': %s", why);
        gw_ctx_destroy(s->ctx);
        free(s);
        return 0;
    }
    s->has_bbox = bv != NULL;
    const char *lv = gw_req_header(req, "Last-Event-ID");
    if (!lv) lv = gw_req_query(req, "last_event_id"); /* for clients that cannot set headers */
    int64_t last = -1;
    if (lv && gw_events_parse_last_id(lv, &last)) {
        gw_req_problem(req, 400, NULL, "Last-Event-ID '%s' is not an event id (a change seq)", lv);
        gw_ctx_destroy(s->ctx);
        free(s);
        return 0;
    }
    pthread_mutex_lock(&h->lock);
    int64_t floor = h->floor, newest = h->n ? h->ring[(h->n - 1) % RING].seq : floor - 1;
    pthread_mutex_unlock(&h->lock);
    scope_take(s, h);
    int bad = gw_events_resume(&last, floor, newest, &s->cursor) && replay(req, s, last, floor);
    scope_drop(s);
    if (bad) {
        gw_buf_free(&s->backlog);
        gw_ctx_destroy(s->ctx);
        free(s);
        return 0;
    }
    s->last_write_ms = now_ms();
    gw_req_add_header(req, "Cache-Control", "no-store");
    gw_req_add_header(req, "X-Accel-Buffering", "no");
    /* Register under the lock so no wake is missed between respond and the list. */
    pthread_mutex_lock(&h->lock);
    if (!h->polling && !h->stop) { /* the first subscriber starts the change-log poller */
        const char *path = gw_server_db_path(gw_req_server(req));
        if (path && strlen(path) < sizeof h->db_path) {
            snprintf(h->db_path, sizeof h->db_path, "%s", path);
            h->polling = pthread_create(&h->poller, NULL, poller_main, h) == 0;
        }
    }
    gw_stream *stream = gw_req_respond_stream(req, 200, "text/event-stream", sub_read, s, sub_free);
    if (stream) {
        s->stream = stream;
        s->next = h->subs;
        if (s->next) s->next->prev = s;
        h->subs = s;
        h->n_subs++;
    }
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static const gw_route routes[] = {
    {"GET", "/events", h_events, GW_ROLE_VIEWER, "events"},
};

const gw_route *gw_events_routes(size_t *n)
{
    *n = sizeof routes / sizeof routes[0];
    return routes;
}
