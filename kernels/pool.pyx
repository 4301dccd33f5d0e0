"""2-D pooling kernels on channels-last samples: max, average and adaptive average, forward and
backward.

Layout: every array is (N, H, W, C), C-contiguous (a channels-last activation seen through its
memory), float32 or float64; max pooling's `codes` are int32 of the output's shape. The loops
are in pool_nhwc.h, which states the math; this file splits the samples between threads (each
writes only its own outputs, so results do not depend on the thread count) and computes the
average pools' windows.

max_pool2d:  out = window max (padding counts as -inf; a NaN wins, the last one);
             codes = i*kw + j, the winning tap of the window (-1: no tap inside the image).
             Backward: dx[winning tap] += dy.
avg_pool2d:  window rows [h0, h1) with h0 = oh*sh - ph, h1 = min(h0 + kh, H + ph), clipped to
             the image for the sum; divisor divisor_override if != 0, else the window's area
             with padding (count_include_pad) or clipped. Backward: dx[window] += dy / divisor.
adaptive_avg_pool2d: rows [floor(oh*H/OH), ceil((oh+1)*H/OH)), columns alike; y = the mean.
adaptive_max_pool2d: the same windows; y = the max (a NaN wins, the last one), index = the
             flat position h*W + w of the maximum in its plane (int64, the first maximum).
             Backward: dx[index] += dy, output by output in order.

Output sizes are decided by the Python layer, which allocates the outputs.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t

from minigrad._kernels.cpu import ISA_NAMES, isa_code, supported_isas  # noqa: F401

cdef extern from "pool_nhwc.h" nogil:
    int mg_isa_best()
    ctypedef struct pn_window:
        Py_ssize_t H, W, C, OH, OW
        int kh, kw, sh, sw, ph, pw, dh, dw
    void pn_max_forward_f32(int isa, const pn_window *w, const float *x, float *y,
                            int32_t *code, Py_ssize_t oh0, Py_ssize_t oh1)
    void pn_max_forward_f64(int isa, const pn_window *w, const double *x, double *y,
                            int32_t *code, Py_ssize_t oh0, Py_ssize_t oh1)
    void pn_max_backward_f32(int isa, const pn_window *w, const float *dy, const int32_t *code,
                             float *dx)
    void pn_max_backward_f64(int isa, const pn_window *w, const double *dy,
                             const int32_t *code, double *dx)
    void pn_avg_forward_f32(int isa, const pn_window *w, const Py_ssize_t *bounds,
                            const double *den_h, const double *den_w, const float *x, float *y,
                            double *acc, Py_ssize_t oh0, Py_ssize_t oh1)
    void pn_avg_forward_f64(int isa, const pn_window *w, const Py_ssize_t *bounds,
                            const double *den_h, const double *den_w, const double *x,
                            double *y, double *acc, Py_ssize_t oh0, Py_ssize_t oh1)
    void pn_avg_backward_f32(int isa, const pn_window *w, const Py_ssize_t *bounds,
                             const double *den_h, const double *den_w, const float *dy,
                             float *dx)
    void pn_avg_backward_f64(int isa, const pn_window *w, const Py_ssize_t *bounds,
                             const double *den_h, const double *den_w, const double *dy,
                             double *dx)


cdef enum:
    # Below this many numbers read a call does not pay for waking more threads (a parallel
    # region costs microseconds, far more when the cores are busy with other work).
    PARALLEL_MIN_WORK = 65536

cdef int _isa = mg_isa_best()


def get_isa():
    """The instruction set of the pooling loops: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[_isa]


def set_isa(name):
    """Run the pooling loops with this instruction set, or None for the widest."""
    global _isa
    _isa = isa_code(name)


cdef inline int threads_for(Py_ssize_t work, Py_ssize_t items, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK and items > 1 else 1


cdef void fill_window(pn_window *w, x, y, int kh, int kw, int sh, int sw, int ph, int pw,
                      int dh, int dw):
    w.H, w.W, w.C = x.shape[1], x.shape[2], x.shape[3]
    w.OH, w.OW = y.shape[1], y.shape[2]
    w.kh, w.kw, w.sh, w.sw, w.ph, w.pw, w.dh, w.dw = kh, kw, sh, sw, ph, pw, dh, dw


cdef Py_ssize_t rows_per_item(Py_ssize_t N, Py_ssize_t OH, int threads):
    """Whole samples, or rows of them when there are fewer samples than threads."""
    if N >= threads:
        return OH
    return (OH + threads - 1) // threads


# ---------------------------------------------------------------------------------------------
# max_pool2d

def max_pool2d_forward(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
                       floating[:, :, :, ::1] out,         # OUT (N, OH, OW, C)
                       int32_t[:, :, :, ::1] codes,        # OUT (N, OH, OW, C)
                       int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                       int num_threads):
    """out = the max of each window, codes = the window tap it came from."""
    cdef pn_window w
    cdef Py_ssize_t N = x.shape[0], rows, blocks, item, n, oh0
    fill_window(&w, x, out, kh, kw, sh, sw, ph, pw, dh, dw)
    if N * w.C * w.OH * w.OW == 0:
        return
    cdef int threads = threads_for(N * w.OH * w.OW * w.C * kh * kw, N * w.OH, num_threads)
    rows = rows_per_item(N, w.OH, threads)
    blocks = (w.OH + rows - 1) // rows
    with nogil:
        for item in prange(N * blocks, schedule="dynamic", num_threads=threads):
            n = item // blocks
            oh0 = item % blocks * rows
            if floating is float:
                pn_max_forward_f32(_isa, &w, &x[n, 0, 0, 0], &out[n, 0, 0, 0],
                                   &codes[n, 0, 0, 0], oh0, min(oh0 + rows, w.OH))
            else:
                pn_max_forward_f64(_isa, &w, &x[n, 0, 0, 0], &out[n, 0, 0, 0],
                                   &codes[n, 0, 0, 0], oh0, min(oh0 + rows, w.OH))


def max_pool2d_backward(const floating[:, :, :, ::1] grad_out,   # IN  (N, OH, OW, C)
                        const int32_t[:, :, :, ::1] codes,       # IN  (N, OH, OW, C)
                        floating[:, :, :, ::1] grad_x,           # OUT (N, H, W, C), overwritten
                        int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                        int num_threads):
    """grad_x = 0 but at each window's winning tap, which gets grad_out (summed where windows
    overlap)."""
    cdef pn_window w
    cdef Py_ssize_t N = grad_x.shape[0], n
    fill_window(&w, grad_x, grad_out, kh, kw, sh, sw, ph, pw, dh, dw)
    if N * w.H * w.W * w.C == 0:
        return
    if w.OH * w.OW == 0:
        grad_x[...] = 0
        return
    cdef int threads = threads_for(N * w.H * w.W * w.C, N, num_threads)
    with nogil:
        for n in prange(N, schedule="dynamic", num_threads=threads):
            if floating is float:
                pn_max_backward_f32(_isa, &w, &grad_out[n, 0, 0, 0], &codes[n, 0, 0, 0],
                                    &grad_x[n, 0, 0, 0])
            else:
                pn_max_backward_f64(_isa, &w, &grad_out[n, 0, 0, 0], &codes[n, 0, 0, 0],
                                    &grad_x[n, 0, 0, 0])


# ---------------------------------------------------------------------------------------------
# avg_pool2d and adaptive_avg_pool2d: windows given by their bounds

def avg_windows(Py_ssize_t size, Py_ssize_t out, int k, int s, int p, bint count_include_pad):
    """(start, end, divisor factor) per output position along one axis of avg_pool2d."""
    o = np.arange(out, dtype=np.intp)
    start = o * s - p
    end = np.minimum(start + k, size + p)
    clipped_start, clipped_end = np.maximum(start, 0), np.minimum(end, size)
    factor = end - start if count_include_pad else clipped_end - clipped_start
    return clipped_start, clipped_end, factor.astype(np.float64)


def adaptive_windows(Py_ssize_t size, Py_ssize_t out):
    """(start, end, length) per output position along one axis of adaptive_avg_pool2d."""
    o = np.arange(out, dtype=np.intp)
    start, end = o * size // out, -(-(o + 1) * size // out)
    return start, end, (end - start).astype(np.float64)


cdef object window_tables(rows, cols, int64_t divisor_override):
    """The bounds array (r0, r1, c0, c1 concatenated) and the divisor factors per axis."""
    bounds = np.concatenate([rows[0], rows[1], cols[0], cols[1]]).astype(np.intp)
    den_h, den_w = rows[2], cols[2]
    if divisor_override != 0:
        den_h = np.full(len(rows[0]), float(divisor_override))
        den_w = np.ones(len(cols[0]))
    return bounds, np.ascontiguousarray(den_h), np.ascontiguousarray(den_w)


def avg_pool2d_forward(const floating[:, :, :, ::1] x,   # IN  (N, H, W, C)
                       floating[:, :, :, ::1] out,       # OUT (N, OH, OW, C)
                       int kh, int kw, int sh, int sw, int ph, int pw,
                       bint count_include_pad, int64_t divisor_override, int num_threads):
    """out = window sum / divisor; divisor_override == 0 means none."""
    rows = avg_windows(x.shape[1], out.shape[1], kh, sh, ph, count_include_pad)
    cols = avg_windows(x.shape[2], out.shape[2], kw, sw, pw, count_include_pad)
    windowed_forward[floating](x, out, window_tables(rows, cols, divisor_override), num_threads)


def avg_pool2d_backward(const floating[:, :, :, ::1] grad_out,   # IN  (N, OH, OW, C)
                        floating[:, :, :, ::1] grad_x,           # OUT (N, H, W, C), overwritten
                        int kh, int kw, int sh, int sw, int ph, int pw,
                        bint count_include_pad, int64_t divisor_override, int num_threads):
    """grad_x[window] += grad_out / divisor for every output."""
    rows = avg_windows(grad_x.shape[1], grad_out.shape[1], kh, sh, ph, count_include_pad)
    cols = avg_windows(grad_x.shape[2], grad_out.shape[2], kw, sw, pw, count_include_pad)
    windowed_backward[floating](grad_out, grad_x, window_tables(rows, cols, divisor_override),
                                num_threads)


def adaptive_avg_pool2d_forward(const floating[:, :, :, ::1] x,   # IN  (N, H, W, C), H, W > 0
                                floating[:, :, :, ::1] out,       # OUT (N, OH, OW, C)
                                int num_threads):
    """out[oh, ow] = mean of x over the adaptive window."""
    rows = adaptive_windows(x.shape[1], out.shape[1])
    cols = adaptive_windows(x.shape[2], out.shape[2])
    windowed_forward[floating](x, out, window_tables(rows, cols, 0), num_threads)


def adaptive_avg_pool2d_backward(const floating[:, :, :, ::1] grad_out,   # IN  (N, OH, OW, C)
                                 floating[:, :, :, ::1] grad_x,           # OUT (N, H, W, C)
                                 int num_threads):
    """grad_x[window] += grad_out / window area."""
    rows = adaptive_windows(grad_x.shape[1], grad_out.shape[1])
    cols = adaptive_windows(grad_x.shape[2], grad_out.shape[2])
    windowed_backward[floating](grad_out, grad_x, window_tables(rows, cols, 0), num_threads)


cdef void windowed_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, tables,
                           int num_threads):
    """The average pools' forward over the windows of `tables` (from window_tables)."""
    cdef const Py_ssize_t[::1] bounds = tables[0]
    cdef const double[::1] den_h = tables[1]
    cdef const double[::1] den_w = tables[2]
    cdef pn_window w
    cdef Py_ssize_t N = x.shape[0], rows, blocks, item, n, oh0
    cdef double[:, ::1] acc
    fill_window(&w, x, out, 1, 1, 1, 1, 0, 0, 1, 1)
    if N * w.C * w.OH * w.OW == 0:
        return
    cdef int threads = threads_for(N * w.H * w.W * w.C, N * w.OH, num_threads)
    rows = rows_per_item(N, w.OH, threads)
    blocks = (w.OH + rows - 1) // rows
    acc = np.empty((N * blocks, w.C), dtype=np.float64)     # one row of sums per item
    with nogil:
        for item in prange(N * blocks, schedule="dynamic", num_threads=threads):
            n = item // blocks
            oh0 = item % blocks * rows
            if floating is float:
                pn_avg_forward_f32(_isa, &w, &bounds[0], &den_h[0], &den_w[0], &x[n, 0, 0, 0],
                                   &out[n, 0, 0, 0], &acc[item, 0], oh0, min(oh0 + rows, w.OH))
            else:
                pn_avg_forward_f64(_isa, &w, &bounds[0], &den_h[0], &den_w[0], &x[n, 0, 0, 0],
                                   &out[n, 0, 0, 0], &acc[item, 0], oh0, min(oh0 + rows, w.OH))


cdef void windowed_backward(const floating[:, :, :, ::1] grad_out,
                            floating[:, :, :, ::1] grad_x, tables, int num_threads):
    """The average pools' backward over the windows of `tables` (from window_tables)."""
    cdef const Py_ssize_t[::1] bounds = tables[0]
    cdef const double[::1] den_h = tables[1]
    cdef const double[::1] den_w = tables[2]
    cdef pn_window w
    cdef Py_ssize_t N = grad_x.shape[0], n
    fill_window(&w, grad_x, grad_out, 1, 1, 1, 1, 0, 0, 1, 1)
    if N * w.H * w.W * w.C == 0:
        return
    if w.OH * w.OW == 0:
        grad_x[...] = 0
        return
    cdef int threads = threads_for(N * w.H * w.W * w.C, N, num_threads)
    with nogil:
        for n in prange(N, schedule="dynamic", num_threads=threads):
            if floating is float:
                pn_avg_backward_f32(_isa, &w, &bounds[0], &den_h[0], &den_w[0],
                                    &grad_out[n, 0, 0, 0], &grad_x[n, 0, 0, 0])
            else:
                pn_avg_backward_f64(_isa, &w, &bounds[0], &den_h[0], &den_w[0],
                                    &grad_out[n, 0, 0, 0], &grad_x[n, 0, 0, 0])


# ---------------------------------------------------------------------------------------------
# adaptive_max_pool2d: the adaptive windows, each output the max of its window

cdef void adaptive_max_sample(const floating[:, :, ::1] x, floating[:, :, ::1] out,
                              int64_t[:, :, ::1] index, const Py_ssize_t *bounds) noexcept nogil:
    """One sample (H, W, C): bounds holds r0 (OH), r1 (OH), c0 (OW), c1 (OW) concatenated."""
    cdef Py_ssize_t H = x.shape[0], W = x.shape[1], C = x.shape[2]
    cdef Py_ssize_t OH = out.shape[0], OW = out.shape[1], oh, ow, h, w, c
    cdef floating v
    for oh in range(OH):
        for ow in range(OW):
            h = bounds[oh]
            w = bounds[2 * OH + ow]
            for c in range(C):
                out[oh, ow, c] = x[h, w, c]
                index[oh, ow, c] = h * W + w
            for h in range(bounds[oh], bounds[OH + oh]):
                for w in range(bounds[2 * OH + ow], bounds[2 * OH + OW + ow]):
                    for c in range(C):
                        v = x[h, w, c]
                        if v > out[oh, ow, c] or v != v:
                            out[oh, ow, c] = v
                            index[oh, ow, c] = h * W + w


def adaptive_max_pool2d_forward(const floating[:, :, :, ::1] x,   # IN  (N, H, W, C), H, W > 0
                                floating[:, :, :, ::1] out,       # OUT (N, OH, OW, C)
                                int64_t[:, :, :, ::1] index,      # OUT (N, OH, OW, C)
                                int num_threads):
    """out[oh, ow] = the max of x over the adaptive window, index = where it lies."""
    cdef Py_ssize_t N = x.shape[0], n
    rows = adaptive_windows(x.shape[1], out.shape[1])
    cols = adaptive_windows(x.shape[2], out.shape[2])
    cdef const Py_ssize_t[::1] bounds = window_tables(rows, cols, 0)[0]
    if N * out.shape[1] * out.shape[2] * out.shape[3] == 0:
        return
    cdef int threads = threads_for(N * x.shape[1] * x.shape[2] * x.shape[3], N, num_threads)
    with nogil:
        for n in prange(N, schedule="dynamic", num_threads=threads):
            adaptive_max_sample(x[n], out[n], index[n], &bounds[0])


def adaptive_max_pool2d_backward(const floating[:, :, :, ::1] grad_out,   # IN  (N, OH, OW, C)
                                 const int64_t[:, :, :, ::1] index,       # IN  (N, OH, OW, C)
                                 floating[:, :, :, ::1] grad_x,           # OUT (N, H, W, C)
                                 int num_threads):
    """grad_x = 0 but at each window's maximum, which gets grad_out (summed where windows
    share it), one sample per thread, outputs in order."""
    cdef Py_ssize_t N = grad_x.shape[0], W = grad_x.shape[2], C = grad_x.shape[3]
    cdef Py_ssize_t OH = grad_out.shape[1], OW = grad_out.shape[2], n, oh, ow, c, i
    grad_x[...] = 0
    if N * OH * OW * C == 0:
        return
    cdef int threads = threads_for(N * grad_x.shape[1] * W * C, N, num_threads)
    with nogil:
        for n in prange(N, schedule="dynamic", num_threads=threads):
            for oh in range(OH):
                for ow in range(OW):
                    for c in range(C):
                        i = index[n, oh, ow, c]
                        grad_x[n, i // W, i % W, c] += grad_out[n, oh, ow, c]
