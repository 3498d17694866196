/* tilestats.c — Mapbox tilestats of finished vector tiles (tilestats.h): each tile is read back
 * with a minimal protobuf reader (the MVT 2.1 messages Tile, Layer, Feature, Value), and per
 * layer the distinct feature ids, geometry types and zooms, per attribute the distinct values
 * (as 64-bit hashes: 1 M incident ids cost 16 MB, not their text), the smallest values and the
 * numeric range are kept. */
#include "gridwatch/tilestats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a set of 64-bit hashes (open addressing; 0 stands for itself as 1) -------------------- */

typedef struct hset {
    uint64_t *v;
    size_t cap, n;
} hset;

/* 1 when h was new, 0 when present, -1 out of memory. */
static int hset_add(hset *s, uint64_t h)
{
    if (!h) h = 1;
    if (2 * (s->n + 1) > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        uint64_t *nv = calloc(nc, sizeof *nv);
        if (!nv) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                for (size_t j = s->v[i] & (nc - 1);; j = (j + 1) & (nc - 1))
                    if (!nv[j]) {
                        nv[j] = s->v[i];
                        break;
                    }
        free(s->v);
        s->v = nv, s->cap = nc;
    }
    for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->v[j] == h) return 0;
        if (!s->v[j]) {
            s->v[j] = h;
            s->n++;
            return 1;
        }
    }
}

static uint64_t mix64(uint64_t x) /* splitmix64's finaliser */
{
    x ^= x >> 30, x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27, x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_bytes(const void *d, size_t n, uint64_t seed)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)d)[i]) * 1099511628211ULL;
    return mix64(h);
}

/* ---- values ---------------------------------------------------------------------------------- */

enum { V_STRING = 1, V_NUMBER = 2, V_BOOL = 4 };

typedef struct tval {
    int kind;
    double d;      /* V_NUMBER, V_BOOL (0/1) */
    const char *s; /* V_STRING: into the tile while decoding, owned (strndup) once kept */
    size_t len;
} tval;

static uint64_t tval_hash(const tval *v)
{
    if (v->kind == V_STRING) return hash_bytes(v->s, v->len, 1);
    double d = v->d == 0 ? 0 : v->d; /* -0 == 0 */
    return hash_bytes(&d, sizeof d, (uint64_t)v->kind + 1);
}

/* Order of the listed values: numbers, then booleans, then strings. */
static int tval_cmp(const tval *a, const tval *b)
{
    static const int rank[8] = {0, 2, 0, 0, 1};
    if (a->kind != b->kind) return rank[a->kind] - rank[b->kind];
    if (a->kind != V_STRING) return (a->d > b->d) - (a->d < b->d);
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, m);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

typedef struct tattr {
    char *name;
    int kinds;
    hset distinct;
    tval vals[GW_TILESTATS_MAX_VALUES];
    size_t nvals;
    int has_num;
    double min, max;
} tattr;

typedef struct tlayer {
    char *name;
    hset ids;
    size_t geom[4];
    uint32_t zmin, zmax;
    tattr **attrs;
    size_t nattrs, capattrs;
} tlayer;

struct gw_tilestats {
    gw_ctx *ctx;
    tlayer **layers;
    size_t nlayers, caplayers;
    /* scratch of one layer being read */
    struct {
        const char *p;
        size_t n;
    } * keys;
    size_t capkeys;
    tval *values;
    size_t capvalues;
    tattr **kattr; /* the attribute of each key of the layer */
    size_t capkattr;
};

gw_status gw_tilestats_create(gw_ctx *ctx, gw_tilestats **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory");
    (*out)->ctx = ctx;
    return GW_OK;
}

static void attr_free(tattr *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->nvals; i++)
        if (a->vals[i].kind == V_STRING) free((char *)a->vals[i].s);
    free(a->distinct.v);
    free(a->name);
    free(a);
}

void gw_tilestats_destroy(gw_tilestats *ts)
{
    if (!ts) return;
    for (size_t i = 0; i < ts->nlayers; i++) {
        tlayer *l = ts->layers[i];
        for (size_t j = 0; j < l->nattrs; j++) attr_free(l->attrs[j]);
        free(l->attrs);
        free(l->ids.v);
        free(l->name);
        free(l);
    }
    free(ts->layers);
    free(ts->keys);
    free(ts->values);
    free(ts->kattr);
    free(ts);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q, *cap = c;
    return 0;
}

static tlayer *layer_get(gw_tilestats *ts, const char *name, size_t n)
{
    for (size_t i = 0; i < ts->nlayers; i++)
        if (strlen(ts->layers[i]->name) == n && memcmp(ts->layers[i]->name, name, n) == 0)
            return ts->layers[i];
    if (grow((void **)&ts->layers, &ts->caplayers, ts->nlayers + 1, sizeof *ts->layers))
        return NULL;
    tlayer *l = calloc(1, sizeof *l);
    if (!l || !(l->name = strndup(name, n))) {
        free(l);
        return NULL;
    }
    l->zmin = UINT32_MAX;
    ts->layers[ts->nlayers++] = l;
    return l;
}

static tattr *attr_get(tlayer *l, const char *name, size_t n)
{
    for (size_t i = 0; i < l->nattrs; i++)
        if (strlen(l->attrs[i]->name) == n && memcmp(l->attrs[i]->name, name, n) == 0)
            return l->attrs[i];
    if (grow((void **)&l->attrs, &l->capattrs, l->nattrs + 1, sizeof *l->attrs)) return NULL;
    tattr *a = calloc(1, sizeof *a);
    if (!a || !(a->name = strndup(name, n))) {
        free(a);
        return NULL;
    }
    l->attrs[l->nattrs++] = a;
    return a;
}

/* Count value v for attribute a. -1 out of memory. */
static int attr_add(tattr *a, const tval *v)
{
    a->kinds |= v->kind;
    if (v->kind == V_NUMBER) {
        if (!a->has_num || v->d < a->min) a->min = v->d;
        if (!a->has_num || v->d > a->max) a->max = v->d;
        a->has_num = 1;
    }
    int isnew = hset_add(&a->distinct, tval_hash(v));
    if (isnew <= 0) return isnew;
    size_t n = a->nvals;
    if (n == GW_TILESTATS_MAX_VALUES && tval_cmp(v, &a->vals[n - 1]) >= 0) return 0;
    tval k = *v;
    if (k.kind == V_STRING) { /* a copy of all len bytes: a value may hold NUL bytes */
        char *c = malloc(v->len + 1);
        if (!c) return -1;
        memcpy(c, v->s, v->len);
        c[v->len] = '\0';
        k.s = c;
    }
    if (n == GW_TILESTATS_MAX_VALUES) { /* drop the largest */
        if (a->vals[n - 1].kind == V_STRING) free((char *)a->vals[n - 1].s);
        n--;
    }
    size_t i = n;
    while (i > 0 && tval_cmp(&k, &a->vals[i - 1]) < 0) a->vals[i] = a->vals[i - 1], i--;
    a->vals[i] = k;
    a->nvals = n + 1;
    return 0;
}

/* ---- protobuf reading -------------------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static int rd_varint(rd *r, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 64 && r->p < r->end; s += 7) {
        uint8_t b = *r->p++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return 0;
    }
    return -1;
}

/* The next field: its number, wire type and, for length-delimited fields, its contents. */
static int rd_field(rd *r, uint32_t *field, int *wt, rd *sub, uint64_t *v)
{
    uint64_t key;
    if (rd_varint(r, &key)) return -1;
    *field = (uint32_t)(key >> 3), *wt = (int)(key & 7);
    switch (*wt) {
    case 0: return rd_varint(r, v);
    case 1:
        if (r->end - r->p < 8) return -1;
        memcpy(v, r->p, 8), r->p += 8;
        return 0;
    case 5: {
        if (r->end - r->p < 4) return -1;
        uint32_t u;
        memcpy(&u, r->p, 4), r->p += 4;
        *v = u;
        return 0;
    }
    case 2:
        if (rd_varint(r, v) || *v > (uint64_t)(r->end - r->p)) return -1;
        sub->p = r->p, sub->end = r->p + *v, r->p += *v;
        return 0;
    default: return -1;
    }
}

static int read_value(rd r, tval *out)
{
    memset(out, 0, sizeof *out);
    while (r.p < r.end) {
        uint32_t f;
        int wt;
        rd sub;
        uint64_t v;
        if (rd_field(&r, &f, &wt, &sub, &v)) return -1;
        if (f == 1 && wt == 2) {
            out->kind = V_STRING, out->s = (const char *)sub.p,
            out->len = (size_t)(sub.end - sub.p);
        } else if (f == 2 && wt == 5) {
            float x;
            uint32_t u = (uint32_t)v;
            memcpy(&x, &u, 4);
            out->kind = V_NUMBER, out->d = x;
        } else if (f == 3 && wt == 1) {
            double x;
            memcpy(&x, &v, 8);
            out->kind = V_NUMBER, out->d = x;
        } else if (f == 4 && wt == 0) {
            out->kind = V_NUMBER, out->d = (double)(int64_t)v;
        } else if (f == 5 && wt == 0) {
            out->kind = V_NUMBER, out->d = (double)v;
        } else if (f == 6 && wt == 0) {
            out->kind = V_NUMBER, out->d = (double)(int64_t)((v >> 1) ^ (~(v & 1) + 1));
        } else if (f == 7 && wt == 0) {
            out->kind = V_BOOL, out->d = v != 0;
        }
    }
    return out->kind ? 0 : -1;
}

static gw_status bad(gw_tilestats *ts, uint32_t z)
{
    return gw_ctx_error(ts->ctx, GW_ERR_FORMAT, "tilestats: a zoom %u tile is not a valid MVT", z);
}

static gw_status oom(gw_tilestats *ts)
{
    return gw_ctx_error(ts->ctx, GW_ERR_NOMEM, "out of memory");
}

static gw_status read_layer(gw_tilestats *ts, uint32_t z, rd r)
{
    /* first pass: name, keys, values */
    rd name = {NULL, NULL}, all = r;
    size_t nk = 0, nv = 0, nf = 0;
    while (r.p < r.end) {
        uint32_t f;
        int wt;
        rd sub;
        uint64_t v;
        if (rd_field(&r, &f, &wt, &sub, &v)) return bad(ts, z);
        if (f == 1 && wt == 2) name = sub;
        else if (f == 2 && wt == 2) nf++;
        else if (f == 3 && wt == 2) {
            /* a key holding a NUL byte cannot be told apart from its prefix by name */
            if (memchr(sub.p, 0, (size_t)(sub.end - sub.p))) return bad(ts, z);
            if (grow((void **)&ts->keys, &ts->capkeys, nk + 1, sizeof *ts->keys)) return oom(ts);
            ts->keys[nk].p = (const char *)sub.p, ts->keys[nk++].n = (size_t)(sub.end - sub.p);
        } else if (f == 4 && wt == 2) {
            if (grow((void **)&ts->values, &ts->capvalues, nv + 1, sizeof *ts->values))
                return oom(ts);
            if (read_value(sub, &ts->values[nv++])) return bad(ts, z);
        }
    }
    if (!name.p || !nf) return name.p ? GW_OK : bad(ts, z);
    /* nor a layer name holding one: it was kept cut at the NUL and looked up in full, so the
     * layer came back as a second layer of the cut name, with its own zoom range */
    if (memchr(name.p, 0, (size_t)(name.end - name.p))) return bad(ts, z);
    tlayer *l = layer_get(ts, (const char *)name.p, (size_t)(name.end - name.p));
    if (!l || grow((void **)&ts->kattr, &ts->capkattr, nk + 1, sizeof *ts->kattr)) return oom(ts);
    for (size_t i = 0; i < nk; i++)
        if (!(ts->kattr[i] = attr_get(l, ts->keys[i].p, ts->keys[i].n))) return oom(ts);
    if (z < l->zmin) l->zmin = z;
    if (z > l->zmax) l->zmax = z;
    /* second pass: the features */
    r = all;
    while (r.p < r.end) {
        uint32_t f;
        int wt;
        rd fr;
        uint64_t v;
        if (rd_field(&r, &f, &wt, &fr, &v)) return bad(ts, z);
        if (f != 2 || wt != 2) continue;
        while (fr.p < fr.end) {
            uint32_t ff;
            int fwt;
            rd sub;
            uint64_t fv;
            if (rd_field(&fr, &ff, &fwt, &sub, &fv)) return bad(ts, z);
            if (ff == 1 && fwt == 0) {
                if (hset_add(&l->ids, mix64(fv + 1)) < 0) return oom(ts);
            } else if (ff == 3 && fwt == 0) {
                l->geom[fv < 4 ? fv : 0]++;
            } else if (ff == 2 && fwt == 2) {
                while (sub.p < sub.end) {
                    uint64_t ki, vi;
                    if (rd_varint(&sub, &ki) || rd_varint(&sub, &vi) || ki >= nk || vi >= nv)
                        return bad(ts, z);
                    if (attr_add(ts->kattr[ki], &ts->values[vi]) < 0) return oom(ts);
                }
            }
        }
    }
    return GW_OK;
}

gw_status gw_tilestats_add(gw_tilestats *ts, uint32_t z, const uint8_t *bytes, size_t len)
{
    if (!ts || (!bytes && len)) return GW_ERR_ARG;
    rd r = {bytes, bytes + len};
    while (r.p < r.end) {
        uint32_t f;
        int wt;
        rd sub;
        uint64_t v;
        if (rd_field(&r, &f, &wt, &sub, &v)) return bad(ts, z);
        if (f == 3 && wt == 2) {
            gw_status st = read_layer(ts, z, sub);
            if (st) return st;
        }
    }
    return GW_OK;
}

bool gw_tilestats_zooms(const gw_tilestats *ts, const char *name, uint32_t *zmin, uint32_t *zmax)
{
    for (size_t i = 0; ts && name && i < ts->nlayers; i++)
        if (strcmp(ts->layers[i]->name, name) == 0) {
            *zmin = ts->layers[i]->zmin, *zmax = ts->layers[i]->zmax;
            return true;
        }
    return false;
}

/* ---- the JSON ---------------------------------------------------------------------------------- */

static int by_layer_name(const void *a, const void *b)
{
    return strcmp((*(tlayer *const *)a)->name, (*(tlayer *const *)b)->name);
}

static int by_attr_name(const void *a, const void *b)
{
    return strcmp((*(tattr *const *)a)->name, (*(tattr *const *)b)->name);
}

static json_t *num(double d)
{
    return d == floor(d) && fabs(d) < 9e15 ? json_integer((json_int_t)d) : json_real(d);
}

static json_t *attr_json(const tattr *a)
{
    const char *type = a->kinds == V_STRING   ? "string"
                       : a->kinds == V_NUMBER ? "number"
                       : a->kinds == V_BOOL   ? "boolean"
                                              : "mixed";
    json_t *vals = json_array();
    for (size_t i = 0; i < a->nvals; i++) {
        const tval *v = &a->vals[i];
        json_array_append_new(vals, v->kind == V_STRING ? json_stringn(v->s, v->len)
                                    : v->kind == V_BOOL ? json_boolean(v->d != 0)
                                                        : num(v->d));
    }
    json_t *o = json_pack("{s:s,s:I,s:s,s:o}", "attribute", a->name, "count",
                          (json_int_t)a->distinct.n, "type", type, "values", vals);
    if (o && a->has_num) {
        json_object_set_new(o, "min", num(a->min));
        json_object_set_new(o, "max", num(a->max));
    }
    return o;
}

json_t *gw_tilestats_json(const gw_tilestats *ts)
{
    tlayer **ls = malloc((ts->nlayers ? ts->nlayers : 1) * sizeof *ls);
    json_t *layers = json_array();
    if (!ls || !layers) {
        free(ls);
        json_decref(layers);
        return NULL;
    }
    if (ts->nlayers) memcpy(ls, ts->layers, ts->nlayers * sizeof *ls);
    qsort(ls, ts->nlayers, sizeof *ls, by_layer_name);
    static const char *const gname[4] = {"Unknown", "Point", "LineString", "Polygon"};
    for (size_t i = 0; i < ts->nlayers; i++) {
        tlayer *l = ls[i];
        int g = 1;
        for (int k = 2; k < 4; k++)
            if (l->geom[k] > l->geom[g]) g = k;
        if (l->nattrs) qsort(l->attrs, l->nattrs, sizeof *l->attrs, by_attr_name);
        json_t *attrs = json_array();
        for (size_t j = 0; j < l->nattrs; j++) json_array_append_new(attrs, attr_json(l->attrs[j]));
        /* a name that is not UTF-8 (a foreign tile) cannot be told in JSON: the layer or the
         * attribute is left out (json_pack refuses it) and the counts say what is listed */
        json_array_append_new(layers,
                              json_pack("{s:s,s:I,s:s,s:I,s:o}", "layer", l->name, "count",
                                        (json_int_t)l->ids.n, "geometry", gname[g],
                                        "attributeCount", (json_int_t)json_array_size(attrs),
                                        "attributes", attrs));
    }
    free(ls);
    return json_pack("{s:I,s:o}", "layerCount", (json_int_t)json_array_size(layers), "layers",
                     layers);
}
