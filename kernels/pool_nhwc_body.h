/* The pooling loops of pool_nhwc.h for one data type and ISA. Included with PN_T (float or
 * double), PN_SUFFIX (f32, f64), PN_ISA (base, avx2, avx512) and PN_TARGET (the attributes
 * that enable the ISA) defined. The innermost loops run over the channels of one pixel: the
 * max pool's in explicit vectors of the ISA (a pixel has only tens of channels: a compiler's
 * vectorised loop spent more time entering and leaving than working), the others left to
 * GCC's vectoriser. */

#define PN_NAME(x) PN_CAT(PN_CAT(pn_, PN_ISA), PN_CAT(_, PN_CAT(x, PN_SUFFIX)))
#define PN_TYPE(x) PN_CAT(PN_CAT(pn_, PN_ISA), PN_CAT(_, PN_CAT(PN_SUFFIX, x)))
#define PN_VEC PN_TYPE(_vec)
#define PN_MASK PN_TYPE(_mask)
#define PN_CODES PN_TYPE(_codes)
#define PN_L ((ptrdiff_t)(sizeof(PN_VEC) / sizeof(PN_T)))

/* take ? a : b, lane by lane, for a comparison's mask `take` */
static inline PN_TARGET PN_VEC PN_NAME(select_)(PN_MASK take, PN_VEC a, PN_VEC b)
{
    return (PN_VEC)(((PN_MASK)a & take) | ((PN_MASK)b & ~take));
}

/* The max and its tap over the window's taps for channels c .. c+L-1 (a vector each). */
static inline PN_TARGET void PN_NAME(max_vector_)(const pn_window *w, const PN_T *restrict x,
                                                   ptrdiff_t top, ptrdiff_t left, int i0,
                                                   int i1, int j0, int j1, ptrdiff_t c,
                                                   PN_T *restrict yp, int32_t *restrict cp)
{
    const ptrdiff_t C = w->C;
    PN_VEC best = *(const PN_VEC *)(x + ((top + (ptrdiff_t)i0 * w->dh) * w->W + left +
                                         (ptrdiff_t)j0 * w->dw) * C + c);
    PN_MASK code = (PN_MASK){0} + (i0 * w->kw + j0);
    for (int i = i0; i < i1; i++) {
        const PN_T *restrict row = x + (top + (ptrdiff_t)i * w->dh) * w->W * C + c;
        for (int j = (i == i0 ? j0 + 1 : j0); j < j1; j++) {
            const PN_VEC v = *(const PN_VEC *)(row + (left + (ptrdiff_t)j * w->dw) * C);
            const PN_MASK take = (v > best) | (v != v);      /* a NaN wins, the last one */
            best = PN_NAME(select_)(take, v, best);
            code = (take & (i * w->kw + j)) | (~take & code);
        }
    }
    *(PN_VEC *)(yp + c) = best;
    *(PN_CODES *)(cp + c) = __builtin_convertvector(code, PN_CODES);
}

/* Rows oh0 <= oh < oh1 of one sample's max pool: y and code (OH, OW, C). */
static PN_TARGET void PN_NAME(max_forward_)(const pn_window *w, const PN_T *restrict x,
                                             PN_T *restrict y, int32_t *restrict code,
                                             ptrdiff_t oh0, ptrdiff_t oh1)
{
    const ptrdiff_t C = w->C;
    for (ptrdiff_t oh = oh0; oh < oh1; oh++) {
        const ptrdiff_t top = oh * w->sh - w->ph;
        int i0, i1;
        pn_taps(top, w->kh, w->dh, w->H, &i0, &i1);
        for (ptrdiff_t ow = 0; ow < w->OW; ow++) {
            const ptrdiff_t left = ow * w->sw - w->pw;
            PN_T *restrict yp = y + (oh * w->OW + ow) * C;
            int32_t *restrict cp = code + (oh * w->OW + ow) * C;
            int j0, j1;
            pn_taps(left, w->kw, w->dw, w->W, &j0, &j1);
            if (i0 == i1 || j0 == j1) {        /* every tap in the padding */
                const int32_t spill = -1 - (int32_t)pn_first_inside(w, top, left);
                for (ptrdiff_t c = 0; c < C; c++) {
                    yp[c] = -INFINITY;
                    cp[c] = spill;
                }
                continue;
            }
            ptrdiff_t c = 0;
            for (; c + PN_L <= C; c += PN_L)
                PN_NAME(max_vector_)(w, x, top, left, i0, i1, j0, j1, c, yp, cp);
            for (; c < C; c++) {      /* the channels past the last whole vector */
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++) {
                        const PN_T v = x[((top + (ptrdiff_t)i * w->dh) * w->W + left +
                                          (ptrdiff_t)j * w->dw) * C + c];
                        const int32_t k = i * w->kw + j;
                        if ((i == i0 && j == j0) || v > yp[c] || v != v) {
                            yp[c] = v;
                            cp[c] = k;
                        }
                    }
            }
        }
    }
}

/* One sample's dx (H, W, C) from dy and code (OH, OW, C), every dx number written. */
static PN_TARGET void PN_NAME(max_backward_)(const pn_window *w, const PN_T *restrict dy,
                                              const int32_t *restrict code, PN_T *restrict dx)
{
    const ptrdiff_t C = w->C;
    const int overlap = w->sh < (w->kh - 1) * w->dh + 1 || w->sw < (w->kw - 1) * w->dw + 1;
    const int spills = pn_has_empty_window(w);
    const int add = overlap || spills;
    if (add)
        memset(dx, 0, (size_t)(w->H * w->W * C) * sizeof(PN_T));
    else                 /* each pixel in at most one window: zero those in none */
        for (ptrdiff_t r = 0; r < w->H; r++) {
            PN_T *restrict row = dx + r * w->W * C;
            ptrdiff_t q = 0;   /* columns before q are handled */
            if (!pn_row_in_a_window(w, r)) {
                memset(row, 0, (size_t)(w->W * C) * sizeof(PN_T));
                continue;
            }
            /* the windows' tap columns, in increasing order: zero the gaps between them */
            for (ptrdiff_t ow = 0; ow < w->OW; ow++)
                for (int j = 0; j < w->kw; j++) {
                    const ptrdiff_t col = ow * w->sw - w->pw + (ptrdiff_t)j * w->dw;
                    if (col < 0 || col >= w->W) continue;
                    if (col > q) memset(row + q * C, 0, (size_t)((col - q) * C) * sizeof(PN_T));
                    q = col + 1;
                }
            if (q < w->W) memset(row + q * C, 0, (size_t)((w->W - q) * C) * sizeof(PN_T));
        }
    for (ptrdiff_t oh = 0; oh < w->OH; oh++) {
        const ptrdiff_t top = oh * w->sh - w->ph;
        int i0, i1;
        pn_taps(top, w->kh, w->dh, w->H, &i0, &i1);
        for (ptrdiff_t ow = 0; ow < w->OW; ow++) {
            const ptrdiff_t left = ow * w->sw - w->pw;
            const PN_T *restrict gp = dy + (oh * w->OW + ow) * C;
            const int32_t *restrict cp = code + (oh * w->OW + ow) * C;
            int j0, j1;
            pn_taps(left, w->kw, w->dw, w->W, &j0, &j1);
            if (i0 == i1 || j0 == j1) {
                /* torch's index of an all-padding window: followed, inside the plane */
                const ptrdiff_t at = -1 - (ptrdiff_t)cp[0];
                if (at < w->H * w->W)
                    for (ptrdiff_t c = 0; c < C; c++) dx[at * C + c] += gp[c];
                continue;
            }
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) {
                    PN_T *restrict xp = dx + ((top + (ptrdiff_t)i * w->dh) * w->W + left +
                                              (ptrdiff_t)j * w->dw) * C;
                    const int32_t k = i * w->kw + j;
                    ptrdiff_t c = 0;
                    for (; c + PN_L <= C; c += PN_L) {
                        const PN_MASK won = __builtin_convertvector(
                            *(const PN_CODES *)(cp + c), PN_MASK) == k;
                        const PN_VEC g = (PN_VEC)((PN_MASK)(*(const PN_VEC *)(gp + c)) & won);
                        if (add)
                            *(PN_VEC *)(xp + c) += g;
                        else
                            *(PN_VEC *)(xp + c) = g;
                    }
                    for (; c < C; c++) {
                        const PN_T g = cp[c] == k ? gp[c] : 0;
                        xp[c] = add ? xp[c] + g : g;
                    }
                }
        }
    }
}

/* Rows oh0 <= oh < oh1 of one sample's average pool over the windows rows [r0[oh], r1[oh]) x
 * columns [c0[ow], c1[ow]): y = sum / (den_h[oh] * den_w[ow]), summed in double in acc (C
 * numbers); an empty window gives 0. */
static PN_TARGET void PN_NAME(avg_forward_)(const pn_window *w, const ptrdiff_t *bounds,
                                             const double *den_h, const double *den_w,
                                             const PN_T *restrict x, PN_T *restrict y,
                                             double *restrict acc, ptrdiff_t oh0,
                                             ptrdiff_t oh1)
{
    const ptrdiff_t C = w->C, *r0 = bounds, *r1 = bounds + w->OH;
    const ptrdiff_t *c0 = bounds + 2 * w->OH, *c1 = c0 + w->OW;
    for (ptrdiff_t oh = oh0; oh < oh1; oh++)
        for (ptrdiff_t ow = 0; ow < w->OW; ow++) {
            PN_T *restrict yp = y + (oh * w->OW + ow) * C;
            if (r0[oh] >= r1[oh] || c0[ow] >= c1[ow]) {
                for (ptrdiff_t c = 0; c < C; c++) yp[c] = 0;
                continue;
            }
            for (ptrdiff_t c = 0; c < C; c++) acc[c] = 0;
            for (ptrdiff_t r = r0[oh]; r < r1[oh]; r++)
                for (ptrdiff_t q = c0[ow]; q < c1[ow]; q++) {
                    const PN_T *restrict xp = x + (r * w->W + q) * C;
                    for (ptrdiff_t c = 0; c < C; c++) acc[c] += (double)xp[c];
                }
            const double divisor = den_h[oh] * den_w[ow];
            for (ptrdiff_t c = 0; c < C; c++) yp[c] = (PN_T)(acc[c] / divisor);
        }
}

/* One sample's dx (H, W, C) of the average pool: dx = 0, then dx[window] += dy / divisor
 * (divided in the data type, as torch) output by output. */
static PN_TARGET void PN_NAME(avg_backward_)(const pn_window *w, const ptrdiff_t *bounds,
                                              const double *den_h, const double *den_w,
                                              const PN_T *restrict dy, PN_T *restrict dx)
{
    const ptrdiff_t C = w->C, *r0 = bounds, *r1 = bounds + w->OH;
    const ptrdiff_t *c0 = bounds + 2 * w->OH, *c1 = c0 + w->OW;
    memset(dx, 0, (size_t)(w->H * w->W * C) * sizeof(PN_T));
    for (ptrdiff_t oh = 0; oh < w->OH; oh++)
        for (ptrdiff_t ow = 0; ow < w->OW; ow++) {
            const PN_T *restrict gp = dy + (oh * w->OW + ow) * C;
            const PN_T divisor = (PN_T)(den_h[oh] * den_w[ow]);
            for (ptrdiff_t r = r0[oh]; r < r1[oh]; r++)
                for (ptrdiff_t q = c0[ow]; q < c1[ow]; q++) {
                    PN_T *restrict xp = dx + (r * w->W + q) * C;
                    for (ptrdiff_t c = 0; c < C; c++) xp[c] += gp[c] / divisor;
                }
        }
}

#undef PN_NAME
#undef PN_TYPE
#undef PN_VEC
#undef PN_MASK
#undef PN_CODES
#undef PN_L
#undef PN_T
#undef PN_SUFFIX
#undef PN_ISA
#undef PN_TARGET
