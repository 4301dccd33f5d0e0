"""conv2d on NCHW arrays (row-major): forward, backward to the input, to the weight, to the bias.

Shapes: x (N, C, H, W), weight (F, C/G, KH, KW), out (N, F, OH, OW), G groups.

    out[n, f, i, j] = bias[f] + sum over c < C/G, a < KH, b < KW of
                      weight[f, c, a, b] * x[n, g*C/G + c, i*SH - PT + a*DH, j*SW - PL + b*DW]

with g = f // (F/G) the group of output channel f and x read as 0 outside the image (zero
padding). Only the top and left padding (PT, PL) are arguments: the bottom and right padding
are implied by the shape of out (and of grad_input in the backward pass).

Algorithm: im2col + the project's GEMM (minigrad._kernels.gemm). A chunk of NB samples is laid
out as a matrix with one row per (c, a, b) and one column per (n, i, j), P = OH*OW:

    cols[(c*KH + a)*KW + b, n*P + i*OW + j] = x[n, c, i*SH - PT + a*DH, j*SW - PL + b*DW]

and with KG = C/G*KH*KW rows per group, FG = F/G output channels per group:

    forward          out_g (FG, NB*P)   = weight_g (FG, KG) @ cols_g (KG, NB*P)
    backward weight  dweight_g (FG, KG) += dout_g (FG, NB*P) @ cols_g^T
    backward input   dcols_g (KG, NB*P)  = weight_g^T @ dout_g, then col2im adds dcols into dx
    bias             dbias[f] = sum over n, i, j of dout[n, f, i, j]

dout_g is dout with the batch moved next to the pixels, (F, NB*P); for a chunk of one sample
out[n] already has that layout, so no transpose is needed, and a 1x1 stride-1 unpadded conv
needs no im2col either (cols is x[n] itself). The chunk size bounds the im2col buffer and the
transposed-output buffer to about CHUNK_ELEMENTS numbers each; both are cached per thread and
dtype, and grow when a bigger one is needed.

Depthwise convolutions (G = C > 1: one input channel per group) skip im2col and the GEMM, whose
products would have a single row: direct loops over each plane and kernel tap instead.

kernels/conv.pyx calls these for what its channels-last direct kernels do not do: grouped
convolutions and the input gradient of strided ones.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

from minigrad._kernels.gemm import gemm, gemm_batched
from minigrad._kernels.buffers import scratch as _scratch

# Largest im2col (or transposed-output) buffer, in numbers, that a chunk of samples may fill;
# one sample always fits. Measured: 4 MB chunks beat 16 MB ones (the GEMM reads them warm).
CHUNK_ELEMENTS = 1 << 20

cdef enum:
    PARALLEL_MIN_ELEMENTS = 32768   # loops over fewer numbers than this run on one thread
    TAP_BLOCK = 64                  # columns summed side by side by the depthwise weight gradient

# ---------------------------------------------------------------------------------------------
# Inner math: one im2col row, one col2im plane, the layout moves around the GEMM.

cdef inline Py_ssize_t ceil_div(Py_ssize_t m, Py_ssize_t d) noexcept nogil:
    """ceil(m / d) for d > 0 and any sign of m (both divisions see non-negative operands)."""
    if m <= 0:
        return -((-m) // d)
    return (m + d - 1) // d


cdef inline int threads_for(Py_ssize_t elements, int num_threads) noexcept nogil:
    """One thread for loops too small to repay waking a team (a few microseconds)."""
    return num_threads if elements >= PARALLEL_MIN_ELEMENTS else 1


cdef inline Py_ssize_t clamp(Py_ssize_t v, Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


cdef inline void zero_edges(floating* rows, Py_ssize_t W, Py_ssize_t i_lo, Py_ssize_t i_hi,
                            Py_ssize_t j_lo, Py_ssize_t j_hi) noexcept nogil:
    """rows[i, j] = 0 for i_lo <= i < i_hi and j < j_lo or j >= j_hi (rows is (., W))."""
    cdef Py_ssize_t i, j
    for i in range(i_lo, i_hi):
        for j in range(j_lo):
            rows[i * W + j] = 0
        for j in range(j_hi, W):
            rows[i * W + j] = 0


cdef void copy_shifted_block(const floating* plane, floating* dst, Py_ssize_t H,
                             Py_ssize_t W, Py_ssize_t oh, Py_ssize_t row_shift,
                             Py_ssize_t base, Py_ssize_t j_lo, Py_ssize_t j_hi) noexcept nogil:
    """dst[i, j] = plane[i + row_shift, j + base] (0 outside the plane) when OW == W and both
    strides are 1: then dst is the plane shifted by one flat offset, so one memcpy does it and
    only the columns that read padding need fixing."""
    cdef Py_ssize_t start, end
    cdef Py_ssize_t i_lo = clamp(-row_shift, 0, oh), i_hi = clamp(H - row_shift, i_lo, oh)
    if i_lo == i_hi or j_lo == j_hi:
        memset(dst, 0, oh * W * sizeof(floating))
        return
    start = i_lo * W + j_lo
    end = (i_hi - 1) * W + j_hi
    memset(dst, 0, start * sizeof(floating))
    memcpy(dst + start, plane + start + row_shift * W + base, (end - start) * sizeof(floating))
    memset(dst + end, 0, (oh * W - end) * sizeof(floating))
    if j_lo > 0 or j_hi < W:
        # The copy wrapped neighbouring rows' pixels into the columns that read padding
        # (a few numbers per row: plain loops; a memset call per row took ~5% of the forward).
        zero_edges(dst, W, i_lo, i_hi, j_lo, j_hi)


cdef void im2col_row(const floating[:, :, :, ::1] x, Py_ssize_t n0, Py_ssize_t nb,
                     floating* row, Py_ssize_t r, int kh, int kw, int sh, int sw,
                     int pt, int pl, int dh, int dw, Py_ssize_t oh, Py_ssize_t ow) noexcept nogil:
    """Fill row r = (c*KH + a)*KW + b of cols for samples n0 .. n0+nb-1."""
    cdef Py_ssize_t H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t c = r // (kh * kw), a = (r // kw) % kh, b = r % kw
    cdef Py_ssize_t base = b * dw - pl       # input column of output column j is j*SW + base
    # Output columns j_lo <= j < j_hi read inside the image, the others read padding.
    cdef Py_ssize_t j_lo = clamp(ceil_div(-base, sw), 0, ow)
    cdef Py_ssize_t j_hi = clamp(ceil_div(W - base, sw), j_lo, ow)
    cdef Py_ssize_t n, i, j, ih
    cdef floating* dst
    cdef const floating* src
    cdef const floating* plane
    cdef bint shifted_copy = sh == 1 and sw == 1 and ow == W
    for n in range(nb):
        plane = &x[n0 + n, c, 0, 0]
        if shifted_copy:
            copy_shifted_block(plane, row + n * oh * ow, H, W, oh, a * dh - pt, base,
                               j_lo, j_hi)
            continue
        for i in range(oh):
            dst = row + (n * oh + i) * ow
            ih = i * sh - pt + a * dh
            if ih < 0 or ih >= H:
                memset(dst, 0, ow * sizeof(floating))
                continue
            src = plane + ih * W
            for j in range(j_lo):
                dst[j] = 0
            if sw == 1:
                memcpy(dst + j_lo, src + j_lo + base, (j_hi - j_lo) * sizeof(floating))
            else:
                for j in range(j_lo, j_hi):
                    dst[j] = src[j * sw + base]
            for j in range(j_hi, ow):
                dst[j] = 0


cdef void col2im_plane(floating* cols, Py_ssize_t row_stride, Py_ssize_t n,
                       floating* plane, Py_ssize_t H, Py_ssize_t W, Py_ssize_t c,
                       int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw,
                       Py_ssize_t oh, Py_ssize_t ow) noexcept nogil:
    """plane = dx[n0 + n, c]: zero it, then add every entry of cols that im2col read from it.

    When OW == W and both strides are 1 (the mirror of copy_shifted_block), a tap's block of
    cols lands on the plane shifted by one flat offset: its entries that read padding are set
    to 0 in cols (scratch, and this block is read by this plane only), then one long
    contiguous loop adds the block. x + 0 == x, so the sums are those of the row loop."""
    cdef Py_ssize_t a, b, i, j, ih, base, j_lo, j_hi, i_lo, i_hi, row_shift, k, start, end
    cdef floating* src
    cdef floating* dst
    cdef bint shifted_add = sh == 1 and sw == 1 and ow == W
    memset(plane, 0, H * W * sizeof(floating))
    for a in range(kh):
        for b in range(kw):
            base = b * dw - pl
            j_lo = clamp(ceil_div(-base, sw), 0, ow)
            j_hi = clamp(ceil_div(W - base, sw), j_lo, ow)
            src = cols + ((c * kh + a) * kw + b) * row_stride + n * oh * ow
            if shifted_add:
                row_shift = a * dh - pt
                i_lo = clamp(-row_shift, 0, oh)
                i_hi = clamp(H - row_shift, i_lo, oh)
                if i_lo == i_hi or j_lo == j_hi:
                    continue
                zero_edges(src, W, i_lo, i_hi, j_lo, j_hi)
                start = i_lo * W + j_lo
                end = (i_hi - 1) * W + j_hi
                dst = plane + row_shift * W + base
                for k in range(start, end):
                    dst[k] += src[k]
                continue
            for i in range(oh):
                ih = i * sh - pt + a * dh
                if ih < 0 or ih >= H:
                    continue
                dst = plane + ih * W + base
                if sw == 1:  # contiguous: lets the compiler vectorise
                    for j in range(j_lo, j_hi):
                        dst[j] += src[i * ow + j]
                else:
                    for j in range(j_lo, j_hi):
                        dst[j * sw] += src[i * ow + j]


cdef void add_bias(floating* dst, const floating[::1] bias, Py_ssize_t f,
                   Py_ssize_t p) noexcept nogil:
    """dst[0:p] += bias[f] (bias may be empty: nothing to add)."""
    cdef Py_ssize_t k
    cdef floating v
    if bias.shape[0] == 0:
        return
    v = bias[f]
    for k in range(p):
        dst[k] += v


# ---------------------------------------------------------------------------------------------
# Loops over the inner math (parallel over independent rows / planes).

cdef void im2col(const floating[:, :, :, ::1] x, Py_ssize_t n0, Py_ssize_t nb,
                 floating[::1] cols, int kh, int kw, int sh, int sw, int pt, int pl,
                 int dh, int dw, Py_ssize_t oh, Py_ssize_t ow, int num_threads) noexcept nogil:
    cdef Py_ssize_t rows = x.shape[1] * kh * kw, row_stride = nb * oh * ow, r
    num_threads = threads_for(rows * row_stride, num_threads)
    for r in prange(rows, num_threads=num_threads, schedule="static"):
        im2col_row(x, n0, nb, &cols[0] + r * row_stride, r, kh, kw, sh, sw, pt, pl,
                   dh, dw, oh, ow)


cdef void col2im(floating[::1] cols, Py_ssize_t n0, Py_ssize_t nb,
                 floating[:, :, :, ::1] dx, int kh, int kw, int sh, int sw, int pt, int pl,
                 int dh, int dw, Py_ssize_t oh, Py_ssize_t ow, int num_threads) noexcept nogil:
    """dx[n0:n0+nb] = the adjoint of im2col applied to cols (each plane owned by one thread).
    cols is scratch: entries that read padding may be overwritten with 0."""
    cdef Py_ssize_t C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t row_stride = nb * oh * ow, k
    num_threads = threads_for(cols.shape[0], num_threads)
    for k in prange(nb * C, num_threads=num_threads, schedule="static"):
        col2im_plane(&cols[0], row_stride, k // C, &dx[n0 + k // C, k % C, 0, 0], H, W, k % C,
                     kh, kw, sh, sw, pt, pl, dh, dw, oh, ow)


cdef void batch_to_rows(const floating[:, :, :, ::1] src, Py_ssize_t n0, Py_ssize_t nb,
                        floating[::1] rows, int num_threads) noexcept nogil:
    """rows[f, n*P + p] = src[n0 + n, f, p]: (NB, F, P) -> (F, NB*P)."""
    cdef Py_ssize_t F = src.shape[1], P = src.shape[2] * src.shape[3], k
    num_threads = threads_for(nb * F * P, num_threads)
    for k in prange(nb * F, num_threads=num_threads, schedule="static"):
        memcpy(&rows[0] + ((k % F) * nb + k // F) * P, &src[n0 + k // F, k % F, 0, 0],
               P * sizeof(floating))


cdef void rows_to_batch(const floating[::1] rows, const floating[::1] bias,
                        floating[:, :, :, ::1] dst, Py_ssize_t n0, Py_ssize_t nb,
                        int num_threads) noexcept nogil:
    """dst[n0 + n, f, p] = rows[f, n*P + p] + bias[f]: (F, NB*P) -> (NB, F, P)."""
    cdef Py_ssize_t F = dst.shape[1], P = dst.shape[2] * dst.shape[3], k
    cdef floating* out_row
    num_threads = threads_for(nb * F * P, num_threads)
    for k in prange(nb * F, num_threads=num_threads, schedule="static"):
        out_row = &dst[n0 + k // F, k % F, 0, 0]
        memcpy(out_row, &rows[0] + ((k % F) * nb + k // F) * P, P * sizeof(floating))
        add_bias(out_row, bias, k % F, P)


cdef void add_bias_batch(floating[:, :, :, ::1] dst, const floating[::1] bias, Py_ssize_t n,
                         int num_threads) noexcept nogil:
    cdef Py_ssize_t F = dst.shape[1], P = dst.shape[2] * dst.shape[3], f
    num_threads = threads_for(F * P, num_threads)
    for f in prange(F, num_threads=num_threads, schedule="static"):
        add_bias(&dst[n, f, 0, 0], bias, f, P)


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
# Python-level helpers: chunking, the grouped GEMM.

cdef Py_ssize_t chunk_size(Py_ssize_t n, Py_ssize_t rows, Py_ssize_t p):
    """Samples per chunk: as many as keep rows x (chunk*p) under CHUNK_ELEMENTS, at least 1.
    rows is the larger of the im2col rows and the output channels (both buffers are bounded)."""
    cdef Py_ssize_t per_sample = max(rows * p, 1)
    return max(1, min(n, CHUNK_ELEMENTS // per_sample))


cdef grouped_matmul(a, b, out, bint accumulate, int num_threads):
    """out[g] (+)= a[g] @ b[g] for every group g (a, b, out are (G, ., .) arrays)."""
    if a.shape[0] == 1:
        gemm(a[0], b[0], out[0], accumulate, num_threads)
    else:
        gemm_batched(a, b, out, accumulate, num_threads)


cdef bint is_pointwise(Py_ssize_t H, Py_ssize_t W, int kh, int kw, int sh, int sw,
                       int pt, int pl, Py_ssize_t oh, Py_ssize_t ow):
    """A 1x1 stride-1 conv without padding: cols of one sample is x[n] itself."""
    return kh == 1 and kw == 1 and sh == 1 and sw == 1 and pt == 0 and pl == 0 \
        and oh == H and ow == W


# ---------------------------------------------------------------------------------------------
# Kernels.

def im2col_forward(const floating[:, :, :, ::1] x,        # IN  (N, C, H, W)
                   const floating[:, :, :, ::1] weight,   # IN  (F, C/G, KH, KW)
                   const floating[::1] bias,              # IN  (F,), or None
                   floating[:, :, :, ::1] out,            # OUT (N, F, OH, OW)
                   int stride_h, int stride_w, int pad_top, int pad_left,
                   int dilation_h, int dilation_w, int groups, int num_threads):
    """out = conv2d(x, weight) + bias (see the module docstring for the math)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3]
    cdef Py_ssize_t oh = out.shape[2], ow = out.shape[3], P = oh * ow
    cdef Py_ssize_t G = groups, KG = C // G * kh * kw, FG = F // G, n0, nb, m
    cdef const floating[::1] bias_or_empty
    cdef floating[::1] cols, rows
    if N == 0 or F == 0 or P == 0:
        return
    x_arr, out_arr = np.asarray(x), np.asarray(out)
    dtype = out_arr.dtype
    bias_or_empty = bias if bias is not None else np.empty(0, dtype=dtype)
    if G > 1 and C == G:
        with nogil:
            depthwise_forward(x, weight, bias_or_empty, out, stride_h, stride_w, pad_top,
                              pad_left, dilation_h, dilation_w, num_threads)
        return
    w3 = np.asarray(weight).reshape(G, FG, KG)
    pointwise = is_pointwise(H, W, kh, kw, stride_h, stride_w, pad_top, pad_left, oh, ow)
    nb = chunk_size(N, max(G * KG, F), P)
    cols_arr = _scratch("cols", dtype, G * KG * nb * P)
    rows_arr = _scratch("rows", dtype, F * nb * P) if nb > 1 else None
    cols = cols_arr
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        if pointwise and m == 1:
            b3 = x_arr[n0].reshape(G, KG, P)
        else:
            with nogil:
                im2col(x, n0, m, cols, kh, kw, stride_h, stride_w, pad_top, pad_left,
                       dilation_h, dilation_w, oh, ow, num_threads)
            b3 = cols_arr[:G * KG * m * P].reshape(G, KG, m * P)
        if m == 1:
            grouped_matmul(w3, b3, out_arr[n0].reshape(G, FG, P), False, num_threads)
            if bias is not None:
                with nogil:
                    add_bias_batch(out, bias_or_empty, n0, num_threads)
        else:
            o3 = rows_arr[:F * m * P].reshape(G, FG, m * P)
            grouped_matmul(w3, b3, o3, False, num_threads)
            rows = o3.reshape(-1)
            with nogil:
                rows_to_batch(rows, bias_or_empty, out, n0, m, num_threads)


def im2col_backward_input(const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                          const floating[:, :, :, ::1] weight,     # IN  (F, C/G, KH, KW)
                          floating[:, :, :, ::1] grad_input,       # OUT (N, C, H, W)
                          int stride_h, int stride_w, int pad_top, int pad_left,
                          int dilation_h, int dilation_w, int groups, int num_threads):
    """grad_input = d(sum(out * grad_out)) / dx: weight^T @ grad_out, then col2im."""
    cdef Py_ssize_t N = grad_input.shape[0], C = grad_input.shape[1]
    cdef Py_ssize_t H = grad_input.shape[2], W = grad_input.shape[3]
    cdef Py_ssize_t F = weight.shape[0], kh = weight.shape[2], kw = weight.shape[3]
    cdef Py_ssize_t oh = grad_out.shape[2], ow = grad_out.shape[3], P = oh * ow
    cdef Py_ssize_t G = groups, KG = C // G * kh * kw, FG = F // G, n0, nb, m
    cdef floating[::1] cols, rows
    if N == 0 or C == 0 or H * W == 0:
        return
    gi_arr = np.asarray(grad_input)
    dtype = gi_arr.dtype
    if F == 0 or P == 0:
        gi_arr.fill(0)
        return
    if G > 1 and C == G:
        with nogil:
            depthwise_backward_input(grad_out, weight, grad_input, stride_h, stride_w, pad_top,
                                     pad_left, dilation_h, dilation_w, num_threads)
        return
    dy_arr = np.asarray(grad_out)
    w3_t = np.asarray(weight).reshape(G, FG, KG).transpose(0, 2, 1)
    pointwise = is_pointwise(H, W, kh, kw, stride_h, stride_w, pad_top, pad_left, oh, ow)
    nb = chunk_size(N, max(G * KG, F), P)
    cols_arr = _scratch("cols", dtype, G * KG * nb * P)
    rows_arr = _scratch("rows", dtype, F * nb * P) if nb > 1 else None
    cols = cols_arr
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        if m == 1:
            dy3 = dy_arr[n0].reshape(G, FG, P)
        else:
            rows = rows_arr[:F * m * P]
            with nogil:
                batch_to_rows(grad_out, n0, m, rows, num_threads)
            dy3 = rows_arr[:F * m * P].reshape(G, FG, m * P)
        if pointwise and m == 1:
            grouped_matmul(w3_t, dy3, gi_arr[n0].reshape(G, KG, P), False, num_threads)
            continue
        grouped_matmul(w3_t, dy3, cols_arr[:G * KG * m * P].reshape(G, KG, m * P), False,
                       num_threads)
        with nogil:
            col2im(cols, n0, m, grad_input, kh, kw, stride_h, stride_w, pad_top, pad_left,
                   dilation_h, dilation_w, oh, ow, num_threads)


def im2col_backward_weight(const floating[:, :, :, ::1] x,          # IN  (N, C, H, W)
                           const floating[:, :, :, ::1] grad_out,   # IN  (N, F, OH, OW)
                           floating[:, :, :, ::1] grad_weight,      # OUT (F, C/G, KH, KW)
                           int stride_h, int stride_w, int pad_top, int pad_left,
                           int dilation_h, int dilation_w, int groups, int num_threads):
    """grad_weight = d(sum(out * grad_out)) / dweight: grad_out @ cols^T summed over the batch."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t F = grad_weight.shape[0], kh = grad_weight.shape[2], kw = grad_weight.shape[3]
    cdef Py_ssize_t oh = grad_out.shape[2], ow = grad_out.shape[3], P = oh * ow
    cdef Py_ssize_t G = groups, KG = C // G * kh * kw, FG = F // G, n0, nb, m
    cdef floating[::1] cols, rows
    if F == 0 or KG == 0:
        return
    gw_arr = np.asarray(grad_weight)
    dtype = gw_arr.dtype
    if N == 0 or P == 0:
        gw_arr.fill(0)
        return
    if G > 1 and C == G:
        with nogil:
            depthwise_backward_weight(x, grad_out, grad_weight, stride_h, stride_w, pad_top,
                                      pad_left, dilation_h, dilation_w, num_threads)
        return
    x_arr, dy_arr = np.asarray(x), np.asarray(grad_out)
    gw3 = gw_arr.reshape(G, FG, KG)
    pointwise = is_pointwise(H, W, kh, kw, stride_h, stride_w, pad_top, pad_left, oh, ow)
    nb = chunk_size(N, max(G * KG, F), P)
    cols_arr = _scratch("cols", dtype, G * KG * nb * P)
    rows_arr = _scratch("rows", dtype, F * nb * P) if nb > 1 else None
    cols = cols_arr
    for n0 in range(0, N, nb):
        m = min(nb, N - n0)
        if m == 1:
            dy3 = dy_arr[n0].reshape(G, FG, P)
        else:
            rows = rows_arr[:F * m * P]
            with nogil:
                batch_to_rows(grad_out, n0, m, rows, num_threads)
            dy3 = rows_arr[:F * m * P].reshape(G, FG, m * P)
        if pointwise and m == 1:
            b3 = x_arr[n0].reshape(G, KG, P)
        else:
            with nogil:
                im2col(x, n0, m, cols, kh, kw, stride_h, stride_w, pad_top, pad_left,
                       dilation_h, dilation_w, oh, ow, num_threads)
            b3 = cols_arr[:G * KG * m * P].reshape(G, KG, m * P)
        grouped_matmul(dy3, b3.transpose(0, 2, 1), gw3, n0 > 0, num_threads)


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
