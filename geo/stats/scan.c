/* scan.c — Kulldorff's Poisson scan statistic over circular zones of a lattice, with Monte-Carlo
 * p-values (see clusters.h).
 *
 * A zone is a centre cell and every cell whose centre lies within r of it; the candidate radii
 * of a centre are the distinct distances to the cells of a template sorted by distance, so the
 * scan of one centre is one pass that adds cells in order and evaluates the LLR at the end of
 * each distance group.  Replicas draw the total count multinomially over the study area in
 * proportion to the expected counts (Walker's alias table, one draw per incident) and keep only
 * their maximum LLR; each replica has its own RNG stream (seed, replica), so results do not
 * depend on the number of threads. */
#include "gridwatch/clusters.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POIS_CHUNK 30.0

typedef struct tmpl {
    int *di, *dj;
    double *dist;  /* metres */
    uint8_t *last; /* 1 at the last offset of a distance group */
    size_t n;
} tmpl;

typedef struct scan_job {
    const gw_lattice *lat;
    const tmpl *t;
    double C, scale; /* total observed; expected × scale sums to C */
    double min_cases, min_rr;
} scan_job;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double gw_scan_llr(double c, double e, double C)
{
    if (!(c > e) || e <= 0 || C <= 0) return 0;
    double llr = c * log(c / e);
    if (C - c > 0) llr += (C - c) * log((C - c) / (C - e));
    return llr;
}

static int off_cmp(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return x[0] < y[0]   ? -1
           : x[0] > y[0] ? 1
           : x[1] < y[1] ? -1
           : x[1] > y[1] ? 1
                         : (x[2] > y[2]) - (x[2] < y[2]);
}

static void tmpl_free(tmpl *t) { free(t->di), free(t->dj), free(t->dist), free(t->last); }

/* The offsets within max_radius, nearest first (ties in a fixed order). */
static int tmpl_make(tmpl *t, double cell, double max_radius)
{
    int R = (int)floor(max_radius / cell + 1e-9);
    size_t cap = (size_t)(2 * R + 1) * (size_t)(2 * R + 1), n = 0;
    double *tmp = malloc(cap * 3 * sizeof *tmp);
    memset(t, 0, sizeof *t);
    t->di = malloc(cap * sizeof *t->di), t->dj = malloc(cap * sizeof *t->dj);
    t->dist = malloc(cap * sizeof *t->dist), t->last = malloc(cap);
    if (!tmp || !t->di || !t->dj || !t->dist || !t->last) return free(tmp), tmpl_free(t), -1;
    long r2max = (long)floor((max_radius / cell) * (max_radius / cell) + 1e-9);
    for (int j = -R; j <= R; j++)
        for (int i = -R; i <= R; i++)
            if ((long)i * i + (long)j * j <= r2max)
                tmp[3 * n] = (double)i * i + (double)j * j, tmp[3 * n + 1] = j, tmp[3 * n + 2] = i,
                        n++;
    qsort(tmp, n, 3 * sizeof *tmp, off_cmp);
    for (size_t k = 0; k < n; k++) {
        t->dj[k] = (int)tmp[3 * k + 1], t->di[k] = (int)tmp[3 * k + 2];
        t->dist[k] = cell * sqrt(tmp[3 * k]);
        t->last[k] = k + 1 == n || tmp[3 * (k + 1)] != tmp[3 * k];
    }
    t->n = n;
    free(tmp);
    return 0;
}

/* The best zone of one centre (llr 0 when none qualifies). */
static gw_scan_zone scan_centre(const scan_job *J, const double *count, size_t k)
{
    const gw_lattice *L = J->lat;
    const tmpl *t = J->t;
    gw_scan_zone best = {.centre = k, .p = NAN};
    long ci = (long)(k % L->nx), cj = (long)(k / L->nx);
    double c = 0, e = 0;
    size_t cells = 0;
    for (size_t m = 0; m < t->n; m++) {
        long i = ci + t->di[m], j = cj + t->dj[m];
        if (i >= 0 && j >= 0 && i < (long)L->nx && j < (long)L->ny) {
            size_t q = (size_t)j * L->nx + (size_t)i;
            c += count[q], e += L->expected[q] * J->scale, cells++;
        }
        if (!t->last[m] || c < J->min_cases || !(c > e)) continue;
        if (J->min_rr > 0) {
            double out_e = J->C - e,
                   rr = out_e > 0 && J->C - c > 0 ? (c / e) / ((J->C - c) / out_e) : INFINITY;
            if (rr < J->min_rr) continue;
        }
        double llr = gw_scan_llr(c, e, J->C);
        if (llr > best.llr)
            best.llr = llr, best.radius = t->dist[m], best.cells = cells, best.c = c, best.e = e;
    }
    return best;
}

/* ---- replicas ---- */

/* What every replica shares: the centres, the template as linear offsets ending each distance
 * group, and each (centre, group)'s expected sum (the expected counts do not change between
 * replicas, so a replica only adds counts). */
typedef struct fast {
    size_t nc, G;
    uint32_t *cent;
    uint8_t *inner; /* 1: the whole template lies on the lattice */
    float *esum;    /* nc × G */
    float *cmin;    /* nc × G: the fewest incidents that can make the zone a candidate */
    long *off;
    uint32_t *gend; /* template index one past each group */
    double *gdist;
    int32_t *uidx; /* the centre index of each cell, -1 for a cell that is no centre */
} fast;

static void fast_free(fast *f)
{
    free(f->cent), free(f->inner), free(f->esum), free(f->cmin), free(f->uidx), free(f->off),
        free(f->gend), free(f->gdist);
}

static int fast_make(fast *f, const scan_job *J, const uint8_t *centres)
{
    const gw_lattice *L = J->lat;
    const tmpl *t = J->t;
    size_t N = L->nx * L->ny;
    memset(f, 0, sizeof *f);
    for (size_t m = 0; m < t->n; m++) f->G += t->last[m];
    for (size_t k = 0; k < N; k++) f->nc += (!L->in || L->in[k]) && (!centres || centres[k]);
    f->cent = malloc((f->nc ? f->nc : 1) * sizeof *f->cent);
    f->inner = malloc(f->nc ? f->nc : 1);
    f->esum = malloc((f->nc && f->G ? f->nc * f->G : 1) * sizeof *f->esum);
    f->cmin = malloc((f->nc && f->G ? f->nc * f->G : 1) * sizeof *f->cmin);
    f->off = malloc((t->n ? t->n : 1) * sizeof *f->off);
    f->uidx = malloc(N * sizeof *f->uidx);
    f->gend = malloc((f->G ? f->G : 1) * sizeof *f->gend);
    f->gdist = malloc((f->G ? f->G : 1) * sizeof *f->gdist);
    if (!f->cent || !f->inner || !f->esum || !f->cmin || !f->uidx || !f->off || !f->gend ||
        !f->gdist)
        return fast_free(f), -1;
    long R = 0;
    for (size_t m = 0, g = 0; m < t->n; m++) {
        f->off[m] = (long)t->dj[m] * (long)L->nx + t->di[m];
        R = t->di[m] > R ? t->di[m] : R;
        if (t->last[m]) f->gend[g] = (uint32_t)(m + 1), f->gdist[g++] = t->dist[m];
    }
    size_t u = 0;
    for (size_t k = 0; k < N; k++) f->uidx[k] = -1;
    for (size_t k = 0; k < N; k++) {
        if ((L->in && !L->in[k]) || (centres && !centres[k])) continue;
        f->uidx[k] = (int32_t)u;
        long ci = (long)(k % L->nx), cj = (long)(k / L->nx);
        f->cent[u] = (uint32_t)k;
        f->inner[u] = ci >= R && cj >= R && ci + R < (long)L->nx && cj + R < (long)L->ny;
        double e = 0;
        size_t m = 0;
        for (size_t g = 0; g < f->G; g++) {
            for (; m < f->gend[g]; m++) {
                long i = ci + t->di[m], j = cj + t->dj[m];
                if (i >= 0 && j >= 0 && i < (long)L->nx && j < (long)L->ny)
                    e += L->expected[(size_t)j * L->nx + (size_t)i] * J->scale;
            }
            /* c > e, c >= min_cases and RR >= min_rr: c (C − e + r e) >= r e C */
            double C = J->C, r = J->min_rr, need = J->min_cases;
            if (e > need) need = e;
            if (r > 0 && C - e + r * e > 0 && r * e * C / (C - e + r * e) > need)
                need = r * e * C / (C - e + r * e);
            f->esum[u * f->G + g] = (float)e;
            f->cmin[u * f->G + g] = (float)(need * (1 - 1e-6)); /* the exact test follows */
        }
        u++;
    }
    return 0;
}

/* The largest LLR of one replica's counts. */
/* The largest candidate LLR of centre u for one replica's counts (0 when none). */
static double fast_centre(const scan_job *J, const fast *f, const uint32_t *cnt, size_t u)
{
    const gw_lattice *L = J->lat;
    const tmpl *t = J->t;
    double mx = 0, C = J->C;
    size_t k = f->cent[u];
    const float *es = f->esum + u * f->G, *cm = f->cmin + u * f->G;
    uint32_t ci32 = 0;
    size_t m = 0;
    long ci = (long)(k % L->nx), cj = (long)(k / L->nx);
    for (size_t g = 0; g < f->G; g++) {
        size_t end = f->gend[g];
        if (f->inner[u])
            for (; m < end; m++) ci32 += cnt[(long)k + f->off[m]];
        else
            for (; m < end; m++) {
                long i = ci + t->di[m], j = cj + t->dj[m];
                if (i >= 0 && j >= 0 && i < (long)L->nx && j < (long)L->ny)
                    ci32 += cnt[(size_t)j * L->nx + (size_t)i];
            }
        double c = ci32;
        if (c < cm[g]) continue;
        double e = es[g];
        if (c < J->min_cases || !(c > e)) continue;
        if (J->min_rr > 0 && C - e > 0 && C - c > 0 && (c / e) / ((C - c) / (C - e)) < J->min_rr)
            continue;
        double llr = gw_scan_llr(c, e, C);
        if (llr > mx) mx = llr;
    }
    return mx;
}

/* The largest LLR of one replica's counts.  Sparse counts (few cells hold incidents) visit only
 * the centres within the template of such a cell — a zone without incidents has LLR 0 — marked
 * in `stamp` with the replica's number. */
static double fast_max(const scan_job *J, const fast *f, const uint32_t *cnt, const uint32_t *nz,
                       size_t nnz, uint32_t *stamp, uint32_t mark)
{
    const gw_lattice *L = J->lat;
    const tmpl *t = J->t;
    double mx = 0;
    if (!nz || nnz * t->n >= f->nc) {
        for (size_t u = 0; u < f->nc; u++) {
            double v = fast_centre(J, f, cnt, u);
            if (v > mx) mx = v;
        }
        return mx;
    }
    for (size_t q = 0; q < nnz; q++) {
        long qi = (long)(nz[q] % L->nx), qj = (long)(nz[q] / L->nx);
        for (size_t m = 0; m < t->n; m++) { /* centres whose zone can hold cell q */
            long i = qi - t->di[m], j = qj - t->dj[m];
            if (i < 0 || j < 0 || i >= (long)L->nx || j >= (long)L->ny) continue;
            size_t k = (size_t)j * L->nx + (size_t)i;
            int32_t u = f->uidx[k];
            if (u < 0 || stamp[k] == mark) continue;
            stamp[k] = mark;
            double v = fast_centre(J, f, cnt, (size_t)u);
            if (v > mx) mx = v;
        }
    }
    return mx;
}

typedef struct alias {
    size_t n;
    double *prob;
    uint32_t *other, *cell;
    double *lam, *elam; /* per alias entry: the cell's Poisson mean C·e/E and exp(−(lam mod 30)) */
} alias;

static void alias_free(alias *a)
{
    free(a->prob), free(a->other), free(a->cell), free(a->lam), free(a->elam);
}

static int alias_make(alias *a, const gw_lattice *L)
{
    size_t N = L->nx * L->ny, n = 0;
    double tot = 0;
    for (size_t k = 0; k < N; k++)
        if ((!L->in || L->in[k]) && L->expected[k] > 0) n++, tot += L->expected[k];
    a->n = n;
    a->prob = malloc((n ? n : 1) * sizeof *a->prob);
    a->other = malloc((n ? n : 1) * sizeof *a->other);
    a->cell = malloc((n ? n : 1) * sizeof *a->cell);
    uint32_t *small = malloc((n ? n : 1) * sizeof *small),
             *large = malloc((n ? n : 1) * sizeof *large);
    if (!a->prob || !a->other || !a->cell || !small || !large)
        return free(small), free(large), alias_free(a), -1;
    size_t m = 0;
    for (size_t k = 0; k < N; k++)
        if ((!L->in || L->in[k]) && L->expected[k] > 0)
            a->cell[m] = (uint32_t)k, a->prob[m] = L->expected[k] * (double)n / tot,
            a->other[m] = (uint32_t)m, m++;
    size_t ns = 0, nl = 0; /* Vose's method */
    for (size_t k = 0; k < n; k++) {
        if (a->prob[k] < 1) small[ns++] = (uint32_t)k;
        else large[nl++] = (uint32_t)k;
    }
    while (ns && nl) {
        uint32_t l = small[--ns], g = large[nl - 1];
        a->other[l] = g;
        a->prob[g] += a->prob[l] - 1;
        if (a->prob[g] < 1) nl--, small[ns++] = g;
    }
    for (size_t k = 0; k < n; k++)
        if (a->prob[k] > 1) a->prob[k] = 1;
    for (size_t k = 0; k < ns; k++) a->prob[small[k]] = 1; /* rounding leftovers */
    free(small), free(large);
    a->lam = malloc((n ? n : 1) * sizeof *a->lam), a->elam = malloc((n ? n : 1) * sizeof *a->elam);
    if (!a->lam || !a->elam) return alias_free(a), -1;
    double C = 0;
    for (size_t k = 0; k < N; k++)
        if (!L->in || L->in[k]) C += L->count[k];
    for (size_t k = 0; k < n; k++) {
        a->lam[k] = L->expected[a->cell[k]] * C / tot;
        a->elam[k] = exp(-fmod(a->lam[k], POIS_CHUNK));
    }
    return 0;
}

/* Poisson(lam) by inversion, lam split into chunks of POIS_CHUNK (a sum of Poissons is one);
 * elam = exp(−(lam mod POIS_CHUNK)). */
static uint32_t pois(uint64_t *s, double lam, double elam)
{
    static const double echunk = 9.357622968840175e-14; /* exp(−30) */
    uint32_t n = 0;
    for (;;) {
        double l = lam >= POIS_CHUNK ? POIS_CHUNK : lam, p = lam >= POIS_CHUNK ? echunk : elam;
        double u = (double)(splitmix(s) >> 11) * 0x1.0p-53, F = p;
        uint32_t k = 0;
        while (u > F && k < 1000) k++, p *= l / k, F += p;
        n += k;
        if (lam < POIS_CHUNK) return n;
        lam -= POIS_CHUNK;
    }
}

/* A multinomial draw of `total` over the cells in proportion to expected, exactly: independent
 * Poisson counts (sequential, cache-friendly), then the difference to `total` added by alias
 * draws or removed as a uniformly random subset of the drawn incidents — given their sum a
 * Poisson vector is multinomial, and adding independent draws or keeping a uniform subset
 * keeps it so. */
static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static int multinomial(const alias *a, uint64_t *s, long total, uint32_t *cnt, size_t N)
{
    memset(cnt, 0, N * sizeof *cnt);
    long T = 0;
    for (size_t k = 0; k < a->n; k++) {
        uint32_t v = pois(s, a->lam[k], a->elam[k]);
        cnt[a->cell[k]] = v, T += v;
    }
    for (; T < total; T++) {
        uint64_t u = splitmix(s);
        size_t k = (size_t)(((unsigned __int128)u * a->n) >> 64);
        double f = (double)(u & 0xFFFFFFFFu) * 0x1.0p-32;
        cnt[a->cell[f < a->prob[k] ? k : a->other[k]]]++;
    }
    if (T <= total) return 0;
    /* keep a uniform subset: remove r = T − total distinct incidents, their ranks in [0, T)
     * drawn, sorted and de-duplicated until r differ, then found in one pass over the cells */
    size_t r = (size_t)(T - total), have = 0;
    uint64_t *pos = malloc(2 * r * sizeof *pos);
    if (!pos) return -1;
    while (have < r) {
        for (size_t i = have; i < 2 * r; i++)
            pos[i] = (uint64_t)(((unsigned __int128)splitmix(s) * (uint64_t)T) >> 64);
        qsort(pos, 2 * r, sizeof *pos, u64_cmp);
        size_t m = 0;
        for (size_t i = 0; i < 2 * r; i++)
            if (m == 0 || pos[i] != pos[m - 1]) pos[m++] = pos[i];
        have = m < r ? m : r;
        if (m > r) { /* too many distinct: keep a uniform r of them */
            for (size_t i = 0; i < r; i++) {
                size_t j = i + (size_t)(((unsigned __int128)splitmix(s) * (m - i)) >> 64);
                uint64_t v = pos[i];
                pos[i] = pos[j], pos[j] = v;
            }
            qsort(pos, r, sizeof *pos, u64_cmp);
        }
    }
    uint64_t base = 0;
    size_t q = 0;
    for (size_t k = 0; k < a->n && q < r; k++) {
        uint32_t *c = &cnt[a->cell[k]];
        uint64_t end = base + *c;
        uint32_t drop = 0;
        while (q < r && pos[q] < end) drop++, q++;
        *c -= drop, base = end;
    }
    free(pos);
    return 0;
}

typedef struct rep_job {
    const scan_job *J;
    const gw_scan_opts *opts;
    const fast *f;
    const alias *a;
    uint64_t seed;
    int first, step, reps;
    long total;
    double *out;
    int failed;
} rep_job;

static void *rep_main(void *arg)
{
    rep_job *R = arg;
    const gw_lattice *L = R->J->lat;
    size_t N = L->nx * L->ny;
    const gw_scan_opts *o = R->opts;
    uint32_t *cnt = malloc(N * sizeof *cnt), *nz = malloc(N * sizeof *nz),
             *stamp = calloc(N, sizeof *stamp);
    uint32_t *pool = o->pool ? malloc((o->pool_n ? o->pool_n : 1) * sizeof *pool) : NULL;
    if (!cnt || !nz || !stamp || (o->pool && !pool)) {
        free(cnt), free(nz), free(stamp), free(pool);
        R->failed = 1;
        return NULL;
    }
    for (int r = R->first; r < R->reps; r += R->step) {
        memset(cnt, 0, N * sizeof *cnt);
        size_t nnz = 0;
        uint64_t s = R->seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(r + 1));
        if (pool) memcpy(pool, o->pool, o->pool_n * sizeof *pool); /* thread-count independent */
        for (long m = 0; pool && m < R->total && (size_t)m < o->pool_n; m++) {
            /* a partial Fisher-Yates shuffle: the first `total` of a random permutation */
            size_t pick = (size_t)m +
                          (size_t)(((unsigned __int128)splitmix(&s) * (o->pool_n - (size_t)m)) >>
                                   64);
            uint32_t v = pool[pick];
            pool[pick] = pool[m], pool[m] = v;
            if (cnt[v]++ == 0) nz[nnz++] = v;
        }
        if (!pool) {
            if (multinomial(R->a, &s, R->total, cnt, N)) {
                R->failed = 1;
                break;
            }
            for (size_t k = 0; k < R->a->n; k++)
                if (cnt[R->a->cell[k]]) nz[nnz++] = R->a->cell[k];
        }
        R->out[r] = fast_max(R->J, R->f, cnt, nz, nnz, stamp, (uint32_t)r + 1);
    }
    free(cnt), free(nz), free(stamp), free(pool);
    return NULL;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int zone_cmp(const void *a, const void *b)
{
    const gw_scan_zone *x = a, *y = b;
    if (x->llr != y->llr) return x->llr > y->llr ? -1 : 1;
    return (x->centre > y->centre) - (x->centre < y->centre);
}

/* Keep the zones, best first, whose circles meet no better zone's circle. */
static size_t select_zones(const gw_lattice *L, gw_scan_zone *z, size_t n, size_t keep,
                           double max_radius)
{
    qsort(z, n, sizeof *z, zone_cmp);
    double b = 2 * max_radius + L->cell;
    size_t bx = (size_t)ceil((double)L->nx * L->cell / b) + 1,
           by = (size_t)ceil((double)L->ny * L->cell / b) + 1;
    size_t *head = malloc(bx * by * sizeof *head), *next = malloc((n ? n : 1) * sizeof *next);
    if (!head || !next) {
        free(head), free(next);
        return (size_t)-1;
    }
    for (size_t k = 0; k < bx * by; k++) head[k] = (size_t)-1;
    size_t m = 0;
    for (size_t k = 0; k < n && m < keep; k++) {
        double x = ((double)(z[k].centre % L->nx) + 0.5) * L->cell,
               y = ((double)(z[k].centre / L->nx) + 0.5) * L->cell;
        size_t gx = (size_t)(x / b), gy = (size_t)(y / b);
        int clash = 0;
        for (size_t yy = gy ? gy - 1 : 0; !clash && yy <= gy + 1 && yy < by; yy++)
            for (size_t xx = gx ? gx - 1 : 0; !clash && xx <= gx + 1 && xx < bx; xx++)
                for (size_t s = head[yy * bx + xx]; s != (size_t)-1; s = next[s]) {
                    double sx = ((double)(z[s].centre % L->nx) + 0.5) * L->cell,
                           sy = ((double)(z[s].centre / L->nx) + 0.5) * L->cell;
                    if (hypot(x - sx, y - sy) <= z[s].radius + z[k].radius) {
                        clash = 1;
                        break;
                    }
                }
        if (clash) continue;
        z[m] = z[k];
        next[m] = head[gy * bx + gx], head[gy * bx + gx] = m;
        m++;
    }
    free(head), free(next);
    return m;
}

/* The Monte Carlo replicas' largest log likelihood ratios into null[0..reps), sorted, on
 * opts->threads threads (the last one this thread). */
static gw_status run_replicas(gw_ctx *ctx, scan_job *J, const gw_scan_opts *opts, int reps,
                              double *null)
{
    const gw_lattice *lat = J->lat;
    alias a = {0};
    fast f;
    if (!opts->pool && alias_make(&a, lat))
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan replicas)");
    if (fast_make(&f, J, opts->centres) == 0 && getenv("GW_CLUSTERS_TRACE"))
        fprintf(stderr, "scan: %zu × %zu cells, %zu centres, %zu offsets in %zu groups\n", lat->nx,
                lat->ny, f.nc, J->t->n, f.G);
    else if (!f.cent) {
        alias_free(&a);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan replicas)");
    }
    int nt = opts->threads > 0 ? opts->threads : 2;
    if (nt > 16) nt = 16;
    if (nt > reps) nt = reps;
    rep_job jobs[16];
    pthread_t th[16];
    int started[16] = {0};
    for (int i = 0; i < nt; i++) {
        jobs[i] = (rep_job){.J = J,
                            .opts = opts,
                            .f = &f,
                            .a = &a,
                            .seed = opts->seed,
                            .first = i,
                            .step = nt,
                            .reps = reps,
                            .total = lround(J->C),
                            .out = null};
        if (i < nt - 1) started[i] = pthread_create(&th[i], NULL, rep_main, &jobs[i]) == 0;
    }
    for (int i = 0; i < nt; i++)
        if (i == nt - 1 || !started[i]) rep_main(&jobs[i]);
    int failed = 0;
    for (int i = 0; i < nt; i++) {
        if (started[i]) pthread_join(th[i], NULL);
        failed |= jobs[i].failed;
    }
    alias_free(&a), fast_free(&f);
    if (failed) return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan replica)");
    qsort(null, (size_t)reps, sizeof *null, dbl_cmp);
    return GW_OK;
}

/* Each zone's p-value from the sorted replica maxima: (replicas at least as extreme + 1) /
 * (replicas + 1). */
static void p_values(gw_scan_zone *z, size_t keep, const double *null, int reps)
{
    for (size_t k = 0; k < keep; k++) {
        /* replicas at least as extreme: the tail above the first index with null >= llr */
        size_t lo = 0, hi = (size_t)reps;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (null[mid] >= z[k].llr) hi = mid;
            else lo = mid + 1;
        }
        z[k].p = (double)((size_t)reps - lo + 1) / (reps + 1);
    }
}

gw_status gw_scan_lattice(gw_ctx *ctx, const gw_lattice *lat, const gw_scan_opts *opts,
                          gw_scan_zone **out, size_t *n, double **max_null)
{
    *out = NULL, *n = 0;
    if (max_null) *max_null = NULL;
    if (!lat || !opts || !lat->count || !lat->expected || lat->nx == 0 || lat->ny == 0 ||
        !(lat->cell > 0))
        return gw_ctx_error(ctx, GW_ERR_ARG, "scan: an empty lattice or no options");
    if (!(opts->max_radius >= 0) || opts->max_radius > 1e3 * lat->cell)
        return gw_ctx_error(ctx, GW_ERR_RANGE, "scan: max_radius %g m for %g-m cells",
                            opts->max_radius, lat->cell);
    size_t N = lat->nx * lat->ny;
    double C = 0, E = 0;
    for (size_t k = 0; k < N; k++) {
        if (lat->in && !lat->in[k]) continue;
        if (!(lat->count[k] >= 0) || !(lat->expected[k] >= 0) || !isfinite(lat->expected[k]))
            return gw_ctx_error(ctx, GW_ERR_RANGE, "scan: cell %zu has count %g, expected %g", k,
                                lat->count[k], lat->expected[k]);
        C += lat->count[k], E += lat->expected[k];
    }
    if (!(C > 0) || !(E > 0)) return GW_OK; /* nothing to find */
    tmpl t;
    if (tmpl_make(&t, lat->cell, opts->max_radius))
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan template)");
    scan_job J = {.lat = lat,
                  .t = &t,
                  .C = C,
                  .scale = C / E,
                  .min_cases = opts->min_cases > 0 ? opts->min_cases : 2,
                  .min_rr = opts->min_rr};
    gw_scan_zone *z = malloc(N * sizeof *z);
    if (!z)
        return tmpl_free(&t),
               gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan of %zu cells)", N);
    size_t m = 0;
    for (size_t k = 0; k < N; k++) {
        if ((lat->in && !lat->in[k]) || (opts->centres && !opts->centres[k])) continue;
        gw_scan_zone b = scan_centre(&J, lat->count, k);
        if (b.llr > 0) z[m++] = b;
    }
    size_t keep = select_zones(lat, z, m, opts->max_zones ? opts->max_zones : 1000,
                               opts->max_radius);
    if (keep == (size_t)-1)
        return free(z), tmpl_free(&t), gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (zones)");
    int reps = opts->replications > 0 ? opts->replications : 0;
    double *null = NULL;
    if (reps) {
        gw_status st = (null = calloc((size_t)reps, sizeof *null))
                           ? run_replicas(ctx, &J, opts, reps, null)
                           : gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (scan replicas)");
        if (st) return free(null), free(z), tmpl_free(&t), st;
        p_values(z, keep, null, reps);
    }
    tmpl_free(&t);
    gw_scan_zone *shrunk = realloc(z, (keep ? keep : 1) * sizeof *z);
    *out = shrunk ? shrunk : z, *n = keep;
    if (max_null) *max_null = null;
    else free(null);
    return GW_OK;
}
