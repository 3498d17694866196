/* lisa.c — Local Moran's I with conditional permutation pseudo p-values, computed as R
 * spdep::localmoran (the statistic) and PySAL esda / spdep::localmoran_perm (the folded
 * permutation p) do, so that a planner can reproduce any figure; see lisa.h.
 * Each unit draws its permutations from its own seeded stream: results do not depend on order. */
#include "gridwatch/lisa.h"

#include <math.h>
#include <stdlib.h>

static const char *const names[GW_LISA_CLASS_COUNT] = {
    "not_significant", "HH", "LH", "LL", "HL", "no_neighbours", "no_value"};

const char *gw_lisa_class_name(gw_lisa_class c)
{
    return (unsigned)c < GW_LISA_CLASS_COUNT ? names[c] : "unknown";
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n) (Lemire's multiply-shift; the bias is below 2^-32 for our n). */
static size_t draw(uint64_t *s, size_t n)
{
    return (size_t)(((unsigned __int128)splitmix(s) * n) >> 64);
}

gw_status gw_lisa(gw_ctx *ctx, const gw_weights *w, const double *x, const uint8_t *valid, size_t n,
                  const gw_lisa_opts *opts, double *I, double *p, uint8_t *quad, uint8_t *cls)
{
    gw_lisa_opts dflt = {0};
    if (!opts) opts = &dflt;
    if (!w || !x || !I) return gw_ctx_error(ctx, GW_ERR_ARG, "lisa: NULL argument");
    if (gw_weights_count(w) != n)
        return gw_ctx_error(ctx, GW_ERR_ARG, "lisa: %zu values for weights over %zu units", n,
                            gw_weights_count(w));
    int R = opts->permutations == 0 ? 999 : opts->permutations;
    double alpha = opts->alpha > 0 ? opts->alpha : 0.05;
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!valid || valid[i]) {
            if (!isfinite(x[i]))
                return gw_ctx_error(ctx, GW_ERR_RANGE, "lisa: value %zu is not finite", i);
            sum += x[i], m++;
        }
    if (m < 3)
        return gw_ctx_error(ctx, GW_ERR_RANGE,
                            "lisa: needs at least 3 units with a value (have %zu)", m);
    double mean = sum / (double)m, m2 = 0;
    double *z = malloc(n * sizeof *z);
    size_t *vpos = malloc(n * sizeof *vpos), *vidx = malloc(m * sizeof *vidx);
    size_t *pick = NULL, pcap = 0;
    if (!z || !vpos || !vidx) {
        free(z), free(vpos), free(vidx);
        return gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (lisa over %zu units)", n);
    }
    for (size_t i = 0, k = 0; i < n; i++) {
        z[i] = (!valid || valid[i]) ? x[i] - mean : 0;
        if (!valid || valid[i]) vpos[i] = k, vidx[k++] = i, m2 += z[i] * z[i];
    }
    m2 /= (double)m;
    gw_status st = GW_OK;
    if (!(m2 > 0))
        st = gw_ctx_error(ctx, GW_ERR_RANGE,
                          "lisa: all %zu values are equal (%g); no clusters can be told apart", m,
                          mean);
    for (size_t i = 0; i < n && !st; i++) {
        I[i] = NAN;
        if (p) p[i] = NAN;
        if (quad) quad[i] = 0;
        if (cls) cls[i] = GW_LISA_NO_VALUE;
        if (valid && !valid[i]) continue;
        size_t kn;
        const uint32_t *nb = gw_weights_neighbours(w, i, &kn);
        size_t k = 0;
        double lz = 0;
        for (size_t a = 0; a < kn; a++)
            if (!valid || valid[nb[a]]) lz += z[nb[a]], k++;
        if (cls) cls[i] = GW_LISA_NO_NEIGHBOURS;
        if (!k) continue;
        lz /= (double)k;
        double Ii = z[i] / m2 * lz;
        I[i] = Ii;
        int zp = z[i] > 0, lp = lz > 0;
        uint8_t q = zp && lp ? 1 : !zp && lp ? 2 : !zp && !lp ? 3 : 4;
        if (quad) quad[i] = q;
        double pv = NAN;
        if (R > 0 && k < m) {
            if (k > pcap) {
                size_t *np = realloc(pick, k * sizeof *np);
                if (!np) {
                    st = gw_ctx_error(ctx, GW_ERR_NOMEM, "out of memory (lisa permutations)");
                    break;
                }
                pick = np, pcap = k;
            }
            uint64_t s = opts->seed ^ ((uint64_t)i * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull);
            size_t self = vpos[i], larger = 0;
            double scale = z[i] / m2 / (double)k;
            for (int r = 0; r < R; r++) {
                double acc = 0;
                for (size_t a = 0; a < k; a++) {
                    size_t v;
                    int dup;
                    do { /* k distinct positions among the m − 1 others */
                        v = draw(&s, m - 1);
                        v += v >= self;
                        dup = 0;
                        for (size_t b = 0; b < a && !dup; b++) dup = pick[b] == v;
                    } while (dup);
                    pick[a] = v;
                    acc += z[vidx[v]];
                }
                larger += acc * scale >= Ii;
            }
            if ((size_t)R - larger < larger) larger = (size_t)R - larger;
            pv = ((double)larger + 1) / ((double)R + 1);
        }
        if (p) p[i] = pv;
        if (cls) cls[i] = pv <= alpha ? q : GW_LISA_NOT_SIGNIFICANT;
    }
    free(z), free(vpos), free(vidx), free(pick);
    return st;
}
