"""Depthwise conv2d (groups == input channels, one input channel per group) on NCHW arrays:
forward, gradient to the input, to the weights, and the bias gradient of NCHW arrays.

Shapes: x (N, C, H, W), weight (F, 1, KH, KW) with F = M * C (M filters per channel), out (N,
F, OH, OW). Filter f reads input channel c = f // M:

    out[n, f, i, j] = bias[f] + sum over a < KH, b < KW of
                      weight[f, 0, a, b] * x[n, f // M, i*SH - PT + a*DH, j*SW - PL + b*DW]

(x read as 0 outside the image). An im2col + GEMM would multiply matrices with a single row,
so these are direct loops over each plane and kernel tap. Every plane is written by one
thread: results do not depend on the thread count. kernels/conv.pyx calls them on C-contiguous
NCHW copies.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memset

cdef enum:
    PARALLEL_MIN_ELEMENTS = 32768   # loops over fewer numbers than this run on one thread
    TAP_BLOCK = 64                  # columns summed side by side by the weight gradient


cdef inline int threads_for(Py_ssize_t elements, int num_threads) noexcept nogil:
    """One thread for loops too small to repay waking a team (a few microseconds)."""
    return num_threads if elements >= PARALLEL_MIN_ELEMENTS else 1


cdef inline Py_ssize_t clamp(Py_ssize_t v, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef inline Py_ssize_t ceil_div(Py_ssize_t m, Py_ssize_t d) noexcept nogil:
    """ceil(m / d) for d > 0 and any sign of m (both divisions see non-negative operands)."""
    if m <= 0:
        return -((-m) // d)
    return (m + d - 1) // d


# ---------------------------------------------------------------------------------------------
# Depthwise convolutions (one input channel per group): direct loops, no im2col, no GEMM.
# Filter f reads input channel c = f // M (M = F/C filters per channel). For each kernel tap
# (a, b) the output rows i_lo <= i < i_hi and columns j_lo <= j < j_hi read inside the image.

cdef inline void tap_range(Py_ssize_t size, Py_ssize_t out_size, Py_ssize_t stride,
                           Py_ssize_t offset, Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Output positions k with 0 <= k*stride + offset < size: lo <= k < hi."""
    lo[0] = clamp(ceil_div(-offset, stride), 0, out_size)
    hi[0] = clamp(ceil_div(size - offset, stride), lo[0], out_size)


cdef void depthwise_forward_plane(const floating* xp, Py_ssize_t H, Py_ssize_t W,
                                  const floating* wf, floating bias_value, floating* op,
                                  Py_ssize_t oh, Py_ssize_t ow, int kh, int kw, int sh, int sw,
                                  int pt, int pl, int dh, int dw) noexcept nogil:
    """op[i, j] = bias + sum over a, b of wf[a, b] * xp[i*SH - PT + a*DH, j*SW - PL + b*DW]."""
    cdef Py_ssize_t a, b, i, j, i_lo, i_hi, j_lo, j_hi, k
    cdef const floating* src
    cdef floating* dst
    cdef floating v
    for k in range(oh * ow):
        op[k] = bias_value
    for a in range(kh):
        tap_range(H, oh, sh, a * dh - pt, &i_lo, &i_hi)
        for b in range(kw):
            tap_range(W, ow, sw, b * dw - pl, &j_lo, &j_hi)
            v = wf[a * kw + b]
            for i in range(i_lo, i_hi):
                src = xp + (i * sh - pt + a * dh) * W + b * dw - pl
                dst = op + i * ow
                if sw == 1:
                    for j in range(j_lo, j_hi):
                        dst[j] += v * src[j]
                else:
                    for j in range(j_lo, j_hi):
                        dst[j] += v * src[j * sw]


cdef void depthwise_input_plane(const floating* dyp, const floating* wf, floating* dxp,
                                Py_ssize_t H, Py_ssize_t W, Py_ssize_t oh, Py_ssize_t ow,
                                int kh, int kw, int sh, int sw, int pt, int pl,
                                int dh, int dw) noexcept nogil:
    """dxp[i*SH - PT + a*DH, j*SW - PL + b*DW] += wf[a, b] * dyp[i, j] (the forward's adjoint)."""
    cdef Py_ssize_t a, b, i, j, i_lo, i_hi, j_lo, j_hi
    cdef const floating* src
    cdef floating* dst
    cdef floating v
    for a in range(kh):
        tap_range(H, oh, sh, a * dh - pt, &i_lo, &i_hi)
        for b in range(kw):
            tap_range(W, ow, sw, b * dw - pl, &j_lo, &j_hi)
            v = wf[a * kw + b]
            for i in range(i_lo, i_hi):
                dst = dxp + (i * sh - pt + a * dh) * W + b * dw - pl
                src = dyp + i * ow
                if sw == 1:
                    for j in range(j_lo, j_hi):
                        dst[j] += v * src[j]
                else:
                    for j in range(j_lo, j_hi):
                        dst[j * sw] += v * src[j]


cdef double depthwise_weight_tap(const floating[:, :, :, ::1] x,
                                 const floating[:, :, :, ::1] grad_out, Py_ssize_t f,
                                 Py_ssize_t c, int a, int b, int sh, int sw, int pt, int pl,
                                 int dh, int dw) noexcept nogil:
    """sum over n, i, j of grad_out[n, f, i, j] * x[n, c, i*SH - PT + a*DH, j*SW - PL + b*DW].

    Columns are summed in blocks of TAP_BLOCK into one partial sum per column, so that the
    innermost loop has no loop-carried dependency and vectorises."""
    cdef Py_ssize_t N = x.shape[0], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t oh = grad_out.shape[2], ow = grad_out.shape[3]
    cdef Py_ssize_t n, i, j, i_lo, i_hi, j_lo, j_hi, j0, width
    cdef const floating* src
    cdef const floating* g
    cdef double partial[TAP_BLOCK]
    cdef double total = 0
    tap_range(H, oh, sh, a * dh - pt, &i_lo, &i_hi)
    tap_range(W, ow, sw, b * dw - pl, &j_lo, &j_hi)
    j0 = j_lo
    while j0 < j_hi:
        width = min(<Py_ssize_t>TAP_BLOCK, j_hi - j0)
        for j in range(width):
            partial[j] = 0
        for n in range(N):
            for i in range(i_lo, i_hi):
                src = &x[n, c, 0, 0] + (i * sh - pt + a * dh) * W + (j0 * sw + b * dw - pl)
                g = &grad_out[n, f, i, j0]
                for j in range(width):
                    partial[j] += g[j] * src[j * sw]
        for j in range(width):
            total += partial[j]
        j0 += TAP_BLOCK
    return total


cdef void depthwise_forward(const floating[:, :, :, ::1] x, const floating[:, :, :, ::1] weight,
                            const floating[::1] bias, floating[:, :, :, ::1] out,
                            int sh, int sw, int pt, int pl, int dh, int dw,
                            int num_threads) noexcept nogil:
    cdef Py_ssize_t N = out.shape[0], F = out.shape[1], C = x.shape[1], k, f
    cdef Py_ssize_t per_channel = F // C
    num_threads = threads_for(out.shape[0] * F * out.shape[2] * out.shape[3] * 8, num_threads)
    for k in prange(N * F, num_threads=num_threads, schedule="static"):
        f = k % F
        depthwise_forward_plane(&x[k // F, f // per_channel, 0, 0], x.shape[2], x.shape[3],
                                &weight[f, 0, 0, 0], bias[f] if bias.shape[0] > 0 else 0,
                                &out[k // F, f, 0, 0], out.shape[2], out.shape[3],
                                weight.shape[2], weight.shape[3], sh, sw, pt, pl, dh, dw)


cdef void depthwise_backward_input(const floating[:, :, :, ::1] grad_out,
                                   const floating[:, :, :, ::1] weight,
                                   floating[:, :, :, ::1] grad_input, int sh, int sw, int pt,
                                   int pl, int dh, int dw, int num_threads) noexcept nogil:
    cdef Py_ssize_t N = grad_input.shape[0], C = grad_input.shape[1]
    cdef Py_ssize_t H = grad_input.shape[2], W = grad_input.shape[3]
    cdef Py_ssize_t per_channel = grad_out.shape[1] // C, k, c, f
    num_threads = threads_for(grad_out.shape[0] * grad_out.shape[1] * grad_out.shape[2]
                              * grad_out.shape[3] * 8, num_threads)
    for k in prange(N * C, num_threads=num_threads, schedule="static"):
        c = k % C
        memset(&grad_input[k // C, c, 0, 0], 0, H * W * sizeof(floating))
        for f in range(c * per_channel, (c + 1) * per_channel):
            depthwise_input_plane(&grad_out[k // C, f, 0, 0], &weight[f, 0, 0, 0],
                                  &grad_input[k // C, c, 0, 0], H, W, grad_out.shape[2],
                                  grad_out.shape[3], weight.shape[2], weight.shape[3],
                                  sh, sw, pt, pl, dh, dw)


cdef void depthwise_backward_weight(const floating[:, :, :, ::1] x,
                                    const floating[:, :, :, ::1] grad_out,
                                    floating[:, :, :, ::1] grad_weight, int sh, int sw, int pt,
                                    int pl, int dh, int dw, int num_threads) noexcept nogil:
    cdef Py_ssize_t F = grad_weight.shape[0], kh = grad_weight.shape[2]
    cdef Py_ssize_t kw = grad_weight.shape[3], per_channel = F // x.shape[1], k, f
    num_threads = threads_for(grad_out.shape[0] * F * grad_out.shape[2] * grad_out.shape[3]
                              * kh * kw, num_threads)
    for k in prange(F * kh * kw, num_threads=num_threads, schedule="static"):
        f = k // (kh * kw)
        grad_weight[f, 0, (k // kw) % kh, k % kw] = <floating>depthwise_weight_tap(
            x, grad_out, f, f // per_channel, (k // kw) % kh, k % kw, sh, sw, pt, pl, dh, dw)




# ---------------------------------------------------------------------------------------------
# Entry points (C-contiguous NCHW arrays of one float dtype).

def forward(const floating[:, :, :, ::1] x,        # IN  (N, C, H, W)
            const floating[:, :, :, ::1] weight,   # IN  (F, 1, KH, KW)
            bias,                                  # IN  (F,), or None
            floating[:, :, :, ::1] out,            # OUT (N, F, OH, OW)
            int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
            int dilation_w, int groups, int num_threads):
    """out = the depthwise convolution of x with weight, + bias."""
    cdef const floating[::1] bias_or_empty = (bias if bias is not None else
                                              np.empty(0, dtype=np.asarray(out).dtype))
    if out.shape[0] * out.shape[1] * out.shape[2] * out.shape[3] == 0:
        return
    with nogil:
        depthwise_forward(x, weight, bias_or_empty, out, stride_h, stride_w, pad_top,
                          pad_left, dilation_h, dilation_w, num_threads)


def backward_input(const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                   const floating[:, :, :, ::1] weight,     # IN  (F, 1, KH, KW)
                   floating[:, :, :, ::1] grad_input,       # OUT (N, C, H, W)
                   int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
                   int dilation_w, int groups, int num_threads):
    """grad_input = the adjoint of the depthwise convolution applied to grad_out."""
    if grad_input.shape[0] * grad_input.shape[1] * grad_input.shape[2] * grad_input.shape[3] == 0:
        return
    with nogil:
        depthwise_backward_input(grad_out, weight, grad_input, stride_h, stride_w, pad_top,
                                 pad_left, dilation_h, dilation_w, num_threads)


def backward_weight(const floating[:, :, :, ::1] x,          # IN  (N, C, H, W)
                    const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                    floating[:, :, :, ::1] grad_weight,      # OUT (F, 1, KH, KW)
                    int stride_h, int stride_w, int pad_top, int pad_left, int dilation_h,
                    int dilation_w, int groups, int num_threads):
    """grad_weight[f, 0, a, b] = sum over n, i, j of grad_out * the tap's window of x."""
    if grad_weight.shape[0] == 0:
        return
    with nogil:
        depthwise_backward_weight(x, grad_out, grad_weight, stride_h, stride_w, pad_top,
                                  pad_left, dilation_h, dilation_w, num_threads)


def backward_bias(const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                  floating[::1] grad_bias,                 # OUT (F,)
                  int num_threads):
    """grad_bias[f] = sum over n, i, j of grad_out[n, f, i, j] (accumulated in double)."""
    cdef Py_ssize_t N = grad_out.shape[0], F = grad_out.shape[1]
    cdef Py_ssize_t P = grad_out.shape[2] * grad_out.shape[3], f
    num_threads = threads_for(N * F * P, num_threads)
    with nogil:
        for f in prange(F, num_threads=num_threads, schedule="static"):
            grad_bias[f] = <floating>sum_channel(grad_out, f, N, P)


cdef double sum_channel(const floating[:, :, :, ::1] grad_out, Py_ssize_t f, Py_ssize_t N,
                        Py_ssize_t P) noexcept nogil:
    """Eight running sums side by side: one chain of dependent double additions ran at a
    fraction of the vector units' speed (1.8 ms for the seed model's first layer at batch 64)."""
    cdef double partial[8]
    cdef double total = 0
    cdef Py_ssize_t n, k, lane, body = P - P % 8
    cdef const floating* src
    for lane in range(8):
        partial[lane] = 0
    for n in range(N):
        src = &grad_out[n, f, 0, 0]
        for k in range(0, body, 8):
            for lane in range(8):
                partial[lane] += src[k + lane]
        for k in range(body, P):
            total += src[k]
    for lane in range(8):
        total += partial[lane]
    return total
