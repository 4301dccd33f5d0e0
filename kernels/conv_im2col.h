/* Channels-last im2col and col2im: the layout moves of a convolution done as a GEMM.
 *
 * For output pixel p = (n, i, j) and tap (a, b) of a group of Cg input channels starting at
 * channel c0, the column matrix holds one row per output pixel,
 *
 *     cols[p, (a * KW + b) * Cg + c] = x[n, i*sh - ph + a*dh, j*sw - pw + b*dw, c0 + c]
 *
 * (0 outside the image), so that out(P x F) = cols(P x K) @ w(K x F) with K = KH * KW * Cg and
 * w the (KH, KW, Cg, F) weights seen as a matrix: the output comes out channels-last, and the
 * weight gradient cols^T @ dy comes out (KH, KW, Cg, F). col2im is the adjoint: every row of a
 * column-gradient matrix is added back to the input pixels it was read from.
 */
#ifndef MINIGRAD_CONV_IM2COL_H
#define MINIGRAD_CONV_IM2COL_H

#include <stddef.h>
#include <string.h>

/* The window geometry of one convolution (input sizes, kernel, strides, padding, dilation). */
typedef struct {
    ptrdiff_t H, W, OH, OW;
    int KH, KW, sh, sw, ph, pw, dh, dw;
} ci_window;

#define CI_FUNCTIONS(T, SUFFIX)                                                                \
/* cols rows for the output pixels of rows oh0 <= i < oh1 of one sample; x is the sample with \
 * element strides (sc, sy, sx), channel c0 first; cols has K = KH*KW*Cg numbers a row. */     \
static void ci_im2col_##SUFFIX(const ci_window *w, const T *x, ptrdiff_t sc, ptrdiff_t sy,    \
                               ptrdiff_t sx, ptrdiff_t Cg, ptrdiff_t oh0, ptrdiff_t oh1,      \
                               T *cols)                                                       \
{                                                                                             \
    for (ptrdiff_t i = oh0; i < oh1; i++)                                                     \
        for (ptrdiff_t j = 0; j < w->OW; j++) {                                               \
            T *row = cols + ((i - oh0) * w->OW + j) * w->KH * w->KW * Cg;                     \
            for (int a = 0; a < w->KH; a++) {                                                 \
                const ptrdiff_t y = i * w->sh - w->ph + (ptrdiff_t)a * w->dh;                 \
                for (int b = 0; b < w->KW; b++, row += Cg) {                                  \
                    const ptrdiff_t q = j * w->sw - w->pw + (ptrdiff_t)b * w->dw;             \
                    if (y < 0 || y >= w->H || q < 0 || q >= w->W) {                           \
                        memset(row, 0, (size_t)Cg * sizeof(T));                               \
                    } else if (sc == 1) {                                                     \
                        memcpy(row, x + y * sy + q * sx, (size_t)Cg * sizeof(T));             \
                    } else {                                                                  \
                        const T *src = x + y * sy + q * sx;                                   \
                        for (ptrdiff_t c = 0; c < Cg; c++) row[c] = src[c * sc];              \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
}                                                                                             \
                                                                                              \
/* dx (H, W, C) of one sample, channels c0 .. c0+Cg-1 (pixel stride C): zeroed, then every row \
 * of dcols (its OH*OW pixels, K numbers each) added to the input pixels it was read from, in \
 * the order of the pixels and taps. */                                                       \
static void ci_col2im_##SUFFIX(const ci_window *w, const T *dcols, ptrdiff_t Cg, ptrdiff_t C, \
                               T *dx)                                                         \
{                                                                                             \
    for (ptrdiff_t k = 0; k < w->H * w->W; k++)                                               \
        memset(dx + k * C, 0, (size_t)Cg * sizeof(T));                                        \
    for (ptrdiff_t i = 0; i < w->OH; i++)                                                     \
        for (ptrdiff_t j = 0; j < w->OW; j++) {                                               \
            const T *row = dcols + (i * w->OW + j) * w->KH * w->KW * Cg;                      \
            for (int a = 0; a < w->KH; a++) {                                                 \
                const ptrdiff_t y = i * w->sh - w->ph + (ptrdiff_t)a * w->dh;                 \
                for (int b = 0; b < w->KW; b++, row += Cg) {                                  \
                    const ptrdiff_t q = j * w->sw - w->pw + (ptrdiff_t)b * w->dw;             \
                    if (y < 0 || y >= w->H || q < 0 || q >= w->W) continue;                   \
                    T *restrict dst = dx + (y * w->W + q) * C;                                \
                    const T *restrict src = row;                                              \
                    for (ptrdiff_t c = 0; c < Cg; c++) dst[c] += src[c];                      \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
}

CI_FUNCTIONS(float, f32)
CI_FUNCTIONS(double, f64)

#endif
