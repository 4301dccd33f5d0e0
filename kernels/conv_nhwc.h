/* Direct 2-D convolution on channels-last (NHWC) data, vectorised over output channels.
 *
 * Shapes: input x (N, H, W, C), weights w (KH, KW, C, F) ("HWIO"), output y (N, OH, OW, F);
 * per axis a stride s, a dilation d and a top/left padding p:
 *
 *     y[n, i, j, f] = bias[f] + sum over a < KH, b < KW, c < C of
 *                     x[n, i*sh - ph + a*dh, j*sw - pw + b*dw, c] * w[a, b, c, f]
 *
 * with x read as 0 outside the image.
 *
 * Forward. An output row is cut into tiles of CW pixels; a tile and a block of NV vectors of
 * output channels keep their CW * NV sums in registers (CW * NV <= 28 with 32 vector
 * registers, <= 12 with 16). Each step of the inner loop loads NV vectors of weights
 * (contiguous over f) and broadcasts one input number per pixel. The input rows a work item
 * needs are first copied into a zero-padded slab (xs[r, q, c], Wp pixels a row), so the tiles
 * have no edge cases; tap rows that read only padding are skipped. With dilation 1 a tap row's
 * KW * C numbers are contiguous in the slab (pixel q, tap b reads xs[r, q + b, c]), so the
 * inner loop runs over them as one run (run = KW * C); with dilation, one run per tap
 * (run = C, runs KW * dw * C apart). The weights are read in HWIO order (t = b * C + c), which
 * is the order minigrad's Conv2d stores them in: no packing per call.
 *
 * Gradient to the input (stride 1): the forward on dy with the weights flipped in both spatial
 * axes and their channel axes swapped (wt[a, b, f, c] = w[KH-1-a, KW-1-b, c, f]), padding
 * d*(K-1) - p.
 *
 * Gradient to the weights: dw[a, b, c, f] = sum over n, i, j of x[n, i*sh - ph + a*dh,
 * j*sw - pw + b*dw, c] * dy[n, i, j, f], tiles of CB input numbers (t = b*C + c again, or c
 * within one tap) x NV vectors of f, summed over blocks of pixels that stay in the L1 cache.
 * The output rows (n, i) of the batch are cut into G groups of consecutive rows, G set by the
 * shapes alone (kernels/conv.pyx `weight_gradient_groups`); each group's partial sum runs over
 * its pixels in order, from 0 (the first group's directly in dw), and the partials are added
 * into dw in group order. The bits do not depend on the blocking, the tile shape, the ISA or
 * how the work is split between threads (by tiles of dw, or by groups of pixels).
 *
 * Every tile shape and ISA sums in the same order, so the choice among them (made by
 * measurement in kernels/conv.pyx) never changes a result.
 */
#ifndef MINIGRAD_CONV_NHWC_H
#define MINIGRAD_CONV_NHWC_H

#include <stddef.h>
#include <string.h>

#include "isa.h"

#if MG_X86
#include <immintrin.h>
#endif

#define CN_CAT_(a, b) a##b
#define CN_CAT(a, b) CN_CAT_(a, b)

/* Tile shapes (CW, NV) compiled for 32 vector registers (AVX-512) and for 16 (AVX2, the
 * baseline): every width up to the largest, so that a row is cut into equal tiles. */
#define CN_MAX_NV 4
#define CN_MAX_CW 16
#define CN_TILES_NV1_16(X) X(1, 1) X(2, 1) X(3, 1) X(4, 1) X(5, 1) X(6, 1) X(7, 1) X(8, 1) \
    X(9, 1) X(10, 1) X(11, 1) X(12, 1)
#define CN_TILES_32(X) CN_TILES_NV1_16(X) X(13, 1) X(14, 1) X(15, 1) X(16, 1)              \
    X(1, 2) X(2, 2) X(3, 2) X(4, 2) X(5, 2) X(6, 2) X(7, 2) X(8, 2) X(9, 2) X(10, 2)      \
    X(11, 2) X(12, 2) X(13, 2) X(14, 2)                                                   \
    X(1, 3) X(2, 3) X(3, 3) X(4, 3) X(5, 3) X(6, 3) X(7, 3) X(8, 3) X(9, 3)               \
    X(1, 4) X(2, 4) X(3, 4) X(4, 4) X(5, 4) X(6, 4) X(7, 4)
#define CN_TILES_16(X) CN_TILES_NV1_16(X)                                                   \
    X(1, 2) X(2, 2) X(3, 2) X(4, 2) X(5, 2) X(6, 2)                                       \
    X(1, 3) X(2, 3) X(3, 3) X(4, 3)                                                       \
    X(1, 4) X(2, 4) X(3, 4)

/* The largest CW compiled for each NV, by register count. */
static const int cn_max_cw_32[CN_MAX_NV] = {16, 14, 9, 7};
static const int cn_max_cw_16[CN_MAX_NV] = {12, 6, 4, 3};

typedef void (*cn_forward_fn_f32)(const float *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, int,
                                  ptrdiff_t, const float *, ptrdiff_t, const float *, float *,
                                  ptrdiff_t, int);
typedef void (*cn_forward_fn_f64)(const double *, ptrdiff_t, ptrdiff_t, int, ptrdiff_t, int,
                                  ptrdiff_t, const double *, ptrdiff_t, const double *,
                                  double *, ptrdiff_t, int);
typedef void (*cn_weight_fn_f32)(const float *, ptrdiff_t, ptrdiff_t, const float *, ptrdiff_t,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, float *, ptrdiff_t);
typedef void (*cn_weight_fn_f64)(const double *, ptrdiff_t, ptrdiff_t, const double *,
                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double *, ptrdiff_t);

typedef float cn_v16f __attribute__((vector_size(64), aligned(4), may_alias));
typedef double cn_v8d __attribute__((vector_size(64), aligned(8), may_alias));
typedef float cn_v8f __attribute__((vector_size(32), aligned(4), may_alias));
typedef double cn_v4d __attribute__((vector_size(32), aligned(8), may_alias));
typedef float cn_v4f __attribute__((vector_size(16), aligned(4), may_alias));
typedef double cn_v2d __attribute__((vector_size(16), aligned(8), may_alias));
/* Eight doubles, whatever the ISA (the bias gradient's sums; GCC splits them as it must). */
typedef double cn_d8 __attribute__((vector_size(64), aligned(8), may_alias));

/* The baseline: 128-bit vectors (SSE2 on x86-64, NEON on aarch64), 16 registers. */
#define CN_NAME(x) CN_CAT(cn_base_f32_, x)
#define CN_SUFFIX f32
#define CN_T float
#define CN_VEC cn_v4f
#define CN_TARGET
#define CN_TILES CN_TILES_16
#define CN_FMA(s, v, acc) ((acc) + (s) * (v))
#include "conv_nhwc_tiles.h"

#define CN_NAME(x) CN_CAT(cn_base_f64_, x)
#define CN_SUFFIX f64
#define CN_T double
#define CN_VEC cn_v2d
#define CN_TARGET
#define CN_TILES CN_TILES_16
#define CN_FMA(s, v, acc) ((acc) + (s) * (v))
#include "conv_nhwc_tiles.h"

#if MG_X86
#define CN_NAME(x) CN_CAT(cn_avx2_f32_, x)
#define CN_SUFFIX f32
#define CN_T float
#define CN_VEC cn_v8f
#define CN_TARGET MG_TARGET_AVX2
#define CN_TILES CN_TILES_16
#define CN_FMA(s, v, acc) ((cn_v8f)_mm256_fmadd_ps(_mm256_set1_ps(s), (__m256)(v), (__m256)(acc)))
#include "conv_nhwc_tiles.h"

#define CN_NAME(x) CN_CAT(cn_avx2_f64_, x)
#define CN_SUFFIX f64
#define CN_T double
#define CN_VEC cn_v4d
#define CN_TARGET MG_TARGET_AVX2
#define CN_TILES CN_TILES_16
#define CN_FMA(s, v, acc) ((cn_v4d)_mm256_fmadd_pd(_mm256_set1_pd(s), (__m256d)(v), (__m256d)(acc)))
#include "conv_nhwc_tiles.h"

#define CN_NAME(x) CN_CAT(cn_avx512_f32_, x)
#define CN_SUFFIX f32
#define CN_T float
#define CN_VEC cn_v16f
#define CN_TARGET MG_TARGET_AVX512
#define CN_TILES CN_TILES_32
#define CN_FMA(s, v, acc) ((cn_v16f)_mm512_fmadd_ps(_mm512_set1_ps(s), (__m512)(v), (__m512)(acc)))
#define CN_TO_D8(p) ((cn_d8)_mm512_cvtps_pd(_mm256_loadu_ps(p)))
#include "conv_nhwc_tiles.h"

#define CN_NAME(x) CN_CAT(cn_avx512_f64_, x)
#define CN_SUFFIX f64
#define CN_T double
#define CN_VEC cn_v8d
#define CN_TARGET MG_TARGET_AVX512
#define CN_TILES CN_TILES_32
#define CN_FMA(s, v, acc) ((cn_v8d)_mm512_fmadd_pd(_mm512_set1_pd(s), (__m512d)(v), (__m512d)(acc)))
#include "conv_nhwc_tiles.h"
#endif

/* Vector lanes for an ISA and element size. */
static inline int cn_lanes(int isa, int element_bytes)
{
    return (isa == MG_ISA_AVX512 ? 64 : isa == MG_ISA_AVX2 ? 32 : 16) / element_bytes;
}

/* The largest tile width compiled for this ISA and NV (0 if NV is out of range). */
static inline int cn_max_cw(int isa, int nv)
{
    if (nv < 1 || nv > CN_MAX_NV) return 0;
    return isa == MG_ISA_AVX512 ? cn_max_cw_32[nv - 1] : cn_max_cw_16[nv - 1];
}

/* A convolution's shapes and the kernel choices for it: filled in by kernels/conv.pyx. For the
 * gradient to the input it describes the forward convolution that computes it (dy as the
 * input, the flipped weights, C and F swapped). */
typedef struct {
    ptrdiff_t C, H, W;        /* input channels and size */
    ptrdiff_t F, OH, OW;      /* output channels and size */
    int KH, KW, sh, sw, ph, pw, dh, dw;   /* kernel, strides, top/left padding, dilations */
    ptrdiff_t w_step;         /* numbers per (tap, input channel) row of the weights (>= F) */
    ptrdiff_t y_step;         /* numbers per output pixel (>= F) */
    ptrdiff_t dy_step;        /* weight gradient: numbers per pixel of the copies of dy and dw */
    ptrdiff_t Wp;             /* slab row width in pixels: (OW - 1) * sw + (KW - 1) * dw + 1 */
    int isa, nv, cw;          /* ISA; tile: NV vectors of output channels x up to CW pixels
                                 (forward) or input numbers (weight gradient) */
} cn_plan;

/* Tap rows a < KH of output row i that read inside the image: [*lo, *hi). */
static inline void cn_valid_taps(const cn_plan *p, ptrdiff_t i, int *lo, int *hi)
{
    const ptrdiff_t top = i * p->sh - p->ph;      /* input row of tap 0 */
    ptrdiff_t a0 = top >= 0 ? 0 : (-top + p->dh - 1) / p->dh;
    ptrdiff_t a1 = p->H - 1 - top < 0 ? 0 : (p->H - 1 - top) / p->dh + 1;
    if (a1 > p->KH) a1 = p->KH;
    if (a0 > a1) a0 = a1;
    *lo = (int)a0;
    *hi = (int)a1;
}

/* A run of n numbers cut into the fewest blocks of at most max: `base` numbers each, the first
 * `wider` of them one more. Block k starts at k * base + min(k, wider). */
static inline void cn_even_blocks(ptrdiff_t n, int max, ptrdiff_t *blocks, ptrdiff_t *base,
                                  ptrdiff_t *wider)
{
    *blocks = (n + max - 1) / max;
    *base = n / *blocks;
    *wider = n % *blocks;
}

#define CN_TILE_FOR(KIND, T, SUFFIX)                                                           \
static CN_CAT(cn_##KIND##_fn_, SUFFIX) CN_CAT(cn_##KIND##_fn_for_, SUFFIX)(int isa, int nv,    \
                                                                           int cw)           \
{                                                                                             \
    CN_X86_ONLY(if (isa == MG_ISA_AVX512)                                                     \
                    return CN_CAT(cn_avx512_, CN_CAT(SUFFIX, _##KIND##_table))[nv - 1][cw - 1]; \
                if (isa == MG_ISA_AVX2)                                                       \
                    return CN_CAT(cn_avx2_, CN_CAT(SUFFIX, _##KIND##_table))[nv - 1][cw - 1];) \
    return CN_CAT(cn_base_, CN_CAT(SUFFIX, _##KIND##_table))[nv - 1][cw - 1];                 \
}

#define CN_DRIVERS(T, SUFFIX)                                                                  \
/* xs[r, q, c] = x[c, row0 + r, col0 + q] for r < nrows, q < Wp, c < C (0 outside the image    \
 * and for C <= c < cstep): a zero-padded channels-last copy of rows of one sample. x has      \
 * element strides (sc, sy, sx) for (channel, row, column): NCHW and NHWC sources both work. */\
static void CN_CAT(cn_copy_slab_, SUFFIX)(const T *x, ptrdiff_t sc, ptrdiff_t sy,              \
                                          ptrdiff_t sx, ptrdiff_t C, ptrdiff_t H, ptrdiff_t W, \
                                          ptrdiff_t row0, ptrdiff_t nrows, ptrdiff_t col0,    \
                                          ptrdiff_t Wp, ptrdiff_t cstep, T *xs)               \
{                                                                                             \
    ptrdiff_t q0 = col0 < 0 ? -col0 : 0, q1 = W - col0 < Wp ? W - col0 : Wp;                   \
    if (q0 > Wp) q0 = Wp;                                                                     \
    if (q1 < q0) q1 = q0;                                                                     \
    for (ptrdiff_t r = 0; r < nrows; r++) {                                                   \
        T *dst = xs + r * Wp * cstep;                                                         \
        const ptrdiff_t y = row0 + r;                                                         \
        if (y < 0 || y >= H || q1 == q0) {                                                    \
            memset(dst, 0, (size_t)(Wp * cstep) * sizeof(T));                                \
            continue;                                                                         \
        }                                                                                     \
        memset(dst, 0, (size_t)(q0 * cstep) * sizeof(T));                                     \
        memset(dst + q1 * cstep, 0, (size_t)((Wp - q1) * cstep) * sizeof(T));                 \
        const T *src = x + y * sy + (col0 + q0) * sx;                                         \
        if (sc == 1 && sx == C && cstep == C) {        /* dense channels-last rows */         \
            memcpy(dst + q0 * C, src, (size_t)((q1 - q0) * C) * sizeof(T));                   \
        } else if (sc == 1) {                          /* channels-last pixels */             \
            for (ptrdiff_t q = q0; q < q1; q++)                                               \
                memcpy(dst + q * cstep, src + (q - q0) * sx, (size_t)C * sizeof(T));          \
        } else if (C <= 4) {                           /* a few planes (an image): pixels */  \
            for (ptrdiff_t q = q0; q < q1; q++)                                               \
                for (ptrdiff_t c = 0; c < C; c++)                                             \
                    dst[q * cstep + c] = src[c * sc + (q - q0) * sx];                         \
        } else {                                       /* planes (NCHW): transpose */         \
            for (ptrdiff_t c = 0; c < C; c++)                                                 \
                for (ptrdiff_t q = q0; q < q1; q++)                                           \
                    dst[q * cstep + c] = src[c * sc + (q - q0) * sx];                         \
        }                                                                                     \
        if (cstep > C)                                 /* the channels past C */              \
            for (ptrdiff_t q = q0; q < q1; q++)                                               \
                memset(dst + q * cstep + C, 0, (size_t)(cstep - C) * sizeof(T));              \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* The bias gradient of a block of pixels (cn_sum_pixels in conv_nhwc_tiles.h), this ISA's. */ \
static void CN_CAT(cn_sum_pixels_, SUFFIX)(int isa, const T *dyb, ptrdiff_t npix,             \
                                           ptrdiff_t step, ptrdiff_t F, double *sums)        \
{                                                                                             \
    CN_X86_ONLY(if (isa == MG_ISA_AVX512) {                                                   \
                    CN_CAT(cn_avx512_, CN_CAT(SUFFIX, _sum_pixels))(dyb, npix, step, F, sums); \
                    return;                                                                   \
                }                                                                             \
                if (isa == MG_ISA_AVX2) {                                                     \
                    CN_CAT(cn_avx2_, CN_CAT(SUFFIX, _sum_pixels))(dyb, npix, step, F, sums);   \
                    return;                                                                   \
                })                                                                            \
    CN_CAT(cn_base_, CN_CAT(SUFFIX, _sum_pixels))(dyb, npix, step, F, sums);                  \
}                                                                                             \
                                                                                              \
/* dst[e] += src[e] for e < n, a multiple of the ISA's lanes (then src[e] = 0 if zero): a     \
 * partial weight gradient added into the total (cn_add_partial in conv_nhwc_tiles.h). */     \
static void CN_CAT(cn_add_, SUFFIX)(int isa, T *dst, T *src, ptrdiff_t n, int zero)           \
{                                                                                             \
    CN_X86_ONLY(if (isa == MG_ISA_AVX512) {                                                   \
                    CN_CAT(cn_avx512_, CN_CAT(SUFFIX, _add_partial))(dst, src, n, zero);      \
                    return;                                                                   \
                }                                                                             \
                if (isa == MG_ISA_AVX2) {                                                     \
                    CN_CAT(cn_avx2_, CN_CAT(SUFFIX, _add_partial))(dst, src, n, zero);        \
                    return;                                                                   \
                })                                                                            \
    CN_CAT(cn_base_, CN_CAT(SUFFIX, _add_partial))(dst, src, n, zero);                        \
}                                                                                             \
                                                                                              \
/* The compiled tile of this ISA for NV vectors and width CW: a forward or a weight tile. */   \
CN_TILE_FOR(forward, T, SUFFIX)                                                               \
CN_TILE_FOR(weight, T, SUFFIX)                                                                \
                                                                                              \
/* Output rows i0 <= i < i1 of one sample. y: y_step numbers a pixel, OW pixels a row; xs: the \
 * slab of input rows from i0*sh - ph on (cn_copy_slab_ with row0 = i0*sh - ph, col0 = -pw,    \
 * cstep = C); w: (KH, KW, C) rows of w_step numbers; bias: F numbers or NULL. */             \
static void CN_CAT(cn_forward_rows_, SUFFIX)(const cn_plan *p, const T *xs, ptrdiff_t i0,      \
                                             ptrdiff_t i1, const T *w, const T *bias, T *y)    \
{                                                                                             \
    const ptrdiff_t fb = (ptrdiff_t)p->nv * cn_lanes(p->isa, sizeof(T));                       \
    const ptrdiff_t fblocks = (p->F + fb - 1) / fb, row = p->Wp * p->C;                        \
    const int dilated = p->dw != 1;                                                            \
    const ptrdiff_t run = dilated ? p->C : p->KW * p->C;                                       \
    const int nruns = dilated ? p->KW : 1;                                                     \
    ptrdiff_t tiles, base, wider;                                                             \
    cn_even_blocks(p->OW, p->cw, &tiles, &base, &wider);                                       \
    const CN_CAT(cn_forward_fn_, SUFFIX) narrow =                                             \
        CN_CAT(cn_forward_fn_for_, SUFFIX)(p->isa, p->nv, (int)base);                         \
    const CN_CAT(cn_forward_fn_, SUFFIX) wide =                                               \
        wider ? CN_CAT(cn_forward_fn_for_, SUFFIX)(p->isa, p->nv, (int)base + 1) : narrow;    \
    for (ptrdiff_t i = i0; i < i1; i++) {                                                     \
        int a0, a1;                                                                           \
        cn_valid_taps(p, i, &a0, &a1);                                                        \
        const T *xr = xs + ((i - i0) * p->sh + (ptrdiff_t)a0 * p->dh) * row;                   \
        for (ptrdiff_t blk = 0; blk < fblocks; blk++) {                                        \
            const ptrdiff_t f0 = blk * fb;                                                    \
            const int nf = (int)(p->F - f0 < fb ? p->F - f0 : fb);                            \
            const T *wb = w + (ptrdiff_t)a0 * p->KW * p->C * p->w_step + f0;                  \
            for (ptrdiff_t t = 0, j = 0; t < tiles; j += base + (t < wider), t++)             \
                (t < wider ? wide : narrow)(xr + j * p->sw * p->C, p->sw * p->C,              \
                                            p->dh * row, a1 - a0, p->dw * p->C, nruns, run,   \
                                            wb, p->w_step, bias != NULL ? bias + f0 : NULL,   \
                                            y + (i * p->OW + j) * p->y_step + f0, p->y_step,  \
                                            nf);                                              \
        }                                                                                     \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* Weight-gradient items k0 <= k < k1 over output rows i0 <= i < i1 of one sample. An item is  \
 * (tap row a, run, block of numbers t of the run, block of NV vectors of f), numbered in that \
 * order. xs: the slab as for cn_forward_rows_; dyb: dy at rows i0 <= i < i1, OW pixels a row, \
 * dy_step numbers a pixel (whole vectors, zero past F); dwb: dw as (KH, KW, C) rows of        \
 * dy_step numbers. */                                                                        \
static void CN_CAT(cn_weight_rows_, SUFFIX)(const cn_plan *p, const T *xs, ptrdiff_t i0,       \
                                            ptrdiff_t i1, const T *dyb, ptrdiff_t k0,         \
                                            ptrdiff_t k1, T *dwb)                             \
{                                                                                             \
    const ptrdiff_t fb = (ptrdiff_t)p->nv * cn_lanes(p->isa, sizeof(T));                       \
    const ptrdiff_t fblocks = (p->F + fb - 1) / fb, row = p->Wp * p->C;                        \
    const int dilated = p->dw != 1;                                                            \
    const ptrdiff_t run = dilated ? p->C : p->KW * p->C;                                       \
    const int nruns = dilated ? p->KW : 1;                                                     \
    ptrdiff_t tblocks, base, wider;                                                           \
    cn_even_blocks(run, p->cw, &tblocks, &base, &wider);                                       \
    const CN_CAT(cn_weight_fn_, SUFFIX) narrow =                                              \
        CN_CAT(cn_weight_fn_for_, SUFFIX)(p->isa, p->nv, (int)base);                          \
    const CN_CAT(cn_weight_fn_, SUFFIX) wide =                                                \
        wider ? CN_CAT(cn_weight_fn_for_, SUFFIX)(p->isa, p->nv, (int)base + 1) : narrow;     \
    for (ptrdiff_t k = k0; k < k1; k++) {                                                     \
        const ptrdiff_t fblk = k % fblocks, tblk = k / fblocks % tblocks;                     \
        const ptrdiff_t r = k / (fblocks * tblocks) % nruns;                                  \
        const ptrdiff_t a = k / (fblocks * tblocks * nruns);                                  \
        const ptrdiff_t t0 = tblk * base + (tblk < wider ? tblk : wider);                      \
        /* the output rows whose tap row a reads inside the image */                          \
        ptrdiff_t lo = i0, hi = i1;                                                           \
        while (lo < hi && lo * p->sh - p->ph + a * p->dh < 0) lo++;                            \
        while (hi > lo && (hi - 1) * p->sh - p->ph + a * p->dh >= p->H) hi--;                  \
        if (lo == hi) continue;                                                               \
        (tblk < wider ? wide : narrow)(                                                       \
            xs + ((lo - i0) * p->sh + a * p->dh) * row + r * p->dw * p->C + t0,               \
            p->sw * p->C, p->sh * row, dyb + (lo - i0) * p->OW * p->dy_step + fblk * fb,      \
            p->dy_step, p->OW * p->dy_step, hi - lo, p->OW,                                   \
            dwb + ((a * nruns + r) * run + t0) * p->dy_step + fblk * fb, p->dy_step);         \
    }                                                                                         \
}                                                                                             \
                                                                                              \
/* dwb += part, then part = 0, on the numbers of weight-gradient items k0 <= k < k1 (numbered  \
 * as in cn_weight_rows_): one thread adds its tiles' partial sums of a group of pixels. */    \
static void CN_CAT(cn_weight_items_add_, SUFFIX)(const cn_plan *p, ptrdiff_t k0, ptrdiff_t k1, \
                                                 T *part, T *dwb)                             \
{                                                                                             \
    const ptrdiff_t fb = (ptrdiff_t)p->nv * cn_lanes(p->isa, sizeof(T));                       \
    const ptrdiff_t fblocks = (p->F + fb - 1) / fb;                                            \
    const int dilated = p->dw != 1;                                                            \
    const ptrdiff_t run = dilated ? p->C : p->KW * p->C;                                       \
    const int nruns = dilated ? p->KW : 1;                                                     \
    ptrdiff_t tblocks, base, wider;                                                           \
    cn_even_blocks(run, p->cw, &tblocks, &base, &wider);                                       \
    for (ptrdiff_t k = k0; k < k1; k++) {                                                     \
        const ptrdiff_t fblk = k % fblocks, tblk = k / fblocks % tblocks;                     \
        const ptrdiff_t r = k / (fblocks * tblocks) % nruns;                                  \
        const ptrdiff_t a = k / (fblocks * tblocks * nruns);                                  \
        const ptrdiff_t t0 = tblk * base + (tblk < wider ? tblk : wider);                      \
        const ptrdiff_t width = base + (tblk < wider);                                        \
        for (ptrdiff_t t = t0; t < t0 + width; t++) {                                         \
            const ptrdiff_t at = ((a * nruns + r) * run + t) * p->dy_step + fblk * fb;        \
            CN_CAT(cn_add_, SUFFIX)(p->isa, dwb + at, part + at, fb, 1);                       \
        }                                                                                     \
    }                                                                                         \
}

#if MG_X86
#define CN_X86_ONLY(...) __VA_ARGS__
#else
#define CN_X86_ONLY(...)
#endif

CN_DRIVERS(float, f32)
CN_DRIVERS(double, f64)

#endif
