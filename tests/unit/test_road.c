/* test_road.c — the road layer and the routing graph on hand-built networks (geo/road,
 * store_roads.h): tag parsing (oneway, -1, roundabouts, maxspeed units), the store's round trip
 * on either engine, node cutting at shared vertices, snapping onto the middle of an arc, a
 * one-way street forcing the way round the block (declared 1 and declared -1 on the reversed
 * line), the direct drive along one arc, an unreachable source, and routes. */
#include "testutil.h"

#include "gridwatch/city.h"
#include "gridwatch/dispatch.h"
#include "gridwatch/io.h"
#include "gridwatch/model.h"
#include "gridwatch/road.h"
#include "gridwatch/store.h"
#include "gridwatch/store_changes.h"
#include "gridwatch/store_roads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gw_ctx *ctx;

/* ---- tags ------------------------------------------------------------------------------------ */

static void test_tags(void **state)
{
    (void)state;
    double v = -1;
    assert_int_equal(gw_road_parse_maxspeed("50", &v), GW_OK);
    assert_true(v == 50);
    assert_int_equal(gw_road_parse_maxspeed("30 mph", &v), GW_OK);
    assert_true(fabs(v - 48.28032) < 1e-9);
    assert_int_equal(gw_road_parse_maxspeed("30mph", &v), GW_OK);
    assert_int_equal(gw_road_parse_maxspeed("60 km/h", &v), GW_OK);
    assert_true(v == 60);
    assert_int_equal(gw_road_parse_maxspeed("none", &v), GW_OK);
    assert_true(v == 0);
    assert_int_equal(gw_road_parse_maxspeed("DE:urban", &v), GW_OK);
    assert_true(v == 0);
    assert_int_equal(gw_road_parse_maxspeed("40;60", &v), GW_OK);
    assert_true(v == 40);
    assert_int_equal(gw_road_parse_maxspeed("fast", &v), GW_ERR_FORMAT);
    assert_int_equal(gw_road_parse_maxspeed("", &v), GW_ERR_FORMAT);
    assert_int_equal(gw_road_parse_maxspeed("0", &v), GW_ERR_FORMAT);
    assert_int_equal(gw_road_parse_maxspeed("5000", &v), GW_ERR_FORMAT);
    assert_int_equal(gw_road_parse_maxspeed("50 furlongs", &v), GW_ERR_FORMAT);

    assert_int_equal(gw_road_parse_oneway("yes", NULL), 1);
    assert_int_equal(gw_road_parse_oneway("true", NULL), 1);
    assert_int_equal(gw_road_parse_oneway("1", NULL), 1);
    assert_int_equal(gw_road_parse_oneway("-1", NULL), -1);
    assert_int_equal(gw_road_parse_oneway("reverse", NULL), -1);
    assert_int_equal(gw_road_parse_oneway("no", NULL), 0);
    assert_int_equal(gw_road_parse_oneway(NULL, NULL), 0);
    assert_int_equal(gw_road_parse_oneway(NULL, "roundabout"), 1);
    assert_int_equal(gw_road_parse_oneway("no", "roundabout"), 0);
    assert_int_equal(gw_road_parse_oneway("reversible", NULL), 0);

    char buf[64];
    const char *tags = "\"oneway\"=>\"-1\",\"maxspeed\"=>\"30 mph\",\"name:en\"=>\"A \\\"B\\\"\"";
    assert_int_equal(gw_road_tag(tags, "oneway", buf, sizeof buf), 1);
    assert_string_equal(buf, "-1");
    assert_int_equal(gw_road_tag(tags, "maxspeed", buf, sizeof buf), 1);
    assert_string_equal(buf, "30 mph");
    assert_int_equal(gw_road_tag(tags, "name:en", buf, sizeof buf), 1);
    assert_string_equal(buf, "A \"B\"");
    assert_int_equal(gw_road_tag(tags, "junction", buf, sizeof buf), 0);
    assert_int_equal(gw_road_tag("\"oneway\"=>", "oneway", buf, sizeof buf), 0);

    assert_true(gw_road_default_speed("residential", NULL) == 30);
    assert_true(gw_road_default_speed("residential", "primary=70,residential=25") == 25);
    assert_true(gw_road_default_speed("nonesuch", NULL) == 25);
    assert_int_equal(gw_road_speeds_check(ctx, "primary=70,residential=25"), GW_OK);
    assert_int_equal(gw_road_speeds_check(ctx, "primary=fast"), GW_ERR_ARG);
    assert_int_equal(gw_road_speeds_check(ctx, "=5"), GW_ERR_ARG);
    assert_true(gw_road_class_drivable("residential") && !gw_road_class_drivable("footway"));
}

/* ---- a hand-built network ------------------------------------------------------------------- */

/* Lon/lat of a point x, y metres east and north of (116.0, 35.0), roughly. */
#define LON(x) (116.0 + (x) / 91000.0)
#define LAT(y) (35.0 + (y) / 111000.0)

typedef struct line {
    const char *id;
    int oneway;
    double kmh;
    double xy[8];
    int n;
} line;

static unsigned char *wkb_of(const line *l, size_t *len)
{
    *len = 9 + 16 * (size_t)l->n;
    unsigned char *w = malloc(*len);
    w[0] = 1;
    uint32_t t = 2, n = (uint32_t)l->n;
    memcpy(w + 1, &t, 4), memcpy(w + 5, &n, 4);
    for (int i = 0; i < l->n; i++) {
        double lon = LON(l->xy[2 * i]), lat = LAT(l->xy[2 * i + 1]);
        memcpy(w + 9 + 16 * i, &lon, 8), memcpy(w + 17 + 16 * i, &lat, 8);
    }
    return w;
}

static gw_store *store_with(const char *name, const line *lines, size_t n)
{
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db(name), GW_STORE_CREATE, &s), GW_OK);
    gw_store_road r[16];
    unsigned char *w[16];
    for (size_t i = 0; i < n; i++) {
        r[i] = (gw_store_road){.id = lines[i].id,
                               .cls = "residential",
                               .oneway = lines[i].oneway,
                               .speed_kmh = lines[i].kmh};
        w[i] = wkb_of(&lines[i], &r[i].wkb_len);
        r[i].wkb = w[i];
    }
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_insert(s, r, n), GW_OK);
    assert_int_equal(gw_store_roads_log(s, "roads.import", NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    for (size_t i = 0; i < n; i++) free(w[i]);
    return s;
}

/* A 100 m square block: south side west → east (one-way east when oneway_south), east, north,
 * west sides both ways, at 36 km/h (10 m/s); and a lone road 1 km away. */
static const line block[] = {
    {"south", 1, 36, {0, 0, 50, 0, 100, 0}, 3},   {"east", 0, 36, {100, 0, 100, 100}, 2},
    {"north", 0, 36, {100, 100, 0, 100}, 2},      {"west", 0, 36, {0, 100, 0, 0}, 2},
    {"lone", 0, 36, {1000, 1000, 1100, 1000}, 2},
};

static gw_road_graph *graph_of(gw_store *s)
{
    gw_road_graph *g = NULL;
    gw_road_graph_opts o = {.metric_srid = 32650};
    assert_int_equal(gw_road_graph_build(ctx, s, &o, &g), GW_OK);
    return g;
}

static void snap_at(const gw_road_graph *g, double x, double y, gw_road_snap *out)
{
    double mx, my;
    assert_int_equal(gw_road_graph_to_metric(ctx, g, LON(x), LAT(y), &mx, &my), GW_OK);
    assert_int_equal(gw_road_snap_point(g, mx, my, 0, out), GW_OK);
}

static void test_store_round_trip(void **state)
{
    (void)state;
    gw_store *s = store_with("rt", block, 5);
    int64_t n = 0, seq = 0;
    assert_int_equal(gw_store_roads_count(s, &n), GW_OK);
    assert_int_equal(n, 5);
    assert_int_equal(gw_store_changes_last(s, "roads", &seq), GW_OK);
    assert_true(seq > 0);
    /* a duplicate id is a conflict and a bad oneway an argument error */
    size_t len;
    unsigned char *w = wkb_of(&block[0], &len);
    gw_store_road r = {.id = "south", .cls = "residential", .wkb = w, .wkb_len = len};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_insert(s, &r, 1), GW_ERR_CONFLICT);
    gw_store_rollback(s);
    r.id = "other", r.oneway = 2;
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_insert(s, &r, 1), GW_ERR_ARG);
    gw_store_rollback(s);
    free(w);
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_clear(s, &n), GW_OK);
    assert_int_equal(n, 5);
    gw_store_rollback(s);
    assert_int_equal(gw_store_roads_count(s, &n), GW_OK);
    assert_int_equal(n, 5);
    gw_store_close(s);
}

static void test_graph_shape(void **state)
{
    (void)state;
    gw_store *s = store_with("shape", block, 5);
    gw_road_graph *g = graph_of(s);
    /* nodes: the four corners and the lone road's two ends (the south side's middle vertex
     * is no node: no other line shares it) */
    assert_int_equal(gw_road_graph_nodes(g), 6);
    assert_int_equal(gw_road_graph_arcs(g), 5);
    assert_int_equal(gw_road_graph_edges(g), 9); /* the one-way side gives one edge */
    gw_road_arc a;
    assert_int_equal(gw_road_graph_arc(g, 0, &a), GW_OK);
    assert_true(a.fwd && !a.bwd && a.npts == 3);
    assert_true(fabs(a.time_s - a.length_m / 10.0) < 1e-9);
    assert_true(fabs(a.length_m - 100) < 2); /* the degree sizes above are approximate */
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

static void test_snap_middle(void **state)
{
    (void)state;
    gw_store *s = store_with("snap", block, 5);
    gw_road_graph *g = graph_of(s);
    gw_road_snap p;
    snap_at(g, 50, -10, &p); /* 10 m south of the south side's middle */
    gw_road_arc a;
    gw_road_graph_arc(g, p.arc, &a);
    assert_int_equal(p.arc, 0);
    assert_true(fabs(p.frac - 0.5) < 0.01);
    assert_true(fabs(p.dist_m - 10) < 0.2);
    assert_true(fabs(p.to_s - 0.5 * a.time_s) < 0.01 * a.time_s);
    assert_true(p.from_s == -1); /* one-way: no driving back to the west corner */
    /* a limit nearer than the road: not found */
    double mx, my;
    gw_road_graph_to_metric(ctx, g, LON(50), LAT(-10), &mx, &my);
    assert_int_equal(gw_road_snap_point(g, mx, my, 5, &p), GW_ERR_NOT_FOUND);
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

/* The block's times: south T0, east T1, north T2, west T3. */
static void times(const gw_road_graph *g, double *t)
{
    for (size_t i = 0; i < 4; i++) {
        gw_road_arc a;
        gw_road_graph_arc(g, i, &a);
        t[i] = a.time_s;
    }
}

static void check_oneway(const line *lines)
{
    gw_store *s = store_with(lines[0].oneway < 0 ? "ow_minus" : "ow_plus", lines, 5);
    gw_road_graph *g = graph_of(s);
    gw_road_search *q = NULL;
    assert_int_equal(gw_road_search_create(ctx, g, &q), GW_OK);
    double t[4];
    times(g, t);
    gw_road_snap inc, team[3];
    snap_at(g, 10, 0, &inc);          /* the incident near the south-west corner */
    snap_at(g, 90, 0, &team[0]);      /* east of it on the one-way side: must go round */
    snap_at(g, 5, 0, &team[1]);       /* west of it: drives straight there */
    snap_at(g, 1050, 1000, &team[2]); /* on the lone road: unreachable */
    gw_road_eta e[3];
    size_t n = 0;
    assert_int_equal(gw_road_nearest(q, &inc, team, 3, 3, e, &n), GW_OK);
    assert_int_equal(n, 2); /* the unreachable team is not listed */
    assert_int_equal(e[0].source, 1);
    gw_road_arc south;
    gw_road_graph_arc(g, 0, &south);
    double direct = fabs(inc.frac - team[1].frac) * south.time_s;
    assert_true(fabs(e[0].eta_s - direct) < 1e-9);
    assert_int_equal(e[1].source, 0);
    /* round the block: to the south-east corner, east, north, west sides, then along south */
    double fi = lines[0].oneway < 0 ? 1 - inc.frac : inc.frac;
    double ft = lines[0].oneway < 0 ? 1 - team[0].frac : team[0].frac;
    double want = (1 - ft) * t[0] + t[1] + t[2] + t[3] + fi * t[0];
    assert_true(fabs(e[1].eta_s - want) < 1e-9);
    assert_true(e[1].route_m > 310 && e[1].route_m < 330);
    /* its route starts at the team, ends at the incident and goes by the north-east corner */
    double *c = NULL;
    size_t np = 0;
    assert_int_equal(gw_road_route(q, 0, &c, &np), GW_OK);
    assert_true(np >= 6);
    assert_true(fabs(c[0] - LON(90)) < 1e-6 && fabs(c[1] - LAT(0)) < 1e-6);
    assert_true(fabs(c[2 * np - 2] - LON(10)) < 1e-6 && fabs(c[2 * np - 1] - LAT(0)) < 1e-6);
    int corner = 0;
    for (size_t i = 0; i < np; i++)
        corner |= fabs(c[2 * i] - LON(100)) < 1e-9 && fabs(c[2 * i + 1] - LAT(100)) < 1e-9;
    assert_true(corner);
    free(c);
    assert_int_equal(gw_road_route(q, 2, &c, &np), GW_ERR_NOT_FOUND);
    /* the k-th stop: k = 1 settles only the nearest */
    assert_int_equal(gw_road_nearest(q, &inc, team, 3, 1, e, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].source, 1);
    /* going the allowed way is direct: from the incident's spot to the team east of it */
    double eta, rm;
    assert_int_equal(gw_road_eta_between(q, &inc, &team[0], &eta, &rm), GW_OK);
    assert_true(fabs(eta - fabs(team[0].frac - inc.frac) * south.time_s) < 1e-9);
    assert_int_equal(gw_road_eta_between(q, &team[2], &inc, &eta, &rm), GW_OK);
    assert_true(isinf(eta));
    /* times to every node, forwards from the incident */
    assert_int_equal(gw_road_times(q, &inc, 0, 0), GW_OK);
    gw_road_search_destroy(q);
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

static void test_oneway(void **state)
{
    (void)state;
    check_oneway(block);
}

/* The same street drawn east → west and tagged oneway=-1: still one-way eastwards. */
static void test_oneway_minus(void **state)
{
    (void)state;
    line l[5];
    memcpy(l, block, sizeof l);
    l[0] = (line){"south", -1, 36, {100, 0, 50, 0, 0, 0}, 3};
    check_oneway(l);
}

/* A roundabout (closed one-way ring) with two roads meeting it: a car goes round one way. */
static void test_roundabout(void **state)
{
    (void)state;
    line l[3] = {
        {"ring", gw_road_parse_oneway(NULL, "roundabout"), 36, {0, 0, 40, 40, 0, 80, -40, 40}, 4},
        {"in", 0, 36, {0, -100, 0, 0}, 2},
        {"out", 0, 36, {40, 40, 140, 40}, 2},
    };
    /* the ring closes through a second line back to its first point */
    line all[4] = {l[0], {"ring2", 1, 36, {-40, 40, 0, 0}, 2}, l[1], l[2]};
    gw_store *s = store_with("ring", all, 4);
    gw_road_graph *g = graph_of(s);
    gw_road_search *q = NULL;
    assert_int_equal(gw_road_search_create(ctx, g, &q), GW_OK);
    gw_road_snap a, b;
    snap_at(g, 0, -50, &a); /* on "in" */
    snap_at(g, 90, 40, &b); /* on "out" */
    double ab, ba, m;
    assert_int_equal(gw_road_eta_between(q, &a, &b, &ab, &m), GW_OK);
    assert_int_equal(gw_road_eta_between(q, &b, &a, &ba, &m), GW_OK);
    /* in → out takes the short quarter (0,0) → (40,40); out → in the long way round */
    assert_true(isfinite(ab) && isfinite(ba));
    assert_true(ba > ab + 10);
    gw_road_search_destroy(q);
    gw_road_graph_destroy(g);
    gw_store_close(s);
}

static void test_empty(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("empty"), GW_STORE_CREATE, &s), GW_OK);
    gw_road_graph *g = graph_of(s);
    assert_int_equal(gw_road_graph_nodes(g), 0);
    gw_road_snap p;
    assert_int_equal(gw_road_snap_point(g, 0, 0, 0, &p), GW_ERR_NOT_FOUND);
    gw_road_graph_destroy(g);
    /* the network rebuilds when roads arrive */
    gw_road_net *net = NULL;
    assert_int_equal(gw_road_net_create(ctx, s, &(gw_road_graph_opts){.metric_srid = 32650}, &net),
                     GW_OK);
    const gw_road_graph *cur = gw_road_net_acquire(net);
    assert_int_equal(gw_road_graph_arcs(cur), 0);
    size_t len;
    unsigned char *w = wkb_of(&block[1], &len);
    gw_store_road r = {.id = "x", .cls = "primary", .wkb = w, .wkb_len = len};
    assert_int_equal(gw_store_begin(s), GW_OK);
    assert_int_equal(gw_store_roads_insert(s, &r, 1), GW_OK);
    assert_int_equal(gw_store_roads_log(s, "roads.insert", NULL, NULL), GW_OK);
    assert_int_equal(gw_store_commit(s), GW_OK);
    free(w);
    int rebuilt = 0;
    assert_int_equal(gw_road_net_refresh(ctx, net, s, &rebuilt), GW_OK);
    assert_true(rebuilt);
    const gw_road_graph *now = gw_road_net_acquire(net);
    assert_int_equal(gw_road_graph_arcs(now), 1);
    assert_int_equal(gw_road_graph_arcs(cur), 0); /* the old one lives while held */
    gw_road_net_release(net, cur);
    gw_road_net_release(net, now);
    assert_int_equal(gw_road_net_refresh(ctx, net, s, &rebuilt), GW_OK);
    assert_false(rebuilt);
    gw_road_net_destroy(net);
    gw_store_close(s);
}

/* Dispatch by road on a city with more teams than the first candidate set (307 > 256): the
 * answer equals ranking every team, snapped the same way (within 500 m). */
static void test_dispatch_eta_exact(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("eta_city"), GW_STORE_CREATE, &s), GW_OK);
    gw_city_opts co = {.scale = 0.05, .seed = 3};
    assert_int_equal(gw_city_generate(ctx, s, &co, NULL), GW_OK);
    gw_model *m = NULL;
    gw_dispatch *d = NULL;
    gw_road_graph *g = NULL;
    gw_road_search *q = NULL, *q2 = NULL;
    assert_int_equal(gw_model_open(ctx, s, &m), GW_OK);
    assert_int_equal(gw_dispatch_create(ctx, m, NULL, &d), GW_OK);
    assert_int_equal(gw_road_graph_build(ctx, s, NULL, &g), GW_OK);
    assert_int_equal(gw_road_graph_srid(g), gw_model_metric_srid(m));
    assert_true(gw_road_graph_max_speed(g) > 16 && gw_road_graph_max_speed(g) < 17); /* 60 km/h */
    assert_int_equal(gw_road_search_create(ctx, g, &q), GW_OK);
    assert_int_equal(gw_road_search_create(ctx, g, &q2), GW_OK);
    gw_model_snapshot *sn = gw_model_acquire(m);
    const gw_layer_data *T = gw_snapshot_layer(sn, GW_LAYER_TEAMS);
    size_t nt = gw_layer_data_count(T), ns = 0;
    assert_true(nt > 256);
    const double *tx = gw_layer_data_x(T, GW_MODEL_METRIC),
                 *ty = gw_layer_data_y(T, GW_MODEL_METRIC);
    gw_road_snap *snaps = malloc(nt * sizeof *snaps);
    size_t *row = malloc(nt * sizeof *row);
    for (size_t i = 0; i < nt; i++)
        if (gw_road_snap_point(g, tx[i], ty[i], 500, &snaps[ns]) == GW_OK) row[ns++] = i;
    gw_bbox b;
    assert_int_equal(gw_store_extent(s, GW_LAYER_TEAMS, &b), GW_OK);
    uint64_t r = 12345;
    int full = 0;
    for (int i = 0; i < 60; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        double lon = b.minx + (b.maxx - b.minx) * (double)(r >> 11) / 9007199254740992.0;
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        double lat = b.miny + (b.maxy - b.miny) * (double)(r >> 11) / 9007199254740992.0;
        gw_nearest_opts o = {.k = 5, .include_stale = 1, .status_mask = ~0u};
        gw_team_eta e[5];
        gw_road_snap dest;
        size_t n = 0, lost = 0;
        gw_status st = gw_dispatch_nearest_eta(ctx, d, g, q, lon, lat, &o, 500, e, &n, &lost,
                                               &dest);
        if (st == GW_ERR_NOT_FOUND) continue; /* no road within 500 m */
        assert_int_equal(st, GW_OK);
        gw_road_eta w[5];
        size_t wn = 0;
        assert_int_equal(gw_road_nearest(q2, &dest, snaps, ns, 5, w, &wn), GW_OK);
        assert_int_equal(n, wn);
        for (size_t k = 0; k < n; k++) {
            assert_string_equal(e[k].team.id, gw_layer_data_id(T, row[w[k].source]));
            assert_true(fabs(e[k].eta_s - w[k].eta_s) < 1e-9);
        }
        full++;
    }
    assert_true(full > 20);
    free(snaps), free(row);
    gw_model_release(ctx, sn);
    gw_road_search_destroy(q), gw_road_search_destroy(q2);
    gw_road_graph_destroy(g);
    gw_dispatch_destroy(d);
    gw_model_close(m);
    gw_store_close(s);
}

/* A line file with a field map: Geofabrik-style F/T/B directions, speeds as text, a
 * MultiLineString split into parts, and a refused direction value stopping the import. */
static void test_import_field_map(void **state)
{
    (void)state;
    const char *path = gw_test_write(
        "lines.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"RID\":\"a\",\"KIND\":\"primary\",\"DIR\":\"F\","
        "\"LIMIT\":\"30 mph\",\"NAME\":\"Main\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[116,35],[116.001,35]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"RID\":\"b\",\"KIND\":\"residential\",\"DIR\":\"T\","
        "\"LIMIT\":\"0\"},\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":"
        "[[[116,35],[116,35.001]],[[116.001,35],[116.001,35.001]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"RID\":\"c\",\"KIND\":\"service\",\"DIR\":\"B\"},"
        "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[116,35.001],[116.001,35.001]]}}]}");
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("fmap"), GW_STORE_CREATE, &s), GW_OK);
    gw_import_opts o = {.map = "id=RID,class=KIND,oneway=DIR,speed=LIMIT,name=NAME"};
    gw_import_report rep;
    assert_int_equal(gw_io_import_roads(ctx, s, path, &o, &rep), GW_OK);
    assert_int_equal(rep.imported, 4);
    gw_road_graph *g = graph_of(s);
    assert_int_equal(gw_road_graph_arcs(g), 4);
    assert_int_equal(gw_road_graph_nodes(g), 4); /* a square: its four corners */
    gw_road_arc a;
    assert_int_equal(gw_road_graph_arc(g, 0, &a), GW_OK); /* "a": forward only, 30 mph */
    assert_true(a.fwd && !a.bwd);
    assert_true(fabs(a.time_s - a.length_m / (30 * 1.609344 / 3.6)) < 1e-9);
    assert_int_equal(gw_road_graph_arc(g, 1, &a), GW_OK); /* "b": backward only, 30 km/h */
    assert_true(!a.fwd && a.bwd);
    assert_true(fabs(a.time_s - a.length_m / (30 / 3.6)) < 1e-9);
    assert_int_equal(gw_road_graph_arc(g, 3, &a), GW_OK); /* "c": both ways, service 20 km/h */
    assert_true(a.fwd && a.bwd);
    gw_road_graph_destroy(g);
    /* a direction value nothing knows stops the whole import; nothing is written */
    const char *bad = gw_test_write(
        "bad.geojson",
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{"
        "\"RID\":\"z\",\"DIR\":\"sideways\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[116,35],[116.002,35]]}}]}");
    o.map = "id=RID,oneway=DIR";
    assert_int_equal(gw_io_import_roads(ctx, s, bad, &o, &rep), GW_ERR_FORMAT);
    assert_non_null(strstr(gw_ctx_errmsg(ctx), "sideways"));
    int64_t n = 0;
    assert_int_equal(gw_store_roads_count(s, &n), GW_OK);
    assert_int_equal(n, 4);
    /* --replace empties the layer first, in the same transaction */
    o = (gw_import_opts){.map = "id=RID,class=KIND", .replace = 1};
    assert_int_equal(gw_io_import_roads(ctx, s, path, &o, &rep), GW_OK);
    assert_int_equal(gw_store_roads_count(s, &n), GW_OK);
    assert_int_equal(n, 4);
    gw_store_close(s);
}

/* ---- the real OpenStreetMap extracts (group --real) ---------------------------------------- */

static int real_row(void *user, const gw_store_road *r)
{
    int *seen = user;
    if (strcmp(r->id, "75415272") == 0) {
        assert_int_equal(r->oneway, 1);
        assert_string_equal(r->cls, "tertiary");
        *seen |= 1;
    } else if (strcmp(r->id, "75371465") == 0) {
        assert_int_equal(r->oneway, 1);
        assert_true(r->speed_kmh == 50);
        *seen |= 2;
    } else if (strcmp(r->cls, "residential") == 0 && r->oneway == 0 && isnan(r->speed_kmh)) {
        *seen |= 4;
    }
    return 0;
}

static void test_real_osm(void **state)
{
    (void)state;
    gw_store *s = NULL;
    assert_int_equal(gw_store_open(ctx, gw_test_db("agu"), GW_STORE_CREATE, &s), GW_OK);
    gw_import_report rep;
    assert_int_equal(gw_io_import_roads(ctx, s, gw_test_real_file("osm/aguascalientes.osm.pbf"),
                                        NULL, &rep),
                     GW_OK);
    /* 674 lines carry a highway tag; footways, steps, pedestrian streets and the like stay out */
    assert_int_equal(rep.imported, 583);
    gw_road_graph *g = NULL;
    assert_int_equal(gw_road_graph_build(ctx, s, NULL, &g), GW_OK);
    assert_int_equal(gw_road_graph_srid(g), 32613);              /* UTM 13N */
    assert_true(gw_road_graph_edges(g) > gw_road_graph_arcs(g)); /* some one-way, most not */
    assert_true(gw_road_graph_edges(g) < 2 * gw_road_graph_arcs(g));
    /* a roundabout way without an oneway tag (75415272) is one-way; a maxspeed=50 one-way
     * (75371465) keeps its limit; a residential street without tags is two-way at NULL speed */
    int seen = 0;
    assert_int_equal(gw_store_roads_read(s, real_row, &seen), GW_OK);
    assert_int_equal(seen, 7);
    gw_road_graph_destroy(g);
    gw_store_close(s);
    assert_int_equal(gw_store_open(ctx, gw_test_db("oak"), GW_STORE_CREATE, &s), GW_OK);
    assert_int_equal(gw_io_import_roads(ctx, s, gw_test_real_file("osm/west-oakland.osm"), NULL,
                                        &rep),
                     GW_OK);
    assert_int_equal(rep.imported, 23);
    gw_store_close(s);
}

int main(int argc, char **argv)
{
    ctx = gw_test_ctx();
    const char *group = gw_test_group(argc, argv);
    if (strcmp(group, "--real") == 0) {
        static const char *const need[] = {"osm/aguascalientes.osm.pbf", "osm/west-oakland.osm",
                                           NULL};
        if (!gw_test_need_real(need)) return GW_TEST_SKIPPED;
        const struct CMUnitTest real[] = {cmocka_unit_test(test_real_osm)};
        int rc = cmocka_run_group_tests(real, NULL, NULL);
        gw_ctx_destroy(ctx);
        return rc;
    }
    if (*group) return gw_test_bad_group(group);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_store_round_trip),
        cmocka_unit_test(test_graph_shape),
        cmocka_unit_test(test_snap_middle),
        cmocka_unit_test(test_oneway),
        cmocka_unit_test(test_oneway_minus),
        cmocka_unit_test(test_roundabout),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_dispatch_eta_exact),
        cmocka_unit_test(test_import_field_map),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
