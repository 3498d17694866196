/* authlimit.c — inside api/http: a limit on failed authentications per client address.  A
 * client that presents 20 (--auth-fail-max) bad bearer tokens within 60 s is answered 429 (Retry-After: the rest
 * of the window) before its token is even looked up.  Tokens have 256 bits, so guessing is not
 * the threat; the limit keeps a scanner from flooding the log and the token lookups.  The
 * address is the TCP peer's: behind a proxy every client shares it (docs/security.md). */
#include "server_internal.h"

static unsigned slot_of(const char *ip)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)ip; *p; p++) h = (h ^ *p) * 16777619u;
    return h % SRV_FAIL_SLOTS;
}

void srv_client_ip(struct MHD_Connection *conn, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(buf, cap, "?");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)cap);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)cap);
}

int srv_auth_blocked(gw_server *srv, const char *ip)
{
    time_t now = time(NULL);
    int wait = 0;
    pthread_mutex_lock(&srv->fail_lock);
    srv_fail *f = &srv->fails[slot_of(ip)];
    if (strcmp(f->ip, ip) == 0 && f->n >= srv->o.auth_fail_max &&
        now - f->start < SRV_FAIL_WINDOW_S)
        wait = (int)(SRV_FAIL_WINDOW_S - (now - f->start));
    pthread_mutex_unlock(&srv->fail_lock);
    return wait;
}

void srv_auth_failed(gw_server *srv, const char *ip)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&srv->fail_lock);
    srv_fail *f = &srv->fails[slot_of(ip)];
    if (strcmp(f->ip, ip) != 0 || now - f->start >= SRV_FAIL_WINDOW_S) {
        snprintf(f->ip, sizeof f->ip, "%s", ip); /* a new window (or another address) */
        f->start = now, f->n = 0;
    }
    f->n++;
    pthread_mutex_unlock(&srv->fail_lock);
}
