/* test_tilecache.c — the tile cache: blobs (gzip round trip, ETag), LRU eviction by byte
 * budget, keys that include filters, bbox invalidation that drops exactly the touched tiles,
 * refusal of tiles built before a touching change, and a few threads hammering it. */
#include "testutil.h"

#include "gridwatch/tilecache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static gw_ctx *ctx;

static gw_tile_blob *blob_of(const char *s, int64_t version)
{
    gw_tile_blob *b = NULL;
    assert_int_equal(gw_tile_blob_create(ctx, (const uint8_t *)s, strlen(s), version, &b), GW_OK);
    return b;
}

static void put(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter, const char *s,
                int64_t v)
{
    gw_tile_blob *b = blob_of(s, v);
    assert_true(gw_tile_cache_put(c, layer, t, filter, b));
    gw_tile_blob_release(b);
}

static int has(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter)
{
    gw_tile_blob *b = gw_tile_cache_get(c, layer, t, filter);
    gw_tile_blob_release(b);
    return b != NULL;
}

static void test_blob(void **state)
{
    (void)state;
    char raw[5000];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (char)('a' + i % 7);
    gw_tile_blob *b = NULL;
    assert_int_equal(gw_tile_blob_create(ctx, (const uint8_t *)raw, sizeof raw, 7, &b), GW_OK);
    assert_int_equal(b->raw_len, sizeof raw);
    assert_memory_equal(b->raw, raw, sizeof raw);
    assert_non_null(b->gz);
    assert_true(b->gz_len < sizeof raw / 4);
    assert_int_equal(b->gz[0], 0x1f); /* gzip magic */
    assert_int_equal(b->gz[1], 0x8b);
    /* inflate it back */
    char back[6000];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK);
    zs.next_in = (Bytef *)b->gz, zs.avail_in = (uInt)b->gz_len;
    zs.next_out = (Bytef *)back, zs.avail_out = sizeof back;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, sizeof raw);
    inflateEnd(&zs);
    assert_memory_equal(back, raw, sizeof raw);
    assert_int_equal(strlen(b->etag), 18);
    assert_int_equal(b->etag[0], '"');
    /* same bytes, same ETag; other bytes, another */
    gw_tile_blob *b2 = NULL, *b3 = NULL;
    assert_int_equal(gw_tile_blob_create(ctx, (const uint8_t *)raw, sizeof raw, 9, &b2), GW_OK);
    raw[10] ^= 1;
    assert_int_equal(gw_tile_blob_create(ctx, (const uint8_t *)raw, sizeof raw, 9, &b3), GW_OK);
    assert_string_equal(b->etag, b2->etag);
    assert_string_not_equal(b->etag, b3->etag);
    gw_tile_blob_release(b), gw_tile_blob_release(b2), gw_tile_blob_release(b3);
    /* empty tile: no gzip */
    assert_int_equal(gw_tile_blob_create(ctx, (const uint8_t *)"", 0, 1, &b), GW_OK);
    assert_null(b->gz);
    assert_int_equal(b->raw_len, 0);
    gw_tile_blob_release(b);
    gw_tile_blob_release(NULL);
}

static void test_lru_budget(void **state)
{
    (void)state;
    gw_tile_cache *c = NULL;
    assert_int_equal(gw_tile_cache_create(ctx, 0, &c), GW_ERR_ARG);
    /* each entry costs ~1000 bytes of text (incompressible-ish) + gzip + overhead */
    assert_int_equal(gw_tile_cache_create(ctx, 10000, &c), GW_OK);
    char s[1001];
    unsigned seed = 1;
    for (int i = 0; i < 1000; i++) s[i] = (char)(33 + (seed = seed * 1103515245 + 12345) % 90);
    s[1000] = '\0';
    for (uint32_t i = 0; i < 20; i++) {
        s[0] = (char)('A' + i);
        put(c, 1, (gw_tile_id){10, i, 0}, "", s, 1);
        if (i == 3)
            assert_true(has(c, 1, (gw_tile_id){10, 0, 0}, "")); /* touch tile 0: most recent */
    }
    gw_tile_cache_stats st = gw_tile_cache_get_stats(c);
    assert_true(st.bytes <= 10000);
    assert_true(st.entries >= 3 && st.entries < 10);
    assert_true(st.evictions > 0);
    assert_int_equal(st.entries + st.evictions, 20);
    /* the newest stay, the oldest went */
    assert_true(has(c, 1, (gw_tile_id){10, 19, 0}, ""));
    assert_true(has(c, 1, (gw_tile_id){10, 18, 0}, ""));
    assert_false(has(c, 1, (gw_tile_id){10, 1, 0}, ""));
    assert_false(has(c, 1, (gw_tile_id){10, 5, 0}, ""));
    /* a blob larger than the budget is refused */
    char *big = malloc(30001);
    for (int i = 0; i < 30000; i++) big[i] = (char)(33 + (seed = seed * 1103515245 + 12345) % 90);
    big[30000] = '\0';
    gw_tile_blob *b = blob_of(big, 1);
    assert_false(gw_tile_cache_put(c, 1, (gw_tile_id){10, 99, 0}, "", b));
    gw_tile_blob_release(b);
    free(big);
    gw_tile_cache_destroy(c);
    gw_tile_cache_destroy(NULL);
}

static void test_key_filters(void **state)
{
    (void)state;
    gw_tile_cache *c = NULL;
    assert_int_equal(gw_tile_cache_create(ctx, 1 << 20, &c), GW_OK);
    gw_tile_id t = {12, 3000, 1500};
    put(c, 4, t, "", "all", 5);
    put(c, 4, t, "category=theft", "theft", 5);
    gw_tile_blob *b = gw_tile_cache_get(c, 4, t, "category=theft");
    assert_non_null(b);
    assert_memory_equal(b->raw, "theft", 5);
    assert_int_equal(b->version, 5);
    gw_tile_blob_release(b);
    b = gw_tile_cache_get(c, 4, t, "");
    assert_memory_equal(b->raw, "all", 3);
    gw_tile_blob_release(b);
    assert_false(has(c, 4, t, "category=fraud"));
    assert_false(has(c, 3, t, ""));                            /* another layer */
    assert_false(has(c, 4, (gw_tile_id){12, 3000, 1501}, "")); /* another tile */
    /* replacing keeps one entry */
    put(c, 4, t, "", "all2", 6);
    assert_int_equal(gw_tile_cache_get_stats(c).entries, 2);
    gw_tile_cache_destroy(c);
}

/* Tiles of a z14 block; a change box inside one tile (away from its edges) touches that tile
 * only (the buffer is 64/4096 of a tile); a box on a shared corner touches the four around it. */
static void test_invalidate_exact(void **state)
{
    (void)state;
    gw_tile_cache *c = NULL;
    assert_int_equal(gw_tile_cache_create(ctx, 1 << 24, &c), GW_OK);
    const uint32_t z = 14, x0 = 13000, y0 = 6500;
    for (uint32_t dx = 0; dx < 6; dx++)
        for (uint32_t dy = 0; dy < 6; dy++) {
            gw_tile_id t = {z, x0 + dx, y0 + dy};
            put(c, 0, t, "", "grid tile", 10);
            put(c, 6, t, "", "city tile", 10);
            put(c, 4, t, "", "incident tile", 10);
        }
    gw_tile_id mid = {z, x0 + 2, y0 + 2};
    gw_bbox tb = gw_tile_bounds(mid);
    double w = tb.maxx - tb.minx;
    gw_tile_change ch = {1u << 0 | 1u << 6,
                         true,
                         {tb.minx + w * 0.3, tb.miny + w * 0.3, tb.minx + w * 0.6,
                          tb.miny + w * 0.6}};
    assert_int_equal(gw_tile_cache_invalidate(c, &ch, 1, 11, 64), 2); /* grids + city of one tile */
    assert_false(has(c, 0, mid, ""));
    assert_false(has(c, 6, mid, ""));
    assert_true(has(c, 4, mid, "")); /* another layer: kept */
    for (uint32_t dx = 0; dx < 6; dx++)
        for (uint32_t dy = 0; dy < 6; dy++)
            if (dx != 2 || dy != 2) {
                assert_true(has(c, 0, (gw_tile_id){z, x0 + dx, y0 + dy}, ""));
                assert_true(has(c, 6, (gw_tile_id){z, x0 + dx, y0 + dy}, ""));
            }
    /* a point inside the buffer of the neighbour: 20 units (of 4096) left of mid's east edge */
    double unit = w / 4096;
    gw_tile_change edge = {1u << 0,
                           true,
                           {tb.maxx - 20 * unit, tb.miny + w / 2, tb.maxx - 20 * unit,
                            tb.miny + w / 2}};
    put(c, 0, mid, "", "grid tile", 11);
    assert_int_equal(gw_tile_cache_invalidate(c, &edge, 1, 12, 64),
                     2); /* mid and its east neighbour */
    assert_false(has(c, 0, (gw_tile_id){z, x0 + 3, y0 + 2}, ""));
    assert_true(has(c, 0, (gw_tile_id){z, x0 + 1, y0 + 2}, ""));
    /* a change without a box drops the whole layer, nothing else */
    gw_tile_change all = {1u << 4, false, {0, 0, 0, 0}};
    assert_int_equal(gw_tile_cache_invalidate(c, &all, 1, 13, 64), 36);
    assert_false(has(c, 4, (gw_tile_id){z, x0, y0}, ""));
    assert_true(has(c, 6, (gw_tile_id){z, x0, y0}, ""));
    assert_int_equal(gw_tile_cache_get_stats(c).invalidated, 40);
    gw_tile_cache_destroy(c);
}

/* A tile built from a snapshot older than a change touching it is refused; untouched or newer
 * ones are kept. */
static void test_refuse_stale(void **state)
{
    (void)state;
    gw_tile_cache *c = NULL;
    assert_int_equal(gw_tile_cache_create(ctx, 1 << 20, &c), GW_OK);
    gw_tile_id t = {10, 800, 400}, far = {10, 100, 100};
    gw_bbox tb = gw_tile_bounds(t);
    gw_tile_change ch = {1u << 0, true, tb};
    gw_tile_cache_invalidate(c, &ch, 1, 20, 64);
    gw_tile_blob *old = blob_of("old", 19), *cur = blob_of("cur", 20);
    assert_false(gw_tile_cache_put(c, 0, t, "", old));  /* stale: built before seq 20 */
    assert_true(gw_tile_cache_put(c, 1, t, "", old));   /* the change was not on layer 1 */
    assert_true(gw_tile_cache_put(c, 0, far, "", old)); /* far from the change */
    assert_true(gw_tile_cache_put(c, 0, t, "", cur));
    assert_int_equal(gw_tile_cache_get_stats(c).refused, 1);
    gw_tile_blob_release(old), gw_tile_blob_release(cur);
    gw_tile_cache_destroy(c);
}

typedef struct worker {
    gw_tile_cache *c;
    int id, hits;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    gw_ctx *wctx = NULL;
    gw_ctx_create(&wctx);
    char s[64];
    for (int i = 0; i < 3000; i++) {
        gw_tile_id t = {12, (uint32_t)(i % 97), (uint32_t)w->id};
        gw_tile_blob *b = gw_tile_cache_get(w->c, 4, t, "");
        if (b) {
            w->hits += b->raw_len > 0 && b->raw[0] == 'T';
            gw_tile_blob_release(b);
        } else {
            snprintf(s, sizeof s, "T%d-%d", w->id, i);
            gw_tile_blob *nb = NULL;
            if (gw_tile_blob_create(wctx, (const uint8_t *)s, strlen(s), i, &nb) == GW_OK) {
                gw_tile_cache_put(w->c, 4, t, "", nb);
                gw_tile_blob_release(nb);
            }
        }
        if (i % 500 == 0) {
            gw_tile_change ch = {1u << 4, true,
                                 gw_tile_bounds((gw_tile_id){12, 5, (uint32_t)w->id})};
            gw_tile_cache_invalidate(w->c, &ch, 1, i, 64);
        }
    }
    gw_ctx_destroy(wctx);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    gw_tile_cache *c = NULL;
    assert_int_equal(gw_tile_cache_create(ctx, 40000, &c), GW_OK); /* small: evictions happen */
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){c, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    int hits = 0;
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL), hits += w[i].hits;
    gw_tile_cache_stats st = gw_tile_cache_get_stats(c);
    assert_true(st.bytes <= 40000);
    assert_int_equal(st.hits, (uint64_t)hits);
    assert_int_equal(st.hits + st.misses, 12000);
    assert_true(st.hits > 0 && st.evictions > 0);
    gw_tile_cache_destroy(c);
}

int main(void)
{
    ctx = gw_test_ctx();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blob),         cmocka_unit_test(test_lru_budget),
        cmocka_unit_test(test_key_filters),  cmocka_unit_test(test_invalidate_exact),
        cmocka_unit_test(test_refuse_stale), cmocka_unit_test(test_threads),
    };
    int rc = cmocka_run_group_tests_name("tilecache", tests, NULL, NULL);
    gw_ctx_destroy(ctx);
    return rc;
}
