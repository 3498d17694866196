/* pg_listen.c — waiting for changes on PostgreSQL: the connection LISTENs to 'gw_changes', the
 * channel every change-log row notifies in its own transaction (pg_core.c), so a server's sync
 * thread wakes within a millisecond of a commit on any server instead of polling the log.
 * A lost connection is reset here on the next wait (the server restarting under load). */
#include "pg_internal.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

/* Take every notification that has arrived; 1 when there was one. */
static int drain(PGconn *c)
{
    int got = 0;
    PGnotify *n;
    PQconsumeInput(c);
    while ((n = PQnotifies(c)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

gw_status pg_changes_wait(gw_store *s, int64_t after, unsigned timeout_ms)
{
    pg_state *p = PG(s);
    if (p->in_tx)
        return gw_ctx_error(s->ctx, GW_ERR_ARG, "waiting for changes inside a transaction on %s",
                            s->path);
    if (!p->listening) { /* (pg_run re-establishes a lost connection and clears the flag) */
        gw_status st = pg_exec(s, "LISTEN gw_changes", 0, NULL, "cannot listen for changes");
        if (st) return st;
        p->listening = 1;
    }
    if (drain(p->conn)) return GW_OK;
    int64_t last = 0; /* what was logged before LISTEN took effect, or missed notifications */
    gw_status st = pg_last_seq(s, &last);
    if (st) return st;
    if (last > after || drain(p->conn)) return GW_OK;
    double end = now_ms() + timeout_ms;
    for (;;) {
        double left = end - now_ms();
        if (left <= 0) return GW_ERR_NOT_FOUND;
        struct pollfd pf = {.fd = PQsocket(p->conn), .events = POLLIN};
        if (pf.fd < 0) return gw_ctx_error(s->ctx, GW_ERR_DB, "lost the connection to %s", s->path);
        int rc = poll(&pf, 1, (int)left + 1);
        if (rc < 0 && errno != EINTR)
            return gw_ctx_error(s->ctx, GW_ERR_DB, "waiting for changes on %s failed", s->path);
        if (rc > 0) {
            if (!PQconsumeInput(p->conn))
                return gw_ctx_error(s->ctx, GW_ERR_DB, "lost the connection to %s: %s", s->path,
                                    PQerrorMessage(p->conn));
            if (drain(p->conn)) return GW_OK;
        }
    }
}
