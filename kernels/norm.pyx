"""Layer, group and batch normalisation, forward and backward, fused: one pass over a row
(a channel, for batch norm) for each statistic, one to normalise, and the same for the
gradients.

Layout. layer_norm: x (R, K) C-contiguous, R rows of K numbers each normalised together (a
sample's normalized_shape flattened), weight and bias (K,) or None. group_norm: x (N, C, S)
C-contiguous (NCHW flattened), C channels in G groups of CG = C/G; group (n, g) is the row of
CG*S contiguous numbers x[n, g*CG:(g+1)*CG, :], weight and bias (C,) or None. float32 or
float64 throughout; mean and rstd hold one number per row, in x's dtype.

Forward of a row of M numbers, sums in double:
    mean = Σ x / M,  var = Σ (x - mean)² / M (biased),  rstd = 1 / sqrt(var + eps)
    y = (x - mean) rstd w + b        (w, b per column, per channel for group_norm; 1, 0 if None)
Backward, with x̂ = (x - mean) rstd, h = g w (g the output's gradient):
    dx = rstd (h - mean(h) - x̂ mean(h x̂))          (means over the row)
    dw = Σ g x̂,  db = Σ g                           (over rows; per channel over n and s)

batch_norm: statistics per channel over every other axis (m numbers each; the layout is
described above batch_norm_statistics). Forward: mean and m2 = Σ (x - mean)² (sums in double),
then y = x scale + shift with per-channel scale = w rstd and shift = b - mean scale, as
torch's kernels compute it. Backward: Σ g and Σ g (x - mean) per channel, then
dx = scale (g - grad_mean - (x - mean) coef) with per-channel numbers the caller forms.

The loops are C, in norm_rows.h (compiled per ISA, chosen at run time: get_isa / set_isa).
Threads: the rows are split between threads (each row, and each of dx's rows, is one
thread's work); the weight and bias gradients are split by blocks of columns (layer norm) or
by channel (group norm) or by bands of 16 channels (batch norm, whose statistics are split
the same way), each summed by one thread over the rows in order. So every result is the same
at any thread count.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange

cimport openmp  # noqa: F401  (the one OpenMP shim; prange needs nothing more)

from minigrad._kernels.cpu import ISA_NAMES, isa_code, supported_isas  # noqa: F401

cdef extern from "norm_rows.h" nogil:
    int mg_isa_best()
    double nr_mean_f32(int isa, const float *x, Py_ssize_t M)
    double nr_mean_f64(int isa, const double *x, Py_ssize_t M)
    double nr_rstd_f32(int isa, const float *x, Py_ssize_t M, double mean, double eps)
    double nr_rstd_f64(int isa, const double *x, Py_ssize_t M, double mean, double eps)
    void nr_normalize_f32(int isa, const float *x, Py_ssize_t M, double mean, double rstd,
                          const float *w, const float *b, float *y)
    void nr_normalize_f64(int isa, const double *x, Py_ssize_t M, double mean, double rstd,
                          const double *w, const double *b, double *y)
    void nr_scale_shift_f32(int isa, const float *x, Py_ssize_t S, double scale, double shift,
                            float *y)
    void nr_scale_shift_f64(int isa, const double *x, Py_ssize_t S, double scale,
                            double shift, double *y)
    void nr_row_gradient_f32(int isa, const float *g, const float *x, Py_ssize_t blocks,
                             Py_ssize_t S, double mean, double rstd, const float *w, float *dx)
    void nr_row_gradient_f64(int isa, const double *g, const double *x, Py_ssize_t blocks,
                             Py_ssize_t S, double mean, double rstd, const double *w,
                             double *dx)
    void nr_column_sums_f32(int isa, const float *g, const float *x, const float *mean,
                            const float *rstd, Py_ssize_t R, Py_ssize_t K, Py_ssize_t k0,
                            Py_ssize_t k1, double *sgx, double *sg)
    void nr_column_sums_f64(int isa, const double *g, const double *x, const double *mean,
                            const double *rstd, Py_ssize_t R, Py_ssize_t K, Py_ssize_t k0,
                            Py_ssize_t k1, double *sgx, double *sg)
    void nr_pair_sums_f32(int isa, const float *g, const float *x, Py_ssize_t S, double mean,
                          double rstd, double *sgx, double *sg)
    void nr_pair_sums_f64(int isa, const double *g, const double *x, Py_ssize_t S,
                          double mean, double rstd, double *sgx, double *sg)

    double nr_sum_f32(int isa, const float *x, Py_ssize_t M)
    double nr_sum_f64(int isa, const double *x, Py_ssize_t M)
    double nr_squares_f32(int isa, const float *x, Py_ssize_t M, double mean)
    double nr_squares_f64(int isa, const double *x, Py_ssize_t M, double mean)
    void nr_band_moments_f32(int isa, const float *x, Py_ssize_t R, Py_ssize_t C,
                             Py_ssize_t c0, Py_ssize_t c1, double *mean, double *m2)
    void nr_band_moments_f64(int isa, const double *x, Py_ssize_t R, Py_ssize_t C,
                             Py_ssize_t c0, Py_ssize_t c1, double *mean, double *m2)
    void nr_band_gradient_sums_f32(int isa, const float *g, const float *x, Py_ssize_t R,
                                   Py_ssize_t C, Py_ssize_t c0, Py_ssize_t c1,
                                   const double *mean, double *sg, double *sgxc)
    void nr_band_gradient_sums_f64(int isa, const double *g, const double *x, Py_ssize_t R,
                                   Py_ssize_t C, Py_ssize_t c0, Py_ssize_t c1,
                                   const double *mean, double *sg, double *sgxc)
    void nr_rows_scale_shift_f32(int isa, const float *x, Py_ssize_t rows, Py_ssize_t C,
                                 const float *scale, const float *shift, float *y)
    void nr_rows_scale_shift_f64(int isa, const double *x, Py_ssize_t rows, Py_ssize_t C,
                                 const double *scale, const double *shift, double *y)
    void nr_rows_input_gradient_f32(int isa, const float *g, const float *x, Py_ssize_t rows,
                                    Py_ssize_t C, const float *mean, const float *scale,
                                    const float *grad_mean, const float *coef, float *dx)
    void nr_rows_input_gradient_f64(int isa, const double *g, const double *x,
                                    Py_ssize_t rows, Py_ssize_t C, const double *mean,
                                    const double *scale, const double *grad_mean,
                                    const double *coef, double *dx)
    void nr_plane_input_gradient_f32(int isa, const float *g, const float *x, Py_ssize_t S,
                                     float mean, float scale, float grad_mean, float coef,
                                     float *dx)
    void nr_plane_input_gradient_f64(int isa, const double *g, const double *x, Py_ssize_t S,
                                     double mean, double scale, double grad_mean, double coef,
                                     double *dx)
    int NR_BAND

# Below this many numbers a call does not pay for waking more threads.
cdef Py_ssize_t PARALLEL_MIN_WORK = 262144
# Columns of the layer norm's weight gradient summed together by one thread (a block of each
# row is read contiguously).
cdef Py_ssize_t COLUMN_BLOCK = 64
# Rows a batch norm thread normalises (or differentiates) at a time, channels-last layout.
cdef Py_ssize_t ROW_CHUNK = 64

cdef int _isa = mg_isa_best()


def get_isa():
    """The instruction set of the normalisation loops: 'avx512', 'avx2' or 'base'."""
    return ISA_NAMES[_isa]


def set_isa(name):
    """Run the normalisation loops with this instruction set, or None for the widest."""
    global _isa
    _isa = isa_code(name)


cdef inline int _threads(Py_ssize_t work, Py_ssize_t items, int num_threads) noexcept nogil:
    return num_threads if work >= PARALLEL_MIN_WORK and items > 1 else 1


# ---------------------------------------------------------------------------------------------
# Typed calls of the C loops (the fused type picks the f32 or f64 loop).

# (Values the loops below compute are returned, never written through pointers: a variable
# prange assigns is private to each thread, one only written through its address is shared.)

cdef inline double _mean(const floating *x, Py_ssize_t M) noexcept nogil:
    if floating is float:
        return nr_mean_f32(_isa, x, M)
    else:
        return nr_mean_f64(_isa, x, M)


cdef inline double _rstd(const floating *x, Py_ssize_t M, double mean,
                         double eps) noexcept nogil:
    if floating is float:
        return nr_rstd_f32(_isa, x, M, mean, eps)
    else:
        return nr_rstd_f64(_isa, x, M, mean, eps)


cdef inline void _normalize(const floating *x, Py_ssize_t M, double mean, double rstd,
                            const floating *w, const floating *b, floating *y) noexcept nogil:
    if floating is float:
        nr_normalize_f32(_isa, x, M, mean, rstd, w, b, y)
    else:
        nr_normalize_f64(_isa, x, M, mean, rstd, w, b, y)


cdef inline void _scale_shift(const floating *x, Py_ssize_t S, double scale, double shift,
                              floating *y) noexcept nogil:
    if floating is float:
        nr_scale_shift_f32(_isa, x, S, scale, shift, y)
    else:
        nr_scale_shift_f64(_isa, x, S, scale, shift, y)


cdef inline void _row_gradient(const floating *g, const floating *x, Py_ssize_t blocks,
                               Py_ssize_t S, double mean, double rstd, const floating *w,
                               floating *dx) noexcept nogil:
    if floating is float:
        nr_row_gradient_f32(_isa, g, x, blocks, S, mean, rstd, w, dx)
    else:
        nr_row_gradient_f64(_isa, g, x, blocks, S, mean, rstd, w, dx)


cdef inline void _column_sums(const floating *g, const floating *x, const floating *mean,
                              const floating *rstd, Py_ssize_t R, Py_ssize_t K, Py_ssize_t k0,
                              Py_ssize_t k1, double *sgx, double *sg) noexcept nogil:
    if floating is float:
        nr_column_sums_f32(_isa, g, x, mean, rstd, R, K, k0, k1, sgx, sg)
    else:
        nr_column_sums_f64(_isa, g, x, mean, rstd, R, K, k0, k1, sgx, sg)


cdef inline void _pair_sums(const floating *g, const floating *x, Py_ssize_t S, double mean,
                            double rstd, double *sgx, double *sg) noexcept nogil:
    if floating is float:
        nr_pair_sums_f32(_isa, g, x, S, mean, rstd, sgx, sg)
    else:
        nr_pair_sums_f64(_isa, g, x, S, mean, rstd, sgx, sg)


# ---------------------------------------------------------------------------------------------
# layer_norm

def layer_norm_forward(const floating[:, ::1] x,      # IN  (R, K)
                       const floating[::1] weight,    # IN  (K,) or None
                       const floating[::1] bias,      # IN  (K,) or None
                       double eps,
                       floating[:, ::1] out,          # OUT (R, K)
                       floating[::1] mean,            # OUT (R,)
                       floating[::1] rstd,            # OUT (R,)
                       int num_threads):
    """out = layer_norm(x) per row, and each row's mean and rstd."""
    cdef Py_ssize_t R = x.shape[0], K = x.shape[1], r
    cdef const floating *w = NULL
    cdef const floating *b = NULL
    cdef double m, s
    if R == 0 or K == 0:
        return
    if weight is not None:
        w = &weight[0]
    if bias is not None:
        b = &bias[0]
    with nogil:
        for r in prange(R, schedule="static", num_threads=_threads(R * K, R, num_threads)):
            m = _mean(&x[r, 0], K)
            s = _rstd(&x[r, 0], K, m, eps)
            mean[r] = <floating>m
            rstd[r] = <floating>s
            _normalize(&x[r, 0], K, m, s, w, b, &out[r, 0])


def layer_norm_backward(const floating[:, ::1] grad,   # IN  (R, K)
                        const floating[:, ::1] x,      # IN  (R, K)
                        const floating[::1] mean,      # IN  (R,)
                        const floating[::1] rstd,      # IN  (R,)
                        const floating[::1] weight,    # IN  (K,) or None
                        floating[:, ::1] grad_x,       # OUT (R, K) or None
                        floating[::1] grad_weight,     # OUT (K,) or None
                        floating[::1] grad_bias,       # OUT (K,) or None
                        int num_threads):
    """The gradients layer_norm_forward's inputs get from grad; None outputs are skipped."""
    cdef Py_ssize_t R = x.shape[0], K = x.shape[1], r, block, k0, k1
    cdef Py_ssize_t blocks = (K + COLUMN_BLOCK - 1) // COLUMN_BLOCK
    cdef const floating *w = NULL
    cdef double[::1] sgx, sg
    if K == 0:
        return
    if weight is not None:
        w = &weight[0]
    if grad_x is not None and R > 0:
        with nogil:
            for r in prange(R, schedule="static", num_threads=_threads(R * K, R, num_threads)):
                _row_gradient(&grad[r, 0], &x[r, 0], K, 1, mean[r], rstd[r], w, &grad_x[r, 0])
    if grad_weight is None and grad_bias is None:
        return
    sgx = np.zeros(K, dtype=np.float64)
    sg = np.zeros(K, dtype=np.float64)
    if R > 0:
        with nogil:
            for block in prange(blocks, schedule="static",
                                num_threads=_threads(R * K, blocks, num_threads)):
                k0 = block * COLUMN_BLOCK
                k1 = min(k0 + COLUMN_BLOCK, K)
                _column_sums(&grad[0, 0], &x[0, 0], &mean[0], &rstd[0], R, K, k0, k1,
                             &sgx[k0], &sg[k0])
    if grad_weight is not None:
        np.asarray(grad_weight)[...] = sgx
    if grad_bias is not None:
        np.asarray(grad_bias)[...] = sg


# ---------------------------------------------------------------------------------------------
# group_norm

def group_norm_forward(const floating[:, :, ::1] x,   # IN  (N, C, S)
                       const floating[::1] weight,    # IN  (C,) or None
                       const floating[::1] bias,      # IN  (C,) or None
                       int groups, double eps,
                       floating[:, :, ::1] out,       # OUT (N, C, S)
                       floating[:, ::1] mean,         # OUT (N, G)
                       floating[:, ::1] rstd,         # OUT (N, G)
                       int num_threads):
    """out = group_norm(x) per (sample, group), and each group's mean and rstd."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], CG = C // groups
    cdef Py_ssize_t item, n, g, c
    cdef bint has_w = weight is not None, has_b = bias is not None
    cdef double m, r, scale
    if N == 0 or C == 0 or S == 0:
        return
    with nogil:
        for item in prange(N * groups, schedule="static",
                           num_threads=_threads(N * C * S, N * groups, num_threads)):
            n = item // groups
            g = item % groups
            m = _mean(&x[n, g * CG, 0], CG * S)
            r = _rstd(&x[n, g * CG, 0], CG * S, m, eps)
            mean[n, g] = <floating>m
            rstd[n, g] = <floating>r
            for c in range(g * CG, (g + 1) * CG):
                scale = r * weight[c] if has_w else r
                _scale_shift(&x[n, c, 0], S, scale, (bias[c] if has_b else 0) - m * scale,
                             &out[n, c, 0])


def group_norm_backward(const floating[:, :, ::1] grad,   # IN  (N, C, S)
                        const floating[:, :, ::1] x,      # IN  (N, C, S)
                        const floating[:, ::1] mean,      # IN  (N, G)
                        const floating[:, ::1] rstd,      # IN  (N, G)
                        const floating[::1] weight,       # IN  (C,) or None
                        int groups,
                        floating[:, :, ::1] grad_x,       # OUT (N, C, S) or None
                        floating[::1] grad_weight,        # OUT (C,) or None
                        floating[::1] grad_bias,          # OUT (C,) or None
                        int num_threads):
    """The gradients group_norm_forward's inputs get from grad; None outputs are skipped."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], S = x.shape[2], CG = C // groups
    cdef Py_ssize_t item, n, g, c
    cdef const floating *w = NULL
    cdef const floating *w_group
    cdef bint want_w = grad_weight is not None, want_b = grad_bias is not None
    cdef double total_gx, total_g
    cdef double[:, ::1] pair   # one (sample, channel)'s sums, a row per channel
    if C == 0:
        return
    pair = np.empty((C, 2), dtype=np.float64)
    if weight is not None:
        w = &weight[0]
    with nogil:
        if grad_x is not None and N > 0 and S > 0:
            for item in prange(N * groups, schedule="static",
                               num_threads=_threads(N * C * S, N * groups, num_threads)):
                n = item // groups
                g = item % groups
                w_group = w
                if w != NULL:
                    w_group = w + g * CG
                _row_gradient(&grad[n, g * CG, 0], &x[n, g * CG, 0], CG, S, mean[n, g],
                              rstd[n, g], w_group, &grad_x[n, g * CG, 0])
        if want_w or want_b:
            for c in prange(C, schedule="static",
                            num_threads=_threads(N * C * S, C, num_threads)):
                total_gx = 0
                total_g = 0
                g = c // CG
                if S > 0:
                    for n in range(N):
                        _pair_sums(&grad[n, c, 0], &x[n, c, 0], S, mean[n, g], rstd[n, g],
                                   &pair[c, 0], &pair[c, 1])
                        total_gx = total_gx + pair[c, 0]
                        total_g = total_g + pair[c, 1]
                if want_w:
                    grad_weight[c] = <floating>total_gx
                if want_b:
                    grad_bias[c] = <floating>total_g


# ---------------------------------------------------------------------------------------------
# batch_norm: x (A, C, B) C-contiguous. B == 1 is the rows layout (channels-last memory or a
# 2-D input: A = N*H*W rows of C channels); B > 1 the planes layout (NCHW memory: A = N
# samples, B = H*W numbers per channel). Statistics are per channel over the A*B numbers.

cdef inline double _sum(const floating *x, Py_ssize_t M) noexcept nogil:
    if floating is float:
        return nr_sum_f32(_isa, x, M)
    else:
        return nr_sum_f64(_isa, x, M)


cdef inline double _squares(const floating *x, Py_ssize_t M, double mean) noexcept nogil:
    if floating is float:
        return nr_squares_f32(_isa, x, M, mean)
    else:
        return nr_squares_f64(_isa, x, M, mean)


cdef inline void _band_moments(const floating *x, Py_ssize_t R, Py_ssize_t C, Py_ssize_t c0,
                               Py_ssize_t c1, double *mean, double *m2) noexcept nogil:
    if floating is float:
        nr_band_moments_f32(_isa, x, R, C, c0, c1, mean, m2)
    else:
        nr_band_moments_f64(_isa, x, R, C, c0, c1, mean, m2)


cdef inline void _band_gradient_sums(const floating *g, const floating *x, Py_ssize_t R,
                                     Py_ssize_t C, Py_ssize_t c0, Py_ssize_t c1,
                                     const double *mean, double *sg,
                                     double *sgxc) noexcept nogil:
    if floating is float:
        nr_band_gradient_sums_f32(_isa, g, x, R, C, c0, c1, mean, sg, sgxc)
    else:
        nr_band_gradient_sums_f64(_isa, g, x, R, C, c0, c1, mean, sg, sgxc)


cdef inline void _rows_scale_shift(const floating *x, Py_ssize_t rows, Py_ssize_t C,
                                   const floating *scale, const floating *shift,
                                   floating *y) noexcept nogil:
    if floating is float:
        nr_rows_scale_shift_f32(_isa, x, rows, C, scale, shift, y)
    else:
        nr_rows_scale_shift_f64(_isa, x, rows, C, scale, shift, y)


cdef inline void _rows_input_gradient(const floating *g, const floating *x, Py_ssize_t rows,
                                      Py_ssize_t C, const floating *mean,
                                      const floating *scale, const floating *grad_mean,
                                      const floating *coef, floating *dx) noexcept nogil:
    if floating is float:
        nr_rows_input_gradient_f32(_isa, g, x, rows, C, mean, scale, grad_mean, coef, dx)
    else:
        nr_rows_input_gradient_f64(_isa, g, x, rows, C, mean, scale, grad_mean, coef, dx)


cdef inline void _plane_input_gradient(const floating *g, const floating *x, Py_ssize_t S,
                                       floating mean, floating scale, floating grad_mean,
                                       floating coef, floating *dx) noexcept nogil:
    if floating is float:
        nr_plane_input_gradient_f32(_isa, g, x, S, mean, scale, grad_mean, coef, dx)
    else:
        nr_plane_input_gradient_f64(_isa, g, x, S, mean, scale, grad_mean, coef, dx)


def batch_norm_statistics(const floating[:, :, ::1] x,   # IN  (A, C, B)
                          double[::1] mean,              # OUT (C,)
                          double[::1] m2,                # OUT (C,)
                          int num_threads):
    """mean[c] = Σ x / m and m2[c] = Σ (x - mean)² over channel c's m = A*B numbers (two
    passes, sums in double); m = 0 gives zeros."""
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], band, c0, c, a
    cdef Py_ssize_t bands = (C + NR_BAND - 1) // NR_BAND
    cdef double total, centre
    if C == 0:
        return
    if A == 0 or B == 0:
        mean[:] = 0
        m2[:] = 0
        return
    with nogil:
        if B == 1:
            for band in prange(bands, schedule="static",
                               num_threads=_threads(A * C, bands, num_threads)):
                c0 = band * NR_BAND
                _band_moments(&x[0, 0, 0], A, C, c0, min(c0 + NR_BAND, C), &mean[c0],
                              &m2[c0])
        else:
            for c in prange(C, schedule="static", num_threads=_threads(A * C * B, C,
                                                                       num_threads)):
                total = 0
                for a in range(A):
                    total = total + _sum(&x[a, c, 0], B)
                centre = total / (A * B)
                total = 0
                for a in range(A):
                    total = total + _squares(&x[a, c, 0], B, centre)
                mean[c] = centre
                m2[c] = total


def batch_norm_affine(const floating[:, :, ::1] x,      # IN  (A, C, B)
                      const floating[::1] scale,        # IN  (C,)
                      const floating[::1] shift,        # IN  (C,)
                      floating[:, :, ::1] out,          # OUT (A, C, B)
                      int num_threads):
    """out = x scale[c] + shift[c] (scale = w rstd, shift = b - mean scale: the normalisation)."""
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], chunk, item, r0
    cdef Py_ssize_t chunks = (A + ROW_CHUNK - 1) // ROW_CHUNK
    if A == 0 or C == 0 or B == 0:
        return
    with nogil:
        if B == 1:
            for chunk in prange(chunks, schedule="static",
                                num_threads=_threads(A * C, chunks, num_threads)):
                r0 = chunk * ROW_CHUNK
                _rows_scale_shift(&x[r0, 0, 0], min(ROW_CHUNK, A - r0), C, &scale[0],
                                  &shift[0], &out[r0, 0, 0])
        else:
            for item in prange(A * C, schedule="static",
                               num_threads=_threads(A * C * B, A * C, num_threads)):
                _scale_shift(&x[item // C, item % C, 0], B, scale[item % C], shift[item % C],
                             &out[item // C, item % C, 0])


def batch_norm_gradient_sums(const floating[:, :, ::1] grad,   # IN  (A, C, B)
                             const floating[:, :, ::1] x,      # IN  (A, C, B)
                             const double[::1] mean,           # IN  (C,)
                             double[::1] sum_grad,             # OUT (C,)
                             double[::1] sum_grad_centred,     # OUT (C,)
                             int num_threads):
    """sum_grad[c] = Σ g and sum_grad_centred[c] = Σ g (x - mean[c]) over channel c."""
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], band, c0, c, a
    cdef Py_ssize_t bands = (C + NR_BAND - 1) // NR_BAND
    cdef double total_g, total_gx
    cdef double[:, ::1] pair   # one (sample, channel)'s sums, a row per channel
    if C == 0:
        return
    if A == 0 or B == 0:  # empty sums (and no element whose address the loops may take)
        sum_grad[:] = 0
        sum_grad_centred[:] = 0
        return
    pair = np.empty((C, 2), dtype=np.float64)
    with nogil:
        if B == 1:
            for band in prange(bands, schedule="static",
                               num_threads=_threads(A * C, bands, num_threads)):
                c0 = band * NR_BAND
                _band_gradient_sums(&grad[0, 0, 0], &x[0, 0, 0], A, C, c0,
                                    min(c0 + NR_BAND, C), &mean[c0], &sum_grad[c0],
                                    &sum_grad_centred[c0])
        else:
            for c in prange(C, schedule="static", num_threads=_threads(A * C * B, C,
                                                                       num_threads)):
                total_g = 0
                total_gx = 0
                for a in range(A):
                    _pair_sums(&grad[a, c, 0], &x[a, c, 0], B, mean[c], 1.0, &pair[c, 0],
                               &pair[c, 1])
                    total_gx = total_gx + pair[c, 0]
                    total_g = total_g + pair[c, 1]
                sum_grad[c] = total_g
                sum_grad_centred[c] = total_gx


def batch_norm_input_gradient(const floating[:, :, ::1] grad,   # IN  (A, C, B)
                              const floating[:, :, ::1] x,      # IN  (A, C, B)
                              const floating[::1] mean,         # IN  (C,)
                              const floating[::1] scale,        # IN  (C,)
                              const floating[::1] grad_mean,    # IN  (C,)
                              const floating[::1] coef,         # IN  (C,)
                              floating[:, :, ::1] grad_x,       # OUT (A, C, B)
                              int num_threads):
    """dx = scale[c] (g - grad_mean[c] - (x - mean[c]) coef[c]); training: scale = w rstd,
    grad_mean = Σ g / m, coef = rstd² Σ g (x - mean) / m; evaluation: grad_mean = coef = 0."""
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], chunk, item, r0, c
    cdef Py_ssize_t chunks = (A + ROW_CHUNK - 1) // ROW_CHUNK
    if A == 0 or C == 0 or B == 0:
        return
    with nogil:
        if B == 1:
            for chunk in prange(chunks, schedule="static",
                                num_threads=_threads(A * C, chunks, num_threads)):
                r0 = chunk * ROW_CHUNK
                _rows_input_gradient(&grad[r0, 0, 0], &x[r0, 0, 0], min(ROW_CHUNK, A - r0), C,
                                     &mean[0], &scale[0], &grad_mean[0], &coef[0],
                                     &grad_x[r0, 0, 0])
        else:
            for item in prange(A * C, schedule="static",
                               num_threads=_threads(A * C * B, A * C, num_threads)):
                c = item % C
                _plane_input_gradient(&grad[item // C, c, 0], &x[item // C, c, 0], B, mean[c],
                                      scale[c], grad_mean[c], coef[c],
                                      &grad_x[item // C, c, 0])
