/* road_net.c — the current routing graph of a store (road.h): built at create, rebuilt off to
 * the side when the change log has a newer "roads" change, swapped in under a mutex; graphs
 * still held by readers are freed by their last release. */
#include "road_internal.h"

#include "gridwatch/store_changes.h"

#include <stdlib.h>
#include <string.h>

typedef struct held {
    gw_road_graph *g;
    int refs, retired;
} held;

struct gw_road_net {
    pthread_mutex_t lock;
    gw_road_graph_opts opts;
    char *speeds;
    held *h;
    size_t n, cap;
    gw_road_graph *cur;
};

static gw_status add(gw_ctx *ctx, gw_road_net *net, gw_road_graph *g)
{
    if (net->n == net->cap) {
        size_t c = net->cap ? net->cap * 2 : 4;
        held *h = realloc(net->h, c * sizeof *h);
        if (!h) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
        net->h = h, net->cap = c;
    }
    net->h[net->n++] = (held){g, 0, 0};
    return GW_OK;
}

gw_status gw_road_net_create(gw_ctx *ctx, gw_store *store, const gw_road_graph_opts *opts,
                             gw_road_net **out)
{
    *out = NULL;
    gw_road_net *net = calloc(1, sizeof *net);
    if (!net) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&net->lock, NULL);
    if (opts) net->opts = *opts;
    if (opts && opts->speeds && !(net->speeds = strdup(opts->speeds))) {
        gw_road_net_destroy(net);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    }
    net->opts.speeds = net->speeds;
    gw_road_graph *g = NULL;
    gw_status st = gw_road_graph_build(ctx, store, &net->opts, &g);
    if (!st && (st = add(ctx, net, g)) != GW_OK) gw_road_graph_destroy(g);
    if (st) {
        gw_road_net_destroy(net);
        return st;
    }
    net->cur = g;
    *out = net;
    return GW_OK;
}

void gw_road_net_destroy(gw_road_net *net)
{
    if (!net) return;
    for (size_t i = 0; i < net->n; i++)
        if (!net->h[i].refs) gw_road_graph_destroy(net->h[i].g);
    /* graphs still held leak rather than vanish under a reader: callers release before */
    free(net->h);
    free(net->speeds);
    pthread_mutex_destroy(&net->lock);
    free(net);
}

gw_status gw_road_net_refresh(gw_ctx *ctx, gw_road_net *net, gw_store *store, int *rebuilt)
{
    if (rebuilt) *rebuilt = 0;
    if (!net || !store) return GW_ERR_ARG;
    int64_t seq = 0;
    gw_status st = gw_store_changes_last(store, "roads", &seq);
    if (st) return st;
    if (seq <= gw_road_graph_seq(net->cur)) return GW_OK;
    gw_road_graph *g = NULL;
    if ((st = gw_road_graph_build(ctx, store, &net->opts, &g))) return st;
    pthread_mutex_lock(&net->lock);
    st = add(ctx, net, g);
    if (!st) {
        for (size_t i = 0; i < net->n; i++)
            if (net->h[i].g == net->cur) {
                net->h[i].retired = 1;
                if (!net->h[i].refs) {
                    gw_road_graph_destroy(net->h[i].g);
                    net->h[i] = net->h[--net->n];
                }
                break;
            }
        net->cur = g;
    }
    pthread_mutex_unlock(&net->lock);
    if (st) gw_road_graph_destroy(g);
    else if (rebuilt) *rebuilt = 1;
    return st;
}

const gw_road_graph *gw_road_net_acquire(gw_road_net *net)
{
    if (!net) return NULL;
    pthread_mutex_lock(&net->lock);
    const gw_road_graph *g = net->cur;
    for (size_t i = 0; i < net->n; i++)
        if (net->h[i].g == g) net->h[i].refs++;
    pthread_mutex_unlock(&net->lock);
    return g;
}

void gw_road_net_release(gw_road_net *net, const gw_road_graph *g)
{
    if (!net || !g) return;
    pthread_mutex_lock(&net->lock);
    for (size_t i = 0; i < net->n; i++) {
        if (net->h[i].g != g) continue;
        if (--net->h[i].refs == 0 && net->h[i].retired) {
            gw_road_graph_destroy(net->h[i].g);
            net->h[i] = net->h[--net->n];
        }
        break;
    }
    pthread_mutex_unlock(&net->lock);
}
