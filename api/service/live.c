/* live.c — the sync thread behind gw_live: wait for changes (PostgreSQL's notification, or a
 * poll of the change log on SQLite), refresh the shared model, tell the listeners.  See live.h for why it is a thread and not a per-request check. */
#include "live.h"

#include "gridwatch/store_changes.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LISTENERS 16
#define BATCH 4096

struct gw_live {
    char *db_path;
    unsigned poll_ms;
    gw_model *model;
    gw_ctx *ctx;     /* the sync thread's */
    gw_store *store; /* the sync thread's read connection */
    pthread_t thread;
    int running, stop, kicked;
    int notify;  /* the store can wait for changes (PostgreSQL); 0 after it said it cannot */
    int failing; /* the last wait failed (logged once until it works again) */
    pthread_mutex_t lock;
    pthread_cond_t wake, synced;
    int64_t seq; /* what the listeners have seen */
    int64_t store_seq;
    double current_at, refresh_seconds;
    uint64_t rounds;
    struct {
        gw_live_listener fn;
        void *user;
    } listeners[MAX_LISTENERS];
    int n_listeners;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) ts->tv_sec++, ts->tv_nsec -= 1000000000L;
}

/* The rows of one sync round, collected from the store's change-log read. */
typedef struct batch {
    gw_change *ch;
    char **strs; /* op and feature id of each row, owned */
    size_t n, cap;
} batch;

static int collect(void *user, const gw_store_change *sc)
{
    batch *b = user;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        gw_change *nc = realloc(b->ch, cap * sizeof *nc);
        if (nc) b->ch = nc;
        char **ns = realloc(b->strs, cap * 2 * sizeof *ns);
        if (ns) b->strs = ns;
        if (!nc || !ns) return 1;
        b->cap = cap;
    }
    gw_change *c = &b->ch[b->n];
    memset(c, 0, sizeof *c);
    c->seq = sc->seq;
    if (!sc->layer || gw_layer_from_name(sc->layer, &c->layer) != GW_OK) c->layer = GW_LAYER_COUNT;
    b->strs[2 * b->n] = strdup(sc->op);
    b->strs[2 * b->n + 1] = sc->feature_id ? strdup(sc->feature_id) : NULL;
    c->op = b->strs[2 * b->n];
    c->feature_id = b->strs[2 * b->n + 1];
    c->has_bbox = sc->has_bbox;
    c->bbox = sc->bbox;
    b->n++;
    return 0;
}

/* Read change rows after `after` (at most BATCH), call refresh and the listeners. */
static int64_t sync_once(gw_live *l, int64_t after)
{
    batch b = {0};
    if (gw_store_changes_read(l->store, after, 0, BATCH, collect, &b, NULL) != GW_OK && !b.n) {
        free(b.ch);
        free(b.strs);
        return after;
    }
    gw_change *ch = b.ch;
    char **strs = b.strs;
    size_t n = b.n;
    int64_t reached = after;
    if (n > 0) {
        /* The model reads the log itself and may get further than our batch; listeners get
         * the rows we read, and the next round continues after them. */
        if (gw_model_refresh(l->ctx, l->model, l->store, NULL) == GW_OK) {
            gw_model_snapshot *snap = gw_model_acquire(l->model);
            for (int i = 0; i < l->n_listeners; i++)
                l->listeners[i].fn(l->listeners[i].user, l->ctx, ch, n, snap);
            gw_model_release(l->ctx, snap);
            reached = ch[n - 1].seq;
        } else {
            fprintf(stderr, "{\"level\":\"error\",\"msg\":\"model refresh failed: %s\"}\n",
                    gw_ctx_errmsg(l->ctx));
        }
    }
    for (size_t i = 0; i < n; i++) free(strs[2 * i]), free(strs[2 * i + 1]);
    free(strs);
    free(ch);
    return reached;
}

/* A failed wait (the database restarting): say so once, then retry every poll interval. */
static void wait_failed(gw_live *l, gw_status w)
{
    if (!l->failing)
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"waiting for changes failed (%d): %s\"}\n",
                (int)w, gw_ctx_errmsg(l->ctx));
    l->failing = 1;
    struct timespec ts = {.tv_sec = l->poll_ms / 1000,
                          .tv_nsec = (long)(l->poll_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *sync_main(void *arg)
{
    gw_live *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        if (!l->kicked && l->notify) {
            /* PostgreSQL: block on the change notification (a commit on any server wakes us
             * within a millisecond); back every poll_ms to see stop and kicks */
            int64_t seen = l->seq;
            pthread_mutex_unlock(&l->lock);
            gw_status w = gw_store_changes_wait(l->store, seen, l->poll_ms);
            if (w && w != GW_ERR_NOT_FOUND) {
                if (w == GW_ERR_UNSUPPORTED) l->notify = 0; /* SQLite: poll */
                else wait_failed(l, w);
                gw_ctx_clear_error(l->ctx);
            } else if (l->failing) {
                fprintf(stderr, "{\"level\":\"info\",\"msg\":\"change notification back\"}\n");
                l->failing = 0;
            }
            pthread_mutex_lock(&l->lock);
        } else if (!l->kicked) {
            struct timespec ts;
            deadline_in(&ts, l->poll_ms);
            pthread_cond_timedwait(&l->wake, &l->lock, &ts);
        }
        l->kicked = 0;
        if (l->stop) break;
        int64_t from = l->seq;
        pthread_mutex_unlock(&l->lock);
        int64_t last = 0, reached = from;
        double t0 = now_s(), spent = 0;
        int looked = gw_store_last_seq(l->store, &last) == GW_OK;
        if (looked && last > from) {
            while (reached < last) {
                int64_t r = sync_once(l, reached);
                if (r == reached) break;
                reached = r;
            }
            spent = now_s() - t0;
        }
        pthread_mutex_lock(&l->lock);
        if (looked) {
            l->store_seq = last;
            if (reached >= last) l->current_at = now_s();
        }
        if (spent > 0) l->rounds++, l->refresh_seconds += spent;
        if (reached > l->seq) {
            l->seq = reached;
            pthread_cond_broadcast(&l->synced);
        }
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

static gw_status create(gw_ctx *ctx, const char *db_path, unsigned poll_ms, unsigned layers,
                        int sync, gw_live **out)
{
    *out = NULL;
    gw_live *l = calloc(1, sizeof *l);
    if (!l) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    l->db_path = strdup(db_path);
    l->poll_ms = poll_ms ? poll_ms : 100;
    l->notify = gw_store_is_postgres(db_path);
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    pthread_cond_init(&l->synced, NULL);
    gw_status st = gw_ctx_create(&l->ctx);
    if (st) {
        gw_live_destroy(l);
        return gw_ctx_error(ctx, st, "out of memory");
    }
    st = gw_store_open(l->ctx, db_path, GW_STORE_READONLY, &l->store);
    if (!st) st = gw_model_open_layers(l->ctx, l->store, layers, &l->model);
    if (st) {
        gw_ctx_error(ctx, st, "%s", gw_ctx_errmsg(l->ctx));
        gw_live_destroy(l);
        return st;
    }
    gw_model_snapshot *snap = gw_model_acquire(l->model);
    l->seq = l->store_seq = gw_snapshot_seq(snap);
    l->current_at = now_s();
    gw_model_release(l->ctx, snap);
    if (sync && pthread_create(&l->thread, NULL, sync_main, l) != 0) {
        gw_live_destroy(l);
        return gw_ctx_error(ctx, GW_ERR_INTERNAL, "cannot start the sync thread");
    }
    l->running = sync;
    *out = l;
    return GW_OK;
}

gw_status gw_live_create(gw_ctx *ctx, const char *db_path, unsigned poll_ms, gw_live **out)
{
    return create(ctx, db_path, poll_ms, (1u << GW_LAYER_COUNT) - 1, 1, out);
}

gw_status gw_live_create_frozen(gw_ctx *ctx, const char *db_path, unsigned layers, gw_live **out)
{
    return create(ctx, db_path, 0, layers, 0, out);
}

void gw_live_destroy(gw_live *l)
{
    if (!l) return;
    if (l->running) {
        pthread_mutex_lock(&l->lock);
        l->stop = 1;
        pthread_cond_broadcast(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->thread, NULL);
    }
    gw_model_close(l->model);
    gw_store_close(l->store);
    gw_ctx_destroy(l->ctx);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->synced);
    pthread_mutex_destroy(&l->lock);
    free(l->db_path);
    free(l);
}

gw_status gw_live_listen(gw_live *l, gw_live_listener fn, void *user)
{
    if (!l || !fn || l->n_listeners == MAX_LISTENERS) return GW_ERR_ARG;
    pthread_mutex_lock(&l->lock);
    l->listeners[l->n_listeners].fn = fn;
    l->listeners[l->n_listeners].user = user;
    l->n_listeners++;
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

gw_status gw_live_listen_first(gw_live *l, gw_live_listener fn, void *user)
{
    if (!l || !fn || l->n_listeners == MAX_LISTENERS) return GW_ERR_ARG;
    pthread_mutex_lock(&l->lock);
    memmove(&l->listeners[1], &l->listeners[0], (size_t)l->n_listeners * sizeof l->listeners[0]);
    l->listeners[0].fn = fn;
    l->listeners[0].user = user;
    l->n_listeners++;
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

const char *gw_live_db_path(const gw_live *live) { return live->db_path; }

gw_model *gw_live_model(gw_live *l) { return l ? l->model : NULL; }

void gw_live_kick(gw_live *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->lock);
    l->kicked = 1;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
}

int gw_live_wait(gw_live *l, int64_t seq, unsigned timeout_ms)
{
    if (!l) return 0;
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&l->lock);
    l->kicked = 1;
    pthread_cond_signal(&l->wake);
    int rc = 0;
    while (l->seq < seq && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&l->synced, &l->lock, &ts);
    int ok = l->seq >= seq;
    pthread_mutex_unlock(&l->lock);
    return ok;
}

gw_live_stats gw_live_get_stats(gw_live *l)
{
    gw_live_stats st = {0};
    if (!l) return st;
    pthread_mutex_lock(&l->lock);
    st = (gw_live_stats){l->seq, l->store_seq, l->current_at, l->rounds, l->refresh_seconds};
    pthread_mutex_unlock(&l->lock);
    return st;
}

int64_t gw_live_seq(gw_live *l)
{
    if (!l) return 0;
    pthread_mutex_lock(&l->lock);
    int64_t s = l->seq;
    pthread_mutex_unlock(&l->lock);
    return s;
}
