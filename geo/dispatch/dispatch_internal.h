/* dispatch_internal.h — the dispatcher's state shared by dispatch.c (the team table, nearest,
 * writes) and dispatch_locate.c (what lies at a point). */
#ifndef GRIDWATCH_DISPATCH_INTERNAL_H
#define GRIDWATCH_DISPATCH_INTERNAL_H

#include "gridwatch/dispatch.h"

#include "gridwatch/crs.h"
#include "gridwatch/store_dispatch.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define POOL 16
#define NO_TIME INT64_MIN
#define DEG (180.0 / M_PI)

typedef struct tteam {
    const char *id, *name;
    double lon, lat, x, y;
    int64_t updated_at, members, seq;
    uint8_t status, has_pos, alive;
    int32_t cell, prev, next; /* cell list links; cell -1 = the outside list */
} tteam;

/* A batch of positions waiting to be written with the others that arrive meanwhile (group
 * commit, dispatch_group.c). */
typedef struct pos_wait {
    const gw_store_move *mv;
    size_t n;
    uint8_t *oc;
    int64_t *sq;
    gw_status st;
    int done;
    char msg[256];
    struct pos_wait *next;
} pos_wait;

typedef struct xslot {
    gw_ctx *ctx;
    gw_crs_transform *tr;
    int srid, busy;
} xslot;

struct gw_dispatch {
    gw_model *model;
    int64_t stale_s;
    pthread_rwlock_t lock; /* the team table */
    tteam *t;
    size_t n, cap;
    int32_t *hash; /* open addressing, indices into t, -1 empty */
    size_t hcap;
    /* the grid index: ncx * ncy cells of `cs` metres from (gx, gy); heads -1 = empty */
    double gx, gy, cs;
    int ncx, ncy;
    int32_t *head, outside;
    char **strs; /* every string handed out, freed at destroy */
    size_t nstrs, capstrs;
    pthread_mutex_t pool_lock;
    xslot pool[POOL];
    pthread_mutex_t grp_lock; /* the group commit of positions (dispatch_group.c) */
    pthread_cond_t grp_cv;
    pos_wait *grp_head, **grp_tail;
    int grp_writing;
    pthread_mutex_t cam_lock; /* max camera range per cameras layer */
    const gw_layer_data *cam_layer;
    int64_t cam_seq;
    double cam_max;
};

/* 1 when both strings are NULL or equal. */
static inline int same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* gw_store_dispatch_positions for one batch, written in one transaction together with the
 * batches other threads hand in while a write is under way (dispatch_group.c). */
gw_status dsp_write_positions(gw_dispatch *d, gw_store *store, const gw_store_move *mv, size_t n,
                              uint8_t *oc, int64_t *sq);

/* A team's entry as a gw_team_hit, with distance and bearing from metric (x, y) (dispatch.c;
 * o may be NULL: grid bearings). */
void dsp_fill_hit(int64_t stale_s, const tteam *t, double x, double y, int64_t now, gw_team_hit *h,
                  const gw_nearest_opts *o);

#endif
