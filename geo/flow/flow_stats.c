/* flow_stats.c — response figures from the audit trail (gridwatch/flow_stats.h): one pass over
 * every incident's transitions gives its milestones, and the sums per group give counts by state,
 * nearest-rank median and p90 of each time, overdue share and escalation rate. */
#include "gridwatch/flow_stats.h"

#include "gridwatch/layer.h"
#include "gridwatch/store_flow.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry time and level of an incident's current state (its last transition's). */
typedef struct last {
    int64_t at;
    int level;
} last;

typedef struct walk {
    const gw_flow_inc *inc;
    gw_flow_find_fn find;
    void *find_user;
    gw_flow_ms *ms;
    last *l;
    char cur[256]; /* the incident of the last transition seen */
    ptrdiff_t row; /* its index, -1 when skipped */
    gw_status st;
} walk;

static int64_t parse_at(const char *at)
{
    int64_t t = 0;
    return at && gw_time_parse(NULL, at, "UTC", &t) == GW_OK ? t : -1;
}

static int on_step(void *user, int64_t seq, const gw_store_flow_step *t)
{
    (void)seq;
    walk *w = user;
    if (!t->incident) return 0;
    if (strcmp(t->incident, w->cur) != 0) {
        snprintf(w->cur, sizeof w->cur, "%s", t->incident);
        w->row = w->find(w->find_user, t->incident);
    }
    if (w->row < 0) return 0;
    gw_flow_ms *m = &w->ms[w->row];
    int64_t at = parse_at(t->at);
    gw_flow_action a;
    gw_flow_state s;
    if (at < 0 || gw_flow_action_parse(t->action, &a) || gw_flow_state_parse(t->to_state, &s)) {
        w->st = GW_ERR_DB; /* the trail holds what the flow never writes */
        return 1;
    }
    m->has_flow = 1;
    m->state = s;
    w->l[w->row] = (last){at, t->to_level};
    int64_t d = at - w->inc[w->row].reported;
    if (d < 0) d = 0;
    gw_flow_mark k = a == GW_FA_ACCEPT   ? GW_FM_ACCEPT
                     : a == GW_FA_ASSIGN ? GW_FM_ASSIGN
                     : a == GW_FA_ARRIVE ? GW_FM_ARRIVE
                     : a == GW_FA_CLOSE  ? GW_FM_CLOSE
                                         : GW_FM_COUNT;
    if (k != GW_FM_COUNT && m->t[k] < 0) m->t[k] = d;
    if (a == GW_FA_ESCALATE) m->escalated = 1;
    return 0;
}

gw_status gw_flow_milestones(gw_store *store, const gw_flow_inc *inc, size_t n,
                             gw_flow_find_fn find, void *find_user, const gw_flow_deadline *over,
                             size_t n_over, int64_t now, gw_flow_ms *ms)
{
    if (!store || (n && (!inc || !ms)) || !find) return GW_ERR_ARG;
    last *l = calloc(n ? n : 1, sizeof *l);
    if (!l) return GW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        ms[i] = (gw_flow_ms){.state = GW_FS_REPORTED};
        for (int k = 0; k < GW_FM_COUNT; k++) ms[i].t[k] = -1;
        l[i] = (last){inc[i].reported, inc[i].max_level};
    }
    walk w = {.inc = inc, .find = find, .find_user = find_user, .ms = ms, .l = l, .row = -1};
    gw_status st = gw_store_flow_history(store, NULL, on_step, &w);
    if (!st) st = w.st;
    for (size_t i = 0; !st && i < n; i++) {
        gw_flow_ms *m = &ms[i];
        if (!m->has_flow && inc[i].status && strcmp(inc[i].status, "closed") == 0)
            m->state = GW_FS_CLOSED;
        int64_t due = gw_flow_deadline_of(over, n_over, inc[i].category ? inc[i].category : "",
                                          l[i].level, m->state, l[i].at);
        m->overdue = due != 0 && due < now;
    }
    free(l);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double gw_flow_percentile(double *v, size_t n, double p)
{
    if (!n || !(p > 0) || p > 100) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t r = (size_t)ceil(p / 100.0 * (double)n); /* nearest rank, 1-based */
    if (r < 1) r = 1;
    return v[r - 1];
}

gw_status gw_flow_response_sum(const gw_flow_ms *ms, const ptrdiff_t *group, size_t n,
                               size_t n_groups, gw_flow_response *out)
{
    if ((n && (!ms || !group)) || (n_groups && !out)) return GW_ERR_ARG;
    memset(out, 0, n_groups * sizeof *out);
    /* the times of each (group, mark), laid out group by group through a counting pass */
    size_t *start = calloc(n_groups * GW_FM_COUNT + 1, sizeof *start);
    if (!start) return GW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0 || (size_t)group[i] >= n_groups) continue;
        gw_flow_response *g = &out[group[i]];
        g->incidents++;
        g->by_state[ms[i].state]++;
        g->overdue += ms[i].overdue != 0;
        g->escalated += ms[i].escalated != 0;
        for (int k = 0; k < GW_FM_COUNT; k++)
            if (ms[i].t[k] >= 0) g->reached[k]++, start[(size_t)group[i] * GW_FM_COUNT + k + 1]++;
    }
    for (size_t j = 1; j <= n_groups * GW_FM_COUNT; j++) start[j] += start[j - 1];
    size_t total = start[n_groups * GW_FM_COUNT];
    double *v = malloc((total ? total : 1) * sizeof *v);
    size_t *fill = calloc(n_groups * GW_FM_COUNT + 1, sizeof *fill);
    if (!v || !fill) {
        free(v), free(fill), free(start);
        return GW_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (group[i] < 0 || (size_t)group[i] >= n_groups) continue;
        for (int k = 0; k < GW_FM_COUNT; k++) {
            size_t b = (size_t)group[i] * GW_FM_COUNT + k;
            if (ms[i].t[k] >= 0) v[start[b] + fill[b]++] = (double)ms[i].t[k];
        }
    }
    for (size_t g = 0; g < n_groups; g++) {
        gw_flow_response *r = &out[g];
        for (int k = 0; k < GW_FM_COUNT; k++) {
            size_t b = g * GW_FM_COUNT + k, m = start[b + 1] - start[b];
            r->p90_s[k] = gw_flow_percentile(v + start[b], m, 90);
            r->median_s[k] = gw_flow_percentile(v + start[b], m, 50);
        }
        r->overdue_share = r->incidents ? (double)r->overdue / (double)r->incidents : NAN;
        r->escalation_rate = r->incidents ? (double)r->escalated / (double)r->incidents : NAN;
    }
    free(v), free(fill), free(start);
    return GW_OK;
}
