/* sqlite_wlock.c — the write transactions of this process on one SQLite file take turns through
 * a queue of their own before BEGIN IMMEDIATE.  SQLite's busy handler makes a waiting writer
 * sleep 1, 2, 5, 10, … ms between tries, so with several HTTP workers writing small batches the
 * lock sat idle between holders (server CPU at a third of two cores while batches waited tens of
 * ms); here the next writer is woken when the holder ends.  Writers in other processes still
 * meet the busy handler.  A thread that already holds a turn (a second write store opened on the
 * same thread) does not queue again: it falls back to the busy handler, as before. */
#include "store_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

typedef struct wl_file {
    dev_t dev;
    ino_t ino;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int busy;
    struct wl_file *next;
} wl_file;

/* One entry per file written by this process, kept for the process's life (a few per run). */
static pthread_mutex_t wl_reg = PTHREAD_MUTEX_INITIALIZER;
static wl_file *wl_head;
static _Thread_local int wl_held;

static wl_file *wl_find(const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0) return NULL; /* :memory: and the like: no queue */
    pthread_mutex_lock(&wl_reg);
    wl_file *f = wl_head;
    while (f && !(f->dev == sb.st_dev && f->ino == sb.st_ino)) f = f->next;
    if (!f && (f = calloc(1, sizeof *f))) {
        f->dev = sb.st_dev, f->ino = sb.st_ino;
        pthread_mutex_init(&f->m, NULL);
        pthread_cond_init(&f->cv, NULL);
        f->next = wl_head;
        wl_head = f;
    }
    pthread_mutex_unlock(&wl_reg);
    return f;
}

/* Wait for the file's turn: 0 when taken, -1 after GW_STORE_WRITE_WAIT_MS. */
static int wl_wait(wl_file *f)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GW_STORE_WRITE_WAIT_MS / 1000;
    int rc = 0;
    pthread_mutex_lock(&f->m);
    while (f->busy && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&f->cv, &f->m, &until);
    int got = !f->busy;
    if (got) f->busy = 1;
    pthread_mutex_unlock(&f->m);
    return got ? 0 : -1;
}

static void wl_give(wl_file *f)
{
    pthread_mutex_lock(&f->m);
    f->busy = 0;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->m);
}

int st_wlock_take(gw_store *s)
{
    if (s->wlock_held || wl_held) return 0;
    if (!s->wlock) s->wlock = wl_find(s->path);
    wl_file *f = s->wlock;
    if (!f) return 0;
    if (wl_wait(f)) return -1;
    s->wlock_held = 1;
    wl_held++;
    return 0;
}

void st_wlock_drop(gw_store *s)
{
    if (!s->wlock_held || (s->db && !sqlite3_get_autocommit(s->db))) return;
    wl_give(s->wlock);
    s->wlock_held = 0;
    if (wl_held > 0) wl_held--;
}

void *st_wlock_file(const char *path) { return wl_find(path); }
int st_wlock_file_take(void *f) { return f ? wl_wait(f) : 0; }
void st_wlock_file_drop(void *f)
{
    if (f) wl_give(f);
}
