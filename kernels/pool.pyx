"""2-D pooling kernels: max, average and adaptive average, forward and backward.

Layout: NCHW, C-contiguous, float32 or float64 (the fused type ``floating``). Every plane
(n, c) is independent, so the work is split over the N*C planes with ``prange``; backward
kernels write only into their own plane, so scatters need no atomics.

Window of output (oh, ow), for stride s, padding p, dilation d and kernel k (per axis):

    rows  ih = oh*s_h - p_h + i*d_h,  i = 0 .. k_h-1,  kept when 0 <= ih < H

max_pool2d:  y[oh, ow] = max over the window (padding counts as -inf), NaN wins as in torch
             (the last NaN of a window); idx[oh, ow] = ih*W + iw of the winner (first maximum).
             dx[idx[oh, ow]] += dy[oh, ow]. A window with every tap in the padding (possible
             with dilation) gives -inf and torch's index (first in-range-from-below tap), which
             backward skips when it falls outside the plane.
avg_pool2d:  (no dilation) window rows [h0, h1) with h1 = min(h0 + k_h, H + p_h); the divisor
             is divisor_override if != 0, else the window area including padding
             (count_include_pad) or the area clipped to the input; the sum runs over the
             clipped window. dx gets dy / divisor at every clipped-window cell.
adaptive_avg_pool2d: rows [floor(oh*H/OH), ceil((oh+1)*H/OH)), same for columns; y = mean.

Output sizes (ceil_mode and friends) are decided by the Python layer, which allocates the
outputs: a kernel reads OH, OW from the arrays it is given.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.math cimport INFINITY
from libc.string cimport memset

cimport openmp  # noqa: F401  (the one OpenMP shim; prange needs nothing more)


# Below this many window taps a call does not pay for waking more threads (a parallel region
# costs microseconds, far more when the cores are busy with other work).
cdef Py_ssize_t PARALLEL_MIN_WORK = 65536


cdef inline int _threads(Py_ssize_t work, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK else 1


cdef inline Py_ssize_t _first_tap(Py_ssize_t start, Py_ssize_t dilation) noexcept nogil:
    """Smallest i >= 0 with start + i*dilation >= 0."""
    if start >= 0:
        return 0
    return (-start + dilation - 1) // dilation


cdef inline Py_ssize_t _end_tap(Py_ssize_t start, Py_ssize_t dilation, Py_ssize_t kernel,
                                Py_ssize_t size) noexcept nogil:
    """One past the largest i < kernel with start + i*dilation < size."""
    cdef Py_ssize_t n
    if start + (kernel - 1) * dilation < size:  # the common case: no division
        return kernel
    if start >= size:
        return 0
    n = (size - start + dilation - 1) // dilation
    return n if n < kernel else kernel


# ---------------------------------------------------------------------------------------------
# max_pool2d

cdef void _max_pool_plane(const floating* x, floating* y, int64_t* idx,
                          Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                          int kh, int kw, int sh, int sw, int ph, int pw,
                          int dh, int dw) noexcept nogil:
    cdef Py_ssize_t oh, ow, i, j, i0, i1, j0, j1, hs, ws, ih, iw, best_at
    cdef floating best, v
    for oh in range(OH):
        hs = oh * sh - ph
        i0 = _first_tap(hs, dh)
        i1 = _end_tap(hs, dh, kh, H)
        for ow in range(OW):
            ws = ow * sw - pw
            j0 = _first_tap(ws, dw)
            j1 = _end_tap(ws, dw, kw, W)
            best = -INFINITY
            # torch's index when no tap is inside (a window all in padding: y = -inf)
            best_at = (hs + i0 * dh) * W + ws + j0 * dw
            for i in range(i0, i1):
                ih = hs + i * dh
                for j in range(j0, j1):
                    iw = ws + j * dw
                    v = x[ih * W + iw]
                    if v > best or v != v:
                        best = v
                        best_at = ih * W + iw
            y[oh * OW + ow] = best
            idx[oh * OW + ow] = best_at


cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    /* Selects of max_pool_2x2_*: the tap wins when it is greater or NaN (torch's order). */
    #define POOL_TAKE(v, best) ((v) > (best) || (v) != (v))

    /* Row oh of a 2x2 stride-2 max pool, every tap inside: y[j] and idx[j] for j < ow from the
       input rows r0 = x + 2*oh*W and r0 + W; at0 = 2*oh*W. SSE2 (part of x86-64) does four
       (float) or two (double) windows at once with compare-and-blend, no branch at all. */
    static void max_pool_2x2_row_f32(const float *restrict r0, ptrdiff_t W, ptrdiff_t at0,
                                     float *restrict y, int64_t *restrict idx, ptrdiff_t ow)
    {
        ptrdiff_t j = 0;
    #if defined(__SSE2__)
        const __m128i step = _mm_set_epi32(6, 4, 2, 0), zero = _mm_setzero_si128();
        const __m128i off1 = _mm_set1_epi32(1), offw = _mm_set1_epi32((int)W);
        for (; j + 4 <= ow; j += 4) {
            const float *a = r0 + 2 * j, *b = a + W;
            __m128 a0 = _mm_loadu_ps(a), a1 = _mm_loadu_ps(a + 4);
            __m128 b0 = _mm_loadu_ps(b), b1 = _mm_loadu_ps(b + 4);
            __m128 taps[3] = {_mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)),
                              _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)),
                              _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1))};
            __m128i at = _mm_add_epi32(_mm_set1_epi32((int)(at0 + 2 * j)), step);
            __m128i tap_at[3] = {_mm_add_epi32(at, off1), _mm_add_epi32(at, offw),
                                 _mm_add_epi32(_mm_add_epi32(at, offw), off1)};
            __m128 best = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));
            __m128i best_at = at;
            for (int k = 0; k < 3; k++) {
                __m128 take = _mm_or_ps(_mm_cmpgt_ps(taps[k], best),
                                        _mm_cmpunord_ps(taps[k], taps[k]));
                __m128i take_i = _mm_castps_si128(take);
                best = _mm_or_ps(_mm_and_ps(take, taps[k]), _mm_andnot_ps(take, best));
                best_at = _mm_or_si128(_mm_and_si128(take_i, tap_at[k]),
                                       _mm_andnot_si128(take_i, best_at));
            }
            _mm_storeu_ps(y + j, best);
            _mm_storeu_si128((__m128i *)(idx + j), _mm_unpacklo_epi32(best_at, zero));
            _mm_storeu_si128((__m128i *)(idx + j + 2), _mm_unpackhi_epi32(best_at, zero));
        }
    #endif
        for (; j < ow; j++) {
            ptrdiff_t at = at0 + 2 * j, taps[3] = {at + 1, at + W, at + W + 1}, best_at = at;
            float best = r0[2 * j];
            for (int k = 0; k < 3; k++) {
                float v = r0[taps[k] - at0];
                if (POOL_TAKE(v, best)) { best = v; best_at = taps[k]; }
            }
            y[j] = best;
            idx[j] = best_at;
        }
    }

    static void max_pool_2x2_row_f64(const double *restrict r0, ptrdiff_t W, ptrdiff_t at0,
                                     double *restrict y, int64_t *restrict idx, ptrdiff_t ow)
    {
        ptrdiff_t j = 0;
    #if defined(__SSE2__)
        const __m128i step = _mm_set_epi64x(2, 0);
        const __m128i off1 = _mm_set1_epi64x(1), offw = _mm_set1_epi64x(W);
        for (; j + 2 <= ow; j += 2) {
            const double *a = r0 + 2 * j, *b = a + W;
            __m128d a0 = _mm_loadu_pd(a), a1 = _mm_loadu_pd(a + 2);
            __m128d b0 = _mm_loadu_pd(b), b1 = _mm_loadu_pd(b + 2);
            __m128d taps[3] = {_mm_shuffle_pd(a0, a1, 3), _mm_shuffle_pd(b0, b1, 0),
                               _mm_shuffle_pd(b0, b1, 3)};
            __m128i at = _mm_add_epi64(_mm_set1_epi64x(at0 + 2 * j), step);
            __m128i tap_at[3] = {_mm_add_epi64(at, off1), _mm_add_epi64(at, offw),
                                 _mm_add_epi64(_mm_add_epi64(at, offw), off1)};
            __m128d best = _mm_shuffle_pd(a0, a1, 0);
            __m128i best_at = at;
            for (int k = 0; k < 3; k++) {
                __m128d take = _mm_or_pd(_mm_cmpgt_pd(taps[k], best),
                                         _mm_cmpunord_pd(taps[k], taps[k]));
                __m128i take_i = _mm_castpd_si128(take);
                best = _mm_or_pd(_mm_and_pd(take, taps[k]), _mm_andnot_pd(take, best));
                best_at = _mm_or_si128(_mm_and_si128(take_i, tap_at[k]),
                                       _mm_andnot_si128(take_i, best_at));
            }
            _mm_storeu_pd(y + j, best);
            _mm_storeu_si128((__m128i *)(idx + j), best_at);
        }
    #endif
        for (; j < ow; j++) {
            ptrdiff_t at = at0 + 2 * j, taps[3] = {at + 1, at + W, at + W + 1}, best_at = at;
            double best = r0[2 * j];
            for (int k = 0; k < 3; k++) {
                double v = r0[taps[k] - at0];
                if (POOL_TAKE(v, best)) { best = v; best_at = taps[k]; }
            }
            y[j] = best;
            idx[j] = best_at;
        }
    }
    """
    void max_pool_2x2_row_f32(const float* r0, Py_ssize_t W, Py_ssize_t at0, float* y,
                              int64_t* idx, Py_ssize_t ow) noexcept nogil
    void max_pool_2x2_row_f64(const double* r0, Py_ssize_t W, Py_ssize_t at0, double* y,
                              int64_t* idx, Py_ssize_t ow) noexcept nogil


cdef void _max_pool_plane_2x2(const floating* x, floating* y, int64_t* idx, Py_ssize_t W,
                              Py_ssize_t OH, Py_ssize_t OW) noexcept nogil:
    """_max_pool_plane for the common 2x2 stride-2 window with every tap inside the plane.

    Same result (taps in the same order, the first maximum or the last NaN wins), but several
    windows at once with vector compare-and-blend: on real activations the general loop's `if`
    mispredicts about every other tap. One thread, float32 (64, 32, 32, 32) random input:
    about 1 ms instead of 9 ms. Indices go through 32-bit lanes in the float32 version: the
    caller keeps planes under 2**31 elements."""
    cdef Py_ssize_t oh
    for oh in range(OH):
        if floating is float:
            max_pool_2x2_row_f32(x + 2 * oh * W, W, 2 * oh * W, y + oh * OW, idx + oh * OW, OW)
        else:
            max_pool_2x2_row_f64(x + 2 * oh * W, W, 2 * oh * W, y + oh * OW, idx + oh * OW, OW)


def max_pool2d_forward(const floating[:, :, :, ::1] x,  # IN  (N, C, H, W)
                       floating[:, :, :, ::1] out,      # OUT (N, C, OH, OW)
                       int64_t[:, :, :, ::1] indices,   # OUT (N, C, OH, OW): ih*W + iw
                       int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                       int num_threads):
    """out = max over each window; indices = flat position of the max in its input plane."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], p
    if N * C == 0 or OH * OW == 0:
        return
    cdef int threads = _threads(N * C * OH * OW * kh * kw, num_threads)
    cdef bint two_by_two = (kh == 2 and kw == 2 and sh == 2 and sw == 2 and ph == 0 and pw == 0
                            and dh == 1 and dw == 1 and 2 * OH <= H and 2 * OW <= W
                            and H * W < 2147483647)
    with nogil:
        if two_by_two:
            for p in prange(N * C, schedule="static", num_threads=threads):
                _max_pool_plane_2x2(&x[p // C, p % C, 0, 0], &out[p // C, p % C, 0, 0],
                                    &indices[p // C, p % C, 0, 0], W, OH, OW)
        else:
            for p in prange(N * C, schedule="static", num_threads=threads):
                _max_pool_plane(&x[p // C, p % C, 0, 0], &out[p // C, p % C, 0, 0],
                                &indices[p // C, p % C, 0, 0], H, W, OH, OW,
                                kh, kw, sh, sw, ph, pw, dh, dw)


def max_pool2d_backward(const floating[:, :, :, ::1] grad_out,  # IN  (N, C, OH, OW)
                        const int64_t[:, :, :, ::1] indices,    # IN  (N, C, OH, OW)
                        floating[:, :, :, ::1] grad_x,          # OUT (N, C, H, W), overwritten
                        int num_threads):
    """grad_x = 0; grad_x[indices] += grad_out, plane by plane (overlapping windows add up)."""
    cdef Py_ssize_t N = grad_x.shape[0], C = grad_x.shape[1]
    cdef Py_ssize_t HW = grad_x.shape[2] * grad_x.shape[3]
    cdef Py_ssize_t OHW = grad_out.shape[2] * grad_out.shape[3], p, o
    cdef floating* gx
    cdef const floating* gy
    cdef const int64_t* ix
    if N * C * HW == 0:
        return
    cdef int threads = _threads(N * C * (HW + OHW), num_threads)
    with nogil:
        for p in prange(N * C, schedule="static", num_threads=threads):
            gx = &grad_x[p // C, p % C, 0, 0]
            memset(gx, 0, HW * sizeof(floating))
            if OHW > 0:
                gy = &grad_out[p // C, p % C, 0, 0]
                ix = &indices[p // C, p % C, 0, 0]
                for o in range(OHW):
                    if 0 <= ix[o] < HW:  # the index of an all-padding window may not be
                        gx[ix[o]] += gy[o]


# ---------------------------------------------------------------------------------------------
# avg_pool2d

cdef inline Py_ssize_t _avg_window(Py_ssize_t o, int stride, int pad, int kernel, Py_ssize_t size,
                                   Py_ssize_t* start, Py_ssize_t* end) noexcept nogil:
    """Clip the window of output o to [start, end) and return its length counting padding."""
    cdef Py_ssize_t s = o * stride - pad
    cdef Py_ssize_t e = s + kernel
    if e > size + pad:
        e = size + pad
    cdef Py_ssize_t padded = e - s
    start[0] = s if s > 0 else 0
    end[0] = e if e < size else size
    return padded


cdef void _avg_pool_plane(const floating* x, floating* y, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t OH, Py_ssize_t OW, int kh, int kw, int sh, int sw,
                          int ph, int pw, bint count_include_pad,
                          int divisor_override) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, iw, h0, h1, w0, w1, ph_len, pw_len, divisor
    cdef double total
    for oh in range(OH):
        ph_len = _avg_window(oh, sh, ph, kh, H, &h0, &h1)
        for ow in range(OW):
            pw_len = _avg_window(ow, sw, pw, kw, W, &w0, &w1)
            if h0 >= h1 or w0 >= w1:
                y[oh * OW + ow] = 0
                continue
            if divisor_override != 0:
                divisor = divisor_override
            elif count_include_pad:
                divisor = ph_len * pw_len
            else:
                divisor = (h1 - h0) * (w1 - w0)
            total = 0
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    total = total + x[ih * W + iw]
            y[oh * OW + ow] = <floating>(total / divisor)


cdef void _avg_pool_plane_backward(const floating* gy, floating* gx, Py_ssize_t H, Py_ssize_t W,
                                   Py_ssize_t OH, Py_ssize_t OW, int kh, int kw, int sh, int sw,
                                   int ph, int pw, bint count_include_pad,
                                   int divisor_override) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, iw, h0, h1, w0, w1, ph_len, pw_len, divisor
    cdef floating g
    memset(gx, 0, H * W * sizeof(floating))
    for oh in range(OH):
        ph_len = _avg_window(oh, sh, ph, kh, H, &h0, &h1)
        for ow in range(OW):
            pw_len = _avg_window(ow, sw, pw, kw, W, &w0, &w1)
            if h0 >= h1 or w0 >= w1:
                continue
            if divisor_override != 0:
                divisor = divisor_override
            elif count_include_pad:
                divisor = ph_len * pw_len
            else:
                divisor = (h1 - h0) * (w1 - w0)
            g = gy[oh * OW + ow] / divisor
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    gx[ih * W + iw] += g


def avg_pool2d_forward(const floating[:, :, :, ::1] x,  # IN  (N, C, H, W)
                       floating[:, :, :, ::1] out,      # OUT (N, C, OH, OW)
                       int kh, int kw, int sh, int sw, int ph, int pw,
                       bint count_include_pad, int divisor_override, int num_threads):
    """out = window sum / divisor; divisor_override == 0 means none."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], p
    if N * C == 0 or OH * OW == 0:
        return
    cdef int threads = _threads(N * C * OH * OW * kh * kw, num_threads)
    with nogil:
        for p in prange(N * C, schedule="static", num_threads=threads):
            _avg_pool_plane(&x[p // C, p % C, 0, 0], &out[p // C, p % C, 0, 0], H, W, OH, OW,
                            kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override)


def avg_pool2d_backward(const floating[:, :, :, ::1] grad_out,  # IN  (N, C, OH, OW)
                        floating[:, :, :, ::1] grad_x,          # OUT (N, C, H, W), overwritten
                        int kh, int kw, int sh, int sw, int ph, int pw,
                        bint count_include_pad, int divisor_override, int num_threads):
    """grad_x[window] += grad_out / divisor for every output."""
    cdef Py_ssize_t N = grad_x.shape[0], C = grad_x.shape[1]
    cdef Py_ssize_t H = grad_x.shape[2], W = grad_x.shape[3]
    cdef Py_ssize_t OH = grad_out.shape[2], OW = grad_out.shape[3], p
    if N * C * H * W == 0:
        return
    if OH * OW == 0:
        grad_x[...] = 0
        return
    cdef int threads = _threads(N * C * (H * W + OH * OW * kh * kw), num_threads)
    with nogil:
        for p in prange(N * C, schedule="static", num_threads=threads):
            _avg_pool_plane_backward(&grad_out[p // C, p % C, 0, 0],
                                     &grad_x[p // C, p % C, 0, 0], H, W, OH, OW,
                                     kh, kw, sh, sw, ph, pw, count_include_pad,
                                     divisor_override)


# ---------------------------------------------------------------------------------------------
# adaptive_avg_pool2d

cdef inline void _adaptive_window(Py_ssize_t o, Py_ssize_t out_size, Py_ssize_t in_size,
                                  Py_ssize_t* start, Py_ssize_t* end) noexcept nogil:
    start[0] = (o * in_size) // out_size
    end[0] = ((o + 1) * in_size + out_size - 1) // out_size


cdef void _adaptive_plane(const floating* x, floating* y, Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t OH, Py_ssize_t OW) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, iw, h0, h1, w0, w1
    cdef double total
    for oh in range(OH):
        _adaptive_window(oh, OH, H, &h0, &h1)
        for ow in range(OW):
            _adaptive_window(ow, OW, W, &w0, &w1)
            total = 0
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    total = total + x[ih * W + iw]
            y[oh * OW + ow] = <floating>(total / ((h1 - h0) * (w1 - w0)))


cdef void _adaptive_plane_backward(const floating* gy, floating* gx, Py_ssize_t H, Py_ssize_t W,
                                   Py_ssize_t OH, Py_ssize_t OW) noexcept nogil:
    cdef Py_ssize_t oh, ow, ih, iw, h0, h1, w0, w1
    cdef floating g
    memset(gx, 0, H * W * sizeof(floating))
    for oh in range(OH):
        _adaptive_window(oh, OH, H, &h0, &h1)
        for ow in range(OW):
            _adaptive_window(ow, OW, W, &w0, &w1)
            g = gy[oh * OW + ow] / ((h1 - h0) * (w1 - w0))
            for ih in range(h0, h1):
                for iw in range(w0, w1):
                    gx[ih * W + iw] += g


def adaptive_avg_pool2d_forward(const floating[:, :, :, ::1] x,  # IN  (N, C, H, W)
                                floating[:, :, :, ::1] out,      # OUT (N, C, OH, OW)
                                int num_threads):
    """out[oh, ow] = mean of x over the adaptive window (H, W must be > 0)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], p
    if N * C == 0 or OH * OW == 0:
        return
    cdef int threads = _threads(N * C * (H * W + OH * OW), num_threads)
    with nogil:
        for p in prange(N * C, schedule="static", num_threads=threads):
            _adaptive_plane(&x[p // C, p % C, 0, 0], &out[p // C, p % C, 0, 0], H, W, OH, OW)


def adaptive_avg_pool2d_backward(const floating[:, :, :, ::1] grad_out,  # IN  (N, C, OH, OW)
                                 floating[:, :, :, ::1] grad_x,          # OUT (N, C, H, W)
                                 int num_threads):
    """grad_x[window] += grad_out / window area for every output."""
    cdef Py_ssize_t N = grad_x.shape[0], C = grad_x.shape[1]
    cdef Py_ssize_t H = grad_x.shape[2], W = grad_x.shape[3]
    cdef Py_ssize_t OH = grad_out.shape[2], OW = grad_out.shape[3], p
    if N * C * H * W == 0:
        return
    if OH * OW == 0:
        grad_x[...] = 0
        return
    cdef int threads = _threads(N * C * (H * W + OH * OW), num_threads)
    with nogil:
        for p in prange(N * C, schedule="static", num_threads=threads):
            _adaptive_plane_backward(&grad_out[p // C, p % C, 0, 0], &grad_x[p // C, p % C, 0, 0],
                                     H, W, OH, OW)
