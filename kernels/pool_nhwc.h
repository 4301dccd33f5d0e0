/* 2-D pooling on channels-last (NHWC) samples: every loop runs over the C channels of a pixel
 * innermost, contiguous, so it vectorises; compiled per ISA (base, AVX2, AVX-512) through
 * pool_nhwc_body.h and chosen at run time.
 *
 * One sample: x (H, W, C), y (OH, OW, C). The window of output (oh, ow) has the taps
 * (i, j), i < kh, j < kw, at input row oh*sh - ph + i*dh and column ow*sw - pw + j*dw; taps
 * outside the image are skipped (max: padding is -inf; avg: padding counts or not).
 *
 * max:      y = the window's maximum, NaN winning (the last NaN, as torch); code = i*kw + j of
 *           the winner (int32; the first maximum); a window with no tap inside gives -inf
 *           and code -1 - (torch's index for it: pn_first_inside). Backward: dx[tap(code)]
 *           += dy, and for such a window dx[torch's index] += dy where it lies in the plane,
 *           as torch's backward does.
 * avg:      windows given as row bounds [r0, r1) per output row and column bounds [c0, c1)
 *           per output column (average and adaptive average pooling alike), divisor
 *           den_h[oh] * den_w[ow]: y = (sum over the window, in double) / divisor; backward
 *           dx[window] += dy / divisor.
 *
 * When max-pool windows do not overlap (stride >= the dilated kernel), every input pixel is
 * in at most one window: the backward pass writes each dx number once (no zeroing pass, no
 * read-modify-write). Otherwise dx is zeroed and the contributions added output by output, in
 * a fixed order. One sample is one thread's work: results do not depend on the thread count.
 */
#ifndef MINIGRAD_POOL_NHWC_H
#define MINIGRAD_POOL_NHWC_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "isa.h"

#define PN_CAT_(a, b) a##b
#define PN_CAT(a, b) PN_CAT_(a, b)

/* A pooling window's geometry (one axis each for rows and columns). */
typedef struct {
    ptrdiff_t H, W, C, OH, OW;
    int kh, kw, sh, sw, ph, pw, dh, dw;
} pn_window;

/* Taps i < k at positions start + i*d inside [0, size): [*lo, *hi). */
static inline void pn_taps(ptrdiff_t start, int k, int d, ptrdiff_t size, int *lo, int *hi)
{
    ptrdiff_t a = start >= 0 ? 0 : (-start + d - 1) / d;
    ptrdiff_t b = size - start <= 0 ? 0 : (size - 1 - start) / d + 1;
    if (b > k) b = k;
    if (a > b) a = b;
    *lo = (int)a;
    *hi = (int)b;
}

/* torch's index for a max-pool window with every tap in the padding: the flat position
 * row*W + col of its first tap at or below and right of the plane's top-left corner (which
 * may lie outside the plane). */
static inline ptrdiff_t pn_first_inside(const pn_window *w, ptrdiff_t top, ptrdiff_t left)
{
    const ptrdiff_t row = top < 0 ? top + (-top + w->dh - 1) / w->dh * w->dh : top;
    const ptrdiff_t col = left < 0 ? left + (-left + w->dw - 1) / w->dw * w->dw : left;
    return row * w->W + col;
}

/* Whether some max-pool window has every tap in the padding (possible with dilation). */
static inline int pn_has_empty_window(const pn_window *w)
{
    int lo, hi;
    for (ptrdiff_t oh = 0; oh < w->OH; oh++) {
        pn_taps(oh * w->sh - w->ph, w->kh, w->dh, w->H, &lo, &hi);
        if (lo == hi) return 1;
    }
    for (ptrdiff_t ow = 0; ow < w->OW; ow++) {
        pn_taps(ow * w->sw - w->pw, w->kw, w->dw, w->W, &lo, &hi);
        if (lo == hi) return 1;
    }
    return 0;
}

/* Whether input row r is a tap row of some window (windows that do not overlap). */
static inline int pn_row_in_a_window(const pn_window *w, ptrdiff_t r)
{
    const ptrdiff_t oh = (r + w->ph) / w->sh, i = r + w->ph - oh * w->sh;
    return oh < w->OH && i % w->dh == 0 && i / w->dh < w->kh;
}

/* Vectors for each (type, ISA): PN_VEC of the data, PN_MASK of signed integers as wide (what a
 * comparison gives), PN_CODES of the int32 codes, all with the same lanes; unaligned. */
#define PN_VECTORS(T, I, BYTES, NAME)                                                          \
    typedef T NAME##_vec __attribute__((vector_size(BYTES), aligned(sizeof(T)), may_alias));   \
    typedef I NAME##_mask __attribute__((vector_size(BYTES), aligned(sizeof(T)), may_alias));  \
    typedef int32_t NAME##_codes                                                              \
        __attribute__((vector_size(BYTES / sizeof(T) * 4), aligned(4), may_alias));
PN_VECTORS(float, int32_t, 16, pn_base_f32)
PN_VECTORS(double, int64_t, 16, pn_base_f64)
PN_VECTORS(float, int32_t, 32, pn_avx2_f32)
PN_VECTORS(double, int64_t, 32, pn_avx2_f64)
PN_VECTORS(float, int32_t, 64, pn_avx512_f32)
PN_VECTORS(double, int64_t, 64, pn_avx512_f64)

#define PN_T float
#define PN_SUFFIX f32
#define PN_ISA base
#define PN_TARGET
#include "pool_nhwc_body.h"
#define PN_T double
#define PN_SUFFIX f64
#define PN_ISA base
#define PN_TARGET
#include "pool_nhwc_body.h"
#if MG_X86
#define PN_T float
#define PN_SUFFIX f32
#define PN_ISA avx2
#define PN_TARGET MG_TARGET_AVX2
#include "pool_nhwc_body.h"
#define PN_T double
#define PN_SUFFIX f64
#define PN_ISA avx2
#define PN_TARGET MG_TARGET_AVX2
#include "pool_nhwc_body.h"
#define PN_T float
#define PN_SUFFIX f32
#define PN_ISA avx512
#define PN_TARGET MG_TARGET_AVX512
#include "pool_nhwc_body.h"
#define PN_T double
#define PN_SUFFIX f64
#define PN_ISA avx512
#define PN_TARGET MG_TARGET_AVX512
#include "pool_nhwc_body.h"
#endif
#define PN_DISPATCH(isa, name, SUFFIX, args) MG_DISPATCH(pn, isa, PN_CAT(name, SUFFIX), args)

/* The entry points kernels/pool.pyx calls: one sample, the ISA's variant. */
#define PN_ENTRIES(T, SUFFIX)                                                                 \
static void PN_CAT(pn_max_forward_, SUFFIX)(int isa, const pn_window *w, const T *x, T *y,    \
                                            int32_t *code, ptrdiff_t oh0, ptrdiff_t oh1)      \
{                                                                                             \
    PN_DISPATCH(isa, max_forward_, SUFFIX, (w, x, y, code, oh0, oh1));                        \
}                                                                                             \
static void PN_CAT(pn_max_backward_, SUFFIX)(int isa, const pn_window *w, const T *dy,        \
                                             const int32_t *code, T *dx)                     \
{                                                                                             \
    PN_DISPATCH(isa, max_backward_, SUFFIX, (w, dy, code, dx));                               \
}                                                                                             \
static void PN_CAT(pn_avg_forward_, SUFFIX)(int isa, const pn_window *w,                    \
                                            const ptrdiff_t *bounds, const double *den_h,     \
                                            const double *den_w, const T *x, T *y,           \
                                            double *acc, ptrdiff_t oh0, ptrdiff_t oh1)        \
{                                                                                             \
    PN_DISPATCH(isa, avg_forward_, SUFFIX, (w, bounds, den_h, den_w, x, y, acc, oh0, oh1));   \
}                                                                                             \
static void PN_CAT(pn_avg_backward_, SUFFIX)(int isa, const pn_window *w,                   \
                                             const ptrdiff_t *bounds, const double *den_h,    \
                                             const double *den_w, const T *dy, T *dx)         \
{                                                                                             \
    PN_DISPATCH(isa, avg_backward_, SUFFIX, (w, bounds, den_h, den_w, dy, dx));               \
}
PN_ENTRIES(float, f32)
PN_ENTRIES(double, f64)

#endif
