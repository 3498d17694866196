/* tilecache.c — the tile cache: a hash table plus an LRU list under one mutex, a byte budget,
 * and bbox invalidation.  Lookups hold the lock for a hash probe and a list splice only; the
 * tile bytes live in reference-counted blobs so a reader never copies under the lock.
 * A ring of recent invalidations lets put() refuse tiles built before a change touching them. */
#include "gridwatch/tilecache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define RING 1024         /* recent invalidations remembered for put()'s staleness check */
#define ENTRY_OVERHEAD 96 /* per-entry bookkeeping counted against the budget */

struct blob_full {
    gw_tile_blob pub;
    int refs;
    uint8_t data[]; /* raw bytes, then gz bytes */
};

typedef struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU list: head = most recent */
    uint64_t h;
    unsigned layer;
    gw_tile_id t;
    gw_tile_blob *blob;
    size_t cost;
    char filter[]; /* NUL-terminated */
} entry;

typedef struct inval {
    int64_t seq;
    uint32_t buffer;
    gw_tile_change ch;
} inval;

struct gw_tile_cache {
    pthread_mutex_t lock;
    entry **buckets;
    size_t nbuckets; /* power of two */
    entry *head, *tail;
    size_t entries, bytes, budget;
    inval ring[RING];
    size_t ring_n, ring_next;
    int64_t lost_seq; /* highest seq of an invalidation pushed out of the ring */
    gw_tile_cache_stats st;
};

/* ---- blobs ------------------------------------------------------------------------------- */

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

gw_status gw_tile_blob_create(gw_ctx *ctx, const uint8_t *raw, size_t len, int64_t version,
                              gw_tile_blob **out)
{
    *out = NULL;
    uint8_t *gz = NULL;
    size_t gzlen = 0;
    if (len) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return gw_ctx_error(ctx, GW_ERR_INTERNAL, "zlib: deflateInit2 failed");
        uLong cap = deflateBound(&zs, (uLong)len) + 32;
        gz = malloc(cap);
        if (!gz) {
            deflateEnd(&zs);
            return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory gzipping a %zu-byte tile", len);
        }
        zs.next_in = (Bytef *)raw;
        zs.avail_in = (uInt)len;
        zs.next_out = gz;
        zs.avail_out = (uInt)cap;
        int rc = deflate(&zs, Z_FINISH);
        gzlen = zs.total_out;
        deflateEnd(&zs);
        if (rc != Z_STREAM_END) {
            free(gz);
            return gw_ctx_error(ctx, GW_ERR_INTERNAL,
                                "zlib: deflate of a %zu-byte tile failed (%d)", len, rc);
        }
    }
    struct blob_full *b = malloc(sizeof *b + len + gzlen);
    if (!b) {
        free(gz);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory keeping a %zu-byte tile", len);
    }
    if (len) memcpy(b->data, raw, len);
    if (gzlen) memcpy(b->data + len, gz, gzlen);
    free(gz);
    b->refs = 1;
    b->pub.raw = b->data;
    b->pub.raw_len = len;
    b->pub.gz = gzlen ? b->data + len : NULL;
    b->pub.gz_len = gzlen;
    b->pub.version = version;
    static const char hex[] = "0123456789abcdef";
    uint64_t h = fnv1a(raw, len, 0xcbf29ce484222325ULL);
    b->pub.etag[0] = '"';
    for (int i = 0; i < 16; i++) b->pub.etag[1 + i] = hex[(h >> (60 - 4 * i)) & 15];
    b->pub.etag[17] = '"';
    b->pub.etag[18] = '\0';
    *out = &b->pub;
    return GW_OK;
}

gw_tile_blob *gw_tile_blob_retain(gw_tile_blob *b)
{
    if (b) __atomic_fetch_add(&((struct blob_full *)b)->refs, 1, __ATOMIC_RELAXED);
    return b;
}

void gw_tile_blob_release(gw_tile_blob *b)
{
    if (b && __atomic_sub_fetch(&((struct blob_full *)b)->refs, 1, __ATOMIC_ACQ_REL) == 0) free(b);
}

/* ---- the table --------------------------------------------------------------------------- */

gw_status gw_tile_cache_create(gw_ctx *ctx, size_t budget_bytes, gw_tile_cache **out)
{
    *out = NULL;
    if (!budget_bytes)
        return gw_ctx_error(ctx, GW_ERR_ARG, "tile cache budget must be above 0 bytes");
    gw_tile_cache *c = calloc(1, sizeof *c);
    if (c) c->buckets = calloc(1024, sizeof *c->buckets);
    if (!c || !c->buckets) {
        free(c);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory creating the tile cache");
    }
    c->nbuckets = 1024;
    c->budget = budget_bytes;
    c->lost_seq = -1;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return GW_OK;
}

void gw_tile_cache_destroy(gw_tile_cache *c)
{
    if (!c) return;
    for (entry *e = c->head, *n; e; e = n) {
        n = e->next;
        gw_tile_blob_release(e->blob);
        free(e);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

static uint64_t key_hash(unsigned layer, gw_tile_id t, const char *filter)
{
    uint64_t k[2] = {(uint64_t)layer << 40 | (uint64_t)t.z << 32 | t.x, t.y};
    uint64_t h = fnv1a(k, sizeof k, 0xcbf29ce484222325ULL);
    h = fnv1a(filter, strlen(filter), h);
    return h ^ (h >> 29);
}

static entry **find_slot(gw_tile_cache *c, uint64_t h, unsigned layer, gw_tile_id t,
                         const char *filter)
{
    entry **pp = &c->buckets[h & (c->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        entry *e = *pp;
        if (e->h == h && e->layer == layer && e->t.z == t.z && e->t.x == t.x && e->t.y == t.y &&
            strcmp(e->filter, filter) == 0)
            return pp;
    }
    return pp;
}

static void lru_unlink(gw_tile_cache *c, entry *e)
{
    if (e->prev) e->prev->next = e->next;
    else c->head = e->next;
    if (e->next) e->next->prev = e->prev;
    else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(gw_tile_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (!c->tail) c->tail = e;
}

/* Remove e from the table and the list and free it (its blob reference is dropped). */
static void remove_entry(gw_tile_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->h & (c->nbuckets - 1)];
    while (*pp && *pp != e) pp = &(*pp)->hnext;
    if (*pp) *pp = e->hnext;
    lru_unlink(c, e);
    c->entries--;
    c->bytes -= e->cost;
    gw_tile_blob_release(e->blob);
    free(e);
}

static void grow(gw_tile_cache *c)
{
    size_t nb = c->nbuckets * 2;
    entry **b = calloc(nb, sizeof *b);
    if (!b) return; /* longer chains, still correct */
    for (size_t i = 0; i < c->nbuckets; i++)
        for (entry *e = c->buckets[i], *n; e; e = n) {
            n = e->hnext;
            e->hnext = b[e->h & (nb - 1)];
            b[e->h & (nb - 1)] = e;
        }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

gw_tile_blob *gw_tile_cache_get(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter)
{
    if (!filter) filter = "";
    uint64_t h = key_hash(layer, t, filter);
    pthread_mutex_lock(&c->lock);
    entry *e = *find_slot(c, h, layer, t, filter);
    gw_tile_blob *b = NULL;
    if (e) {
        if (c->head != e) {
            lru_unlink(c, e);
            lru_push_front(c, e);
        }
        b = gw_tile_blob_retain(e->blob);
        c->st.hits++;
    } else {
        c->st.misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return b;
}

static int boxes_touch(const gw_bbox *a, const gw_bbox *b)
{
    return a->minx <= b->maxx && a->maxx >= b->minx && a->miny <= b->maxy && a->maxy >= b->miny;
}

static int change_hits(const gw_tile_change *ch, uint32_t buffer, unsigned layer, gw_tile_id t)
{
    if (!(ch->layers & (1u << layer))) return 0;
    if (!ch->has_box) return 1;
    gw_bbox tb = gw_tile_bounds_buffered(t, GW_TILE_EXTENT, buffer);
    return boxes_touch(&tb, &ch->box);
}

bool gw_tile_cache_put(gw_tile_cache *c, unsigned layer, gw_tile_id t, const char *filter,
                       gw_tile_blob *b)
{
    if (!filter) filter = "";
    size_t flen = strlen(filter);
    size_t cost = b->raw_len + b->gz_len + flen + ENTRY_OVERHEAD;
    uint64_t h = key_hash(layer, t, filter);
    pthread_mutex_lock(&c->lock);
    int stale = cost > c->budget || b->version < c->lost_seq;
    for (size_t i = 0; !stale && i < c->ring_n; i++) {
        const inval *iv = &c->ring[i];
        if (iv->seq > b->version && change_hits(&iv->ch, iv->buffer, layer, t)) stale = 1;
    }
    if (stale) {
        c->st.refused++;
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    entry **pp = find_slot(c, h, layer, t, filter);
    if (*pp) remove_entry(c, *pp);
    entry *e = malloc(sizeof *e + flen + 1);
    if (!e) {
        c->st.refused++;
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    e->h = h;
    e->layer = layer;
    e->t = t;
    e->blob = gw_tile_blob_retain(b);
    e->cost = cost;
    memcpy(e->filter, filter, flen + 1);
    while (c->bytes + cost > c->budget && c->tail) {
        remove_entry(c, c->tail);
        c->st.evictions++;
    }
    if (c->entries >= c->nbuckets) grow(c);
    size_t bi = h & (c->nbuckets - 1);
    e->hnext = c->buckets[bi];
    c->buckets[bi] = e;
    lru_push_front(c, e);
    c->entries++;
    c->bytes += cost;
    c->st.inserts++;
    pthread_mutex_unlock(&c->lock);
    return true;
}

size_t gw_tile_cache_invalidate(gw_tile_cache *c, const gw_tile_change *changes, size_t n,
                                int64_t seq, uint32_t buffer)
{
    size_t dropped = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        inval *slot = &c->ring[c->ring_next];
        if (c->ring_n == RING && slot->seq > c->lost_seq) c->lost_seq = slot->seq;
        *slot = (inval){seq, buffer, changes[i]};
        c->ring_next = (c->ring_next + 1) % RING;
        if (c->ring_n < RING) c->ring_n++;
    }
    uint32_t mask = 0;
    for (size_t i = 0; i < n; i++) mask |= changes[i].layers;
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        if (!(mask & (1u << e->layer))) continue;
        gw_bbox tb = gw_tile_bounds_buffered(e->t, GW_TILE_EXTENT, buffer);
        for (size_t i = 0; i < n; i++) {
            const gw_tile_change *ch = &changes[i];
            if ((ch->layers & (1u << e->layer)) && (!ch->has_box || boxes_touch(&tb, &ch->box))) {
                remove_entry(c, e);
                dropped++;
                break;
            }
        }
    }
    c->st.invalidated += dropped;
    pthread_mutex_unlock(&c->lock);
    return dropped;
}

gw_tile_cache_stats gw_tile_cache_get_stats(gw_tile_cache *c)
{
    pthread_mutex_lock(&c->lock);
    gw_tile_cache_stats s = c->st;
    s.entries = c->entries;
    s.bytes = c->bytes;
    s.budget = c->budget;
    pthread_mutex_unlock(&c->lock);
    return s;
}
