/* sqlite_ckpt.c — the checkpointer of a positions writer (GW_STORE_POSITIONS_WRITER).
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 frames: the
 * committing thread copies the WAL's pages into the database file and syncs it while it still
 * holds the process's write turn (sqlite_wlock.c), so every batch queued behind it waits for the
 * copy and the fsync.  On a positions writer the WAL hook instead wakes a thread that runs a
 * PASSIVE checkpoint on a connection of its own: a PASSIVE checkpoint takes no lock a writer
 * needs and copies the frames every reader is past.  Writers go on appending meanwhile, so a
 * second PASSIVE checkpoint follows under the process's write turn (sqlite_wlock.c), short as
 * it only copies what the first one missed: the WAL is then wholly copied and the next writer
 * starts it again from the top (a WAL that only grows costs more per commit than the checkpoint:
 * each new frame allocates and zeroes file blocks).  Nothing is lost: a commit is durable in the WAL before
 * the hook runs (synchronous = NORMAL: up to the OS, as before), and a checkpoint only copies
 * committed frames.  Other connections to the file keep their automatic checkpoints. */
#include "store_internal.h"
#include "store_sqlite.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct ckpt {
    pthread_t th;
    pthread_mutex_t m;
    pthread_cond_t cv;
    int want, stop;
    sqlite3 *db;
    void *wl; /* the file's write turn */
    atomic_long done;
} ckpt;

/* The writer's WAL hook, after each commit: frames = the WAL's size in frames. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    ckpt *c = arg;
    if (frames < ST_CKPT_FRAMES) return SQLITE_OK;
    pthread_mutex_lock(&c->m);
    if (!c->want) {
        c->want = 1;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->m);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    ckpt *c = arg;
    pthread_mutex_lock(&c->m);
    for (;;) {
        while (!c->want && !c->stop) pthread_cond_wait(&c->cv, &c->m);
        int last = c->stop;
        c->want = 0;
        pthread_mutex_unlock(&c->m);
        /* SQLITE_BUSY when another connection checkpoints meanwhile: its copy serves as ours */
        int log = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc == SQLITE_OK && copied < log && st_wlock_file_take(c->wl) == 0) {
            rc = sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
            st_wlock_file_drop(c->wl);
        }
        if (rc == SQLITE_OK) atomic_fetch_add(&c->done, 1);
        pthread_mutex_lock(&c->m);
        if (last) break;
    }
    pthread_mutex_unlock(&c->m);
    return NULL;
}

gw_status st_ckpt_start(gw_store *s)
{
    ckpt *c = calloc(1, sizeof *c);
    if (!c) return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "out of memory for the checkpointer");
    atomic_init(&c->done, 0);
    if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        gw_status st = gw_ctx_error(s->ctx, GW_ERR_IO, "checkpointer: cannot open %s: %s", s->path,
                                    c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return st;
    }
    sqlite3_busy_timeout(c->db, 100);
    c->wl = st_wlock_file(s->path);
    pthread_mutex_init(&c->m, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, ckpt_main, c) != 0) {
        pthread_mutex_destroy(&c->m);
        pthread_cond_destroy(&c->cv);
        sqlite3_close(c->db);
        free(c);
        return gw_ctx_error(s->ctx, GW_ERR_NOMEM, "cannot start the checkpointer of %s", s->path);
    }
    s->ckpt = c;
    sqlite3_wal_hook(s->db, on_wal, c); /* replaces the automatic checkpoint */
    return GW_OK;
}

void st_ckpt_stop(gw_store *s)
{
    ckpt *c = s->ckpt;
    if (!c) return;
    if (s->db) sqlite3_wal_hook(s->db, NULL, NULL);
    pthread_mutex_lock(&c->m);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->m);
    pthread_join(c->th, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->m);
    pthread_cond_destroy(&c->cv);
    free(c);
    s->ckpt = NULL;
}

long st_sqlite_checkpoints(gw_store *s)
{
    ckpt *c = s && s->be == &st_sqlite_backend ? s->ckpt : NULL;
    return c ? atomic_load(&c->done) : 0;
}
