/* dispatch_group.c — group commit of position batches.  Every batch is one SQLite write
 * transaction, and most of a small batch's cost is the transaction itself (the commit writes
 * every page the batch touched to the WAL) and SQLite's one writer at a time.  So batches that
 * arrive on other workers while one is being written wait in a queue; when the write ends, one
 * waiting thread writes everything queued in one transaction (the batches in arrival order, so
 * the store applies them exactly as it would one after another) and hands each its outcomes and
 * change-log seqs.  A failed group write fails every batch of it, and none is written.
 *
 * On a SQLite file the group is written through a connection of the dispatcher's own, opened as
 * a positions writer (GW_STORE_POSITIONS_WRITER): the callers' connections are one per HTTP
 * worker, and each would find its page cache stale (another worker wrote last) and its
 * statements to prepare again; the writer's stay warm, and its WAL checkpoints run on a thread
 * of their own.  A caller inside a transaction of its own keeps its connection. */
#include "dispatch_internal.h"

#include "gridwatch/store_dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dsp_writer_close(gw_dispatch *d)
{
    gw_store_close(d->wr);
    gw_ctx_destroy(d->wr_ctx);
    free(d->wr_path);
    d->wr = NULL, d->wr_ctx = NULL, d->wr_path = NULL;
}

/* The connection a group on `store` is written through (the group writer only calls this). */
static gw_store *group_store(gw_dispatch *d, gw_store *store)
{
    const char *path = gw_store_path(store);
    if (!path || gw_store_is_postgres(path) || gw_store_in_transaction(store)) return store;
    if (!d->wr_path || strcmp(d->wr_path, path) != 0) { /* first group, or another file */
        dsp_writer_close(d);
        d->wr_path = strdup(path);
        if (d->wr_path && gw_ctx_create(&d->wr_ctx) == GW_OK &&
            gw_store_open(d->wr_ctx, path, GW_STORE_POSITIONS_WRITER, &d->wr) != GW_OK)
            d->wr = NULL; /* cannot: the callers' connections write, as before */
    }
    return d->wr ? d->wr : store;
}

/* Write the queued batches from `first` on (the caller owns them; the lock is not held). */
static void write_group(gw_dispatch *d, gw_store *caller, pos_wait *first)
{
    gw_store *store = group_store(d, caller);
    size_t total = 0, k = 0;
    for (pos_wait *w = first; w; w = w->next) total += w->n;
    gw_status st = GW_OK;
    gw_store_move *mv = first->next ? malloc(total * sizeof *mv) : NULL;
    uint8_t *oc = first->next ? malloc(total) : NULL;
    int64_t *sq = first->next ? malloc(total * sizeof *sq) : NULL;
    if (!first->next) { /* alone: no copies */
        st = gw_store_dispatch_positions(store, first->mv, first->n, first->oc, first->sq);
    } else if (!mv || !oc || !sq) {
        st = gw_ctx_error(gw_store_ctx(store), GW_ERR_NOMEM, "out of memory for %zu positions",
                          total);
    } else {
        for (pos_wait *w = first; w; w = w->next) {
            memcpy(mv + k, w->mv, w->n * sizeof *mv);
            k += w->n;
        }
        st = gw_store_dispatch_positions(store, mv, total, oc, sq);
        k = 0;
        for (pos_wait *w = first; !st && w; w = w->next) {
            memcpy(w->oc, oc + k, w->n);
            memcpy(w->sq, sq + k, w->n * sizeof *sq);
            k += w->n;
        }
    }
    for (pos_wait *w = first; w; w = w->next) {
        w->st = st;
        if (st) snprintf(w->msg, sizeof w->msg, "%s", gw_ctx_errmsg(gw_store_ctx(store)));
    }
    free(mv), free(oc), free(sq);
}

gw_status dsp_write_positions(gw_dispatch *d, gw_store *store, const gw_store_move *mv, size_t n,
                              uint8_t *oc, int64_t *sq)
{
    pos_wait me = {.mv = mv, .n = n, .oc = oc, .sq = sq};
    pthread_mutex_lock(&d->grp_lock);
    *d->grp_tail = &me;
    d->grp_tail = &me.next;
    while (!me.done) {
        if (d->grp_writing) {
            pthread_cond_wait(&d->grp_cv, &d->grp_lock);
            continue;
        }
        /* nobody writes: this thread writes the whole queue (its own batch is in it) */
        pos_wait *first = d->grp_head;
        d->grp_head = NULL;
        d->grp_tail = &d->grp_head;
        d->grp_writing = 1;
        pthread_mutex_unlock(&d->grp_lock);
        write_group(d, store, first);
        pthread_mutex_lock(&d->grp_lock);
        for (pos_wait *w = first, *next; w; w = next) {
            next = w->next;
            w->done = 1;
        }
        d->grp_writing = 0;
        pthread_cond_broadcast(&d->grp_cv);
    }
    pthread_mutex_unlock(&d->grp_lock);
    if (me.st && gw_store_ctx(store)) gw_ctx_error(gw_store_ctx(store), me.st, "%s", me.msg);
    return me.st;
}
