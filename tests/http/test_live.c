/* test_live.c — the live model: a commit by another connection reaches the shared model and
 * the listeners, in order, and gw_live_wait returns once it has. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gridwatch/edit.h"
#include "gridwatch/store.h"
#include "live.h"

static int calls;
static int64_t last_seq;
static char last_id[64];
static gw_layer last_layer;
static size_t teams_seen;

static void on_change(void *user, gw_ctx *ctx, const gw_change *ch, size_t n,
                      gw_model_snapshot *snap)
{
    (void)user;
    (void)ctx;
    calls++;
    for (size_t i = 0; i < n; i++) {
        assert_true(ch[i].seq > last_seq); /* strictly in order, never twice */
        last_seq = ch[i].seq;
        last_layer = ch[i].layer;
        snprintf(last_id, sizeof last_id, "%s", ch[i].feature_id ? ch[i].feature_id : "");
    }
    teams_seen = gw_layer_data_count(gw_snapshot_layer(snap, GW_LAYER_TEAMS));
}

static void test_commit_reaches_model_and_listeners(void **state)
{
    (void)state;
    gw_ctx *ctx = gw_test_ctx();
    const char *db = gw_test_db("live.db");
    gw_store *w = NULL;
    assert_int_equal(gw_store_open(ctx, db, GW_STORE_CREATE, &w), GW_OK);
    gw_live *live = NULL;
    assert_int_equal(gw_live_create(ctx, db, 50, &live), GW_OK);
    assert_int_equal(gw_live_listen(live, on_change, NULL), GW_OK);
    int64_t seq0 = gw_live_seq(live);

    const char *team =
        "{\"type\":\"Feature\",\"id\":\"T1\",\"properties\":{\"name\":\"一组\",\"status\":\"available\"},"
        "\"geometry\":{\"type\":\"Point\",\"coordinates\":[115.48,35.24]}}";
    gw_edit_result r = {0};
    assert_int_equal(gw_edit_insert(w, GW_LAYER_TEAMS, team, strlen(team), NULL, &r), GW_OK);
    assert_true(r.seq > seq0);
    assert_true(gw_live_wait(live, r.seq, 5000));
    assert_true(gw_live_seq(live) >= r.seq);
    assert_int_equal(last_seq, r.seq);
    assert_int_equal(last_layer, GW_LAYER_TEAMS);
    assert_string_equal(last_id, "T1");
    assert_int_equal(teams_seen, 1);
    gw_model_snapshot *snap = gw_model_acquire(gw_live_model(live));
    const gw_layer_data *d = gw_snapshot_layer(snap, GW_LAYER_TEAMS);
    assert_true(gw_layer_data_find(d, "T1") >= 0);
    gw_model_release(ctx, snap);
    gw_edit_result_free(&r);

    /* A second write: the listener sees only the new change. */
    int before = calls;
    gw_edit_result r2 = {0};
    assert_int_equal(gw_edit_delete(w, GW_LAYER_TEAMS, "T1", NULL, &r2), GW_OK);
    assert_true(gw_live_wait(live, r2.seq, 5000));
    assert_int_equal(calls, before + 1);
    assert_int_equal(teams_seen, 0);
    gw_edit_result_free(&r2);

    /* Nothing more to see: a wait for a future seq times out. */
    assert_false(gw_live_wait(live, r2.seq + 100, 200));
    gw_live_destroy(live);
    gw_store_close(w);
    gw_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_commit_reaches_model_and_listeners)};
    return cmocka_run_group_tests_name("live", tests, NULL, NULL);
}
