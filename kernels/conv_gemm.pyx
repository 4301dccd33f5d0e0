"""conv2d as channels-last im2col + the GEMM: forward, gradient to the input, to the weights.

Shapes (as torch): x (N, C, H, W), weight (F, C/G, KH, KW), out (N, F, OH, OW), G groups, Cg = C/G
input and Fg = F/G output channels per group. For a chunk of samples and group g the column
matrix has one row per output pixel p = (n, i, j) and K = KH*KW*Cg columns (conv_im2col.h):

    cols[p, (a*KW + b)*Cg + c] = x[n, g*Cg + c, i*SH - PT + a*DH, j*SW - PL + b*DW]

and with w_g the group's weights as a (K, Fg) matrix, (KH, KW, Cg, Fg) in memory (Conv2d's
HWIO storage is already that: no packing), and y, dy seen as (N*OH*OW, F) matrices of pixels
(channels-last memory):

    forward          y[:, g]  = cols @ w_g + bias[g]
    input gradient   dcols    = dy[:, g] @ w_g^T, then col2im adds each row back into dx
    weight gradient  dw_g    += cols^T @ dy[:, g]          (summed over the chunks in order)

The chunk of samples bounds the column matrix to about CHUNK_ELEMENTS numbers (one sample
always fits); its size depends on the shapes only, and the GEMM's bits do not depend on the
thread count, so neither do these kernels'. kernels/conv.pyx chooses between these and the
direct kernels (conv_nhwc.h) by the shapes.

Layouts: x, dy and weight may have any strides (copied to the layout needed when they are not
in it); out and grad_input must be channels-last dense (the caller allocates them so).
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange

cimport numpy as cnp

from minigrad._kernels.buffers import scratch
from minigrad._kernels.gemm import gemm

cnp.import_array()

cdef extern from "conv_im2col.h" nogil:
    ctypedef struct ci_window:
        Py_ssize_t H, W, OH, OW
        int KH, KW, sh, sw, ph, pw, dh, dw
    void ci_im2col_f32(const ci_window *w, const float *x, Py_ssize_t sc, Py_ssize_t sy,
                       Py_ssize_t sx, Py_ssize_t Cg, Py_ssize_t oh0, Py_ssize_t oh1,
                       float *cols)
    void ci_im2col_f64(const ci_window *w, const double *x, Py_ssize_t sc, Py_ssize_t sy,
                       Py_ssize_t sx, Py_ssize_t Cg, Py_ssize_t oh0, Py_ssize_t oh1,
                       double *cols)
    void ci_col2im_f32(const ci_window *w, const float *dcols, Py_ssize_t Cg, Py_ssize_t C,
                       float *dx)
    void ci_col2im_f64(const ci_window *w, const double *dcols, Py_ssize_t Cg, Py_ssize_t C,
                       double *dx)

# Largest column matrix, in numbers, that a chunk of samples may fill (one sample always fits).
CHUNK_ELEMENTS = 1 << 20

cdef enum:
    PARALLEL_MIN_ELEMENTS = 32768   # layout moves of fewer numbers run on one thread


cdef void fill_window(ci_window *w, Py_ssize_t H, Py_ssize_t W, Py_ssize_t OH, Py_ssize_t OW,
                      int KH, int KW, int sh, int sw, int ph, int pw, int dh,
                      int dw) noexcept nogil:
    w.H, w.W, w.OH, w.OW = H, W, OH, OW
    w.KH, w.KW, w.sh, w.sw, w.ph, w.pw, w.dh, w.dw = KH, KW, sh, sw, ph, pw, dh, dw


cdef Py_ssize_t samples_per_chunk(Py_ssize_t N, Py_ssize_t P, Py_ssize_t K):
    return max(1, min(N, CHUNK_ELEMENTS // max(1, P * K)))


cdef void im2col(const ci_window *w, cnp.ndarray x, Py_ssize_t n0, Py_ssize_t m, Py_ssize_t c0,
                 Py_ssize_t Cg, cnp.ndarray cols, int num_threads):
    """cols rows of samples n0 .. n0+m-1, channels c0 .. c0+Cg-1, one (sample, row) a task."""
    cdef Py_ssize_t item, n, i, K = w.KH * w.KW * Cg
    cdef Py_ssize_t e = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t sn = cnp.PyArray_STRIDES(x)[0] // e, sc = cnp.PyArray_STRIDES(x)[1] // e
    cdef Py_ssize_t sy = cnp.PyArray_STRIDES(x)[2] // e, sx = cnp.PyArray_STRIDES(x)[3] // e
    cdef char *xp = <char *>cnp.PyArray_DATA(x)
    cdef char *cp = <char *>cnp.PyArray_DATA(cols)
    cdef bint single = cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32
    cdef int threads = num_threads if m * w.OH * w.OW * K >= PARALLEL_MIN_ELEMENTS else 1
    with nogil:
        for item in prange(m * w.OH, schedule="static", num_threads=threads):
            n, i = n0 + item // w.OH, item % w.OH
            if single:
                ci_im2col_f32(w, <const float *>xp + n * sn + c0 * sc, sc, sy, sx, Cg, i, i + 1,
                              <float *>cp + item * w.OW * K)
            else:
                ci_im2col_f64(w, <const double *>xp + n * sn + c0 * sc, sc, sy, sx, Cg, i,
                              i + 1, <double *>cp + item * w.OW * K)


cdef void col2im(const ci_window *w, cnp.ndarray dcols, Py_ssize_t n0, Py_ssize_t m,
                 Py_ssize_t c0, Py_ssize_t Cg, Py_ssize_t C, cnp.ndarray dx_pixels,
                 int num_threads):
    """dx channels c0 .. c0+Cg-1 of samples n0 .. n0+m-1 from dcols, one sample a task (its
    pixels are written by that thread alone, in a fixed order)."""
    cdef Py_ssize_t n, K = w.KH * w.KW * Cg, P = w.OH * w.OW, HWC = w.H * w.W * C
    cdef char *dp = <char *>cnp.PyArray_DATA(dcols)
    cdef char *xp = <char *>cnp.PyArray_DATA(dx_pixels)
    cdef bint single = cnp.PyArray_TYPE(dcols) == cnp.NPY_FLOAT32
    cdef int threads = num_threads if m * P * K >= PARALLEL_MIN_ELEMENTS else 1
    with nogil:
        for n in prange(m, schedule="static", num_threads=threads):
            if single:
                ci_col2im_f32(w, <const float *>dp + n * P * K, Cg, C,
                              <float *>xp + (n0 + n) * HWC + c0)
            else:
                ci_col2im_f64(w, <const double *>dp + n * P * K, Cg, C,
                              <double *>xp + (n0 + n) * HWC + c0)


cdef bint pointwise(const ci_window *w):
    """A 1x1, stride-1, unpadded convolution: the column matrix is the input's pixels."""
    return (w.KH == 1 and w.KW == 1 and w.sh == 1 and w.sw == 1 and w.ph == 0 and w.pw == 0
            and w.OH == w.H and w.OW == w.W)


def pixels(a):
    """An (N, C, H, W) array as its (N*H*W, C) matrix of pixels: a view of a channels-last dense
    array, a channels-last copy of any other."""
    n, c, h, w = a.shape
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).reshape(n * h * w, c)


def hwio_matrix(weight):
    """weight (F, Cg, KH, KW) as its (KH*KW*Cg, F) matrix: a view of Conv2d's HWIO storage, a
    copy of any other layout."""
    f, cg, kh, kw = weight.shape
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0)).reshape(kh * kw * cg, f)


def forward(x, weight, bias, out, int sh, int sw, int pt, int pl, int dh, int dw, int groups,
            int num_threads):
    """out (channels-last dense) = conv2d(x, weight) + bias."""
    cdef ci_window w
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], F = weight.shape[0], Cg = weight.shape[1]
    cdef Py_ssize_t KH = weight.shape[2], KW = weight.shape[3], G = groups, Fg = F // groups
    cdef Py_ssize_t OH = out.shape[2], OW = out.shape[3], P = OH * OW, K = KH * KW * Cg
    cdef Py_ssize_t nb, n0, m, g
    if N * F * P == 0:
        return
    fill_window(&w, x.shape[2], x.shape[3], OH, OW, KH, KW, sh, sw, pt, pl, dh, dw)
    y = out.transpose(0, 2, 3, 1).reshape(N * P, F)        # a view: out is channels-last
    wm = hwio_matrix(weight)
    if pointwise(&w) and G == 1:
        gemm(pixels(x), wm, y, False, num_threads)
        if bias is not None:
            y += bias
        return
    nb = samples_per_chunk(N, P, K)
    cols = scratch("im2col", x.dtype, nb * P * K)
    products = scratch("im2col_out", x.dtype, nb * P * Fg) if G > 1 else None
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        rows = y[n0 * P:(n0 + m) * P]
        for g in range(G):
            im2col(&w, x, n0, m, g * Cg, Cg, cols, num_threads)
            a = cols[:m * P * K].reshape(m * P, K)
            if G == 1:
                gemm(a, wm, rows, False, num_threads)
            else:
                product = products[:m * P * Fg].reshape(m * P, Fg)
                gemm(a, wm[:, g * Fg:(g + 1) * Fg], product, False, num_threads)
                rows[:, g * Fg:(g + 1) * Fg] = product
        if bias is not None:
            rows += bias


def backward_input(grad_out, weight, grad_input, int sh, int sw, int pt, int pl, int dh, int dw,
                   int groups, int num_threads):
    """grad_input (channels-last dense) = the adjoint of x -> conv2d(x, weight) at grad_out."""
    cdef ci_window w
    cdef Py_ssize_t N = grad_input.shape[0], C = grad_input.shape[1], F = weight.shape[0]
    cdef Py_ssize_t Cg = weight.shape[1], KH = weight.shape[2], KW = weight.shape[3]
    cdef Py_ssize_t G = groups, Fg = F // groups, OH = grad_out.shape[2], OW = grad_out.shape[3]
    cdef Py_ssize_t P = OH * OW, K = KH * KW * Cg, nb, n0, m, g
    if N * C * grad_input.shape[2] * grad_input.shape[3] == 0:
        return
    if F * P == 0:
        grad_input[...] = 0
        return
    fill_window(&w, grad_input.shape[2], grad_input.shape[3], OH, OW, KH, KW, sh, sw, pt, pl,
                dh, dw)
    dy = pixels(grad_out)
    wm = hwio_matrix(weight)
    dx_pixels = grad_input.transpose(0, 2, 3, 1)           # (N, H, W, C) dense
    if pointwise(&w) and G == 1:
        gemm(dy, wm.T, dx_pixels.reshape(N * P, C), False, num_threads)
        return
    nb = samples_per_chunk(N, P, K)
    dcols = scratch("im2col", grad_out.dtype, nb * P * K)
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        for g in range(G):
            d = dcols[:m * P * K].reshape(m * P, K)
            gemm(dy[n0 * P:(n0 + m) * P, g * Fg:(g + 1) * Fg], wm[:, g * Fg:(g + 1) * Fg].T, d,
                 False, num_threads)
            col2im(&w, dcols, n0, m, g * Cg, Cg, C, dx_pixels, num_threads)


def backward_weight(x, grad_out, grad_weight, int sh, int sw, int pt, int pl, int dh, int dw,
                    int groups, int num_threads):
    """grad_weight (any layout) = the adjoint of weight -> conv2d(x, weight) at grad_out."""
    cdef ci_window w
    cdef Py_ssize_t N = x.shape[0], F = grad_weight.shape[0], Cg = grad_weight.shape[1]
    cdef Py_ssize_t KH = grad_weight.shape[2], KW = grad_weight.shape[3], G = groups
    cdef Py_ssize_t Fg = F // groups, OH = grad_out.shape[2], OW = grad_out.shape[3]
    cdef Py_ssize_t P = OH * OW, K = KH * KW * Cg, nb, n0, m, g
    if F * K == 0:
        return
    if N * P == 0:
        grad_weight[...] = 0
        return
    fill_window(&w, x.shape[2], x.shape[3], OH, OW, KH, KW, sh, sw, pt, pl, dh, dw)
    dy = pixels(grad_out)
    hwio = grad_weight.transpose(2, 3, 1, 0)
    if pointwise(&w) and G == 1:
        dwm = hwio.reshape(K, F) if hwio.flags.c_contiguous else np.empty((K, F), x.dtype)
        gemm(pixels(x).T, dy, dwm, False, num_threads)
        if dwm.base is None:
            hwio[...] = dwm.reshape(KH, KW, Cg, F)
        return
    nb = samples_per_chunk(N, P, K)
    cols = scratch("im2col", x.dtype, nb * P * K)
    for g in range(G):
        if G == 1 and hwio.flags.c_contiguous:    # Conv2d's layout: the GEMM writes it
            dwg = hwio.reshape(K, F)
        else:
            dwg = np.empty((K, Fg), dtype=x.dtype)
        for n0 in range(0, N, nb):
            m = min(nb, N - n0)
            im2col(&w, x, n0, m, g * Cg, Cg, cols, num_threads)
            gemm(cols[:m * P * K].reshape(m * P, K).T, dy[n0 * P:(n0 + m) * P, g * Fg:(g + 1) * Fg],
                 dwg, n0 > 0, num_threads)
        if dwg.base is None:
            hwio[..., g * Fg:(g + 1) * Fg] = dwg.reshape(KH, KW, Cg, Fg)
