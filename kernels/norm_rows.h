/* The row loops of layer and group normalisation (kernels/norm.pyx states the math), compiled
 * per ISA (base, AVX2, AVX-512) through norm_rows_body.h and chosen at run time.
 *
 * A row is the M numbers normalised together: a sample's normalized_shape (layer norm), or a
 * sample's group of CG channels x S positions (group norm, channel-major). Sums are kept in
 * double in NR_LANES independent accumulators (element i goes to lane i % NR_LANES, the lanes
 * are added in order, then the tail): vectorisable, and the order depends on M only, so a
 * result never depends on the thread count. Elementwise results are computed in the data's
 * type, as torch's kernels do.
 */
#ifndef MINIGRAD_NORM_ROWS_H
#define MINIGRAD_NORM_ROWS_H

#include <math.h>
#include <stddef.h>

#include "isa.h"

#define NR_CAT_(a, b) a##b
#define NR_CAT(a, b) NR_CAT_(a, b)
#define NR_LANES 8
#define NR_BAND 16   /* channels a batch norm thread sums together (rows layout) */

#define NR_T float
#define NR_SUFFIX f32
#define NR_ISA base
#define NR_TARGET
#include "norm_rows_body.h"
#define NR_T double
#define NR_SUFFIX f64
#define NR_ISA base
#define NR_TARGET
#include "norm_rows_body.h"
#if MG_X86
#define NR_T float
#define NR_SUFFIX f32
#define NR_ISA avx2
#define NR_TARGET MG_TARGET_AVX2
#include "norm_rows_body.h"
#define NR_T double
#define NR_SUFFIX f64
#define NR_ISA avx2
#define NR_TARGET MG_TARGET_AVX2
#include "norm_rows_body.h"
#define NR_T float
#define NR_SUFFIX f32
#define NR_ISA avx512
#define NR_TARGET MG_TARGET_AVX512
#include "norm_rows_body.h"
#define NR_T double
#define NR_SUFFIX f64
#define NR_ISA avx512
#define NR_TARGET MG_TARGET_AVX512
#include "norm_rows_body.h"
#endif
#define NR_DISPATCH(isa, name, SUFFIX, args) MG_DISPATCH(nr, isa, NR_CAT(name, SUFFIX), args)

/* The entry points kernels/norm.pyx calls, the ISA's variant. */
#define NR_ENTRIES(T, SUFFIX)                                                                 \
static inline double NR_CAT(nr_mean_, SUFFIX)(int isa, const T *x, ptrdiff_t M)             \
{                                                                                             \
    return NR_DISPATCH(isa, mean_, SUFFIX, (x, M));                                           \
}                                                                                             \
static inline double NR_CAT(nr_rstd_, SUFFIX)(int isa, const T *x, ptrdiff_t M, double mean,  \
                                              double eps)                                     \
{                                                                                             \
    return NR_DISPATCH(isa, rstd_, SUFFIX, (x, M, mean, eps));                                \
}                                                                                             \
static inline void NR_CAT(nr_normalize_, SUFFIX)(int isa, const T *x, ptrdiff_t M,           \
                                                 double mean, double rstd, const T *w,        \
                                                 const T *b, T *y)                            \
{                                                                                             \
    NR_DISPATCH(isa, normalize_, SUFFIX, (x, M, mean, rstd, w, b, y));                        \
}                                                                                             \
static inline void NR_CAT(nr_scale_shift_, SUFFIX)(int isa, const T *x, ptrdiff_t S,         \
                                                   double scale, double shift, T *y)          \
{                                                                                             \
    NR_DISPATCH(isa, scale_shift_, SUFFIX, (x, S, scale, shift, y));                          \
}                                                                                             \
static inline void NR_CAT(nr_row_gradient_, SUFFIX)(int isa, const T *g, const T *x,         \
                                                    ptrdiff_t blocks, ptrdiff_t S,            \
                                                    double mean, double rstd, const T *w,     \
                                                    T *dx)                                    \
{                                                                                             \
    NR_DISPATCH(isa, row_gradient_, SUFFIX, (g, x, blocks, S, mean, rstd, w, dx));            \
}                                                                                             \
static inline void NR_CAT(nr_column_sums_, SUFFIX)(int isa, const T *g, const T *x,          \
                                                   const T *mean, const T *rstd,              \
                                                   ptrdiff_t R, ptrdiff_t K, ptrdiff_t k0,    \
                                                   ptrdiff_t k1, double *sgx, double *sg)     \
{                                                                                             \
    NR_DISPATCH(isa, column_sums_, SUFFIX, (g, x, mean, rstd, R, K, k0, k1, sgx, sg));        \
}                                                                                             \
static inline double NR_CAT(nr_sum_, SUFFIX)(int isa, const T *x, ptrdiff_t M)               \
{                                                                                             \
    return NR_DISPATCH(isa, sum_, SUFFIX, (x, M));                                            \
}                                                                                             \
static inline double NR_CAT(nr_squares_, SUFFIX)(int isa, const T *x, ptrdiff_t M,           \
                                                 double mean)                                 \
{                                                                                             \
    return NR_DISPATCH(isa, squares_, SUFFIX, (x, M, mean));                                  \
}                                                                                             \
static inline void NR_CAT(nr_band_moments_, SUFFIX)(int isa, const T *x, ptrdiff_t R,        \
                                                    ptrdiff_t C, ptrdiff_t c0, ptrdiff_t c1,  \
                                                    double *mean, double *m2)                 \
{                                                                                             \
    NR_DISPATCH(isa, band_moments_, SUFFIX, (x, R, C, c0, c1, mean, m2));                     \
}                                                                                             \
static inline void NR_CAT(nr_band_gradient_sums_, SUFFIX)(                                   \
    int isa, const T *g, const T *x, ptrdiff_t R, ptrdiff_t C, ptrdiff_t c0, ptrdiff_t c1,    \
    const double *mean, double *sg, double *sgxc)                                             \
{                                                                                             \
    NR_DISPATCH(isa, band_gradient_sums_, SUFFIX, (g, x, R, C, c0, c1, mean, sg, sgxc));      \
}                                                                                             \
static inline void NR_CAT(nr_rows_scale_shift_, SUFFIX)(int isa, const T *x, ptrdiff_t rows, \
                                                        ptrdiff_t C, const T *scale,          \
                                                        const T *shift, T *y)                 \
{                                                                                             \
    NR_DISPATCH(isa, rows_scale_shift_, SUFFIX, (x, rows, C, scale, shift, y));               \
}                                                                                             \
static inline void NR_CAT(nr_rows_input_gradient_, SUFFIX)(                                  \
    int isa, const T *g, const T *x, ptrdiff_t rows, ptrdiff_t C, const T *mean,              \
    const T *scale, const T *grad_mean, const T *coef, T *dx)                                 \
{                                                                                             \
    NR_DISPATCH(isa, rows_input_gradient_, SUFFIX,                                            \
                (g, x, rows, C, mean, scale, grad_mean, coef, dx));                           \
}                                                                                             \
static inline void NR_CAT(nr_plane_input_gradient_, SUFFIX)(                                 \
    int isa, const T *g, const T *x, ptrdiff_t S, T mean, T scale, T grad_mean, T coef,       \
    T *dx)                                                                                    \
{                                                                                             \
    NR_DISPATCH(isa, plane_input_gradient_, SUFFIX, (g, x, S, mean, scale, grad_mean, coef,   \
                                                     dx));                                    \
}                                                                                             \
static inline void NR_CAT(nr_pair_sums_, SUFFIX)(int isa, const T *g, const T *x,            \
                                                 ptrdiff_t S, double mean, double rstd,       \
                                                 double *sgx, double *sg)                     \
{                                                                                             \
    NR_DISPATCH(isa, pair_sums_, SUFFIX, (g, x, S, mean, rstd, sgx, sg));                     \
}
NR_ENTRIES(float, f32)
NR_ENTRIES(double, f64)

#endif
