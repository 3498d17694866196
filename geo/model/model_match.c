/* model_match.c — which rows of a point layer's next version are its previous version's rows
 * unchanged: what lets an analysis over a million incidents (coverage's seen flags, the Gi*
 * counts) redo only the few rows a write touched, whichever way the version was made (patched
 * from the change log, when the lineage it records answers directly, or reloaded: a merge). */
#include "model_internal.h"

#include <string.h>

static const char *text_at(const gw_layer_data *d, const gw_model_col *c, size_t r)
{
    return c->text[r] == GW_MODEL_NOTEXT ? NULL : d->arena + c->text[r];
}

/* Text of field f equal in row i of a and row j of b.  Versions sharing an arena (a patched
 * layer appends after the bytes its predecessor published, or copies them to the same offsets)
 * hold an unchanged value at the same offset; anything else is compared by content. */
static int same_text(const gw_layer_data *a, size_t i, const gw_layer_data *b, size_t j, size_t f,
                     int shared)
{
    uint32_t x = a->cols[f].text[i], y = b->cols[f].text[j];
    if (x == y && (shared || x == GW_MODEL_NOTEXT)) return 1;
    const char *s = text_at(a, &a->cols[f], i), *t = text_at(b, &b->cols[f], j);
    return s && t ? strcmp(s, t) == 0 : s == t;
}

static int same_row(const gw_layer_data *a, size_t i, const gw_layer_data *b, size_t j,
                    uint32_t fields, int shared)
{
    if (a->fid[i] != b->fid[j]) return 0;
    /* the other forms are derived from the stored lon/lat, as the metric one is */
    if (a->xy[GW_MODEL_METRIC][0][i] != b->xy[GW_MODEL_METRIC][0][j] ||
        a->xy[GW_MODEL_METRIC][1][i] != b->xy[GW_MODEL_METRIC][1][j])
        return 0;
    for (size_t f = 1; f < a->nfields && f < 32; f++) { /* field 0 is the id, equal already */
        if (!(fields & 1u << f)) continue;
        const gw_model_col *p = &a->cols[f], *q = &b->cols[f];
        if (p->type != q->type) return 0;
        if (p->text) {
            if (!same_text(a, i, b, j, f, shared)) return 0;
            continue;
        }
        int n1 = p->nulls && p->nulls[i], n2 = q->nulls && q->nulls[j];
        if (n1 != n2) return 0;
        if (n1) continue;
        if (p->i && (!q->i || p->i[i] != q->i[j])) return 0;
        if (p->d && (!q->d || memcmp(&p->d[i], &q->d[j], sizeof p->d[i]) != 0)) return 0;
    }
    return 1;
}

/* next patched straight from prev: its lineage says which rows are new and which are gone, so
 * the map is a walk over row numbers, and only the rewritten rows are compared.  0 when the
 * lineage does not add up (the caller then merges by id). */
static int match_lineage(const gw_layer_data *prev, const gw_layer_data *next, uint32_t fields,
                         size_t limit, int32_t *map, size_t *changed, int *over)
{
    size_t no = prev->n, nn = next->n, i = 0, a = 0, b = 0;
    if (nn != no + next->n_ins - next->n_del) return 0;
    size_t k = next->n_ins + next->n_del;
    for (size_t j = 0; j < nn; j++) {
        if (a < next->n_ins && next->lin_ins[a] == j) {
            map[j] = -1, a++;
            continue;
        }
        while (b < next->n_del && next->lin_del[b] == i) i++, b++;
        if (i >= no) return 0;
        map[j] = (int32_t)i++;
    }
    while (b < next->n_del && next->lin_del[b] == i) i++, b++;
    if (i != no || a != next->n_ins || b != next->n_del) return 0;
    int shared = prev->ar == next->ar;
    for (size_t u = 0; u < next->n_upd; u++) {
        size_t j = next->lin_upd[u];
        if (j >= nn || map[j] < 0) return 0;
        if (!same_row(prev, (size_t)map[j], next, j, fields, shared)) map[j] = -1, k += 2;
    }
    *over = k > limit;
    if (changed) *changed = k;
    return 1;
}

gw_status gw_layer_data_match(gw_ctx *ctx, const gw_layer_data *prev, const gw_layer_data *next,
                              uint32_t fields, size_t limit, int32_t *map, size_t *changed)
{
    if (changed) *changed = 0;
    if (!prev || !next || prev->layer != next->layer || prev->layer == GW_LAYER_GRIDS ||
        prev->nfields != next->nfields || !map)
        return gw_ctx_error(ctx, GW_ERR_ARG, "match: two versions of one point layer are needed");
    if (!prev->cols[0].text || !next->cols[0].text)
        return gw_ctx_error(ctx, GW_ERR_ARG, "match: the layers have no id column");
    int over = 0;
    if (next->parent_uid && next->parent_uid == prev->uid &&
        match_lineage(prev, next, fields, limit, map, changed, &over)) {
        if (over) return gw_ctx_error(ctx, GW_ERR_RANGE, "match: more than %zu rows differ", limit);
        return GW_OK;
    }
    /* Not `shared` across arenas: a reloaded version's offsets mean nothing for its predecessor
     * (a patched one that had to copy its text just takes the slower comparison). */
    int shared = prev->ar == next->ar;
    size_t no = prev->n, nn = next->n, i = 0, j = 0, k = 0;
    const gw_model_col *po = &prev->cols[0], *pn = &next->cols[0];
    while (i < no || j < nn) {
        int cmp;
        if (i == no) cmp = 1;
        else if (j == nn) cmp = -1;
        else if (shared && po->text[i] == pn->text[j]) cmp = 0;
        else cmp = strcmp(prev->arena + po->text[i], next->arena + pn->text[j]);
        if (cmp == 0) {
            int same = same_row(prev, i, next, j, fields, shared);
            map[j] = same ? (int32_t)i : -1;
            k += same ? 0 : 2; /* the old row goes, the new one comes */
            i++, j++;
        } else if (cmp < 0) {
            k++, i++; /* removed */
        } else {
            map[j++] = -1, k++; /* new */
        }
        if (k > limit)
            return gw_ctx_error(ctx, GW_ERR_RANGE, "match: more than %zu rows differ", limit);
    }
    if (changed) *changed = k;
    return GW_OK;
}

int gw_layer_data_rewritten(const gw_layer_data *prev, const gw_layer_data *next, size_t *rows,
                            size_t cap, size_t *n)
{
    *n = 0;
    if (!prev || !next || !next->parent_uid || next->parent_uid != prev->uid ||
        prev->layer != next->layer || next->n_ins || next->n_del || next->n != prev->n ||
        next->n_upd > cap)
        return 0;
    for (size_t u = 0; u < next->n_upd; u++) {
        if (next->lin_upd[u] >= next->n) return 0;
        rows[u] = next->lin_upd[u];
    }
    *n = next->n_upd;
    return 1;
}
