/* pg_util.c — the PostgreSQL engine's statement helpers (see pg_internal.h): running a
 * statement with its error mapped to one gw_status, the write lock for writes outside a
 * transaction, and the text forms of values, bytea and EWKB. */
#include "pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gw_status pg_fail(gw_store *s, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorMessage(r) : NULL;
    if (!msg || !*msg) msg = PG(s)->conn ? PQerrorMessage(PG(s)->conn) : "no connection";
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    gw_status st = GW_ERR_DB;
    if (state && (strcmp(state, "23505") == 0 || strcmp(state, "23P01") == 0 ||
                  strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        st = GW_ERR_CONFLICT;
    else if (state && (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0 ||
                       strcmp(state, "23502") == 0))
        st = GW_ERR_ARG;
    /* libpq's messages end in a newline (and carry "ERROR:  "): trim both */
    char m[512];
    snprintf(m, sizeof m, "%s", msg);
    size_t k = strlen(m);
    while (k && (m[k - 1] == '\n' || m[k - 1] == ' ')) m[--k] = '\0';
    for (char *c = m; *c; c++) /* libpq folds long messages over lines: one line here */
        if (*c == '\n' || *c == '\t') *c = ' ';
    const char *body = strncmp(m, "ERROR:  ", 8) == 0 ? m + 8 : m;
    return gw_ctx_error(s->ctx, st, "%s: %s%s%s (database %s)", what, body, detail ? "; " : "",
                        detail ? detail : "", s->path);
}

gw_status pg_session_setup(gw_store *s)
{
    pg_state *p = PG(s);
    gw_status st = pg_exec(s, "SET TimeZone = 'UTC'", 0, NULL, "cannot set up the connection");
    if (!st)
        st = pg_exec(s, "SET client_min_messages = warning", 0, NULL,
                     "cannot set up the connection");
    if (!st && p->ro)
        st = pg_exec(s, "SET default_transaction_read_only = on", 0, NULL,
                     "cannot make the connection read-only");
    return st;
}

/* A lost connection outside a transaction is re-established (the server restarted); inside
 * one the transaction is gone and the caller's statement fails. */
static int reconnect(gw_store *s)
{
    pg_state *p = PG(s);
    if (PQstatus(p->conn) == CONNECTION_OK) return 1;
    if (p->in_tx) return 0;
    PQreset(p->conn);
    p->listening = 0;
    return PQstatus(p->conn) == CONNECTION_OK && pg_session_setup(s) == GW_OK;
}

PGresult *pg_run(gw_store *s, const char *sql, int n, const char *const *vals, const int *lens,
                 const char *what, gw_status *st)
{
    int fmts[16] = {0};
    if (lens)
        for (int i = 0; i < n && i < 16; i++) fmts[i] = lens[i] > 0;
    pg_state *p = PG(s);
    int was_ok = PQstatus(p->conn) == CONNECTION_OK || reconnect(s);
    PGresult *r = PQexecParams(p->conn, sql, n, NULL, vals, lens, lens ? fmts : NULL, 0);
    ExecStatusType t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (t == PGRES_FATAL_ERROR && was_ok && !p->in_tx && PQstatus(p->conn) != CONNECTION_OK &&
        reconnect(s)) { /* the connection broke under a statement of its own: once more */
        PQclear(r);
        r = PQexecParams(p->conn, sql, n, NULL, vals, lens, lens ? fmts : NULL, 0);
        t = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    }
    if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) {
        *st = GW_OK;
        return r;
    }
    *st = pg_fail(s, r, what ? what : sql);
    PQclear(r);
    return NULL;
}

gw_status pg_exec(gw_store *s, const char *sql, int n, const char *const *vals, const char *what)
{
    gw_status st;
    PQclear(pg_run(s, sql, n, vals, NULL, what, &st));
    return st;
}

gw_status pg_query_int(gw_store *s, const char *sql, int n, const char *const *vals, int64_t *out,
                       int *found)
{
    gw_status st;
    PGresult *r = pg_run(s, sql, n, vals, NULL, "cannot read the database", &st);
    if (found) *found = 0;
    if (!r) return st;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        if (found) *found = 1;
    }
    PQclear(r);
    return GW_OK;
}

gw_status pg_write_begin(gw_store *s)
{
    pg_state *p = PG(s);
    if (p->in_tx == 2)
        return gw_ctx_error(s->ctx, GW_ERR_CONFLICT,
                            "a write inside a read transaction on %s; end it first", s->path);
    if (p->in_tx == 1) {
        gw_status st = pg_exec(s, "SAVEPOINT gw_w", 0, NULL, "cannot start a write");
        if (!st) p->nsp++;
        return st;
    }
    gw_status st = pg_begin(s);
    if (!st) p->nsp = -1; /* our own transaction */
    return st;
}

gw_status pg_write_end(gw_store *s, gw_status st)
{
    pg_state *p = PG(s);
    if (p->nsp < 0) {
        p->nsp = 0;
        if (st) {
            pg_rollback(s);
            return st;
        }
        return pg_commit(s);
    }
    p->nsp--;
    if (st) {
        PQclear(PQexec(p->conn, "ROLLBACK TO gw_w; RELEASE gw_w"));
        return st;
    }
    return pg_exec(s, "RELEASE gw_w", 0, NULL, "cannot finish a write");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

unsigned char *pg_unhex(const char *t, size_t *len)
{
    *len = 0;
    if (!t || t[0] != '\\' || t[1] != 'x') return NULL;
    t += 2;
    size_t n = strlen(t);
    if (n % 2) return NULL;
    unsigned char *b = malloc(n / 2 ? n / 2 : 1);
    if (!b) return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return NULL;
        }
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return b;
}

void pg_buf_add(pg_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void pg_buf_copy_text(pg_buf *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\'   ? "\\\\"
                          : *s == '\t' ? "\\t"
                          : *s == '\n' ? "\\n"
                          : *s == '\r' ? "\\r"
                                       : NULL;
        if (!esc) continue;
        pg_buf_add(b, run, (size_t)(s - run));
        pg_buf_add(b, esc, 2);
        run = s + 1;
    }
    pg_buf_add(b, run, (size_t)(s - run));
}

void pg_buf_text_array(pg_buf *b, const char *const *strings, size_t n)
{
    pg_buf_add(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        pg_buf_add(b, i ? ",\"" : "\"", i ? 2 : 1);
        const char *run = strings[i] ? strings[i] : "", *p = run;
        for (; *p; p++) {
            if (*p != '"' && *p != '\\') continue;
            pg_buf_add(b, run, (size_t)(p - run));
            pg_buf_add(b, "\\", 1);
            run = p;
        }
        pg_buf_add(b, run, (size_t)(p - run));
        pg_buf_add(b, "\"", 1);
    }
    pg_buf_add(b, "}", 1);
}

void pg_buf_hex(pg_buf *b, const unsigned char *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    char tmp[256];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[k++] = d[p[i] >> 4], tmp[k++] = d[p[i] & 15];
        if (k == sizeof tmp) pg_buf_add(b, tmp, k), k = 0;
    }
    pg_buf_add(b, tmp, k);
}

int pg_hex_ewkb(const unsigned char *wkb, size_t len, pg_buf *b)
{
    if (!wkb || len < 5 || wkb[0] > 1) return -1;
    int le = wkb[0] == 1;
    uint32_t type = le ? (uint32_t)wkb[1] | (uint32_t)wkb[2] << 8 | (uint32_t)wkb[3] << 16 |
                             (uint32_t)wkb[4] << 24
                       : (uint32_t)wkb[4] | (uint32_t)wkb[3] << 8 | (uint32_t)wkb[2] << 16 |
                             (uint32_t)wkb[1] << 24;
    type |= 0x20000000u; /* has SRID */
    uint32_t srid = 4326;
    unsigned char h[9];
    h[0] = wkb[0];
    for (int i = 0; i < 4; i++) {
        int sh = le ? 8 * i : 8 * (3 - i);
        h[1 + i] = (unsigned char)(type >> sh);
        h[5 + i] = (unsigned char)(srid >> sh);
    }
    pg_buf_hex(b, h, sizeof h);
    pg_buf_hex(b, wkb + 5, len - 5);
    return 0;
}

void pg_i64(char buf[24], int64_t v) { snprintf(buf, 24, "%" PRId64, v); }
void pg_f64(char buf[32], double v) { snprintf(buf, 32, "%.17g", v); }
void pg_time(char buf[32], int64_t t) { gw_time_format(t, buf, 32); }
