/* Packing a convolution's weights into the layout the direct kernels read, (KH, KW, C, w_step):

       w[a][b][c][f] = src[f*s0 + c*s1 + a*s2 + b*s3]   for f < F,   0 for F <= f < w_step

   (element strides s0..s3 of the (F, C, KH, KW) source). The input gradient's weights are
   Conv2d's HWIO memory flipped and with C and F swapped: their c axis is contiguous (s1 == 1)
   and each tap is a transpose of a C x F matrix, done in 4x4 (float) or 2x2 (double) blocks of
   SSE2 shuffles, which every x86-64 CPU has (3-4x faster than element by element). Any other
   source is copied element by element. */
#ifndef MINIGRAD_CONV_PACK_H
#define MINIGRAD_CONV_PACK_H

#include <Python.h>
#include <emmintrin.h>

/* The parts of one tap that the blocks do not cover: rows c of [c_done, C) for every f, and
   columns f of [f_done, F) for rows c < c_done; then the padding columns [F, w_step). */
#define CN_PACK_EDGES(T)                                                                    \
    for (Py_ssize_t c = 0; c < C; c++) {                                                    \
        T *row = out + c * w_step;                                                          \
        for (Py_ssize_t f = (c < c_done ? f_done : 0); f < F; f++)                          \
            row[f] = tap[f * s0 + c * s1];                                                  \
        for (Py_ssize_t f = F; f < w_step; f++)                                             \
            row[f] = 0;                                                                     \
    }

static void cn_pack_weights_f32(const float *src, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                                Py_ssize_t s3, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t C,
                                Py_ssize_t F, Py_ssize_t w_step, float *w)
{
    for (Py_ssize_t a = 0; a < KH; a++)
        for (Py_ssize_t b = 0; b < KW; b++) {
            const float *tap = src + a * s2 + b * s3;
            float *out = w + (a * KW + b) * C * w_step;
            Py_ssize_t c_done = 0, f_done = 0;
            if (s1 == 1) {
                c_done = C / 4 * 4;
                f_done = F / 4 * 4;
                for (Py_ssize_t c = 0; c < c_done; c += 4)
                    for (Py_ssize_t f = 0; f < f_done; f += 4) {
                        __m128 r0 = _mm_loadu_ps(tap + (f + 0) * s0 + c);
                        __m128 r1 = _mm_loadu_ps(tap + (f + 1) * s0 + c);
                        __m128 r2 = _mm_loadu_ps(tap + (f + 2) * s0 + c);
                        __m128 r3 = _mm_loadu_ps(tap + (f + 3) * s0 + c);
                        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                        _mm_storeu_ps(out + (c + 0) * w_step + f, r0);
                        _mm_storeu_ps(out + (c + 1) * w_step + f, r1);
                        _mm_storeu_ps(out + (c + 2) * w_step + f, r2);
                        _mm_storeu_ps(out + (c + 3) * w_step + f, r3);
                    }
            }
            CN_PACK_EDGES(float)
        }
}

static void cn_pack_weights_f64(const double *src, Py_ssize_t s0, Py_ssize_t s1, Py_ssize_t s2,
                                Py_ssize_t s3, Py_ssize_t KH, Py_ssize_t KW, Py_ssize_t C,
                                Py_ssize_t F, Py_ssize_t w_step, double *w)
{
    for (Py_ssize_t a = 0; a < KH; a++)
        for (Py_ssize_t b = 0; b < KW; b++) {
            const double *tap = src + a * s2 + b * s3;
            double *out = w + (a * KW + b) * C * w_step;
            Py_ssize_t c_done = 0, f_done = 0;
            if (s1 == 1) {
                c_done = C / 2 * 2;
                f_done = F / 2 * 2;
                for (Py_ssize_t c = 0; c < c_done; c += 2)
                    for (Py_ssize_t f = 0; f < f_done; f += 2) {
                        __m128d r0 = _mm_loadu_pd(tap + (f + 0) * s0 + c);
                        __m128d r1 = _mm_loadu_pd(tap + (f + 1) * s0 + c);
                        _mm_storeu_pd(out + (c + 0) * w_step + f, _mm_unpacklo_pd(r0, r1));
                        _mm_storeu_pd(out + (c + 1) * w_step + f, _mm_unpackhi_pd(r0, r1));
                    }
            }
            CN_PACK_EDGES(double)
        }
}

#undef CN_PACK_EDGES
#endif
