/* coverage_diff.c — what changed between two versions of the cameras or police rooms, as the
 * boxes it can touch: a changed camera's old and new view envelopes, a moved room's old and new
 * reach (gw_coverage_update then recomputes, or moves, the grids those boxes meet). */
#include "coverage_work.h"

static void box_add(cov_boxes *b, double x, double y, double r)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 16;
        gw_bbox *p = realloc(b->v, nc * sizeof *p);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->v = p, b->cap = nc;
    }
    b->v[b->n++] = (gw_bbox){x - r, y - r, x + r, y + r};
}

/* The envelope of a view's polygon (what it can change: a grid whose envelope it misses keeps
 * its figures and its blind spots). */
static void box_view(cov_boxes *b, double x, double y, double az, double f, double r)
{
    double xy[2 * SECTOR_CAP];
    size_t n = gw_coverage_sector(x, y, az, f, r, xy, SECTOR_CAP);
    if (!n) return;
    box_add(b, x, y, 0);
    if (b->oom) return;
    gw_bbox *e = &b->v[b->n - 1];
    for (size_t k = 0; k < n; k++) {
        if (xy[2 * k] < e->minx) e->minx = xy[2 * k];
        if (xy[2 * k] > e->maxx) e->maxx = xy[2 * k];
        if (xy[2 * k + 1] < e->miny) e->miny = xy[2 * k + 1];
        if (xy[2 * k + 1] > e->maxy) e->maxy = xy[2 * k + 1];
    }
}

/* A camera's view (reach 0) or a police room's reach into b. */
static void view_box(cov_boxes *b, const camcols *cc, size_t r, double reach)
{
    double az, fov, rg;
    double x = gw_layer_data_x(cc->d, GW_MODEL_METRIC)[r],
           y = gw_layer_data_y(cc->d, GW_MODEL_METRIC)[r];
    if (reach > 0) box_add(b, x, y, reach);
    else if (cov_cam_view(cc, r, &az, &fov, &rg)) box_view(b, x, y, az, fov, rg);
}

static int same_camera(const camcols *a, size_t i, const camcols *b, size_t j)
{
    double az1, f1, r1, az2, f2, r2;
    int v1 = cov_cam_view(a, i, &az1, &f1, &r1), v2 = cov_cam_view(b, j, &az2, &f2, &r2);
    if (v1 != v2) return 0;
    return !v1 || (a->x[i] == b->x[j] && a->y[i] == b->y[j] && az1 == az2 && f1 == f2 && r1 == r2);
}

void cov_diff_points(const gw_layer_data *o, const gw_layer_data *n, double reach, cov_boxes *b)
{
    camcols co, cn;
    cov_camcols_init(&co, o), cov_camcols_init(&cn, n);
    size_t no = o ? gw_layer_data_count(o) : 0, nn = n ? gw_layer_data_count(n) : 0, i = 0, j = 0;
    const double *ox = o ? gw_layer_data_x(o, GW_MODEL_METRIC) : NULL,
                 *oy = o ? gw_layer_data_y(o, GW_MODEL_METRIC) : NULL;
    const double *nx = n ? gw_layer_data_x(n, GW_MODEL_METRIC) : NULL,
                 *ny = n ? gw_layer_data_y(n, GW_MODEL_METRIC) : NULL;
    while (i < no || j < nn) {
        int cmp = i == no   ? 1
                  : j == nn ? -1
                            : strcmp(gw_layer_data_id(o, i), gw_layer_data_id(n, j));
        if (cmp == 0) {
            int same = reach > 0 ? ox[i] == nx[j] && oy[i] == ny[j] : same_camera(&co, i, &cn, j);
            if (!same) view_box(b, &co, i, reach), view_box(b, &cn, j, reach);
            i++, j++;
        } else if (cmp < 0) {
            view_box(b, &co, i, reach);
            i++;
        } else {
            view_box(b, &cn, j, reach);
            j++;
        }
    }
}

/* Row i of an optional real column is the same in both layers (both NULL, or equal values). */
static int same_opt(const double *a, const uint8_t *na, const double *b, const uint8_t *nb,
                    size_t i)
{
    int n1 = !a || (na && na[i]), n2 = !b || (nb && nb[i]);
    return n1 == n2 && (n1 || a[i] == b[i]);
}

/* Camera row i of co and cn: 1 when its view differs (both views' boxes then added to b). */
static int diff_cam_row(const camcols *co, const camcols *cn, size_t i, cov_boxes *b)
{
    double a1, f1, r1, a2, f2, r2;
    int v1 = cov_cam_view(co, i, &a1, &f1, &r1), v2 = cov_cam_view(cn, i, &a2, &f2, &r2);
    if (v1 == v2 &&
        (!v1 || (co->x[i] == cn->x[i] && co->y[i] == cn->y[i] && a1 == a2 && f1 == f2 && r1 == r2)))
        return 0;
    if (v1) box_view(b, co->x[i], co->y[i], a1, f1, r1);
    if (v2) box_view(b, cn->x[i], cn->y[i], a2, f2, r2);
    return 1;
}

/* Cameras compared row by row: a differing pair adds both views' boxes.  Views are what
 * matters, not ids: equal parameters at a row give the same view whoever the camera is, and a
 * row that differs contributes its old and new view, so the boxes cover every change.
 * rows (nrows of them; NULL: every row) are the rows that may differ.  *one receives the row
 * when exactly one differs, else SIZE_MAX.  Returns 0 (nothing added) when more than `limit`
 * rows differ: the id merge is cheaper then. */
int cov_diff_cams_by_row(const camcols *co, const camcols *cn, const size_t *rows, size_t nrows,
                         size_t limit, cov_boxes *b, size_t *one)
{
    *one = SIZE_MAX;
    size_t no = co->d ? gw_layer_data_count(co->d) : 0, nn = cn->d ? gw_layer_data_count(cn->d) : 0,
           nd = 0;
    if (no != nn) return 0;
    size_t n0 = b->n, last = SIZE_MAX;
    /* Fast path over the raw columns (the status read once per layer into on[]): a row whose
     * every input is bitwise the same has the same view. */
    int raw = co->on && cn->on && co->x && cn->x && co->rg && cn->rg;
    size_t nloop = rows ? nrows : no;
    for (size_t k = 0; k < nloop; k++) {
        size_t i = rows ? rows[k] : k;
        if (raw && co->on[i] == cn->on[i] && co->x[i] == cn->x[i] && co->y[i] == cn->y[i] &&
            co->rg[i] == cn->rg[i] && same_opt(co->az, co->naz, cn->az, cn->naz, i) &&
            same_opt(co->fov, co->nfov, cn->fov, cn->nfov, i) &&
            same_opt(co->rg, co->nrg, cn->rg, cn->nrg, i))
            continue;
        if (!diff_cam_row(co, cn, i, b)) continue;
        if (++nd > limit) {
            b->n = n0;
            return 0;
        }
        last = i;
    }
    if (nd == 1) *one = last;
    return 1;
}
